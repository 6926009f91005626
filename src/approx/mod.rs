//! The runtime-approximation layer (Lean's `Proofs.RuntimeApprox.Graph`).
//!
//! A graph here carries, beside the closures that run (on a runtime scalar `R`, e.g. `f32`),
//! a spec semantics on a high-precision scalar `P` (`f64` or the exact
//! [`Rational`](crate::Rational)) and error-bound transformers, so that every result comes with
//! a *certified* bound on its distance to the spec:
//!
//! - [`EList<Γ>`]: one bound per context slot; [`approx_t`] / [`approx_ctx`]: the predicates
//!   `‖spec − toSpec(runtime)‖∞ ≤ ε`.
//! - [`FwdNode`] / [`FwdGraph`]: `eval_spec`, `eval_runtime`, `eval_bounds`, related by
//!   `eval_approx`: `approx_ctx xS xR ε → approx_ctx (eval_spec xS) (eval_runtime xR)
//!   (eval_bounds ε xR)`.
//! - [`RevNode`] / [`RevGraph`]: adds `backprop_spec`, `backprop_runtime`, `backprop_bounds`,
//!   related by `backprop_approx` for a sound [`AddBound`].
//! - Nodes are the ops of [`crate::ops`] (any [`Op`](crate::autograd::Op) that is
//!   [`Certifiable`]): the same constructor value builds an executable and a certified graph,
//!   and the bounds are the op's closed form or the interval enclosure of its own code.
//! - [`round`]: the FP32 rounding model and upward-rounded bound arithmetic.
//!
//! The two theorems are property-tested; see TRUST.md for what is proved, tested and assumed.

mod add_bound;
pub mod ball;
pub(crate) mod dot_bound;
mod elist;
pub mod enclosure;
pub(crate) mod graph;
pub mod interval;
pub(crate) mod midrad;
pub(crate) mod node;
pub mod round;
mod scan;
mod spec;
pub mod special;

pub use add_bound::{AddBound, CtxAddBound, LeanCtxAddBound};
pub use ball::Ball;
pub use elist::{EList, EListError, NegativeBound};
pub use enclosure::{Enclosed, Enclosure};
pub use graph::{FwdGraph, FwdKind, RevGraph, RevKind};
pub use interval::Interval;
pub use node::{Certifiable, FwdNode, RevNode};
pub use round::{BinaryFormat, RuntimeFloat};
pub use spec::{SpecScalar, ToSpec, approx_ctx, approx_t, ctx_distances, linf_distance};
