//! Machinery behind the public traits, hidden from the docs: the context-free bodies that a
//! graph kind admits. Users never name these types; they appear only in the associated types
//! of [`GraphNode`](crate::autograd::GraphNode) and in [`Admits`](crate::autograd::Admits).
#![doc(hidden)]

use crate::autograd::node::ErasedNode;
use crate::shape_list::{At, Cat, Lookup, Rev, Reverse, ShapeList, SlotLayout};

/// An op without its context (the body of an [`OpNode`](crate::autograd::OpNode)).
pub struct OpBody<K>(pub(crate) K);

/// A node built from closures, without a law (the body of a
/// [`NodeData`](crate::autograd::NodeData)).
pub struct DataBody<A, D>(pub(crate) ErasedNode<A, D>);

/// A node built from closures whose law the caller asserted (the body of a
/// [`Node`](crate::autograd::Node)).
pub struct LawfulBody<A, D>(pub(crate) ErasedNode<A, D>);

/// A certified node (the body of a [`RevNode`](crate::approx::RevNode)).
pub struct RevBody<R, P>(pub(crate) crate::approx::node::CertNode<R, P>);

/// A certified forward node (the body of a [`FwdNode`](crate::approx::FwdNode)).
pub struct FwdBody<R, P>(pub(crate) crate::approx::node::CertNode<R, P>);

/// The slot of a context followed by `N` more slots: `SlotFromEnd<0>` is the last slot,
/// `SlotFromEnd<1>` the one before it. Context-mismatch errors
/// ([`SameContext`](crate::shape_list::SameContext)) name the slots that differ this way,
/// because a slot's distance from the end is what a trait on the list's tail can know.
pub struct SlotFromEnd<const N: usize>;

/// A slot followed by more than 1023 others.
pub struct FarFromEnd;

/// The successor on the [`SlotFromEnd`] scale: `SlotFromEnd<N>::Next = SlotFromEnd<N + 1>`, up
/// to [`FarFromEnd`].
pub trait Tally: 'static {
    /// The slot one further from the end.
    type Next: Tally;
}

macro_rules! tally {
    ($($h:literal)*) => { $(tally!(@ $h 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);)* };
    (@ $h:literal $($l:literal)*) => {
        $(impl Tally for SlotFromEnd<{ $h * 16 + $l }> { type Next = SlotFromEnd<{ $h * 16 + $l + 1 }>; })*
    };
}
tally!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32
    33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62);
// The last block: 1008..=1022 step on, and 1023 is followed by `FarFromEnd`.
tally!(@ 63 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14);
impl Tally for SlotFromEnd<1023> {
    type Next = FarFromEnd;
}
impl Tally for FarFromEnd {
    type Next = FarFromEnd;
}

/// A context no seed has (see `SeedContext`).
pub struct NoSeed<G>(core::marker::PhantomData<G>);

/// Where a scan node reads and writes (see [`GraphBuilder::scan`](crate::autograd::GraphBuilder::scan)).
pub struct ScanSpec {
    /// Number of steps `N`.
    pub(crate) steps: usize,
    /// The slot of the initial carry.
    pub(crate) init: usize,
    /// The slot of the stacked parameters.
    pub(crate) params: usize,
    /// Entries of one parameter slice.
    pub(crate) slice: usize,
    /// The slot of the new carry in the body's context.
    pub(crate) carry_out: usize,
    /// The carry's dimensions.
    pub(crate) out_dims: Vec<usize>,
}

/// The slots of a context as a tree whose reading from left to right is the context's list of
/// slots. Contexts build theirs in constants, so reading a layout is one loop that is not
/// generic: a long context costs no code per sub-list (a recursive function over the list
/// would be compiled once per suffix).
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

/// The context of the node being pushed by a [`GraphBuilder`](crate::autograd::GraphBuilder):
/// the inputs `G` followed by the outputs pushed so far, whose shapes `P` lists newest first.
/// As a list of shapes it is `G ++ Rev<P>` (same length, layout and lookups); it is a type of
/// its own so that growing the builder by one node costs the compiler constant work.
pub struct BuildCtx<G, P>(core::marker::PhantomData<G>, core::marker::PhantomData<P>);

impl<G: ShapeList, P: Reverse> ShapeList for BuildCtx<G, P> {
    type Concat<R: ShapeList> = Cat<G, Cat<Rev<P>, R>>;
    const LEN: usize = G::LEN + P::LEN;
    type Tally = FarFromEnd;
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

/// Runs `f` with the matrix products of [`Interval`](crate::approx::Interval)s allowed to
/// bound radius terms below `u / 64` of their largest midpoint by Hölder's inequality, as a
/// pass of the enclosure mode for a runtime of unit roundoff `u` does (for the tests of that
/// path: a huge `u` sends every product with finite midpoints through it).
pub fn with_runtime_unit<T>(u: f64, f: impl FnOnce() -> T) -> T {
    crate::approx::midrad::with_runtime_unit(u, f)
}
