//! The autograd algebra layer (Lean's `Proofs.Autograd.Tape.Algebra`).
//!
//! A [`NodeData<A, Δ, Γ, τ>`] is an executable node: `forward`, `jvp` and `vjp` closures over
//! a context `Γ` and an environment `Δ` that is threaded through unchanged. A
//! [`GraphData<A, Δ, Γ, Ss>`] is a snoc-list of nodes where node `k` reads `Γ ++ Ss[..k]`.
//! Its semantics, exactly as in Lean:
//!
//! - `eval x d : TList A (Γ ++ Ss)` runs every node once, in order;
//! - `jvp_ctx x dx d : TList A (Γ ++ Ss)` pushes the tangent `dx` forward;
//! - `backprop_ctx x d seed : TList A Γ` pulls a seed over `Γ ++ Ss` back to the inputs.
//!
//! [`Node`] and [`Graph`] add the adjointness law `⟨jvp x dx d, δ⟩ = ⟨dx, vjp x d δ⟩`, under
//! which `⟨jvp_ctx x dx d, seed⟩ = ⟨dx, backprop_ctx x d seed⟩` (Lean's `backprop_correct`).
//!
//! Checking derivatives: [`check_adjoint`] evaluates both sides of a node's law at one point
//! (exactly over [`Rational`](crate::Rational)), [`check_backprop`] both sides of
//! `backprop_correct` for a graph, and [`gradcheck`] compares forward and reverse mode with a
//! central finite difference in a random direction, with documented `f64` tolerances
//! ([`GradcheckOptions`]).

pub(crate) mod builder;
mod check;
mod cotangent;
pub(crate) mod engine;
mod graph;
pub(crate) mod node;
pub mod op;
pub(crate) mod scan;

pub use builder::{
    Admits, DataKind, GraphBuilder, GraphKind, InputVars, LawfulKind, Pushed, Scope, Supports, Var,
};
pub use check::{
    AdjointCheck, GradcheckComparison, GradcheckError, GradcheckOptions, GradcheckReport,
    check_adjoint, check_backprop, gradcheck, gradcheck_with,
};
pub use cotangent::Cotangent;
pub use graph::{Graph, GraphData};
pub use node::{GraphNode, Node, NodeData, NodeOver};
pub use op::{Eval, Op, OpNode, Operands, Pullback, Slot, SlotBounds, VjpBounds};
pub use scan::ScanKind;
