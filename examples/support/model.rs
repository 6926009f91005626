//! The two-layer classifier of the examples and the benches, written once and generic over the
//! graph kind: the same function builds the executable `GraphData` that `examples/mlp.rs`
//! trains and the benches time, and the certified `RevGraph` of `examples/certify.rs`.
//!
//! With parameters `W₁ : H×I`, `b₁ : H`, `W₂ : O×H`, `b₂ : O` and a batch `X : B×I` with
//! one-hot targets `T : B×O`:
//! `z = act(X W₁ᵀ + 1 b₁ᵀ) W₂ᵀ + 1 b₂ᵀ`, `loss = cross_entropy(z, T)`.
#![allow(dead_code)] // each example uses part of it

use shapetape::autograd::{GraphBuilder, Op, OpNode, Supports, Var};
use shapetape::ops::{self, CrossEntropy, LinearBatch};
use shapetape::prelude::*;

/// The parameters `[W₁, b₁, W₂, b₂]` (PyTorch's `nn.Linear` layout: weight `[out, in]`).
pub type Params<const I: usize, const H: usize, const O: usize> =
    HList![Matrix<H, I>, Vector<H>, Matrix<O, H>, Vector<O>];
/// The data of one batch: inputs and one-hot targets.
pub type Batch<const B: usize, const I: usize, const O: usize> = HList![Matrix<B, I>, Matrix<B, O>];
/// The graph's inputs: parameters, then data.
pub type Inputs<const B: usize, const I: usize, const H: usize, const O: usize> =
    Cat<Params<I, H, O>, Batch<B, I, O>>;
/// The node outputs: pre-activation, activation, logits, loss.
pub type Nodes<const B: usize, const H: usize, const O: usize> =
    HList![Matrix<B, H>, Matrix<B, H>, Matrix<B, O>, Scalar];
/// The builder state after [`classifier`] (outputs newest first).
pub type Built<const B: usize, const H: usize, const O: usize> =
    HList![Scalar, Matrix<B, O>, Matrix<B, H>, Matrix<B, H>];

/// The hidden activation, chosen by a type: `Tanh` or `Relu`.
pub trait Activation {
    /// The activation's op on a tensor of shape `S`.
    type Op<S: Shape>: Op<Out = S>;
    /// The activation applied to the slot `x`.
    fn apply<C: ShapeList, S: Shape>(x: Idx<C, S>) -> OpNode<C, Self::Op<S>>;
}

/// `tanh` hidden units.
pub struct Tanh;
impl Activation for Tanh {
    type Op<S: Shape> = ops::Tanh<S>;
    fn apply<C: ShapeList, S: Shape>(x: Idx<C, S>) -> OpNode<C, ops::Tanh<S>> {
        ops::tanh(x)
    }
}

/// `relu` hidden units.
pub struct Relu;
impl Activation for Relu {
    type Op<S: Shape> = ops::Relu<S>;
    fn apply<C: ShapeList, S: Shape>(x: Idx<C, S>) -> OpNode<C, ops::Relu<S>> {
        ops::relu(x)
    }
}

/// Pushes the classifier onto a fresh builder of any graph kind `K`; returns the builder and the
/// handles of the logits and the loss.
#[allow(clippy::type_complexity)]
pub fn classifier<'id, K, Act, const B: usize, const I: usize, const H: usize, const O: usize>(
    b: GraphBuilder<'id, K, Inputs<B, I, H, O>, HNil>,
) -> (
    GraphBuilder<'id, K, Inputs<B, I, H, O>, Built<B, H, O>>,
    (Var<'id, Matrix<B, O>>, Var<'id, Scalar>),
)
where
    Act: Activation,
    K: Supports<LinearBatch<B, H, I>> + Supports<Act::Op<Matrix<B, H>>>,
    K: Supports<LinearBatch<B, O, H>> + Supports<CrossEntropy<Matrix<B, O>>>,
    // The shapes exist (a const-generic dimension is a typenum number only through these).
    Matrix<H, I>: Shape,
    Matrix<B, I>: Shape,
    Vector<H>: Shape,
    Matrix<O, H>: Shape,
    Vector<O>: Shape,
    Matrix<B, H>: Shape,
    Matrix<B, O>: Shape,
    <Matrix<B, O> as Shape>::Size: shapetape::typenum::NonZero,
{
    let hlist_pat![w1, b1, w2, b2, x, t] = b.inputs();
    let (b, h) = b.push(|c| ops::linear_batch(c.idx(w1), c.idx(x), c.idx(b1)));
    let (b, a) = b.push(|c| Act::apply(c.idx(h)));
    let (b, z) = b.push(|c| ops::linear_batch(c.idx(w2), c.idx(a), c.idx(b2)));
    let (b, loss) = b.push(|c| ops::cross_entropy(c.idx(z), c.idx(t)));
    (b, (z, loss))
}
