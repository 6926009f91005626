//! Graph export: the dataflow of a graph (which slots each node reads) and its Graphviz DOT
//! rendering.
//!
//! **Mathematics.** A graph over the inputs `Γ` with node outputs `Ss` is a directed acyclic
//! graph on the slots of `Γ ++ Ss`: node `k` produces slot `|Γ| + k` and has an edge from every
//! earlier slot `j` that its output depends on. Nodes are closures, so that relation is not
//! stored; it is read off the reverse mode. At a point `x`, the VJP of node `k` is the
//! transposed Jacobian `Jₖ(ctxₖ)ᵀ : Tₖ → Π_{j < |Γ| + k} S_j` evaluated at its context
//! `ctxₖ = eval(x)[..|Γ| + k]`, and it returns a sparse [`Cotangent`](crate::autograd::Cotangent):
//! the slots it lists are the blocks `J_{k,j}ᵀ` it may make non-zero, every other block being
//! zero by construction. The operands of node `k` are therefore taken to be the slots listed
//! by `vjp(ctxₖ, d, 𝟙)`, with the all-ones seed `𝟙` of the output shape. These are exactly
//! the edges that [`backprop_ctx`](crate::autograd::GraphData::backprop_ctx) propagates along.
//!
//! **Exactness.** Every op ([`Op`](crate::autograd::Op), the library's and a user's alike)
//! records the slots it reads ([`Op::reads`](crate::autograd::Op::reads)), and those are its
//! edges: they do not depend on `x` and are exactly the operands. A node built from closures
//! ([`NodeData::new`](crate::autograd::NodeData::new)) is rendered as its VJP describes it: a VJP that returns a dense cotangent
//! ([`Cotangent::from_dense`](crate::autograd::Cotangent::from_dense)) gets an edge from
//! every earlier slot, and one that leaves out a slot whose contribution is zero at this `x`
//! (or for this seed) loses that edge. Reads that do not enter the derivative at all are
//! invisible too.
//!
//! **Aliasing and fan-out.** There is at most one edge from a slot to a node: an operand read
//! twice, as in `ops::mul(a, a)`, gives a single edge, because the VJP combines both
//! contributions into one cotangent entry. A slot read by several nodes (fan-out) has one
//! edge to each of them. Inputs that no node reads appear as isolated sources.
//!
//! **DOT.** [`Dataflow::to_dot`] draws input slot `i` as a box `x{i}: [dims]`, node `k` as an
//! ellipse `{k}: {name}`, and every edge labelled with the dimensions of the slot it carries
//! (`[]` for a scalar). The text depends only on the graph (and, for hand-written nodes, on
//! `x`), so it can be compared in tests; rendering it (`dot -Tpng`) needs Graphviz, which
//! this crate does not.
//!
//! ```
//! use shapetape::prelude::*;
//! use shapetape::autograd::GraphData;
//! use shapetape::ops;
//!
//! type G = HList![Matrix<2, 3>, Vector<3>];
//! let (g, _) = GraphData::<f64, (), G, _>::build_with(|b| {
//!     let hlist_pat![w, x] = b.inputs();
//!     let (b, y) = b.push(|c| ops::matvec(c.idx(w), c.idx(x)));
//!     let (b, _) = b.push(|c| ops::sum(c.idx(y)));
//!     (b, ())
//! });
//! let flow = g.dataflow(&TList::zero(), &());
//! assert_eq!(flow.edges(), vec![(0, 0), (1, 0), (2, 1)]); // (slot, node)
//! let dot = g.to_dot(&TList::zero(), &());
//! assert!(dot.contains(r#"x0 [label="x0: [2, 3]"#));
//! assert!(dot.contains(r#"n0 [label="0: matvec"#));
//! assert!(dot.contains(r#"x1 -> n0 [label="[3]"]"#));
//! assert!(dot.contains(r#"n0 -> n1 [label="[2]"]"#));
//! ```

use core::fmt::{self, Write as _};

use smallvec::SmallVec;

use crate::approx::{RevGraph, RuntimeFloat};
use crate::autograd::GraphData;
use crate::scalar::Element;
use crate::shape_list::{ExpectsContext, ShapeList};
use crate::tensor::Owned;
use crate::tlist::TList;

/// The dataflow of a graph: the shapes of its input slots and, per node, its name, output
/// shape and operands. Slots are numbered as in the evaluated context `Γ ++ Ss`: input `i` is
/// slot `i`, node `k`'s output is slot `inputs.len() + k`.
///
/// Built by [`GraphData::dataflow`] or [`RevGraph::dataflow`]; see the
/// [module docs](crate::export) for how the operands are found and when that is exact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataflow {
    /// The dimensions of every input slot (of `Γ`), in order.
    pub inputs: Vec<Vec<usize>>,
    /// The nodes, in order.
    pub nodes: Vec<DataflowNode>,
}

/// One node of a [`Dataflow`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataflowNode {
    /// The node's display name ([`NodeData::named`](crate::autograd::NodeData::named)).
    pub name: String,
    /// The dimensions of the node's output, outermost first (empty for a scalar).
    pub out_dims: Vec<usize>,
    /// The slots the node reads, each once, in the order its VJP lists them (for the library
    /// ops, operand order: `[a, b]` for `ops::sub(a, b)`). Every slot is earlier than the
    /// node's own output slot.
    pub operands: Vec<usize>,
}

impl Dataflow {
    /// Number of slots, `|Γ| + |Ss|`.
    pub fn slot_count(&self) -> usize {
        self.inputs.len() + self.nodes.len()
    }

    /// The dimensions of `slot` (an input's or a node output's), or `None` past the end.
    pub fn slot_dims(&self, slot: usize) -> Option<&[usize]> {
        match slot.checked_sub(self.inputs.len()) {
            None => Some(&self.inputs[slot]),
            Some(k) => self.nodes.get(k).map(|n| &n.out_dims[..]),
        }
    }

    /// Every edge as `(slot, node)`: `node` reads `slot`. Ordered by node, then by operand.
    pub fn edges(&self) -> Vec<(usize, usize)> {
        self.nodes
            .iter()
            .enumerate()
            .flat_map(|(k, n)| n.operands.iter().map(move |&j| (j, k)))
            .collect()
    }

    /// The nodes that read `slot`, in order (more than one: fan-out).
    pub fn readers(&self, slot: usize) -> Vec<usize> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.operands.contains(&slot))
            .map(|(k, _)| k)
            .collect()
    }

    /// The Graphviz DOT text of the graph (see the [module docs](crate::export) for the
    /// layout): `digraph shapetape { … }`, with inputs `x{i}`, nodes `n{k}` and one labelled
    /// edge per operand.
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        self.write_dot(&mut out)
            .expect("writing to a String cannot fail");
        out
    }

    fn slot_id(&self, slot: usize) -> String {
        match slot.checked_sub(self.inputs.len()) {
            None => format!("x{slot}"),
            Some(k) => format!("n{k}"),
        }
    }

    fn write_dot(&self, out: &mut String) -> fmt::Result {
        writeln!(out, "digraph shapetape {{")?;
        writeln!(out, "  rankdir=TB;")?;
        writeln!(out, "  node [fontname=\"Helvetica\", fontsize=11];")?;
        writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=9];")?;
        for (i, dims) in self.inputs.iter().enumerate() {
            writeln!(
                out,
                "  x{i} [label=\"x{i}: {}\", shape=box];",
                dims_text(dims)
            )?;
        }
        for (k, node) in self.nodes.iter().enumerate() {
            writeln!(
                out,
                "  n{k} [label=\"{k}: {}\", shape=ellipse, tooltip=\"output {}\"];",
                escape(&node.name),
                dims_text(&node.out_dims)
            )?;
        }
        for (j, k) in self.edges() {
            let dims = self.slot_dims(j).expect("operands are earlier slots");
            writeln!(
                out,
                "  {} -> n{k} [label=\"{}\"];",
                self.slot_id(j),
                dims_text(dims)
            )?;
        }
        writeln!(out, "}}")
    }
}

/// `[2, 3]`, `[]` for a scalar (the format of [`Tensor`](crate::Tensor)'s `Display`).
fn dims_text(dims: &[usize]) -> String {
    format!("{dims:?}")
}

/// The text as the inside of a DOT double-quoted string.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

impl<A: Element, D, G: ShapeList, Ss: ShapeList> GraphData<A, D, G, Ss> {
    /// The graph's [`Dataflow`], with each node's operands read off its VJP at the point
    /// `x` (environment `d`): one forward pass and one VJP per node, about the cost of one
    /// [`backprop_ctx`](GraphData::backprop_ctx). For graphs of library ops the result does
    /// not depend on `x`; `TList::zero()` will do (see the [module docs](crate::export)).
    pub fn dataflow<G1>(&self, x: &TList<A, G1>, d: &D) -> Dataflow
    where
        G: ExpectsContext<G1>,
    {
        // One forward pass; before node k's output is appended, `vals` is its context.
        let mut vals = x.clone().into_items();
        let mut ops = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let mut slots: Vec<usize> = match &node.reads {
                Some(reads) => reads.to_vec(),
                None => {
                    let ones = Owned(SmallVec::from_elem(
                        A::one(),
                        node.out_dims.iter().product(),
                    ));
                    node.vjp(&mut vals, d, ones, None)
                        .into_iter()
                        .map(|(j, _)| j)
                        .collect()
                }
            };
            // A cotangent lists each slot once; keep only the first occurrence regardless.
            let mut seen = vec![false; vals.len()];
            slots.retain(|&j| !core::mem::replace(&mut seen[j], true));
            ops.push(slots);
            let y = node.forward(&mut vals, d);
            vals.push(y);
        }
        Dataflow {
            inputs: G::layout().into_iter().map(|l| l.dims).collect(),
            nodes: self
                .nodes
                .iter()
                .zip(ops)
                .map(|(n, operands)| DataflowNode {
                    name: n.name.to_string(),
                    out_dims: n.out_dims.clone(),
                    operands,
                })
                .collect(),
        }
    }

    /// The graph as Graphviz DOT text: `self.dataflow(x, d).to_dot()` (see
    /// [`GraphData::dataflow`] and [`Dataflow::to_dot`]).
    pub fn to_dot<G1>(&self, x: &TList<A, G1>, d: &D) -> String
    where
        G: ExpectsContext<G1>,
    {
        self.dataflow(x, d).to_dot()
    }
}

impl<R: RuntimeFloat, P, G: ShapeList, Ss: ShapeList> RevGraph<R, P, G, Ss> {
    /// The graph's [`Dataflow`], read off the runtime VJPs at the runtime point `x`: the
    /// dataflow of its erasure [`to_graph_data`](RevGraph::to_graph_data), which keeps the
    /// names, shapes and operand slots. The spec side and the bounds read the same slots
    /// (they are the same op).
    pub fn dataflow<G1>(&self, x: &TList<R, G1>) -> Dataflow
    where
        G: ExpectsContext<G1>,
    {
        self.to_graph_data().dataflow(x, &())
    }

    /// The graph as Graphviz DOT text: `self.dataflow(x).to_dot()`.
    pub fn to_dot<G1>(&self, x: &TList<R, G1>) -> String
    where
        G: ExpectsContext<G1>,
    {
        self.dataflow(x).to_dot()
    }
}
