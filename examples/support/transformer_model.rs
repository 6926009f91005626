//! The two-layer causal transformer of `examples/transformer.rs`, written once and generic over
//! the graph kind and the batch: the same function builds the executable `GraphData` that the
//! example trains, the certified `RevGraph` that bounds its f32 inference, and the interval
//! `GraphData` that encloses the exact values.
//!
//! A batch of `B` sequences of `SEQ` tokens is one matrix of `BT = B·SEQ` rows (sequence-major),
//! so every linear layer is one `linear_batch`. For attention the rows are split into heads:
//!
//! ```text
//! x [BT, D] → qkv = x Wᵀ + b [BT, 3D] → [B, SEQ, 3H, Dh] → swap axes 1, 2 → [B, 3H, SEQ, Dh]
//!   → narrow axis 1 to heads 0..H, H..2H, 2H..3H → q, k, v [B, H, SEQ, Dh] → [BH, SEQ, Dh]
//!   → causal softmax(q kᵀ / √Dh) v [BH, SEQ, Dh] → [B, H, SEQ, Dh] → swap axes 1, 2
//!   → [B, SEQ, H, Dh] → [BT, D]
//! ```
//!
//! The head split is a `swapaxes` of two inner axes rather than a general `permute`: with the
//! batch `B` a generic parameter, `permute` would need the rank of `Dim<B, …>`, which a generic
//! function knows only through its bound `Dim<B, …>: Shape`, while `swapaxes` and `narrow` on
//! the inner axes compute their output shapes structurally (`Dim<B, …>` with the inner axes
//! rearranged).
//! Each block is pre-norm, `x + attn(ln₁ x)` then `x + W₂ gelu(W₁ ln₂ x + c₁) + c₂`; the model is
//! `z = ln_f(block₂(block₁(E[tokens] + P))) Uᵀ + u` and the loss is the mean cross-entropy of the
//! rows `DIGITS..SEQ` of every sequence (the positions that predict the answer) against the
//! target digits.
#![allow(dead_code)] // each example uses part of it

use shapetape::autograd::{GraphBuilder, Supports, Var};
use shapetape::ops::{
    self, Attention, AxisSwap, Binary, Broadcast, ConstantError, Embedding, Gelu, IndexLoss,
    LinearBatch, Narrow, Norm, Reshape,
};
use shapetape::prelude::*;
use shapetape::shape_arith::{BroadcastTo, SameSize};
use shapetape::shape_list::Reverse;

/// Token values `0..=9` are digits; `SEP` separates the question from the answer.
pub const VOCAB: usize = 11;
/// The separator token.
pub const SEP: usize = 10;
/// Digits per question (and per answer).
pub const DIGITS: usize = 8;
/// Tokens fed to the model: the question, `SEP`, and all answer digits but the last.
pub const SEQ: usize = 2 * DIGITS;
/// Model width `D`.
pub const MODEL: usize = 32;
/// Attention heads `H`.
pub const HEADS: usize = 4;
/// Width of one head, `Dh = D / H`.
pub const HEAD_DIM: usize = MODEL / HEADS;
/// `3D`: queries, keys and values side by side.
pub const QKV: usize = 3 * MODEL;
/// `3H`: the query, key and value heads.
pub const QKV_HEADS: usize = 3 * HEADS;
/// The first key head among the `3H`.
pub const K_HEADS: usize = HEADS;
/// The first value head among the `3H`.
pub const V_HEADS: usize = 2 * HEADS;
/// Width of the MLP's hidden layer.
pub const HIDDEN: usize = 4 * MODEL;
/// The `ε` of every layer norm (an f32 constant, so runtime and spec use the same number).
pub const LN_EPS: f32 = 1e-5;

/// The parameters, in PyTorch's layout (weights `[out, in]`); see [`PARAM_NAMES`].
pub type Params = HList![
    Matrix<VOCAB, MODEL>,
    Matrix<SEQ, MODEL>,
    // block 0
    Vector<MODEL>,
    Vector<MODEL>,
    Matrix<QKV, MODEL>,
    Vector<QKV>,
    Matrix<MODEL, MODEL>,
    Vector<MODEL>,
    Vector<MODEL>,
    Vector<MODEL>,
    Matrix<HIDDEN, MODEL>,
    Vector<HIDDEN>,
    Matrix<MODEL, HIDDEN>,
    Vector<MODEL>,
    // block 1
    Vector<MODEL>,
    Vector<MODEL>,
    Matrix<QKV, MODEL>,
    Vector<QKV>,
    Matrix<MODEL, MODEL>,
    Vector<MODEL>,
    Vector<MODEL>,
    Vector<MODEL>,
    Matrix<HIDDEN, MODEL>,
    Vector<HIDDEN>,
    Matrix<MODEL, HIDDEN>,
    Vector<MODEL>,
    // head
    Vector<MODEL>,
    Vector<MODEL>,
    Matrix<VOCAB, MODEL>,
    Vector<VOCAB>,
];

/// The names of the parameter slots, in order (safetensors names, PyTorch-like).
pub const PARAM_NAMES: [&str; 30] = [
    "tok_emb.weight",
    "pos_emb",
    "blocks.0.ln1.weight",
    "blocks.0.ln1.bias",
    "blocks.0.attn.qkv.weight",
    "blocks.0.attn.qkv.bias",
    "blocks.0.attn.out.weight",
    "blocks.0.attn.out.bias",
    "blocks.0.ln2.weight",
    "blocks.0.ln2.bias",
    "blocks.0.mlp.fc1.weight",
    "blocks.0.mlp.fc1.bias",
    "blocks.0.mlp.fc2.weight",
    "blocks.0.mlp.fc2.bias",
    "blocks.1.ln1.weight",
    "blocks.1.ln1.bias",
    "blocks.1.attn.qkv.weight",
    "blocks.1.attn.qkv.bias",
    "blocks.1.attn.out.weight",
    "blocks.1.attn.out.bias",
    "blocks.1.ln2.weight",
    "blocks.1.ln2.bias",
    "blocks.1.mlp.fc1.weight",
    "blocks.1.mlp.fc1.bias",
    "blocks.1.mlp.fc2.weight",
    "blocks.1.mlp.fc2.bias",
    "ln_f.weight",
    "ln_f.bias",
    "unembed.weight",
    "unembed.bias",
];

/// The data of a batch: the `BT` input tokens (sequence after sequence) and the `BO = B·DIGITS`
/// target digits, both exact small integers.
pub type Data<const BT: usize, const BO: usize> = HList![Vector<BT>, Vector<BO>];
/// The graph's inputs: parameters, then data.
pub type Inputs<const BT: usize, const BO: usize> = Cat<Params, Data<BT, BO>>;

/// `[B, SEQ, 3H, Dh]`: the rows of `qkv` split into heads.
pub type QkvSplit<const B: usize> = Dim<B, Dim<SEQ, Dim<QKV_HEADS, Vector<HEAD_DIM>>>>;
/// `[B, 3H, SEQ, Dh]`: head-major.
pub type QkvHeads<const B: usize> = Dim<B, Dim<QKV_HEADS, Matrix<SEQ, HEAD_DIM>>>;
/// `[B, H, SEQ, Dh]`: one of `q`, `k`, `v`, or the attention output, head-major.
pub type Heads<const B: usize> = Dim<B, Dim<HEADS, Matrix<SEQ, HEAD_DIM>>>;
/// `[BH, SEQ, Dh]`: the batch × heads axis of `scaled_dot_product_attention`.
pub type ByHead<const BH: usize> = Dim<BH, Matrix<SEQ, HEAD_DIM>>;
/// `[B, SEQ, H, Dh]`: the attention output, token-major.
pub type Tokens<const B: usize> = Dim<B, Dim<SEQ, Dim<HEADS, Vector<HEAD_DIM>>>>;
/// `[B, SEQ, D]`: the positional embedding repeated for every sequence.
pub type Positions<const B: usize> = Dim<B, Matrix<SEQ, MODEL>>;
/// `[B, SEQ, V]`: the logits per sequence.
pub type SeqLogits<const B: usize> = Dim<B, Matrix<SEQ, VOCAB>>;
/// `[B, DIGITS, V]`: the logits of the answer positions.
pub type AnswerLogits<const B: usize> = Dim<B, Matrix<DIGITS, VOCAB>>;

/// `cons!(P, S₁, …, Sₙ)`: the builder state after pushing nodes of shapes `S₁, …, Sₙ` (in that
/// order) onto the state `P` (newest first).
macro_rules! cons {
    ($p:ty $(,)?) => { $p };
    ($p:ty, $s:ty $(, $rest:ty)* $(,)?) => { cons!(HCons<$s, $p> $(, $rest)*) };
}

/// The state after the embedding: token rows, repeated positions, flattened, their sum.
pub type EmbedPushed<P, const B: usize, const BT: usize> = cons!(
    P,
    Matrix<BT, MODEL>,
    Positions<B>,
    Matrix<BT, MODEL>,
    Matrix<BT, MODEL>,
);

/// The state after one block (21 nodes).
pub type BlockPushed<P, const B: usize, const BT: usize, const BH: usize> = cons!(
    P,
    Matrix<BT, MODEL>, // ln₁ x
    Matrix<BT, QKV>,   // qkv
    QkvSplit<B>,
    QkvHeads<B>,
    Heads<B>, // q
    ByHead<BH>,
    Heads<B>, // k
    ByHead<BH>,
    Heads<B>, // v
    ByHead<BH>,
    ByHead<BH>, // attention
    Heads<B>,
    Tokens<B>,
    Matrix<BT, MODEL>, // heads merged
    Matrix<BT, MODEL>, // output projection
    Matrix<BT, MODEL>, // residual
    Matrix<BT, MODEL>, // ln₂
    Matrix<BT, HIDDEN>,
    Matrix<BT, HIDDEN>, // gelu
    Matrix<BT, MODEL>,
    Matrix<BT, MODEL>, // residual
);

/// The state after the head: final norm, logits, per sequence, answer rows, flattened, loss.
pub type HeadPushed<P, const B: usize, const BT: usize, const BO: usize> = cons!(
    P,
    Matrix<BT, MODEL>,
    Matrix<BT, VOCAB>,
    SeqLogits<B>,
    AnswerLogits<B>,
    Matrix<BO, VOCAB>,
    Scalar,
);

/// The builder state after [`transformer`] (outputs newest first).
pub type Built<const B: usize, const BT: usize, const BH: usize, const BO: usize> =
    HeadPushed<BlockPushed<BlockPushed<EmbedPushed<HNil, B, BT>, B, BT, BH>, B, BT, BH>, B, BT, BO>;

/// Every op of one block, for the batch `B` (`BT = B·SEQ` rows, `BH = B·H` heads): the kinds
/// that can build [`block`].
pub trait BlockOps<const B: usize, const BT: usize, const BH: usize>:
    Supports<Norm<Matrix<BT, MODEL>, MODEL, f32>>
    + Supports<LinearBatch<BT, QKV, MODEL>>
    + Supports<Reshape<Matrix<BT, QKV>, QkvSplit<B>>>
    + Supports<AxisSwap<QkvSplit<B>, 1, 2>>
    + Supports<Narrow<QkvHeads<B>, 1, 0, HEADS>>
    + Supports<Narrow<QkvHeads<B>, 1, K_HEADS, HEADS>>
    + Supports<Narrow<QkvHeads<B>, 1, V_HEADS, HEADS>>
    + Supports<Reshape<Heads<B>, ByHead<BH>>>
    + Supports<Attention<BH, SEQ, SEQ, HEAD_DIM, HEAD_DIM>>
    + Supports<Reshape<ByHead<BH>, Heads<B>>>
    + Supports<AxisSwap<Heads<B>, 1, 2>>
    + Supports<Reshape<Tokens<B>, Matrix<BT, MODEL>>>
    + Supports<LinearBatch<BT, MODEL, MODEL>>
    + Supports<Binary<Matrix<BT, MODEL>>>
    + Supports<LinearBatch<BT, HIDDEN, MODEL>>
    + Supports<Gelu<Matrix<BT, HIDDEN>>>
    + Supports<LinearBatch<BT, MODEL, HIDDEN>>
{
}

impl<K, const B: usize, const BT: usize, const BH: usize> BlockOps<B, BT, BH> for K where
    K: Supports<Norm<Matrix<BT, MODEL>, MODEL, f32>>
        + Supports<LinearBatch<BT, QKV, MODEL>>
        + Supports<Reshape<Matrix<BT, QKV>, QkvSplit<B>>>
        + Supports<AxisSwap<QkvSplit<B>, 1, 2>>
        + Supports<Narrow<QkvHeads<B>, 1, 0, HEADS>>
        + Supports<Narrow<QkvHeads<B>, 1, K_HEADS, HEADS>>
        + Supports<Narrow<QkvHeads<B>, 1, V_HEADS, HEADS>>
        + Supports<Reshape<Heads<B>, ByHead<BH>>>
        + Supports<Attention<BH, SEQ, SEQ, HEAD_DIM, HEAD_DIM>>
        + Supports<Reshape<ByHead<BH>, Heads<B>>>
        + Supports<AxisSwap<Heads<B>, 1, 2>>
        + Supports<Reshape<Tokens<B>, Matrix<BT, MODEL>>>
        + Supports<LinearBatch<BT, MODEL, MODEL>>
        + Supports<Binary<Matrix<BT, MODEL>>>
        + Supports<LinearBatch<BT, HIDDEN, MODEL>>
        + Supports<Gelu<Matrix<BT, HIDDEN>>>
        + Supports<LinearBatch<BT, MODEL, HIDDEN>>
{
}

/// Every op of the model for the batch `B` (`BO = B·DIGITS` answer rows): the kinds that can
/// build [`transformer`].
pub trait ModelOps<const B: usize, const BT: usize, const BH: usize, const BO: usize>:
    BlockOps<B, BT, BH>
    + Supports<Embedding<VOCAB, MODEL, BT>>
    + Supports<Broadcast<Matrix<SEQ, MODEL>, Positions<B>>>
    + Supports<Reshape<Positions<B>, Matrix<BT, MODEL>>>
    + Supports<LinearBatch<BT, VOCAB, MODEL>>
    + Supports<Reshape<Matrix<BT, VOCAB>, SeqLogits<B>>>
    + Supports<Narrow<SeqLogits<B>, 1, DIGITS, DIGITS>>
    + Supports<Reshape<AnswerLogits<B>, Matrix<BO, VOCAB>>>
    + Supports<IndexLoss<BO, VOCAB>>
{
}

impl<K, const B: usize, const BT: usize, const BH: usize, const BO: usize> ModelOps<B, BT, BH, BO>
    for K
where
    K: BlockOps<B, BT, BH>
        + Supports<Embedding<VOCAB, MODEL, BT>>
        + Supports<Broadcast<Matrix<SEQ, MODEL>, Positions<B>>>
        + Supports<Reshape<Positions<B>, Matrix<BT, MODEL>>>
        + Supports<LinearBatch<BT, VOCAB, MODEL>>
        + Supports<Reshape<Matrix<BT, VOCAB>, SeqLogits<B>>>
        + Supports<Narrow<SeqLogits<B>, 1, DIGITS, DIGITS>>
        + Supports<Reshape<AnswerLogits<B>, Matrix<BO, VOCAB>>>
        + Supports<IndexLoss<BO, VOCAB>>,
{
}

/// The handles of one block's parameters.
pub struct BlockParams<'id> {
    ln1: (Var<'id, Vector<MODEL>>, Var<'id, Vector<MODEL>>),
    qkv: (Var<'id, Matrix<QKV, MODEL>>, Var<'id, Vector<QKV>>),
    out: (Var<'id, Matrix<MODEL, MODEL>>, Var<'id, Vector<MODEL>>),
    ln2: (Var<'id, Vector<MODEL>>, Var<'id, Vector<MODEL>>),
    fc1: (Var<'id, Matrix<HIDDEN, MODEL>>, Var<'id, Vector<HIDDEN>>),
    fc2: (Var<'id, Matrix<MODEL, HIDDEN>>, Var<'id, Vector<MODEL>>),
}

/// One pre-norm block on the rows `x`: `x + attn(ln₁ x)`, then `· + mlp(ln₂ ·)`.
#[allow(clippy::type_complexity)]
pub fn block<'id, K, G, P, const B: usize, const BT: usize, const BH: usize>(
    b: GraphBuilder<'id, K, G, P>,
    x: Var<'id, Matrix<BT, MODEL>>,
    w: &BlockParams<'id>,
) -> Result<
    (
        GraphBuilder<'id, K, G, BlockPushed<P, B, BT, BH>>,
        Var<'id, Matrix<BT, MODEL>>,
    ),
    ConstantError,
>
where
    K: BlockOps<B, BT, BH>,
    G: ShapeList,
    P: Reverse,
    Matrix<BT, MODEL>: Shape,
    Matrix<BT, QKV>: Shape,
    Matrix<BT, HIDDEN>: Shape,
    QkvSplit<B>: Shape,
    QkvHeads<B>: Shape,
    Heads<B>: Shape,
    ByHead<BH>: Shape,
    Tokens<B>: Shape,
    Matrix<BT, QKV>: SameSize<QkvSplit<B>>,
    Heads<B>: SameSize<ByHead<BH>>,
    ByHead<BH>: SameSize<Heads<B>>,
    Tokens<B>: SameSize<Matrix<BT, MODEL>>,
{
    // Attention.
    let (b, h) =
        b.try_push(|c| ops::layer_norm(c.idx(x), c.idx(w.ln1.0), c.idx(w.ln1.1), LN_EPS))?;
    let (b, qkv) = b.push(|c| ops::linear_batch(c.idx(w.qkv.0), c.idx(h), c.idx(w.qkv.1)));
    let (b, split) = b.push(|c| ops::reshape::<QkvSplit<B>, _, _>(c.idx(qkv)));
    let (b, heads) = b.push(|c| ops::swapaxes::<1, 2, _, _>(c.idx(split)));
    let (b, q) = b.push(|c| ops::narrow::<1, 0, HEADS, _, _>(c.idx(heads)));
    let (b, q) = b.push(|c| ops::reshape::<ByHead<BH>, _, _>(c.idx(q)));
    let (b, k) = b.push(|c| ops::narrow::<1, K_HEADS, HEADS, _, _>(c.idx(heads)));
    let (b, k) = b.push(|c| ops::reshape::<ByHead<BH>, _, _>(c.idx(k)));
    let (b, v) = b.push(|c| ops::narrow::<1, V_HEADS, HEADS, _, _>(c.idx(heads)));
    let (b, v) = b.push(|c| ops::reshape::<ByHead<BH>, _, _>(c.idx(v)));
    let (b, a) = b.push(|c| ops::scaled_dot_product_attention(c.idx(q), c.idx(k), c.idx(v), true));
    let (b, a) = b.push(|c| ops::reshape::<Heads<B>, _, _>(c.idx(a)));
    let (b, a) = b.push(|c| ops::swapaxes::<1, 2, _, _>(c.idx(a)));
    let (b, a) = b.push(|c| ops::reshape::<Matrix<BT, MODEL>, _, _>(c.idx(a)));
    let (b, a) = b.push(|c| ops::linear_batch(c.idx(w.out.0), c.idx(a), c.idx(w.out.1)));
    let (b, x) = b.push(|c| ops::add(c.idx(x), c.idx(a)));
    // MLP.
    let (b, h) =
        b.try_push(|c| ops::layer_norm(c.idx(x), c.idx(w.ln2.0), c.idx(w.ln2.1), LN_EPS))?;
    let (b, h) = b.push(|c| ops::linear_batch(c.idx(w.fc1.0), c.idx(h), c.idx(w.fc1.1)));
    let (b, h) = b.push(|c| ops::gelu(c.idx(h)));
    let (b, h) = b.push(|c| ops::linear_batch(c.idx(w.fc2.0), c.idx(h), c.idx(w.fc2.1)));
    let (b, x) = b.push(|c| ops::add(c.idx(x), c.idx(h)));
    Ok((b, x))
}

/// The handles the examples read after building: the answer logits `[BO, V]` (row
/// `s·DIGITS + i` predicts answer digit `i` of sequence `s`) and the loss.
pub struct Outputs<'id, const BT: usize, const BO: usize> {
    /// The answer logits.
    pub logits: Var<'id, Matrix<BO, VOCAB>>,
    /// The mean cross-entropy of the answer digits.
    pub loss: Var<'id, Scalar>,
    /// The residual stream `[BT, D]` after the embedding and after each block.
    pub residual: [Var<'id, Matrix<BT, MODEL>>; 3],
}

/// Pushes the transformer and its loss onto a fresh builder of any graph kind `K`, for a batch
/// of `B` sequences (`BT = B·SEQ`, `BH = B·HEADS`, `BO = B·DIGITS`; a wrong product is a
/// compile error at the reshapes).
#[allow(clippy::type_complexity)]
pub fn transformer<'id, K, const B: usize, const BT: usize, const BH: usize, const BO: usize>(
    b: GraphBuilder<'id, K, Inputs<BT, BO>, HNil>,
) -> Result<
    (
        GraphBuilder<'id, K, Inputs<BT, BO>, Built<B, BT, BH, BO>>,
        Outputs<'id, BT, BO>,
    ),
    ConstantError,
>
where
    K: ModelOps<B, BT, BH, BO>,
    Vector<BT>: Shape,
    Vector<BO>: Shape,
    Matrix<BT, MODEL>: Shape,
    Matrix<BT, QKV>: Shape,
    Matrix<BT, HIDDEN>: Shape,
    Matrix<BT, VOCAB>: Shape,
    Matrix<BO, VOCAB>: Shape,
    QkvSplit<B>: Shape,
    QkvHeads<B>: Shape,
    Heads<B>: Shape,
    ByHead<BH>: Shape,
    Tokens<B>: Shape,
    Positions<B>: Shape,
    SeqLogits<B>: Shape,
    AnswerLogits<B>: Shape,
    Matrix<BT, QKV>: SameSize<QkvSplit<B>>,
    Heads<B>: SameSize<ByHead<BH>>,
    ByHead<BH>: SameSize<Heads<B>>,
    Tokens<B>: SameSize<Matrix<BT, MODEL>>,
    Positions<B>: SameSize<Matrix<BT, MODEL>>,
    Matrix<BT, VOCAB>: SameSize<SeqLogits<B>>,
    AnswerLogits<B>: SameSize<Matrix<BO, VOCAB>>,
    Matrix<SEQ, MODEL>: BroadcastTo<Positions<B>>,
{
    let hlist_pat![
        tok, pos, //
        a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, //
        b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, //
        lnf_g, lnf_b, unembed_w, unembed_b, //
        tokens, targets
    ] = b.inputs();
    let blocks = [
        BlockParams {
            ln1: (a1, a2),
            qkv: (a3, a4),
            out: (a5, a6),
            ln2: (a7, a8),
            fc1: (a9, a10),
            fc2: (a11, a12),
        },
        BlockParams {
            ln1: (b1, b2),
            qkv: (b3, b4),
            out: (b5, b6),
            ln2: (b7, b8),
            fc1: (b9, b10),
            fc2: (b11, b12),
        },
    ];
    // Token embedding plus the learned positions, repeated for every sequence.
    let (b, e) = b.push(|c| ops::embedding(c.idx(tok), c.idx(tokens)));
    let (b, p) = b.push(|c| ops::broadcast_to::<Positions<B>, _, _>(c.idx(pos)));
    let (b, p) = b.push(|c| ops::reshape::<Matrix<BT, MODEL>, _, _>(c.idx(p)));
    let (b, x0) = b.push(|c| ops::add(c.idx(e), c.idx(p)));
    let (b, x1) = block::<_, _, _, B, BT, BH>(b, x0, &blocks[0])?;
    let (b, x) = block::<_, _, _, B, BT, BH>(b, x1, &blocks[1])?;
    // Final norm, logits, and the loss on the answer rows only.
    let (b, h) = b.try_push(|c| ops::layer_norm(c.idx(x), c.idx(lnf_g), c.idx(lnf_b), LN_EPS))?;
    let (b, z) = b.push(|c| ops::linear_batch(c.idx(unembed_w), c.idx(h), c.idx(unembed_b)));
    let (b, z) = b.push(|c| ops::reshape::<SeqLogits<B>, _, _>(c.idx(z)));
    let (b, z) = b.push(|c| ops::narrow::<1, DIGITS, DIGITS, _, _>(c.idx(z)));
    let (b, logits) = b.push(|c| ops::reshape::<Matrix<BO, VOCAB>, _, _>(c.idx(z)));
    let (b, loss) =
        b.push(|c| ops::cross_entropy_with_integer_labels(c.idx(logits), c.idx(targets)));
    Ok((
        b,
        Outputs {
            logits,
            loss,
            residual: [x0, x1, x],
        },
    ))
}
