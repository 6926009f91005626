//! The op library: node constructors with forward, JVP and VJP.
//!
//! Every op reads its operands through typed indices [`Idx<Γ, S>`](crate::Idx) into the node's
//! context and returns a lawful [`Node`](crate::autograd::Node), whose JVP and VJP satisfy
//! `⟨jvp x dx, δ⟩ = ⟨dx, vjp x δ⟩` (property-tested, exactly over ℚ where the op is
//! polynomial or piecewise linear). Operands of binary ops may alias: the VJP then adds both
//! contributions to the shared slot.
//!
//! | op | math | scalar |
//! |---|---|---|
//! | [`add`], [`sub`], [`mul`] | `x ± y`, `x ⊙ y` | any [`Element`](crate::Element) |
//! | [`elementwise`](fn@elementwise) | `f(x)` entrywise, given `f` and `f′` | any |
//! | [`neg`], [`scale`], [`relu`] | `−x`, `x·c`, `max(x, 0)` | any |
//! | [`exp`], [`tanh`], [`sigmoid`], [`softplus`], [`safe_log`] | entrywise | [`Real`](crate::Real) |
//! | [`sum`], [`mean`] | `Σ x`, `Σ x / n` | any |
//! | [`matvec`], [`matmul`], [`transpose`] | `W x`, `A B`, `Xᵀ` | any |
//! | [`linear`], [`linear_batch`] | `W x + b`, `X Wᵀ + 1bᵀ` | any |
//! | [`mse`] | `Σ (p − t)² / n` | any |
//! | [`softmax`], [`log_softmax`] | over the last axis | [`Real`](crate::Real) |
//! | [`cross_entropy`] | `−(1/R) Σ t log softmax(z)` | [`Real`](crate::Real) |

mod binary;
mod elementwise;
pub(crate) mod kernels;
mod linalg;
mod loss;
mod reduce;

pub use binary::{add, mul, sub};
pub use elementwise::{elementwise, exp, neg, relu, safe_log, scale, sigmoid, softplus, tanh};
pub use linalg::{linear, linear_batch, matmul, matvec, transpose};
pub use loss::{cross_entropy, log_softmax, mse, softmax};
pub use reduce::{mean, sum};
