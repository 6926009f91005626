//! The bridge `RevGraph → GraphData` (src/link.rs) as property tests on random graphs.
//!
//! Lean's `LinkAutogradAlgebra` proves two theorems by unfolding definitions; here they are
//! checked bit for bit (`to_bits()` on every entry), for runtime scalars `f32` and `f64`:
//!
//! - `evalRuntime_of_toGraphData`: `g.to_graph_data().eval(x, &()) == g.eval_runtime(x)`;
//! - `backpropRuntime_of_toGraphData`:
//!   `g.to_graph_data().backprop_ctx(x, &(), seed) == g.backprop_runtime(x, seed)`, with
//!   random seeds on *every* slot (inputs and intermediate nodes, with exact `+0.0`/`−0.0`
//!   entries), and the literal recursions agree with both:
//!   `backprop_ctx_literal == backprop_runtime_literal == backprop_runtime`.
//!
//! Beyond Lean (whose erased `jvp` is a placeholder), erasure keeps the runtime JVP, so the
//! erased graph satisfies `backprop_correct`: `⟨jvp_ctx(x, dx), seed⟩ ≈ ⟨dx, backprop_ctx(x,
//! seed)⟩`, checked in f64 within a relative tolerance [`F64_ADJOINT_RTOL`] of the magnitude of
//! the terms. The erased types are named exactly in [`erased_types_are_named_exactly`]; that
//! erasing into another environment, input context or output list does not compile is shown by
//! `ui-tests/link_wrong_*.rs`.
//!
//! Random graphs are *templates* (see tests/approx.rs, which uses the same generator): a fixed
//! input context Γ and node output shapes Ss, with every node's op chosen at run time among the
//! ops of `approx::ops` that produce its shape, and its operands among all earlier slots of the
//! right shape (`Idx::try_at`), aliased a quarter of the time. Case counts: proptest's default
//! (256) or `PROPTEST_CASES`; the properties on 16×16 products run [`BLOCKED_CASES`] by default
//! (also overridden by `PROPTEST_CASES`).

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shapetape::approx::{self, RevGraph, RevNode, RuntimeFloat, SpecScalar, ToSpec};
use shapetape::autograd::{GraphData, NodeData, check_backprop};
use shapetape::prelude::*;
use typenum::NonZero;

type Law = Result<(), TestCaseError>;

/// `backprop_correct` in f64 on an erased graph: `|lhs − rhs| ≤ F64_ADJOINT_RTOL · magnitude`,
/// where the magnitude is `max(⟨|jvp_ctx|, |seed|⟩, ⟨|dx|, |backprop_ctx|⟩)` (the scale at
/// which both dot products round). A graph of ≤ 9 nodes does a few hundred roundings of
/// relative size 2⁻⁵³ ≈ 1.1·10⁻¹⁶ per path; 10⁻¹⁰ leaves four orders of magnitude for
/// cancellation inside the graph and is still far below the error of a wrong derivative.
const F64_ADJOINT_RTOL: f64 = 1e-10;

/// Default number of cases of the properties on 16×16 products (the blocked GEMM kernel, slow
/// in a debug build; the literal recursions evaluate the prefix again per node).
const BLOCKED_CASES: u32 = 64;

/// `PROPTEST_CASES` if set, otherwise `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

// ================================================================ random typed graph templates
// (the same generator as in tests/approx.rs)

type V2 = Vector<2>;
type V3 = Vector<3>;
type M22 = Matrix<2, 2>;
type M23 = Matrix<2, 3>;
type M32 = Matrix<3, 2>;
/// Large enough (`16·16·16 = 4096`) for the blocked GEMM kernel of f32/f64 (`Element::gemm`).
type M16 = Matrix<16, 16>;
type V16 = Vector<16>;

/// A runtime scalar of the templates: `f32` or `f64`.
trait Rt: RuntimeFloat + ToSpec<f64> + ToSpec<Rational> {
    /// The bit pattern (widened for `f32`).
    fn bits(self) -> u64;
}
impl Rt for f32 {
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
}
impl Rt for f64 {
    fn bits(self) -> u64 {
        self.to_bits()
    }
}

/// The transcendental ops of the templates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RealOp {
    Exp,
    Tanh,
    Sigmoid,
    Softplus,
    SafeLog,
    Softmax,
    LogSoftmax,
}

/// The clamp point of `safe_log` in the templates.
const SAFE_LOG_EPS: f64 = 1e-3;

/// A spec scalar of the templates: `f64` (every op) or `Rational` (no transcendental op).
trait Sp: SpecScalar {
    /// Whether the transcendental ops exist at this spec scalar.
    const REAL: bool;
    fn real_op<R: Rt, C: ShapeList, S: Shape>(op: RealOp, a: Idx<C, S>) -> RevNode<R, Self, C, S>;
    fn cross_entropy<R: Rt, C: ShapeList, S: Shape>(
        z: Idx<C, S>,
        t: Idx<C, S>,
    ) -> RevNode<R, Self, C, Scalar>
    where
        S::Size: NonZero;
    fn scale<R: Rt, C: ShapeList, S: Shape>(a: Idx<C, S>, c: R) -> RevNode<R, Self, C, S>;
}

impl Sp for f64 {
    const REAL: bool = true;
    fn real_op<R: Rt, C: ShapeList, S: Shape>(op: RealOp, a: Idx<C, S>) -> RevNode<R, f64, C, S> {
        match op {
            RealOp::Exp => approx::ops::exp(a),
            RealOp::Tanh => approx::ops::tanh(a),
            RealOp::Sigmoid => approx::ops::sigmoid(a),
            RealOp::Softplus => approx::ops::softplus(a),
            RealOp::SafeLog => {
                approx::ops::safe_log(a, R::from_f64(SAFE_LOG_EPS)).expect("ε > 0 is finite")
            }
            RealOp::Softmax => approx::ops::softmax(a),
            RealOp::LogSoftmax => approx::ops::log_softmax(a),
        }
    }
    fn cross_entropy<R: Rt, C: ShapeList, S: Shape>(
        z: Idx<C, S>,
        t: Idx<C, S>,
    ) -> RevNode<R, f64, C, Scalar>
    where
        S::Size: NonZero,
    {
        approx::ops::cross_entropy(z, t)
    }
    fn scale<R: Rt, C: ShapeList, S: Shape>(a: Idx<C, S>, c: R) -> RevNode<R, f64, C, S> {
        approx::ops::scale(a, c).expect("a finite factor")
    }
}

impl Sp for Rational {
    const REAL: bool = false;
    fn real_op<R: Rt, C: ShapeList, S: Shape>(_: RealOp, _: Idx<C, S>) -> RevNode<R, Self, C, S> {
        unreachable!("rational templates draw no transcendental op")
    }
    fn cross_entropy<R: Rt, C: ShapeList, S: Shape>(
        _: Idx<C, S>,
        _: Idx<C, S>,
    ) -> RevNode<R, Self, C, Scalar>
    where
        S::Size: NonZero,
    {
        unreachable!("rational templates draw no transcendental op")
    }
    fn scale<R: Rt, C: ShapeList, S: Shape>(a: Idx<C, S>, c: R) -> RevNode<R, Self, C, S> {
        approx::ops::scale(a, c).expect("a finite factor")
    }
}

/// Which ops a template draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)]
enum OpSet {
    /// Polynomial and piecewise-linear ops (exact over `Rational`).
    Poly,
    /// Every op.
    All,
    /// Ops whose output is unbounded on an unbounded input box (no tanh, sigmoid, softmax,
    /// log-softmax, cross-entropy; `scale` by a nonzero constant).
    Unbounded,
}

/// The raw random numbers of one node, interpreted when the node is built: `op` selects among
/// the ops producing the node's shape, `operands` among the earlier slots of each needed shape
/// (`operands[2]` also rotates among operand shapes), `alias` makes the second operand equal
/// to the first, `konst / 4` is a `scale` factor.
#[derive(Clone, Debug)]
struct Choice {
    op: usize,
    operands: [usize; 3],
    alias: bool,
    konst: i64,
}

fn choice() -> impl Strategy<Value = Choice> {
    (
        any::<usize>(),
        any::<[usize; 3]>(),
        prop::bool::weighted(0.25),
        -8_i64..=8,
    )
        .prop_map(|(op, operands, alias, konst)| Choice {
            op,
            operands,
            alias,
            konst,
        })
}

fn choices(n: usize) -> impl Strategy<Value = Vec<Choice>> {
    proptest::collection::vec(choice(), n)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Add,
    Sub,
    Mul,
    Neg,
    Scale,
    Relu,
    Real(RealOp),
    Matvec,
    Linear,
    Matmul,
    Transpose,
    LinearBatch,
    Sum,
    Mean,
    Mse,
    CrossEntropy,
}

const POLY_SAME_SHAPE: [Kind; 6] = [
    Kind::Add,
    Kind::Sub,
    Kind::Mul,
    Kind::Neg,
    Kind::Scale,
    Kind::Relu,
];

fn real_same_shape(set: OpSet) -> Vec<Kind> {
    match set {
        OpSet::Poly => vec![],
        OpSet::All => vec![
            Kind::Real(RealOp::Exp),
            Kind::Real(RealOp::Tanh),
            Kind::Real(RealOp::Sigmoid),
            Kind::Real(RealOp::Softplus),
            Kind::Real(RealOp::SafeLog),
            Kind::Real(RealOp::Softmax),
            Kind::Real(RealOp::LogSoftmax),
        ],
        OpSet::Unbounded => vec![
            Kind::Real(RealOp::Exp),
            Kind::Real(RealOp::Softplus),
            Kind::Real(RealOp::SafeLog),
        ],
    }
}

fn same_shape_kinds(set: OpSet, extra: &[Kind]) -> Vec<Kind> {
    let mut k = POLY_SAME_SHAPE.to_vec();
    k.extend_from_slice(extra);
    k.extend(real_same_shape(set));
    k
}

/// The `raw`-th (mod the count) slot of `C` of shape `S`.
fn pick<C: ShapeList, S: Shape>(raw: usize) -> Option<Idx<C, S>> {
    let c: Vec<Idx<C, S>> = (0..C::LEN).filter_map(Idx::<C, S>::try_at).collect();
    (!c.is_empty()).then(|| c[raw % c.len()])
}

/// A node and the slots it reads.
struct Made<R, P, C, S> {
    node: RevNode<R, P, C, S>,
    reads: Vec<usize>,
}

fn made<R, P, C, S>(node: RevNode<R, P, C, S>, reads: Vec<usize>) -> Option<Made<R, P, C, S>> {
    Some(Made { node, reads })
}

type Maker<R, P, C, S> = fn(&Choice) -> Option<Made<R, P, C, S>>;

/// The first variant (rotating from `operands[2]`) whose operands exist.
fn first_of<R, P, C, S>(ch: &Choice, variants: &[Maker<R, P, C, S>]) -> Option<Made<R, P, C, S>> {
    let start = ch.operands[2] % variants.len();
    (0..variants.len()).find_map(|i| variants[(start + i) % variants.len()](ch))
}

/// The same-shape ops (`S → S`, `S × S → S`) at output shape `S`.
fn same_shape<R: Rt, P: Sp, C: ShapeList, S: Shape>(
    kind: Kind,
    ch: &Choice,
    set: OpSet,
) -> Option<Made<R, P, C, S>> {
    let a = pick::<C, S>(ch.operands[0])?;
    let b = if ch.alias {
        a
    } else {
        pick::<C, S>(ch.operands[1])?
    };
    let (ra, rab) = (vec![a.pos()], vec![a.pos(), b.pos()]);
    match kind {
        Kind::Add => made(approx::ops::add(a, b), rab),
        Kind::Sub => made(approx::ops::sub(a, b), rab),
        Kind::Mul => made(approx::ops::mul(a, b), rab),
        Kind::Neg => made(approx::ops::neg(a), ra),
        Kind::Scale => {
            let k = if set == OpSet::Unbounded && ch.konst == 0 {
                3
            } else {
                ch.konst
            };
            made(P::scale(a, R::from_f64(k as f64 / 4.0)), ra)
        }
        Kind::Relu => made(approx::ops::relu(a), ra),
        Kind::Real(op) => made(P::real_op(op, a), ra),
        _ => None,
    }
}

fn matvec<R: Rt, P: Sp, C: ShapeList, const M: usize, const N: usize>(
    ch: &Choice,
) -> Option<Made<R, P, C, Vector<M>>>
where
    Matrix<M, N>: Shape,
    Vector<N>: Shape,
    Vector<M>: Shape,
{
    let (w, x) = (
        pick::<C, Matrix<M, N>>(ch.operands[0])?,
        pick::<C, Vector<N>>(ch.operands[1])?,
    );
    made(approx::ops::matvec(w, x), vec![w.pos(), x.pos()])
}

fn linear<R: Rt, P: Sp, C: ShapeList, const O: usize, const I: usize>(
    ch: &Choice,
) -> Option<Made<R, P, C, Vector<O>>>
where
    Matrix<O, I>: Shape,
    Vector<I>: Shape,
    Vector<O>: Shape,
{
    let (w, x) = (
        pick::<C, Matrix<O, I>>(ch.operands[0])?,
        pick::<C, Vector<I>>(ch.operands[1])?,
    );
    // `b` aliases `x` when the shapes agree and `alias` is drawn.
    let b = match Idx::<C, Vector<O>>::try_at(x.pos()) {
        Some(xb) if ch.alias => xb,
        _ => pick::<C, Vector<O>>(ch.operands[2] / 7)?,
    };
    made(
        approx::ops::linear(w, x, b),
        vec![w.pos(), x.pos(), b.pos()],
    )
}

fn matmul<R: Rt, P: Sp, C: ShapeList, const M: usize, const K: usize, const N: usize>(
    ch: &Choice,
) -> Option<Made<R, P, C, Matrix<M, N>>>
where
    Matrix<M, K>: Shape,
    Matrix<K, N>: Shape,
    Matrix<M, N>: Shape,
{
    let a = pick::<C, Matrix<M, K>>(ch.operands[0])?;
    let b = match Idx::<C, Matrix<K, N>>::try_at(a.pos()) {
        Some(ab) if ch.alias => ab,
        _ => pick::<C, Matrix<K, N>>(ch.operands[1])?,
    };
    made(approx::ops::matmul(a, b), vec![a.pos(), b.pos()])
}

fn transpose<R: Rt, P: Sp, C: ShapeList, const M: usize, const N: usize>(
    ch: &Choice,
) -> Option<Made<R, P, C, Matrix<N, M>>>
where
    Matrix<M, N>: Shape,
    Matrix<N, M>: Shape,
{
    let a = pick::<C, Matrix<M, N>>(ch.operands[0])?;
    made(approx::ops::transpose(a), vec![a.pos()])
}

fn linear_batch<R: Rt, P: Sp, C: ShapeList, const B: usize, const O: usize, const I: usize>(
    ch: &Choice,
) -> Option<Made<R, P, C, Matrix<B, O>>>
where
    Matrix<O, I>: Shape,
    Matrix<B, I>: Shape,
    Matrix<B, O>: Shape,
    Vector<O>: Shape,
{
    let w = pick::<C, Matrix<O, I>>(ch.operands[0])?;
    let x = match Idx::<C, Matrix<B, I>>::try_at(w.pos()) {
        Some(wx) if ch.alias => wx,
        _ => pick::<C, Matrix<B, I>>(ch.operands[1])?,
    };
    let b = pick::<C, Vector<O>>(ch.operands[2] / 7)?;
    made(
        approx::ops::linear_batch(w, x, b),
        vec![w.pos(), x.pos(), b.pos()],
    )
}

/// A reduction `S → Scalar` of a slot of shape `S`.
fn reduction<R: Rt, P: Sp, C: ShapeList, S: Shape>(
    kind: Kind,
    ch: &Choice,
) -> Option<Made<R, P, C, Scalar>>
where
    S::Size: NonZero,
{
    let a = pick::<C, S>(ch.operands[0])?;
    let b = if ch.alias {
        a
    } else {
        pick::<C, S>(ch.operands[1])?
    };
    match kind {
        Kind::Sum => made(approx::ops::sum(a), vec![a.pos()]),
        Kind::Mean => made(approx::ops::mean(a), vec![a.pos()]),
        Kind::Mse => made(approx::ops::mse(a, b), vec![a.pos(), b.pos()]),
        Kind::CrossEntropy => made(P::cross_entropy(a, b), vec![a.pos(), b.pos()]),
        _ => None,
    }
}

/// Output shapes of the templates: the ops producing the shape, and how to build one.
trait OutShape: Shape {
    fn kinds(set: OpSet) -> Vec<Kind>;
    fn make<R: Rt, P: Sp, C: ShapeList>(
        kind: Kind,
        ch: &Choice,
        set: OpSet,
    ) -> Option<Made<R, P, C, Self>>;
}

impl OutShape for V2 {
    fn kinds(set: OpSet) -> Vec<Kind> {
        same_shape_kinds(set, &[Kind::Matvec, Kind::Linear])
    }
    fn make<R: Rt, P: Sp, C: ShapeList>(
        kind: Kind,
        ch: &Choice,
        set: OpSet,
    ) -> Option<Made<R, P, C, Self>> {
        match kind {
            Kind::Matvec => first_of(ch, &[matvec::<R, P, C, 2, 2>, matvec::<R, P, C, 2, 3>]),
            Kind::Linear => first_of(ch, &[linear::<R, P, C, 2, 2>, linear::<R, P, C, 2, 3>]),
            _ => same_shape(kind, ch, set),
        }
    }
}

impl OutShape for V3 {
    fn kinds(set: OpSet) -> Vec<Kind> {
        same_shape_kinds(set, &[Kind::Matvec, Kind::Linear])
    }
    fn make<R: Rt, P: Sp, C: ShapeList>(
        kind: Kind,
        ch: &Choice,
        set: OpSet,
    ) -> Option<Made<R, P, C, Self>> {
        match kind {
            Kind::Matvec => matvec::<R, P, C, 3, 2>(ch),
            Kind::Linear => linear::<R, P, C, 3, 2>(ch),
            _ => same_shape(kind, ch, set),
        }
    }
}

impl OutShape for M22 {
    fn kinds(set: OpSet) -> Vec<Kind> {
        same_shape_kinds(set, &[Kind::Matmul, Kind::Transpose, Kind::LinearBatch])
    }
    fn make<R: Rt, P: Sp, C: ShapeList>(
        kind: Kind,
        ch: &Choice,
        set: OpSet,
    ) -> Option<Made<R, P, C, Self>> {
        match kind {
            Kind::Matmul => first_of(
                ch,
                &[matmul::<R, P, C, 2, 2, 2>, matmul::<R, P, C, 2, 3, 2>],
            ),
            Kind::Transpose => transpose::<R, P, C, 2, 2>(ch),
            Kind::LinearBatch => first_of(
                ch,
                &[
                    linear_batch::<R, P, C, 2, 2, 2>,
                    linear_batch::<R, P, C, 2, 2, 3>,
                ],
            ),
            _ => same_shape(kind, ch, set),
        }
    }
}

impl OutShape for M23 {
    fn kinds(set: OpSet) -> Vec<Kind> {
        same_shape_kinds(set, &[Kind::Matmul, Kind::Transpose, Kind::LinearBatch])
    }
    fn make<R: Rt, P: Sp, C: ShapeList>(
        kind: Kind,
        ch: &Choice,
        set: OpSet,
    ) -> Option<Made<R, P, C, Self>> {
        match kind {
            Kind::Matmul => matmul::<R, P, C, 2, 2, 3>(ch),
            Kind::Transpose => transpose::<R, P, C, 3, 2>(ch),
            Kind::LinearBatch => linear_batch::<R, P, C, 2, 3, 2>(ch),
            _ => same_shape(kind, ch, set),
        }
    }
}

impl OutShape for M32 {
    fn kinds(set: OpSet) -> Vec<Kind> {
        same_shape_kinds(set, &[Kind::Matmul, Kind::Transpose, Kind::LinearBatch])
    }
    fn make<R: Rt, P: Sp, C: ShapeList>(
        kind: Kind,
        ch: &Choice,
        set: OpSet,
    ) -> Option<Made<R, P, C, Self>> {
        match kind {
            Kind::Matmul => matmul::<R, P, C, 3, 2, 2>(ch),
            Kind::Transpose => transpose::<R, P, C, 2, 3>(ch),
            Kind::LinearBatch => linear_batch::<R, P, C, 3, 2, 2>(ch),
            _ => same_shape(kind, ch, set),
        }
    }
}

impl OutShape for M16 {
    fn kinds(set: OpSet) -> Vec<Kind> {
        // Indices 6 and 8 (for every op set) are the blocked products matmul and linear_batch.
        same_shape_kinds(set, &[Kind::Matmul, Kind::Transpose, Kind::LinearBatch])
    }
    fn make<R: Rt, P: Sp, C: ShapeList>(
        kind: Kind,
        ch: &Choice,
        set: OpSet,
    ) -> Option<Made<R, P, C, Self>> {
        match kind {
            Kind::Matmul => matmul::<R, P, C, 16, 16, 16>(ch),
            Kind::Transpose => transpose::<R, P, C, 16, 16>(ch),
            Kind::LinearBatch => linear_batch::<R, P, C, 16, 16, 16>(ch),
            _ => same_shape(kind, ch, set),
        }
    }
}

impl OutShape for Scalar {
    fn kinds(set: OpSet) -> Vec<Kind> {
        let mut k = same_shape_kinds(set, &[Kind::Sum, Kind::Mean, Kind::Mse]);
        if set == OpSet::All {
            k.push(Kind::CrossEntropy);
        }
        k
    }
    fn make<R: Rt, P: Sp, C: ShapeList>(
        kind: Kind,
        ch: &Choice,
        set: OpSet,
    ) -> Option<Made<R, P, C, Self>> {
        if !matches!(
            kind,
            Kind::Sum | Kind::Mean | Kind::Mse | Kind::CrossEntropy
        ) {
            return same_shape(kind, ch, set);
        }
        // The operand shape is drawn too; shapes absent from the context are skipped.
        let start = ch.operands[2] % 8;
        (0..8).find_map(|i| match (start + i) % 8 {
            0 => reduction::<R, P, C, Scalar>(kind, ch),
            1 => reduction::<R, P, C, V2>(kind, ch),
            2 => reduction::<R, P, C, V3>(kind, ch),
            3 => reduction::<R, P, C, M22>(kind, ch),
            4 => reduction::<R, P, C, M23>(kind, ch),
            5 => reduction::<R, P, C, M32>(kind, ch),
            6 => reduction::<R, P, C, M16>(kind, ch),
            _ => reduction::<R, P, C, V16>(kind, ch),
        })
    }
}

/// The node for `ch` at output shape `S` in the context `C`: the drawn op if its operands
/// exist in `C`, otherwise the first op (in the drawn rotation) whose operands do.
fn make_node<R: Rt, P: Sp, C: ShapeList, S: OutShape>(ch: &Choice, set: OpSet) -> Made<R, P, C, S> {
    let set = if P::REAL { set } else { OpSet::Poly };
    let kinds = S::kinds(set);
    (0..kinds.len())
        .find_map(|i| S::make::<R, P, C>(kinds[(ch.op + i) % kinds.len()], ch, set))
        .expect("every template context has a slot for some op of each output shape")
}

/// A random graph and the slots each node reads.
struct Built<R, P, G, Ss> {
    graph: RevGraph<R, P, G, Ss>,
    reads: Vec<Vec<usize>>,
}

impl<R: Rt, P: Sp, G: ShapeList> Built<R, P, G, HNil> {
    fn new() -> Self {
        Built {
            graph: RevGraph::nil(),
            reads: Vec::new(),
        }
    }
}

/// Appends the node drawn by `ch`, of output shape `S`, reading `G ++ Ss`.
fn push<R: Rt, P: Sp, G: ShapeList, Ss: ShapeList, S: OutShape>(
    b: Built<R, P, G, Ss>,
    ch: &Choice,
    set: OpSet,
) -> Built<R, P, G, Snoc<Ss, S>> {
    let Made { node, reads } = make_node::<R, P, Cat<G, Ss>, S>(ch, set);
    let mut all = b.reads;
    all.push(reads);
    Built {
        graph: b.graph.snoc(node),
        reads: all,
    }
}

/// Builds a template: `template!(R, P, G, [S₀, S₁, …], choices, set)`.
macro_rules! template {
    ($R:ty, $P:ty, $G:ty, [$($S:ty),* $(,)?], $choices:expr, $set:expr) => {{
        let mut it = $choices.iter();
        let b = Built::<$R, $P, $G, HNil>::new();
        $( let b = push::<$R, $P, _, _, $S>(b, it.next().expect("one choice per node"), $set); )*
        b
    }};
}

/// Γ = [V3, V3, V3], eight nodes of shape V3: every slot is an operand candidate of every node
/// (much aliasing, long chains).
type UniformG = HList![V3, V3, V3];
type UniformSs = HList![V3, V3, V3, V3, V3, V3, V3, V3];
const UNIFORM_NODES: usize = 8;

fn uniform<R: Rt, P: Sp>(ch: &[Choice], set: OpSet) -> Built<R, P, UniformG, UniformSs> {
    template!(R, P, UniformG, [V3, V3, V3, V3, V3, V3, V3, V3], ch, set)
}

/// Γ = [Scalar, V2, M22, V3, M23], nine nodes of six shapes: matrix–vector and matrix–matrix
/// products (square and rectangular), transposes, affine layers, reductions and losses.
type MixedG = HList![Scalar, V2, M22, V3, M23];
type MixedSs = HList![V2, M22, Scalar, V3, M32, M23, Scalar, V2, M22];
const MIXED_NODES: usize = 9;

fn mixed<R: Rt, P: Sp>(ch: &[Choice], set: OpSet) -> Built<R, P, MixedG, MixedSs> {
    template!(
        R,
        P,
        MixedG,
        [V2, M22, Scalar, V3, M32, M23, Scalar, V2, M22],
        ch,
        set
    )
}

/// Γ = [M16, M16, V16], nodes M16, M16, Scalar: 16×16 products go to the blocked GEMM kernel
/// of f32/f64 (which sums in another order than Lean's left fold). The first node is always a
/// blocked product (see [`blocked_choices`]).
type BlockedG = HList![M16, M16, V16];
type BlockedSs = HList![M16, M16, Scalar];
const BLOCKED_NODES: usize = 3;

fn blocked<R: Rt, P: Sp>(ch: &[Choice], set: OpSet) -> Built<R, P, BlockedG, BlockedSs> {
    template!(R, P, BlockedG, [M16, M16, Scalar], ch, set)
}

/// Choices for [`blocked`]: the first node is `matmul` or `linear_batch` (op index 6 or 8 of
/// `M16::kinds`, the same for every op set).
fn blocked_choices() -> impl Strategy<Value = Vec<Choice>> {
    (
        prop::sample::select(vec![6_usize, 8]),
        choices(BLOCKED_NODES),
    )
        .prop_map(|(op, mut ch)| {
            ch[0].op = op;
            ch
        })
}

fn total_len<G: ShapeList>() -> usize {
    G::layout().iter().map(|l| l.size).sum()
}

fn tlist_of<A: Element, G: ShapeList>(
    entry: impl Strategy<Value = A>,
) -> impl Strategy<Value = TList<A, G>> {
    proptest::collection::vec(entry, total_len::<G>())
        .prop_map(|flat| TList::try_from_flat(flat).expect("generated with the context's length"))
}

// ================================================================ values

/// Inputs: moderate values, with exact `+0.0` and `−0.0`.
fn input_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(0.0),
        1 => Just(-0.0),
        8 => -2.0_f64..2.0,
    ]
}

/// Seeds: moderate values with many exact `+0.0` and `−0.0` (the dense zero additions of
/// Lean's recursion turn a `−0.0` into `+0.0` or not, depending on the graph).
fn seed_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => Just(0.0),
        2 => Just(-0.0),
        6 => -2.0_f64..2.0,
    ]
}

/// Inputs with non-finite entries.
fn wild_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -2.0_f64..2.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
    ]
}

fn rt<R: Rt>(s: impl Strategy<Value = f64>) -> impl Strategy<Value = R> {
    s.prop_map(R::from_f64)
}

fn bits_of<R: Rt, C>(x: &TList<R, C>) -> Vec<Vec<u64>> {
    x.slot_slices()
        .map(|s| s.iter().map(|v| v.bits()).collect())
        .collect()
}

fn names<R: Rt, P: Sp, G: ShapeList, Ss: ShapeList>(b: &Built<R, P, G, Ss>) -> Vec<String> {
    b.graph.node_names().map(str::to_owned).collect()
}

// ================================================================ 1. eval

fn erased_eval<R: Rt, G: ShapeList, Ss: ShapeList>(
    b: &Built<R, f64, G, Ss>,
    x: TList<R, G>,
) -> Law {
    let gd: GraphData<R, (), G, Ss> = b.graph.to_graph_data();
    prop_assert_eq!(
        gd.node_names().collect::<Vec<_>>(),
        b.graph.node_names().collect::<Vec<_>>()
    );
    prop_assert_eq!(
        bits_of(&gd.eval(x.clone(), &())),
        bits_of(&b.graph.eval_runtime(x)),
        "nodes {:?}",
        names(b)
    );
    Ok(())
}

proptest! {
    #[test]
    fn erased_eval_is_eval_runtime_uniform_f32(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f32, UniformG>(rt(input_f64())),
    ) {
        erased_eval(&uniform::<f32, f64>(&ch, OpSet::All), x)?;
    }

    #[test]
    fn erased_eval_is_eval_runtime_mixed_f32(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(input_f64())),
    ) {
        erased_eval(&mixed::<f32, f64>(&ch, OpSet::All), x)?;
    }

    #[test]
    fn erased_eval_is_eval_runtime_mixed_f64(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
    ) {
        erased_eval(&mixed::<f64, f64>(&ch, OpSet::All), x)?;
    }

    #[test]
    fn erased_eval_is_eval_runtime_with_non_finite_inputs(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(wild_f64())),
    ) {
        erased_eval(&mixed::<f32, f64>(&ch, OpSet::All), x)?;
    }
}

// ================================================================ 2. backprop (linear and literal)

/// `backprop_ctx` of the erased graph = `backprop_runtime`, and the literal recursions
/// (`backprop_ctx_literal`, `backprop_runtime_literal`) give the same bits.
fn erased_backprop<R: Rt, G: ShapeList, Ss: ShapeList>(
    b: &Built<R, f64, G, Ss>,
    x: TList<R, G>,
    seed: TList<R, Cat<G, Ss>>,
) -> Law {
    let gd: GraphData<R, (), G, Ss> = b.graph.to_graph_data();
    let runtime = bits_of(&b.graph.backprop_runtime(x.clone(), seed.clone()));
    let erased = bits_of(&gd.backprop_ctx(x.clone(), &(), seed.clone()));
    prop_assert_eq!(&erased, &runtime, "backprop_ctx, nodes {:?}", names(b));
    let runtime_literal = bits_of(&b.graph.backprop_runtime_literal(x.clone(), seed.clone()));
    prop_assert_eq!(
        &runtime_literal,
        &runtime,
        "backprop_runtime_literal, nodes {:?}",
        names(b)
    );
    let erased_literal = bits_of(&gd.backprop_ctx_literal(x, &(), seed));
    prop_assert_eq!(
        &erased_literal,
        &runtime,
        "backprop_ctx_literal, nodes {:?}",
        names(b)
    );
    Ok(())
}

proptest! {
    #[test]
    fn erased_backprop_is_backprop_runtime_uniform_f32(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f32, UniformG>(rt(input_f64())),
        seed in tlist_of::<f32, Cat<UniformG, UniformSs>>(rt(seed_f64())),
    ) {
        erased_backprop(&uniform::<f32, f64>(&ch, OpSet::All), x, seed)?;
    }

    #[test]
    fn erased_backprop_is_backprop_runtime_uniform_f64(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f64, UniformG>(input_f64()),
        seed in tlist_of::<f64, Cat<UniformG, UniformSs>>(seed_f64()),
    ) {
        erased_backprop(&uniform::<f64, f64>(&ch, OpSet::All), x, seed)?;
    }

    #[test]
    fn erased_backprop_is_backprop_runtime_mixed_f32(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(input_f64())),
        seed in tlist_of::<f32, Cat<MixedG, MixedSs>>(rt(seed_f64())),
    ) {
        erased_backprop(&mixed::<f32, f64>(&ch, OpSet::All), x, seed)?;
    }

    #[test]
    fn erased_backprop_is_backprop_runtime_mixed_f64(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(seed_f64()),
    ) {
        erased_backprop(&mixed::<f64, f64>(&ch, OpSet::All), x, seed)?;
    }

    #[test]
    fn erased_backprop_is_backprop_runtime_with_non_finite_values(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(wild_f64())),
        seed in tlist_of::<f32, Cat<MixedG, MixedSs>>(rt(wild_f64())),
    ) {
        erased_backprop(&mixed::<f32, f64>(&ch, OpSet::All), x, seed)?;
    }
}

// ================================================================ 3. adjointness of erased graphs

fn all_finite<C>(x: &TList<f64, C>) -> bool {
    x.slot_slices().flatten().all(|v| v.is_finite())
}

/// `backprop_correct` for the erased graph in f64: its `jvp_ctx` is a real tangent (with Lean's
/// placeholder, which returns the primal outputs, the two sides would not agree).
fn erased_adjoint<G: ShapeList, Ss: ShapeList>(
    b: &Built<f64, f64, G, Ss>,
    x: TList<f64, G>,
    dx: TList<f64, G>,
    seed: TList<f64, Cat<G, Ss>>,
) -> Law {
    let gd: GraphData<f64, (), G, Ss> = b.graph.to_graph_data();
    let vals = gd.eval(x.clone(), &());
    let tans = gd.jvp_ctx(x.clone(), dx.clone(), &());
    let grad = gd.backprop_ctx(x.clone(), &(), seed.clone());
    // Overflow (exp ∘ exp ∘ …) makes both sides ∞ or NaN; such cases say nothing.
    prop_assume!(all_finite(&vals) && all_finite(&tans) && all_finite(&grad));
    let check = check_backprop(&gd, &x, &dx, &(), &seed);
    prop_assume!(check.magnitude.is_finite());
    prop_assert!(
        check.relative_error() <= F64_ADJOINT_RTOL,
        "{} (relative error {:e}) for nodes {:?}",
        check,
        check.relative_error(),
        names(b)
    );
    Ok(())
}

proptest! {
    #[test]
    fn erased_graph_is_adjoint_uniform(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f64, UniformG>(input_f64()),
        dx in tlist_of::<f64, UniformG>(-1.0_f64..1.0),
        seed in tlist_of::<f64, Cat<UniformG, UniformSs>>(seed_f64()),
    ) {
        erased_adjoint(&uniform::<f64, f64>(&ch, OpSet::All), x, dx, seed)?;
    }

    #[test]
    fn erased_graph_is_adjoint_mixed(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        dx in tlist_of::<f64, MixedG>(-1.0_f64..1.0),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(seed_f64()),
    ) {
        erased_adjoint(&mixed::<f64, f64>(&ch, OpSet::All), x, dx, seed)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(BLOCKED_CASES), ..ProptestConfig::default() })]

    /// 16×16 products (matmul, linear_batch) take the blocked GEMM kernel: erasure still keeps
    /// the runtime semantics bit for bit, and the erased graph is adjoint.
    #[test]
    fn erased_graph_with_blocked_gemm_f32(
        ch in blocked_choices(),
        x in tlist_of::<f32, BlockedG>(rt(input_f64())),
        seed in tlist_of::<f32, Cat<BlockedG, BlockedSs>>(rt(seed_f64())),
    ) {
        let b = blocked::<f32, f64>(&ch, OpSet::All);
        erased_eval(&b, x.clone())?;
        erased_backprop(&b, x, seed)?;
    }

    #[test]
    fn erased_graph_with_blocked_gemm_f64(
        ch in blocked_choices(),
        x in tlist_of::<f64, BlockedG>(input_f64()),
        dx in tlist_of::<f64, BlockedG>(-1.0_f64..1.0),
        seed in tlist_of::<f64, Cat<BlockedG, BlockedSs>>(seed_f64()),
    ) {
        let b = blocked::<f64, f64>(&ch, OpSet::All);
        erased_eval(&b, x.clone())?;
        erased_backprop(&b, x.clone(), seed.clone())?;
        erased_adjoint(&b, x, dx, seed)?;
    }
}

// ================================================================ 4. nodes and named types

/// `to_node_data` keeps the runtime closures: forward, JVP and VJP of the erased node are
/// bit-identical to the reverse node's `forward_runtime`, `jvp_runtime` and `vjp_runtime`.
fn erased_node<R: Rt>(x: TList<R, MixedG>, dx: TList<R, MixedG>, s: [R; 4]) -> Law {
    fn check<R: Rt, T: Shape>(
        node: RevNode<R, f64, MixedG, T>,
        x: &TList<R, MixedG>,
        dx: &TList<R, MixedG>,
        seed: &Tensor<R, T>,
    ) -> Law {
        let nd: NodeData<R, (), MixedG, T> = node.to_node_data();
        prop_assert_eq!(nd.name(), node.name());
        let bits = |t: &[R]| t.iter().map(|v| v.bits()).collect::<Vec<_>>();
        prop_assert_eq!(
            bits(nd.forward(x, &()).as_slice()),
            bits(node.fwd().forward_runtime(x).as_slice())
        );
        prop_assert_eq!(
            bits(nd.jvp(x, dx, &()).as_slice()),
            bits(node.jvp_runtime(x, dx).as_slice())
        );
        prop_assert_eq!(
            bits_of(&nd.vjp(x, &(), seed).to_dense()),
            bits_of(&node.vjp_runtime(x, seed).to_dense())
        );
        Ok(())
    }
    let [s0, s1, s2, s3] = s;
    let v2 = Tensor::<R, V2>::new([s0, s1]);
    let m22 = Tensor::<R, M22>::new([[s0, s1], [s2, s3]]);
    let sc = Tensor::<R, Scalar>::new(s2);
    type G = MixedG;
    check(
        approx::ops::mul::<R, f64, G, _, _>(Idx::at::<1>(), Idx::at::<1>()),
        &x,
        &dx,
        &v2,
    )?;
    check(
        approx::ops::matmul::<R, f64, G, 2, 2, 2>(Idx::at::<2>(), Idx::at::<2>()),
        &x,
        &dx,
        &m22,
    )?;
    check(
        approx::ops::linear::<R, f64, G, 2, 3>(Idx::at::<4>(), Idx::at::<3>(), Idx::at::<1>()),
        &x,
        &dx,
        &v2,
    )?;
    check(
        approx::ops::cross_entropy::<R, f64, G, V2, V2>(Idx::at::<1>(), Idx::at::<1>()),
        &x,
        &dx,
        &sc,
    )?;
    check(
        approx::ops::softmax::<R, f64, G, M22>(Idx::at::<2>()),
        &x,
        &dx,
        &m22,
    )?;
    Ok(())
}

proptest! {
    #[test]
    fn erased_nodes_keep_the_runtime_closures_f32(
        x in tlist_of::<f32, MixedG>(rt(input_f64())),
        dx in tlist_of::<f32, MixedG>(rt(seed_f64())),
        s in [rt::<f32>(seed_f64()), rt(seed_f64()), rt(seed_f64()), rt(seed_f64())],
    ) {
        erased_node(x, dx, s)?;
    }

    #[test]
    fn erased_nodes_keep_the_runtime_closures_f64(
        x in tlist_of::<f64, MixedG>(input_f64()),
        dx in tlist_of::<f64, MixedG>(seed_f64()),
        s in [seed_f64(), seed_f64(), seed_f64(), seed_f64()],
    ) {
        erased_node(x, dx, s)?;
    }
}

/// The erased types, named exactly: a `RevGraph<R, P, Γ, Ss>` becomes a
/// `GraphData<R, (), Γ, Ss>` and a `RevNode<R, P, Γ, τ>` a `NodeData<R, (), Γ, τ>` (the spec
/// scalar `P` disappears, Δ is `()`, Γ, Ss and τ are kept). Changing any of them in the
/// annotations below does not compile (`ui-tests/link_wrong_*.rs`).
#[test]
fn erased_types_are_named_exactly() {
    type G = HList![Vector<2>, Matrix<2, 3>, Vector<3>];
    type Ss = HList![Vector<2>, Vector<2>, Scalar];
    let w = Idx::<G, Matrix<2, 3>>::at::<1>();
    let v = Idx::<G, Vector<3>>::at::<2>();
    let n0: RevNode<f32, Rational, G, Vector<2>> = approx::ops::matvec(w, v);
    let nd0: NodeData<f32, (), G, Vector<2>> = n0.to_node_data();
    type C1 = HList![Vector<2>, Matrix<2, 3>, Vector<3>, Vector<2>];
    let n1: RevNode<f32, Rational, C1, Vector<2>> =
        approx::ops::mul(Idx::at::<0>(), Idx::at::<3>());
    let nd1: NodeData<f32, (), C1, Vector<2>> = n1.to_node_data();
    let g: RevGraph<f32, Rational, G, Ss> = RevGraph::<f32, Rational, G, HNil>::nil()
        .snoc(n0)
        .snoc(n1)
        .snoc(approx::ops::sum(Idx::at::<4>()));
    let gd: GraphData<f32, (), G, Ss> = g.to_graph_data();
    assert_eq!(gd.len(), 3);
    assert_eq!(
        gd.node_names().collect::<Vec<_>>(),
        ["matvec", "mul", "sum"]
    );
    let x: TList<f32, G> = tlist![
        Tensor::new([1.0, -2.0]),
        Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        Tensor::new([0.5, 0.25, -1.0])
    ];
    let vals = gd.eval(x.clone(), &());
    assert_eq!(vals, g.eval_runtime(x.clone()));
    // matvec: [0.5 + 0.5 − 3, 2 + 1.25 − 6] = [−2, −2.75]; mul: [−2, 5.5]; sum: 3.5.
    let out: Vec<Vec<f32>> = vals.slot_slices().map(<[f32]>::to_vec).collect();
    assert_eq!(out[3], [-2.0, -2.75]);
    assert_eq!(out[4], [-2.0, 5.5]);
    assert_eq!(out[5], [3.5]);
    // The erased nodes, run on their contexts, give the same slots.
    let c1 =
        TList::<f32, C1>::try_from_flat(vals.slot_slices().take(4).flatten().copied().collect())
            .expect("the first four slots");
    assert_eq!(nd0.forward(&x, &()).as_slice(), &out[3][..]);
    assert_eq!(nd1.forward(&c1, &()).as_slice(), &out[4][..]);
    // The f64 runtime erases to f64, with the same structure.
    let g64 = RevGraph::<f64, f64, G, HNil>::nil().snoc(approx::ops::matvec(w, v));
    let _: GraphData<f64, (), G, HList![Vector<2>]> = g64.to_graph_data();
}

/// Erasure keeps the runtime JVP: on `y = x ⊙ x` the erased `jvp_ctx` is `2 x dx` (Lean's
/// placeholder would return the primal `x²`), and the seed contract of `backprop_ctx` holds:
/// input seeds flow into the result, intermediate seeds are pulled back.
#[test]
fn erased_jvp_is_a_real_tangent() {
    type G = HList![Vector<2>];
    let g = RevGraph::<f64, f64, G, HNil>::nil()
        .snoc(approx::ops::mul(Idx::at::<0>(), Idx::at::<0>()))
        .snoc(approx::ops::sum(Idx::at::<1>()));
    let gd = g.to_graph_data();
    let x: TList<f64, G> = tlist![Tensor::new([3.0, -2.0])];
    let dx: TList<f64, G> = tlist![Tensor::new([1.0, 0.5])];
    let tans = gd.jvp_ctx(x.clone(), dx, &());
    let t: Vec<Vec<f64>> = tans.slot_slices().map(<[f64]>::to_vec).collect();
    assert_eq!(t, vec![vec![1.0, 0.5], vec![6.0, -2.0], vec![4.0]]);
    type C = HList![Vector<2>, Vector<2>, Scalar];
    let seed: TList<f64, C> = tlist![
        Tensor::new([10.0, 20.0]),
        Tensor::new([1.0, 0.0]),
        Tensor::new(1.0)
    ];
    // x̄ = seed₀ + 2x ⊙ (seed₁ + seed₂) = [10 + 6·2, 20 − 4·1]
    let grad = gd.backprop_ctx(x.clone(), &(), seed.clone());
    assert_eq!(grad.slot_slices().next().unwrap(), &[22.0, 16.0]);
    assert_eq!(bits_of(&grad), bits_of(&g.backprop_runtime(x, seed)));
}

/// The empty graph erases to the empty graph: `eval` is the identity and `backprop_ctx`
/// returns the seed unchanged, `−0.0` included (no node adds anything).
#[test]
fn empty_graph_erases_to_the_empty_graph() {
    type G = HList![Scalar, Vector<2>];
    let g = RevGraph::<f32, f64, G, HNil>::nil();
    let gd: GraphData<f32, (), G, HNil> = g.to_graph_data();
    assert!(gd.is_empty());
    let x: TList<f32, G> = tlist![Tensor::new(1.5), Tensor::new([2.0, -3.0])];
    assert_eq!(bits_of(&gd.eval(x.clone(), &())), bits_of(&x));
    let seed: TList<f32, G> = tlist![Tensor::new(-0.0), Tensor::new([4.0, -0.0])];
    let seed = seed.cast::<Cat<G, HNil>>();
    let grad = gd.backprop_ctx(x.clone(), &(), seed.clone());
    assert_eq!(bits_of(&grad), bits_of(&seed));
    assert_eq!(bits_of(&grad), bits_of(&g.backprop_runtime(x, seed)));
}
