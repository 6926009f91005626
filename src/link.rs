//! The bridge from the runtime-approximation layer to the executable autograd layer
//! (Lean's `Proofs.RuntimeApprox.Graph.LinkAutogradAlgebra`).
//!
//! Erasing a [`RevGraph<R, P, Γ, Ss>`](crate::approx::RevGraph) forgets its spec semantics and its bounds and keeps the
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
//! every [`RevNode`](crate::approx::RevNode) carries a runtime JVP (each library op has one) and erasure keeps it, so
//! `jvp_ctx` on an erased graph is a real forward-mode derivative, adjoint to `backprop_ctx`.
//!
//! ```
//! use shapetape::prelude::*;
//! use shapetape::approx::RevGraph;
//! use shapetape::autograd::GraphData;
//! use shapetape::ops;
//! type G = HList![Vector<2>, Vector<2>];
//! let g = RevGraph::<f32, f64, G, HNil>::nil().snoc(ops::mul(Idx::at::<0>(), Idx::at::<1>()));
//! let erased: GraphData<f32, (), G, HList![Vector<2>]> = g.to_graph_data();
//! let x: TList<f32, G> = tlist![Tensor::new([1.0, 2.0]), Tensor::new([3.0, 4.0])];
//! assert_eq!(erased.eval(x.clone(), &()), g.eval_runtime(x));
//! ```

use crate::approx::{RevGraph, RuntimeFloat};
use crate::autograd::GraphData;
use crate::shape_list::ShapeList;

impl<R, P, G, Ss> RevGraph<R, P, G, Ss>
where
    R: RuntimeFloat,
    G: ShapeList,
    Ss: ShapeList,
{
    /// Erases a reverse graph into executable `GraphData` with `Δ = ()` (Lean's
    /// `RevGraph.toGraphData`): node by node, the spec side and the bounds are forgotten and the
    /// runtime forward, JVP and VJP are kept (with the op's operand slots). Erasing preserves
    /// the runtime forward and backward semantics.
    pub fn to_graph_data(&self) -> GraphData<R, (), G, Ss> {
        GraphData::from_erased(self.nodes.iter().map(|n| n.to_erased_node()).collect())
    }
}
