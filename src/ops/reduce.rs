//! Reductions to a scalar.
//!
//! **Mathematics.** `sum : A^n → A`, `x ↦ Σᵢ xᵢ`, is linear with the Jacobian row `𝟙ᵀ`: JVP
//! `Σᵢ dxᵢ`, VJP `δ 𝟙` (every entry `δ`). `mean = sum / n` scales both by `1/n`.

use typenum::NonZero;

use crate::autograd::Node;
use crate::autograd::kernel::{Kernel, Pullback, Slot};
use crate::autograd::node::node_from_kernel;
use crate::scalar::Element;
use crate::shape::{Scalar, Shape};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

/// `y = Σᵢ xᵢ` (Lean's `sumSpec`, a left fold from 0): JVP `Σ dx`, VJP `fill δ`.
pub fn sum<A: Element, D, G: ShapeList, S: Shape>(a: Idx<G, S>) -> Node<A, D, G, Scalar> {
    fn kernel<A: Element, D, S: Shape>(a: Slot<S>) -> Kernel<A, D, Scalar> {
        Kernel::<A, D, Scalar>::new(
            "sum",
            &[a.pos()],
            move |ctx, _| Tensor::new(ctx.get(a).sum()),
            move |_, dctx, _| Tensor::new(dctx.get(a).sum()),
            move |_, _, seed| Pullback::single(a, Tensor::fill(seed.as_slice()[0].clone())),
        )
    }
    node_from_kernel!(kernel(Slot::<S>::new(a.pos)))
}

/// `y = (Σᵢ xᵢ) / n` with `n = S::SIZE`; only for shapes with at least one entry (checked by
/// the compiler). JVP `(Σ dx) / n`, VJP `fill (δ / n)`.
pub fn mean<A: Element, D, G: ShapeList, S: Shape>(a: Idx<G, S>) -> Node<A, D, G, Scalar>
where
    S::Size: NonZero,
{
    fn kernel<A: Element, D, S: Shape>(a: Slot<S>) -> Kernel<A, D, Scalar>
    where
        S::Size: NonZero,
    {
        let n = || A::from_i64(S::SIZE as i64);
        Kernel::<A, D, Scalar>::new(
            "mean",
            &[a.pos()],
            move |ctx, _| Tensor::new(ctx.get(a).sum() / n()),
            move |_, dctx, _| Tensor::new(dctx.get(a).sum() / n()),
            move |_, _, seed| Pullback::single(a, Tensor::fill(seed.as_slice()[0].clone() / n())),
        )
    }
    node_from_kernel!(kernel(Slot::<S>::new(a.pos)))
}
