//! Sparse cotangent contexts: what a node's VJP returns.
//!
//! **Mathematics.** A cotangent over `Γ` is an element of the dual of `Π_{S ∈ Γ} A^{size S}`,
//! identified with that space by the inner product
//! [`TList::dot_list`](crate::TList::dot_list). A VJP value `J(x)ᵀ δ` is zero on every slot the
//! node does not read, so a [`Cotangent`] stores a finite map `slot ↦ tensor` and stands for the
//! dense context that is zero elsewhere. Adding at a slot already present adds the tensors: the
//! chain rule for an operand read twice, since the VJP of the diagonal `x ↦ (x, x)` is
//! `(a, b) ↦ a + b`.

use core::fmt;
use core::marker::PhantomData;

use crate::autograd::engine::densify;
use crate::autograd::op::Contribs;
use crate::scalar::Element;
use crate::shape::Shape;
use crate::shape_list::{SameContext, ShapeList};
use crate::tensor::{Tensor, TensorBase, TensorView};
use crate::tlist::{Idx, TList};

/// A cotangent context over `G` given by the slots it touches: mathematically the dense
/// `TList A G` that is `fill 0` on every slot not listed (Lean's `vjp` result).
///
/// Node VJPs return this instead of a dense context so that reverse mode can accumulate in
/// place without materialising zeros. Adding twice at one slot combines the two tensors first
/// (`t + t'`, Lean's `set2Idx` for aliased operands), so the dense meaning is always
/// "zero, except these slot values".
///
/// ```
/// # use shapetape::prelude::*;
/// # use shapetape::autograd::Cotangent;
/// type G = HList![Scalar, Vector<2>];
/// let a = Idx::<G, Vector<2>>::at::<1>();
/// let mut c = Cotangent::<f64, G>::zero();
/// c.add_at(a, Tensor::new([1.0, 2.0]));
/// c.add_at(a, Tensor::new([0.5, 0.5])); // the same slot twice: combined
/// assert_eq!(c.to_dense(), tlist![Tensor::new(0.0), Tensor::new([1.5, 2.5])]);
/// ```
pub struct Cotangent<A, G> {
    entries: Contribs<A>,
    ctx: PhantomData<G>,
}

impl<A, G> Cotangent<A, G> {
    /// The zero cotangent (no slot touched).
    #[must_use]
    pub fn zero() -> Self {
        Cotangent {
            entries: Contribs::new(),
            ctx: PhantomData,
        }
    }

    /// A cotangent from distinct `(slot, value)` pairs (crate-internal).
    pub(crate) fn from_entries(entries: Contribs<A>) -> Self {
        Cotangent {
            entries,
            ctx: PhantomData,
        }
    }

    /// The touched slots and their values, in insertion order.
    pub(crate) fn into_entries(self) -> Contribs<A> {
        self.entries
    }

    /// Number of touched slots.
    pub fn touched(&self) -> usize {
        self.entries.len()
    }

    /// The value at `idx`, or `None` if the slot is (exactly) zero.
    pub fn get<G2: SameContext<G>, S: Shape>(
        &self,
        idx: Idx<G2, S>,
    ) -> Option<TensorView<'_, A, S>> {
        self.entries
            .iter()
            .find(|(p, _)| *p == idx.pos())
            .map(|(_, t)| TensorBase::from_data_unchecked(crate::tensor::Data::as_slice(t)))
    }
}

impl<A: Element, G> Cotangent<A, G> {
    /// Adds `value` at `idx`: sets the slot if untouched, otherwise combines `old + value`.
    pub fn add_at<G2: SameContext<G>, S: Shape>(&mut self, idx: Idx<G2, S>, value: Tensor<A, S>) {
        let value = value.into_data();
        match self.entries.iter_mut().find(|(p, _)| *p == idx.pos()) {
            Some((_, old)) => old.add_assign(&value),
            None => self.entries.push((idx.pos(), value)),
        }
    }

    /// [`Cotangent::add_at`] in builder style.
    pub fn with<G2: SameContext<G>, S: Shape>(
        mut self,
        idx: Idx<G2, S>,
        value: Tensor<A, S>,
    ) -> Self {
        self.add_at(idx, value);
        self
    }

    /// The cotangent `value` at `idx` and zero elsewhere (Lean's `single`).
    #[must_use]
    pub fn single<G2: SameContext<G>, S: Shape>(idx: Idx<G2, S>, value: Tensor<A, S>) -> Self {
        Self::zero().with(idx, value)
    }
}

impl<A: Element, G: ShapeList> Cotangent<A, G> {
    /// The dense context this cotangent stands for (Lean's `vjp` result).
    pub fn to_dense(&self) -> TList<A, G> {
        TList::from_items(densify(
            G::layout().into_iter().map(|l| l.size),
            self.entries.clone(),
        ))
    }

    /// Every slot of a dense context, as a cotangent.
    pub fn from_dense(dense: TList<A, G>) -> Self {
        Cotangent {
            entries: dense.into_items().into_iter().enumerate().collect(),
            ctx: PhantomData,
        }
    }

    /// The same cotangent without the slots that are exactly `+0` everywhere (see
    /// [`Element::is_positive_zero`]): the dense meaning is unchanged, the storage sparser.
    pub fn without_zero_slots(mut self) -> Self {
        self.entries
            .retain(|(_, t)| !t.0.iter().all(Element::is_positive_zero));
        self
    }
}

impl<A: Element, G: ShapeList> From<TList<A, G>> for Cotangent<A, G> {
    fn from(dense: TList<A, G>) -> Self {
        Cotangent::from_dense(dense)
    }
}

impl<A: Clone, G> Clone for Cotangent<A, G> {
    fn clone(&self) -> Self {
        Cotangent {
            entries: self.entries.clone(),
            ctx: PhantomData,
        }
    }
}

impl<A: fmt::Debug, G> fmt::Debug for Cotangent<A, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(p, t)| (p, t.0.as_slice())))
            .finish()
    }
}
