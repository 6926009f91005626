//! Graphs: snoc-lists of nodes, and their semantics.

use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;

use frunk::HNil;

use crate::autograd::cotangent::Cotangent;
use crate::autograd::node::{ErasedNode, IntoNodeData, Node};
use crate::scalar::Element;
use crate::shape::Shape;
use crate::shape_list::{Cat, SameContext, ShapeList, Snoc};
use crate::tensor::Owned;
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
        GraphData { nodes: self.nodes.clone(), marker: PhantomData }
    }
}

impl<A, D, G, Ss> fmt::Debug for GraphData<A, D, G, Ss> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.nodes.iter().map(|n| &n.name)).finish()
    }
}

impl<A, D, G: ShapeList> GraphData<A, D, G, HNil> {
    /// The empty graph over the inputs `G` (Lean's `GraphData.nil`).
    ///
    /// Name the types at the root, `GraphData::<f32, (), G>::nil()`, or use
    /// [`GraphBuilder`](crate::autograd::GraphBuilder), which requires them.
    pub fn nil() -> Self {
        GraphData { nodes: Vec::new(), marker: PhantomData }
    }
}

impl<A: 'static, D: 'static, G: ShapeList, Ss: ShapeList> GraphData<A, D, G, Ss> {
    /// Appends a node reading the context `G ++ Ss` (Lean's `GraphData.snoc`); a node built
    /// for any other context does not compile.
    pub fn snoc<N>(mut self, node: N) -> GraphData<A, D, G, Snoc<Ss, N::Out>>
    where
        N: IntoNodeData<Elem = A, Env = D>,
        N::Ctx: SameContext<Cat<G, Ss>>,
    {
        self.nodes.push(node.into_node_data().erase());
        GraphData { nodes: self.nodes, marker: PhantomData }
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
    pub fn eval<G1: SameContext<G>>(&self, x: TList<A, G1>, d: &D) -> TList<A, Cat<G, Ss>> {
        let mut vals = x.into_items();
        vals.reserve(self.nodes.len());
        for node in &self.nodes {
            let out = (node.forward)(&mut vals, d);
            vals.push(out);
        }
        TList::from_items(vals)
    }

    /// Lean's `jvpCtx`: the tangent of every slot of `eval` for the input tangent `dx`,
    /// `jvpCtx (snoc g n) x dx d = snoc dctx (n.jvp ctx dctx d)`.
    pub fn jvp_ctx<G1: SameContext<G>, G2: SameContext<G>>(
        &self,
        x: TList<A, G1>,
        dx: TList<A, G2>,
        d: &D,
    ) -> TList<A, Cat<G, Ss>> {
        let mut vals = x.into_items();
        let mut tans = dx.into_items();
        for node in &self.nodes {
            let t = (node.jvp)(&mut vals, &mut tans, d);
            let y = (node.forward)(&mut vals, d);
            vals.push(y);
            tans.push(t);
        }
        TList::from_items(tans)
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
    pub fn backprop_ctx<G1: SameContext<G>, G2: SameContext<Cat<G, Ss>>>(
        &self,
        x: TList<A, G1>,
        d: &D,
        seed: TList<A, G2>,
    ) -> TList<A, G> {
        let n = self.nodes.len();
        let mut vals = self.eval(x, d).into_items();
        let mut acc = seed.into_items();
        // `last[j]`: the node that last added a real contribution to slot `j` (`n`: none yet).
        // Every node between then and now saw slot `j` and added a dense zero to it.
        let mut last = vec![n; acc.len()];
        for k in (0..n).rev() {
            vals.pop();
            let mut seed_out = acc.pop().expect("seed covers every slot");
            if last[acc.len()] > k + 1 {
                seed_out.add_zero();
            }
            let contrib = (self.nodes[k].vjp)(&mut vals, d, seed_out);
            for (j, c) in contrib {
                if last[j] > k + 1 {
                    acc[j].add_zero();
                }
                acc[j].add_assign(&c);
                last[j] = k;
            }
        }
        for (slot, &l) in acc.iter_mut().zip(&last) {
            if l > 0 {
                slot.add_zero();
            }
        }
        TList::from_items(acc)
    }

    /// Lean's `backpropCtx`, following the recursion literally: at every node the prefix
    /// graph is evaluated again and the VJP's dense cotangent is added to the whole seed.
    /// Quadratic in the number of nodes; kept as the reference for [`GraphData::backprop_ctx`].
    pub fn backprop_ctx_literal<G1: SameContext<G>, G2: SameContext<Cat<G, Ss>>>(
        &self,
        x: TList<A, G1>,
        d: &D,
        seed: TList<A, G2>,
    ) -> TList<A, G> {
        let x = x.into_items();
        let mut seed = seed.into_items();
        for k in (0..self.nodes.len()).rev() {
            // (seedPrev, seedOut) = unsnoc seed
            let seed_out = seed.pop().expect("seed covers every slot");
            // ctx = eval g x d, for the prefix graph of k nodes
            let mut ctx = x.clone();
            for node in &self.nodes[..k] {
                let y = (node.forward)(&mut ctx, d);
                ctx.push(y);
            }
            // contrib = n.vjp ctx d seedOut, as a dense context
            let sizes: Vec<usize> = ctx.iter().map(Owned::len).collect();
            let entries = (self.nodes[k].vjp)(&mut ctx, d, seed_out);
            let mut sparse = Cotangent::<A, ()>::zero();
            let dense = {
                for (p, t) in entries {
                    sparse.push_raw(p, t);
                }
                sparse.dense_items(sizes.into_iter())
            };
            // seedPrev' = TList.add seedPrev contrib
            for (s, c) in seed.iter_mut().zip(&dense) {
                s.add_assign(c);
            }
        }
        TList::from_items(seed)
    }
}

/// A graph all of whose nodes satisfy the adjointness law (Lean's `Graph`): built only from
/// [`Node`]s. It dereferences to its [`GraphData`] for evaluation and differentiation.
///
/// For such a graph Lean proves `backprop_correct`:
/// `⟨jvp_ctx x dx d, seed⟩ = ⟨dx, backprop_ctx x d seed⟩`.
pub struct Graph<A, D, G, Ss> {
    data: GraphData<A, D, G, Ss>,
}

impl<A, D, G, Ss> Clone for Graph<A, D, G, Ss> {
    fn clone(&self) -> Self {
        Graph { data: self.data.clone() }
    }
}

impl<A, D, G, Ss> fmt::Debug for Graph<A, D, G, Ss> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Graph{:?}", self.data)
    }
}

impl<A, D, G: ShapeList> Graph<A, D, G, HNil> {
    /// The empty graph over the inputs `G` (Lean's `Graph.nil`).
    pub fn nil() -> Self {
        Graph { data: GraphData::nil() }
    }
}

impl<A: 'static, D: 'static, G: ShapeList, Ss: ShapeList> Graph<A, D, G, Ss> {
    /// Appends a lawful node reading the context `G ++ Ss` (Lean's `Graph.snoc`).
    pub fn snoc<G2: SameContext<Cat<G, Ss>>, T: Shape>(self, node: Node<A, D, G2, T>) -> Graph<A, D, G, Snoc<Ss, T>> {
        Graph { data: self.data.snoc(node) }
    }
}

impl<A, D, G, Ss> Graph<A, D, G, Ss> {
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
