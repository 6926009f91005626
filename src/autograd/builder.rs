//! A typed graph builder: nodes are wired by handles, never by hand-written indices.
//!
//! **Mathematics.** The builder grows the context `C₀ = Γ`, `Cₖ₊₁ = Cₖ ++ [τₖ]` one node at a
//! time, and a handle [`Var`] is a position `p < |Cₖ|` together with its shape `Cₖ.get p`.
//! Every `Cₖ` is a prefix of every later `Cₘ`, so `Cₘ.get p = Cₖ.get p`: a handle stays a valid
//! typed index [`Idx<Cₘ, S>`](crate::Idx) however far the graph grows. That is the invariant
//! behind [`Scope::idx`]; the brand lifetime `'id` keeps the handles of one builder out of
//! another, the only way a position could be wrong.
//!
//! See [`GraphBuilder`].

use core::fmt;
use core::marker::PhantomData;

use frunk::{HCons, HNil};
use typenum::{Const, ToUInt, U};

use crate::autograd::graph::{Graph, GraphData};
use crate::autograd::node::{ErasedNode, IntoNodeData, Node, NodeData, NodeOver};
use crate::shape::Shape;
use crate::shape_list::{At, BuildCtx, Cat, InRange, Lookup, Rev, Reverse, ShapeList};
use crate::tlist::Idx;

/// The brand: a lifetime in an invariant position, so `'id` can be neither shortened nor
/// lengthened and two different brands never unify.
type Brand<'id> = PhantomData<fn(&'id ()) -> &'id ()>;

/// A handle to one slot of a graph under construction: an input or a node's output, of shape
/// `S`, belonging to the builder branded `'id`.
///
/// Obtained from [`GraphBuilder::input`], [`GraphBuilder::inputs`] or [`GraphBuilder::push`];
/// it is `Copy` and stays valid while the graph grows. Turn it into an index with
/// [`Scope::idx`] (inside [`GraphBuilder::push`]) or [`GraphBuilder::idx`].
pub struct Var<'id, S> {
    pos: usize,
    marker: PhantomData<(Brand<'id>, fn() -> S)>,
}

impl<'id, S> Var<'id, S> {
    /// Only the builder creates handles (see the module docs for the invariant).
    fn new(pos: usize) -> Self {
        Var {
            pos,
            marker: PhantomData,
        }
    }

    /// The slot's position in the context `Γ ++ Ss` (0-based; inputs first).
    pub fn pos(self) -> usize {
        self.pos
    }
}

impl<S> Clone for Var<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Var<'_, S> {}
impl<S> PartialEq for Var<'_, S> {
    fn eq(&self, other: &Self) -> bool {
        self.pos == other.pos
    }
}
impl<S> Eq for Var<'_, S> {}
impl<S: Shape> fmt::Debug for Var<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Var({} : {:?})", self.pos, S::dims().as_slice())
    }
}

/// The view of the context `C` (`Γ` followed by the outputs so far) that
/// [`GraphBuilder::push`] lends to the closure building the next node: it turns handles into
/// indices into `C`.
pub struct Scope<'id, C> {
    brand: Brand<'id>,
    ctx: PhantomData<C>,
}

impl<'id, C> Scope<'id, C> {
    /// The index of `v` in the context of the node being built.
    pub fn idx<S>(&self, v: Var<'id, S>) -> Idx<C, S>
    where
        C: ShapeList,
        S: Shape,
    {
        // `v` comes from an earlier state of the builder branded `'id`, whose context is a
        // prefix of `C` holding a slot of shape `S` at `v.pos`. (Built in place: one generic
        // function fewer per node for the compiler.)
        Idx {
            pos: v.pos,
            ctx: PhantomData,
            shape: PhantomData,
        }
    }
}

impl<C> fmt::Debug for Scope<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Scope")
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::DataGraph {}
    impl Sealed for super::LawfulGraph {}

    /// Proof of being inside the crate, for trait methods that must stay internal.
    #[derive(Clone, Copy, Debug)]
    pub struct Token(pub(super) ());
}

/// What a [`GraphBuilder`] builds: a [`GraphData`] ([`DataGraph`]) or a lawful [`Graph`]
/// ([`LawfulGraph`]).
pub trait GraphKind: sealed::Sealed + 'static {
    /// The graph type, `GraphData<A, D, G, Ss>` or `Graph<A, D, G, Ss>`.
    type Graph<A, D, G, Ss>;
    #[doc(hidden)]
    fn from_data<A, D, G, Ss>(data: GraphData<A, D, G, Ss>) -> Self::Graph<A, D, G, Ss>;
}

/// The builder of a [`GraphData`]: accepts any [`IntoNodeData`] (a [`NodeData`](crate::autograd::NodeData)
/// or a [`Node`]).
#[derive(Debug)]
pub enum DataGraph {}

/// The builder of a lawful [`Graph`]: accepts only [`Node`]s.
#[derive(Debug)]
pub enum LawfulGraph {}

impl GraphKind for DataGraph {
    type Graph<A, D, G, Ss> = GraphData<A, D, G, Ss>;
    fn from_data<A, D, G, Ss>(data: GraphData<A, D, G, Ss>) -> GraphData<A, D, G, Ss> {
        data
    }
}

impl GraphKind for LawfulGraph {
    type Graph<A, D, G, Ss> = Graph<A, D, G, Ss>;
    fn from_data<A, D, G, Ss>(data: GraphData<A, D, G, Ss>) -> Graph<A, D, G, Ss> {
        // Only `Admits` puts nodes into a lawful builder, and for `LawfulGraph` it admits
        // `Node`s alone.
        Graph::from_lawful_data(data)
    }
}

/// The graph kind `Self` accepts the node `N`: a [`GraphData`] builder takes a [`NodeData`] or
/// a [`Node`], a lawful [`Graph`] builder only a [`Node`].
///
/// One impl per accepted node type (no blanket impl over [`IntoNodeData`]), so that admitting a
/// node is a field access, not a call through `IntoNodeData`: one generic function fewer per
/// node of a typed graph.
#[diagnostic::on_unimplemented(
    message = "a lawful graph accepts only `Node`s, and `{N}` is not one",
    label = "this node carries no adjointness law",
    note = "build a `GraphData` (with `GraphData::build`) to use `NodeData`, or wrap the node with `Node::new_unchecked` after checking its law"
)]
pub trait Admits<N: IntoNodeData>: GraphKind {
    #[doc(hidden)]
    fn admit(node: N) -> NodeData<N::Elem, N::Env, N::Ctx, N::Out>;
}

impl<A, D, C: ShapeList, T: Shape> Admits<NodeData<A, D, C, T>> for DataGraph {
    fn admit(node: NodeData<A, D, C, T>) -> NodeData<A, D, C, T> {
        node
    }
}

// Every graph kind admits a lawful node.
impl<K: GraphKind, A, D, C: ShapeList, T: Shape> Admits<Node<A, D, C, T>> for K {
    fn admit(node: Node<A, D, C, T>) -> NodeData<A, D, C, T> {
        node.data
    }
}

/// Contexts whose inputs can all be handed out at once by [`GraphBuilder::inputs`].
pub trait InputVars: ShapeList {
    /// `HList![Var<'id, S1>, Var<'id, S2>, …]` for `HList![S1, S2, …]`.
    type Vars<'id>;
    #[doc(hidden)]
    fn vars<'id>(start: usize, token: sealed::Token) -> Self::Vars<'id>;
}

impl InputVars for HNil {
    type Vars<'id> = HNil;
    fn vars<'id>(_: usize, _: sealed::Token) -> Self::Vars<'id> {
        HNil
    }
}

impl<H: Shape, T: InputVars> InputVars for HCons<H, T> {
    type Vars<'id> = HCons<Var<'id, H>, T::Vars<'id>>;
    fn vars<'id>(start: usize, token: sealed::Token) -> Self::Vars<'id> {
        HCons {
            head: Var::new(start),
            tail: T::vars(start + 1, token),
        }
    }
}

/// A graph under construction over the inputs `G` whose node outputs so far have the shapes
/// `P`, newest first (so the graph's `Ss` is [`Rev<P>`](crate::shape_list::Rev)), branded by
/// `'id`. `K` is [`DataGraph`] (the default) or [`LawfulGraph`].
///
/// Newest first because a push then extends the state by one `HCons`, which the compiler
/// handles in constant time; appending at the end would rebuild the list at every node and
/// make type checking quadratic in the length of the graph. The node being pushed reads the
/// context [`BuildCtx<G, P>`](crate::shape_list::BuildCtx), which is `G ++ Rev<P>` slot for
/// slot.
///
/// Built by hand, every operand of a node is an [`Idx<Γ ++ Ss[..k], S>`](crate::Idx) into the
/// context of *that* node, so the context type and the position must be written out again for
/// each node. The builder does the bookkeeping: reading an input or pushing a node returns a
/// [`Var<'id, S>`], a handle to that slot which stays valid however many nodes are pushed
/// afterwards, and inside [`GraphBuilder::push`] a [`Scope`] turns handles into indices into
/// the context of the node being built.
///
/// The entry points name the root types `A`, `Δ` and `Γ` (only the output list `Ss` is
/// inferred, as `_`), so the compiler never solves for the root through the context
/// projections, which makes type checking slow: [`GraphData::build`] accepts any [`IntoNodeData`], [`Graph::build`] only
/// lawful [`Node`]s; [`GraphData::build_with`] and [`Graph::build_with`] also return a value
/// computed from the finished builder, typically the [`Idx`]s of the outputs.
///
/// # One graph, built twice
///
/// Inputs `Γ = [a : Scalar, b : Scalar, M : Matrix<2, 2>, v : Vector<2>]` and nodes
/// `s = a + b`, `p = s · a`, `w = M v`, first by hand, then with the builder:
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::autograd::GraphData;
/// use shapetape::{HNil, ops};
///
/// type G = HList![Scalar, Scalar, Matrix<2, 2>, Vector<2>];
///
/// // By hand: each operand names the context of its node and a position in it.
/// type G1 = Snoc<G, Scalar>; // Γ ++ [s]
/// let by_hand = GraphData::<f64, (), G, HNil>::nil()
///     .snoc(ops::add(Idx::<G, Scalar>::at::<0>(), Idx::at::<1>())) // s = a + b
///     .snoc(ops::mul(Idx::<G1, Scalar>::at::<4>(), Idx::at::<0>())) // p = s · a
///     .snoc(ops::matvec(Idx::<Snoc<G1, Scalar>, _>::at::<2>(), Idx::at::<3>())); // w = M v
///
/// // With the builder: handles, no positions, no context types.
/// let (built, (p, w)) = GraphData::<f64, (), G, _>::build_with(|g| {
///     let hlist_pat![a, b, m, v] = g.inputs();
///     let (g, s) = g.push(|c| ops::add(c.idx(a), c.idx(b)));
///     let (g, p) = g.push(|c| ops::mul(c.idx(s), c.idx(a)));
///     let (g, w) = g.push(|c| ops::matvec(c.idx(m), c.idx(v)));
///     let outputs = (g.idx(p), g.idx(w)); // indices into the final context Γ ++ Ss
///     (g, outputs)
/// });
/// assert_eq!(built.node_names().collect::<Vec<_>>(), ["add", "mul", "matvec"]);
///
/// let x = || -> TList<f64, G> {
///     tlist![Tensor::new(3.0), Tensor::new(2.0), Tensor::new([[1.0, 2.0], [3.0, 4.0]]),
///            Tensor::new([5.0, 6.0])]
/// };
///
/// // Same forward pass: s = 5, p = 15, w = M v = [17, 39].
/// let y = built.eval(x(), &());
/// assert_eq!(y, by_hand.eval(x(), &()));
/// assert_eq!(y.get(p).as_slice(), &[15.0]);
/// assert_eq!(y.get(w).as_slice(), &[17.0, 39.0]);
///
/// // Same reverse pass. Seeding p̄ = 1 and w̄ = δ = [1, 1]:
/// // ā = ∂p/∂a = 2a + b = 8, b̄ = ∂p/∂b = a = 3, M̄ = δ vᵀ, v̄ = Mᵀ δ.
/// let seed = TList::single(p, Tensor::new(1.0)).add(&TList::single(w, Tensor::new([1.0, 1.0])));
/// let grad = built.backprop_ctx(x(), &(), seed.clone());
/// assert_eq!(grad, by_hand.backprop_ctx(x(), &(), seed));
/// assert_eq!(
///     grad,
///     tlist![Tensor::new(8.0), Tensor::new(3.0), Tensor::new([[5.0, 6.0], [5.0, 6.0]]),
///            Tensor::new([4.0, 6.0])]
/// );
/// ```
///
/// # Handles are branded
///
/// Each call of a `build` entry point runs its closure at a fresh lifetime `'id` (the closure
/// is `for<'id> FnOnce(GraphBuilder<'id, ..>) -> GraphBuilder<'id, ..>`), and every
/// [`Var<'id, S>`] and [`Scope<'id, _>`] carries that lifetime invariantly. A handle therefore
/// cannot leave its closure, and a handle of one builder given to another builder (for
/// instance one built inside the other's closure) does not compile. Within one builder the
/// states only grow, so every handle points at an existing slot of its shape; a handle used at
/// the wrong shape is the operation's own worded shape error:
///
/// ```compile_fail,E0277
/// # use shapetape::prelude::*;
/// # use shapetape::{autograd::GraphData, ops};
/// type G = HList![Scalar, Vector<2>];
/// let _ = GraphData::<f64, (), G, _>::build(|g| {
///     let hlist_pat![x, v] = g.inputs();
///     // error: shape mismatch: expected a tensor of shape `Scalar`, found shape `Dim<2, Scalar>`
///     let (g, _) = g.push(|c| ops::add(c.idx(x), c.idx(v)));
///     g
/// });
/// ```
///
/// A lawful [`Graph`] is built the same way and accepts only [`Node`]s:
///
/// ```
/// # use shapetape::prelude::*;
/// # use shapetape::{autograd::Graph, ops};
/// type G = HList![Vector<3>];
/// let g = Graph::<f32, (), G, _>::build(|g| {
///     let x = g.input::<0>();
///     let (g, y) = g.push(|c| ops::mul(c.idx(x), c.idx(x))); // aliasing is fine
///     let (g, _) = g.push(|c| ops::sum(c.idx(y)));
///     g
/// });
/// assert_eq!(g.len(), 2);
/// ```
pub struct GraphBuilder<'id, A, D, G, P, K: GraphKind = DataGraph> {
    /// The nodes so far, in the buffer of the `build` call that branded `'id`; `P` (newest
    /// first) fixes their contexts. Borrowed, not owned: a builder then has no drop glue, which
    /// would otherwise be compiled once per state, i.e. once per node of a long graph.
    nodes: &'id mut Vec<ErasedNode<A, D>>,
    /// The type-level state: inputs, outputs so far (newest first), graph kind. One marker
    /// per parameter, shared with the other types that name `P` (see `Idx`).
    inputs: PhantomData<G>,
    outputs: PhantomData<P>,
    kind: PhantomData<K>,
    brand: Brand<'id>,
}

impl<A, D, G, P, K: GraphKind> fmt::Debug for GraphBuilder<'_, A, D, G, P, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GraphBuilder")
            .field(&self.nodes.iter().map(|n| &n.name).collect::<Vec<_>>())
            .finish()
    }
}

impl<'id, A, D, G: ShapeList, P: Reverse, K: GraphKind> GraphBuilder<'id, A, D, G, P, K> {
    /// The handle of input `I` (from 0) of `G`; compiles only if that input exists (the same
    /// check as [`Idx::at`]).
    pub fn input<const I: usize>(&self) -> Var<'id, At<G, U<I>>>
    where
        Const<I>: ToUInt,
        G: Lookup<U<I>>,
        At<G, U<I>>: InRange<G, I>,
    {
        Var::new(I)
    }

    /// The handles of all inputs, as a frunk HList: `let hlist_pat![x, y] = g.inputs();`.
    pub fn inputs(&self) -> G::Vars<'id>
    where
        G: InputVars,
    {
        G::vars(0, sealed::Token(()))
    }

    /// Appends the node built by `node` and returns the grown builder with the handle of the
    /// node's output (Lean's `GraphData.snoc`).
    ///
    /// `node` receives the [`Scope`] of the context `G ++ Ss` the new node reads; the node it
    /// returns must be built for exactly that context, as by `GraphData::snoc`.
    #[allow(clippy::type_complexity)]
    pub fn push<N, F>(
        self,
        node: F,
    ) -> (
        GraphBuilder<'id, A, D, G, HCons<N::Out, P>, K>,
        Var<'id, N::Out>,
    )
    where
        F: FnOnce(&Scope<'id, BuildCtx<G, P>>) -> N,
        N: IntoNodeData<Elem = A, Env = D> + NodeOver<BuildCtx<G, P>>,
        K: Admits<N>,
    {
        // Only context-free values are live while code that may unwind runs (the builder is
        // taken apart first, the node is erased at once), so no drop glue of this node's
        // context types is compiled: that glue would be one more function per node.
        let GraphBuilder { nodes, .. } = self;
        let out = Var::new(G::LEN + P::LEN);
        let node = node(&Scope {
            brand: PhantomData,
            ctx: PhantomData,
        });
        nodes.push(K::admit(node).node);
        (
            GraphBuilder {
                nodes,
                inputs: PhantomData,
                outputs: PhantomData,
                kind: PhantomData,
                brand: PhantomData,
            },
            out,
        )
    }

    /// The index of `v` in the current context `G ++ Ss` (with `Ss = Rev<P>`, the outputs in
    /// order); after the last push, an index into the context that [`GraphData::eval`] returns
    /// and [`GraphData::backprop_ctx`] seeds.
    pub fn idx<S: Shape>(&self, v: Var<'id, S>) -> Idx<Cat<G, Rev<P>>, S> {
        Idx::from_pos_unchecked(v.pos)
    }

    /// Number of nodes pushed so far, `Ss.length`.
    pub fn len(&self) -> usize {
        P::LEN
    }

    /// Whether no node has been pushed yet.
    pub fn is_empty(&self) -> bool {
        P::LEN == 0
    }

    /// A copy of the graph built so far.
    pub fn graph(&self) -> K::Graph<A, D, G, Rev<P>> {
        K::from_data(GraphData::from_erased(self.nodes.clone()))
    }
}

/// Runs a builder closure at a fresh brand: the one mechanism behind every entry point.
fn run<A, D, G: ShapeList, P: Reverse, K: GraphKind, R>(
    f: impl for<'id> FnOnce(
        GraphBuilder<'id, A, D, G, HNil, K>,
    ) -> (GraphBuilder<'id, A, D, G, P, K>, R),
) -> (K::Graph<A, D, G, Rev<P>>, R) {
    let mut nodes = Vec::new();
    let (_, extra) = f(GraphBuilder {
        nodes: &mut nodes,
        inputs: PhantomData,
        outputs: PhantomData,
        kind: PhantomData,
        brand: PhantomData,
    });
    (K::from_data(GraphData::from_erased(nodes)), extra)
}

impl<A, D, G: ShapeList, Ss> GraphData<A, D, G, Ss> {
    /// Builds a graph over the inputs `G` with the typed builder; name the root types and
    /// leave the outputs to inference: `GraphData::<f32, (), G, _>::build(|g| { …; g })`.
    ///
    /// The closure returns the builder after its last push; its state `P` lists the outputs
    /// newest first, and the graph's `Ss` is `Rev<P>`. See [`GraphBuilder`] for an example.
    pub fn build<P: Reverse<Reversed = Ss>>(
        f: impl for<'id> FnOnce(GraphBuilder<'id, A, D, G, HNil>) -> GraphBuilder<'id, A, D, G, P>,
    ) -> Self {
        run(|g| (f(g), ())).0
    }

    /// [`GraphData::build`] whose closure also returns a value computed from the finished
    /// builder, such as the indices of the outputs: `(g, (g.idx(y), g.idx(z)))`.
    pub fn build_with<P: Reverse<Reversed = Ss>, R>(
        f: impl for<'id> FnOnce(GraphBuilder<'id, A, D, G, HNil>) -> (GraphBuilder<'id, A, D, G, P>, R),
    ) -> (Self, R) {
        run(f)
    }
}

impl<A, D, G: ShapeList, Ss> Graph<A, D, G, Ss> {
    /// Builds a lawful graph over the inputs `G` with the typed builder (only [`Node`]s are
    /// accepted): `Graph::<f32, (), G, _>::build(|g| { …; g })`.
    pub fn build<P: Reverse<Reversed = Ss>>(
        f: impl for<'id> FnOnce(
            GraphBuilder<'id, A, D, G, HNil, LawfulGraph>,
        ) -> GraphBuilder<'id, A, D, G, P, LawfulGraph>,
    ) -> Self {
        run(|g| (f(g), ())).0
    }

    /// [`Graph::build`] whose closure also returns a value computed from the finished builder.
    pub fn build_with<P: Reverse<Reversed = Ss>, R>(
        f: impl for<'id> FnOnce(
            GraphBuilder<'id, A, D, G, HNil, LawfulGraph>,
        ) -> (GraphBuilder<'id, A, D, G, P, LawfulGraph>, R),
    ) -> (Self, R) {
        run(f)
    }
}
