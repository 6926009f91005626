//! Heterogeneous tensor contexts `TList<A, Γ>`.
//!
//! A `TList<A, Γ>` is TorchLean's `TList α Γ`: one tensor per shape of the context `Γ` (a frunk
//! HList of shapes), in order. The shapes are only in the type; at run time a context is a flat
//! vector of entry buffers, so the structural casts of the Lean development
//! (`(Γ ++ ss) ++ [τ] = Γ ++ (ss ++ [τ])`, `Γ ++ [] = Γ`) are moves that never copy tensor
//! data, and `snoc`/`unsnoc`/`append`/`split` are O(1) or O(moved entries).
//!
//! Entries are read through a typed index [`Idx<Γ, S>`] — Lean's
//! `Idx Γ s = {i : Fin Γ.length, h : Γ.get i = s}` — whose constructor checks at compile time
//! that position `i` exists and holds shape `S`.
//!
//! **Mathematics.** `TList<A, Γ>` is the product `Π_{S ∈ Γ} A^{size S}`: a vector space (over ℚ
//! or ℝ) under the slotwise `add`, `sub`, `scale` and `zero`, with the inner product
//! `⟨x, y⟩ = Σⱼ dot(xⱼ, yⱼ)` ([`TList::dot_list`]) in which the adjointness laws of the
//! autograd layer are stated. `snoc`/`unsnoc` and `append`/`split` are the isomorphisms
//! `TList Γ × Tensor τ ≅ TList (Γ ++ [τ])` and `TList Γ × TList R ≅ TList (Γ ++ R)`.
//!
//! ```
//! use shapetape::prelude::*;
//! type G = HList![Scalar, Vector<2>];
//! let x: TList<f64, G> = tlist![Tensor::new(3.0), Tensor::new([1.0, 2.0])];
//! let v = Idx::<G, Vector<2>>::at::<1>();
//! assert_eq!(x.get(v).as_slice(), &[1.0, 2.0]);
//! assert_eq!(x.dot_list(&x), 9.0 + (1.0 + 4.0));
//! let (init, last) = x.unsnoc();
//! assert_eq!(last.sum(), 3.0);
//! assert_eq!(init.len(), 1);
//! ```

use core::fmt;
use core::marker::PhantomData;

use frunk::{HCons, HNil};
use smallvec::SmallVec;
use typenum::{Const, ToUInt, U};

use crate::error::ContextError;
use crate::scalar::Element;
use crate::shape::{AcceptsShape, Shape};
use crate::shape_list::{
    At, CastFrom, Cat, InRange, Lookup, NonEmpty, SameContext, ShapeAt, ShapeList, Snoc,
};
use crate::tensor::{Data, Owned, Tensor, TensorBase, TensorView, TensorViewMut, nested_dot};

/// A typed position in the context `G` holding a tensor of shape `S` (Lean's `Idx Γ s`).
///
/// Built by [`Idx::at`], which proves at compile time that the position exists and has shape
/// `S`; afterwards reading through it cannot fail.
pub struct Idx<G, S> {
    pub(crate) pos: usize,
    // Plain `PhantomData<G>` (not `fn() -> (G, S)`): every per-node type of a typed graph that
    // names the node's context holds this same marker, so the compiler describes each context
    // once (debug info of long graphs grows with the number of distinct types naming one).
    pub(crate) ctx: PhantomData<G>,
    pub(crate) shape: PhantomData<S>,
}

impl<G, S> Clone for Idx<G, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<G, S> Copy for Idx<G, S> {}
impl<G, S> PartialEq for Idx<G, S> {
    fn eq(&self, other: &Self) -> bool {
        self.pos == other.pos
    }
}
impl<G, S> Eq for Idx<G, S> {}
impl<G, S: Shape> fmt::Debug for Idx<G, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Idx({} : {:?})", self.pos, S::dims().as_slice())
    }
}

impl<G: ShapeList, S: Shape> Idx<G, S> {
    /// The index of position `I` (from 0) of `G`; compiles only if that position exists and
    /// holds shape `S`.
    ///
    /// ```
    /// # use shapetape::prelude::*;
    /// type G = HList![Scalar, Matrix<2, 3>];
    /// let m = Idx::<G, Matrix<2, 3>>::at::<1>();
    /// assert_eq!(m.pos(), 1);
    /// let s: Idx<G, _> = Idx::at::<0>(); // the shape can be inferred
    /// assert_eq!(s.pos(), 0);
    /// ```
    #[must_use]
    pub fn at<const I: usize>() -> Self
    where
        Const<I>: ToUInt,
        G: Lookup<U<I>>,
        At<G, U<I>>: InRange<G, I> + ShapeAt<S, I>,
    {
        Idx {
            pos: I,
            ctx: PhantomData,
            shape: PhantomData,
        }
    }

    /// The same position seen in the larger context `G ++ R` (Lean's `Idx.weaken`).
    pub fn weaken<R: ShapeList>(self) -> Idx<Cat<G, R>, S> {
        Idx {
            pos: self.pos,
            ctx: PhantomData,
            shape: PhantomData,
        }
    }

    /// The same index at a shape the compiler knows to be equal to `S` (a no-op that lets
    /// generic code use an operand checked by [`SameShape`](crate::SameShape)).
    pub fn as_shape<S3: Shape>(self) -> Idx<G, S3>
    where
        S: crate::shape::SameShape<S3>,
    {
        Idx {
            pos: self.pos,
            ctx: PhantomData,
            shape: PhantomData,
        }
    }

    /// The position as a number (0-based).
    pub fn pos(self) -> usize {
        self.pos
    }

    /// The index of the last slot of `G ++ [S]` (Lean's `Idx.last`).
    pub fn last() -> Idx<Snoc<G, S>, S> {
        Idx {
            pos: G::LEN,
            ctx: PhantomData,
            shape: PhantomData,
        }
    }

    /// The index of position `pos`, checked at run time: `None` unless `pos < G::LEN` and the
    /// slot's dimensions are those of `S` (dimensions determine a shape type uniquely, so this
    /// is the same guarantee as [`Idx::at`], for positions chosen at run time).
    ///
    /// ```
    /// # use shapetape::prelude::*;
    /// type G = HList![Scalar, Vector<2>];
    /// assert!(Idx::<G, Vector<2>>::try_at(1).is_some());
    /// assert!(Idx::<G, Vector<2>>::try_at(0).is_none()); // slot 0 is a scalar
    /// assert!(Idx::<G, Vector<2>>::try_at(2).is_none()); // past the end
    /// ```
    pub fn try_at(pos: usize) -> Option<Self> {
        let layout = G::layout();
        let slot = layout.get(pos)?;
        (slot.dims.as_slice() == S::dims().as_slice()).then_some(Idx {
            pos,
            ctx: PhantomData,
            shape: PhantomData,
        })
    }

    /// An index trusted to be valid (crate-internal: callers establish the invariant).
    pub(crate) fn from_pos_unchecked(pos: usize) -> Self {
        Idx {
            pos,
            ctx: PhantomData,
            shape: PhantomData,
        }
    }
}

/// A context: one tensor of each shape of `G`, in order (Lean's `TList α Γ`).
pub struct TList<A, G> {
    items: Vec<Owned<A>>,
    ctx: PhantomData<G>,
}

/// A frunk HList of tensors that fits the context `G` entry by entry.
///
/// Implemented for every `T` such that `G:` [`HoldsTensors<A, T>`]; that trait, with the
/// known context as `Self`, is the bound of [`TList::from_tensors`], so that a mismatch with
/// an annotated context is reported in words instead of as a bare type mismatch.
#[diagnostic::on_unimplemented(
    message = "the tensors `{Self}` do not fit the context `{G}`",
    label = "expected one tensor per shape of `{G}`, in order",
    note = "a TList over Γ holds exactly one `Tensor<A, S>` for each shape S of Γ"
)]
pub trait TensorsFit<A, G> {
    /// Moves the tensors' buffers, in order, into `out`.
    fn push_items(self, out: &mut Vec<Owned<A>>);
}
impl<A, G: HoldsTensors<A, T>, T> TensorsFit<A, G> for T {
    fn push_items(self, out: &mut Vec<Owned<A>>) {
        G::push_tensors(self, out);
    }
}

/// The context `Self` has one slot for each tensor of the frunk HList `T`, in order, of the
/// tensor's shape: [`TensorsFit`] with the context as `Self`.
///
/// The context is the known side (the tensors' shapes are usually inferred from it), so the
/// tensors can be checked against it slot by slot: a wrong shape, a missing tensor and a
/// left-over tensor are each reported in words.
#[diagnostic::on_unimplemented(
    message = "the tensors `{T}` do not fit the context `{Self}`: each entry must be a `Tensor<{A}, S>`",
    label = "expected one `Tensor<{A}, S>` per shape S of `{Self}`, in order",
    note = "a TList over Γ holds exactly one `Tensor<A, S>` for each shape S of Γ"
)]
pub trait HoldsTensors<A, T>: ShapeList {
    /// Moves the tensors' buffers, in order, into `out`.
    fn push_tensors(tensors: T, out: &mut Vec<Owned<A>>);
}
impl<A> HoldsTensors<A, HNil> for HNil {
    fn push_tensors(_: HNil, _: &mut Vec<Owned<A>>) {}
}
impl<A, S: AcceptsShape<S2>, S2, GT, T> HoldsTensors<A, HCons<Tensor<A, S2>, T>> for HCons<S, GT>
where
    GT: HoldsTensors<A, T>,
{
    fn push_tensors(tensors: HCons<Tensor<A, S2>, T>, out: &mut Vec<Owned<A>>) {
        out.push(tensors.head.into_data());
        GT::push_tensors(tensors.tail, out);
    }
}
// Too few tensors: reported by `MissingTensor` on the first shape left without one.
impl<A, S: Shape + MissingTensor, GT: ShapeList> HoldsTensors<A, HNil> for HCons<S, GT> {
    fn push_tensors(_: HNil, _: &mut Vec<Owned<A>>) {
        unreachable!("`MissingTensor` has no implementations")
    }
}
// Too many tensors: reported by `ExtraTensors` on the tensors left without a slot.
impl<A, S2, T> HoldsTensors<A, HCons<Tensor<A, S2>, T>> for HNil
where
    HCons<Tensor<A, S2>, T>: ExtraTensors,
{
    fn push_tensors(_: HCons<Tensor<A, S2>, T>, _: &mut Vec<Owned<A>>) {
        unreachable!("`ExtraTensors` has no implementations")
    }
}

/// Never implemented: the obligation that reports a context slot of shape `Self` for which
/// no tensor was given.
#[diagnostic::on_unimplemented(
    message = "too few tensors for the context: no tensor for its slot of shape `{Self}`",
    label = "the context has more shapes than tensors were given",
    note = "a TList over Γ holds exactly one `Tensor<A, S>` for each shape S of Γ"
)]
pub trait MissingTensor {}

/// Never implemented: the obligation that reports tensors `Self` left over after every slot
/// of the context has been filled.
#[diagnostic::on_unimplemented(
    message = "too many tensors for the context: no slot is left for the tensors `{Self}`",
    label = "more tensors were given than the context has shapes",
    note = "a TList over Γ holds exactly one `Tensor<A, S>` for each shape S of Γ"
)]
pub trait ExtraTensors {}

/// Contexts that can be taken apart into a frunk HList of typed tensors.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a context of tensor shapes that can be taken apart",
    label = "expected a context such as `HList![Scalar, Vector<3>]`",
    note = "`into_tensors` works on every concrete context; in generic code add the bound `G: IntoTensors`"
)]
pub trait IntoTensors: ShapeList {
    /// `HList![Tensor<A, S1>, Tensor<A, S2>, …]` for `HList![S1, S2, …]`.
    type Tensors<A>;
    /// Builds the HList from the buffers, in order.
    fn from_items<A>(items: &mut std::vec::IntoIter<Owned<A>>) -> Self::Tensors<A>;
}
impl IntoTensors for HNil {
    type Tensors<A> = HNil;
    fn from_items<A>(_: &mut std::vec::IntoIter<Owned<A>>) -> HNil {
        HNil
    }
}
impl<H: Shape, T: IntoTensors> IntoTensors for HCons<H, T> {
    type Tensors<A> = HCons<Tensor<A, H>, T::Tensors<A>>;
    fn from_items<A>(items: &mut std::vec::IntoIter<Owned<A>>) -> Self::Tensors<A> {
        // The iterator has exactly one buffer per slot by the TList invariant.
        let head = items.next().map(TensorBase::from_data_unchecked);
        HCons {
            head: head.expect("TList invariant: one buffer per slot"),
            tail: T::from_items(items),
        }
    }
}

/// Builds a [`TList`] from tensors: `tlist![a, b, c]`.
///
/// The context comes from the expected type (`let x: TList<f32, G> = tlist![..];`, a return
/// type, the other side of `==`), not from the tensors: the tensors' shapes are inferred from
/// it, and a wrong shape, a missing tensor or a left-over tensor is reported in words.
#[macro_export]
macro_rules! tlist {
    ($($t:expr),* $(,)?) => {
        $crate::TList::from_tensors($crate::frunk::hlist![$($t),*])
    };
}

impl<A> TList<A, HNil> {
    /// The empty context (Lean's `TList.nil`).
    #[must_use]
    pub fn new() -> Self {
        TList {
            items: Vec::new(),
            ctx: PhantomData,
        }
    }
}

impl<A> Default for TList<A, HNil> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A, G> TList<A, G> {
    #[inline]
    pub(crate) fn from_items(items: Vec<Owned<A>>) -> Self {
        TList {
            items,
            ctx: PhantomData,
        }
    }
    #[inline]
    pub(crate) fn into_items(self) -> Vec<Owned<A>> {
        self.items
    }
    #[inline]
    pub(crate) fn items(&self) -> &[Owned<A>] {
        &self.items
    }
    /// The entries of every slot, in order, each as a flat row-major slice.
    pub fn slot_slices(&self) -> impl ExactSizeIterator<Item = &[A]> + '_ {
        self.items.iter().map(|t| &t.0[..])
    }

    /// Runs `f` on the flat buffer `vals` viewed as a `TList<A, G>` (moved in and back out:
    /// three words, no copy). How graphs call typed closures on their slot buffers.
    #[inline]
    pub(crate) fn lend<O>(vals: &mut Vec<Owned<A>>, f: impl FnOnce(&Self) -> O) -> O {
        let ctx = Self::from_items(core::mem::take(vals));
        let out = f(&ctx);
        *vals = ctx.into_items();
        out
    }

    #[inline]
    pub(crate) fn retag<H>(self) -> TList<A, H> {
        TList {
            items: self.items,
            ctx: PhantomData,
        }
    }
}

impl<A, G: ShapeList> TList<A, G> {
    /// Builds a context from a frunk HList of tensors whose shapes are those of `G`.
    ///
    /// `G` must be known from the surrounding code (it is not inferred from the tensors); the
    /// tensors are then checked against it slot by slot ([`HoldsTensors`]).
    pub fn from_tensors<T>(tensors: T) -> Self
    where
        G: HoldsTensors<A, T>,
    {
        let mut items = Vec::with_capacity(G::LEN);
        G::push_tensors(tensors, &mut items);
        Self::from_items(items)
    }

    /// Takes the context apart into a frunk HList of typed tensors (destructure it with
    /// `hlist_pat!`).
    pub fn into_tensors(self) -> G::Tensors<A>
    where
        G: IntoTensors,
    {
        G::from_items(&mut self.items.into_iter())
    }

    /// Builds a context from all entries of all slots concatenated (slot by slot, each in
    /// row-major order); an error if the total length is wrong.
    pub fn try_from_flat(values: Vec<A>) -> Result<Self, ContextError> {
        let layout = G::layout();
        let total: usize = layout.iter().map(|l| l.size).sum();
        if values.len() != total {
            return Err(ContextError {
                slots: layout.into_iter().map(|l| l.dims).collect(),
                expected: total,
                actual: values.len(),
            });
        }
        let mut it = values.into_iter();
        let items = layout
            .iter()
            .map(|l| Owned(it.by_ref().take(l.size).collect()))
            .collect();
        Ok(Self::from_items(items))
    }

    /// Number of entries, `Γ.length`.
    pub fn len(&self) -> usize {
        G::LEN
    }

    /// Whether the context has no entries.
    pub fn is_empty(&self) -> bool {
        G::LEN == 0
    }

    /// The tensor at `idx` (Lean's `getIdx`).
    pub fn get<G2: SameContext<G>, S: Shape>(&self, idx: Idx<G2, S>) -> TensorView<'_, A, S> {
        TensorBase::from_data_unchecked(self.items[idx.pos].as_slice())
    }

    /// The tensor at `idx`, mutably.
    pub fn get_mut<G2: SameContext<G>, S: Shape>(
        &mut self,
        idx: Idx<G2, S>,
    ) -> TensorViewMut<'_, A, S> {
        TensorBase::from_data_unchecked(&mut self.items[idx.pos].0[..])
    }

    /// Replaces the tensor at `idx`, returning the old one.
    pub fn replace<G2: SameContext<G>, S: Shape>(
        &mut self,
        idx: Idx<G2, S>,
        value: Tensor<A, S>,
    ) -> Tensor<A, S> {
        let old = core::mem::replace(&mut self.items[idx.pos], value.into_data());
        TensorBase::from_data_unchecked(old)
    }

    /// Appends a tensor at the end: `TList α (Γ ++ [τ])` (Lean's `snoc`).
    #[must_use]
    pub fn snoc<S: Shape>(mut self, last: Tensor<A, S>) -> TList<A, Snoc<G, S>> {
        self.items.push(last.into_data());
        self.retag()
    }

    /// Splits off the last entry (Lean's `unsnoc`); compiles only for a non-empty context.
    ///
    /// The result is `(TList<A, Init<G>>, Tensor<A, Last<G>>)` (see
    /// [`Init`](crate::shape_list::Init), [`Last`](crate::shape_list::Last)); `I` and `L` name
    /// those two types so that an empty context is reported by the [`NonEmpty`] bound in
    /// words.
    pub fn unsnoc<I, L>(mut self) -> (TList<A, I>, Tensor<A, L>)
    where
        G: NonEmpty<Init = I, Last = L>,
    {
        let last = self.items.pop().expect("non-empty by the NonEmpty bound");
        (self.retag(), TensorBase::from_data_unchecked(last))
    }

    /// Lean's `unsnoc` for a context written `G ++ [S]` with `G` generic: the inverse of
    /// [`TList::snoc`] at the type level (`unsnoc (snoc xs t) = (xs, t)`). The context of `xs`
    /// must be `Snoc<G, S>` ([`SameContext`]).
    pub fn unsnoc_from<S: Shape>(
        xs: TList<A, impl SameContext<Snoc<G, S>>>,
    ) -> (Self, Tensor<A, S>) {
        let mut items = xs.items;
        let last = items
            .pop()
            .expect("a Snoc<G, S> context has at least one entry");
        (
            Self::from_items(items),
            TensorBase::from_data_unchecked(last),
        )
    }

    /// Concatenates two contexts: `TList α (Γ ++ R)`.
    pub fn append<R: ShapeList>(mut self, rest: TList<A, R>) -> TList<A, Cat<G, R>> {
        self.items.extend(rest.items);
        self.retag()
    }

    /// Splits a context over `G ++ R` at the boundary (inverse of [`TList::append`]). The
    /// context of `xs` must be `Cat<G, R>` ([`SameContext`]).
    pub fn split<R: ShapeList>(xs: TList<A, impl SameContext<Cat<G, R>>>) -> (Self, TList<A, R>) {
        let mut items = xs.items;
        let rest = items.split_off(G::LEN);
        (Self::from_items(items), TList::from_items(rest))
    }

    /// Transport along `(G ++ Ss) ++ T = G ++ (Ss ++ T)` (a move; no data is copied).
    pub fn assoc<Ss: ShapeList, T: ShapeList>(
        xs: TList<A, impl SameContext<Cat<Cat<G, Ss>, T>>>,
    ) -> TList<A, Cat<G, Cat<Ss, T>>> {
        xs.retag()
    }

    /// Transport along `G ++ (Ss ++ T) = (G ++ Ss) ++ T` (inverse of [`TList::assoc`]).
    pub fn unassoc<Ss: ShapeList, T: ShapeList>(
        xs: TList<A, impl SameContext<Cat<G, Cat<Ss, T>>>>,
    ) -> TList<A, Cat<Cat<G, Ss>, T>> {
        xs.retag()
    }

    /// Transport along `G = G ++ []`.
    pub fn append_nil(self) -> TList<A, Cat<G, HNil>> {
        self.retag()
    }

    /// Transport along `G ++ [] = G`.
    pub fn drop_nil(xs: TList<A, impl SameContext<Cat<G, HNil>>>) -> Self {
        xs.retag()
    }

    /// Lean's `TList.cast` along an equality of contexts, checked by the compiler (a move).
    ///
    /// The bound is `H: CastFrom<G>` (that is, `G: SameContext<H>`) with the target `H` as
    /// `Self`, so that a target taken from the expected type is checked in words too.
    pub fn cast<H>(self) -> TList<A, H>
    where
        H: CastFrom<G>,
    {
        self.retag()
    }

    /// Applies `f` to every entry of every tensor.
    pub fn map<B>(&self, mut f: impl FnMut(&A) -> B) -> TList<B, G> {
        TList::from_items(
            self.items
                .iter()
                .map(|t| Owned(t.0.iter().map(&mut f).collect()))
                .collect(),
        )
    }

    /// Combines corresponding entries of two contexts.
    pub fn zip_with<B, C, G2: SameContext<G>>(
        &self,
        rhs: &TList<B, G2>,
        mut f: impl FnMut(&A, &B) -> C,
    ) -> TList<C, G> {
        let items = self
            .items
            .iter()
            .zip(&rhs.items)
            .map(|(x, y)| Owned(x.0.iter().zip(y.0.iter()).map(|(a, b)| f(a, b)).collect()))
            .collect();
        TList::from_items(items)
    }
}

// The bounds are on the methods rather than on the impl, so that a non-element entry type or
// a non-shape in the context is reported by the traits' own messages.
impl<A, G> TList<A, G> {
    /// Lean's `TList.zero`: `fill 0` in every slot.
    #[must_use]
    pub fn zero() -> Self
    where
        A: Element,
        G: ShapeList,
    {
        let items = G::layout()
            .into_iter()
            .map(|l| Owned(SmallVec::from_elem(A::zero(), l.size)))
            .collect();
        Self::from_items(items)
    }

    /// Lean's `single idx v`: `v` at `idx`, `fill 0` everywhere else.
    #[must_use]
    pub fn single<G2: SameContext<G>, S: Shape>(idx: Idx<G2, S>, value: Tensor<A, S>) -> Self
    where
        A: Element,
        G: ShapeList,
    {
        let mut z = Self::zero();
        z.items[idx.pos] = value.into_data();
        z
    }

    /// Entrywise sum of two contexts (Lean's `TList.add`, `self` on the left).
    pub fn add<G2: SameContext<G>>(&self, rhs: &TList<A, G2>) -> Self
    where
        A: Element,
        G: ShapeList,
    {
        self.zip_with(rhs, |a, b| a.clone() + b.clone())
    }

    /// Entrywise difference of two contexts (Lean's `TList.sub`).
    pub fn sub<G2: SameContext<G>>(&self, rhs: &TList<A, G2>) -> Self
    where
        A: Element,
        G: ShapeList,
    {
        self.zip_with(rhs, |a, b| a.clone() - b.clone())
    }

    /// Lean's `TList.scale c xs`: `x ↦ x · c` in every slot.
    pub fn scale(&self, c: &A) -> Self
    where
        A: Element,
        G: ShapeList,
    {
        self.map(|a| a.clone() * c.clone())
    }

    /// Lean's `dotList`: `Σⱼ dot(xⱼ, yⱼ)`, nested to the right:
    /// `dot x₀ y₀ + (dot x₁ y₁ + (… + 0))`.
    pub fn dot_list<G2: SameContext<G>>(&self, rhs: &TList<A, G2>) -> A
    where
        A: Element,
        G: ShapeList,
    {
        let layout = G::layout();
        self.items
            .iter()
            .zip(&rhs.items)
            .zip(&layout)
            .rev()
            .fold(A::zero(), |acc, ((x, y), l)| {
                nested_dot(&x.0, &y.0, &l.dims) + acc
            })
    }
}

impl<A: Clone, G> Clone for TList<A, G> {
    fn clone(&self) -> Self {
        TList::from_items(self.items.clone())
    }
}

impl<A: PartialEq, G> PartialEq for TList<A, G> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl<A: fmt::Display, G: ShapeList> fmt::Debug for TList<A, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let layout = G::layout();
        let mut list = f.debug_list();
        for (item, l) in self.items.iter().zip(&layout) {
            list.entry(&SlotDebug {
                data: &item.0,
                dims: &l.dims,
            });
        }
        list.finish()
    }
}

impl<A: fmt::Display, G: ShapeList> fmt::Display for TList<A, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

struct SlotDebug<'a, A> {
    data: &'a [A],
    dims: &'a [usize],
}

impl<A: fmt::Display> fmt::Debug for SlotDebug<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ", self.dims)?;
        crate::tensor::write_nested(f, self.data, self.dims)
    }
}
