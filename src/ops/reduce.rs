//! Reductions to a scalar.
//!
//! **Mathematics.** `sum : A^n → A`, `x ↦ Σᵢ xᵢ`, is linear with the Jacobian row `𝟙ᵀ`: JVP
//! `Σᵢ dxᵢ`, VJP `δ 𝟙` (every entry `δ`). `mean = sum / n` scales both by `1/n`.
//! Lean: `Proofs/Autograd/Tape/Algebra/Nodes.lean` for the node definitions.
//!
//! Certified graphs bound these ops by the interval enclosure of this code (no closed form).

use smallvec::{SmallVec, smallvec};
use typenum::NonZero;

use crate::autograd::op::{Eval, Op, OpNode, Operands, Pullback, Slot, op_node};
use crate::scalar::Element;
use crate::shape::{Scalar, Shape};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

/// The op `y = Σᵢ xᵢ` over every entry ([`sum`]).
#[derive(Clone, Copy, Debug)]
pub struct Sum<S> {
    a: Slot<S>,
}

impl<S: Shape> Op for Sum<S> {
    type Out = Scalar;
    fn name(&self) -> &str {
        "sum"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        smallvec![self.a.pos()]
    }
}

impl<A: Element, D, S: Shape> Eval<A, D> for Sum<S> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Scalar> {
        Tensor::new(x.get(self.a).sum())
    }
    fn jvp(&self, _: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Scalar> {
        Tensor::new(dx.get(self.a).sum())
    }
    fn vjp(&self, _: Operands<'_, A>, _: &D, seed: &Tensor<A, Scalar>) -> Pullback<A> {
        Pullback::single(self.a, Tensor::fill(seed.as_slice()[0].clone()))
    }
}

/// `y = Σᵢ xᵢ` (Lean's `sumSpec`, a left fold from 0): JVP `Σ dx`, VJP `fill δ`.
#[must_use]
pub fn sum<G: ShapeList, S: Shape>(a: Idx<G, S>) -> OpNode<G, Sum<S>> {
    op_node!(Sum {
        a: Slot::new(a.pos)
    })
}

/// The op `y = (Σᵢ xᵢ) / n` with `n = S::SIZE` (the mean of the entries, [`mean`]).
#[derive(Clone, Copy, Debug)]
pub struct Mean<S> {
    a: Slot<S>,
}

impl<S: Shape> Op for Mean<S> {
    type Out = Scalar;
    fn name(&self) -> &str {
        "mean"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        smallvec![self.a.pos()]
    }
}

impl<A: Element, D, S: Shape> Eval<A, D> for Mean<S>
where
    S::Size: NonZero,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Scalar> {
        Tensor::new(x.get(self.a).sum() / A::from_i64(S::SIZE as i64))
    }
    fn jvp(&self, _: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Scalar> {
        Tensor::new(dx.get(self.a).sum() / A::from_i64(S::SIZE as i64))
    }
    fn vjp(&self, _: Operands<'_, A>, _: &D, seed: &Tensor<A, Scalar>) -> Pullback<A> {
        Pullback::single(
            self.a,
            Tensor::fill(seed.as_slice()[0].clone() / A::from_i64(S::SIZE as i64)),
        )
    }
}

/// `y = (Σᵢ xᵢ) / n` with `n = S::SIZE`; only for shapes with at least one entry (checked by
/// the compiler). JVP `(Σ dx) / n`, VJP `fill (δ / n)`.
#[must_use]
pub fn mean<G: ShapeList, S: Shape>(a: Idx<G, S>) -> OpNode<G, Mean<S>>
where
    S::Size: NonZero,
{
    op_node!(Mean {
        a: Slot::new(a.pos)
    })
}
