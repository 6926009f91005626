//! Entrywise activations and scalar functions beyond the core set, named as in PyTorch.
//!
//! **Mathematics.** Each op here is `y = f(x)` entrywise, a [`Map`] with a scalar function
//! (`SqrtFn`, `GeluFn`, …), so its JVP and VJP are `f′(x) ⊙ dx` and `f′(x) ⊙ δ` (see
//! [`Map`]); a certified graph bounds it by evaluating `f` and `f′` on intervals. The piecewise
//! functions are written without branching on the input (`max`, `min` and the Heaviside step
//! `H`), so that on an interval straddling a kink both branches are accounted for:
//!
//! | op | `f(x)` | `f′(x)` | scalar |
//! |---|---|---|---|
//! | [`abs`] | `\|x\|` | `H(x) − H(−x)` (0 at 0) | any |
//! | [`square`] | `x²` | `2x` | any |
//! | [`powi`] | `xⁿ` | `n xⁿ⁻¹` | [`TotalDiv`] |
//! | [`leaky_relu`] | `max(x, 0) + s·min(x, 0)` | `H(x) + s(1 − H(x))` (`s` at 0) | any |
//! | [`clamp`] | `min(max(x, lo), hi)` | `H(x − lo) H(hi − x)` (0 at `lo`, `hi`) | any |
//! | [`sqrt`] | `√x` | `1 / (2√x)` | [`Real`] |
//! | [`log`] | `ln x` | `1 / x` | [`Real`] |
//! | [`gelu`] | `x/2 (1 + tanh(√(2/π)(x + 0.044715 x³)))` | see [`GeluFn`] | [`Real`] |
//! | [`gelu_erf`] | `x Φ(x) = x/2 (1 + erf(x/√2))` | `Φ(x) + x φ(x)` | [`Erf`] |
//! | [`erf`] | `erf x` | `2/√π e^{−x²}` | [`Erf`] |
//! | [`silu`] | `x σ(x)` | `σ(x)(1 + x(1 − σ(x)))` | [`Real`] |
//! | [`elu`] | `max(x, 0) + α(e^{min(x, 0)} − 1)` | `H(x) + α e^{min(x,0)} (1 − H(x))` | [`Real`] |
//!
//! The entrywise binary ops [`div`], [`maximum`] and [`minimum`] (defined with [`add`](super::add)
//! in the binary module) are re-exported from here.

use num_traits::Zero;

use super::elementwise::{Constant, ConstantError, Map, MapFn, Pointwise, logistic, map};
use crate::approx::RuntimeFloat;
use crate::autograd::op::OpNode;
use crate::scalar::{Element, Erf, Rational, Real};
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tlist::Idx;

/// Division defined for every divisor, what [`div`](crate::ops::div) and [`powi`] (negative powers) need: IEEE
/// at `f32`/`f64` (`x/0` is `±∞` or NaN), outward on intervals (a divisor containing 0 gives
/// the whole line), and Lean's convention `x/0 = 0` over ℚ, where 0 has no inverse.
pub trait TotalDiv: Element {
    /// `self / rhs`, with the scalar's convention at `rhs = 0`.
    fn total_div(self, rhs: Self) -> Self;
}

impl<A: Real> TotalDiv for A {
    fn total_div(self, rhs: Self) -> Self {
        self / rhs
    }
}

impl TotalDiv for Rational {
    fn total_div(self, rhs: Self) -> Self {
        if rhs.is_zero() {
            rhs // Lean's `x / 0 = 0`
        } else {
            self / rhs
        }
    }
}

/// `min(a, b) = −max(−a, −b)` from [`Element::elem_max`] (so an interval takes both branches
/// into account): NaN when `a` is NaN (as `elem_max`; the ops here call it with a non-NaN `b`).
pub(crate) fn elem_min<A: Element>(a: &A, b: &A) -> A {
    -(-a.clone()).elem_max(&-b.clone())
}

/// The sign of `x` as a (sub)gradient: `H(x) − H(−x)`, that is `1`, `0` or `−1`.
fn sign<A: Element>(x: &A) -> A {
    x.heaviside() - (-x.clone()).heaviside()
}

/// Declares a scalar function without parameters, its `MapFn` name and its op alias.
macro_rules! scalar_fn {
    ($(#[$doc:meta])* $ty:ident, $alias:ident, $name:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $ty;
        impl MapFn for $ty {
            fn name(&self) -> &str {
                $name
            }
        }
        #[doc = concat!("The op of [`", $name, "`] (for `Supports<ops::", stringify!($alias), "<S>>` bounds).")]
        pub type $alias<S> = Map<S, $ty>;
    };
}

scalar_fn!(
    /// `f(x) = |x|`, `f′(x) = sign(x)` (the subgradient 0 at 0).
    AbsFn, Abs, "abs"
);
impl<A: Element> Pointwise<A> for AbsFn {
    fn f(&self, x: A) -> A {
        x.abs()
    }
    fn df(&self, x: A) -> A {
        sign(&x)
    }
}

scalar_fn!(
    /// `f(x) = x²`, `f′(x) = 2x`.
    SquareFn, Square, "square"
);
impl<A: Element> Pointwise<A> for SquareFn {
    /// `|x|·|x|`: the same value as `x·x` at every scalar, and on an interval straddling 0 the
    /// tight enclosure `[0, max x²]` rather than `[lo·hi, max x²]`.
    fn f(&self, x: A) -> A {
        let m = x.abs();
        m.clone() * m
    }
    fn df(&self, x: A) -> A {
        x.clone() + x
    }
}

/// `f(x) = √x`, `f′(x) = 1 / (2√x)`; NaN for `x < 0` (as IEEE and PyTorch), and `f′(0) = +∞`.
///
/// Certified bound: `+∞` as soon as an error box `[x̂ − ε, x̂ + ε]` reaches below 0 (some
/// admissible spec input has no real square root); otherwise the interval enclosure.
#[derive(Clone, Copy, Debug, Default)]
pub struct SqrtFn;

impl MapFn for SqrtFn {
    fn name(&self) -> &str {
        "sqrt"
    }
    fn bound<R: RuntimeFloat>(&self, e: f64, x: &[R], _: &[R]) -> Option<f64> {
        // `x̂ ≥ ε` exactly (false for NaN) keeps the whole box in the domain.
        let inside = e >= 0.0 && x.iter().all(|v| v.to_f64_exact() >= e);
        (!inside).then_some(f64::INFINITY)
    }
}

/// The op of [`sqrt`] (for `Supports<ops::Sqrt<S>>` bounds).
pub type Sqrt<S> = Map<S, SqrtFn>;
impl<A: Real> Pointwise<A> for SqrtFn {
    fn f(&self, x: A) -> A {
        x.sqrt()
    }
    fn df(&self, x: A) -> A {
        let s = x.sqrt();
        A::one() / (s + s)
    }
}

scalar_fn!(
    /// `f(x) = ln x`, `f′(x) = 1 / x`; `ln 0 = −∞` and `ln x = NaN` for `x < 0` (IEEE).
    LogFn, Log, "log"
);
impl<A: Real> Pointwise<A> for LogFn {
    fn f(&self, x: A) -> A {
        x.ln()
    }
    fn df(&self, x: A) -> A {
        A::one() / x
    }
}

scalar_fn!(
    /// GELU, tanh form (PyTorch's `approximate="tanh"`): `f(x) = x/2 · (1 + tanh u)` with
    /// `u = c(x + k x³)`, `c = √(2/π)`, `k = 0.044715` (both as the nearest `f64`), and
    /// `f′(x) = (1 + tanh u)/2 + x/2 · (1 − tanh² u) · c(1 + 3k x²)`.
    GeluFn, Gelu, "gelu"
);

/// `√(2/π)`, the nearest `f64`.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh form of GELU.
const GELU_K: f64 = 0.044_715;

impl GeluFn {
    /// `(σ(2u), c, k)` at `x`: `(1 + tanh u)/2 = σ(2u)`, one exponential instead of a `tanh`
    /// (the same function; the platform's `tanh` is much slower than its `exp`).
    #[inline(always)]
    fn inner<A: Real>(x: A) -> (A, A, A) {
        let (c, k) = (A::from_f64(SQRT_2_OVER_PI), A::from_f64(GELU_K));
        let u = c * (x + k * x * x * x);
        (logistic(u + u), c, k)
    }
}

impl<A: Real> Pointwise<A> for GeluFn {
    /// `x σ(2u)` (= `x/2 (1 + tanh u)`).
    #[inline(always)]
    fn f(&self, x: A) -> A {
        let (s, _, _) = Self::inner(x);
        x * s
    }
    /// `σ(2u) + x · 2σ(2u)(1 − σ(2u)) · c(1 + 3k x²)` (= the tanh form's derivative, as
    /// `½(1 − tanh² u) = 2σ(2u)(1 − σ(2u))`).
    #[inline(always)]
    fn df(&self, x: A) -> A {
        let (s, c, k) = Self::inner(x);
        let one = A::one();
        let ds = s * (one - s);
        s + x * (ds + ds) * c * (one + A::from_f64(3.0) * k * x * x)
    }
}

scalar_fn!(
    /// The error function (`torch.erf`): `f(x) = erf x = 2/√π ∫₀ˣ e^{−t²} dt`,
    /// `f′(x) = 2/√π · e^{−x²}` (`2/√π` as the nearest `f64`).
    ErfFn, ErfOp, "erf"
);
impl<A: Erf> Pointwise<A> for ErfFn {
    fn f(&self, x: A) -> A {
        x.erf()
    }
    fn df(&self, x: A) -> A {
        let m = x.abs();
        A::from_f64(core::f64::consts::FRAC_2_SQRT_PI) * (-(m * m)).exp()
    }
}

/// `1/√(2π)`, the nearest `f64`.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

scalar_fn!(
    /// GELU, exact (erf) form (PyTorch's default `gelu(x)`, `approximate="none"`; JAX's
    /// `gelu(x, approximate=False)`): `f(x) = x Φ(x)` with the normal distribution function
    /// `Φ(x) = (1 + erf(x/√2))/2`, and `f′(x) = Φ(x) + x φ(x)` with the normal density
    /// `φ(x) = e^{−x²/2}/√(2π)` (`1/√2` and `1/√(2π)` as the nearest `f64`).
    GeluErfFn, GeluErf, "gelu_erf"
);
impl GeluErfFn {
    /// `Φ(x) = (1 + erf(x/√2))/2`.
    fn cdf<A: Erf>(x: A) -> A {
        let half = A::from_f64(0.5);
        half + half * (x * A::from_f64(core::f64::consts::FRAC_1_SQRT_2)).erf()
    }
}
impl<A: Erf> Pointwise<A> for GeluErfFn {
    fn f(&self, x: A) -> A {
        x * Self::cdf(x)
    }
    fn df(&self, x: A) -> A {
        let m = x.abs();
        let density = A::from_f64(FRAC_1_SQRT_2PI) * (-(m * m) * A::from_f64(0.5)).exp();
        Self::cdf(x) + x * density
    }
}

scalar_fn!(
    /// SiLU (swish): `f(x) = x σ(x)` with the logistic `σ`, `f′(x) = σ(x)(1 + x(1 − σ(x)))`.
    SiluFn, Silu, "silu"
);
impl<A: Real> Pointwise<A> for SiluFn {
    fn f(&self, x: A) -> A {
        x * logistic(x)
    }
    fn df(&self, x: A) -> A {
        let s = logistic(x);
        s * (A::one() + x * (A::one() - s))
    }
}

/// `f(x) = xⁿ` for an integer `n`, `f′(x) = n xⁿ⁻¹` (`f = 1`, `f′ = 0` for `n = 0`, also at
/// `x = 0` and for NaN, as IEEE `pown`). Negative powers divide with [`TotalDiv`]: `0ⁿ = ±∞` at
/// `f32`/`f64` and `0` over ℚ (Lean's convention).
#[derive(Clone, Copy, Debug)]
pub struct PowiFn {
    n: i32,
}

impl PowiFn {
    /// The exponent `n`.
    pub fn exponent(&self) -> i32 {
        self.n
    }
}

impl MapFn for PowiFn {
    fn name(&self) -> &str {
        "powi"
    }
}

/// `|x|ᵏ` by repeated squaring (every factor `≥ 0`, so an interval product stays tight).
fn pow_abs<A: Element>(x: &A, mut k: u32) -> A {
    let mut base = x.abs();
    let mut acc = A::one();
    while k > 0 {
        if k & 1 == 1 {
            acc = acc * base.clone();
        }
        k >>= 1;
        if k > 0 {
            base = base.clone() * base;
        }
    }
    acc
}

/// `xᵏ` for `k ≥ 0`: `|x|ᵏ` for even `k`, `x · |x|ᵏ⁻¹` for odd `k`.
fn pow_u<A: Element>(x: &A, k: u32) -> A {
    if k % 2 == 0 {
        pow_abs(x, k)
    } else {
        x.clone() * pow_abs(x, k - 1)
    }
}

/// `xⁿ` for any integer `n`.
fn pow_i<A: TotalDiv>(x: &A, n: i64) -> A {
    let k = u32::try_from(n.unsigned_abs()).expect("|n| ≤ 2³¹ + 1");
    if n >= 0 {
        pow_u(x, k)
    } else {
        A::one().total_div(pow_u(x, k))
    }
}

impl<A: TotalDiv> Pointwise<A> for PowiFn {
    fn f(&self, x: A) -> A {
        pow_i(&x, i64::from(self.n))
    }
    fn df(&self, x: A) -> A {
        if self.n == 0 {
            A::zero()
        } else {
            A::from_i64(i64::from(self.n)) * pow_i(&x, i64::from(self.n) - 1)
        }
    }
}

/// The op of [`powi`].
pub type Powi<S> = Map<S, PowiFn>;

/// Leaky ReLU with the constant negative slope `s`: `f(x) = max(x, 0) + s·min(x, 0)`,
/// `f′(x) = 1` for `x > 0` and `s` for `x ≤ 0` (as PyTorch, `s` at 0).
#[derive(Clone, Copy, Debug)]
pub struct LeakyReluFn<C>(C);

impl<C: Send + Sync + 'static> MapFn for LeakyReluFn<C> {
    fn name(&self) -> &str {
        "leaky_relu"
    }
}
impl<A: Element, C: Constant<A>> Pointwise<A> for LeakyReluFn<C> {
    fn f(&self, x: A) -> A {
        let z = A::zero();
        x.elem_max(&z) + self.0.at() * elem_min(&x, &z)
    }
    fn df(&self, x: A) -> A {
        let h = x.heaviside();
        h.clone() + self.0.at() * (A::one() - h)
    }
}

/// The op of [`leaky_relu`].
pub type LeakyRelu<S, C = f64> = Map<S, LeakyReluFn<C>>;

/// ELU with the constant `α`: `f(x) = x` for `x > 0` and `α(eˣ − 1)` for `x ≤ 0`, written
/// `max(x, 0) + α·expm1(min(x, 0))`; `f′(x) = 1` for `x > 0` and `α eˣ` for `x ≤ 0` (as
/// PyTorch, `α` at 0).
#[derive(Clone, Copy, Debug)]
pub struct EluFn<C>(C);

impl<C: Send + Sync + 'static> MapFn for EluFn<C> {
    fn name(&self) -> &str {
        "elu"
    }
}
impl<A: Real, C: Constant<A>> Pointwise<A> for EluFn<C> {
    fn f(&self, x: A) -> A {
        let z = A::zero();
        x.elem_max(&z) + self.0.at() * elem_min(&x, &z).exp_m1()
    }
    fn df(&self, x: A) -> A {
        let h = x.heaviside();
        h + self.0.at() * elem_min(&x, &A::zero()).exp() * (A::one() - h)
    }
}

/// The op of [`elu`].
pub type Elu<S, C = f64> = Map<S, EluFn<C>>;

/// `f(x) = min(max(x, lo), hi)` for constants `lo ≤ hi`; `f′(x) = 1` for `lo < x < hi` and 0
/// elsewhere, also at `x = lo` and `x = hi` (as `relu` at 0; PyTorch passes the gradient there).
#[derive(Clone, Copy, Debug)]
pub struct ClampFn<C> {
    lo: C,
    hi: C,
}

impl<C: Send + Sync + 'static> MapFn for ClampFn<C> {
    fn name(&self) -> &str {
        "clamp"
    }
}
impl<A: Element, C: Constant<A>> Pointwise<A> for ClampFn<C> {
    fn f(&self, x: A) -> A {
        elem_min(&x.elem_max(&self.lo.at()), &self.hi.at())
    }
    fn df(&self, x: A) -> A {
        (x.clone() - self.lo.at()).heaviside() * (self.hi.at() - x).heaviside()
    }
}

/// The op of [`clamp`].
pub type Clamp<S, C = f64> = Map<S, ClampFn<C>>;

/// `y = |x|` entrywise, with the subgradient `sign(x)` (0 at 0).
#[must_use]
pub fn abs<G: ShapeList, S: Shape>(x: Idx<G, S>) -> OpNode<G, Abs<S>> {
    map(x, AbsFn)
}

/// `y = x²` entrywise, `y′ = 2x` (exact over ℚ).
#[must_use]
pub fn square<G: ShapeList, S: Shape>(x: Idx<G, S>) -> OpNode<G, Square<S>> {
    map(x, SquareFn)
}

/// `y = xⁿ` entrywise for an integer `n`, `y′ = n xⁿ⁻¹` (exact over ℚ; for `n < 0`, `0ⁿ` is
/// `±∞` at `f32`/`f64` and 0 over ℚ, see [`TotalDiv`]). `n = 0` gives 1 everywhere.
#[must_use]
pub fn powi<G: ShapeList, S: Shape>(x: Idx<G, S>, n: i32) -> OpNode<G, Powi<S>> {
    map(x, PowiFn { n })
}

/// `y = √x` entrywise, `y′ = 1/(2√x)`. For `x < 0` the value is NaN (as PyTorch); a certified
/// bound is `+∞` when an error box reaches below 0 (see [`SqrtFn`]); at `x = 0` the derivative
/// is `+∞`.
#[must_use]
pub fn sqrt<G: ShapeList, S: Shape>(x: Idx<G, S>) -> OpNode<G, Sqrt<S>> {
    map(x, SqrtFn)
}

/// The natural logarithm `y = ln x` entrywise, `y′ = 1/x`. Not domain-clamped (see
/// [`safe_log`](super::safe_log)): `ln 0 = −∞` and `ln x = NaN` for `x < 0`, as IEEE and
/// PyTorch, so a certified bound there is `+∞`; the derivative `1/x` is applied as is.
#[must_use]
pub fn log<G: ShapeList, S: Shape>(x: Idx<G, S>) -> OpNode<G, Log<S>> {
    map(x, LogFn)
}

/// GELU, tanh form (PyTorch's `gelu(x, approximate="tanh")`): see [`GeluFn`].
#[must_use]
pub fn gelu<G: ShapeList, S: Shape>(x: Idx<G, S>) -> OpNode<G, Gelu<S>> {
    map(x, GeluFn)
}

/// The error function `y = erf x` entrywise (`torch.erf`), `y′ = 2/√π e^{−x²}`; at any [`Erf`]
/// scalar (not over ℚ).
#[must_use]
pub fn erf<G: ShapeList, S: Shape>(x: Idx<G, S>) -> OpNode<G, ErfOp<S>> {
    map(x, ErfFn)
}

/// GELU, exact form `y = x Φ(x) = x/2 (1 + erf(x/√2))` entrywise (PyTorch's default
/// `F.gelu(x)`; JAX's `gelu(x, approximate=False)`): see [`GeluErfFn`]. [`gelu`] is the tanh
/// approximation (PyTorch's `approximate="tanh"`, JAX's default); the two differ by up to
/// about `5e-4`.
///
/// ```
/// use shapetape::autograd::GraphData;
/// use shapetape::ops;
/// use shapetape::prelude::*;
///
/// type G = HList![Vector<2>];
/// let g = GraphData::<f64, (), G, HNil>::nil().snoc(ops::gelu_erf(Idx::at::<0>()));
/// let y = g.eval(tlist![Tensor::new([1.0, -1.0])], &());
/// let out = y.get(Idx::<HList![Vector<2>, Vector<2>], Vector<2>>::at::<1>());
/// // Φ(1) = 0.8413447460685429 (to 16 digits).
/// assert!((out.as_slice()[0] - 0.8413447460685429).abs() < 1e-15);
/// assert!((out.as_slice()[1] + (1.0 - 0.8413447460685429)).abs() < 1e-15);
/// ```
#[must_use]
pub fn gelu_erf<G: ShapeList, S: Shape>(x: Idx<G, S>) -> OpNode<G, GeluErf<S>> {
    map(x, GeluErfFn)
}

/// SiLU (swish) `y = x σ(x)` entrywise, `y′ = σ(x)(1 + x(1 − σ(x)))`.
#[must_use]
pub fn silu<G: ShapeList, S: Shape>(x: Idx<G, S>) -> OpNode<G, Silu<S>> {
    map(x, SiluFn)
}

/// The error for a constant that is NaN or infinite.
fn finite<C: Constant<C>>(
    op: &'static str,
    c: &C,
    needs: &'static str,
) -> Result<(), ConstantError> {
    if c.is_finite() {
        Ok(())
    } else {
        Err(ConstantError {
            op,
            value: c.value(),
            needs,
        })
    }
}

/// Leaky ReLU `y = max(x, 0) + s·min(x, 0)` entrywise, derivative 1 for `x > 0` and `s` for
/// `x ≤ 0`; the slope `s` must be finite (any sign).
///
/// ```
/// # use shapetape::prelude::*;
/// # use shapetape::ops;
/// type G = HList![Vector<2>];
/// let x: TList<f64, G> = tlist![Tensor::new([2.0, -2.0])];
/// let op = ops::leaky_relu(Idx::<G, Vector<2>>::at::<0>(), 0.25).unwrap();
/// assert_eq!(op.into_node::<f64, ()>().forward(&x, &()).as_slice(), &[2.0, -0.5]);
/// ```
pub fn leaky_relu<G: ShapeList, S: Shape, C: Constant<C>>(
    x: Idx<G, S>,
    negative_slope: C,
) -> Result<OpNode<G, LeakyRelu<S, C>>, ConstantError> {
    finite("leaky_relu", &negative_slope, "a finite slope")?;
    Ok(map(x, LeakyReluFn(negative_slope)))
}

/// ELU `y = x` for `x > 0`, `α(eˣ − 1)` for `x ≤ 0` entrywise (see [`EluFn`]); `α` must be
/// finite (any sign).
pub fn elu<G: ShapeList, S: Shape, C: Constant<C>>(
    x: Idx<G, S>,
    alpha: C,
) -> Result<OpNode<G, Elu<S, C>>, ConstantError> {
    finite("elu", &alpha, "a finite α")?;
    Ok(map(x, EluFn(alpha)))
}

/// `y = min(max(x, min), max)` entrywise, derivative 1 strictly between the limits and 0
/// elsewhere (see [`ClampFn`]); the limits must be finite with `min ≤ max` (`min = max` gives
/// a constant).
///
/// ```
/// # use shapetape::prelude::*;
/// # use shapetape::ops;
/// type G = HList![Vector<3>];
/// let i = Idx::<G, Vector<3>>::at::<0>();
/// let x: TList<f64, G> = tlist![Tensor::new([-3.0, 0.5, 3.0])];
/// let op = ops::clamp(i, -1.0, 1.0).unwrap();
/// assert_eq!(op.into_node::<f64, ()>().forward(&x, &()).as_slice(), &[-1.0, 0.5, 1.0]);
/// let err = ops::clamp(i, 1.0, -1.0).unwrap_err();
/// assert_eq!(err.to_string(), "clamp: the constant 1 is not allowed, it needs a lower limit ≤ the upper limit");
/// ```
pub fn clamp<G: ShapeList, S: Shape, C: Constant<C> + PartialOrd>(
    x: Idx<G, S>,
    min: C,
    max: C,
) -> Result<OpNode<G, Clamp<S, C>>, ConstantError> {
    finite("clamp", &min, "finite limits")?;
    finite("clamp", &max, "finite limits")?;
    if min.at() > max.at() {
        return Err(ConstantError {
            op: "clamp",
            value: min.value(),
            needs: "a lower limit ≤ the upper limit",
        });
    }
    Ok(map(x, ClampFn { lo: min, hi: max }))
}
