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
use crate::autograd::node::{ErasedNode, NodeOver};
#[allow(unused_imports)] // (for the docs)
use crate::autograd::node::{GraphNode, Node, NodeData};
use crate::autograd::op::{Eval, erase_op};
pub use crate::constraint::Supports;
use crate::internal::{DataBody, LawfulBody, OpBody};
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
    /// Proof of being inside the crate, for trait methods that must stay internal.
    #[derive(Clone, Copy, Debug)]
    pub struct Token(pub(super) ());
}

/// What a [`GraphBuilder`] builds, and what each graph stores per node: [`DataKind`] builds a
/// [`GraphData`], [`LawfulKind`] a lawful [`Graph`], and the certified kinds
/// [`RevKind`](crate::approx::RevKind) and [`FwdKind`](crate::approx::FwdKind) a
/// [`RevGraph`](crate::approx::RevGraph) and a [`FwdGraph`](crate::approx::FwdGraph).
pub trait GraphKind {
    /// The graph type over the inputs `G` with node outputs `Ss`.
    type Graph<G, Ss>;
    #[doc(hidden)]
    type Stored;
    #[doc(hidden)]
    fn finish<G, Ss>(nodes: Vec<Self::Stored>) -> Self::Graph<G, Ss>;
}

/// The graph kind `Self` accepts a node with the context-free body `B` (see
/// [`GraphNode::Body`]): every kind accepts an op it can run ([`OpNode`](crate::autograd::OpNode));
/// a [`GraphData`] also takes a [`NodeData`] or a [`Node`], a lawful [`Graph`] a [`Node`].
///
/// In a block generic over the graph kind, bound the kind by the ops it pushes with
/// [`Supports`](crate::autograd::Supports).
#[diagnostic::on_unimplemented(
    message = "this graph cannot take the node: `{Self}` does not admit `{B}`",
    label = "not admitted by this graph kind",
    note = "a lawful `Graph` takes ops and `Node`s only (wrap a checked `NodeData` with `Node::new_unchecked`, after testing its law with `check_adjoint`); a `GraphData` takes ops, `Node`s and `NodeData`s; a certified `RevGraph<R, P, ..>`/`FwdGraph` takes ops that implement `Eval` at `R`, at `P` and at `Interval` (an op with `exp` or `ln` needs a spec scalar that is `Real`, such as `f64`)"
)]
pub trait Admits<B, Stored> {
    // (`Stored` is the kind's `GraphKind::Stored`, as a parameter: with a `GraphKind`
    // supertrait, a bound `K: Admits<B>` on a concrete kind would shadow the kind's own impl
    // of `GraphKind` and hide its `Stored` type from the compiler.)
    #[doc(hidden)]
    fn admit(body: B) -> Stored;
}

/// The builder of a [`GraphData<A, D, …>`]: accepts ops, [`Node`]s and [`NodeData`]s.
pub struct DataKind<A, D = ()>(PhantomData<fn() -> (A, D)>);

/// The builder of a lawful [`Graph<A, D, …>`]: accepts ops and [`Node`]s.
pub struct LawfulKind<A, D = ()>(PhantomData<fn() -> (A, D)>);

impl<A, D> fmt::Debug for DataKind<A, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKind")
    }
}
impl<A, D> fmt::Debug for LawfulKind<A, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LawfulKind")
    }
}

impl<A, D> GraphKind for DataKind<A, D> {
    type Graph<G, Ss> = GraphData<A, D, G, Ss>;
    type Stored = ErasedNode<A, D>;
    fn finish<G, Ss>(nodes: Vec<ErasedNode<A, D>>) -> GraphData<A, D, G, Ss> {
        GraphData::from_erased(nodes)
    }
}

impl<A, D> GraphKind for LawfulKind<A, D> {
    type Graph<G, Ss> = Graph<A, D, G, Ss>;
    type Stored = ErasedNode<A, D>;
    fn finish<G, Ss>(nodes: Vec<ErasedNode<A, D>>) -> Graph<A, D, G, Ss> {
        // Only `Admits` puts nodes into a lawful builder, and for `LawfulKind` it admits ops and
        // `Node`s alone.
        Graph::from_lawful_data(GraphData::from_erased(nodes))
    }
}

// Both executable kinds admit ops and lawful nodes; only `DataKind` admits a bare `NodeData`.
macro_rules! admits_lawful {
    ($($kind:ident),*) => {$(
        impl<A, D, K: Eval<A, D>> Admits<OpBody<K>, ErasedNode<A, D>> for $kind<A, D> {
            #[inline]
            fn admit(body: OpBody<K>) -> ErasedNode<A, D> {
                erase_op(body.0)
            }
        }
        impl<A, D> Admits<LawfulBody<A, D>, ErasedNode<A, D>> for $kind<A, D> {
            #[inline]
            fn admit(body: LawfulBody<A, D>) -> ErasedNode<A, D> {
                body.0
            }
        }
    )*};
}
admits_lawful!(DataKind, LawfulKind);

impl<A, D> Admits<DataBody<A, D>, ErasedNode<A, D>> for DataKind<A, D> {
    #[inline]
    fn admit(body: DataBody<A, D>) -> ErasedNode<A, D> {
        body.0
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
/// `'id`. `K` is the graph kind ([`DataKind`], [`LawfulKind`], [`RevKind`](crate::approx::RevKind), [`FwdKind`](crate::approx::FwdKind)).
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
/// projections, which makes type checking slow: [`GraphData::build`] accepts ops, [`Node`]s and [`NodeData`]s, [`Graph::build`] only ops and
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
/// instance one built inside the other's closure, or a scan's body) does not compile. The
/// compiler reports that as **E0521, "borrowed data escapes outside of closure"**, naming the
/// lifetime `'id` (rustc's own message, which a library cannot reword): it means a `Var` was
/// used with a builder other than the one that made it.
///
/// ```compile_fail,E0521
/// # use shapetape::prelude::*;
/// # use shapetape::{autograd::GraphData, ops};
/// type G = HList![Vector<2>];
/// let _ = GraphData::<f64, (), G, _>::build(|outer| {
///     let x = outer.input::<0>();
///     let _inner = GraphData::<f64, (), G, _>::build(|inner| {
///         let (inner, _) = inner.push(|c| ops::relu(c.idx(x))); // x belongs to `outer`
///         inner
///     });
///     outer
/// });
/// ```
///
/// Within one builder the
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
pub struct GraphBuilder<'id, K: GraphKind, G, P> {
    /// The nodes so far, in the buffer of the `build` call that branded `'id`; `P` (newest
    /// first) fixes their contexts. Borrowed, not owned: a builder then has no drop glue, which
    /// would otherwise be compiled once per state, i.e. once per node of a long graph.
    nodes: &'id mut Vec<K::Stored>,
    /// The type-level state: inputs, outputs so far (newest first), graph kind. One marker
    /// per parameter, shared with the other types that name `P` (see `Idx`).
    inputs: PhantomData<G>,
    outputs: PhantomData<P>,
    kind: PhantomData<K>,
    brand: Brand<'id>,
}

/// The builder after pushing one node of shape `T` onto `GraphBuilder<'id, K, G, P>`, with the
/// handle of that node: what [`GraphBuilder::push`] returns. A block that pushes several
/// nodes returns the builder with every new output consed onto `P`, newest first.
pub type Pushed<'id, K, G, P, T> = (GraphBuilder<'id, K, G, HCons<T, P>>, Var<'id, T>);

impl<K: GraphKind, G, P> fmt::Debug for GraphBuilder<'_, K, G, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GraphBuilder({} nodes)", self.nodes.len())
    }
}

impl<'id, K: GraphKind, G: ShapeList, P: Reverse> GraphBuilder<'id, K, G, P> {
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
    /// returns (an op such as `ops::tanh(c.idx(x))`, or a node this graph kind admits) must be
    /// built for exactly that context, as for `snoc`.
    pub fn push<N, F>(self, node: F) -> Pushed<'id, K, G, P, N::Out>
    where
        F: FnOnce(&Scope<'id, BuildCtx<G, P>>) -> N,
        N: NodeOver<BuildCtx<G, P>>,
        K: Admits<N::Body, K::Stored>,
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
        nodes.push(K::admit(node.into_body()));
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

    /// [`push`](Self::push) for a node constructor that can fail (an op with a constant, such as
    /// `ops::scale`): the constructor's error, or the grown builder and the new handle. Use it
    /// inside `try_build` / `try_build_with`, whose closure returns a `Result`:
    ///
    /// ```
    /// # use shapetape::prelude::*;
    /// # use shapetape::{autograd::GraphData, ops};
    /// type G = HList![Vector<2>];
    /// let g = GraphData::<f64, (), G, _>::try_build(|b| {
    ///     let x = b.input::<0>();
    ///     let (b, _) = b.try_push(|c| ops::scale(c.idx(x), 0.5))?;
    ///     Ok::<_, ops::ConstantError>(b)
    /// });
    /// assert!(g.is_ok());
    /// let bad = GraphData::<f64, (), G, _>::try_build(|b| {
    ///     let x = b.input::<0>();
    ///     let (b, _) = b.try_push(|c| ops::scale(c.idx(x), f64::NAN))?;
    ///     Ok::<_, ops::ConstantError>(b)
    /// });
    /// assert_eq!(bad.unwrap_err().op, "scale");
    /// ```
    pub fn try_push<N, E, F>(self, node: F) -> Result<Pushed<'id, K, G, P, N::Out>, E>
    where
        F: FnOnce(&Scope<'id, BuildCtx<G, P>>) -> Result<N, E>,
        N: NodeOver<BuildCtx<G, P>>,
        K: Admits<N::Body, K::Stored>,
    {
        let node = node(&Scope {
            brand: PhantomData,
            ctx: PhantomData,
        })?;
        Ok(self.push(|_| node))
    }

    /// Bakes the tensor `c` into the graph as a node with no operands and zero derivative (an
    /// [`ops::constant`](crate::ops::constant)); every entry must be finite.
    pub fn constant<S: Shape>(
        self,
        c: crate::tensor::Tensor<f64, S>,
    ) -> Result<Pushed<'id, K, G, P, S>, crate::ops::ConstantError>
    where
        K: Supports<crate::ops::Const<S>>,
    {
        self.try_push(|_| crate::ops::constant(c))
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
    pub fn graph(&self) -> K::Graph<G, Rev<P>>
    where
        K::Stored: Clone,
    {
        K::finish(self.nodes.clone())
    }
}

impl<'id, K: GraphKind, G> GraphBuilder<'id, K, G, HNil> {
    /// A fresh builder writing into `nodes` (crate-internal: the caller runs it at a fresh
    /// brand, as `run` does).
    pub(crate) fn over(nodes: &'id mut Vec<K::Stored>) -> Self {
        GraphBuilder {
            nodes,
            inputs: PhantomData,
            outputs: PhantomData,
            kind: PhantomData,
            brand: PhantomData,
        }
    }
}

impl<'id, K: GraphKind, G: ShapeList, P: Reverse> GraphBuilder<'id, K, G, P> {
    /// Appends an already admitted node of output shape `T` (crate-internal).
    pub(crate) fn push_stored<T>(self, node: K::Stored) -> Pushed<'id, K, G, P, T> {
        let GraphBuilder { nodes, .. } = self;
        let out = Var::new(G::LEN + P::LEN);
        nodes.push(node);
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
}

/// Runs a builder closure at a fresh brand: the one mechanism behind every entry point.
pub(crate) fn run<K: GraphKind, G: ShapeList, P: Reverse, R>(
    f: impl for<'id> FnOnce(GraphBuilder<'id, K, G, HNil>) -> (GraphBuilder<'id, K, G, P>, R),
) -> (K::Graph<G, Rev<P>>, R) {
    let mut nodes = Vec::new();
    let (_, extra) = f(GraphBuilder {
        nodes: &mut nodes,
        inputs: PhantomData,
        outputs: PhantomData,
        kind: PhantomData,
        brand: PhantomData,
    });
    (K::finish(nodes), extra)
}

/// [`run`] for a closure that can fail (a constructor's error, such as a bad constant given to
/// `try_push`): the error, or the graph.
#[allow(clippy::type_complexity)]
pub(crate) fn try_run<K: GraphKind, G: ShapeList, P: Reverse, R, E>(
    f: impl for<'id> FnOnce(GraphBuilder<'id, K, G, HNil>) -> Result<(GraphBuilder<'id, K, G, P>, R), E>,
) -> Result<(K::Graph<G, Rev<P>>, R), E> {
    let mut nodes = Vec::new();
    let (_, extra) = f(GraphBuilder {
        nodes: &mut nodes,
        inputs: PhantomData,
        outputs: PhantomData,
        kind: PhantomData,
        brand: PhantomData,
    })?;
    Ok((K::finish(nodes), extra))
}

/// The `build`, `build_with`, `try_build` and `try_build_with` entry points of a graph type,
/// for its builder kind.
macro_rules! build_entry_points {
    ($graph:ident < $a:ident, $d:ident >, $kind:ty, $what:literal) => {
        impl<$a, $d, G: $crate::shape_list::ShapeList, Ss> $graph<$a, $d, G, Ss> {
            #[doc = concat!("Builds ", $what, " over the inputs `G` with the typed builder; name the root")]
            /// types and leave the outputs to inference (`…::<f32, f64, G, _>::build(|b| { …; b })`).
            ///
            /// The closure returns the builder after its last push; its state `P` lists the
            /// outputs newest first, and the graph's `Ss` is `Rev<Q>`. See
            /// [`GraphBuilder`](crate::autograd::GraphBuilder) for an example.
            pub fn build<Q: $crate::shape_list::Reverse<Reversed = Ss>>(
                f: impl for<'id> FnOnce(
                    $crate::autograd::GraphBuilder<'id, $kind, G, $crate::HNil>,
                ) -> $crate::autograd::GraphBuilder<'id, $kind, G, Q>,
            ) -> Self {
                $crate::autograd::builder::run(|g| (f(g), ())).0
            }

            /// `build` whose closure also returns a value computed from the finished builder,
            /// such as the indices of the outputs: `(g, (g.idx(y), g.idx(z)))`.
            pub fn build_with<Q: $crate::shape_list::Reverse<Reversed = Ss>, Extra>(
                f: impl for<'id> FnOnce(
                    $crate::autograd::GraphBuilder<'id, $kind, G, $crate::HNil>,
                ) -> ($crate::autograd::GraphBuilder<'id, $kind, G, Q>, Extra),
            ) -> (Self, Extra) {
                $crate::autograd::builder::run(f)
            }

            /// `build` whose closure can fail, for nodes pushed with
            /// [`try_push`](crate::autograd::GraphBuilder::try_push) (`?` inside the closure):
            /// the first error, or the graph.
            pub fn try_build<Q: $crate::shape_list::Reverse<Reversed = Ss>, E>(
                f: impl for<'id> FnOnce(
                    $crate::autograd::GraphBuilder<'id, $kind, G, $crate::HNil>,
                ) -> Result<$crate::autograd::GraphBuilder<'id, $kind, G, Q>, E>,
            ) -> Result<Self, E> {
                $crate::autograd::builder::try_run(|g| f(g).map(|g| (g, ()))).map(|(g, ())| g)
            }

            /// `build_with` whose closure can fail: the first error, or the graph and the
            /// closure's value.
            pub fn try_build_with<Q: $crate::shape_list::Reverse<Reversed = Ss>, Extra, E>(
                f: impl for<'id> FnOnce(
                    $crate::autograd::GraphBuilder<'id, $kind, G, $crate::HNil>,
                ) -> Result<($crate::autograd::GraphBuilder<'id, $kind, G, Q>, Extra), E>,
            ) -> Result<(Self, Extra), E> {
                $crate::autograd::builder::try_run(f)
            }
        }
    };
}
pub(crate) use build_entry_points;

build_entry_points!(GraphData<A, D>, DataKind<A, D>, "executable graph data");
build_entry_points!(Graph<A, D>, LawfulKind<A, D>, "a lawful graph (ops and `Node`s only)");
