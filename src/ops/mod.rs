//! The op library: one definition per op, run by every graph kind.
//!
//! Every constructor reads its operands through typed indices [`Idx<Γ, S>`](crate::Idx) into
//! the node's context and returns an [`OpNode<Γ, K>`](crate::autograd::OpNode): the op `K`
//! (a struct implementing [`Op`](crate::autograd::Op) and [`Eval`](crate::autograd::Eval) at
//! every scalar it supports) in the context `Γ`. The same value is appended to a
//! [`GraphData`](crate::autograd::GraphData), a lawful [`Graph`](crate::autograd::Graph), a
//! certified [`RevGraph`](crate::approx::RevGraph) or [`FwdGraph`](crate::approx::FwdGraph), by
//! `snoc` or by the builder's `push`. JVP and VJP satisfy `⟨jvp x dx, δ⟩ = ⟨dx, vjp x δ⟩`
//! (property-tested, exactly over ℚ where the op is polynomial or piecewise linear). Operands of
//! binary ops may alias: the VJP then adds both contributions to the shared slot.
//!
//! Ops with a constant (`scale`, `safe_log`, `leaky_relu`, `elu`, `clamp`, `huber_loss`, the
//! normalisations' `ε`, `dropout`'s `p`, `constant`) return a `Result`: the constant must be
//! finite and in the op's domain, one rule for every graph kind.
//!
//! | op | math | scalar |
//! |---|---|---|
//! | [`add`], [`sub`], [`mul`] | `x ± y`, `x ⊙ y` | any [`Element`](crate::Element) |
//! | [`elementwise`](fn@elementwise), [`map`](fn@map) | `f(x)` entrywise, given `f` and `f′` | any |
//! | [`neg`], [`scale`], [`relu`] | `−x`, `x·c`, `max(x, 0)` | any |
//! | [`exp`], [`tanh`], [`sigmoid`], [`softplus`], [`safe_log`] | entrywise | [`Real`](crate::Real) |
//! | [`sum`], [`mean`] | `Σ x`, `Σ x / n` | any |
//! | [`matvec`], [`matmul`], [`transpose`] | `W x`, `A B`, `Xᵀ` | any |
//! | [`linear`], [`linear_batch`] | `W x + b`, `X Wᵀ + 1bᵀ` | any |
//! | [`mse`] | `Σ (p − t)² / n` | any |
//! | [`softmax`], [`log_softmax`] | over the last axis | [`Real`](crate::Real) |
//! | [`cross_entropy`] | `−(1/R) Σ t log softmax(z)` | [`Real`](crate::Real) |
//! | [`div`], [`maximum`], [`minimum`] | `x / y`, entrywise max/min (ties split the gradient) | any |
//! | [`abs`], [`square`], [`powi`], [`leaky_relu`], [`clamp`] | entrywise | any |
//! | [`sqrt`], [`log`], [`gelu`], [`silu`], [`elu`] | entrywise | [`Real`](crate::Real) |
//! | [`erf`], [`gelu_erf`] (GELU's exact form) | entrywise | [`Erf`](crate::Erf) |
//! | [`reshape`], [`flatten`], [`swapaxes`], [`permute`], [`concat`](fn@concat), [`stack`], [`narrow`], [`broadcast_to`] | shape ops (copies, row-major) | any |
//! | [`bmm`], [`scaled_dot_product_attention`] | `A_b B_b`, `softmax(QKᵀ/√d) V` (optionally causal) | any / [`Real`](crate::Real) |
//! | [`layer_norm`], [`rms_norm`], [`batch_norm`], [`batch_norm_inference`] | normalisation | [`Real`](crate::Real) |
//! | [`embedding`], [`dropout`] | row lookup by index, `x ⊙ m / (1 − p)` | [`Real`](crate::Real) |
//! | [`l1_loss`], [`huber_loss`] | `mean |p − t|`, Huber | any |
//! | [`binary_cross_entropy_with_logits`], [`kl_div`], [`nll_loss`], [`cross_entropy_with_integer_labels`] | losses | [`Real`](crate::Real) |
//! | [`constant`] | a baked-in tensor, zero derivative | any |
//! | [`conv2d`], [`conv1d`] | `w ⋆ x + b` (stride, padding, dilation, groups; NCHW / NCL) | any |
//! | [`max_pool2d`], [`avg_pool2d`], [`adaptive_avg_pool2d`], [`global_avg_pool2d`] | pooling (first-max gradient, padded zeros counted) | any |
//! | [`add_broadcast`], [`sub_broadcast`], [`mul_broadcast`], [`div_broadcast`] | `a ∘ b` with `b` broadcast to `a` (a bias, a per-row scale, a scalar graph value) | any |
//! | [`sum_axis`], [`mean_axis`], [`max_axis`], [`var_axis`], [`logsumexp_axis`], [`softmax_axis`], [`log_softmax_axis`] | along a chosen axis | any / [`Real`](crate::Real) |

mod activations;
mod axis;
mod binary;
mod broadcast;
mod constant;
mod conv;
mod elementwise;
pub(crate) mod kernels;
mod linalg;
mod loss;
mod losses;
mod nn;
mod reduce;
mod shape_ops;

pub use activations::*;
pub use axis::{
    AxisReduce, AxisScalar, AxisSoftmax, Reduce, log_softmax_axis, logsumexp_axis, max_axis,
    mean_axis, softmax_axis, sum_axis, var_axis,
};
pub use binary::{Binary, BinaryKind, Div, add, div, maximum, minimum, mul, sub};
pub use broadcast::{
    BroadcastBinary, BroadcastKind, add_broadcast, div_broadcast, mul_broadcast, sub_broadcast,
};
pub use constant::{Const, constant};
pub use conv::*;
pub use elementwise::{
    Closures, Constant, ConstantError, ExpFn, Map, MapFn, NegFn, Pointwise, ReluFn, SafeLogFn,
    ScaleFn, SigmoidFn, SoftplusFn, TanhFn, elementwise, exp, map, neg, relu, safe_log, scale,
    sigmoid, softplus, tanh,
};
pub use linalg::{
    Linear, LinearBatch, MatVec, Matmul, Transpose, linear, linear_batch, matmul, matvec, transpose,
};
pub use loss::{CrossEntropy, LogSoftmax, Mse, Softmax, cross_entropy, log_softmax, mse, softmax};
pub use losses::{
    BceWithLogitsFn, HuberFn, IndexLoss, KlDivFn, L1Fn, LossFn, PairLoss, PairLossFn, Reduction,
    binary_cross_entropy_with_logits, cross_entropy_with_integer_labels, huber_loss, kl_div,
    l1_loss, nll_loss,
};
pub use nn::{
    Attention, BatchNormInference, Bmm, Dropout, DropoutEnv, Embedding, LastAxis, MaskSource, Norm,
    batch_norm, batch_norm_inference, bmm, dropout, embedding, layer_norm, rms_norm,
    scaled_dot_product_attention,
};
pub use reduce::{Mean, Sum, mean, sum};
pub use shape_ops::*;

/// `ops::Relu<S>` and friends: the op types of the entrywise constructors, for the bounds of a
/// block generic over the graph kind (`K: Supports<ops::Relu<S>>`).
pub type Relu<S> = Map<S, ReluFn>;
/// The op of [`tanh`].
pub type Tanh<S> = Map<S, TanhFn>;
/// The op of [`exp`].
pub type Exp<S> = Map<S, ExpFn>;
/// The op of [`sigmoid`].
pub type Sigmoid<S> = Map<S, SigmoidFn>;
/// The op of [`softplus`].
pub type Softplus<S> = Map<S, SoftplusFn>;
/// The op of [`neg`].
pub type Neg<S> = Map<S, NegFn>;
