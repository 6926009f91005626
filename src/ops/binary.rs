//! Entrywise ops on two operands of the same shape. Operands may alias (the same slot used
//! twice); the VJP then adds both contributions to that slot, as in Lean.
//!
//! **Mathematics.** For `y = a ∘ b` entrywise, `dy = ∂ₐ ⊙ da + ∂_b ⊙ db` with diagonal
//! Jacobians (`1` and `±1` for `±`, `b` and `a` for `⊙`), which are symmetric, so the VJP
//! scales the seed the same way: `ā = ∂ₐ ⊙ δ`, `b̄ = ∂_b ⊙ δ`. When `a` and `b` are one slot
//! `x`, the node is `x ↦ x ∘ x` and its VJP `ā + b̄` (the chain rule through `x ↦ (x, x)`).
//!
//! Each constructor builds its kernel in a function that does not mention the context `G`
//! (see the `kernel` module), so the code is compiled once per scalar and shape.

use crate::autograd::Node;
use crate::autograd::kernel::{Kernel, Pullback, Slot};
use crate::autograd::node::node_from_kernel;
use crate::scalar::Element;
use crate::shape::{SameShape, Shape};
use crate::shape_list::ShapeList;
use crate::tlist::Idx;

/// `y = xₐ + x_b`: JVP `dxₐ + dx_b`, VJP `a ↦ δ, b ↦ δ`.
pub fn add<A: Element, D, G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> Node<A, D, G, S> {
    fn kernel<A: Element, D, S: Shape>(a: Slot<S>, b: Slot<S>) -> Kernel<A, D, S> {
        Kernel::new(
            "add",
            &[a.pos(), b.pos()],
            move |ctx, _| ctx.get(a).add(&ctx.get(b)),
            move |_, dctx, _| dctx.get(a).add(&dctx.get(b)),
            move |_, _, seed| Pullback::single(a, seed.clone()).with(b, seed.clone()),
        )
    }
    node_from_kernel!(kernel::<A, D, S>(Slot::new(a.pos), Slot::new(b.pos)))
}

/// `y = xₐ − x_b`: JVP `dxₐ − dx_b`, VJP `a ↦ δ, b ↦ −δ`.
pub fn sub<A: Element, D, G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> Node<A, D, G, S> {
    fn kernel<A: Element, D, S: Shape>(a: Slot<S>, b: Slot<S>) -> Kernel<A, D, S> {
        Kernel::new(
            "sub",
            &[a.pos(), b.pos()],
            move |ctx, _| ctx.get(a).sub(&ctx.get(b)),
            move |_, dctx, _| dctx.get(a).sub(&dctx.get(b)),
            move |_, _, seed| Pullback::single(a, seed.clone()).with(b, seed.neg()),
        )
    }
    node_from_kernel!(kernel::<A, D, S>(Slot::new(a.pos), Slot::new(b.pos)))
}

/// `y = xₐ ⊙ x_b` (Hadamard product): JVP `dxₐ ⊙ x_b + xₐ ⊙ dx_b`,
/// VJP `a ↦ δ ⊙ x_b, b ↦ δ ⊙ xₐ`.
pub fn mul<A: Element, D, G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> Node<A, D, G, S> {
    fn kernel<A: Element, D, S: Shape>(a: Slot<S>, b: Slot<S>) -> Kernel<A, D, S> {
        Kernel::new(
            "mul",
            &[a.pos(), b.pos()],
            move |ctx, _| ctx.get(a).mul(&ctx.get(b)),
            move |ctx, dctx, _| {
                dctx.get(a)
                    .mul(&ctx.get(b))
                    .add(&ctx.get(a).mul(&dctx.get(b)))
            },
            move |ctx, _, seed| {
                Pullback::single(a, seed.mul(&ctx.get(b))).with(b, seed.mul(&ctx.get(a)))
            },
        )
    }
    node_from_kernel!(kernel::<A, D, S>(Slot::new(a.pos), Slot::new(b.pos)))
}
