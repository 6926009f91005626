//! Entrywise ops `y = f(x)` on one operand: one constructor, many scalar functions.
//!
//! **Mathematics.** `y = f(x)` entrywise has the diagonal Jacobian `diag f′(x)`, which is
//! symmetric, so the JVP and the VJP are the same product, `dy = f′(x) ⊙ dx` and
//! `x̄ = f′(x) ⊙ δ`, adjoint for any `f′`. Whether `f′` is the derivative of `f` is what
//! finite differences ([`gradcheck`](crate::autograd::gradcheck)) test; at a kink (`relu` at
//! 0) a fixed one-sided value is used.

use std::sync::Arc;

use crate::autograd::Node;
use crate::autograd::kernel::{Kernel, Pullback, Slot};
use crate::autograd::node::node_from_kernel;
use crate::scalar::{Element, Real};
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tlist::Idx;

/// The node `y = f(x)` applied entrywise to the operand at `a`, with derivative `df`:
/// JVP `dy = dx ⊙ f′(x)`, VJP `x̄ = δ ⊙ f′(x)` (the two are adjoint for any `f′`).
///
/// Every unary op of this module is this constructor with a different pair `(f, f′)`.
///
/// ```
/// # use shapetape::prelude::*;
/// # use shapetape::ops;
/// type G = HList![Vector<2>];
/// let cube = ops::elementwise::<f64, (), G, Vector<2>>(
///     Idx::at::<0>(), "cube", |x| x * x * x, |x| 3.0 * x * x);
/// let x: TList<f64, G> = tlist![Tensor::new([2.0, -1.0])];
/// assert_eq!(cube.data().forward(&x, &()).as_slice(), &[8.0, -1.0]);
/// ```
pub fn elementwise<A, D, G, S>(
    a: Idx<G, S>,
    name: &'static str,
    f: impl Fn(A) -> A + Send + Sync + 'static,
    df: impl Fn(A) -> A + Send + Sync + 'static,
) -> Node<A, D, G, S>
where
    A: Element,
    G: ShapeList,
    S: Shape,
{
    node_from_kernel!(unary(Slot::<S>::new(a.pos), name, f, df))
}

/// The kernel of [`elementwise`](fn@elementwise), context-free (each unary op below calls it
/// from a function that does not mention the context, so its code is compiled once per
/// scalar and shape).
pub(crate) fn unary<A: Element, D, S: Shape>(
    a: Slot<S>,
    name: &'static str,
    f: impl Fn(A) -> A + Send + Sync + 'static,
    df: impl Fn(A) -> A + Send + Sync + 'static,
) -> Kernel<A, D, S> {
    let df = Arc::new(df);
    let df2 = Arc::clone(&df);
    Kernel::new(
        name,
        &[a.pos()],
        move |ctx, _| ctx.get(a).map(|v: &A| f(v.clone())),
        move |ctx, dctx, _| {
            dctx.get(a)
                .zip_with(&ctx.get(a), |dv: &A, v: &A| dv.clone() * df(v.clone()))
        },
        move |ctx, _, seed| {
            Pullback::single(
                a,
                seed.zip_with(&ctx.get(a), |d: &A, v: &A| d.clone() * df2(v.clone())),
            )
        },
    )
}

/// `y = −x`.
pub fn neg<A: Element, D, G: ShapeList, S: Shape>(a: Idx<G, S>) -> Node<A, D, G, S> {
    fn kernel<A: Element, D, S: Shape>(a: Slot<S>) -> Kernel<A, D, S> {
        unary(a, "neg", |x: A| -x, |_| -A::one())
    }
    node_from_kernel!(kernel(Slot::<S>::new(a.pos)))
}

/// `y = x · c` with the constant `c` on the right (Lean's `scaleSpec t c`).
pub fn scale<A: Element, D, G: ShapeList, S: Shape>(a: Idx<G, S>, c: A) -> Node<A, D, G, S> {
    fn kernel<A: Element, D, S: Shape>(a: Slot<S>, c: A) -> Kernel<A, D, S> {
        let c2 = c.clone();
        unary(a, "scale", move |x: A| x * c.clone(), move |_| c2.clone())
    }
    node_from_kernel!(kernel(Slot::<S>::new(a.pos), c))
}

/// `y = max(x, 0)`, with derivative `1` where `x > 0` and `0` elsewhere (also at 0).
pub fn relu<A: Element, D, G: ShapeList, S: Shape>(a: Idx<G, S>) -> Node<A, D, G, S> {
    fn kernel<A: Element, D, S: Shape>(a: Slot<S>) -> Kernel<A, D, S> {
        unary(
            a,
            "relu",
            |x: A| x.elem_max(&A::zero()),
            |x: A| x.heaviside(),
        )
    }
    node_from_kernel!(kernel(Slot::<S>::new(a.pos)))
}

/// `y = eˣ`.
pub fn exp<A: Real, D, G: ShapeList, S: Shape>(a: Idx<G, S>) -> Node<A, D, G, S> {
    fn kernel<A: Real, D, S: Shape>(a: Slot<S>) -> Kernel<A, D, S> {
        unary(a, "exp", A::exp, A::exp)
    }
    node_from_kernel!(kernel(Slot::<S>::new(a.pos)))
}

/// `y = tanh x`, with `y′ = 1 − tanh² x`.
pub fn tanh<A: Real, D, G: ShapeList, S: Shape>(a: Idx<G, S>) -> Node<A, D, G, S> {
    fn kernel<A: Real, D, S: Shape>(a: Slot<S>) -> Kernel<A, D, S> {
        unary(a, "tanh", A::tanh, |x: A| {
            let t = x.tanh();
            A::one() - t * t
        })
    }
    node_from_kernel!(kernel(Slot::<S>::new(a.pos)))
}

/// The logistic function `σ(x) = 1 / (1 + e⁻ˣ)`, with `σ′ = σ (1 − σ)`.
pub fn sigmoid<A: Real, D, G: ShapeList, S: Shape>(a: Idx<G, S>) -> Node<A, D, G, S> {
    fn kernel<A: Real, D, S: Shape>(a: Slot<S>) -> Kernel<A, D, S> {
        unary(a, "sigmoid", logistic, |x: A| {
            let s = logistic(x);
            s * (A::one() - s)
        })
    }
    node_from_kernel!(kernel(Slot::<S>::new(a.pos)))
}

/// `y = log(1 + eˣ)`, with `y′ = σ(x)`; computed as `max(x, 0) + log(1 + e^{−|x|})` so it
/// does not overflow for large `x`.
pub fn softplus<A: Real, D, G: ShapeList, S: Shape>(a: Idx<G, S>) -> Node<A, D, G, S> {
    fn kernel<A: Real, D, S: Shape>(a: Slot<S>) -> Kernel<A, D, S> {
        unary(
            a,
            "softplus",
            |x: A| x.max(A::zero()) + (A::one() + (-x.abs()).exp()).ln(),
            logistic,
        )
    }
    node_from_kernel!(kernel(Slot::<S>::new(a.pos)))
}

/// The safe logarithm `y = log(max(x, ε))` (Lean's `safeLog`), with derivative `1/x` where
/// `x > ε` and `0` where the clamp is active. `ε > 0` keeps it finite at and below 0.
pub fn safe_log<A: Real, D, G: ShapeList, S: Shape>(a: Idx<G, S>, eps: A) -> Node<A, D, G, S> {
    fn kernel<A: Real, D, S: Shape>(a: Slot<S>, eps: A) -> Kernel<A, D, S> {
        unary(
            a,
            "safe_log",
            move |x: A| x.elem_max(&eps).ln(),
            move |x: A| (x - eps).heaviside() / x.elem_max(&eps),
        )
    }
    node_from_kernel!(kernel(Slot::<S>::new(a.pos), eps))
}

/// `σ(x) = 1 / (1 + e⁻ˣ)`, evaluated without overflow for either sign of `x`.
pub(crate) fn logistic<A: Real>(x: A) -> A {
    if x >= A::zero() {
        A::one() / (A::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (A::one() + e)
    }
}
