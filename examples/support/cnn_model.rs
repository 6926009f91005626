//! The small convolutional classifier of `examples/cnn.rs`, written once and generic over the
//! graph kind and the batch `B`: the same function builds the executable `GraphData` that the
//! example trains and the certified `RevGraph` that bounds its f32 inference.
//!
//! On a batch `x : [B, 1, 8, 8]` (NCHW) of grey images with integer labels `t : [B]`:
//!
//! ```text
//! h₁ = relu(conv2d(x, W₁, b₁; 3×3, padding 1))     [B, 8, 8, 8]
//! p  = max_pool2d(h₁; 2×2)                          [B, 8, 4, 4]
//! h₂ = relu(conv2d(p, W₂, b₂; 3×3, padding 1))     [B, 16, 4, 4]
//! z  = flatten(h₂) W₃ᵀ + 1 b₃ᵀ                      [B, 10]
//! loss = (1/B) Σ_r −log softmax(z[r])[t[r]]
//! ```
//!
//! with `W₁ : [8, 1, 3, 3]`, `W₂ : [16, 8, 3, 3]` (PyTorch's `nn.Conv2d` layout) and
//! `W₃ : [10, 256]` (`nn.Linear`), the flattening row-major over `(channel, row, column)` as
//! PyTorch's `flatten(1)`.
#![allow(dead_code)] // each example uses part of it

use shapetape::autograd::{GraphBuilder, Supports, Var};
use shapetape::ops::{
    self, Conv2dParams, ConvSpec, Convolution, IndexLoss, LinearBatch, Nchw, Pool2d, Pool2dParams,
    PoolSpec, Relu, Reshape,
};
use shapetape::prelude::*;
use shapetape::shape_arith::SameSize;

/// Side of the square input images.
pub const SIDE: usize = 8;
/// Channels after the first convolution.
pub const C1: usize = 8;
/// Channels after the second convolution.
pub const C2: usize = 16;
/// Side after the 2×2 max pooling.
pub const POOLED: usize = SIDE / 2;
/// Features fed to the linear layer, `C2 · POOLED²`.
pub const FEATURES: usize = C2 * POOLED * POOLED;
/// Number of classes.
pub const CLASSES: usize = 10;

/// 3×3 convolution with stride 1, padding 1 (same size), dilation 1, one group.
pub type Same3x3 = Conv2dParams<1, 1, 1, 1, 1, 1, 1>;
/// 2×2 windows with stride 2, no padding.
pub type Pool2x2 = Pool2dParams<2, 2, 2, 2, 0, 0>;

/// The parameters `[W₁, b₁, W₂, b₂, W₃, b₃]`, see [`PARAM_NAMES`].
pub type Params = HList![
    Nchw<C1, 1, 3, 3>,
    Vector<C1>,
    Nchw<C2, C1, 3, 3>,
    Vector<C2>,
    Matrix<CLASSES, FEATURES>,
    Vector<CLASSES>,
];

/// The names of the parameter slots (PyTorch-like).
pub const PARAM_NAMES: [&str; 6] = [
    "conv1.weight",
    "conv1.bias",
    "conv2.weight",
    "conv2.bias",
    "fc.weight",
    "fc.bias",
];

/// The data of a batch: images `[B, 1, 8, 8]` and their classes as exact small integers.
pub type Data<const B: usize> = HList![Nchw<B, 1, SIDE, SIDE>, Vector<B>];
/// The graph's inputs: parameters, then data.
pub type Inputs<const B: usize> = Cat<Params, Data<B>>;
/// The node outputs, in order.
pub type Nodes<const B: usize> = HList![
    Nchw<B, C1, SIDE, SIDE>,
    Nchw<B, C1, SIDE, SIDE>,
    Nchw<B, C1, POOLED, POOLED>,
    Nchw<B, C2, POOLED, POOLED>,
    Nchw<B, C2, POOLED, POOLED>,
    Matrix<B, FEATURES>,
    Matrix<B, CLASSES>,
    Scalar,
];
/// The builder state after [`cnn`] (outputs newest first).
pub type Built<const B: usize> = HList![
    Scalar,
    Matrix<B, CLASSES>,
    Matrix<B, FEATURES>,
    Nchw<B, C2, POOLED, POOLED>,
    Nchw<B, C2, POOLED, POOLED>,
    Nchw<B, C1, POOLED, POOLED>,
    Nchw<B, C1, SIDE, SIDE>,
    Nchw<B, C1, SIDE, SIDE>,
];

/// The handles the example reads: the logits `[B, 10]` and the loss.
pub type Outputs<'id, const B: usize> = (Var<'id, Matrix<B, CLASSES>>, Var<'id, Scalar>);

/// Pushes the network and its loss onto a fresh builder of any graph kind `K`, for a batch of
/// `B` images.
#[allow(clippy::type_complexity)]
pub fn cnn<'id, K, const B: usize>(
    b: GraphBuilder<'id, K, Inputs<B>, HNil>,
) -> (GraphBuilder<'id, K, Inputs<B>, Built<B>>, Outputs<'id, B>)
where
    K: Supports<Convolution<Nchw<B, 1, SIDE, SIDE>, Nchw<C1, 1, 3, 3>, Same3x3>>
        + Supports<Relu<Nchw<B, C1, SIDE, SIDE>>>
        + Supports<Pool2d<Nchw<B, C1, SIDE, SIDE>, Pool2x2>>
        + Supports<Convolution<Nchw<B, C1, POOLED, POOLED>, Nchw<C2, C1, 3, 3>, Same3x3>>
        + Supports<Relu<Nchw<B, C2, POOLED, POOLED>>>
        + Supports<Reshape<Nchw<B, C2, POOLED, POOLED>, Matrix<B, FEATURES>>>
        + Supports<LinearBatch<B, CLASSES, FEATURES>>
        + Supports<IndexLoss<B, CLASSES>>,
    // The shapes exist (a const-generic dimension is a typenum number only through these),
    // and the layers fit them.
    Vector<B>: Shape,
    Nchw<B, 1, SIDE, SIDE>: Shape,
    Nchw<B, C1, SIDE, SIDE>: Shape,
    Nchw<B, C1, POOLED, POOLED>: Shape,
    Nchw<B, C2, POOLED, POOLED>: Shape,
    Matrix<B, FEATURES>: Shape,
    Matrix<B, CLASSES>: Shape,
    Same3x3: ConvSpec<
            Nchw<B, 1, SIDE, SIDE>,
            Nchw<C1, 1, 3, 3>,
            Out = Nchw<B, C1, SIDE, SIDE>,
            Bias = Vector<C1>,
        >,
    Same3x3: ConvSpec<
            Nchw<B, C1, POOLED, POOLED>,
            Nchw<C2, C1, 3, 3>,
            Out = Nchw<B, C2, POOLED, POOLED>,
            Bias = Vector<C2>,
        >,
    Pool2x2: PoolSpec<Nchw<B, C1, SIDE, SIDE>, Out = Nchw<B, C1, POOLED, POOLED>>,
    Nchw<B, C2, POOLED, POOLED>: SameSize<Matrix<B, FEATURES>>,
{
    let hlist_pat![w1, b1, w2, b2, w3, b3, x, t] = b.inputs();
    let same = Conv2dParams::new().padding::<1>();
    let (b, h) = b.push(|c| ops::conv2d(c.idx(x), c.idx(w1), c.idx(b1), same));
    let (b, h) = b.push(|c| ops::relu(c.idx(h)));
    let (b, p) = b.push(|c| ops::max_pool2d(c.idx(h), ops::pool_window::<2>()));
    let (b, h) = b.push(|c| ops::conv2d(c.idx(p), c.idx(w2), c.idx(b2), same));
    let (b, h) = b.push(|c| ops::relu(c.idx(h)));
    let (b, f) = b.push(|c| ops::reshape::<Matrix<B, FEATURES>, _, _>(c.idx(h)));
    let (b, z) =
        b.push(|c| ops::linear_batch::<_, B, CLASSES, FEATURES>(c.idx(w3), c.idx(f), c.idx(b3)));
    // (The generics are spelled out: with `Vector<B>: Shape` among the bounds, inference would
    // otherwise take `Vector<O>: Shape` from it and set `O = B`.)
    let (b, loss) =
        b.push(|c| ops::cross_entropy_with_integer_labels::<_, B, CLASSES>(c.idx(z), c.idx(t)));
    (b, (z, loss))
}
