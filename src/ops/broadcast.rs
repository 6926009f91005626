//! Binary ops with broadcasting (NumPy's rule, as `a + b` in PyTorch and JAX): `a` of shape
//! `S` and `b` of any shape `T` that broadcasts to `S` (trailing axes aligned, each of length 1
//! or equal): a bias `Vector<C>` over the rows of a `Matrix<R, C>`, a per-row scale
//! `Matrix<R, 1>`, or a `Scalar` that is a graph value.
//!
//! **Mathematics.** With `B` the broadcast (copy) map from `T` to `S`, `y = a ∘ B b`; its
//! transpose `Bᵀ` sums over the broadcast axes, so the VJPs are `a ↦ ∂ₐ ⊙ δ` and
//! `b ↦ Bᵀ(∂_b ⊙ δ)` (for `+`: `δ` and `Bᵀ δ`; for `⊙`: `δ ⊙ B b` and `Bᵀ(δ ⊙ a)`; for `/`:
//! `δ / B b` and `−Bᵀ((δ / B b) ⊙ (a / B b))`). Certified graphs bound them by the interval
//! enclosure of this code.

use core::marker::PhantomData;

use smallvec::{SmallVec, smallvec};

use crate::autograd::op::{Eval, Op, OpNode, Operands, Pullback, Slot, op_node};
use crate::ops::TotalDiv;
use crate::ops::shape_ops::{Broadcast, gather, scatter_add};
use crate::shape::Shape;
use crate::shape_arith::BroadcastTo;
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

/// Which broadcasting binary op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BroadcastKind {
    /// `a + B b`.
    Add,
    /// `a − B b`.
    Sub,
    /// `a ⊙ B b`.
    Mul,
    /// `a / B b`.
    Div,
}

/// The op `y = a ∘ B b` with `b: T` broadcast to `a`'s shape `S` ([`add_broadcast`],
/// [`sub_broadcast`], [`mul_broadcast`], [`div_broadcast`]).
#[derive(Clone, Copy, Debug)]
pub struct BroadcastBinary<S, T> {
    a: Slot<S>,
    b: Slot<T>,
    kind: BroadcastKind,
    shape: PhantomData<fn() -> S>,
}

impl<S: Shape, T: BroadcastTo<S>> Op for BroadcastBinary<S, T> {
    type Out = S;
    fn name(&self) -> &str {
        match self.kind {
            BroadcastKind::Add => "add_broadcast",
            BroadcastKind::Sub => "sub_broadcast",
            BroadcastKind::Mul => "mul_broadcast",
            BroadcastKind::Div => "div_broadcast",
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

impl<A: TotalDiv, D, S: Shape, T: BroadcastTo<S>> Eval<A, D> for BroadcastBinary<S, T> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let bb = gather(x.get(self.b).as_slice(), &Broadcast::<T, S>::map());
        let a = x.get(self.a);
        Tensor::from_vec_unchecked(
            a.iter()
                .zip(bb)
                .map(|(a, b)| {
                    let a = a.clone();
                    match self.kind {
                        BroadcastKind::Add => a + b,
                        BroadcastKind::Sub => a - b,
                        BroadcastKind::Mul => a * b,
                        BroadcastKind::Div => a.total_div(b),
                    }
                })
                .collect(),
        )
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let map = Broadcast::<T, S>::map();
        let bb = gather(x.get(self.b).as_slice(), &map);
        let dbb = gather(dx.get(self.b).as_slice(), &map);
        let (a, da) = (x.get(self.a), dx.get(self.a));
        let out = a
            .iter()
            .zip(da.iter())
            .zip(bb.into_iter().zip(dbb))
            .map(|((a, da), (b, db))| {
                let (a, da) = (a.clone(), da.clone());
                match self.kind {
                    BroadcastKind::Add => da + db,
                    BroadcastKind::Sub => da - db,
                    BroadcastKind::Mul => da * b.clone() + a * db,
                    // (da − (a / b) db) / b
                    BroadcastKind::Div => (da - a.total_div(b.clone()) * db).total_div(b),
                }
            })
            .collect();
        Tensor::from_vec_unchecked(out)
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, S>) -> Pullback<A> {
        let map = Broadcast::<T, S>::map();
        let bb = gather(x.get(self.b).as_slice(), &map);
        let (a, d) = (x.get(self.a), seed.as_slice());
        let (ga, gb): (Vec<A>, Vec<A>) = a
            .iter()
            .zip(d)
            .zip(bb)
            .map(|((a, d), b)| {
                let (a, d) = (a.clone(), d.clone());
                match self.kind {
                    BroadcastKind::Add => (d.clone(), d),
                    BroadcastKind::Sub => (d.clone(), -d),
                    BroadcastKind::Mul => (d.clone() * b, d * a),
                    BroadcastKind::Div => {
                        let q = d.total_div(b.clone());
                        (q.clone(), -(q * a.total_div(b)))
                    }
                }
            })
            .unzip();
        Pullback::none()
            .with_if(x, self.a, || Tensor::from_vec_unchecked(ga))
            .with_if(x, self.b, || {
                Tensor::from_vec_unchecked(scatter_add(&gb, &map, T::SIZE))
            })
    }
}

macro_rules! broadcast_op {
    ($(#[$doc:meta])* $name:ident, $kind:ident) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name<G: ShapeList, S: Shape, T: BroadcastTo<S>>(
            a: Idx<G, S>,
            b: Idx<G, T>,
        ) -> OpNode<G, BroadcastBinary<S, T>> {
            op_node!(BroadcastBinary {
                a: Slot::new(a.pos),
                b: Slot::new(b.pos),
                kind: BroadcastKind::$kind,
                shape: PhantomData,
            })
        }
    };
}

broadcast_op!(
    /// `a + b` with `b` broadcast to `a`'s shape: a bias `Vector<C>` added to every row of a
    /// `Matrix<R, C>`, or a `Scalar` graph value added to every entry.
    add_broadcast, Add
);
broadcast_op!(
    /// `a − b` with `b` broadcast to `a`'s shape.
    sub_broadcast, Sub
);
broadcast_op!(
    /// `a ⊙ b` with `b` broadcast to `a`'s shape: a per-row scale `Matrix<R, 1>`, a per-column
    /// scale `Vector<C>`, or a tensor times a `Scalar` that is a graph value.
    mul_broadcast, Mul
);
broadcast_op!(
    /// `a / b` with `b` broadcast to `a`'s shape (IEEE at floats; `x / 0 = 0` over ℚ, see
    /// [`TotalDiv`]).
    div_broadcast, Div
);
