//! Optimizers that update a parameter context in place.
//!
//! The parameters of a model are the leading inputs `P` of a graph over `Γ = P ++ R`, and
//! their gradient is a context of the same type, `TList<A, P>`, from
//! [`GraphData::backprop_prefix::<P>`](crate::autograd::GraphData::backprop_prefix) (or the
//! `P`-part of `backprop_ctx`). An optimizer owns its state (momentum, moment estimates) as
//! contexts over `P`, allocated once by its constructor; [`Sgd::step`], [`Adam::step`] and
//! [`AdamW::step`] then overwrite the parameters entry by entry and allocate nothing. The
//! parameter and gradient contexts must both be `P`: anything else does not compile.
//!
//! **Mathematics.** With `gₜ` the gradient at step `t = 1, 2, …`, entrywise, and the update
//! rules of PyTorch's `torch.optim` (same order of operations, hyper-parameters in `f64` as
//! PyTorch's Python floats, converted to the scalar `A` where they meet tensor entries):
//! - [`Sgd`]: `g ← g + λp`; `b₁ = g`, `bₜ = μ bₜ₋₁ + (1 − τ) g`; `d = g + μ bₜ` (Nesterov)
//!   or `d = bₜ`; `p ← p − η d` (without momentum, `d = g`);
//! - [`Adam`]: `g ← g + λp`; `mₜ = β₁ mₜ₋₁ + (1 − β₁) g`, `vₜ = β₂ vₜ₋₁ + (1 − β₂) g²`;
//!   `p ← p − (η / (1 − β₁ᵗ)) · mₜ / (√vₜ / √(1 − β₂ᵗ) + ε)`;
//! - [`AdamW`]: `p ← p (1 − ηλ)`, then the Adam update without the `λp` term.
//!
//! Hyper-parameters are checked by the constructors (and [`Sgd::set_lr`] etc.): a value out
//! of range or NaN is a [`HyperParamError`], never a panic.
//!
//! ```
//! use shapetape::prelude::*;
//! use shapetape::autograd::{Cotangent, GraphData};
//! use shapetape::ops;
//! use shapetape::optim::{Adam, AdamConfig};
//!
//! // Minimise L(w) = mse(w, t) = Σᵢ (wᵢ − tᵢ)² / 3 over the parameters w.
//! type P = HList![Vector<3>];
//! type G = HList![Vector<3>, Vector<3>]; // parameters, then the data t
//! let (g, loss) = GraphData::<f64, (), G, _>::build_with(|b| {
//!     let hlist_pat![w, t] = b.inputs();
//!     let (b, l) = b.push(|c| ops::mse(c.idx(w), c.idx(t)));
//!     let l = b.idx(l);
//!     (b, l)
//! });
//! let target = Tensor::new([1.0, -2.0, 0.5]);
//! let mut w: TList<f64, P> = tlist![Tensor::new([0.0, 0.0, 0.0])];
//! let mut opt = Adam::new(&w, AdamConfig { lr: 0.05, ..Default::default() })?;
//! for _ in 0..500 {
//!     let x = w.clone().append(tlist![target.clone()]);
//!     let (_, grad) = g.backprop_prefix::<P>(x, &(), Cotangent::single(loss, Tensor::new(1.0)));
//!     opt.step(&mut w, &grad);
//! }
//! for (wi, ti) in w.slot_slices().next().unwrap().iter().zip(target.as_slice()) {
//!     assert!((wi - ti).abs() < 1e-3);
//! }
//! # Ok::<(), shapetape::optim::HyperParamError>(())
//! ```

use core::fmt;

use crate::scalar::Real;
use crate::shape_list::ShapeList;
use crate::tensor::Owned;
use crate::tlist::TList;

/// A hyper-parameter outside its domain (or NaN), reported by an optimizer's constructor.
#[derive(Clone, Debug, PartialEq)]
pub struct HyperParamError {
    /// The optimizer: `"SGD"`, `"Adam"` or `"AdamW"`.
    pub optimizer: &'static str,
    /// The hyper-parameter, as named in the config (`"lr"`, `"betas.0"`, …).
    pub name: &'static str,
    /// The value that was given.
    pub value: f64,
    /// The condition it violates, in words.
    pub expected: &'static str,
}

impl fmt::Display for HyperParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} hyper-parameter `{} = {}`: expected {}",
            self.optimizer, self.name, self.value, self.expected
        )
    }
}

impl std::error::Error for HyperParamError {}

/// `Ok` if `ok`, else the error naming `name = value` and the condition `expected`.
fn require(
    ok: bool,
    optimizer: &'static str,
    name: &'static str,
    value: f64,
    expected: &'static str,
) -> Result<(), HyperParamError> {
    if ok {
        Ok(())
    } else {
        Err(HyperParamError {
            optimizer,
            name,
            value,
            expected,
        })
    }
}

const NON_NEGATIVE: &str = "a finite number ≥ 0";

/// `x ∈ [0, ∞)` (false for NaN and +∞).
fn non_negative(x: f64) -> bool {
    x >= 0.0 && x.is_finite()
}

/// Runs `f` on the entry buffers of `x`, one per slot in order; the buffers are moved out and
/// back (no copy, no allocation: an empty `Vec` does not allocate).
fn with_slots_mut<A, G, R>(x: &mut TList<A, G>, f: impl FnOnce(&mut [Owned<A>]) -> R) -> R {
    let mut items = core::mem::replace(x, TList::from_items(Vec::new())).into_items();
    let out = f(&mut items);
    *x = TList::from_items(items);
    out
}

// ----------------------------------------------------------------------------------------------
// SGD

/// The hyper-parameters of [`Sgd`] (those of `torch.optim.SGD`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate `η ≥ 0`.
    pub lr: f64,
    /// Momentum factor `μ ≥ 0` (`0`: plain gradient descent, no buffer is kept).
    pub momentum: f64,
    /// Dampening `τ` (finite): the momentum buffer adds `(1 − τ) g` after the first step.
    pub dampening: f64,
    /// L2 penalty `λ ≥ 0`: the gradient used is `g + λp`.
    pub weight_decay: f64,
    /// Nesterov momentum: step along `g + μ b` instead of `b` (needs `μ > 0` and `τ = 0`).
    pub nesterov: bool,
}

impl Default for SgdConfig {
    /// PyTorch's defaults: `lr = 1e-3`, no momentum, no dampening, no weight decay.
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

impl SgdConfig {
    /// Checks every hyper-parameter against its domain.
    pub fn validate(&self) -> Result<(), HyperParamError> {
        const O: &str = "SGD";
        require(non_negative(self.lr), O, "lr", self.lr, NON_NEGATIVE)?;
        require(
            non_negative(self.momentum),
            O,
            "momentum",
            self.momentum,
            NON_NEGATIVE,
        )?;
        require(
            self.dampening.is_finite(),
            O,
            "dampening",
            self.dampening,
            "a finite number",
        )?;
        require(
            non_negative(self.weight_decay),
            O,
            "weight_decay",
            self.weight_decay,
            NON_NEGATIVE,
        )?;
        if self.nesterov {
            require(
                self.momentum > 0.0,
                O,
                "momentum",
                self.momentum,
                "a momentum > 0 with nesterov = true",
            )?;
            require(
                self.dampening == 0.0,
                O,
                "dampening",
                self.dampening,
                "dampening = 0 with nesterov = true",
            )?;
        }
        Ok(())
    }
}

/// Stochastic gradient descent with momentum, dampening, weight decay and Nesterov momentum,
/// as `torch.optim.SGD`: per entry, `g ← g + λp`, then with `μ ≠ 0` the buffer `b₁ = g`
/// (first step, no dampening) or `bₜ = μ bₜ₋₁ + (1 − τ) g`, and `p ← p − η d` with
/// `d = g + μ bₜ` (Nesterov), `d = bₜ`, or `d = g` without momentum.
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::optim::{Sgd, SgdConfig};
///
/// type P = HList![Vector<2>];
/// let mut p: TList<f64, P> = tlist![Tensor::new([1.0, 2.0])];
/// let grad: TList<f64, P> = tlist![Tensor::new([0.5, -1.0])];
/// let config = SgdConfig { lr: 0.5, momentum: 0.5, ..Default::default() };
/// let mut opt = Sgd::new(&p, config)?;
/// opt.step(&mut p, &grad); // b = g: p = [1 − 0.25, 2 + 0.5]
/// assert_eq!(p, tlist![Tensor::new([0.75, 2.5])]);
/// opt.step(&mut p, &grad); // b = 0.5 b + g = [0.75, −1.5]
/// assert_eq!(p, tlist![Tensor::new([0.375, 3.25])]);
/// # Ok::<(), shapetape::optim::HyperParamError>(())
/// ```
///
/// Gradients of another context than the parameters' do not compile:
///
/// ```compile_fail,E0308
/// use shapetape::prelude::*;
/// use shapetape::optim::{Sgd, SgdConfig};
/// let mut p: TList<f64, HList![Vector<2>]> = tlist![Tensor::new([1.0, 2.0])];
/// let grad: TList<f64, HList![Vector<3>]> = tlist![Tensor::new([1.0, 2.0, 3.0])];
/// let mut opt = Sgd::new(&p, SgdConfig::default()).unwrap();
/// opt.step(&mut p, &grad);
/// ```
pub struct Sgd<A, P> {
    config: SgdConfig,
    /// The momentum buffers `b` (only when `μ ≠ 0`).
    momentum_buffer: Option<TList<A, P>>,
    steps: u64,
}

impl<A: Real, P: ShapeList> Sgd<A, P> {
    /// An optimizer for parameters of the context of `params` (read only for their type), or
    /// the first hyper-parameter out of its domain. Allocates the momentum buffer if `μ ≠ 0`.
    pub fn new(params: &TList<A, P>, config: SgdConfig) -> Result<Self, HyperParamError> {
        let _ = params;
        config.validate()?;
        Ok(Sgd {
            config,
            momentum_buffer: (config.momentum != 0.0).then(TList::zero),
            steps: 0,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }

    /// Number of steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The momentum buffer `bₜ` (`None` without momentum; zero before the first step).
    pub fn momentum_buffer(&self) -> Option<&TList<A, P>> {
        self.momentum_buffer.as_ref()
    }

    /// Sets the learning rate `η` (for a schedule); an error if it is not a finite `η ≥ 0`.
    pub fn set_lr(&mut self, lr: f64) -> Result<(), HyperParamError> {
        require(non_negative(lr), "SGD", "lr", lr, NON_NEGATIVE)?;
        self.config.lr = lr;
        Ok(())
    }

    /// One step: updates `params` in place from the gradient `grads` (same context).
    pub fn step(&mut self, params: &mut TList<A, P>, grads: &TList<A, P>) {
        let SgdConfig {
            lr,
            momentum,
            dampening,
            weight_decay,
            nesterov,
        } = self.config;
        let decay = weight_decay != 0.0;
        let wd = A::from_f64(weight_decay);
        let mu = A::from_f64(momentum);
        let keep = A::from_f64(1.0 - dampening);
        let neg_lr = A::from_f64(-lr);
        let first = self.steps == 0;
        // d = g + λp (the L2 term only when λ ≠ 0, as PyTorch)
        let grad = |g: A, p: A| if decay { g + wd * p } else { g };
        with_slots_mut(params, |ps| match &mut self.momentum_buffer {
            None => {
                for (p, g) in ps.iter_mut().zip(grads.slot_slices()) {
                    for (p, &g) in p.0.iter_mut().zip(g) {
                        *p = *p + neg_lr * grad(g, *p);
                    }
                }
            }
            Some(buf) => with_slots_mut(buf, |bs| {
                for ((p, b), g) in ps.iter_mut().zip(bs.iter_mut()).zip(grads.slot_slices()) {
                    for ((p, b), &g) in p.0.iter_mut().zip(b.0.iter_mut()).zip(g) {
                        let d = grad(g, *p);
                        *b = if first { d } else { *b * mu + keep * d };
                        let d = if nesterov { d + mu * *b } else { *b };
                        *p = *p + neg_lr * d;
                    }
                }
            }),
        });
        self.steps += 1;
    }
}

// ----------------------------------------------------------------------------------------------
// Adam and AdamW

/// The hyper-parameters of [`Adam`] (those of `torch.optim.Adam`, without AMSGrad).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate `η ≥ 0`.
    pub lr: f64,
    /// Decay rates `(β₁, β₂) ∈ [0, 1)²` of the first and second moment estimates.
    pub betas: (f64, f64),
    /// `ε > 0`, added to the denominator `√v̂` for stability.
    pub eps: f64,
    /// L2 penalty `λ ≥ 0` added to the gradient: `g ← g + λp`.
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    /// PyTorch's defaults: `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`, no weight decay.
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// The hyper-parameters of [`AdamW`] (those of `torch.optim.AdamW`, without AMSGrad).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate `η ≥ 0`.
    pub lr: f64,
    /// Decay rates `(β₁, β₂) ∈ [0, 1)²` of the first and second moment estimates.
    pub betas: (f64, f64),
    /// `ε > 0`, added to the denominator `√v̂` for stability.
    pub eps: f64,
    /// Decoupled weight decay `λ ≥ 0`: each step first scales the parameters by `1 − ηλ`.
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    /// PyTorch's defaults: `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`,
    /// `weight_decay = 0.01`.
    fn default() -> Self {
        AdamWConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-2,
        }
    }
}

/// Checks the hyper-parameters shared by Adam and AdamW.
fn validate_adam(
    o: &'static str,
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
) -> Result<(), HyperParamError> {
    const BETA: &str = "a number in [0, 1)";
    require(non_negative(lr), o, "lr", lr, NON_NEGATIVE)?;
    require((0.0..1.0).contains(&betas.0), o, "betas.0", betas.0, BETA)?;
    require((0.0..1.0).contains(&betas.1), o, "betas.1", betas.1, BETA)?;
    require(
        eps > 0.0 && eps.is_finite(),
        o,
        "eps",
        eps,
        "a finite number > 0",
    )?;
    require(
        non_negative(weight_decay),
        o,
        "weight_decay",
        weight_decay,
        NON_NEGATIVE,
    )
}

impl AdamConfig {
    /// Checks every hyper-parameter against its domain.
    pub fn validate(&self) -> Result<(), HyperParamError> {
        validate_adam("Adam", self.lr, self.betas, self.eps, self.weight_decay)
    }
}

impl AdamWConfig {
    /// Checks every hyper-parameter against its domain.
    pub fn validate(&self) -> Result<(), HyperParamError> {
        validate_adam("AdamW", self.lr, self.betas, self.eps, self.weight_decay)
    }
}

/// The state shared by Adam and AdamW: the moment estimates `m`, `v` and the step count.
struct Moments<A, P> {
    exp_avg: TList<A, P>,
    exp_avg_sq: TList<A, P>,
    steps: u64,
}

impl<A: Clone, P> Clone for Moments<A, P> {
    fn clone(&self) -> Self {
        Moments {
            exp_avg: self.exp_avg.clone(),
            exp_avg_sq: self.exp_avg_sq.clone(),
            steps: self.steps,
        }
    }
}

/// How the weight decay enters an Adam step.
#[derive(Clone, Copy)]
enum Decay {
    /// Adam: `g ← g + λp`.
    L2,
    /// AdamW: `p ← p (1 − ηλ)` before the update.
    Decoupled,
}

impl<A: Real, P: ShapeList> Moments<A, P> {
    fn new() -> Self {
        Moments {
            exp_avg: TList::zero(),
            exp_avg_sq: TList::zero(),
            steps: 0,
        }
    }

    /// One Adam(W) step, in PyTorch's order of operations (`_single_tensor_adam`): the bias
    /// corrections are computed in `f64` (Python floats), the entry updates in `A`.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        params: &mut TList<A, P>,
        grads: &TList<A, P>,
        lr: f64,
        (beta1, beta2): (f64, f64),
        eps: f64,
        weight_decay: f64,
        decay: Decay,
    ) {
        self.steps += 1;
        // PyTorch keeps the step count as a float tensor and computes `beta ** step` with
        // Python floats; `u64 → f64` is exact below 2⁵³ steps.
        let t = self.steps as f64;
        let bias_correction1 = 1.0 - beta1.powf(t);
        let bias_correction2 = 1.0 - beta2.powf(t);
        let step_size = lr / bias_correction1;
        let bias_correction2_sqrt = bias_correction2.sqrt();

        let l2 = matches!(decay, Decay::L2) && weight_decay != 0.0;
        let decoupled = matches!(decay, Decay::Decoupled) && weight_decay != 0.0;
        let wd = A::from_f64(weight_decay);
        let shrink = A::from_f64(1.0 - lr * weight_decay);
        // m ← lerp(m, g, 1 − β₁), with PyTorch's two-sided formula for the interpolation.
        let w = 1.0 - beta1;
        let w_small = w.abs() < 0.5;
        let wa = A::from_f64(w);
        let one_minus_w = A::one() - wa;
        let b2 = A::from_f64(beta2);
        let c2 = A::from_f64(1.0 - beta2);
        let bc2 = A::from_f64(bias_correction2_sqrt);
        let eps = A::from_f64(eps);
        let neg_step = A::from_f64(-step_size);

        with_slots_mut(params, |ps| {
            with_slots_mut(&mut self.exp_avg, |ms| {
                with_slots_mut(&mut self.exp_avg_sq, |vs| {
                    let slots = ps.iter_mut().zip(ms.iter_mut()).zip(vs.iter_mut());
                    for (((p, m), v), g) in slots.zip(grads.slot_slices()) {
                        let entries = p.0.iter_mut().zip(m.0.iter_mut()).zip(v.0.iter_mut());
                        for (((p, m), v), &g) in entries.zip(g) {
                            if decoupled {
                                *p = *p * shrink;
                            }
                            let g = if l2 { g + wd * *p } else { g };
                            *m = if w_small {
                                *m + wa * (g - *m)
                            } else {
                                g - (g - *m) * one_minus_w
                            };
                            *v = *v * b2 + c2 * g * g;
                            let denom = v.sqrt() / bc2 + eps;
                            *p = *p + neg_step * *m / denom;
                        }
                    }
                })
            })
        });
    }
}

/// Adam (Kingma & Ba) as `torch.optim.Adam`: per entry, `g ← g + λp` (L2 weight decay),
/// `mₜ = β₁ mₜ₋₁ + (1 − β₁) g`, `vₜ = β₂ vₜ₋₁ + (1 − β₂) g²` (both from `0`), and
/// `p ← p − (η / (1 − β₁ᵗ)) · mₜ / (√vₜ / √(1 − β₂ᵗ) + ε)`.
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::optim::{Adam, AdamConfig};
///
/// type P = HList![Scalar, Vector<2>];
/// let mut p: TList<f64, P> = tlist![Tensor::new(1.0), Tensor::new([1.0, 1.0])];
/// let grad: TList<f64, P> = tlist![Tensor::new(4.0), Tensor::new([-0.5, 0.0])];
/// let mut opt = Adam::new(&p, AdamConfig { lr: 0.1, ..Default::default() })?;
/// opt.step(&mut p, &grad);
/// // The first step moves every entry by ≈ η against the sign of its gradient
/// // (m̂ = g, v̂ = g²), and not at all where the gradient is 0.
/// let moved: Vec<f64> = p.slot_slices().flatten().map(|x| x - 1.0).collect();
/// assert!((moved[0] + 0.1).abs() < 1e-8 && (moved[1] - 0.1).abs() < 1e-8);
/// assert_eq!(moved[2], 0.0);
/// # Ok::<(), shapetape::optim::HyperParamError>(())
/// ```
pub struct Adam<A, P> {
    config: AdamConfig,
    state: Moments<A, P>,
}

/// AdamW (Loshchilov & Hutter) as `torch.optim.AdamW`: per entry, first `p ← p (1 − ηλ)`
/// (decoupled weight decay), then the [`Adam`] update with the plain gradient.
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::optim::{AdamW, AdamWConfig};
///
/// type P = HList![Vector<2>];
/// let mut p: TList<f64, P> = tlist![Tensor::new([2.0, -4.0])];
/// let zero: TList<f64, P> = TList::zero();
/// let config = AdamWConfig { lr: 0.5, weight_decay: 0.5, ..Default::default() };
/// let mut opt = AdamW::new(&p, config)?;
/// opt.step(&mut p, &zero); // with a zero gradient only the decay acts: p · (1 − 0.25)
/// assert_eq!(p, tlist![Tensor::new([1.5, -3.0])]);
/// # Ok::<(), shapetape::optim::HyperParamError>(())
/// ```
pub struct AdamW<A, P> {
    config: AdamWConfig,
    state: Moments<A, P>,
}

/// The methods of the two Adam variants, which differ only in their name, configuration and
/// weight decay (both run `Moments::step`).
macro_rules! adam_variant {
    ($ty:ident, $config:ident, $name:literal, $decay:expr) => {
        impl<A: Real, P: ShapeList> $ty<A, P> {
            /// An optimizer for parameters of the context of `params` (read only for their
            /// type), or the first hyper-parameter out of its domain. Allocates the moment
            /// estimates (zero).
            pub fn new(params: &TList<A, P>, config: $config) -> Result<Self, HyperParamError> {
                let _ = params;
                config.validate()?;
                Ok($ty {
                    config,
                    state: Moments::new(),
                })
            }

            /// The hyper-parameters.
            pub fn config(&self) -> &$config {
                &self.config
            }

            /// Number of steps taken so far, `t`.
            pub fn steps(&self) -> u64 {
                self.state.steps
            }

            /// The first moment estimate `mₜ` (before bias correction).
            pub fn exp_avg(&self) -> &TList<A, P> {
                &self.state.exp_avg
            }

            /// The second moment estimate `vₜ` (before bias correction).
            pub fn exp_avg_sq(&self) -> &TList<A, P> {
                &self.state.exp_avg_sq
            }

            /// Sets the learning rate `η` (for a schedule); an error if it is not a finite
            /// `η ≥ 0`.
            pub fn set_lr(&mut self, lr: f64) -> Result<(), HyperParamError> {
                require(non_negative(lr), $name, "lr", lr, NON_NEGATIVE)?;
                self.config.lr = lr;
                Ok(())
            }

            /// One step: updates `params` in place from the gradient `grads` (same context).
            pub fn step(&mut self, params: &mut TList<A, P>, grads: &TList<A, P>) {
                let c = self.config;
                self.state
                    .step(params, grads, c.lr, c.betas, c.eps, c.weight_decay, $decay);
            }
        }
    };
}
adam_variant!(Adam, AdamConfig, "Adam", Decay::L2);
adam_variant!(AdamW, AdamWConfig, "AdamW", Decay::Decoupled);

// Clone and Debug by hand: derived impls would ask for `P: Clone + Debug`, which shape lists
// need not be. Debug shows the hyper-parameters and the step count, not the state.

impl<A: Clone, P> Clone for Sgd<A, P> {
    fn clone(&self) -> Self {
        Sgd {
            config: self.config,
            momentum_buffer: self.momentum_buffer.clone(),
            steps: self.steps,
        }
    }
}

impl<A: Clone, P> Clone for Adam<A, P> {
    fn clone(&self) -> Self {
        Adam {
            config: self.config,
            state: self.state.clone(),
        }
    }
}

impl<A: Clone, P> Clone for AdamW<A, P> {
    fn clone(&self) -> Self {
        AdamW {
            config: self.config,
            state: self.state.clone(),
        }
    }
}

impl<A, P> fmt::Debug for Sgd<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sgd")
            .field("config", &self.config)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

impl<A, P> fmt::Debug for Adam<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Adam")
            .field("config", &self.config)
            .field("steps", &self.state.steps)
            .finish_non_exhaustive()
    }
}

impl<A, P> fmt::Debug for AdamW<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdamW")
            .field("config", &self.config)
            .field("steps", &self.state.steps)
            .finish_non_exhaustive()
    }
}
