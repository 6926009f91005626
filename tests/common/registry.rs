//! The one registry of ops that the random multi-node graph properties draw from
//! (`tests/autograd.rs`, `tests/approx.rs`, `tests/half.rs`, `tests/link.rs`).
//!
//! A [`Kind`] names an op of the library; [`make_node`] builds the op drawn by a [`Choice`] at a
//! given output shape over a given context, from the op's one constructor (`ops::add(a, b)`,
//! …), and hands the [`OpNode`] to a [`Target`]: the graph kind under test turns it into its own
//! node (`into_node` for executable graphs, `into_rev_node` for certified ones, or both for the
//! bridge tests). Each test file chooses its op list and its target; the shapes, operand picks
//! and aliasing are the same everywhere. The per-op checks (adjointness, gradcheck, the bridge,
//! bound soundness) are the public harness, run over every op by `tests/harness.rs`.
//!
//! Include it with `#[path = "common/registry.rs"] mod registry;` and `use registry::*;`.
#![allow(dead_code)] // each test file uses part of it

use std::marker::PhantomData;

use proptest::prelude::*;
use shapetape::approx::{Ball, Interval, RevNode, RuntimeFloat, SpecScalar};
use shapetape::autograd::{Eval, Node, Op, OpNode};
use shapetape::half::{bf16, f16};
use shapetape::ops;
use shapetape::prelude::*;
use typenum::NonZero;

pub type V2 = Vector<2>;
pub type V3 = Vector<3>;
pub type M22 = Matrix<2, 2>;
pub type M23 = Matrix<2, 3>;
pub type M32 = Matrix<3, 2>;
/// Large enough (`16·16·16 = 4096`) for the blocked GEMM kernel of f32/f64 (`Element::gemm`).
pub type M16 = Matrix<16, 16>;
pub type V16 = Vector<16>;

/// The clamp point of `safe_log` in the graphs.
pub const SAFE_LOG_EPS: f64 = 1e-3;

/// An op of the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Add,
    Sub,
    Mul,
    Div,
    Neg,
    /// `x · k/4` with `k = Choice::konst`.
    Scale,
    Square,
    Relu,
    Exp,
    Tanh,
    Sigmoid,
    Softplus,
    /// `log(max(x, ε))`, ε = [`SAFE_LOG_EPS`].
    SafeLog,
    /// The domain-checked `log` (NaN below 0).
    Log,
    Erf,
    /// GELU, exact (erf) form.
    GeluErf,
    Softmax,
    LogSoftmax,
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

impl Kind {
    /// Whether the op needs `exp`, `ln` or `tanh` (absent over `Rational`).
    pub fn transcendental(self) -> bool {
        matches!(
            self,
            Kind::Exp
                | Kind::Tanh
                | Kind::Sigmoid
                | Kind::Softplus
                | Kind::SafeLog
                | Kind::Log
                | Kind::Erf
                | Kind::GeluErf
                | Kind::Softmax
                | Kind::LogSoftmax
                | Kind::CrossEntropy
        )
    }

    /// The inputs where the op is smooth enough for finite differences, where that is not the
    /// whole line: `log` above 0, `div` away from a zero divisor.
    pub fn domain(self) -> Option<core::ops::Range<f64>> {
        match self {
            Kind::Log | Kind::Div => Some(0.1..4.0),
            _ => None,
        }
    }

    /// Whether the op maps `S` (or `S × S`) to `S` at every shape.
    fn same_shape(self) -> bool {
        !matches!(
            self,
            Kind::Matvec
                | Kind::Linear
                | Kind::Matmul
                | Kind::Transpose
                | Kind::LinearBatch
                | Kind::Sum
                | Kind::Mean
                | Kind::Mse
                | Kind::CrossEntropy
        )
    }
}

/// The library ops of the executable and bridge properties: polynomial, piecewise linear and
/// transcendental, products, reductions and losses. The order fixes which op a `Choice::op`
/// draws at each shape ([`kinds_for`]): the exact ops come first, so an index below the first
/// transcendental op means the same op in [`EXACT`] and in [`UNBOUNDED`].
pub const LIBRARY: &[Kind] = &[
    Kind::Add,
    Kind::Sub,
    Kind::Mul,
    Kind::Neg,
    Kind::Scale,
    Kind::Relu,
    Kind::Matvec,
    Kind::Linear,
    Kind::Matmul,
    Kind::Transpose,
    Kind::LinearBatch,
    Kind::Sum,
    Kind::Mean,
    Kind::Mse,
    Kind::Exp,
    Kind::Tanh,
    Kind::Sigmoid,
    Kind::Softplus,
    Kind::SafeLog,
    Kind::Softmax,
    Kind::LogSoftmax,
    Kind::CrossEntropy,
];

/// Every op of the registry: [`LIBRARY`] and the entrywise ops only some graphs draw
/// (`div`, `square`, `log`, `erf`, `gelu_erf`). `tests/harness.rs` checks each one.
pub const ALL: &[Kind] = &[
    Kind::Add,
    Kind::Sub,
    Kind::Mul,
    Kind::Div,
    Kind::Neg,
    Kind::Scale,
    Kind::Square,
    Kind::Relu,
    Kind::Matvec,
    Kind::Linear,
    Kind::Matmul,
    Kind::Transpose,
    Kind::LinearBatch,
    Kind::Sum,
    Kind::Mean,
    Kind::Mse,
    Kind::Exp,
    Kind::Tanh,
    Kind::Sigmoid,
    Kind::Softplus,
    Kind::SafeLog,
    Kind::Log,
    Kind::Erf,
    Kind::GeluErf,
    Kind::Softmax,
    Kind::LogSoftmax,
    Kind::CrossEntropy,
];

/// The ops of [`LIBRARY`] that are exact over `Rational` (polynomial and piecewise linear).
pub const EXACT: &[Kind] = &[
    Kind::Add,
    Kind::Sub,
    Kind::Mul,
    Kind::Neg,
    Kind::Scale,
    Kind::Relu,
    Kind::Matvec,
    Kind::Linear,
    Kind::Matmul,
    Kind::Transpose,
    Kind::LinearBatch,
    Kind::Sum,
    Kind::Mean,
    Kind::Mse,
];

/// [`LIBRARY`] without the ops whose output stays bounded on an unbounded input box (`tanh`,
/// `sigmoid`, `softmax`, `log_softmax`, `cross_entropy`); use with [`nonzero_scale`].
pub const UNBOUNDED: &[Kind] = &[
    Kind::Add,
    Kind::Sub,
    Kind::Mul,
    Kind::Neg,
    Kind::Scale,
    Kind::Relu,
    Kind::Matvec,
    Kind::Linear,
    Kind::Matmul,
    Kind::Transpose,
    Kind::LinearBatch,
    Kind::Sum,
    Kind::Mean,
    Kind::Mse,
    Kind::Exp,
    Kind::Softplus,
    Kind::SafeLog,
];

/// The raw random numbers of one node, interpreted when the node is built: `op` selects among
/// the ops producing the node's shape, `operands` among the earlier slots of each needed shape
/// (`operands[2]` also rotates among operand shapes), `alias` makes the second operand equal
/// to the first, `konst / 4` is a `scale` factor.
#[derive(Clone, Debug)]
pub struct Choice {
    pub op: usize,
    pub operands: [usize; 3],
    pub alias: bool,
    pub konst: i64,
}

pub fn choice() -> impl Strategy<Value = Choice> {
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

pub fn choices(n: usize) -> impl Strategy<Value = Vec<Choice>> {
    proptest::collection::vec(choice(), n)
}

/// The choices with every `scale` factor nonzero (`0` becomes `3/4`), for [`UNBOUNDED`].
pub fn nonzero_scale(mut ch: Vec<Choice>) -> Vec<Choice> {
    for c in &mut ch {
        if c.konst == 0 {
            c.konst = 3;
        }
    }
    ch
}

/// What every registry op implements: `Eval` at every scalar a test graph runs at.
pub trait AnyOp:
    Op
    + Eval<f32>
    + Eval<f64>
    + Eval<Rational>
    + Eval<Interval>
    + Eval<Ball>
    + Eval<bf16>
    + Eval<f16>
    + Clone
{
}
impl<K> AnyOp for K where
    K: Op
        + Eval<f32>
        + Eval<f64>
        + Eval<Rational>
        + Eval<Interval>
        + Eval<Ball>
        + Eval<bf16>
        + Eval<f16>
        + Clone
{
}

/// What every transcendental registry op implements: [`AnyOp`] without `Rational`.
pub trait RealOp:
    Op + Eval<f32> + Eval<f64> + Eval<Interval> + Eval<Ball> + Eval<bf16> + Eval<f16> + Clone
{
}
impl<K> RealOp for K where
    K: Op + Eval<f32> + Eval<f64> + Eval<Interval> + Eval<Ball> + Eval<bf16> + Eval<f16> + Clone
{
}

/// A graph kind under test: what it makes of an op's constructor value.
pub trait Target {
    /// The node it stores for an op over the context `C` with output shape `S`.
    type Node<C: ShapeList, S: Shape>;
    /// Whether the transcendental ops exist (false over `Rational`).
    const REAL: bool;
    /// The node of an op that exists at every scalar.
    fn op<C: ShapeList, K: AnyOp>(op: OpNode<C, K>) -> Self::Node<C, K::Out>;
    /// The node of a transcendental op (only called when [`Target::REAL`]).
    fn real_op<C: ShapeList, K: RealOp>(op: OpNode<C, K>) -> Self::Node<C, K::Out>;
    /// The clamp point of `safe_log`: [`SAFE_LOG_EPS`] rounded to the runtime scalar, so that
    /// every scalar of the graph clamps at the same number.
    fn safe_log_eps() -> f64;
}

/// A scalar of executable graphs ([`Exec`]): its node of every registry op.
pub trait ExecScalar: Element {
    /// Whether the transcendental ops exist.
    const REAL: bool;
    fn node<C: ShapeList, K: AnyOp>(op: OpNode<C, K>) -> Node<Self, (), C, K::Out>;
    fn real_node<C: ShapeList, K: RealOp>(op: OpNode<C, K>) -> Node<Self, (), C, K::Out>;
    /// [`SAFE_LOG_EPS`] at this scalar.
    fn eps() -> f64;
}

macro_rules! exec_float {
    ($($t:ty),*) => {$(
        impl ExecScalar for $t {
            const REAL: bool = true;
            fn node<C: ShapeList, K: AnyOp>(op: OpNode<C, K>) -> Node<Self, (), C, K::Out> {
                op.into_node()
            }
            fn real_node<C: ShapeList, K: RealOp>(op: OpNode<C, K>) -> Node<Self, (), C, K::Out> {
                op.into_node()
            }
            fn eps() -> f64 {
                SAFE_LOG_EPS as $t as f64
            }
        }
    )*};
}
exec_float!(f32, f64);

impl ExecScalar for Rational {
    const REAL: bool = false;
    fn node<C: ShapeList, K: AnyOp>(op: OpNode<C, K>) -> Node<Self, (), C, K::Out> {
        op.into_node()
    }
    fn real_node<C: ShapeList, K: RealOp>(_: OpNode<C, K>) -> Node<Self, (), C, K::Out> {
        unreachable!("rational graphs draw no transcendental op")
    }
    fn eps() -> f64 {
        SAFE_LOG_EPS
    }
}

/// Executable graphs (`GraphData`, `Graph`) over the scalar `A`: `Node<A, (), C, S>`.
pub struct Exec<A>(PhantomData<A>);

impl<A: ExecScalar> Target for Exec<A> {
    type Node<C: ShapeList, S: Shape> = Node<A, (), C, S>;
    const REAL: bool = A::REAL;
    fn op<C: ShapeList, K: AnyOp>(op: OpNode<C, K>) -> Node<A, (), C, K::Out> {
        A::node(op)
    }
    fn real_op<C: ShapeList, K: RealOp>(op: OpNode<C, K>) -> Node<A, (), C, K::Out> {
        A::real_node(op)
    }
    fn safe_log_eps() -> f64 {
        A::eps()
    }
}

/// A runtime scalar `Self` of certified graphs with the spec scalar `P`: its reverse node of
/// every registry op.
pub trait Certify<P>: RuntimeFloat {
    fn rev_node<C: ShapeList, K: AnyOp>(op: OpNode<C, K>) -> RevNode<Self, P, C, K::Out>;
    fn real_rev_node<C: ShapeList, K: RealOp>(op: OpNode<C, K>) -> RevNode<Self, P, C, K::Out>;
}

macro_rules! certify {
    ($($r:ty),*) => {$(
        impl Certify<f64> for $r {
            fn rev_node<C: ShapeList, K: AnyOp>(op: OpNode<C, K>) -> RevNode<Self, f64, C, K::Out> {
                op.into_rev_node()
            }
            fn real_rev_node<C: ShapeList, K: RealOp>(
                op: OpNode<C, K>,
            ) -> RevNode<Self, f64, C, K::Out> {
                op.into_rev_node()
            }
        }
        impl Certify<Rational> for $r {
            fn rev_node<C: ShapeList, K: AnyOp>(
                op: OpNode<C, K>,
            ) -> RevNode<Self, Rational, C, K::Out> {
                op.into_rev_node()
            }
            fn real_rev_node<C: ShapeList, K: RealOp>(
                _: OpNode<C, K>,
            ) -> RevNode<Self, Rational, C, K::Out> {
                unreachable!("rational-spec graphs draw no transcendental op")
            }
        }
        impl RevRuntime for $r {}
    )*};
}

/// A runtime scalar of certified graphs at both spec scalars.
pub trait RevRuntime: Certify<f64> + Certify<Rational> {}

certify!(f32, f64, bf16, f16);

/// A spec scalar of certified graphs: `f64` (every op) or `Rational` (no transcendental op).
pub trait RevSpec: SpecScalar {
    /// Whether the transcendental ops exist.
    const REAL: bool;
    fn rev_node<R: RevRuntime, C: ShapeList, K: AnyOp>(
        op: OpNode<C, K>,
    ) -> RevNode<R, Self, C, K::Out>;
    fn real_rev_node<R: RevRuntime, C: ShapeList, K: RealOp>(
        op: OpNode<C, K>,
    ) -> RevNode<R, Self, C, K::Out>;
}

macro_rules! rev_spec {
    ($($p:ty => $real:expr),*) => {$(
        impl RevSpec for $p {
            const REAL: bool = $real;
            fn rev_node<R: RevRuntime, C: ShapeList, K: AnyOp>(
                op: OpNode<C, K>,
            ) -> RevNode<R, Self, C, K::Out> {
                <R as Certify<$p>>::rev_node(op)
            }
            fn real_rev_node<R: RevRuntime, C: ShapeList, K: RealOp>(
                op: OpNode<C, K>,
            ) -> RevNode<R, Self, C, K::Out> {
                <R as Certify<$p>>::real_rev_node(op)
            }
        }
    )*};
}
rev_spec!(f64 => true, Rational => false);

/// Certified graphs (`RevGraph`, `FwdGraph` through `RevNode::fwd`) over the runtime `R` and
/// the spec `P`: `RevNode<R, P, C, S>`.
pub struct Rev<R, P>(PhantomData<(R, P)>);

impl<R: RevRuntime, P: RevSpec> Target for Rev<R, P> {
    type Node<C: ShapeList, S: Shape> = RevNode<R, P, C, S>;
    const REAL: bool = P::REAL;
    fn op<C: ShapeList, K: AnyOp>(op: OpNode<C, K>) -> RevNode<R, P, C, K::Out> {
        P::rev_node(op)
    }
    fn real_op<C: ShapeList, K: RealOp>(op: OpNode<C, K>) -> RevNode<R, P, C, K::Out> {
        P::real_rev_node(op)
    }
    fn safe_log_eps() -> f64 {
        R::from_f64(SAFE_LOG_EPS).to_f64()
    }
}

/// A node drawn from the registry, the slots of its operands in operand order (a slot appears
/// twice when the operands alias), and the kink of its op if it has one:
/// `(operand, point)` for `relu` (point 0) and `safe_log` (point ε), whose derivatives jump
/// where an entry of the operand equals the point.
pub struct Made<T: Target, C: ShapeList, S: Shape> {
    pub node: T::Node<C, S>,
    pub reads: Vec<usize>,
    pub kink: Option<(usize, f64)>,
}

fn made<T: Target, C: ShapeList, S: Shape>(
    node: T::Node<C, S>,
    operands: &[usize],
) -> Option<Made<T, C, S>> {
    Some(Made {
        node,
        reads: operands.to_vec(),
        kink: None,
    })
}

/// The `raw`-th (mod the count) slot of `C` of shape `S`.
pub fn pick<C: ShapeList, S: Shape>(raw: usize) -> Option<Idx<C, S>> {
    let c: Vec<Idx<C, S>> = (0..C::LEN).filter_map(Idx::<C, S>::try_at).collect();
    (!c.is_empty()).then(|| c[raw % c.len()])
}

type Maker<T, C, S> = fn(&Choice) -> Option<Made<T, C, S>>;

/// The first variant (rotating from `operands[2]`) whose operands exist.
fn first_of<T: Target, C: ShapeList, S: Shape>(
    ch: &Choice,
    variants: &[Maker<T, C, S>],
) -> Option<Made<T, C, S>> {
    let start = ch.operands[2] % variants.len();
    (0..variants.len()).find_map(|i| variants[(start + i) % variants.len()](ch))
}

/// The same-shape ops (`S → S`, `S × S → S`) at output shape `S`.
fn same_shape<T: Target, C: ShapeList, S: Shape>(kind: Kind, ch: &Choice) -> Option<Made<T, C, S>> {
    let a = pick::<C, S>(ch.operands[0])?;
    let b = if ch.alias {
        a
    } else {
        pick::<C, S>(ch.operands[1])?
    };
    let (ra, rab) = ([a.pos()], [a.pos(), b.pos()]);
    let kinked = |node, point| {
        Some(Made {
            node,
            reads: vec![a.pos()],
            kink: Some((a.pos(), point)),
        })
    };
    match kind {
        Kind::Add => made::<T, C, S>(T::op(ops::add(a, b)), &rab),
        Kind::Sub => made::<T, C, S>(T::op(ops::sub(a, b)), &rab),
        Kind::Mul => made::<T, C, S>(T::op(ops::mul(a, b)), &rab),
        Kind::Div => made::<T, C, S>(T::op(ops::div(a, b)), &rab),
        Kind::Neg => made::<T, C, S>(T::op(ops::neg(a)), &ra),
        Kind::Scale => made::<T, C, S>(
            T::op(ops::scale(a, ch.konst as f64 / 4.0).expect("a finite factor")),
            &ra,
        ),
        Kind::Square => made::<T, C, S>(T::op(ops::square(a)), &ra),
        Kind::Relu => kinked(T::op(ops::relu(a)), 0.0),
        Kind::Exp => made::<T, C, S>(T::real_op(ops::exp(a)), &ra),
        Kind::Tanh => made::<T, C, S>(T::real_op(ops::tanh(a)), &ra),
        Kind::Sigmoid => made::<T, C, S>(T::real_op(ops::sigmoid(a)), &ra),
        Kind::Softplus => made::<T, C, S>(T::real_op(ops::softplus(a)), &ra),
        Kind::SafeLog => {
            let eps = T::safe_log_eps();
            let op = ops::safe_log(a, eps).expect("ε > 0 is finite");
            kinked(T::real_op(op), eps)
        }
        Kind::Log => made::<T, C, S>(T::real_op(ops::log(a)), &ra),
        Kind::Erf => made::<T, C, S>(T::real_op(ops::erf(a)), &ra),
        Kind::GeluErf => made::<T, C, S>(T::real_op(ops::gelu_erf(a)), &ra),
        Kind::Softmax => made::<T, C, S>(T::real_op(ops::softmax(a)), &ra),
        Kind::LogSoftmax => made::<T, C, S>(T::real_op(ops::log_softmax(a)), &ra),
        _ => None,
    }
}

fn matvec<T: Target, C: ShapeList, const M: usize, const N: usize>(
    ch: &Choice,
) -> Option<Made<T, C, Vector<M>>>
where
    Matrix<M, N>: Shape,
    Vector<N>: Shape,
    Vector<M>: Shape,
{
    let (w, x) = (
        pick::<C, Matrix<M, N>>(ch.operands[0])?,
        pick::<C, Vector<N>>(ch.operands[1])?,
    );
    made::<T, C, _>(T::op(ops::matvec(w, x)), &[w.pos(), x.pos()])
}

fn linear<T: Target, C: ShapeList, const O: usize, const I: usize>(
    ch: &Choice,
) -> Option<Made<T, C, Vector<O>>>
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
    made::<T, C, _>(T::op(ops::linear(w, x, b)), &[w.pos(), x.pos(), b.pos()])
}

fn matmul<T: Target, C: ShapeList, const M: usize, const K: usize, const N: usize>(
    ch: &Choice,
) -> Option<Made<T, C, Matrix<M, N>>>
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
    made::<T, C, _>(T::op(ops::matmul(a, b)), &[a.pos(), b.pos()])
}

fn transpose<T: Target, C: ShapeList, const M: usize, const N: usize>(
    ch: &Choice,
) -> Option<Made<T, C, Matrix<N, M>>>
where
    Matrix<M, N>: Shape,
    Matrix<N, M>: Shape,
{
    let a = pick::<C, Matrix<M, N>>(ch.operands[0])?;
    made::<T, C, _>(T::op(ops::transpose(a)), &[a.pos()])
}

fn linear_batch<T: Target, C: ShapeList, const B: usize, const O: usize, const I: usize>(
    ch: &Choice,
) -> Option<Made<T, C, Matrix<B, O>>>
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
    made::<T, C, _>(
        T::op(ops::linear_batch(w, x, b)),
        &[w.pos(), x.pos(), b.pos()],
    )
}

/// A reduction or loss `S → Scalar` of a slot of shape `S`.
fn reduction<T: Target, C: ShapeList, S: Shape>(
    kind: Kind,
    ch: &Choice,
) -> Option<Made<T, C, Scalar>>
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
        Kind::Sum => made::<T, C, _>(T::op(ops::sum(a)), &[a.pos()]),
        Kind::Mean => made::<T, C, _>(T::op(ops::mean(a)), &[a.pos()]),
        Kind::Mse => made::<T, C, _>(T::op(ops::mse(a, b)), &[a.pos(), b.pos()]),
        Kind::CrossEntropy => {
            made::<T, C, _>(T::real_op(ops::cross_entropy(a, b)), &[a.pos(), b.pos()])
        }
        _ => None,
    }
}

/// An output shape of the graphs: which ops besides the same-shape ones produce it, and how.
pub trait OutShape: Shape {
    /// The ops of other input shapes that produce `Self`.
    const PRODUCED_BY: &'static [Kind];
    /// The node of `kind` at output shape `Self` over `C`, if its operands exist in `C`.
    fn make<T: Target, C: ShapeList>(kind: Kind, ch: &Choice) -> Option<Made<T, C, Self>>;
}

impl OutShape for V2 {
    const PRODUCED_BY: &'static [Kind] = &[Kind::Matvec, Kind::Linear];
    fn make<T: Target, C: ShapeList>(kind: Kind, ch: &Choice) -> Option<Made<T, C, Self>> {
        match kind {
            Kind::Matvec => first_of(ch, &[matvec::<T, C, 2, 2>, matvec::<T, C, 2, 3>]),
            Kind::Linear => first_of(ch, &[linear::<T, C, 2, 2>, linear::<T, C, 2, 3>]),
            _ => same_shape(kind, ch),
        }
    }
}

impl OutShape for V3 {
    const PRODUCED_BY: &'static [Kind] = &[Kind::Matvec, Kind::Linear];
    fn make<T: Target, C: ShapeList>(kind: Kind, ch: &Choice) -> Option<Made<T, C, Self>> {
        match kind {
            Kind::Matvec => matvec::<T, C, 3, 2>(ch),
            Kind::Linear => linear::<T, C, 3, 2>(ch),
            _ => same_shape(kind, ch),
        }
    }
}

const MATRIX_OPS: &[Kind] = &[Kind::Matmul, Kind::Transpose, Kind::LinearBatch];

impl OutShape for M22 {
    const PRODUCED_BY: &'static [Kind] = MATRIX_OPS;
    fn make<T: Target, C: ShapeList>(kind: Kind, ch: &Choice) -> Option<Made<T, C, Self>> {
        match kind {
            Kind::Matmul => first_of(ch, &[matmul::<T, C, 2, 2, 2>, matmul::<T, C, 2, 3, 2>]),
            Kind::Transpose => transpose::<T, C, 2, 2>(ch),
            Kind::LinearBatch => first_of(
                ch,
                &[linear_batch::<T, C, 2, 2, 2>, linear_batch::<T, C, 2, 2, 3>],
            ),
            _ => same_shape(kind, ch),
        }
    }
}

/// The output shapes with one variant of each matrix op: `matmul::<M, K, N>`,
/// `transpose::<M, N>` (of the `M × N` operand) and `linear_batch::<B, O, I>`.
macro_rules! matrix_out {
    ($($S:ty: ($m:literal, $k:literal, $n:literal), ($tm:literal, $tn:literal), ($b:literal, $o:literal, $i:literal);)*) => {$(
        impl OutShape for $S {
            const PRODUCED_BY: &'static [Kind] = MATRIX_OPS;
            fn make<T: Target, C: ShapeList>(kind: Kind, ch: &Choice) -> Option<Made<T, C, Self>> {
                match kind {
                    Kind::Matmul => matmul::<T, C, $m, $k, $n>(ch),
                    Kind::Transpose => transpose::<T, C, $tm, $tn>(ch),
                    Kind::LinearBatch => linear_batch::<T, C, $b, $o, $i>(ch),
                    _ => same_shape(kind, ch),
                }
            }
        }
    )*};
}

matrix_out! {
    M23: (2, 2, 3), (3, 2), (2, 3, 2);
    M32: (3, 2, 2), (2, 3), (3, 2, 2);
    M16: (16, 16, 16), (16, 16), (16, 16, 16);
}

impl OutShape for Scalar {
    const PRODUCED_BY: &'static [Kind] = &[Kind::Sum, Kind::Mean, Kind::Mse, Kind::CrossEntropy];
    fn make<T: Target, C: ShapeList>(kind: Kind, ch: &Choice) -> Option<Made<T, C, Self>> {
        if kind.same_shape() {
            return same_shape(kind, ch);
        }
        // The operand shape is drawn too; shapes absent from the context are skipped.
        let start = ch.operands[2] % 8;
        (0..8).find_map(|i| match (start + i) % 8 {
            0 => reduction::<T, C, Scalar>(kind, ch),
            1 => reduction::<T, C, V2>(kind, ch),
            2 => reduction::<T, C, V3>(kind, ch),
            3 => reduction::<T, C, M22>(kind, ch),
            4 => reduction::<T, C, M23>(kind, ch),
            5 => reduction::<T, C, M32>(kind, ch),
            6 => reduction::<T, C, M16>(kind, ch),
            _ => reduction::<T, C, V16>(kind, ch),
        })
    }
}

/// The ops of `ops` that produce the output shape `S` (every same-shape op, and those of
/// `S::PRODUCED_BY`), without the transcendental ones when `real` is false, in `ops`' order.
pub fn kinds_for<S: OutShape>(ops: &[Kind], real: bool) -> Vec<Kind> {
    ops.iter()
        .copied()
        .filter(|k| k.same_shape() || S::PRODUCED_BY.contains(k))
        .filter(|k| real || !k.transcendental())
        .collect()
}

/// The index of `kind` in [`kinds_for::<S>`](kinds_for), for a `Choice::op` that draws it.
pub fn op_index<S: OutShape>(ops: &[Kind], real: bool, kind: Kind) -> usize {
    kinds_for::<S>(ops, real)
        .iter()
        .position(|&k| k == kind)
        .expect("the op produces the shape")
}

/// The node for `ch` at output shape `S` over the context `C`, drawn from `ops`: the drawn op if
/// its operands exist in `C`, otherwise the first op (in the drawn rotation) whose operands do.
pub fn make_node<T: Target, C: ShapeList, S: OutShape>(ch: &Choice, ops: &[Kind]) -> Made<T, C, S> {
    let kinds = kinds_for::<S>(ops, T::REAL);
    (0..kinds.len())
        .find_map(|i| S::make::<T, C>(kinds[(ch.op + i) % kinds.len()], ch))
        .expect("every template context has a slot for some op of each output shape")
}
