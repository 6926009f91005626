//! Entrywise ops on two operands of the same shape. Operands may alias (the same slot used
//! twice); the VJP then adds both contributions to that slot, as in Lean.
//!
//! **Mathematics.** For `y = a ∘ b` entrywise, `dy = ∂ₐ ⊙ da + ∂_b ⊙ db` with diagonal
//! Jacobians (`1` and `±1` for `±`, `b` and `a` for `⊙`), which are symmetric, so the VJP
//! scales the seed the same way: `ā = ∂ₐ ⊙ δ`, `b̄ = ∂_b ⊙ δ`. When `a` and `b` are one slot
//! `x`, the node is `x ↦ x ∘ x` and its VJP `ā + b̄` (the chain rule through `x ↦ (x, x)`).
//! Lean: `Proofs/Autograd/Tape/Algebra/Nodes.lean` (`addNode`, `subNode`, `mulNode`).

use smallvec::{SmallVec, smallvec};

use crate::autograd::op::{Eval, Op, OpNode, Operands, Pullback, Slot, op_node};
use crate::scalar::Element;
use crate::shape::{SameShape, Shape};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

/// Which entrywise binary op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryKind {
    /// `a + b`.
    Add,
    /// `a − b`.
    Sub,
    /// `a ⊙ b`.
    Mul,
}

/// The op `y = a ∘ b` entrywise ([`add`], [`sub`], [`mul`]).
#[derive(Clone, Copy, Debug)]
pub struct Binary<S> {
    kind: BinaryKind,
    a: Slot<S>,
    b: Slot<S>,
}

impl<S: Shape> Op for Binary<S> {
    type Out = S;
    fn name(&self) -> &str {
        match self.kind {
            BinaryKind::Add => "add",
            BinaryKind::Sub => "sub",
            BinaryKind::Mul => "mul",
        }
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        if self.a.pos() == self.b.pos() {
            smallvec![self.a.pos()]
        } else {
            smallvec![self.a.pos(), self.b.pos()]
        }
    }
}

impl<A: Element, D, S: Shape> Eval<A, D> for Binary<S> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let (a, b) = (x.get(self.a), x.get(self.b));
        match self.kind {
            BinaryKind::Add => a.add(&b),
            BinaryKind::Sub => a.sub(&b),
            BinaryKind::Mul => a.mul(&b),
        }
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let (da, db) = (dx.get(self.a), dx.get(self.b));
        match self.kind {
            BinaryKind::Add => da.add(&db),
            BinaryKind::Sub => da.sub(&db),
            BinaryKind::Mul => da.mul(&x.get(self.b)).add(&x.get(self.a).mul(&db)),
        }
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, S>) -> Pullback<A> {
        let (a, b) = (self.a, self.b);
        match self.kind {
            BinaryKind::Add => Pullback::single(a, seed.clone()).with(b, seed.clone()),
            BinaryKind::Sub => Pullback::single(a, seed.clone()).with(b, seed.neg()),
            BinaryKind::Mul => {
                Pullback::single(a, seed.mul(&x.get(b))).with(b, seed.mul(&x.get(a)))
            }
        }
    }
}

/// `y = xₐ + x_b`: JVP `dxₐ + dx_b`, VJP `a ↦ δ, b ↦ δ`.
#[must_use]
pub fn add<G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> OpNode<G, Binary<S>> {
    op_node!(Binary {
        kind: BinaryKind::Add,
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}

/// `y = xₐ − x_b`: JVP `dxₐ − dx_b`, VJP `a ↦ δ, b ↦ −δ`.
#[must_use]
pub fn sub<G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> OpNode<G, Binary<S>> {
    op_node!(Binary {
        kind: BinaryKind::Sub,
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}

/// `y = xₐ ⊙ x_b` (Hadamard product): JVP `dxₐ ⊙ x_b + xₐ ⊙ dx_b`,
/// VJP `a ↦ δ ⊙ x_b, b ↦ δ ⊙ xₐ`.
#[must_use]
pub fn mul<G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> OpNode<G, Binary<S>> {
    op_node!(Binary {
        kind: BinaryKind::Mul,
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}
