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
pub trait ShapeList: Sized + Send + Sync + 'static {
    /// `Self ++ R`: list concatenation.
    type Concat<R: ShapeList>: ShapeList;
    /// Length of the list.
    const LEN: usize;
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
    const LAYOUT: &'static LayoutTree = &LayoutTree::Empty;
}

impl<H: Shape, T: ShapeList> ShapeList for HCons<H, T> {
    type Concat<R: ShapeList> = HCons<H, T::Concat<R>>;
    const LEN: usize = 1 + T::LEN;
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

/// The slots of a context as a tree whose reading from left to right is the context's list of
/// slots. Contexts build theirs in constants, so reading a layout is one loop that is not
/// generic: a long context costs no code per sub-list (a recursive function over the list
/// would be compiled once per suffix).
#[doc(hidden)]
#[derive(Debug)]
pub enum LayoutTree {
    /// No slot.
    Empty,
    /// One slot: its dimensions and its number of entries.
    Slot {
        /// The dimensions, outermost first.
        dims: fn() -> Vec<usize>,
        /// The number of entries.
        size: usize,
    },
    /// The slots of the first tree, then those of the second.
    Cat(&'static LayoutTree, &'static LayoutTree),
    /// The slots of the tree, last first.
    Rev(&'static LayoutTree),
}

impl LayoutTree {
    /// The slots, in order (`len` is their number, for the allocation).
    pub fn slots(&'static self, len: usize) -> Vec<SlotLayout> {
        let mut out = Vec::with_capacity(len);
        // Depth-first, left to right; a reversed subtree is read right to left.
        let mut stack: Vec<(&'static LayoutTree, bool)> = vec![(self, false)];
        while let Some((tree, reversed)) = stack.pop() {
            match *tree {
                LayoutTree::Empty => {}
                LayoutTree::Slot { dims, size } => out.push(SlotLayout { dims: dims(), size }),
                LayoutTree::Cat(first, second) => {
                    let (now, later) = if reversed {
                        (second, first)
                    } else {
                        (first, second)
                    };
                    stack.push((later, reversed));
                    stack.push((now, reversed));
                }
                LayoutTree::Rev(inner) => stack.push((inner, !reversed)),
            }
        }
        out
    }
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

/// Proof obligation "position `I` lies inside context `G`"; holds for every real shape.
#[diagnostic::on_unimplemented(
    message = "position {I} is past the end of the context `{G}`",
    label = "no entry at position {I}",
    note = "positions count from 0; the context has fewer than {I} + 1 entries"
)]
pub trait InRange<G, const I: usize> {}
impl<S: Shape, G, const I: usize> InRange<G, I> for S {}

/// The context `Self` accepts a value built for the context `Found`: the equality of
/// [`SameContext`] with the *known* context as `Self`, so that `Found` can be inferred from it
/// (e.g. the context of `Idx::at::<0>()` inside `graph.snoc(ops::add(..))`).
#[diagnostic::on_unimplemented(
    message = "context mismatch: expected the context `{Self}`, found `{Found}`",
    label = "this was built for the context `{Found}`",
    note = "a graph over inputs Γ with outputs Ss takes inputs over Γ and nodes and seeds over Γ ++ Ss"
)]
pub trait ExpectsContext<Found>: ShapeList {}
impl<G: ShapeList> ExpectsContext<G> for G {}

/// [`ExpectsContext`] for a reverse-mode seed: `Self` is `Γ ++ Ss`, the inputs followed by every
/// node's output, and the seed must cover all of it.
#[diagnostic::on_unimplemented(
    message = "the seed must cover the inputs followed by every node's output: expected a seed over `{Self}`, found one over `{Found}`",
    label = "this seed is over `{Found}`",
    note = "reverse mode pulls back a cotangent of the whole evaluated context Γ ++ Ss; to seed one output only, use `TList::single(idx, value)` with the index of that output in Γ ++ Ss (the builder's `b.idx(v)`)"
)]
pub trait SeedContext<Found>: ShapeList {}
impl<G: ShapeList> SeedContext<G> for G {}
// A second impl that no seed can use (its `Found` is a private type): with two candidates, the
// compiler takes the seed's context from the argument, not from this bound, and a seed over
// another context is reported by the message above instead of as a bare type mismatch.
impl<G: ShapeList> SeedContext<crate::internal::NoSeed<G>> for G {}

/// Proof obligation "the context holds shape `S` at position `I`".
#[diagnostic::on_unimplemented(
    message = "the context holds a `{Self}` at position {I}, not a `{S}`",
    label = "this index expects shape `{S}`",
    note = "an `Idx<Γ, S>` may only point at a slot of shape `S`"
)]
pub trait ShapeAt<S, const I: usize> {}
impl<S: Shape, const I: usize> ShapeAt<S, I> for S {}
// Past the end, `InRange` already reports the error; don't report a second one.
impl<S, const I: usize> ShapeAt<S, I> for OutOfRange {}

/// `Self` is the context `Expected`: the equality of two contexts as a trait bound, so a
/// mismatch (a node built for another context, a seed of the wrong context) is worded.
#[diagnostic::on_unimplemented(
    message = "context mismatch: expected the context `{Expected}`, found `{Self}`",
    label = "built for the context `{Self}`",
    note = "contexts must agree shape by shape, in order (a graph over inputs Γ with outputs Ss expects nodes and seeds over Γ ++ Ss)"
)]
pub trait SameContext<Expected>: ShapeList {}
impl<G: ShapeList> SameContext<G> for G {}

/// `Self` is a context that a list over `From` can be cast to: `From: SameContext<Self>` with
/// the *target* as `Self`.
///
/// This is the bound of `TList::cast`. With the target as `Self`, the obligation waits until
/// the target is known (from a turbofish or from the expected type, as in
/// `let y: TList<A, H> = x.cast();`), so a wrong target is reported by [`SameContext`] in
/// words instead of as a bare type mismatch. Holds whenever `From: SameContext<Self>` does,
/// including for generic contexts with that bound.
#[diagnostic::on_unimplemented(
    message = "cannot cast a list over the context `{From}` to the context `{Self}`",
    label = "not the same context",
    note = "`cast` only moves a list between two spellings of the same context"
)]
pub trait CastFrom<From>: ShapeList {}
impl<From: SameContext<H>, H: ShapeList> CastFrom<From> for H {}

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

/// The context of the node being pushed by a [`GraphBuilder`](crate::autograd::GraphBuilder):
/// the inputs `G` followed by the outputs pushed so far, whose shapes `P` lists newest first.
/// As a list of shapes it is `G ++ Rev<P>` (same length, layout and lookups); it is a type of
/// its own so that growing the builder by one node costs the compiler constant work.
pub struct BuildCtx<G, P>(core::marker::PhantomData<G>, core::marker::PhantomData<P>);

impl<G: ShapeList, P: Reverse> ShapeList for BuildCtx<G, P> {
    type Concat<R: ShapeList> = Cat<G, Cat<Rev<P>, R>>;
    const LEN: usize = G::LEN + P::LEN;
    const LAYOUT: &'static LayoutTree = &LayoutTree::Cat(G::LAYOUT, &LayoutTree::Rev(P::LAYOUT));
}

impl<G, P, I> Lookup<I> for BuildCtx<G, P>
where
    G: ShapeList,
    P: Reverse,
    Cat<G, Rev<P>>: Lookup<I>,
{
    type Output = At<Cat<G, Rev<P>>, I>;
}
