//! Graphs: snoc-lists of nodes, and their semantics.
//!
//! **Mathematics.** A graph `g` over `Γ` with outputs `Ss` denotes the map
//! `eval : Π Γ → Π (Γ ++ Ss)` given by recursion on the snoc-list: `eval nil x = x` and
//! `eval (snoc g n) x = snoc c (n.forward c)` with `c = eval g x`. `jvp_ctx` is its derivative,
//! by the same recursion on tangents (`snoc dc (n.jvp c dc)`), and `backprop_ctx` its transpose:
//! `backprop nil x seed = seed`, `backprop (snoc g n) x seed = backprop g x (init seed +
//! n.vjp c (last seed))`. If every node is adjoint, `⟨n.jvp c dc, δ⟩ = ⟨dc, n.vjp c δ⟩`,
//! induction on the nodes gives Lean's `backprop_correct`,
//! `⟨jvp_ctx x dx, seed⟩ = ⟨dx, backprop_ctx x seed⟩`: reverse mode computes `J(x)ᵀ seed` for the
//! Jacobian `J(x)` of `eval` (see [`Graph`]).

use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;

use frunk::HNil;

use crate::autograd::Cotangent;
use crate::autograd::builder::{Admits, DataKind, LawfulKind};
use crate::autograd::engine;
use crate::autograd::node::{ErasedNode, NodeOver};
use crate::scalar::Element;
use crate::shape_list::{Cat, ExpectsContext, SeedContext, ShapeList, Snoc, SplitAt};
use crate::tlist::TList;

/// A graph over inputs `G` whose nodes output the shapes `Ss`, in order (Lean's
/// `GraphData α Δ Γ ss`): a snoc-list in which node `k` reads the context `G ++ Ss[..k]`,
/// i.e. every input and every earlier output (sharing and fan-out are free).
///
/// The node list is stored flat with the context types erased; `G` and `Ss` are phantom
/// parameters that fix every node's context at compile time, so evaluation is a loop and
/// reverse mode a single backward sweep.
pub struct GraphData<A, D, G, Ss> {
    pub(crate) nodes: Vec<ErasedNode<A, D>>,
    marker: PhantomData<fn() -> (G, Ss)>,
}

impl<A, D, G, Ss> Clone for GraphData<A, D, G, Ss> {
    fn clone(&self) -> Self {
        GraphData {
            nodes: self.nodes.clone(),
            marker: PhantomData,
        }
    }
}

impl<A, D, G, Ss> fmt::Debug for GraphData<A, D, G, Ss> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.nodes.iter().map(|n| &n.name))
            .finish()
    }
}

impl<A, D, G, Ss> GraphData<A, D, G, Ss> {
    /// A graph from erased nodes whose contexts are `G ++ Ss[..k]` (crate-internal).
    pub(crate) fn from_erased(nodes: Vec<ErasedNode<A, D>>) -> Self {
        GraphData {
            nodes,
            marker: PhantomData,
        }
    }
}

impl<A, D, G: ShapeList> GraphData<A, D, G, HNil> {
    /// The empty graph over the inputs `G` (Lean's `GraphData.nil`).
    ///
    /// Name the types at the root, `GraphData::<f32, (), G>::nil()`, or use
    /// [`GraphBuilder`](crate::autograd::GraphBuilder), which requires them.
    #[must_use]
    pub fn nil() -> Self {
        GraphData {
            nodes: Vec::new(),
            marker: PhantomData,
        }
    }
}

impl<A, D, G: ShapeList, Ss: ShapeList> GraphData<A, D, G, Ss> {
    /// Appends a node reading the context `G ++ Ss` (Lean's `GraphData.snoc`): an op
    /// (`ops::tanh(Idx::at::<0>())`), a [`Node`](crate::autograd::Node) or a
    /// [`NodeData`](crate::autograd::NodeData); a node built for any other context does not
    /// compile.
    #[must_use]
    pub fn snoc<N>(mut self, node: N) -> GraphData<A, D, G, Snoc<Ss, N::Out>>
    where
        N: NodeOver<Cat<G, Ss>>,
        DataKind<A, D>: Admits<N::Body, ErasedNode<A, D>>,
    {
        self.nodes.push(DataKind::<A, D>::admit(node.into_body()));
        GraphData {
            nodes: self.nodes,
            marker: PhantomData,
        }
    }
}

impl<A, D, G: ShapeList, Ss: ShapeList> GraphData<A, D, G, Ss> {
    /// Number of nodes, `Ss.length`.
    pub fn len(&self) -> usize {
        Ss::LEN
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        Ss::LEN == 0
    }

    /// The display names of the nodes, in order.
    pub fn node_names(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|n| &*n.name)
    }

    /// Lean's `eval`: the input context followed by every node's output,
    /// `eval (snoc g n) x d = snoc ctx (n.forward ctx d)` with `ctx = eval g x d`.
    pub fn eval<G1>(&self, x: TList<A, G1>, d: &D) -> TList<A, Cat<G, Ss>>
    where
        G: ExpectsContext<G1>,
    {
        TList::from_items(engine::eval(x.into_items(), self.nodes.len(), |k, vals| {
            self.nodes[k].forward(vals, d)
        }))
    }

    /// Lean's `jvpCtx`: the tangent of every slot of `eval` for the input tangent `dx`,
    /// `jvpCtx (snoc g n) x dx d = snoc dctx (n.jvp ctx dctx d)`.
    pub fn jvp_ctx<G1, G2>(&self, x: TList<A, G1>, dx: TList<A, G2>, d: &D) -> TList<A, Cat<G, Ss>>
    where
        G: ExpectsContext<G1> + ExpectsContext<G2>,
    {
        TList::from_items(engine::jvp(
            x.into_items(),
            dx.into_items(),
            self.nodes.len(),
            |k, vals| self.nodes[k].forward(vals, d),
            |k, vals, tans| self.nodes[k].jvp(vals, tans, d),
        ))
    }
}

impl<A: Element, D, G: ShapeList, Ss: ShapeList> GraphData<A, D, G, Ss> {
    /// Lean's `backpropCtx`: reverse-mode accumulation of the seed cotangent over `G ++ Ss`
    /// down to a cotangent over the inputs `G`.
    ///
    /// Per node, last to first: split the seed's last slot off (the node's output cotangent),
    /// run the node's VJP at its context, add the contribution with the existing seed on the
    /// left, continue. Seeds on the inputs flow into the result; seeds on intermediate slots
    /// are allowed. This implementation evaluates the forward pass once and accumulates in
    /// place (linear in the number of nodes); it is bit-for-bit equal to the literal
    /// recursion [`GraphData::backprop_ctx_literal`], including the dense addition of zeros
    /// (which for IEEE floats turns `−0` into `+0`).
    pub fn backprop_ctx<G1, G2>(&self, x: TList<A, G1>, d: &D, seed: TList<A, G2>) -> TList<A, G>
    where
        G: ExpectsContext<G1>,
        Cat<G, Ss>: SeedContext<G2>,
    {
        let vals = self.eval(x, d).into_items();
        TList::from_items(engine::backprop_all(
            vals,
            seed.into_items(),
            self.nodes.len(),
            |k, vals, s| self.nodes[k].vjp(vals, d, s, None),
        ))
    }

    /// Reverse mode for the leading inputs `P` of `Γ = P ++ R` (typically the parameters,
    /// with the data in `R`): the evaluated context `eval x d` and the `P`-part of
    /// `backprop_ctx x d seed`, bit for bit.
    ///
    /// The seed is a [`Cotangent`]: the dense seed over `Γ ++ Ss` it stands for (zero on the
    /// slots it does not list) is never materialised, and a slot first reached by a VJP takes
    /// that contribution over instead of adding it to zeros (same value, `+0 + c = c + 0`).
    ///
    /// One forward pass serves both results (so the loss need not be evaluated again), and
    /// work that only feeds the cotangents of `R` is skipped: VJP contributions to the data
    /// (`∂x` of a linear layer), and the VJPs of nodes that read no slot depending on `P`
    /// (activity analysis on the slots the library ops record; a node built from closures
    /// counts as reading everything).
    ///
    /// ```
    /// # use shapetape::prelude::*;
    /// # use shapetape::autograd::{Cotangent, GraphData};
    /// # use shapetape::ops;
    /// type P = HList![Vector<2>];
    /// type G = HList![Vector<2>, Vector<2>]; // parameters, then data
    /// let (g, loss) = GraphData::<f64, (), G, _>::build_with(|b| {
    ///     let hlist_pat![w, x] = b.inputs();
    ///     let (b, y) = b.push(|c| ops::mul(c.idx(w), c.idx(x)));
    ///     let (b, l) = b.push(|c| ops::sum(c.idx(y)));
    ///     let l = b.idx(l);
    ///     (b, l)
    /// });
    /// let x: TList<f64, G> = tlist![Tensor::new([1.0, 2.0]), Tensor::new([3.0, 4.0])];
    /// let seed = Cotangent::single(loss, Tensor::new(1.0));
    /// let (ctx, dw) = g.backprop_prefix::<P>(x.clone(), &(), seed.clone());
    /// assert_eq!(ctx.get(loss).as_slice(), &[11.0]);
    /// let dense = g.backprop_ctx(x, &(), seed.to_dense());
    /// let (full, _) = TList::<f64, P>::split::<HList![Vector<2>]>(dense);
    /// assert_eq!(dw, full);
    /// ```
    pub fn backprop_prefix<P: ShapeList>(
        &self,
        x: TList<A, G>,
        d: &D,
        seed: Cotangent<A, Cat<G, Ss>>,
    ) -> (TList<A, Cat<G, Ss>>, TList<A, P>)
    where
        G: SplitAt<P>,
    {
        let vals = self.eval(x, d).into_items();
        let wanted = engine::active_slots(G::LEN, P::LEN, self.nodes.len(), |k| {
            self.nodes[k].reads.as_deref()
        });
        let seed = engine::sparse_seed(vals.len(), seed.into_entries());
        let (mut grads, ctx) = engine::backprop_linear(
            vals,
            seed,
            self.nodes.len(),
            Some(wanted),
            true,
            |k, vals, s, w| self.nodes[k].vjp(vals, d, s, w),
        );
        grads.truncate(P::LEN);
        (TList::from_items(ctx), TList::from_items(grads))
    }

    /// Lean's `backpropCtx`, following the recursion literally: at every node the prefix
    /// graph is evaluated again and the VJP's dense cotangent is added to the whole seed.
    /// Quadratic in the number of nodes; kept as the reference for [`GraphData::backprop_ctx`].
    pub fn backprop_ctx_literal<G1, G2>(
        &self,
        x: TList<A, G1>,
        d: &D,
        seed: TList<A, G2>,
    ) -> TList<A, G>
    where
        G: ExpectsContext<G1>,
        Cat<G, Ss>: SeedContext<G2>,
    {
        TList::from_items(engine::backprop_literal(
            x.into_items(),
            seed.into_items(),
            self.nodes.len(),
            |k, vals| self.nodes[k].forward(vals, d),
            |k, vals, s| self.nodes[k].vjp(vals, d, s, None),
        ))
    }
}

/// A graph all of whose nodes satisfy the adjointness law (Lean's `Graph`): built only from
/// ops and [`Node`](crate::autograd::Node)s. It dereferences to its [`GraphData`] for evaluation and differentiation.
///
/// For such a graph Lean proves `backprop_correct`:
/// `⟨jvp_ctx x dx d, seed⟩ = ⟨dx, backprop_ctx x d seed⟩`.
pub struct Graph<A, D, G, Ss> {
    data: GraphData<A, D, G, Ss>,
}

impl<A, D, G, Ss> Clone for Graph<A, D, G, Ss> {
    fn clone(&self) -> Self {
        Graph {
            data: self.data.clone(),
        }
    }
}

impl<A, D, G, Ss> fmt::Debug for Graph<A, D, G, Ss> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Graph{:?}", self.data)
    }
}

impl<A, D, G: ShapeList> Graph<A, D, G, HNil> {
    /// The empty graph over the inputs `G` (Lean's `Graph.nil`).
    #[must_use]
    pub fn nil() -> Self {
        Graph {
            data: GraphData::nil(),
        }
    }
}

impl<A, D, G: ShapeList, Ss: ShapeList> Graph<A, D, G, Ss> {
    /// Appends a lawful node reading the context `G ++ Ss` (Lean's `Graph.snoc`): an op or a
    /// [`Node`](crate::autograd::Node).
    #[must_use]
    pub fn snoc<N>(self, node: N) -> Graph<A, D, G, Snoc<Ss, N::Out>>
    where
        N: NodeOver<Cat<G, Ss>>,
        LawfulKind<A, D>: Admits<N::Body, ErasedNode<A, D>>,
    {
        let mut nodes = self.data.nodes;
        nodes.push(LawfulKind::<A, D>::admit(node.into_body()));
        Graph {
            data: GraphData::from_erased(nodes),
        }
    }
}

impl<A, D, G, Ss> Graph<A, D, G, Ss> {
    /// A graph whose nodes the caller knows to be lawful `Node`s (crate-internal).
    pub(crate) fn from_lawful_data(data: GraphData<A, D, G, Ss>) -> Self {
        Graph { data }
    }

    /// Forgets the laws (Lean's `Graph.toData`).
    pub fn to_data(&self) -> GraphData<A, D, G, Ss> {
        self.data.clone()
    }

    /// Forgets the laws, by value.
    pub fn into_data(self) -> GraphData<A, D, G, Ss> {
        self.data
    }
}

impl<A, D, G, Ss> Deref for Graph<A, D, G, Ss> {
    type Target = GraphData<A, D, G, Ss>;
    fn deref(&self) -> &Self::Target {
        &self.data
    }
}
