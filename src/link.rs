//! The bridge from the runtime-approximation layer to the executable autograd layer
//! (Lean's `Proofs.RuntimeApprox.Graph.LinkAutogradAlgebra`).
//!
//! Erasing a [`RevGraph<R, P, Γ, Ss>`] forgets its spec semantics and its bounds and keeps the
//! runtime closures, as a [`GraphData<R, (), Γ, Ss>`]: the executable layer instantiated at
//! the environment `Δ = ()` (the approximation graphs have no side environment; `()` is
//! passed). The types are preserved exactly, which the compiler checks; the two Lean theorems
//! are property tests (`tests/link.rs`):
//!
//! - `evalRuntime_of_toGraphData`: `g.to_graph_data().eval(x, &()) == g.eval_runtime(x)`;
//! - `backpropRuntime_of_toGraphData`:
//!   `g.to_graph_data().backprop_ctx(x, &(), seed) == g.backprop_runtime(x, seed)`.
//!
//! **Deviation from Lean (JVP).** Lean's `RevNode.toNodeData` fills the erased node's `jvp`
//! with the forward value, a placeholder, so `jvpCtx` on an erased graph is meaningless. Here
//! every [`RevNode`] carries a runtime JVP (each library op has one) and erasure keeps it, so
//! `jvp_ctx` on an erased graph is a real forward-mode derivative, adjoint to `backprop_ctx`.
//!
//! ```
//! use shapetape::prelude::*;
//! use shapetape::approx::{self, RevGraph};
//! use shapetape::autograd::GraphData;
//! type G = HList![Vector<2>, Vector<2>];
//! let g = RevGraph::<f32, f64, G, HNil>::nil()
//!     .snoc(approx::ops::mul(Idx::at::<0>(), Idx::at::<1>()));
//! let erased: GraphData<f32, (), G, HList![Vector<2>]> = g.to_graph_data();
//! let x: TList<f32, G> = tlist![Tensor::new([1.0, 2.0]), Tensor::new([3.0, 4.0])];
//! assert_eq!(erased.eval(x.clone(), &()), g.eval_runtime(x));
//! ```

use std::sync::Arc;

use crate::approx::graph::{ErasedJvp, ErasedRev, ErasedRt, ErasedVjp, Maps};
use crate::approx::{RevGraph, RevNode, RuntimeFloat};
use crate::autograd::GraphData;
use crate::autograd::NodeData;
use crate::autograd::kernel::Contribs;
use crate::autograd::node::{Body, ErasedNode, OwningFns};
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tensor::Owned;

impl<R, P, G, T> RevNode<R, P, G, T>
where
    R: RuntimeFloat,
    G: ShapeList,
    T: Shape,
{
    /// Erases a reverse node into an executable node with `Δ = ()` (Lean's
    /// `RevNode.toNodeData`): `forward ctx () = forward_runtime ctx`,
    /// `vjp ctx () δ = vjp_runtime ctx δ`, and `jvp ctx dctx () = jvp_runtime ctx dctx` (a real
    /// JVP, where Lean keeps a placeholder).
    pub fn to_node_data(&self) -> NodeData<R, (), G, T> {
        if let Some(k) = &self.fwd.kernels {
            // One op at both scalars: its runtime side is already an executable node.
            return NodeData::from_erased(k.runtime.clone()).named(self.fwd.name.clone());
        }
        let f = Arc::clone(&self.fwd.forward_runtime);
        let j = Arc::clone(&self.jvp_runtime);
        let v = Arc::clone(&self.vjp_runtime);
        NodeData::new(
            move |x, ()| f(x),
            move |x, dx, ()| j(x, dx),
            move |x, (), d| v(x, d),
        )
        .named(self.fwd.name.clone())
    }
}

impl<R, P, G, Ss> RevGraph<R, P, G, Ss>
where
    R: RuntimeFloat,
    G: ShapeList,
    Ss: ShapeList,
{
    /// Erases a reverse graph into executable `GraphData` with `Δ = ()` (Lean's
    /// `RevGraph.toGraphData`): node by node, spec closures and bounds are forgotten and the
    /// runtime forward, JVP and VJP closures are kept. Erasing preserves the runtime forward
    /// and backward semantics.
    pub fn to_graph_data(&self) -> GraphData<R, (), G, Ss> {
        let nodes = self.nodes.iter().map(ErasedRev::to_erased_node).collect();
        GraphData::from_erased(nodes)
    }
}

impl<R: 'static, P> ErasedRev<R, P> {
    /// The runtime side as an executable node: the op's own runtime node when the node was
    /// built from one op (its recorded operand slots kept), else its runtime closures.
    fn to_erased_node(&self) -> ErasedNode<R, ()> {
        match &self.fwd.maps {
            // (named after the op, as the reverse node is)
            Maps::Kernels(k) => k.runtime.clone(),
            Maps::Closures {
                forward_runtime, ..
            } => {
                let v = self.closures();
                ErasedNode {
                    name: self.fwd.name.clone(),
                    out_dims: self.fwd.out_dims.clone(),
                    reads: None,
                    body: Body::Owning(Arc::new(RuntimeFns {
                        forward: Arc::clone(forward_runtime),
                        jvp: Arc::clone(&v.jvp_runtime),
                        vjp: Arc::clone(&v.vjp_runtime),
                    })),
                }
            }
        }
    }
}

/// The runtime closures of a `RevNode::new` node, run on the whole buffer.
struct RuntimeFns<R> {
    forward: Arc<ErasedRt<R>>,
    jvp: Arc<ErasedJvp<R>>,
    vjp: Arc<ErasedVjp<R>>,
}

impl<R> OwningFns<R, ()> for RuntimeFns<R> {
    fn forward(&self, vals: &mut Vec<Owned<R>>, _: &()) -> Owned<R> {
        (self.forward)(vals)
    }
    fn jvp(&self, vals: &mut Vec<Owned<R>>, tans: &mut Vec<Owned<R>>, _: &()) -> Owned<R> {
        (self.jvp)(vals, tans)
    }
    fn vjp(&self, vals: &mut Vec<Owned<R>>, _: &(), seed: Owned<R>) -> Contribs<R> {
        (self.vjp)(vals, seed)
    }
}
