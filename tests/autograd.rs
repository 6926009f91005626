//! The semantics of graphs as property tests, on random graphs.
//!
//! Graph types are static, so a random graph is a *template* — a fixed input context Γ and a
//! fixed list of node output shapes Ss — whose node choices are random at run time: every
//! node draws an op and its operands among all earlier slots (inputs and node outputs, with
//! operands of binary ops aliased a quarter of the time). Three templates:
//!
//! - `uniform`: Γ = [V3, V3, V3], eight nodes of shape V3 (every slot is an operand candidate);
//! - `small`: Γ = [V2, V2], three nodes of shape V2 (with seeds and inputs that are mostly
//!   `±0.0`, where the placement of Lean's dense zero additions decides the sign of zeros);
//! - `mixed`: Γ = [Scalar, V2, M22, V2, M22], nine nodes of shapes V2, M22, Scalar, … (matvec,
//!   matmul, transpose, linear, linear_batch, sum, mean, mse, cross_entropy become possible).
//!
//! Properties:
//!
//! 1. `backprop_ctx` (linear) equals `backprop_ctx_literal` (Lean's recursion) bit for bit, in
//!    f32 and f64, with random seeds on every slot (including intermediate ones, and exact
//!    `+0.0`/`−0.0` entries), and also with NaN/∞ inputs;
//! 2. `backprop_correct`, `⟨jvp_ctx(x, dx), seed⟩ = ⟨dx, backprop_ctx(x, seed)⟩`: exactly over
//!    `Rational` for polynomial / piecewise-linear graphs, and in f64 for graphs with
//!    transcendental ops within a relative error of [`F64_ADJOINT_RTOL`] of the magnitude of the
//!    terms (every node's own law `check_adjoint` is checked at its context too);
//! 3. `eval` begins with `x` and slot `|Γ| + k` is node `k`'s `forward` on the prefix;
//!    `jvp_ctx` begins with `dx` and slot `|Γ| + k` is node `k`'s `jvp` on the prefixes;
//! 4. `Graph::to_data` gives bit-identical results;
//! 5. `gradcheck` (central finite differences in a random direction) passes on random f64
//!    compositions of every op, away from the kinks of `relu` and `safe_log`;
//! 6. NaN or ∞ in the inputs: nothing panics, every slot that depends on a NaN input contains a
//!    NaN, every other slot is unchanged;
//! 7. `backprop_prefix::<P>` equals `eval` and the `P`-part of `backprop_ctx`, bit for bit,
//!    for several prefixes `P` (the activity analysis and the skipped VJP terms change nothing).
//!
//! Every property runs proptest's default number of cases (256), or `PROPTEST_CASES`.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shapetape::autograd::{AdjointCheck, Cotangent, GradcheckOptions, Graph, check_adjoint};
use shapetape::ops;
use shapetape::prelude::*;
use shapetape::{SameContext, SplitAt};
#[path = "common/registry.rs"]
mod registry;
use registry::*;

type Law = Result<(), TestCaseError>;

/// `backprop_correct` in f64: `|lhs − rhs| ≤ F64_ADJOINT_RTOL · magnitude`, where the
/// magnitude is `max(⟨|jvp_ctx|, |seed|⟩, ⟨|dx|, |backprop_ctx|⟩)` (see `AdjointCheck`). The
/// largest ratio observed over 2·10⁵ random graphs (both templates) was 1.4·10⁻¹⁵, about
/// `6 ε`; 10⁻¹¹ leaves a margin of almost four orders of magnitude and is still ten orders
/// below the discrepancy a wrong derivative produces.
const F64_ADJOINT_RTOL: f64 = 1e-11;

// ---------------------------------------------------------------- scalars

/// What the templates need of a scalar: small constants, bit patterns (for bitwise
/// comparison), and its node of every registry op ([`ExecScalar`]).
trait Scal: Element + ops::Constant<Self> + ExecScalar {
    /// `n / d`.
    fn small(n: i64, d: i64) -> Self;
    /// The entry as bits (exact for floats; the value itself is compared for rationals).
    fn bits(&self) -> String;
}

macro_rules! impl_scal_float {
    ($t:ty) => {
        impl Scal for $t {
            fn small(n: i64, d: i64) -> Self {
                n as $t / d as $t
            }
            fn bits(&self) -> String {
                format!("{:#x}", self.to_bits())
            }
        }
    };
}
impl_scal_float!(f32);
impl_scal_float!(f64);

impl Scal for Rational {
    fn small(n: i64, d: i64) -> Self {
        Rational::new(n.into(), d.into())
    }
    fn bits(&self) -> String {
        self.to_string()
    }
}

// ---------------------------------------------------------------- templates

/// The entries of every slot of a context (every template slot is one of the four shapes).
fn slots<A: Element, C: ShapeList>(x: &TList<A, C>) -> Vec<Vec<A>> {
    fn slot<A: Element, C: ShapeList, S: Shape>(x: &TList<A, C>, p: usize) -> Option<Vec<A>> {
        Idx::<C, S>::try_at(p).map(|i| x.get(i).as_slice().to_vec())
    }
    (0..C::LEN)
        .map(|p| {
            slot::<A, C, Scalar>(x, p)
                .or_else(|| slot::<A, C, V2>(x, p))
                .or_else(|| slot::<A, C, V3>(x, p))
                .or_else(|| slot::<A, C, M22>(x, p))
                .expect("template slots are Scalar, V2, V3 or M22")
        })
        .collect()
}

fn context<A: Element, C: ShapeList>(slots: &[Vec<A>]) -> TList<A, C> {
    TList::try_from_flat(slots.concat()).expect("slots of the context's shapes")
}

type ForwardProbe<A> = Arc<dyn Fn(&[Vec<A>]) -> Vec<A>>;
type JvpProbe<A> = Arc<dyn Fn(&[Vec<A>], &[Vec<A>]) -> Vec<A>>;
type AdjointProbe<A> = Arc<dyn Fn(&[Vec<A>], &[Vec<A>], &[A]) -> AdjointCheck<A>>;

/// A node of a built graph, callable on untyped slot data of its context.
struct Probe<A> {
    name: String,
    reads: Vec<usize>,
    kink: Option<(usize, f64)>,
    forward: ForwardProbe<A>,
    jvp: JvpProbe<A>,
    adjoint: AdjointProbe<A>,
}

/// A random graph and a probe for each of its nodes.
struct Built<A, G, Ss> {
    graph: Graph<A, (), G, Ss>,
    probes: Vec<Probe<A>>,
}

impl<A: Scal, G: ShapeList> Built<A, G, HNil> {
    fn new() -> Self {
        Built {
            graph: Graph::nil(),
            probes: Vec::new(),
        }
    }
}

/// Appends the node drawn by `ch`, of output shape `S`, reading `G ++ Ss`.
fn push<A: Scal, G: ShapeList, Ss: ShapeList, S: OutShape>(
    b: Built<A, G, Ss>,
    ch: &Choice,
    ops: &[Kind],
) -> Built<A, G, Snoc<Ss, S>> {
    let Made { node, reads, kink } = make_node::<Exec<A>, Cat<G, Ss>, S>(ch, ops);
    let (n1, n2, n3) = (node.clone(), node.clone(), node.clone());
    let probe = Probe {
        name: node.data().name().to_string(),
        reads,
        kink,
        forward: Arc::new(move |x| {
            let x = context::<A, Cat<G, Ss>>(x);
            n1.data().forward(&x, &()).as_slice().to_vec()
        }),
        jvp: Arc::new(move |x, dx| {
            let (x, dx) = (context::<A, Cat<G, Ss>>(x), context(dx));
            n2.data().jvp(&x, &dx, &()).as_slice().to_vec()
        }),
        adjoint: Arc::new(move |x, dx, seed| {
            let (x, dx) = (context::<A, Cat<G, Ss>>(x), context(dx));
            let seed = Tensor::<A, S>::try_from_slice(seed).expect("seed of the output shape");
            check_adjoint(n3.data(), &x, &dx, &(), &seed)
        }),
    };
    let mut probes = b.probes;
    probes.push(probe);
    Built {
        graph: b.graph.snoc(node),
        probes,
    }
}

/// Builds a template: `template!(A, G, [S₀, S₁, …], choices, ops)`.
macro_rules! template {
    ($A:ty, $G:ty, [$($S:ty),* $(,)?], $choices:expr, $ops:expr) => {{
        let mut it = $choices.iter();
        let b = Built::<$A, $G, HNil>::new();
        $( let b = push::<$A, _, _, $S>(b, it.next().expect("one choice per node"), $ops); )*
        b
    }};
}

type UniformG = HList![V3, V3, V3];
type UniformSs = HList![V3, V3, V3, V3, V3, V3, V3, V3];
const UNIFORM_NODES: usize = 8;

fn uniform<A: Scal>(ch: &[Choice], ops: &[Kind]) -> Built<A, UniformG, UniformSs> {
    template!(A, UniformG, [V3, V3, V3, V3, V3, V3, V3, V3], ch, ops)
}

/// A short graph, where a signed zero in the seed survives more often (fewer nodes add dense
/// zeros to each slot), so that the placement of the zero additions is tested sharply.
type SmallG = HList![V2, V2];
type SmallSs = HList![V2, V2, V2];
const SMALL_NODES: usize = 3;

fn small<A: Scal>(ch: &[Choice], ops: &[Kind]) -> Built<A, SmallG, SmallSs> {
    template!(A, SmallG, [V2, V2, V2], ch, ops)
}

type MixedG = HList![Scalar, V2, M22, V2, M22];
type MixedSs = HList![V2, M22, Scalar, V2, M22, Scalar, V2, M22, Scalar];
const MIXED_NODES: usize = 9;

fn mixed<A: Scal>(ch: &[Choice], ops: &[Kind]) -> Built<A, MixedG, MixedSs> {
    template!(
        A,
        MixedG,
        [V2, M22, Scalar, V2, M22, Scalar, V2, M22, Scalar],
        ch,
        ops
    )
}

// ---------------------------------------------------------------- values

fn total_len<G: ShapeList>() -> usize {
    G::layout().iter().map(|l| l.size).sum()
}

fn tlist_of<A: Element, G: ShapeList>(
    entry: impl Strategy<Value = A>,
) -> impl Strategy<Value = TList<A, G>> {
    proptest::collection::vec(entry, total_len::<G>())
        .prop_map(|flat| TList::try_from_flat(flat).expect("generated with the context's length"))
}

/// Small rationals `n/d`, `|n| ≤ 6`, `1 ≤ d ≤ 4`, zero often.
fn rational() -> impl Strategy<Value = Rational> {
    prop_oneof![
        1 => Just(Rational::small(0, 1)),
        6 => (-6_i64..=6, 1_i64..=4).prop_map(|(n, d)| Rational::small(n, d)),
    ]
}

/// Inputs: moderate values, with exact `+0.0` and `−0.0`.
fn input_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(0.0),
        1 => Just(-0.0),
        8 => -2.0_f64..2.0,
    ]
}

/// Seeds: moderate values, with many exact `+0.0` and `−0.0` (which the dense zero additions
/// of Lean's recursion turn into `+0.0` or not, depending on the graph).
fn seed_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => Just(0.0),
        2 => Just(-0.0),
        6 => -2.0_f64..2.0,
    ]
}

/// Mostly exact zeros of both signs, so that sums of zeros decide the sign of the result.
fn zeros_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => Just(0.0),
        3 => Just(-0.0),
        2 => Just(1.0),
        2 => -2.0_f64..2.0,
    ]
}

fn input_f32() -> impl Strategy<Value = f32> {
    input_f64().prop_map(|v| v as f32)
}

fn seed_f32() -> impl Strategy<Value = f32> {
    seed_f64().prop_map(|v| v as f32)
}

/// Inputs with non-finite entries: mostly moderate, sometimes NaN or ±∞.
fn wild_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -2.0_f64..2.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
    ]
}

fn bits_of<A: Scal, C: ShapeList>(x: &TList<A, C>) -> Vec<Vec<String>> {
    slots(x)
        .iter()
        .map(|s| s.iter().map(Scal::bits).collect())
        .collect()
}

// ---------------------------------------------------------------- 1b. backprop_prefix

/// `backprop_prefix::<P>` returns `eval x` and the `P`-part of `backprop_ctx x seed`, bit for
/// bit (the skipped work only fed the cotangents of the other inputs).
fn prefix_equals_full<A: Scal, P: ShapeList, R: ShapeList, G, Ss: ShapeList>(
    b: &Built<A, G, Ss>,
    x: TList<A, G>,
    seed: TList<A, Cat<G, Ss>>,
) -> Law
where
    G: ShapeList + SplitAt<P> + SameContext<Cat<P, R>>,
{
    let full = b.graph.backprop_ctx(x.clone(), &(), seed.clone());
    let ctx = b.graph.eval(x.clone(), &());
    let (full_p, _) = TList::<A, P>::split::<R>(full);
    // The seed as a cotangent lists only the slots that are not all `+0`: the others take the
    // sparse path (a VJP's first contribution taken over instead of added to zeros).
    let (ctx_prefix, grads) = b
        .graph
        .backprop_prefix::<P>(x, &(), Cotangent::from_dense(seed));
    let names = b.graph.node_names().collect::<Vec<_>>();
    prop_assert_eq!(bits_of(&grads), bits_of(&full_p), "nodes {:?}", names);
    prop_assert_eq!(bits_of(&ctx_prefix), bits_of(&ctx), "nodes {:?}", names);
    Ok(())
}

proptest! {
    #[test]
    fn prefix_equals_full_mixed_f32(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(input_f32()),
        seed in tlist_of::<f32, Cat<MixedG, MixedSs>>(seed_f32()),
    ) {
        let b = mixed::<f32>(&ch, LIBRARY);
        prefix_equals_full::<f32, HList![Scalar, V2], HList![M22, V2, M22], _, _>(&b, x.clone(), seed.clone())?;
        prefix_equals_full::<f32, HList![Scalar, V2, M22, V2], HList![M22], _, _>(&b, x.clone(), seed.clone())?;
        prefix_equals_full::<f32, HNil, MixedG, _, _>(&b, x.clone(), seed.clone())?;
        prefix_equals_full::<f32, MixedG, HNil, _, _>(&b, x, seed)?;
    }

    #[test]
    fn prefix_equals_full_mixed_f64(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(seed_f64()),
    ) {
        let b = mixed::<f64>(&ch, LIBRARY);
        prefix_equals_full::<f64, HList![Scalar], HList![V2, M22, V2, M22], _, _>(&b, x.clone(), seed.clone())?;
        prefix_equals_full::<f64, HList![Scalar, V2, M22], HList![V2, M22], _, _>(&b, x, seed)?;
    }

    #[test]
    fn prefix_equals_full_uniform_f32(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f32, UniformG>(input_f32()),
        seed in tlist_of::<f32, Cat<UniformG, UniformSs>>(seed_f32()),
    ) {
        let b = uniform::<f32>(&ch, LIBRARY);
        prefix_equals_full::<f32, HList![V3], HList![V3, V3], _, _>(&b, x.clone(), seed.clone())?;
        prefix_equals_full::<f32, HList![V3, V3], HList![V3], _, _>(&b, x, seed)?;
    }
}

// ---------------------------------------------------------------- 1. linear = literal

fn linear_equals_literal<A: Scal, G: ShapeList, Ss: ShapeList>(
    b: &Built<A, G, Ss>,
    x: TList<A, G>,
    seed: TList<A, Cat<G, Ss>>,
) -> Law {
    let linear = b.graph.backprop_ctx(x.clone(), &(), seed.clone());
    let literal = b.graph.backprop_ctx_literal(x, &(), seed);
    prop_assert_eq!(
        bits_of(&linear),
        bits_of(&literal),
        "nodes {:?}",
        b.graph.node_names().collect::<Vec<_>>()
    );
    Ok(())
}

proptest! {
    #[test]
    fn linear_equals_literal_uniform_f64(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f64, UniformG>(input_f64()),
        seed in tlist_of::<f64, Cat<UniformG, UniformSs>>(seed_f64()),
    ) {
        linear_equals_literal(&uniform::<f64>(&ch, LIBRARY), x, seed)?;
    }

    #[test]
    fn linear_equals_literal_uniform_f32(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f32, UniformG>(input_f32()),
        seed in tlist_of::<f32, Cat<UniformG, UniformSs>>(seed_f32()),
    ) {
        linear_equals_literal(&uniform::<f32>(&ch, LIBRARY), x, seed)?;
    }

    #[test]
    fn linear_equals_literal_mixed_f64(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(seed_f64()),
    ) {
        linear_equals_literal(&mixed::<f64>(&ch, LIBRARY), x, seed)?;
    }

    #[test]
    fn linear_equals_literal_mixed_f32(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(input_f32()),
        seed in tlist_of::<f32, Cat<MixedG, MixedSs>>(seed_f32()),
    ) {
        linear_equals_literal(&mixed::<f32>(&ch, LIBRARY), x, seed)?;
    }

    #[test]
    fn linear_equals_literal_small_signed_zeros(
        ch in choices(SMALL_NODES),
        x in tlist_of::<f64, SmallG>(zeros_f64()),
        seed in tlist_of::<f64, Cat<SmallG, SmallSs>>(zeros_f64()),
    ) {
        linear_equals_literal(&small::<f64>(&ch, LIBRARY), x, seed)?;
    }

    #[test]
    fn linear_equals_literal_with_non_finite_inputs(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(wild_f64()),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(seed_f64()),
    ) {
        linear_equals_literal(&mixed::<f64>(&ch, LIBRARY), x, seed)?;
    }
}

/// Exhaustively, for every graph of three scalar nodes over one scalar input drawn from
/// add, sub, mul, neg, scale by −1, relu and sum (all operand choices, aliasing included),
/// every input in {+0, −0, 1} and every seed in {+0, −0}⁴: the linear backprop equals the
/// literal recursion bit for bit. With so few nodes a `−0` survives in many slots, so this
/// pins down exactly where Lean's dense zero additions happen.
#[test]
fn linear_equals_literal_exhaustive_signed_zeros() {
    type G = HList![Scalar];
    type Ss = HList![Scalar, Scalar, Scalar];
    let kinds = [
        Kind::Add,
        Kind::Sub,
        Kind::Mul,
        Kind::Neg,
        Kind::Scale,
        Kind::Relu,
        Kind::Sum,
    ];
    // A node's drawn op is `kinds_for::<Scalar>(EXACT, true)[op]`.
    let op_of = |k: Kind| op_index::<Scalar>(EXACT, true, k);
    let node_choices = |avail: usize| {
        let mut v = Vec::new();
        for &k in &kinds {
            let binary = matches!(k, Kind::Add | Kind::Sub | Kind::Mul);
            for a in 0..avail {
                for b in 0..if binary { avail } else { 1 } {
                    v.push(Choice {
                        op: op_of(k),
                        operands: [a, b, 0],
                        alias: false,
                        konst: -4,
                    });
                }
            }
        }
        v
    };
    let zeros = [0.0, -0.0];
    let mut graphs = 0;
    for c0 in node_choices(1) {
        for c1 in node_choices(2) {
            for c2 in node_choices(3) {
                let ch = [c0.clone(), c1.clone(), c2];
                let b = template!(f64, G, [Scalar, Scalar, Scalar], ch, EXACT);
                graphs += 1;
                for x in [0.0, -0.0, 1.0] {
                    let x: TList<f64, G> = tlist![Tensor::new(x)];
                    for bits in 0..16 {
                        let s = |i: usize| Tensor::new(zeros[(bits >> i) & 1]);
                        let seed: TList<f64, Cat<G, Ss>> = tlist![s(0), s(1), s(2), s(3)];
                        let linear = b.graph.backprop_ctx(x.clone(), &(), seed.clone());
                        let literal = b.graph.backprop_ctx_literal(x.clone(), &(), seed);
                        assert_eq!(
                            bits_of(&linear),
                            bits_of(&literal),
                            "nodes {:?}, x = {:?}, seed bits {:04b}",
                            b.graph.node_names().collect::<Vec<_>>(),
                            x,
                            bits
                        );
                    }
                }
            }
        }
    }
    assert!(graphs > 1000);
}

/// The seed contract on a fixed graph: seeds on the inputs flow into the result unchanged
/// (up to `−0 + 0 = +0`), a seed on an intermediate node is pulled back, and an all-zero seed
/// gives an all-zero gradient.
#[test]
fn seeds_on_inputs_and_intermediate_nodes() {
    type G = HList![V2];
    type C1 = HList![V2, V2];
    type C2 = HList![V2, V2, V2];
    // y₁ = 3x, y₂ = y₁ ⊙ x
    let g = Graph::<f64, (), G, HNil>::nil()
        .snoc(ops::scale(Idx::<G, V2>::at::<0>(), 3.0).expect("3 is finite"))
        .snoc(ops::mul(Idx::<C1, V2>::at::<1>(), Idx::at::<0>()));
    let x: TList<f64, G> = tlist![Tensor::new([1.0, -2.0])];
    let grad = |s: [[f64; 2]; 3]| {
        let seed: TList<f64, C2> = tlist![Tensor::new(s[0]), Tensor::new(s[1]), Tensor::new(s[2])];
        let linear = g.backprop_ctx(x.clone(), &(), seed.clone());
        let literal = g.backprop_ctx_literal(x.clone(), &(), seed);
        assert_eq!(bits_of(&linear), bits_of(&literal));
        linear.get(Idx::<G, V2>::at::<0>()).as_slice().to_vec()
    };
    // Input seed only: passes straight through.
    assert_eq!(grad([[5.0, 7.0], [0.0; 2], [0.0; 2]]), vec![5.0, 7.0]);
    // Intermediate seed only: ∂(3x)/∂x = 3.
    assert_eq!(grad([[0.0; 2], [1.0, 2.0], [0.0; 2]]), vec![3.0, 6.0]);
    // Output seed: ∂(3x²)/∂x = 6x.
    assert_eq!(grad([[0.0; 2], [0.0; 2], [1.0, 1.0]]), vec![6.0, -12.0]);
    // All three, added.
    assert_eq!(grad([[5.0, 7.0], [1.0, 2.0], [1.0, 1.0]]), vec![14.0, 1.0]);
    // A −0.0 seed on an input becomes +0.0: Lean adds the dense zero contributions of both
    // nodes to it.
    let z = grad([[-0.0, -0.0], [0.0; 2], [0.0; 2]]);
    assert!(z.iter().all(|v| v.to_bits() == 0), "{z:?}");
}

// ---------------------------------------------------------------- 2. backprop_correct

fn exact_backprop_correct<G: ShapeList, Ss: ShapeList>(
    b: &Built<Rational, G, Ss>,
    x: TList<Rational, G>,
    dx: TList<Rational, G>,
    seed: TList<Rational, Cat<G, Ss>>,
) -> Law {
    let check = shapetape::autograd::check_backprop(&b.graph, &x, &dx, &(), &seed);
    prop_assert!(
        check.is_exact(),
        "{} for nodes {:?}",
        check,
        b.graph.node_names().collect::<Vec<_>>()
    );
    // Every node's own law at its context, with the slot tangents and a seed slice.
    let vals = slots(&b.graph.eval(x.clone(), &()));
    let tans = slots(&b.graph.jvp_ctx(x, dx, &()));
    let seeds = slots(&seed);
    let n_in = G::LEN;
    for (k, p) in b.probes.iter().enumerate() {
        let c = (p.adjoint)(&vals[..n_in + k], &tans[..n_in + k], &seeds[n_in + k]);
        prop_assert!(c.is_exact(), "node {} ({}): {}", k, p.name, c);
    }
    Ok(())
}

proptest! {
        #[test]
    fn backprop_correct_exact_uniform(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<Rational, UniformG>(rational()),
        dx in tlist_of::<Rational, UniformG>(rational()),
        seed in tlist_of::<Rational, Cat<UniformG, UniformSs>>(rational()),
    ) {
        exact_backprop_correct(&uniform::<Rational>(&ch, EXACT), x, dx, seed)?;
    }

    #[test]
    fn backprop_correct_exact_mixed(
        ch in choices(MIXED_NODES),
        x in tlist_of::<Rational, MixedG>(rational()),
        dx in tlist_of::<Rational, MixedG>(rational()),
        seed in tlist_of::<Rational, Cat<MixedG, MixedSs>>(rational()),
    ) {
        exact_backprop_correct(&mixed::<Rational>(&ch, EXACT), x, dx, seed)?;
    }
}

fn all_finite<C: ShapeList>(x: &TList<f64, C>) -> bool {
    slots(x).iter().flatten().all(|v| v.is_finite())
}

fn f64_backprop_correct<G: ShapeList, Ss: ShapeList>(
    b: &Built<f64, G, Ss>,
    x: TList<f64, G>,
    dx: TList<f64, G>,
    seed: TList<f64, Cat<G, Ss>>,
) -> Law {
    let vals = b.graph.eval(x.clone(), &());
    let tans = b.graph.jvp_ctx(x.clone(), dx.clone(), &());
    let grad = b.graph.backprop_ctx(x.clone(), &(), seed.clone());
    // Overflow (e.g. exp ∘ exp ∘ exp) makes both sides ∞ or NaN; such cases say nothing.
    prop_assume!(all_finite(&vals) && all_finite(&tans) && all_finite(&grad));
    let check = shapetape::autograd::check_backprop(&b.graph, &x, &dx, &(), &seed);
    prop_assume!(check.magnitude.is_finite());
    prop_assert!(
        check.relative_error() <= F64_ADJOINT_RTOL,
        "{} (relative error {:e}) for nodes {:?}",
        check,
        check.relative_error(),
        b.graph.node_names().collect::<Vec<_>>()
    );
    // Every node's own law at its context. The scale also includes ‖dx‖_∞ ‖δ‖₁: softmax and
    // log_softmax subtract ⟨p, dx⟩ from dx, so a large common component of the tangent cancels
    // and their rounding error is relative to ‖dx‖ rather than to the (small) result.
    let (vals, tans, seeds) = (slots(&vals), slots(&tans), slots(&seed));
    let n_in = G::LEN;
    for (k, p) in b.probes.iter().enumerate() {
        let (dx, delta) = (&tans[..n_in + k], &seeds[n_in + k]);
        let c = (p.adjoint)(&vals[..n_in + k], dx, delta);
        let dx_max = dx.iter().flatten().fold(0.0_f64, |m, v| m.max(v.abs()));
        let delta_1: f64 = delta.iter().map(|v| v.abs()).sum();
        let scale = c.magnitude.max(dx_max * delta_1);
        prop_assert!(
            c.abs_error() <= F64_ADJOINT_RTOL * scale,
            "node {} ({}): {} (scale {:e})",
            k,
            p.name,
            c,
            scale
        );
    }
    Ok(())
}

/// Proptest's default configuration (256 cases, or `PROPTEST_CASES`) with room for the
/// rejections of `prop_assume!` (a few per cent of the cases) however many cases are run.
fn config() -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig {
        max_global_rejects: default.cases.max(1024),
        ..default
    }
}

proptest! {
    #![proptest_config(config())]

    // Dense tangents and seeds in [−1, 1]: the magnitude ⟨|jvp_ctx|, |seed|⟩ then weighs every
    // slot's tangent, so it is the scale of every quantity the two sides are computed from.
    // (Sparse and signed-zero seeds are covered exactly by the rational and bitwise tests.)
    #[test]
    fn backprop_correct_f64_uniform(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f64, UniformG>(input_f64()),
        dx in tlist_of::<f64, UniformG>(-1.0_f64..1.0),
        seed in tlist_of::<f64, Cat<UniformG, UniformSs>>(-1.0_f64..1.0),
    ) {
        f64_backprop_correct(&uniform::<f64>(&ch, LIBRARY), x, dx, seed)?;
    }

    #[test]
    fn backprop_correct_f64_mixed(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        dx in tlist_of::<f64, MixedG>(-1.0_f64..1.0),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(-1.0_f64..1.0),
    ) {
        f64_backprop_correct(&mixed::<f64>(&ch, LIBRARY), x, dx, seed)?;
    }
}

// ---------------------------------------------------------------- 3. eval and jvp_ctx

fn eval_and_jvp_semantics<A: Scal, G: ShapeList, Ss: ShapeList>(
    b: &Built<A, G, Ss>,
    x: TList<A, G>,
    dx: TList<A, G>,
) -> Law {
    let bits = |v: &[A]| v.iter().map(Scal::bits).collect::<Vec<_>>();
    let vals = slots(&b.graph.eval(x.clone(), &()));
    let tans = slots(&b.graph.jvp_ctx(x.clone(), dx.clone(), &()));
    let n_in = G::LEN;
    prop_assert_eq!(vals.len(), n_in + b.probes.len());
    prop_assert_eq!(tans.len(), n_in + b.probes.len());
    // eval x begins with x, jvp_ctx x dx begins with dx.
    prop_assert_eq!(&vals[..n_in], &slots(&x)[..]);
    prop_assert_eq!(&tans[..n_in], &slots(&dx)[..]);
    for (k, p) in b.probes.iter().enumerate() {
        let want = (p.forward)(&vals[..n_in + k]);
        prop_assert_eq!(
            bits(&vals[n_in + k]),
            bits(&want),
            "forward of node {} ({})",
            k,
            p.name
        );
        let want = (p.jvp)(&vals[..n_in + k], &tans[..n_in + k]);
        prop_assert_eq!(
            bits(&tans[n_in + k]),
            bits(&want),
            "jvp of node {} ({})",
            k,
            p.name
        );
    }
    Ok(())
}

fn to_data_agrees<A: Scal, G: ShapeList, Ss: ShapeList>(
    b: &Built<A, G, Ss>,
    x: TList<A, G>,
    dx: TList<A, G>,
    seed: TList<A, Cat<G, Ss>>,
) -> Law {
    let data = b.graph.to_data();
    prop_assert_eq!(
        data.node_names().collect::<Vec<_>>(),
        b.graph.node_names().collect::<Vec<_>>()
    );
    prop_assert_eq!(
        bits_of(&data.eval(x.clone(), &())),
        bits_of(&b.graph.eval(x.clone(), &()))
    );
    prop_assert_eq!(
        bits_of(&data.jvp_ctx(x.clone(), dx.clone(), &())),
        bits_of(&b.graph.jvp_ctx(x.clone(), dx, &()))
    );
    prop_assert_eq!(
        bits_of(&data.backprop_ctx(x.clone(), &(), seed.clone())),
        bits_of(&b.graph.backprop_ctx(x, &(), seed))
    );
    Ok(())
}

proptest! {
    #[test]
    fn eval_and_jvp_ctx_semantics_f64(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        dx in tlist_of::<f64, MixedG>(seed_f64()),
    ) {
        eval_and_jvp_semantics(&mixed::<f64>(&ch, LIBRARY), x, dx)?;
    }

    #[test]
    fn eval_and_jvp_ctx_semantics_uniform_f32(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f32, UniformG>(input_f32()),
        dx in tlist_of::<f32, UniformG>(seed_f32()),
    ) {
        eval_and_jvp_semantics(&uniform::<f32>(&ch, LIBRARY), x, dx)?;
    }

    #[test]
    fn graph_to_data_agrees(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        dx in tlist_of::<f64, MixedG>(seed_f64()),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(seed_f64()),
    ) {
        to_data_agrees(&mixed::<f64>(&ch, LIBRARY), x, dx, seed)?;
    }
}

proptest! {
        #[test]
    fn eval_and_jvp_ctx_semantics_rational(
        ch in choices(MIXED_NODES),
        x in tlist_of::<Rational, MixedG>(rational()),
        dx in tlist_of::<Rational, MixedG>(rational()),
    ) {
        eval_and_jvp_semantics(&mixed::<Rational>(&ch, EXACT), x, dx)?;
    }
}

/// The empty graph: `eval x = x`, `jvp_ctx x dx = dx`, `backprop_ctx x seed = seed` (the
/// seed is returned as is, `−0.0` included: no node adds anything to it).
#[test]
fn empty_graph_semantics() {
    type G = HList![Scalar, V2];
    let g = Graph::<f64, (), G, HNil>::nil();
    let x: TList<f64, G> = tlist![Tensor::new(1.5), Tensor::new([2.0, -3.0])];
    let dx: TList<f64, G> = tlist![Tensor::new(-1.0), Tensor::new([0.5, 0.25])];
    let seed: TList<f64, G> = tlist![Tensor::new(-0.0), Tensor::new([4.0, -0.0])];
    assert_eq!(bits_of(&g.eval(x.clone(), &())), bits_of(&x));
    assert_eq!(
        bits_of(&g.jvp_ctx(x.clone(), dx.clone(), &())),
        bits_of(&dx)
    );
    let seed_back = seed.clone().cast::<Cat<G, HNil>>();
    assert_eq!(
        bits_of(&g.backprop_ctx(x.clone(), &(), seed_back.clone())),
        bits_of(&seed)
    );
    assert_eq!(
        bits_of(&g.backprop_ctx_literal(x, &(), seed_back)),
        bits_of(&seed)
    );
}

// ---------------------------------------------------------------- 5. gradcheck on compositions

/// Whether finite differences are meaningful at `vals`: every entry of an operand of `relu`
/// or `safe_log` is either far from the kink (relative to how far the step moves it) or on
/// the kink and not moved at all (e.g. `relu(relu(x))` with `x < 0`).
fn away_from_kinks(probes: &[Probe<f64>], vals: &[Vec<f64>], tans: &[Vec<f64>]) -> bool {
    probes.iter().all(|p| match p.kink {
        None => true,
        Some((slot, point)) => vals[slot]
            .iter()
            .zip(&tans[slot])
            .all(|(&v, &t)| (v == point && t == 0.0) || (v - point).abs() > 1e-3 * (1.0 + t.abs())),
    })
}

fn gradcheck_composition<G: ShapeList, Ss: ShapeList>(
    b: &Built<f64, G, Ss>,
    x: TList<f64, G>,
    v: TList<f64, G>,
    w: TList<f64, Cat<G, Ss>>,
) -> Law {
    let vals = b.graph.eval(x.clone(), &());
    let tans = b.graph.jvp_ctx(x.clone(), v.clone(), &());
    prop_assume!(all_finite(&vals) && all_finite(&tans));
    // Values far larger than their derivatives drown the difference quotient in rounding.
    prop_assume!(slots(&vals).iter().flatten().all(|v| v.abs() <= 1e4));
    prop_assume!(away_from_kinks(&b.probes, &slots(&vals), &slots(&tans)));
    let opts = GradcheckOptions::default();
    let result = shapetape::autograd::gradcheck_with(&b.graph, &x, &(), &v, &w, &opts);
    prop_assert!(
        result.is_ok(),
        "{} for nodes {:?}",
        result.unwrap_err(),
        b.graph.node_names().collect::<Vec<_>>()
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    // The largest |fd − rev| / tolerance observed over 4·10⁴ cases was 5·10⁻⁴.
    #[test]
    fn gradcheck_random_compositions_uniform(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f64, UniformG>(-1.5_f64..1.5),
        v in tlist_of::<f64, UniformG>(-1.0_f64..1.0),
        w in tlist_of::<f64, Cat<UniformG, UniformSs>>(-1.0_f64..1.0),
    ) {
        gradcheck_composition(&uniform::<f64>(&ch, LIBRARY), x, v, w)?;
    }

    #[test]
    fn gradcheck_random_compositions_mixed(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(-1.5_f64..1.5),
        v in tlist_of::<f64, MixedG>(-1.0_f64..1.0),
        w in tlist_of::<f64, Cat<MixedG, MixedSs>>(-1.0_f64..1.0),
    ) {
        gradcheck_composition(&mixed::<f64>(&ch, LIBRARY), x, v, w)?;
    }
}

// ---------------------------------------------------------------- 6. NaN and ∞

/// With a NaN in input slot `slot`, entry `entry`: every slot that (transitively) reads it
/// contains a NaN, every other slot is bit-identical to the evaluation with that entry set
/// to 0; `jvp_ctx` and both backprops run without panicking.
fn nan_propagates<G: ShapeList, Ss: ShapeList>(
    b: &Built<f64, G, Ss>,
    x: TList<f64, G>,
    slot: usize,
    entry: usize,
    seed: TList<f64, Cat<G, Ss>>,
) -> Law {
    let mut with_nan = slots(&x);
    let slot = slot % G::LEN;
    let entry = entry % with_nan[slot].len();
    let mut with_zero = with_nan.clone();
    with_nan[slot][entry] = f64::NAN;
    with_zero[slot][entry] = 0.0;
    let x_nan = context::<f64, G>(&with_nan);
    let vals = slots(&b.graph.eval(x_nan.clone(), &()));
    let clean = slots(&b.graph.eval(context::<f64, G>(&with_zero), &()));
    let mut affected = vec![false; vals.len()];
    affected[slot] = true;
    for (k, p) in b.probes.iter().enumerate() {
        affected[G::LEN + k] = p.reads.iter().any(|&r| affected[r]);
    }
    for (j, v) in vals.iter().enumerate() {
        if affected[j] {
            prop_assert!(
                v.iter().any(|e| e.is_nan()),
                "slot {} reads the NaN but is {:?} ({:?})",
                j,
                v,
                b.graph.node_names().collect::<Vec<_>>()
            );
        } else {
            let bits = |s: &[f64]| s.iter().map(|e| e.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(v), bits(&clean[j]), "slot {} does not read the NaN", j);
        }
    }
    let dx = TList::<f64, G>::zero().map(|_| 1.0);
    let _ = b.graph.jvp_ctx(x_nan.clone(), dx, &());
    let linear = b.graph.backprop_ctx(x_nan.clone(), &(), seed.clone());
    let literal = b.graph.backprop_ctx_literal(x_nan, &(), seed);
    prop_assert_eq!(bits_of(&linear), bits_of(&literal));
    Ok(())
}

proptest! {
    #[test]
    fn nan_input_propagates_mixed(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(wild_f64()),
        slot in any::<usize>(),
        entry in any::<usize>(),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(seed_f64()),
    ) {
        nan_propagates(&mixed::<f64>(&ch, LIBRARY), x, slot, entry, seed)?;
    }

    #[test]
    fn nan_input_propagates_uniform(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f64, UniformG>(wild_f64()),
        slot in any::<usize>(),
        entry in any::<usize>(),
        seed in tlist_of::<f64, Cat<UniformG, UniformSs>>(seed_f64()),
    ) {
        nan_propagates(&uniform::<f64>(&ch, LIBRARY), x, slot, entry, seed)?;
    }
}

/// ±∞ inputs: IEEE semantics, no panic. `exp(−∞) = 0`, `tanh(∞) = 1`, `relu(−∞) = 0`,
/// `∞ − ∞ = NaN`.
#[test]
fn infinite_inputs() {
    type G = HList![V2];
    type C1 = HList![V2, V2];
    type C2 = HList![V2, V2, V2];
    type C3 = HList![V2, V2, V2, V2];
    let g = Graph::<f64, (), G, HNil>::nil()
        .snoc(ops::exp(Idx::<G, V2>::at::<0>()))
        .snoc(ops::tanh(Idx::<C1, V2>::at::<0>()))
        .snoc(ops::relu(Idx::<C2, V2>::at::<0>()))
        .snoc(ops::sub(Idx::<C3, V2>::at::<0>(), Idx::at::<0>()));
    let x: TList<f64, G> = tlist![Tensor::new([f64::NEG_INFINITY, f64::INFINITY])];
    let vals = slots(&g.eval(x.clone(), &()));
    assert_eq!(vals[1], vec![0.0, f64::INFINITY]);
    assert_eq!(vals[2], vec![-1.0, 1.0]);
    assert_eq!(vals[3], vec![0.0, f64::INFINITY]);
    assert!(vals[4].iter().all(|v| v.is_nan()));
    let seed = TList::<f64, Cat<G, HList![V2, V2, V2, V2]>>::zero().map(|_| 1.0);
    let grad = g.backprop_ctx(x.clone(), &(), seed.clone());
    let literal = g.backprop_ctx_literal(x, &(), seed);
    assert_eq!(bits_of(&grad), bits_of(&literal));
}

/// A node that is not adjoint is caught by `check_adjoint` on a random graph's context.
#[test]
fn check_adjoint_detects_a_wrong_vjp() {
    use shapetape::autograd::{Cotangent, NodeData};
    type G = HList![V2];
    let a = Idx::<G, V2>::at::<0>();
    // y = 2x with VJP δ (should be 2δ).
    let wrong = NodeData::<Rational, (), G, V2>::new(
        move |x, _| x.get(a).scale(&Rational::small(2, 1)),
        move |_, dx, _| dx.get(a).scale(&Rational::small(2, 1)),
        move |_, _, d| Cotangent::single(a, d.clone()),
    );
    let one: TList<Rational, G> = tlist![Tensor::fill(Rational::small(1, 1))];
    let c = check_adjoint(
        &wrong,
        &one,
        &one,
        &(),
        &Tensor::fill(Rational::small(1, 1)),
    );
    assert!(!c.is_exact());
    assert_eq!(c.jvp_side, Rational::small(4, 1));
    assert_eq!(c.vjp_side, Rational::small(2, 1));
    assert!(c.to_string().contains("⟨J dx, δ⟩ = 4"));
}
