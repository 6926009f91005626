//! Losses of a prediction against a target, named as in PyTorch: `l1_loss`, `huber_loss`,
//! `binary_cross_entropy_with_logits`, `kl_div`, and the class-index losses `nll_loss` and
//! `cross_entropy_with_integer_labels`.
//!
//! **Mathematics.** The elementwise losses are one op, [`PairLoss`]: `L = (1/N) Σᵢ ℓ(pᵢ, tᵢ)`
//! for a scalar function `ℓ` with partial derivatives `ℓ_p`, `ℓ_t`, so
//! `dL = (1/N) Σᵢ (ℓ_p dpᵢ + ℓ_t dtᵢ)` and the VJP is `p ↦ (δ/N) ℓ_p`, `t ↦ (δ/N) ℓ_t` (both
//! added to one slot when `p` and `t` are one operand). `N` is the number of entries
//! (PyTorch's `reduction='mean'`) or, for `kl_div`, the number of rows (`'batchmean'`).
//!
//! **Class indices** are not differentiable. They come from an integer input: a slot holding
//! one class index per row as an exact small integer of the graph's scalar (`f32` holds every
//! integer below 2²⁴), so the same graph runs in every kind and a certified graph can read them
//! (with a zero input bound). An index that is not an integer in `0..C` gives NaN (and so a
//! `+∞` certified bound), never a panic.

use core::fmt;

use smallvec::{SmallVec, smallvec};

use crate::autograd::op::{Eval, Op, OpNode, Operands, Pullback, Slot, op_node};
use crate::ops::{Constant, ConstantError};
use crate::scalar::{Element, Real};
use crate::shape::{Dim, SameShape, Scalar, Shape};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

/// How a [`PairLoss`] is normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// Divide by the number of entries (PyTorch's `reduction='mean'`).
    Mean,
    /// Divide by the number of rows, the entries over the last axis (`reduction='batchmean'`).
    BatchMean,
}

/// The scalar function `ℓ(p, t)` of an elementwise loss, independent of the scalar type.
pub trait LossFn: Send + Sync + 'static {
    /// The loss's display name.
    fn name(&self) -> &str;
    /// How the sum is normalised.
    fn reduction(&self) -> Reduction {
        Reduction::Mean
    }
}

/// `ℓ(p, t)` and its partial derivatives at the scalar `A`.
pub trait PairLossFn<A>: LossFn {
    /// `ℓ(p, t)`.
    fn loss(&self, p: A, t: A) -> A;
    /// `∂ℓ/∂p`.
    fn d_pred(&self, p: A, t: A) -> A;
    /// `∂ℓ/∂t`.
    fn d_target(&self, p: A, t: A) -> A;
}

/// The op `L = (1/N) Σᵢ ℓ(pᵢ, tᵢ)` of an elementwise loss `ℓ` (`l1_loss`, `huber_loss`, …).
#[derive(Clone, Copy, Debug)]
pub struct PairLoss<S, F> {
    pred: Slot<S>,
    target: Slot<S>,
    f: F,
}

impl<S: Shape, F: LossFn> Op for PairLoss<S, F> {
    type Out = Scalar;
    fn name(&self) -> &str {
        self.f.name()
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        if self.pred.pos() == self.target.pos() {
            smallvec![self.pred.pos()]
        } else {
            smallvec![self.pred.pos(), self.target.pos()]
        }
    }
}

impl<S: Shape, F: LossFn> PairLoss<S, F> {
    /// `N` at the scalar `A`.
    fn count<A: Element>(&self) -> A {
        let n = match self.f.reduction() {
            Reduction::Mean => S::SIZE,
            Reduction::BatchMean => {
                let last = S::dims().last().copied().unwrap_or(1);
                S::SIZE.checked_div(last).unwrap_or(0)
            }
        };
        A::from_i64(n.max(1) as i64)
    }
}

impl<A: Element, D, S: Shape, F: PairLossFn<A>> Eval<A, D> for PairLoss<S, F> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Scalar> {
        let (p, t) = (x.get(self.pred), x.get(self.target));
        let s = p.iter().zip(t.iter()).fold(A::zero(), |acc, (p, t)| {
            acc + self.f.loss(p.clone(), t.clone())
        });
        Tensor::new(s / self.count::<A>())
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Scalar> {
        let (p, t) = (x.get(self.pred), x.get(self.target));
        let (dp, dt) = (dx.get(self.pred), dx.get(self.target));
        let s = p.iter().zip(t.iter()).zip(dp.iter().zip(dt.iter())).fold(
            A::zero(),
            |acc, ((p, t), (dp, dt))| {
                acc + self.f.d_pred(p.clone(), t.clone()) * dp.clone()
                    + self.f.d_target(p.clone(), t.clone()) * dt.clone()
            },
        );
        Tensor::new(s / self.count::<A>())
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, Scalar>) -> Pullback<A> {
        let (p, t) = (x.get(self.pred), x.get(self.target));
        let w = seed.as_slice()[0].clone() / self.count::<A>();
        Pullback::none()
            .with_if(x, self.pred, || {
                p.zip_with(&t, |p, t| w.clone() * self.f.d_pred(p.clone(), t.clone()))
            })
            .with_if(x, self.target, || {
                p.zip_with(&t, |p, t| w.clone() * self.f.d_target(p.clone(), t.clone()))
            })
    }
}

/// `min(a, b)` as `−max(−a, −b)` (sound on intervals, like `elem_max`).
fn min<A: Element>(a: A, b: A) -> A {
    -((-a).elem_max(&-b))
}

/// `sign(x)`: `1`, `−1`, or `0` at 0 (the subgradient PyTorch uses).
fn sign<A: Element>(x: A) -> A {
    x.heaviside() - (-x).heaviside()
}

/// `ℓ = |p − t|` ([`l1_loss`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct L1Fn;
impl LossFn for L1Fn {
    fn name(&self) -> &str {
        "l1_loss"
    }
}
impl<A: Element> PairLossFn<A> for L1Fn {
    fn loss(&self, p: A, t: A) -> A {
        (p - t).abs()
    }
    fn d_pred(&self, p: A, t: A) -> A {
        sign(p - t)
    }
    fn d_target(&self, p: A, t: A) -> A {
        -sign(p - t)
    }
}

/// `ℓ = ½ d²` if `|d| < δ`, else `δ (|d| − ½ δ)`, with `d = p − t` ([`huber_loss`]),
/// computed without a branch as `½ min(|d|, δ)² + δ max(|d| − δ, 0)` (so that its interval
/// evaluation encloses both pieces: a branch on an uncertain comparison would follow one).
#[derive(Clone, Copy, Debug)]
pub struct HuberFn<C>(C);
impl<C: Send + Sync + 'static> LossFn for HuberFn<C> {
    fn name(&self) -> &str {
        "huber_loss"
    }
}
impl<A: Element, C: Constant<A>> PairLossFn<A> for HuberFn<C> {
    fn loss(&self, p: A, t: A) -> A {
        let (a, delta) = ((p - t).abs(), self.0.at());
        let half = A::one() / A::from_i64(2);
        let m = min(a.clone(), delta.clone());
        half * m.clone() * m + delta.clone() * (a - delta).elem_max(&A::zero())
    }
    fn d_pred(&self, p: A, t: A) -> A {
        // clamp(d, −δ, δ)
        let (d, delta) = (p - t, self.0.at());
        min(d, delta.clone()).elem_max(&-delta)
    }
    fn d_target(&self, p: A, t: A) -> A {
        -self.d_pred(p, t)
    }
}

/// `ℓ = max(z, 0) − z y + log(1 + e^{−|z|})` = `−y log σ(z) − (1 − y) log(1 − σ(z))`
/// ([`binary_cross_entropy_with_logits`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct BceWithLogitsFn;
impl LossFn for BceWithLogitsFn {
    fn name(&self) -> &str {
        "binary_cross_entropy_with_logits"
    }
}
impl<A: Real> PairLossFn<A> for BceWithLogitsFn {
    fn loss(&self, z: A, y: A) -> A {
        z.max(A::zero()) - z * y + (-z.abs()).exp().ln_1p()
    }
    fn d_pred(&self, z: A, y: A) -> A {
        crate::ops::elementwise::logistic(z) - y
    }
    fn d_target(&self, z: A, _: A) -> A {
        -z
    }
}

/// `ℓ = t (log t − x)` for log-probabilities `x` and probabilities `t`, with `ℓ = 0` where
/// `t = 0` ([`kl_div`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct KlDivFn;
impl LossFn for KlDivFn {
    fn name(&self) -> &str {
        "kl_div"
    }
    fn reduction(&self) -> Reduction {
        Reduction::BatchMean
    }
}
impl<A: Real> PairLossFn<A> for KlDivFn {
    fn loss(&self, x: A, t: A) -> A {
        if t == A::zero() {
            A::zero()
        } else {
            t * (t.ln() - x)
        }
    }
    fn d_pred(&self, _: A, t: A) -> A {
        -t
    }
    fn d_target(&self, x: A, t: A) -> A {
        t.ln() - x + A::one()
    }
}

macro_rules! pair_loss {
    ($p:expr, $t:expr, $f:expr) => {
        op_node!(PairLoss {
            pred: Slot::new($p.pos),
            target: Slot::new($t.pos),
            f: $f,
        })
    };
}

/// Mean absolute error `L = (1/n) Σ |pᵢ − tᵢ|` (PyTorch's `l1_loss`), with subgradient
/// `sign(p − t)` (0 where `p = t`).
#[must_use]
pub fn l1_loss<G: ShapeList, S: Shape, S2: SameShape<S>>(
    pred: Idx<G, S>,
    target: Idx<G, S2>,
) -> OpNode<G, PairLoss<S, L1Fn>> {
    pair_loss!(pred, target, L1Fn)
}

/// The Huber loss (PyTorch's `huber_loss`, mean reduction): quadratic `½ d²` where
/// `|d| < δ`, linear `δ (|d| − ½ δ)` elsewhere, `d = p − t`; `δ` must be finite and `> 0`.
pub fn huber_loss<G: ShapeList, S: Shape, S2: SameShape<S>, C: Constant<C>>(
    pred: Idx<G, S>,
    target: Idx<G, S2>,
    delta: C,
) -> Result<OpNode<G, PairLoss<S, HuberFn<C>>>, ConstantError> {
    if delta.is_finite() && delta.value() > 0.0 {
        Ok(pair_loss!(pred, target, HuberFn(delta)))
    } else {
        Err(ConstantError {
            op: "huber_loss",
            value: delta.value(),
            needs: "a finite δ > 0",
        })
    }
}

/// Binary cross-entropy of logits `z` against targets `y ∈ [0, 1]` (PyTorch's
/// `binary_cross_entropy_with_logits`, mean reduction), computed without overflow:
/// `∂L/∂z = (σ(z) − y)/n`, `∂L/∂y = −z/n`.
#[must_use]
pub fn binary_cross_entropy_with_logits<G: ShapeList, S: Shape, S2: SameShape<S>>(
    logits: Idx<G, S>,
    target: Idx<G, S2>,
) -> OpNode<G, PairLoss<S, BceWithLogitsFn>> {
    pair_loss!(logits, target, BceWithLogitsFn)
}

/// The Kullback–Leibler divergence `KL(t ‖ q) = Σ t (log t − x)` of the target distribution
/// `t` from `q = eˣ`, given the log-probabilities `x`, summed and divided by the number of rows
/// (the entries over the last axis). For a `Matrix<B, C>` this is PyTorch's `kl_div(x, t,
/// reduction='batchmean')`; a `Vector<C>` is one row (PyTorch would divide by `C`), and a rank-3
/// tensor has `SIZE / C` rows (PyTorch divides by its first dimension). Terms with `t = 0` are 0;
/// the gradient with respect to `t` is `log t − x + 1`, which is `−∞` at `t = 0` (so the JVP is
/// NaN there whatever the tangent).
#[must_use]
pub fn kl_div<G: ShapeList, S: Shape, S2: SameShape<S>>(
    log_q: Idx<G, S>,
    target: Idx<G, S2>,
) -> OpNode<G, PairLoss<S, KlDivFn>> {
    pair_loss!(log_q, target, KlDivFn)
}

/// The class index held by `v`: `Some(c)` if `v` is an integer in `0..classes`.
fn class_of<A: Element>(v: &A, classes: usize) -> Option<usize> {
    let f = v.to_f64();
    (f >= 0.0 && f.fract() == 0.0 && f < classes as f64 && A::from_i64(f as i64) == *v)
        .then_some(f as usize)
}

/// The op `L = −(1/B) Σᵣ x[r, cᵣ]` for rows `x` of `C` log-probabilities and class indices
/// `c` ([`nll_loss`]), or, with `log_softmax` first, the cross-entropy of logits
/// ([`cross_entropy_with_integer_labels`]).
#[derive(Clone, Copy, Debug)]
pub struct IndexLoss<const B: usize, const C: usize> {
    input: Slot<Dim<B, Dim<C, Scalar>>>,
    classes: Slot<Dim<B, Scalar>>,
    from_logits: bool,
}

impl<const B: usize, const C: usize> Op for IndexLoss<B, C>
where
    Dim<B, Dim<C, Scalar>>: Shape,
    Dim<B, Scalar>: Shape,
{
    type Out = Scalar;
    fn name(&self) -> &str {
        if self.from_logits {
            "cross_entropy_with_integer_labels"
        } else {
            "nll_loss"
        }
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        smallvec![self.input.pos(), self.classes.pos()]
    }
}

impl<const B: usize, const C: usize> IndexLoss<B, C> {
    /// The rows of the op's input as log-probabilities (log-softmax of logits, or as given),
    /// each with its class index; `None` if some index is invalid.
    fn rows<A: Real>(&self, x: Operands<'_, A>) -> Option<(Vec<A>, Vec<usize>)>
    where
        Dim<B, Dim<C, Scalar>>: Shape,
        Dim<B, Scalar>: Shape,
    {
        let input = x.get(self.input);
        let logp = if self.from_logits {
            crate::ops::loss::log_softmax_rows(input.as_slice(), C)
        } else {
            input.as_slice().to_vec()
        };
        let classes: Option<Vec<usize>> =
            x.get(self.classes).iter().map(|v| class_of(v, C)).collect();
        Some((logp, classes?))
    }

    /// `∂L/∂x` for unit seed: `−1/B` at each row's class of the log-probabilities, pulled
    /// through log-softmax (`softmax − onehot`) for logits.
    fn grad<A: Real>(&self, x: Operands<'_, A>) -> Vec<A>
    where
        Dim<B, Dim<C, Scalar>>: Shape,
        Dim<B, Scalar>: Shape,
    {
        let inv_b = A::one() / A::from_i64(B.max(1) as i64);
        let Some((logp, classes)) = self.rows(x) else {
            return vec![A::from_f64(f64::NAN); B * C];
        };
        let mut g = if self.from_logits {
            logp.iter().map(|&l| l.exp() * inv_b).collect()
        } else {
            vec![A::zero(); B * C]
        };
        for (r, &c) in classes.iter().enumerate() {
            g[r * C + c] = g[r * C + c] - inv_b;
        }
        g
    }
}

impl<A: Real, D, const B: usize, const C: usize> Eval<A, D> for IndexLoss<B, C>
where
    Dim<B, Dim<C, Scalar>>: Shape,
    Dim<B, Scalar>: Shape,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Scalar> {
        let Some((logp, classes)) = self.rows(x) else {
            return Tensor::new(A::from_f64(f64::NAN));
        };
        let s = classes
            .iter()
            .enumerate()
            .fold(A::zero(), |acc, (r, &c)| acc + logp[r * C + c]);
        Tensor::new(-s / A::from_i64(B.max(1) as i64))
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Scalar> {
        let g = self.grad(x);
        let s = g
            .iter()
            .zip(dx.get(self.input).iter())
            .fold(A::zero(), |acc, (&g, &d)| acc + g * d);
        Tensor::new(s)
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, Scalar>) -> Pullback<A> {
        // The class indices are not differentiable: no contribution to their slot.
        let d = seed.as_slice()[0];
        Pullback::none().with_if(x, self.input, || {
            Tensor::from_vec_unchecked(self.grad(x).into_iter().map(|g| g * d).collect())
        })
    }
}

/// The negative log-likelihood `L = −(1/B) Σᵣ x[r, cᵣ]` of rows of log-probabilities `x`
/// (`Matrix<B, C>`) at the class indices `c` (`Vector<B>`, exact integers in `0..C`; not
/// differentiable) — PyTorch's `nll_loss`, mean reduction.
#[must_use]
pub fn nll_loss<G: ShapeList, const B: usize, const C: usize>(
    log_probs: Idx<G, Dim<B, Dim<C, Scalar>>>,
    classes: Idx<G, Dim<B, Scalar>>,
) -> OpNode<G, IndexLoss<B, C>>
where
    Dim<B, Dim<C, Scalar>>: Shape,
    Dim<B, Scalar>: Shape,
{
    op_node!(IndexLoss {
        input: Slot::new(log_probs.pos),
        classes: Slot::new(classes.pos),
        from_logits: false,
    })
}

/// Cross-entropy of logits (`Matrix<B, C>`) against class indices (`Vector<B>`, exact integers
/// in `0..C`): `nll_loss(log_softmax(z), c)` in one op (PyTorch's `cross_entropy` with index
/// targets; optax's `softmax_cross_entropy_with_integer_labels`). `∂L/∂z = (softmax(z) −
/// onehot(c))/B`.
#[must_use]
pub fn cross_entropy_with_integer_labels<G: ShapeList, const B: usize, const C: usize>(
    logits: Idx<G, Dim<B, Dim<C, Scalar>>>,
    classes: Idx<G, Dim<B, Scalar>>,
) -> OpNode<G, IndexLoss<B, C>>
where
    Dim<B, Dim<C, Scalar>>: Shape,
    Dim<B, Scalar>: Shape,
{
    op_node!(IndexLoss {
        input: Slot::new(logits.pos),
        classes: Slot::new(classes.pos),
        from_logits: true,
    })
}

impl fmt::Display for Reduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reduction::Mean => "mean",
            Reduction::BatchMean => "batchmean",
        })
    }
}
