//! Type-level lists of shapes and their algebra.
//!
//! A context `Γ` is a frunk HList of shapes, written `HList![Scalar, Vector<3>]`, mirroring
//! TorchLean's `List Shape`. This module holds the type-level functions on such lists, each a
//! small trait with one impl for `HNil` and one for `HCons`:
//!
//! | Lean | Rust |
//! |---|---|
//! | `Γ ++ ss` | [`Cat<Γ, Ss>`] (the associated type [`ShapeList::Concat`]) |
//! | `ss ++ [τ]` | [`Snoc<Ss, τ>`] |
//! | `(init, last)` of a non-empty list | [`Init<Γ>`], [`Last<Γ>`] ([`NonEmpty`]) |
//! | `Γ.length` | [`ShapeList::LEN`] |
//! | `Γ.get i` | [`At<Γ, P>`] ([`Lookup`]) |
//!
//! **Mathematics.** Contexts are finite lists of shapes, the free monoid on shapes: `++` is
//! associative with unit `[]`, `|Γ ++ R| = |Γ| + |R|`, and `(Γ ++ R).get i = Γ.get i` for
//! `i < |Γ|` (a prefix keeps its positions, which is why an index into `Γ` is also one into
//! `Γ ++ R`). `Cat` is defined by recursion on its first argument, so for every concrete `Γ`
//! the types `Cat<Γ, HNil>` and `Cat<Cat<Γ, Ss>, R>` normalise to the same HList as `Γ` and
//! `Cat<Γ, Cat<Ss, R>>`: the equalities for which Lean needs casts hold by computation.
//!
//! ```
//! use shapetape::prelude::*;
//! type G = HList![Scalar, Vector<3>];
//! type Ss = HList![Matrix<2, 2>];
//! fn same<T>(_: core::marker::PhantomData<T>, _: core::marker::PhantomData<T>) {}
//! same(
//!     core::marker::PhantomData::<Cat<G, Ss>>,
//!     core::marker::PhantomData::<HList![Scalar, Vector<3>, Matrix<2, 2>]>,
//! );
//! assert_eq!(<Cat<G, Ss>>::LEN, 3);
//! ```

use core::ops::Sub;

use frunk::{HCons, HNil};
use typenum::{B1, Sub1, UInt, UTerm};

use crate::shape::Shape;

pub use crate::constraint::{CastFrom, ExpectsContext, InRange, SameContext, SeedContext, ShapeAt};
pub use crate::internal::{BuildCtx, LayoutTree};

/// Run-time description of one context slot: its dimensions and element count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotLayout {
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Number of entries (`∏ dims`).
    pub size: usize,
}

/// A type-level list of shapes (a context `Γ`): `HNil` or `HCons<S: Shape, Tail>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of tensor shapes",
    label = "expected a context such as `HList![Scalar, Vector<3>]`",
    note = "every entry of a context must implement `shapetape::Shape`"
)]
pub trait ShapeList: crate::constraint::SameSlots<Self> + Sized + Send + Sync + 'static {
    /// `Self ++ R`: list concatenation.
    type Concat<R: ShapeList>: ShapeList;
    /// Length of the list.
    const LEN: usize;
    /// The length again, as the type [`SlotFromEnd<LEN>`](crate::internal::SlotFromEnd) that names a slot by
    /// how many slots follow it (read by [`SameContext`] to name the first slot that differs).
    #[doc(hidden)]
    type Tally: crate::internal::Tally;
    /// The slots of the list as a tree built at compile time (read by [`ShapeList::layout`]).
    #[doc(hidden)]
    const LAYOUT: &'static LayoutTree;
    /// The run-time layout of every slot, in order.
    fn layout() -> Vec<SlotLayout> {
        Self::LAYOUT.slots(Self::LEN)
    }
}

impl ShapeList for HNil {
    type Concat<R: ShapeList> = R;
    const LEN: usize = 0;
    type Tally = crate::internal::SlotFromEnd<0>;
    const LAYOUT: &'static LayoutTree = &LayoutTree::Empty;
}

impl<H: Shape, T: ShapeList> ShapeList for HCons<H, T> {
    type Concat<R: ShapeList> = HCons<H, T::Concat<R>>;
    const LEN: usize = 1 + T::LEN;
    type Tally = <T::Tally as crate::internal::Tally>::Next;
    const LAYOUT: &'static LayoutTree = &LayoutTree::Cat(
        &LayoutTree::Slot {
            dims: dims_of::<H>,
            size: H::SIZE,
        },
        T::LAYOUT,
    );
}

/// The dimensions of `S` (one function per shape, pointed to by layout trees).
fn dims_of<S: Shape>() -> Vec<usize> {
    S::dims().to_vec()
}

/// `Γ ++ R`: the concatenation of two contexts.
pub type Cat<G, R> = <G as ShapeList>::Concat<R>;
/// `Γ ++ [τ]`: a context with one more shape at the end.
pub type Snoc<G, S> = Cat<G, HCons<S, HNil>>;

/// A non-empty context, split as `Init ++ [Last]` (Lean's `unsnoc` at the type level).
#[diagnostic::on_unimplemented(
    message = "cannot split the last shape off `{Self}`: the context is empty",
    label = "`unsnoc` needs a non-empty context",
    note = "only `HList![.., S]` with at least one shape has a last entry"
)]
pub trait NonEmpty: ShapeList {
    /// Every shape but the last.
    type Init: ShapeList;
    /// The last shape.
    type Last: Shape;
}

impl<H: Shape> NonEmpty for HCons<H, HNil> {
    type Init = HNil;
    type Last = H;
}

impl<H: Shape, H2: Shape, T: ShapeList> NonEmpty for HCons<H, HCons<H2, T>>
where
    HCons<H2, T>: NonEmpty,
{
    type Init = HCons<H, <HCons<H2, T> as NonEmpty>::Init>;
    type Last = <HCons<H2, T> as NonEmpty>::Last;
}

/// All shapes of `G` but the last.
pub type Init<G> = <G as NonEmpty>::Init;
/// The last shape of `G`.
pub type Last<G> = <G as NonEmpty>::Last;

/// Marker returned by [`Lookup`] for a position past the end of a context. It is not a
/// [`Shape`], so using it as one fails with a worded error.
#[derive(Clone, Copy, Debug)]
pub struct OutOfRange;

/// Total type-level lookup: the shape at typenum position `P`, or [`OutOfRange`].
///
/// Being total (defined past the end) keeps errors flat: the failure is reported once, by
/// [`InRange`], instead of as a cascade through the recursion.
#[diagnostic::on_unimplemented(
    message = "cannot look up a position in `{Self}`: it is not a context written out as `HList![..]`",
    label = "`Idx::at` needs the context spelled out, e.g. `HList![Scalar, Vector<3>]`",
    note = "in generic code, take the `Idx` as a parameter, or check the position at run time with `Idx::try_at`"
)]
pub trait Lookup<P> {
    /// The shape at position `P`, or [`OutOfRange`].
    type Output;
}

impl<P> Lookup<P> for HNil {
    type Output = OutOfRange;
}
impl<H, T> Lookup<UTerm> for HCons<H, T> {
    type Output = H;
}
impl<H, T, P, B> Lookup<UInt<P, B>> for HCons<H, T>
where
    UInt<P, B>: Sub<B1>,
    T: Lookup<Sub1<UInt<P, B>>>,
{
    type Output = <T as Lookup<Sub1<UInt<P, B>>>>::Output;
}

/// The shape at position `P` (a typenum unsigned) of `G`: Lean's `Γ.get i`.
pub type At<G, P> = <G as Lookup<P>>::Output;

/// `Self = P ++ Rest`: the context `Self` starts with the shapes of `P` (Lean's `Γ = P ++ R`,
/// with `R` computed). Used to ask for the cotangent of leading inputs only
/// ([`GraphData::backprop_prefix`](crate::autograd::GraphData::backprop_prefix)).
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::SplitAt;
/// type G = HList![Matrix<2, 2>, Vector<2>, Vector<2>];
/// fn rest<G: SplitAt<P>, P>() -> usize {
///     <G::Rest as ShapeList>::LEN
/// }
/// assert_eq!(rest::<G, HList![Matrix<2, 2>]>(), 2);
/// assert_eq!(rest::<G, HNil>(), 3);
/// ```
#[diagnostic::on_unimplemented(
    message = "the context `{Self}` does not start with the shapes `{P}`",
    label = "`{P}` is not a prefix of this context",
    note = "the prefix must list the first shapes of the context, in order"
)]
pub trait SplitAt<P>: ShapeList {
    /// The shapes after the prefix.
    type Rest: ShapeList;
}
impl<G: ShapeList> SplitAt<HNil> for G {
    type Rest = G;
}
impl<H: Shape, T: SplitAt<P>, P> SplitAt<HCons<H, P>> for HCons<H, T> {
    type Rest = T::Rest;
}

/// A list read backwards: `Rev<[s₁, …, sₙ]> = [sₙ, …, s₁]`.
///
/// The [`GraphBuilder`](crate::autograd::GraphBuilder) records the outputs pushed so far newest
/// first (pushing is then one `HCons`, which the compiler checks in constant time, where
/// `Snoc` rebuilds the whole list); the finished graph's `Ss` is their reversal.
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::shape_list::Rev;
/// fn same<T>(_: core::marker::PhantomData<T>, _: core::marker::PhantomData<T>) {}
/// same(
///     core::marker::PhantomData::<Rev<HList![Scalar, Vector<2>, Vector<3>]>>,
///     core::marker::PhantomData::<HList![Vector<3>, Vector<2>, Scalar]>,
/// );
/// ```
pub trait Reverse: ShapeList {
    /// The reversed list.
    type Reversed: ShapeList;
}
impl Reverse for HNil {
    type Reversed = HNil;
}
impl<H: Shape, T: Reverse> Reverse for HCons<H, T> {
    type Reversed = Snoc<T::Reversed, H>;
}

/// `L` read backwards (see [`Reverse`]).
pub type Rev<L> = <L as Reverse>::Reversed;
