//! The named constraint traits of the crate, in one place (as nalgebra's `constraint`): each
//! states one requirement as a trait bound, so that a violation is reported in words
//! ("shape mismatch: …", "context mismatch: …", "the seed must cover …") instead of as a
//! three-page type. Each holds exactly when its name says; most are implemented only for
//! `Self = Expected`.

use crate::approx::{Ball, Interval};
use crate::autograd::builder::{Admits, GraphKind};
use crate::autograd::node::GraphNode;
use crate::autograd::op::Eval;
use crate::autograd::op::OpNode;
use crate::internal::BuildCtx;
use crate::internal::OpBody;
use crate::shape::Shape;
use crate::shape_list::{OutOfRange, ShapeList};
use frunk::{HCons, HNil};

/// Binary tensor operations take their right operand at any shape `S2: SameShape<S>`, so a
/// mismatch is reported in words ("shape mismatch: expected … found …") instead of as a bare
/// type mismatch.
#[diagnostic::on_unimplemented(
    message = "shape mismatch: expected a tensor of shape `{Expected}`, found shape `{Self}`",
    label = "this operand has shape `{Self}`",
    note = "elementwise operations and `dot` need operands of the same shape (there is no broadcasting)"
)]
pub trait SameShape<Expected>: Shape {}
impl<S: Shape> SameShape<S> for S {}

/// The context slot of shape `Self` accepts a tensor of shape `Found`: the same equality as
/// [`SameShape`] with the known shape on the left, so that `Found` can be inferred from it.
#[diagnostic::on_unimplemented(
    message = "shape mismatch: the context expects a tensor of shape `{Self}`, found shape `{Found}`",
    label = "this tensor has shape `{Found}`",
    note = "the tensors of a TList must have the shapes of its context, in order"
)]
pub trait AcceptsShape<Found>: Shape {}
impl<S: Shape> AcceptsShape<S> for S {}

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
///
/// Because its one impl lets the compiler infer `Found`, a value of another context (graph
/// inputs of the wrong shapes) is usually reported by rustc as a type mismatch (E0308) whose
/// label names the first pair of shapes that differ; `TList::cast` and the other
/// [`SameContext`] bounds name the slot as well.
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

/// `Self` is the context `Expected`: the equality of two contexts as a trait bound, checked
/// slot by slot ([`SameSlots`]) so that a mismatch names the slots that differ (an error each,
/// the one nearest the front first) instead of printing two long types.
#[diagnostic::on_unimplemented(
    message = "context mismatch: expected the context `{Expected}`, found `{Self}`",
    label = "built for the context `{Self}`",
    note = "contexts must agree shape by shape, in order (a graph over inputs Γ with outputs Ss expects nodes and seeds over Γ ++ Ss)"
)]
pub trait SameContext<Expected>: ShapeList {}
impl<G: ShapeList + SameSlots<E>, E> SameContext<E> for G {}

/// The recursion behind [`SameContext`]: `Self` and `Expected` have the same length and, slot
/// by slot, the same shapes ([`SlotMatches`]). A supertrait of [`ShapeList`], so that every
/// context, generic ones included, is its own `SameSlots`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "context mismatch: expected the context `{Expected}`, found `{Self}`",
    label = "built for another context",
    note = "contexts are compared slot by slot from the first; the two shown are what is left of them after the slots that agree (`HNil` on one side: the other context is longer), and a generic context only equals itself"
)]
pub trait SameSlots<Expected> {}
impl SameSlots<HNil> for HNil {}
impl<H: Shape, T: ShapeList, H2, T2> SameSlots<HCons<H2, T2>> for HCons<H, T>
where
    H: SlotMatches<H2, T::Tally>,
    T: SameSlots<T2>,
{
}
impl<G: ShapeList, P: crate::shape_list::Reverse> SameSlots<BuildCtx<G, P>> for BuildCtx<G, P> {}

/// The slot `After` of two contexts ([`SameContext`]) holds the same shape in both: `Self` is
/// the found shape, `Expected` the expected one, and `After` names the slot by the number of
/// slots that follow it (`SlotFromEnd<0>` is the last slot).
#[diagnostic::on_unimplemented(
    message = "context mismatch at slot `{After}`: expected a `{Expected}`, found a `{Self}`",
    label = "this has a `{Self}` at slot `{After}` where a `{Expected}` is expected",
    note = "slots are named from the end of the context: `SlotFromEnd<0>` is the last slot, `SlotFromEnd<1>` the one before it, and so on; each slot that differs gets an error of its own, the one nearest the front first"
)]
pub trait SlotMatches<Expected, After> {}
impl<S: Shape, After> SlotMatches<S, After> for S {}

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

/// The node `Self` reads exactly the context `C`: the bound of every `snoc`. With the node as
/// `Self`, the context of an operand written `Idx::at::<0>()` is inferred from `C`, and a node
/// built for another context is reported in words.
#[diagnostic::on_unimplemented(
    message = "this node reads another context than the graph provides: the graph's Γ ++ Ss is `{C}`",
    label = "`{Self}` is not a node over the graph's context",
    note = "node k of a graph over inputs Γ reads Γ followed by the outputs of nodes 0..k"
)]
pub trait NodeOver<C>: GraphNode {}
impl<C: ShapeList, K: crate::autograd::op::Op> NodeOver<C> for OpNode<C, K> {}
impl<A, D, C: ShapeList, T: Shape> NodeOver<C> for crate::autograd::NodeData<A, D, C, T> {}
impl<A, D, C: ShapeList, T: Shape> NodeOver<C> for crate::autograd::Node<A, D, C, T> {}
impl<R, P, C: ShapeList, T: Shape> NodeOver<C> for crate::approx::RevNode<R, P, C, T> {}
impl<R, P, C: ShapeList, T: Shape> NodeOver<C> for crate::approx::FwdNode<R, P, C, T> {}

/// The kind `Self` runs the op `K`: shorthand for the bound a block generic over the graph kind
/// needs for each op it pushes (`K: Supports<ops::Relu<S>>`).
pub trait Supports<K>: GraphKind + Admits<OpBody<K>, <Self as GraphKind>::Stored> {}
impl<G: GraphKind + Admits<OpBody<K>, G::Stored>, K> Supports<K> for G {}

/// An op a certified graph over the runtime scalar `R` and spec scalar `P` can run: it is
/// evaluated at `R`, at `P` and on [`Interval`]s and [`Ball`]s (for its derived bounds and the
/// enclosure mode).
#[diagnostic::on_unimplemented(
    message = "the op `{Self}` cannot run in a certified graph over `{R}` with spec `{P}`",
    label = "needs `Eval` at `{R}`, at `{P}`, at `Interval` and at `Ball`",
    note = "ops with `exp`, `ln` or `tanh` need a spec scalar that is `Real` (`f64`), not `Rational`"
)]
pub trait Certifiable<R, P>: Eval<R> + Eval<P> + Eval<Interval> + Eval<Ball> {}
impl<R, P, K: Eval<R> + Eval<P> + Eval<Interval> + Eval<Ball>> Certifiable<R, P> for K {}

/// `Self` is an executable graph over the scalar `A`, environment `D`, inputs `G` and outputs
/// `Ss`: a [`GraphData`](crate::autograd::GraphData) or a lawful
/// [`Graph`](crate::autograd::Graph), what the derivative checks run.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an executable graph",
    label = "expected a `GraphData` or a `Graph`",
    note = "a certified `RevGraph` erases to the executable graph of its runtime side with `.to_graph_data()` (Lean's `toGraphData`)"
)]
pub trait Executable<A, D, G, Ss> {
    #[doc(hidden)]
    fn graph_data(&self) -> &crate::autograd::GraphData<A, D, G, Ss>;
}
impl<A, D, G, Ss> Executable<A, D, G, Ss> for crate::autograd::GraphData<A, D, G, Ss> {
    fn graph_data(&self) -> &crate::autograd::GraphData<A, D, G, Ss> {
        self
    }
}
impl<A, D, G, Ss> Executable<A, D, G, Ss> for crate::autograd::Graph<A, D, G, Ss> {
    fn graph_data(&self) -> &crate::autograd::GraphData<A, D, G, Ss> {
        self
    }
}
