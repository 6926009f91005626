//! Entrywise ops `y = f(x)` on one operand: one op, [`Map`], and one scalar function per op.
//!
//! **Mathematics.** `y = f(x)` entrywise has the diagonal Jacobian `diag f′(x)`, which is
//! symmetric, so the JVP and the VJP are the same product, `dy = f′(x) ⊙ dx` and
//! `x̄ = f′(x) ⊙ δ`, adjoint for any `f′`. Whether `f′` is the derivative of `f` is what
//! finite differences ([`gradcheck`](crate::autograd::gradcheck)) test; at a kink (`relu` at
//! 0) a fixed one-sided value is used. Lean: `Proofs/Autograd/Tape/Algebra/Nodes.lean`
//! (`reluNode`, `expNode`, `tanhNode`, `scaleNode`, `safeLogNode`).

use core::fmt;

use smallvec::{SmallVec, smallvec};

use crate::approx::round::add_up;
use crate::approx::{Interval, RuntimeFloat, SpecScalar};
use crate::autograd::op::{
    Eval, Op, OpNode, Operands, Pullback, Slot, SlotBounds, VjpBounds, op_node,
};
use crate::scalar::{Element, Rational, Real};
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

/// A scalar function of an entrywise op, independent of the scalar type: its name and,
/// optionally, closed-form certified bounds (the default is the interval enclosure of
/// [`Pointwise::f`] and [`Pointwise::df`]).
pub trait MapFn: Send + Sync + 'static {
    /// The op's display name.
    fn name(&self) -> &str;

    /// A closed-form bound on `maxᵢ |f(xSᵢ) − ŷᵢ|` for every `xS` within `e` of the runtime
    /// operand `x`, given the runtime output `y` (see [`Op::bound`]).
    fn bound<R: RuntimeFloat>(&self, _e: f64, _x: &[R], _y: &[R]) -> Option<f64> {
        None
    }

    /// A closed-form bound on `maxᵢ |f′(xSᵢ) δSᵢ − ĉᵢ|` for the runtime contribution `ĉ`, every
    /// `xS` within `e` of `x` and `δS` within `e_seed` of `seed` (see [`Op::vjp_bound`]).
    fn vjp_bound<R: RuntimeFloat>(
        &self,
        _e: f64,
        _x: &[R],
        _e_seed: f64,
        _seed: &[R],
    ) -> Option<f64> {
        None
    }
}

/// A scalar function and its derivative at the scalar `A`.
pub trait Pointwise<A>: MapFn {
    /// `f(x)`.
    fn f(&self, x: A) -> A;
    /// `f′(x)`.
    fn df(&self, x: A) -> A;
}

/// The op `y = f(x)` entrywise on the operand `a`, for a scalar function `F`.
#[derive(Clone, Copy, Debug)]
pub struct Map<S, F> {
    a: Slot<S>,
    f: F,
}

impl<S: Shape, F: MapFn> Op for Map<S, F> {
    type Out = S;
    fn name(&self) -> &str {
        self.f.name()
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        smallvec![self.a.pos()]
    }
    fn bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        y: &[R],
    ) -> Option<f64> {
        self.f.bound(eps.get(self.a), x.get(self.a).as_slice(), y)
    }
    fn vjp_bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        e_seed: f64,
        seed: &[R],
        _c: &Pullback<R>,
    ) -> Option<VjpBounds> {
        let e = self
            .f
            .vjp_bound(eps.get(self.a), x.get(self.a).as_slice(), e_seed, seed)?;
        Some(VjpBounds::none().with(self.a, e))
    }
}

impl<A: Element, D, S: Shape, F: Pointwise<A>> Eval<A, D> for Map<S, F> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        x.get(self.a).map_entries(
            #[inline(always)]
            |v: &A| self.f.f(v.clone()),
        )
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        dx.get(self.a).zip_entries(
            &x.get(self.a),
            #[inline(always)]
            |dv: &A, v: &A| dv.clone() * self.f.df(v.clone()),
        )
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, S>) -> Pullback<A> {
        Pullback::single(
            self.a,
            seed.zip_entries(
                &x.get(self.a),
                #[inline(always)]
                |d: &A, v: &A| d.clone() * self.f.df(v.clone()),
            ),
        )
    }
}

/// The op `Map` of `f` on the operand `a`, as a struct literal (see `op_node!`).
macro_rules! map {
    ($a:expr, $f:expr) => {
        op_node!(Map {
            a: Slot::new($a.pos),
            f: $f,
        })
    };
}

/// A constant of an op (the factor of [`scale`], the `ε` of [`safe_log`]) and its value at the
/// scalar `A`: exact at the spec scalars and on intervals and balls, rounded to nearest at the
/// runtime formats (`f32`, `bf16`, `f16`).
pub trait Constant<A>: Clone + fmt::Debug + Send + Sync + 'static {
    /// The constant at `A`.
    fn at(&self) -> A;
    /// The constant as an `f64` (for checks and messages).
    fn value(&self) -> f64;
    /// Whether the constant is a real number (not NaN or ±∞).
    fn is_finite(&self) -> bool;
}

macro_rules! float_constants {
    ($($t:ty),*) => {$(
        impl Constant<f32> for $t {
            fn at(&self) -> f32 { *self as f32 }
            fn value(&self) -> f64 { *self as f64 }
            fn is_finite(&self) -> bool { (*self as f64).is_finite() }
        }
        impl Constant<f64> for $t {
            fn at(&self) -> f64 { *self as f64 }
            fn value(&self) -> f64 { *self as f64 }
            fn is_finite(&self) -> bool { (*self as f64).is_finite() }
        }
        impl Constant<Interval> for $t {
            fn at(&self) -> Interval { Interval::point(*self as f64) }
            fn value(&self) -> f64 { *self as f64 }
            fn is_finite(&self) -> bool { (*self as f64).is_finite() }
        }
        impl Constant<half::bf16> for $t {
            fn at(&self) -> half::bf16 { <half::bf16 as Real>::from_f64(*self as f64) }
            fn value(&self) -> f64 { *self as f64 }
            fn is_finite(&self) -> bool { (*self as f64).is_finite() }
        }
        impl Constant<half::f16> for $t {
            fn at(&self) -> half::f16 { <half::f16 as Real>::from_f64(*self as f64) }
            fn value(&self) -> f64 { *self as f64 }
            fn is_finite(&self) -> bool { (*self as f64).is_finite() }
        }
        impl Constant<crate::approx::Ball> for $t {
            fn at(&self) -> crate::approx::Ball { crate::approx::Ball::point(*self as f64) }
            fn value(&self) -> f64 { *self as f64 }
            fn is_finite(&self) -> bool { (*self as f64).is_finite() }
        }
        impl Constant<Rational> for $t {
            // Checked finite by the op's constructor, so the embedding is exact.
            fn at(&self) -> Rational {
                Rational::from_f64_exact(*self as f64).unwrap_or_else(|| Rational::from_i64(0))
            }
            fn value(&self) -> f64 { *self as f64 }
            fn is_finite(&self) -> bool { (*self as f64).is_finite() }
        }
    )*};
}
float_constants!(f32, f64);

impl Constant<Rational> for Rational {
    fn at(&self) -> Rational {
        self.clone()
    }
    fn value(&self) -> f64 {
        Element::to_f64(self)
    }
    fn is_finite(&self) -> bool {
        true
    }
}

/// A constant that an op cannot use (NaN, ±∞, or out of the op's domain).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConstantError {
    /// The op.
    pub op: &'static str,
    /// The offending value.
    pub value: f64,
    /// What the op needs.
    pub needs: &'static str,
}

impl fmt::Display for ConstantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: the constant {} is not allowed, it needs {}",
            self.op, self.value, self.needs
        )
    }
}
impl std::error::Error for ConstantError {}

/// The scalar function of [`elementwise`](fn@elementwise): a pair of closures at one scalar.
pub struct Closures<F, DF> {
    name: &'static str,
    f: F,
    df: DF,
}

impl<F, DF> fmt::Debug for Closures<F, DF> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Closures({})", self.name)
    }
}

impl<F: Send + Sync + 'static, DF: Send + Sync + 'static> MapFn for Closures<F, DF> {
    fn name(&self) -> &str {
        self.name
    }
}

impl<A, F, DF> Pointwise<A> for Closures<F, DF>
where
    F: Fn(A) -> A + Send + Sync + 'static,
    DF: Fn(A) -> A + Send + Sync + 'static,
{
    fn f(&self, x: A) -> A {
        (self.f)(x)
    }
    fn df(&self, x: A) -> A {
        (self.df)(x)
    }
}

/// The node `y = f(x)` applied entrywise to the operand at `a`, with derivative `df`, at the
/// one scalar the closures take: JVP `dy = dx ⊙ f′(x)`, VJP `x̄ = δ ⊙ f′(x)` (adjoint for any
/// `f′`). For an op that runs at every scalar (and so in certified graphs), implement
/// [`Pointwise`] for a type of your own and use [`map`](fn@map).
///
/// ```
/// # use shapetape::prelude::*;
/// # use shapetape::ops;
/// type G = HList![Vector<2>];
/// let cube = ops::elementwise(Idx::<G, Vector<2>>::at::<0>(), "cube",
///     |x: f64| x * x * x, |x| 3.0 * x * x);
/// let x: TList<f64, G> = tlist![Tensor::new([2.0, -1.0])];
/// assert_eq!(cube.into_node::<f64, ()>().forward(&x, &()).as_slice(), &[8.0, -1.0]);
/// ```
#[must_use]
pub fn elementwise<A, G, S, F, DF>(
    a: Idx<G, S>,
    name: &'static str,
    f: F,
    df: DF,
) -> OpNode<G, Map<S, Closures<F, DF>>>
where
    G: ShapeList,
    S: Shape,
    F: Fn(A) -> A + Send + Sync + 'static,
    DF: Fn(A) -> A + Send + Sync + 'static,
{
    map!(a, Closures { name, f, df })
}

/// The entrywise op of the scalar function `f` (any [`Pointwise`] type) on the operand `a`.
#[must_use]
pub fn map<G: ShapeList, S: Shape, F: MapFn>(a: Idx<G, S>, f: F) -> OpNode<G, Map<S, F>> {
    map!(a, f)
}

/// Declares a scalar function without parameters and its `MapFn` name.
macro_rules! scalar_fn {
    ($(#[$doc:meta])* $ty:ident, $name:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $ty;
        impl MapFn for $ty {
            fn name(&self) -> &str {
                $name
            }
        }
    };
}

scalar_fn!(
    /// `f(x) = −x`.
    NegFn, "neg"
);
impl<A: Element> Pointwise<A> for NegFn {
    fn f(&self, x: A) -> A {
        -x
    }
    fn df(&self, _: A) -> A {
        -A::one()
    }
}

scalar_fn!(
    /// `f(x) = eˣ`.
    ExpFn, "exp"
);
impl<A: Real> Pointwise<A> for ExpFn {
    fn f(&self, x: A) -> A {
        x.exp()
    }
    fn df(&self, x: A) -> A {
        x.exp()
    }
}

scalar_fn!(
    /// `f(x) = tanh x`, `f′ = 1 − tanh² x`.
    TanhFn, "tanh"
);
impl<A: Real> Pointwise<A> for TanhFn {
    fn f(&self, x: A) -> A {
        x.tanh()
    }
    fn df(&self, x: A) -> A {
        let t = x.tanh();
        A::one() - t * t
    }
}

scalar_fn!(
    /// The logistic function `σ(x) = 1 / (1 + e⁻ˣ)`, `σ′ = σ (1 − σ)`.
    SigmoidFn, "sigmoid"
);
impl<A: Real> Pointwise<A> for SigmoidFn {
    fn f(&self, x: A) -> A {
        logistic(x)
    }
    fn df(&self, x: A) -> A {
        let s = logistic(x);
        s * (A::one() - s)
    }
}

scalar_fn!(
    /// `f(x) = log(1 + eˣ)`, `f′ = σ(x)`.
    SoftplusFn, "softplus"
);
impl<A: Real> Pointwise<A> for SoftplusFn {
    /// `max(x, 0) + ln_1p(e^{−|x|})`: no overflow for large `x`, and accurate for `x ≪ 0`
    /// (where the result is about `eˣ`, far below 1).
    fn f(&self, x: A) -> A {
        x.max(A::zero()) + (-x.abs()).exp().ln_1p()
    }
    fn df(&self, x: A) -> A {
        logistic(x)
    }
}

/// `f(x) = max(x, 0)`, `f′ = 1` where `x > 0`, 0 elsewhere (also at 0), with closed-form
/// certified bounds (`relu` is hot in networks, and both of its runtime maps are exact):
///
/// - forward: `relu` is 1-Lipschitz and `max(x̂, 0)` is computed exactly, so
///   `|relu(xS) − relu(x̂)| ≤ |xS − x̂| ≤ ε`;
/// - VJP: the contribution is `δ ⊙ H(x)` (computed exactly: a product by 0 or 1). Where
///   `|x̂ᵢ| > ε`, every admissible `xSᵢ` has the sign of `x̂ᵢ`, so `H` agrees and the error is the
///   seed's, `≤ εδ` (or 0 where `H = 0`); where `|x̂ᵢ| ≤ ε` the step may flip, and
///   `|δSᵢ H(xSᵢ) − δ̂ᵢ H(x̂ᵢ)| ≤ |δ̂ᵢ| + εδ`.
///
/// Any NaN or ∞ among the runtime inputs or seed, or a NaN bound, gives `+∞`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReluFn;

impl MapFn for ReluFn {
    fn name(&self) -> &str {
        "relu"
    }
    fn bound<R: RuntimeFloat>(&self, e: f64, x: &[R], _: &[R]) -> Option<f64> {
        Some(if e >= 0.0 && R::all_finite(x) {
            e
        } else {
            f64::INFINITY
        })
    }
    fn vjp_bound<R: RuntimeFloat>(&self, e: f64, x: &[R], ed: f64, d: &[R]) -> Option<f64> {
        // Non-finite entries first (bit scans), then one branch-free pass in eight independent
        // lanes: the largest |δ̂ᵢ| where the step may flip (−1: none), and whether some step is
        // surely 1.
        let finite = R::all_finite(x) && R::all_finite(d);
        const L: usize = 8;
        let (mut flips, mut ons) = ([-1.0f64; L], [0.0f64; L]);
        let lane = |flip: &mut f64, on: &mut f64, xi: R, di: R| {
            let (xi, di) = (xi.to_f64_exact(), di.to_f64_exact());
            let ambiguous = xi <= e && xi >= -e;
            let m = if ambiguous { di.abs() } else { -1.0 };
            *flip = if m > *flip { m } else { *flip };
            *on = if xi > e { 1.0 } else { *on };
        };
        let (xc, dc) = (x.chunks_exact(L), d.chunks_exact(L));
        let (xr, dr) = (xc.remainder(), dc.remainder());
        for (cx, cd) in xc.zip(dc) {
            for j in 0..L {
                lane(&mut flips[j], &mut ons[j], cx[j], cd[j]);
            }
        }
        for (j, (&xi, &di)) in xr.iter().zip(dr).enumerate() {
            lane(&mut flips[j], &mut ons[j], xi, di);
        }
        let flip = flips.into_iter().fold(-1.0, f64::max);
        let on = ons.into_iter().fold(0.0, f64::max);
        Some(if !(e >= 0.0 && ed >= 0.0 && finite) {
            f64::INFINITY
        } else if flip >= 0.0 {
            add_up(flip, ed) // ≥ ed, so it also covers the entries whose step is 1
        } else if on > 0.0 {
            ed
        } else {
            0.0
        })
    }
}

impl<A: Element> Pointwise<A> for ReluFn {
    fn f(&self, x: A) -> A {
        x.elem_max(&A::zero())
    }
    fn df(&self, x: A) -> A {
        x.heaviside()
    }
}

/// `f(x) = x · c` for a constant `c` on the right (Lean's `scaleSpec t c`).
#[derive(Clone, Copy, Debug)]
pub struct ScaleFn<C>(C);

impl<C: Send + Sync + 'static> MapFn for ScaleFn<C> {
    fn name(&self) -> &str {
        "scale"
    }
}
impl<A: Element, C: Constant<A>> Pointwise<A> for ScaleFn<C> {
    fn f(&self, x: A) -> A {
        x * self.0.at()
    }
    fn df(&self, _: A) -> A {
        self.0.at()
    }
}

/// The safe logarithm `f(x) = log(max(x, ε))` (Lean's `safeLog`), `f′ = 1/x` where `x > ε`
/// and 0 where the clamp is active.
#[derive(Clone, Copy, Debug)]
pub struct SafeLogFn<C>(C);

impl<C: Send + Sync + 'static> MapFn for SafeLogFn<C> {
    fn name(&self) -> &str {
        "safe_log"
    }
}
impl<A: Real, C: Constant<A>> Pointwise<A> for SafeLogFn<C> {
    fn f(&self, x: A) -> A {
        x.elem_max(&self.0.at()).ln()
    }
    fn df(&self, x: A) -> A {
        let eps = self.0.at();
        (x - eps).heaviside() / x.elem_max(&eps)
    }
}

/// `y = −x`.
#[must_use]
pub fn neg<G: ShapeList, S: Shape>(a: Idx<G, S>) -> OpNode<G, Map<S, NegFn>> {
    map!(a, NegFn)
}

/// `y = max(x, 0)`, with derivative `1` where `x > 0` and `0` elsewhere (also at 0); certified
/// by the closed-form bounds of [`ReluFn`].
#[must_use]
pub fn relu<G: ShapeList, S: Shape>(a: Idx<G, S>) -> OpNode<G, Map<S, ReluFn>> {
    map!(a, ReluFn)
}

/// `y = eˣ`.
#[must_use]
pub fn exp<G: ShapeList, S: Shape>(a: Idx<G, S>) -> OpNode<G, Map<S, ExpFn>> {
    map!(a, ExpFn)
}

/// `y = tanh x`, with `y′ = 1 − tanh² x`.
#[must_use]
pub fn tanh<G: ShapeList, S: Shape>(a: Idx<G, S>) -> OpNode<G, Map<S, TanhFn>> {
    map!(a, TanhFn)
}

/// The logistic function `σ(x) = 1 / (1 + e⁻ˣ)`, with `σ′ = σ (1 − σ)`.
#[must_use]
pub fn sigmoid<G: ShapeList, S: Shape>(a: Idx<G, S>) -> OpNode<G, Map<S, SigmoidFn>> {
    map!(a, SigmoidFn)
}

/// `y = log(1 + eˣ)`, with `y′ = σ(x)`; computed as `max(x, 0) + ln_1p(e^{−|x|})`, which
/// neither overflows for large `x` nor loses the result for `x ≪ 0`.
#[must_use]
pub fn softplus<G: ShapeList, S: Shape>(a: Idx<G, S>) -> OpNode<G, Map<S, SoftplusFn>> {
    map!(a, SoftplusFn)
}

/// `y = x · c` with the constant `c` on the right (Lean's `scaleSpec t c`); `c` must be finite
/// (it is embedded exactly into exact and interval scalars, rounded to nearest into `f32`).
///
/// ```
/// # use shapetape::prelude::*;
/// # use shapetape::ops;
/// type G = HList![Vector<2>];
/// assert!(ops::scale(Idx::<G, Vector<2>>::at::<0>(), 0.5).is_ok());
/// let err = ops::scale(Idx::<G, Vector<2>>::at::<0>(), f64::NAN).unwrap_err();
/// assert_eq!(err.to_string(), "scale: the constant NaN is not allowed, it needs a finite factor");
/// ```
pub fn scale<G: ShapeList, S: Shape, C: Constant<C>>(
    a: Idx<G, S>,
    c: C,
) -> Result<OpNode<G, Map<S, ScaleFn<C>>>, ConstantError> {
    if c.is_finite() {
        Ok(map!(a, ScaleFn(c)))
    } else {
        Err(ConstantError {
            op: "scale",
            value: c.value(),
            needs: "a finite factor",
        })
    }
}

/// The safe logarithm `y = log(max(x, ε))` (Lean's `safeLog`), with derivative `1/x` where
/// `x > ε` and `0` where the clamp is active. `ε` must be finite and `> 0`, which keeps the
/// result finite at and below 0.
pub fn safe_log<G: ShapeList, S: Shape, C: Constant<C>>(
    a: Idx<G, S>,
    eps: C,
) -> Result<OpNode<G, Map<S, SafeLogFn<C>>>, ConstantError> {
    if eps.is_finite() && eps.value() > 0.0 {
        Ok(map!(a, SafeLogFn(eps)))
    } else {
        Err(ConstantError {
            op: "safe_log",
            value: eps.value(),
            needs: "a finite ε > 0",
        })
    }
}

/// `σ(x) = 1 / (1 + e⁻ˣ)`, evaluated without overflow for either sign of `x`: with
/// `e = e^{−|x|}`, `1 / (1 + e)` for `x ≥ 0` and `e / (1 + e)` otherwise. Written as one
/// exponential of a selected argument and a selected numerator (the same operations on the same
/// values as the two branches), so that `f32`/`f64` evaluate it without a data-dependent jump.
#[inline(always)]
pub(crate) fn logistic<A: Real>(x: A) -> A {
    let nonneg = x >= A::zero();
    let e = if nonneg { -x } else { x }.exp();
    let num = if nonneg { A::one() } else { e };
    num / (A::one() + e)
}
