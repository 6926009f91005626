// The random typed graph templates shared by `tests/approx.rs` and `tests/link.rs`,
// included textually with `include!` (so it uses the including file's imports).

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

/// A runtime scalar of the templates: `f32` or `f64`. It is also the type of the `scale`
/// factor and the `safe_log` clamp point (exact at every spec scalar and on intervals).
trait Rt:
    RuntimeFloat
    + ToSpec<f64>
    + ToSpec<Rational>
    + shapetape::ops::Constant<Self>
    + shapetape::ops::Constant<f64>
    + shapetape::ops::Constant<Rational>
    + shapetape::ops::Constant<shapetape::approx::Interval>
{
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
            RealOp::Exp => shapetape::ops::exp(a).into_rev_node::<R, f64>(),
            RealOp::Tanh => shapetape::ops::tanh(a).into_rev_node::<R, f64>(),
            RealOp::Sigmoid => shapetape::ops::sigmoid(a).into_rev_node::<R, f64>(),
            RealOp::Softplus => shapetape::ops::softplus(a).into_rev_node::<R, f64>(),
            RealOp::SafeLog => shapetape::ops::safe_log(a, R::from_f64(SAFE_LOG_EPS))
                .expect("ε > 0 is finite")
                .into_rev_node::<R, f64>(),
            RealOp::Softmax => shapetape::ops::softmax(a).into_rev_node::<R, f64>(),
            RealOp::LogSoftmax => shapetape::ops::log_softmax(a).into_rev_node::<R, f64>(),
        }
    }
    fn cross_entropy<R: Rt, C: ShapeList, S: Shape>(
        z: Idx<C, S>,
        t: Idx<C, S>,
    ) -> RevNode<R, f64, C, Scalar>
    where
        S::Size: NonZero,
    {
        shapetape::ops::cross_entropy(z, t).into_rev_node::<R, f64>()
    }
    fn scale<R: Rt, C: ShapeList, S: Shape>(a: Idx<C, S>, c: R) -> RevNode<R, f64, C, S> {
        shapetape::ops::scale(a, c)
            .expect("a finite factor")
            .into_rev_node::<R, f64>()
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
        shapetape::ops::scale(a, c)
            .expect("a finite factor")
            .into_rev_node::<R, Rational>()
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
        Kind::Add => made(shapetape::ops::add(a, b).into_rev_node::<R, P>(), rab),
        Kind::Sub => made(shapetape::ops::sub(a, b).into_rev_node::<R, P>(), rab),
        Kind::Mul => made(shapetape::ops::mul(a, b).into_rev_node::<R, P>(), rab),
        Kind::Neg => made(shapetape::ops::neg(a).into_rev_node::<R, P>(), ra),
        Kind::Scale => {
            let k = if set == OpSet::Unbounded && ch.konst == 0 {
                3
            } else {
                ch.konst
            };
            made(P::scale(a, R::from_f64(k as f64 / 4.0)), ra)
        }
        Kind::Relu => made(shapetape::ops::relu(a).into_rev_node::<R, P>(), ra),
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
    made(
        shapetape::ops::matvec(w, x).into_rev_node::<R, P>(),
        vec![w.pos(), x.pos()],
    )
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
        shapetape::ops::linear(w, x, b).into_rev_node::<R, P>(),
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
    made(
        shapetape::ops::matmul(a, b).into_rev_node::<R, P>(),
        vec![a.pos(), b.pos()],
    )
}

fn transpose<R: Rt, P: Sp, C: ShapeList, const M: usize, const N: usize>(
    ch: &Choice,
) -> Option<Made<R, P, C, Matrix<N, M>>>
where
    Matrix<M, N>: Shape,
    Matrix<N, M>: Shape,
{
    let a = pick::<C, Matrix<M, N>>(ch.operands[0])?;
    made(
        shapetape::ops::transpose(a).into_rev_node::<R, P>(),
        vec![a.pos()],
    )
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
        shapetape::ops::linear_batch(w, x, b).into_rev_node::<R, P>(),
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
        Kind::Sum => made(
            shapetape::ops::sum(a).into_rev_node::<R, P>(),
            vec![a.pos()],
        ),
        Kind::Mean => made(
            shapetape::ops::mean(a).into_rev_node::<R, P>(),
            vec![a.pos()],
        ),
        Kind::Mse => made(
            shapetape::ops::mse(a, b).into_rev_node::<R, P>(),
            vec![a.pos(), b.pos()],
        ),
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
