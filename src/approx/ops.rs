//! The op library as reverse nodes with derived, certified bounds.
//!
//! Each constructor here is the op of the same name in [`crate::ops`], instantiated at the spec
//! scalar `P` and at the runtime scalar `R`: the spec and runtime semantics are literally the
//! same generic code. The bounds of the entrywise ops, reductions and losses come from
//! evaluating that code a third time in interval arithmetic on the error boxes
//! ([`RevNode::lift`]), except for [`relu`], whose exact runtime maps admit closed-form bounds
//! (cheaper, and as tight where the sign of the input is certain). The matrix ops (`matvec`, `matmul`, `linear`, `linear_batch`) use the
//! cheaper a-priori dot-product bound instead (input errors plus `γₖ·|A||B|`, valid for any
//! summation order, so also for the blocked runtime kernel), which costs `O(m·k + k·n)`
//! rather than interval matrix products.
//!
//! Polynomial and piecewise-linear ops accept any [`SpecScalar`] (`f64` or the exact
//! [`Rational`](crate::Rational)); ops with `exp`, `ln` or `tanh` need a spec scalar that is
//! also [`Real`] (`f64`). Constants (the factor of `scale`, the `ε` of `safe_log`) are given as
//! runtime values and embedded exactly into the spec, so both sides use the same real number.
//!
//! ```
//! use shapetape::prelude::*;
//! use shapetape::approx::{self, EList, RevGraph};
//! type G = HList![Vector<2>, Vector<2>];
//! let g = RevGraph::<f32, Rational, G, HNil>::nil()
//!     .snoc(approx::ops::mul(Idx::at::<0>(), Idx::at::<1>()))
//!     .snoc(approx::ops::sum(Idx::at::<2>()));
//! let x: TList<f32, G> = tlist![Tensor::new([0.1, 0.2]), Tensor::new([0.3, 0.4])];
//! let (y, eps) = g.eval_certified(EList::zero(), x.clone());
//! let spec = g.eval_spec(x.map(|v| approx::ToSpec::<Rational>::to_spec(v).unwrap()));
//! assert!(approx::approx_ctx(&spec, &y, &eps));
//! assert!(eps.as_slice()[3] > 0.0 && eps.as_slice()[3] < 1e-7);
//! ```

use core::fmt;

use typenum::NonZero;

use crate::approx::dot_bound::{add_rounding, gemm_bound};
use crate::approx::elist::EList;
use crate::approx::interval::Interval;
use crate::approx::node::{EContrib, RevNode};
use crate::approx::round::{RuntimeFloat, add_up};
use crate::approx::spec::{SpecScalar, ToSpec};
use crate::ops;
use crate::scalar::Real;
use crate::shape::{Matrix, SameShape, Scalar, Shape, Vector};
use crate::shape_list::ShapeList;
use crate::tensor::{Owned, TensorView};
use crate::tlist::{Idx, TList};

/// The same op at the spec scalar, the runtime scalar and `Interval`, lifted.
macro_rules! lift {
    ($op:ident ( $($arg:expr),* )) => {
        RevNode::lift(ops::$op($($arg),*), ops::$op($($arg),*), ops::$op($($arg),*))
    };
}

/// A constant that cannot be embedded into the spec (NaN, ±∞, or out of the op's domain).
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

/// The runtime constant `c` at the spec scalar and as a point interval.
fn embed<R, P>(c: R, op: &'static str, needs: &'static str) -> Result<(P, Interval), ConstantError>
where
    R: RuntimeFloat + ToSpec<P>,
    P: SpecScalar,
{
    let v = c.to_f64_exact();
    match c.to_spec() {
        Some(p) => Ok((p, Interval::point(v))),
        None => Err(ConstantError {
            op,
            value: v,
            needs,
        }),
    }
}

/// `xₐ + x_b` (see [`ops::add`]).
pub fn add<R: RuntimeFloat, P: SpecScalar, G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> RevNode<R, P, G, S> {
    lift!(add(a, b))
}

/// `xₐ − x_b` (see [`ops::sub`]).
pub fn sub<R: RuntimeFloat, P: SpecScalar, G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> RevNode<R, P, G, S> {
    lift!(sub(a, b))
}

/// `xₐ ⊙ x_b` (see [`ops::mul`]).
pub fn mul<R: RuntimeFloat, P: SpecScalar, G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> RevNode<R, P, G, S> {
    lift!(mul(a, b))
}

/// `−x` (see [`ops::neg`]).
pub fn neg<R: RuntimeFloat, P: SpecScalar, G: ShapeList, S: Shape>(
    a: Idx<G, S>,
) -> RevNode<R, P, G, S> {
    lift!(neg(a))
}

/// `max(x, 0)` (see [`ops::relu`]), with closed-form bounds instead of interval arithmetic
/// (`relu` is hot in networks, and both of its runtime maps are exact):
///
/// - forward: `relu` is 1-Lipschitz and `max(x̂, 0)` is computed exactly, so
///   `|relu(xS) − relu(x̂)| ≤ |xS − x̂| ≤ ε`;
/// - VJP: the contribution is `δ ⊙ H(x)` (computed exactly: a product by 0 or 1). Where
///   `|x̂ᵢ| > ε`, every admissible `xSᵢ` has the sign of `x̂ᵢ`, so `H` agrees and the error is the
///   seed's, `≤ εδ` (or 0 where `H = 0`); where `|x̂ᵢ| ≤ ε` the step may flip, and
///   `|δSᵢ H(xSᵢ) − δ̂ᵢ H(x̂ᵢ)| ≤ |δ̂ᵢ| + εδ`.
///
/// Any NaN or ∞ among the runtime inputs or seed, or a NaN bound, gives `+∞`.
pub fn relu<R: RuntimeFloat, P: SpecScalar, G: ShapeList, S: Shape>(
    a: Idx<G, S>,
) -> RevNode<R, P, G, S> {
    RevNode::from_parts(
        ops::relu(a),
        ops::relu(a),
        move |eps: &EList<G>, ctx: &TList<R, G>, _: TensorView<'_, R, S>| {
            let e = eps.get(a);
            if e >= 0.0 && R::all_finite(ctx.get(a).as_slice()) {
                e
            } else {
                f64::INFINITY
            }
        },
        move |eps: &EList<G>,
              ctx: &TList<R, G>,
              ed: f64,
              d: TensorView<'_, R, S>,
              _: &[(usize, Owned<R>)]| {
            let (e, x) = (eps.get(a), ctx.get(a));
            let (x, d) = (x.as_slice(), d.as_slice());
            // Non-finite entries first (bit scans), then one branch-free pass in eight
            // independent lanes: the largest |δ̂ᵢ| where the step may flip (−1: none), and
            // whether some step is surely 1.
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
            let bound = if !(e >= 0.0 && ed >= 0.0 && finite) {
                f64::INFINITY
            } else if flip >= 0.0 {
                add_up(flip, ed) // ≥ ed, so it also covers the entries whose step is 1
            } else if on > 0.0 {
                ed
            } else {
                0.0
            };
            EContrib::zero().with(a, bound)
        },
    )
}

/// `x · c` with a finite runtime constant `c`, the same real number on the spec side
/// (see [`ops::scale`]).
pub fn scale<R, P, G, S>(a: Idx<G, S>, c: R) -> Result<RevNode<R, P, G, S>, ConstantError>
where
    R: RuntimeFloat + ToSpec<P>,
    P: SpecScalar,
    G: ShapeList,
    S: Shape,
{
    let (cp, ci) = embed::<R, P>(c, "scale", "a finite factor")?;
    Ok(RevNode::lift(
        ops::scale(a, cp),
        ops::scale(a, c),
        ops::scale(a, ci),
    ))
}

/// `Σ x` (see [`ops::sum`]).
pub fn sum<R: RuntimeFloat, P: SpecScalar, G: ShapeList, S: Shape>(
    a: Idx<G, S>,
) -> RevNode<R, P, G, Scalar> {
    lift!(sum(a))
}

/// `Σ x / n` (see [`ops::mean`]).
pub fn mean<R: RuntimeFloat, P: SpecScalar, G: ShapeList, S: Shape>(
    a: Idx<G, S>,
) -> RevNode<R, P, G, Scalar>
where
    S::Size: NonZero,
{
    lift!(mean(a))
}

/// `W x` (see [`ops::matvec`]).
pub fn matvec<R, P, G, const M: usize, const N: usize>(
    w: Idx<G, Matrix<M, N>>,
    x: Idx<G, Vector<N>>,
) -> RevNode<R, P, G, Vector<M>>
where
    R: RuntimeFloat,
    P: SpecScalar,
    G: ShapeList,
    Matrix<M, N>: Shape,
    Vector<N>: Shape,
    Vector<M>: Shape,
{
    RevNode::from_parts(
        ops::matvec(w, x),
        ops::matvec(w, x),
        move |eps: &EList<G>, ctx: &TList<R, G>, _: TensorView<'_, R, Vector<M>>| {
            gemm_bound(
                ctx.get(w).as_slice(),
                false,
                eps.get(w),
                ctx.get(x).as_slice(),
                false,
                eps.get(x),
                M,
                N,
                1,
            )
        },
        move |eps: &EList<G>,
              ctx: &TList<R, G>,
              ed: f64,
              d: TensorView<'_, R, Vector<M>>,
              _: &[(usize, Owned<R>)]| {
            let (wv, xv) = (ctx.get(w), ctx.get(x));
            EContrib::zero()
                .with(
                    w,
                    gemm_bound(
                        d.as_slice(),
                        false,
                        ed,
                        xv.as_slice(),
                        false,
                        eps.get(x),
                        M,
                        1,
                        N,
                    ),
                )
                .with(
                    x,
                    gemm_bound(
                        wv.as_slice(),
                        true,
                        eps.get(w),
                        d.as_slice(),
                        false,
                        ed,
                        N,
                        M,
                        1,
                    ),
                )
        },
    )
}

/// The rounding of the runtime addition that combined two contributions to the slot `pos`
/// (aliased operands), bounded from the combined runtime contribution in `c`.
fn sum_rounding<R: RuntimeFloat>(c: &[(usize, Owned<R>)], pos: usize) -> f64 {
    c.iter()
        .find(|(p, _)| *p == pos)
        .map_or(0.0, |(_, t)| add_rounding(&t.0))
}

/// `A B` (see [`ops::matmul`]).
pub fn matmul<R, P, G, const M: usize, const K: usize, const N: usize>(
    a: Idx<G, Matrix<M, K>>,
    b: Idx<G, Matrix<K, N>>,
) -> RevNode<R, P, G, Matrix<M, N>>
where
    R: RuntimeFloat,
    P: SpecScalar,
    G: ShapeList,
    Matrix<M, K>: Shape,
    Matrix<K, N>: Shape,
    Matrix<M, N>: Shape,
{
    RevNode::from_parts(
        ops::matmul(a, b),
        ops::matmul(a, b),
        move |eps: &EList<G>, ctx: &TList<R, G>, _: TensorView<'_, R, Matrix<M, N>>| {
            gemm_bound(
                ctx.get(a).as_slice(),
                false,
                eps.get(a),
                ctx.get(b).as_slice(),
                false,
                eps.get(b),
                M,
                K,
                N,
            )
        },
        move |eps: &EList<G>,
              ctx: &TList<R, G>,
              ed: f64,
              d: TensorView<'_, R, Matrix<M, N>>,
              c: &[(usize, Owned<R>)]| {
            let (av, bv) = (ctx.get(a), ctx.get(b));
            let ea = gemm_bound(
                d.as_slice(),
                false,
                ed,
                bv.as_slice(),
                true,
                eps.get(b),
                M,
                N,
                K,
            );
            let eb = gemm_bound(
                av.as_slice(),
                true,
                eps.get(a),
                d.as_slice(),
                false,
                ed,
                K,
                M,
                N,
            );
            if a.pos() == b.pos() {
                // One slot receives δBᵀ + Aᵀδ: both errors plus the rounding of the sum.
                EContrib::zero().with(a, add_up(add_up(ea, eb), sum_rounding(c, a.pos())))
            } else {
                EContrib::zero().with(a, ea).with(b, eb)
            }
        },
    )
}

/// `Xᵀ` (see [`ops::transpose`]).
pub fn transpose<R, P, G, const M: usize, const N: usize>(
    x: Idx<G, Matrix<M, N>>,
) -> RevNode<R, P, G, Matrix<N, M>>
where
    R: RuntimeFloat,
    P: SpecScalar,
    G: ShapeList,
    Matrix<M, N>: Shape,
    Matrix<N, M>: Shape,
{
    lift!(transpose(x))
}

/// `W x + b` (see [`ops::linear`]).
pub fn linear<R, P, G, const O: usize, const I: usize>(
    w: Idx<G, Matrix<O, I>>,
    x: Idx<G, Vector<I>>,
    b: Idx<G, Vector<O>>,
) -> RevNode<R, P, G, Vector<O>>
where
    R: RuntimeFloat,
    P: SpecScalar,
    G: ShapeList,
    Matrix<O, I>: Shape,
    Vector<I>: Shape,
    Vector<O>: Shape,
{
    RevNode::from_parts(
        ops::linear(w, x, b),
        ops::linear(w, x, b),
        move |eps: &EList<G>, ctx: &TList<R, G>, y: TensorView<'_, R, Vector<O>>| {
            let wx = gemm_bound(
                ctx.get(w).as_slice(),
                false,
                eps.get(w),
                ctx.get(x).as_slice(),
                false,
                eps.get(x),
                O,
                I,
                1,
            );
            add_up(add_up(wx, eps.get(b)), add_rounding(y.as_slice()))
        },
        move |eps: &EList<G>,
              ctx: &TList<R, G>,
              ed: f64,
              d: TensorView<'_, R, Vector<O>>,
              c: &[(usize, Owned<R>)]| {
            let (wv, xv) = (ctx.get(w), ctx.get(x));
            let ew = gemm_bound(
                d.as_slice(),
                false,
                ed,
                xv.as_slice(),
                false,
                eps.get(x),
                O,
                1,
                I,
            );
            let ex = gemm_bound(
                wv.as_slice(),
                true,
                eps.get(w),
                d.as_slice(),
                false,
                ed,
                I,
                O,
                1,
            );
            let contrib = EContrib::zero().with(w, ew);
            if x.pos() == b.pos() {
                // x and b alias (I = O): the slot receives Wᵀδ ⊕ δ, so both errors plus the
                // rounding of that sum (`with` would replace the first bound by the second).
                contrib.with(x, add_up(add_up(ex, ed), sum_rounding(c, x.pos())))
            } else {
                contrib.with(x, ex).with(b, ed)
            }
        },
    )
}

/// `X Wᵀ + 1 bᵀ` (see [`ops::linear_batch`]).
pub fn linear_batch<R, P, G, const B: usize, const O: usize, const I: usize>(
    w: Idx<G, Matrix<O, I>>,
    x: Idx<G, Matrix<B, I>>,
    b: Idx<G, Vector<O>>,
) -> RevNode<R, P, G, Matrix<B, O>>
where
    R: RuntimeFloat,
    P: SpecScalar,
    G: ShapeList,
    Matrix<O, I>: Shape,
    Matrix<B, I>: Shape,
    Matrix<B, O>: Shape,
    Vector<O>: Shape,
{
    RevNode::from_parts(
        ops::linear_batch(w, x, b),
        ops::linear_batch(w, x, b),
        move |eps: &EList<G>, ctx: &TList<R, G>, y: TensorView<'_, R, Matrix<B, O>>| {
            let xw = gemm_bound(
                ctx.get(x).as_slice(),
                false,
                eps.get(x),
                ctx.get(w).as_slice(),
                true,
                eps.get(w),
                B,
                I,
                O,
            );
            add_up(add_up(xw, eps.get(b)), add_rounding(y.as_slice()))
        },
        move |eps: &EList<G>,
              ctx: &TList<R, G>,
              ed: f64,
              d: TensorView<'_, R, Matrix<B, O>>,
              c: &[(usize, Owned<R>)]| {
            let (wv, xv) = (ctx.get(w), ctx.get(x));
            let ones = vec![R::from_f64(1.0); B];
            let ew = gemm_bound(
                d.as_slice(),
                true,
                ed,
                xv.as_slice(),
                false,
                eps.get(x),
                O,
                B,
                I,
            );
            let ex = gemm_bound(
                d.as_slice(),
                false,
                ed,
                wv.as_slice(),
                false,
                eps.get(w),
                B,
                O,
                I,
            );
            let eb = gemm_bound(d.as_slice(), true, ed, &ones, false, 0.0, O, B, 1);
            let contrib = if w.pos() == x.pos() {
                // W and X alias (B = O): the slot receives δᵀX ⊕ δW, so both errors plus the
                // rounding of that sum (`with` would replace the first bound by the second).
                EContrib::zero().with(w, add_up(add_up(ew, ex), sum_rounding(c, w.pos())))
            } else {
                EContrib::zero().with(w, ew).with(x, ex)
            };
            contrib.with(b, eb)
        },
    )
}

/// `Σ (p − t)² / n` (see [`ops::mse`]).
pub fn mse<R, P, G, S, S2>(pred: Idx<G, S>, target: Idx<G, S2>) -> RevNode<R, P, G, Scalar>
where
    R: RuntimeFloat,
    P: SpecScalar,
    G: ShapeList,
    S: Shape,
    S2: SameShape<S>,
    S::Size: NonZero,
{
    lift!(mse(pred, target))
}

/// `eˣ` (see [`ops::exp`]).
pub fn exp<R: RuntimeFloat, P: SpecScalar + Real, G: ShapeList, S: Shape>(
    a: Idx<G, S>,
) -> RevNode<R, P, G, S> {
    lift!(exp(a))
}

/// `tanh x` (see [`ops::tanh`]).
pub fn tanh<R: RuntimeFloat, P: SpecScalar + Real, G: ShapeList, S: Shape>(
    a: Idx<G, S>,
) -> RevNode<R, P, G, S> {
    lift!(tanh(a))
}

/// `σ(x)` (see [`ops::sigmoid`]).
pub fn sigmoid<R: RuntimeFloat, P: SpecScalar + Real, G: ShapeList, S: Shape>(
    a: Idx<G, S>,
) -> RevNode<R, P, G, S> {
    lift!(sigmoid(a))
}

/// `log(1 + eˣ)` (see [`ops::softplus`]).
pub fn softplus<R: RuntimeFloat, P: SpecScalar + Real, G: ShapeList, S: Shape>(
    a: Idx<G, S>,
) -> RevNode<R, P, G, S> {
    lift!(softplus(a))
}

/// `log max(x, ε)` with a finite runtime `ε > 0` (see [`ops::safe_log`]).
pub fn safe_log<R, P, G, S>(a: Idx<G, S>, eps: R) -> Result<RevNode<R, P, G, S>, ConstantError>
where
    R: RuntimeFloat + ToSpec<P>,
    P: SpecScalar + Real,
    G: ShapeList,
    S: Shape,
{
    let (ep, ei) = embed::<R, P>(eps, "safe_log", "a finite ε > 0")?;
    if eps.to_f64_exact() <= 0.0 {
        return Err(ConstantError {
            op: "safe_log",
            value: eps.to_f64_exact(),
            needs: "a finite ε > 0",
        });
    }
    Ok(RevNode::lift(
        ops::safe_log(a, ep),
        ops::safe_log(a, eps),
        ops::safe_log(a, ei),
    ))
}

/// Softmax over the last axis (see [`ops::softmax`]).
pub fn softmax<R: RuntimeFloat, P: SpecScalar + Real, G: ShapeList, S: Shape>(
    a: Idx<G, S>,
) -> RevNode<R, P, G, S> {
    lift!(softmax(a))
}

/// Log-softmax over the last axis (see [`ops::log_softmax`]).
pub fn log_softmax<R: RuntimeFloat, P: SpecScalar + Real, G: ShapeList, S: Shape>(
    a: Idx<G, S>,
) -> RevNode<R, P, G, S> {
    lift!(log_softmax(a))
}

/// Mean cross-entropy of logits against targets (see [`ops::cross_entropy`]).
pub fn cross_entropy<R, P, G, S, S2>(
    logits: Idx<G, S>,
    target: Idx<G, S2>,
) -> RevNode<R, P, G, Scalar>
where
    R: RuntimeFloat,
    P: SpecScalar + Real,
    G: ShapeList,
    S: Shape,
    S2: SameShape<S>,
    S::Size: NonZero,
{
    lift!(cross_entropy(logits, target))
}
