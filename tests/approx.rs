//! The runtime-approximation layer (src/approx) as property tests.
//!
//! **What is checked.**
//!
//! 1. *Linear = literal, bit for bit.* The defaults are linear in the graph length; Lean's
//!    recursions are kept as `*_literal`. On random graphs, random inputs (NaN and ±∞
//!    included), random input bounds and seed bounds (0, tiny, moderate and `+∞`) and random
//!    seeds on every slot (intermediate ones, `±0.0` entries): `eval_bounds =
//!    eval_bounds_literal`, `backprop_runtime = backprop_runtime_literal`, `backprop_spec =
//!    backprop_spec_literal`, and `backprop_certified_with(…, B).1 = backprop_bounds_literal(…,
//!    B)` for `B = CtxAddBound` and `B = LeanCtxAddBound` (`EList`'s `==` compares bits).
//! 2. *`eval_approx` and `backprop_approx`, exactly.* With the exact `Rational` spec on
//!    polynomial and piecewise-linear graphs (add, sub, mul, neg, scale, relu, sum, mean,
//!    matvec, matmul, transpose, linear, linear_batch, mse): spec inputs `xS`, runtime inputs
//!    `xR` (f32, and f64) and input bounds `ε ≥ ‖xS − xR‖∞` (the measured distance rounded up,
//!    or more, or `+∞` with a far-away spec), seeds likewise; then
//!    `approx_ctx(eval_spec xS, eval_runtime xR, eval_bounds ε xR)` and
//!    `approx_ctx(backprop_spec xS δS, backprop_runtime xR δR, backprop_bounds …)` (with both
//!    add bounds) are checked in exact rational arithmetic: no slack at all.
//! 3. *The same with the `f64` spec* on graphs with every op (exp, tanh, sigmoid, softplus,
//!    safe_log, softmax, log_softmax, cross_entropy too), with the slack [`SLACK_REL`]: a slot
//!    passes if `‖spec − rt‖∞ ≤ bound + SLACK_REL · max(1, M)`, `M` the largest magnitude of any
//!    finite spec or runtime value of the computation. Why a slack: the bound certifies the
//!    distance to the *exact real* spec, but the `f64` spec is itself computed with rounding,
//!    up to a few hundred roundings of relative size 2⁻⁵³ ≈ 1.1·10⁻¹⁶ of the magnitudes
//!    involved; 10⁻¹² covers that with four orders of margin, and is ~10⁴ times smaller than
//!    one f32 rounding (2⁻²⁴ ≈ 6·10⁻⁸), the smallest error a runtime bound accounts for. A slot
//!    with a finite bound must also have a finite runtime value, and a finite spec value when
//!    every input bound is finite (with a `+∞` input bound the spec inputs may be so far away
//!    that the `f64` spec overflows where the exact value is finite, e.g. `exp(10¹⁰)·0`; such
//!    slots are not compared).
//! 4. *Adversarial values.* Entries are drawn from zeros of both signs, non-dyadic rationals
//!    (`n/3`, `n/7`, …), moderate floats, floats across the whole f32 range (2⁻¹²⁶ … 2¹²⁶),
//!    f32 subnormals, values near the overflow and underflow of `exp` (≈ ±88…105), for the f64
//!    runtime also f64 subnormals and magnitudes down to 2⁻¹⁰⁷⁴ and up to 2³⁰⁰, runtime values
//!    a few ulps away from the spec, and values shared (up to sign and a few ulps) between
//!    entries of a context, so that `a + b` and `a − b` cancel.
//! 5. *NaN and ∞.* Every slot whose runtime value has a NaN or ±∞ entry gets the bound `+∞`,
//!    never a finite one: node outputs, gradient slots, and input slots too (whatever bound the
//!    caller gave them); a finite input slot keeps the caller's bound bit for bit (Lean's
//!    `evalBounds nil = epsIn`), and so does a finite seed slot of a graph without nodes
//!    (`backpropBounds nil = epsSeed`). Input bounds `+∞` make every downstream bound `+∞`
//!    through unbounded ops, and seed bounds `+∞` make every gradient bound `+∞`.
//! 6. *Units.* `approx_t`/`approx_ctx` semantics, `EList` constructors, the upward-rounded
//!    helpers of `approx::round`, interval enclosures, the soundness of both add bounds
//!    against the exact rational error of one f32/f64 addition, and the bounds of aliased
//!    operands of the matrix ops.
//!
//! Random graphs are *templates* (nodes from the shared registry, `tests/common/registry.rs`):
//! fixed Γ and node shapes Ss, each node's op drawn at run time among the ops of `shapetape::ops` producing its
//! shape (appended as typed `RevNode`s, `ops::xxx(..).into_rev_node()`),
//! operands among all earlier slots of the right shape (`Idx::try_at`), aliased a quarter of
//! the time. Three templates: `uniform` (eight nodes on vectors of 3), `mixed` (nine nodes of
//! six shapes: square and rectangular matrix products, transposes, affine layers, reductions,
//! losses) and `blocked` (16×16 products, which the f32/f64 runtime computes with the blocked
//! GEMM kernel, summing in another order than Lean's left fold).
//!
//! Case counts: proptest's default (256) or `PROPTEST_CASES`; properties that are expensive in
//! a debug build run fewer by default, also overridden by `PROPTEST_CASES`: the exact-rational
//! ones [`RATIONAL_CASES`] (arbitrary-precision numbers grow with the depth of the graph), those
//! on 16×16 products [`BLOCKED_CASES`], and the exact-rational one on 16×16 products
//! [`BLOCKED_RATIONAL_CASES`].

#[path = "common/checks.rs"]
mod checks;

use checks::*;
#[path = "common/registry.rs"]
mod registry;
use proptest::prelude::*;
use registry::*;
use shapetape::approx::interval::Interval;
use shapetape::approx::{
    AddBound, Ball, CtxAddBound, EList, EListError, Enclosed, Enclosure, FwdGraph, LeanCtxAddBound,
    NegativeBound, RevGraph, RevNode, RuntimeFloat, SpecScalar, ToSpec, approx_ctx, approx_t,
    ctx_distances, round,
};
use shapetape::ops;
use shapetape::prelude::*;

/// Default number of cases of the exact-rational graph properties.
const RATIONAL_CASES: u32 = 128;

/// Default number of cases of the properties on 16×16 products (the blocked GEMM kernel;
/// debug-build matrix kernels and 256-entry interval enclosures make a case ~30 ms).
const BLOCKED_CASES: u32 = 64;

/// Default number of cases of the exact-rational property on 16×16 products (thousands of
/// big-rational operations per case).
const BLOCKED_RATIONAL_CASES: u32 = 32;

// ================================================================ random typed graph templates
// (their nodes drawn from the shared registry, tests/common/registry.rs)

/// A runtime scalar of the templates: `f32` or `f64`.
trait Rt: RevRuntime + RuntimeFloat + ToSpec<f64> + ToSpec<Rational> {
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

/// A spec scalar of the templates: `f64` (every op) or `Rational` (no transcendental op).
trait Sp: RevSpec {}
impl Sp for f64 {}
impl Sp for Rational {}

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
    ops: &[Kind],
) -> Built<R, P, G, Snoc<Ss, S>> {
    let Made { node, reads, .. } = make_node::<Rev<R, P>, Cat<G, Ss>, S>(ch, ops);
    let mut all = b.reads;
    all.push(reads);
    Built {
        graph: b.graph.snoc(node),
        reads: all,
    }
}

/// Builds a template: `template!(R, P, G, [S₀, S₁, …], choices, ops)`.
macro_rules! template {
    ($R:ty, $P:ty, $G:ty, [$($S:ty),* $(,)?], $choices:expr, $ops:expr) => {{
        let mut it = $choices.iter();
        let b = Built::<$R, $P, $G, HNil>::new();
        $( let b = push::<$R, $P, _, _, $S>(b, it.next().expect("one choice per node"), $ops); )*
        b
    }};
}

/// Γ = [V3, V3, V3], eight nodes of shape V3: every slot is an operand candidate of every node
/// (much aliasing, long chains).
type UniformG = HList![V3, V3, V3];
type UniformSs = HList![V3, V3, V3, V3, V3, V3, V3, V3];
const UNIFORM_NODES: usize = 8;

fn uniform<R: Rt, P: Sp>(ch: &[Choice], ops: &[Kind]) -> Built<R, P, UniformG, UniformSs> {
    template!(R, P, UniformG, [V3, V3, V3, V3, V3, V3, V3, V3], ch, ops)
}

/// Γ = [Scalar, V2, M22, V3, M23], nine nodes of six shapes: matrix–vector and matrix–matrix
/// products (square and rectangular), transposes, affine layers, reductions and losses.
type MixedG = HList![Scalar, V2, M22, V3, M23];
type MixedSs = HList![V2, M22, Scalar, V3, M32, M23, Scalar, V2, M22];
const MIXED_NODES: usize = 9;

fn mixed<R: Rt, P: Sp>(ch: &[Choice], ops: &[Kind]) -> Built<R, P, MixedG, MixedSs> {
    template!(
        R,
        P,
        MixedG,
        [V2, M22, Scalar, V3, M32, M23, Scalar, V2, M22],
        ch,
        ops
    )
}

/// Γ = [M16, M16, V16], nodes M16, M16, Scalar: 16×16 products go to the blocked GEMM kernel
/// of f32/f64 (which sums in another order than Lean's left fold). The first node is always a
/// blocked product (see [`blocked_choices`]).
type BlockedG = HList![M16, M16, V16];
type BlockedSs = HList![M16, M16, Scalar];
const BLOCKED_NODES: usize = 3;

fn blocked<R: Rt, P: Sp>(ch: &[Choice], ops: &[Kind]) -> Built<R, P, BlockedG, BlockedSs> {
    template!(R, P, BlockedG, [M16, M16, Scalar], ch, ops)
}

/// Choices for [`blocked`]: the first node is `matmul` or `linear_batch` (the same op indices
/// in [`LIBRARY`] and [`EXACT`]).
fn blocked_choices() -> impl Strategy<Value = Vec<Choice>> {
    let blocked = [Kind::Matmul, Kind::LinearBatch];
    let index = |ops, real, k| op_index::<M16>(ops, real, k);
    let ops: Vec<usize> = blocked.iter().map(|&k| index(LIBRARY, true, k)).collect();
    assert!(
        blocked
            .iter()
            .zip(&ops)
            .all(|(&k, &i)| index(EXACT, false, k) == i)
    );
    (prop::sample::select(ops), choices(BLOCKED_NODES)).prop_map(|(op, mut ch)| {
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

// ================================================================ exact arithmetic helpers

/// A runtime scalar that can be moved by whole ulps.
trait Ulps: Rt {
    /// `k` steps to the next representable value (up for `k > 0`).
    fn nudge(self, k: i32) -> Self;
}
impl Ulps for f32 {
    fn nudge(self, k: i32) -> Self {
        (0..k.unsigned_abs()).fold(self, |v, _| if k > 0 { v.next_up() } else { v.next_down() })
    }
}
impl Ulps for f64 {
    fn nudge(self, k: i32) -> Self {
        (0..k.unsigned_abs()).fold(self, |v, _| if k > 0 { v.next_up() } else { v.next_down() })
    }
}

/// A spec scalar built from, and read back as, an exact rational.
trait SpecValue: Sp {
    /// The nearest spec value (exact for `Rational`).
    fn from_rational(r: &Rational) -> Self;
    /// The exact value (`None` for a non-finite `f64`).
    fn to_rational(&self) -> Option<Rational>;
}
impl SpecValue for Rational {
    fn from_rational(r: &Rational) -> Self {
        r.clone()
    }
    fn to_rational(&self) -> Option<Rational> {
        Some(self.clone())
    }
}
impl SpecValue for f64 {
    fn from_rational(r: &Rational) -> Self {
        Element::to_f64(r)
    }
    fn to_rational(&self) -> Option<Rational> {
        Rational::from_f64_exact(*self)
    }
}

// ================================================================ adversarial spec/runtime pairs

/// The value an entry starts from.
#[derive(Clone, Debug)]
enum Base {
    Zero,
    /// `n / d` with `d ∈ {3, 5, 7, 10, 12}`: not a float.
    Ratio(i64, i64),
    Float(f64),
}

impl Base {
    fn value(&self) -> Rational {
        match self {
            Base::Zero => Rational::zero(),
            Base::Ratio(n, d) => Rational::new((*n).into(), (*d).into()),
            Base::Float(x) => q(*x),
        }
    }
}

fn signed(x: f64, neg: bool) -> f64 {
    if neg { -x } else { x }
}

/// Which magnitudes a generator draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Range {
    /// Zeros, non-dyadic rationals `n/3`, `n/5`, `n/7` and multiples of 1/8 only (numbers of
    /// few bits, for the exact-rational property on 16×16 products).
    Small,
    /// Values an f32 represents (or rounds to a finite f32): for every runtime scalar.
    F32,
    /// Also f64 magnitudes far outside the f32 range (2⁻¹⁰⁷⁴ … 2⁻⁹⁰⁰, f64 subnormals
    /// included, and up to 2³⁰⁰): for the f64 runtime only.
    F64,
}

/// Zeros, non-dyadic rationals, moderate floats, floats across the f32 range, f32
/// subnormals, values at the overflow/underflow edges of f32 `exp`, and with `Range::F64`
/// tiny and huge f64 magnitudes.
fn base(range: Range) -> BoxedStrategy<Base> {
    if range == Range::Small {
        return prop_oneof![
            1 => Just(Base::Zero),
            2 => (-12_i64..=12, prop::sample::select(vec![3_i64, 5, 7]))
                .prop_map(|(n, d)| Base::Ratio(n, d)),
            3 => (-64_i32..=64).prop_map(|k| Base::Float(f64::from(k) / 8.0)),
        ]
        .boxed();
    }
    let f32_range = prop_oneof![
        2 => Just(Base::Zero),
        3 => (-40_i64..=40, prop::sample::select(vec![3_i64, 5, 7, 10, 12]))
            .prop_map(|(n, d)| Base::Ratio(n, d)),
        3 => (1.0_f64..2.0, -3_i32..=3, any::<bool>())
            .prop_map(|(m, e, neg)| Base::Float(signed(m * 2f64.powi(e), neg))),
        2 => (1.0_f64..2.0, -126_i32..=126, any::<bool>())
            .prop_map(|(m, e, neg)| Base::Float(signed(m * 2f64.powi(e), neg))),
        1 => (1_u32..(1 << 23), any::<bool>())
            .prop_map(|(k, neg)| Base::Float(signed(f64::from(k) * 2f64.powi(-149), neg))),
        1 => prop_oneof![87.0_f64..89.5, -105.0_f64..-85.0].prop_map(Base::Float),
    ];
    match range {
        Range::Small | Range::F32 => f32_range.boxed(),
        Range::F64 => prop_oneof![
            12 => f32_range,
            // m · 2^−1074 · 2^e: f64 subnormals and normals up to ≈ 2^−848.
            2 => (1_u64..(1 << 52), 0_i32..=174, any::<bool>())
                .prop_map(|(m, e, neg)| Base::Float(signed(f64::from_bits(m) * 2f64.powi(e), neg))),
            2 => (1.0_f64..2.0, 127_i32..=300, any::<bool>())
                .prop_map(|(m, e, neg)| Base::Float(signed(m * 2f64.powi(e), neg))),
        ]
        .boxed(),
    }
}

/// One entry: its own base, or a base shared by the whole context (`shared = (i, negate)`),
/// so that entries cancel; a spec jitter of `jitter/7` ulps of the runtime format (making the spec a
/// non-float); the runtime value `nudge` ulps away from the nearest float to the spec.
#[derive(Clone, Debug)]
struct Entry {
    base: Base,
    shared: Option<(usize, bool)>,
    jitter: i64,
    nudge: i32,
    neg_zero: bool,
}

fn entry(range: Range) -> impl Strategy<Value = Entry> {
    (
        base(range),
        prop_oneof![2 => Just(None), 1 => (0_usize..3, any::<bool>()).prop_map(Some)],
        // (no spec jitter for `Range::Small`: it would bring 2²³-sized denominators)
        if range == Range::Small {
            Just(0_i64).boxed()
        } else {
            prop_oneof![2 => Just(0_i64), 1 => -5_i64..=5].boxed()
        },
        prop_oneof![3 => Just(0_i32), 1 => -3_i32..=3],
        any::<bool>(),
    )
        .prop_map(|(base, shared, jitter, nudge, neg_zero)| Entry {
            base,
            shared,
            jitter,
            nudge,
            neg_zero,
        })
}

/// How a slot's bound relates to the measured distance `d` between spec and runtime.
#[derive(Clone, Copy, Debug)]
enum EpsMode {
    /// `d` rounded up to an `f64`: as tight as possible.
    Exact,
    /// `2d`.
    Double,
    /// `d + 2⁻²⁰`.
    Plus,
    /// `+∞`, and the spec of the slot moved far away (`−3·v + 10¹⁰/3`).
    Infinite,
}

fn eps_mode() -> impl Strategy<Value = EpsMode> {
    prop_oneof![
        6 => Just(EpsMode::Exact),
        2 => Just(EpsMode::Double),
        2 => Just(EpsMode::Plus),
        1 => Just(EpsMode::Infinite),
    ]
}

/// The random numbers of a context of spec/runtime pairs with bounds.
#[derive(Clone, Debug)]
struct RawCtx {
    pool: Vec<Base>,
    entries: Vec<Entry>,
    modes: Vec<EpsMode>,
}

fn raw_ctx<C: ShapeList>(range: Range) -> impl Strategy<Value = RawCtx> {
    (
        proptest::collection::vec(base(range), 3),
        proptest::collection::vec(entry(range), total_len::<C>()),
        proptest::collection::vec(eps_mode(), C::LEN),
    )
        .prop_map(|(pool, entries, modes)| RawCtx {
            pool,
            entries,
            modes,
        })
}

/// Spec and runtime contexts with bounds such that `approx_ctx(spec, rt, eps)` holds.
struct Pairs<P, R, C> {
    spec: TList<P, C>,
    rt: TList<R, C>,
    eps: EList<C>,
}

fn realize<P: SpecValue, R: Ulps + ToSpec<P>, C: ShapeList>(raw: &RawCtx) -> Pairs<P, R, C> {
    let mut spec: Vec<Rational> = Vec::new();
    let mut rt: Vec<R> = Vec::new();
    for e in &raw.entries {
        let (b, neg) = match e.shared {
            Some((i, neg)) => (&raw.pool[i], neg),
            None => (&e.base, false),
        };
        let mut v = b.value();
        if neg {
            v = -v;
        }
        if e.jitter != 0 {
            let ulp = q(2.0 * round::half_ulp::<R>(Element::to_f64(&v)));
            v += ulp * Rational::new(e.jitter.into(), 7.into());
        }
        let mut r = R::from_f64(Element::to_f64(&v));
        if r == R::from_f64(0.0) && e.neg_zero {
            r = -r;
        }
        spec.push(v);
        rt.push(r.nudge(e.nudge));
    }
    // Slot by slot: move the spec of `Infinite` slots far away, round it to `P`, measure.
    let mut spec_p: Vec<P> = Vec::with_capacity(spec.len());
    let mut eps = Vec::with_capacity(C::LEN);
    let mut start = 0;
    for (l, mode) in C::layout().iter().zip(&raw.modes) {
        let mut d = Rational::zero();
        for i in start..start + l.size {
            let mut v = spec[i].clone();
            if let EpsMode::Infinite = mode {
                v = v * Rational::from_i64(-3) + Rational::new(10_000_000_000_i64.into(), 3.into());
            }
            let p = P::from_rational(&v);
            let dist = (p.to_rational().expect("finite spec") - q(rt[i].to_f64_exact())).abs();
            if dist > d {
                d = dist;
            }
            spec_p.push(p);
        }
        start += l.size;
        let d = up_f64(&d);
        eps.push(match mode {
            EpsMode::Exact => d,
            EpsMode::Double => round::mul_up(d, 2.0),
            EpsMode::Plus => round::add_up(d, 2f64.powi(-20)),
            EpsMode::Infinite => f64::INFINITY,
        });
    }
    let p = Pairs {
        spec: TList::try_from_flat(spec_p).expect("the context's length"),
        rt: TList::try_from_flat(rt).expect("the context's length"),
        eps: EList::try_from_vec(eps).expect("nonnegative bounds, one per slot"),
    };
    assert!(
        approx_ctx(&p.spec, &p.rt, &p.eps),
        "the generator's own hypothesis"
    );
    p
}

// ================================================================ checks

/// The enclosure mode's laws beside a Lean-composed result: the runtime part is the same
/// computation bit for bit, a NaN or ±∞ gets +∞, the slot bound is the largest entry bound
/// and, when some input bound is positive (`lean` given), no slot's bound is looser than the
/// Lean-composed one.
fn enclosure_laws<R: Rt, C: ShapeList>(
    what: &str,
    enc: &Enclosed<R, C>,
    rt: &TList<R, C>,
    lean: Option<&EList<C>>,
    names: &[String],
) -> Law {
    enclosure_laws_in(what, enc, rt, lean, names)
}

/// [`enclosure_laws`] for any enclosure scalar.
fn enclosure_laws_in<R: Rt, C: ShapeList, E: Enclosure>(
    what: &str,
    enc: &Enclosed<R, C, E>,
    rt: &TList<R, C>,
    lean: Option<&EList<C>>,
    names: &[String],
) -> Law {
    prop_assert_eq!(
        bits_of(enc.runtime()),
        bits_of(rt),
        "{}: runtime part differs",
        what
    );
    let bounds = enc.bounds();
    non_finite_is_unbounded(what, rt, &bounds, names)?;
    let lean = lean.map_or(&[][..], EList::as_slice);
    for (j, (&e, &l)) in bounds.as_slice().iter().zip(lean).enumerate() {
        prop_assert!(
            e <= l,
            "{}: slot {} has the enclosure bound {:e} above the Lean-composed {:e} (nodes {:?})",
            what,
            j,
            e,
            l,
            names
        );
    }
    let per_entry = enc.entry_bounds();
    for (j, (b, &e)) in per_entry.slot_slices().zip(bounds.as_slice()).enumerate() {
        let worst = b.iter().fold(0.0f64, |m, &v| m.max(v));
        prop_assert!(
            worst.to_bits() == e.to_bits() || (e == f64::INFINITY && b.iter().any(|v| v.is_nan())),
            "{}: slot {}: per-entry bounds {:?} do not have the slot bound {:e} as maximum",
            what,
            j,
            b,
            e
        );
    }
    Ok(())
}

/// Every exact entry lies in its enclosure.
fn exact_in_enclosure<R: Rt, C: ShapeList, E: Enclosure>(
    what: &str,
    spec: &TList<Rational, C>,
    enc: &Enclosed<R, C, E>,
    names: &[String],
) -> Law {
    for (j, (s, e)) in spec
        .slot_slices()
        .zip(enc.enclosures().slot_slices())
        .enumerate()
    {
        for (i, (p, iv)) in s.iter().zip(e).enumerate() {
            let (lo, hi) = iv.endpoints();
            prop_assert!(
                contains(Interval::new(lo, hi), p),
                "{}: slot {} entry {}: exact {} outside the enclosure {} (nodes {:?})",
                what,
                j,
                i,
                Element::to_f64(p),
                iv,
                names
            );
        }
    }
    Ok(())
}

// ================================================================ 1. linear = literal

/// Bounds: `0`, subnormal, tiny, moderate, `+∞`.
fn eps_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => Just(0.0),
        1 => (1_u64..1000).prop_map(f64::from_bits),
        2 => 1e-9_f64..1e-3,
        2 => 0.0_f64..4.0,
        1 => Just(f64::INFINITY),
    ]
}

fn elist_of<C: ShapeList>() -> impl Strategy<Value = EList<C>> {
    proptest::collection::vec(eps_value(), C::LEN)
        .prop_map(|v| EList::try_from_vec(v).expect("nonnegative, one per slot"))
}

fn bound_bits<C>(e: &EList<C>) -> Vec<u64> {
    e.as_slice().iter().map(|v| v.to_bits()).collect()
}

fn literal_equals_linear<R: Rt, G: ShapeList, Ss: ShapeList>(
    b: &Built<R, f64, G, Ss>,
    x: TList<R, G>,
    eps_in: EList<G>,
    seed: TList<R, Cat<G, Ss>>,
    eps_seed: EList<Cat<G, Ss>>,
) -> Law {
    let g = &b.graph;
    let names = names(b);
    // Forward.
    let linear = g.eval_bounds(eps_in.clone(), x.clone());
    let literal = g.eval_bounds_literal(eps_in.clone(), x.clone());
    prop_assert_eq!(&linear, &literal, "eval_bounds, nodes {:?}", names);
    let (vals, certified) = g.eval_certified(eps_in.clone(), x.clone());
    prop_assert_eq!(&certified, &linear);
    prop_assert_eq!(bits_of(&vals), bits_of(&g.eval_runtime(x.clone())));
    let fwd = g.to_fwd_graph();
    prop_assert_eq!(&fwd.eval_bounds(eps_in.clone(), x.clone()), &linear);
    prop_assert_eq!(&fwd.eval_bounds_literal(eps_in.clone(), x.clone()), &linear);
    // Reverse, values.
    let grad = g.backprop_runtime(x.clone(), seed.clone());
    prop_assert_eq!(
        bits_of(&g.backprop_runtime_literal(x.clone(), seed.clone())),
        bits_of(&grad),
        "backprop_runtime, nodes {:?}",
        names
    );
    let xs = x.map(|v| v.to_f64_exact());
    let seed_s = seed.map(|v| v.to_f64_exact());
    prop_assert_eq!(
        bits_of(&g.backprop_spec(xs.clone(), seed_s.clone())),
        bits_of(&g.backprop_spec_literal(xs, seed_s)),
        "backprop_spec, nodes {:?}",
        names
    );
    // Reverse, bounds, with both add bounds.
    let (grad_c, ctx) = g.backprop_certified_with(
        eps_in.clone(),
        x.clone(),
        eps_seed.clone(),
        seed.clone(),
        &CtxAddBound,
    );
    prop_assert_eq!(bits_of(&grad_c), bits_of(&grad));
    let ctx_literal = g.backprop_bounds_literal(
        eps_in.clone(),
        x.clone(),
        eps_seed.clone(),
        seed.clone(),
        &CtxAddBound,
    );
    prop_assert_eq!(
        &ctx,
        &ctx_literal,
        "backprop bounds (CtxAddBound), nodes {:?}",
        names
    );
    prop_assert_eq!(
        &g.backprop_bounds(eps_in.clone(), x.clone(), eps_seed.clone(), seed.clone()),
        &ctx
    );
    let (grad_d, ctx_d) =
        g.backprop_certified(eps_in.clone(), x.clone(), eps_seed.clone(), seed.clone());
    prop_assert_eq!(bits_of(&grad_d), bits_of(&grad));
    prop_assert_eq!(&ctx_d, &ctx);
    let (grad_l, lean) = g.backprop_certified_with(
        eps_in.clone(),
        x.clone(),
        eps_seed.clone(),
        seed.clone(),
        &LeanCtxAddBound,
    );
    prop_assert_eq!(bits_of(&grad_l), bits_of(&grad));
    let lean_literal = g.backprop_bounds_literal(eps_in, x, eps_seed, seed, &LeanCtxAddBound);
    prop_assert_eq!(
        bound_bits(&lean),
        bound_bits(&lean_literal),
        "backprop bounds (LeanCtxAddBound), nodes {:?}",
        names
    );
    // The refined add bound is never looser than Lean's.
    for (c, l) in ctx.as_slice().iter().zip(lean.as_slice()) {
        prop_assert!(c <= l, "CtxAddBound {:e} > LeanCtxAddBound {:e}", c, l);
    }
    Ok(())
}

proptest! {
    #[test]
    fn literal_equals_linear_uniform_f32(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f32, UniformG>(rt(input_f64())),
        eps_in in elist_of::<UniformG>(),
        seed in tlist_of::<f32, Cat<UniformG, UniformSs>>(rt(seed_f64())),
        eps_seed in elist_of::<Cat<UniformG, UniformSs>>(),
    ) {
        literal_equals_linear(&uniform::<f32, f64>(&ch, LIBRARY), x, eps_in, seed, eps_seed)?;
    }

    #[test]
    fn literal_equals_linear_mixed_f32(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(input_f64())),
        eps_in in elist_of::<MixedG>(),
        seed in tlist_of::<f32, Cat<MixedG, MixedSs>>(rt(seed_f64())),
        eps_seed in elist_of::<Cat<MixedG, MixedSs>>(),
    ) {
        literal_equals_linear(&mixed::<f32, f64>(&ch, LIBRARY), x, eps_in, seed, eps_seed)?;
    }

    #[test]
    fn literal_equals_linear_mixed_f64(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        eps_in in elist_of::<MixedG>(),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(seed_f64()),
        eps_seed in elist_of::<Cat<MixedG, MixedSs>>(),
    ) {
        literal_equals_linear(&mixed::<f64, f64>(&ch, LIBRARY), x, eps_in, seed, eps_seed)?;
    }

    #[test]
    fn literal_equals_linear_with_non_finite_values(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(wild_f64())),
        eps_in in elist_of::<MixedG>(),
        seed in tlist_of::<f32, Cat<MixedG, MixedSs>>(rt(wild_f64())),
        eps_seed in elist_of::<Cat<MixedG, MixedSs>>(),
    ) {
        literal_equals_linear(&mixed::<f32, f64>(&ch, LIBRARY), x, eps_in, seed, eps_seed)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(BLOCKED_CASES), ..ProptestConfig::default() })]

    #[test]
    fn literal_equals_linear_blocked_gemm(
        ch in blocked_choices(),
        x in tlist_of::<f32, BlockedG>(rt(input_f64())),
        eps_in in elist_of::<BlockedG>(),
        seed in tlist_of::<f32, Cat<BlockedG, BlockedSs>>(rt(seed_f64())),
        eps_seed in elist_of::<Cat<BlockedG, BlockedSs>>(),
    ) {
        literal_equals_linear(&blocked::<f32, f64>(&ch, LIBRARY), x, eps_in, seed, eps_seed)?;
    }
}

// ================================================================ 2. exact soundness (Rational spec)

/// `eval_approx` and `backprop_approx` (both add bounds) in exact arithmetic; with `literal`,
/// also `backprop_spec = backprop_spec_literal` over `Rational`.
fn exact_soundness<R: Ulps, G: ShapeList, Ss: ShapeList>(
    b: &Built<R, Rational, G, Ss>,
    x: &RawCtx,
    seed: &RawCtx,
    literal: bool,
) -> Law {
    let g = &b.graph;
    let names = names(b);
    let x: Pairs<Rational, R, G> = realize(x);
    let seed: Pairs<Rational, R, Cat<G, Ss>> = realize(seed);
    // eval_approx
    let spec = g.eval_spec(x.spec.clone());
    let (vals, eps) = g.eval_certified(x.eps.clone(), x.rt.clone());
    non_finite_is_unbounded("eval", &vals, &eps, &names)?;
    exact_approx("eval_approx", &spec, &vals, &eps, &names)?;
    let enc = g.eval_enclosed(x.eps.clone(), x.rt.clone());
    let positive = |e: &[f64]| e.iter().any(|&e| e != 0.0);
    let fwd_lean = positive(x.eps.as_slice()).then_some(&eps);
    enclosure_laws("eval_enclosed", &enc, &vals, fwd_lean, &names)?;
    exact_in_enclosure("eval_enclosed", &spec, &enc, &names)?;
    exact_approx("eval_enclosed", &spec, &vals, &enc.bounds(), &names)?;
    let ball = g.eval_enclosed_in::<Ball, _>(x.eps.clone(), x.rt.clone());
    enclosure_laws_in("eval_enclosed_in::<Ball>", &ball, &vals, fwd_lean, &names)?;
    exact_in_enclosure("eval_enclosed_in::<Ball>", &spec, &ball, &names)?;
    let enc_grad = g.backprop_enclosed(
        x.eps.clone(),
        x.rt.clone(),
        seed.eps.clone(),
        seed.rt.clone(),
    );
    // backprop_approx, with both add bounds
    let grad_s = g.backprop_spec(x.spec.clone(), seed.spec.clone());
    if literal {
        prop_assert_eq!(
            &grad_s,
            &g.backprop_spec_literal(x.spec.clone(), seed.spec.clone())
        );
    }
    let (grad, e_ctx) = g.backprop_certified_with(
        x.eps.clone(),
        x.rt.clone(),
        seed.eps.clone(),
        seed.rt.clone(),
        &CtxAddBound,
    );
    non_finite_is_unbounded("backprop (CtxAddBound)", &grad, &e_ctx, &names)?;
    exact_approx(
        "backprop_approx (CtxAddBound)",
        &grad_s,
        &grad,
        &e_ctx,
        &names,
    )?;
    let composed = positive(x.eps.as_slice()) || positive(seed.eps.as_slice());
    enclosure_laws(
        "backprop_enclosed",
        &enc_grad,
        &grad,
        composed.then_some(&e_ctx),
        &names,
    )?;
    exact_in_enclosure("backprop_enclosed", &grad_s, &enc_grad, &names)?;
    exact_approx(
        "backprop_enclosed",
        &grad_s,
        &grad,
        &enc_grad.bounds(),
        &names,
    )?;
    let ball_grad = g.backprop_enclosed_in::<Ball, _, _>(
        x.eps.clone(),
        x.rt.clone(),
        seed.eps.clone(),
        seed.rt.clone(),
    );
    enclosure_laws_in(
        "backprop_enclosed_in::<Ball>",
        &ball_grad,
        &grad,
        composed.then_some(&e_ctx),
        &names,
    )?;
    exact_in_enclosure("backprop_enclosed_in::<Ball>", &grad_s, &ball_grad, &names)?;
    let (grad, e_lean) =
        g.backprop_certified_with(x.eps, x.rt, seed.eps, seed.rt, &LeanCtxAddBound);
    non_finite_is_unbounded("backprop (LeanCtxAddBound)", &grad, &e_lean, &names)?;
    exact_approx(
        "backprop_approx (LeanCtxAddBound)",
        &grad_s,
        &grad,
        &e_lean,
        &names,
    )?;
    enclosure_laws(
        "backprop_enclosed",
        &enc_grad,
        &grad,
        composed.then_some(&e_lean),
        &names,
    )?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(RATIONAL_CASES), ..ProptestConfig::default() })]

    #[test]
    fn approx_exact_rational_uniform_f32(
        ch in choices(UNIFORM_NODES),
        x in raw_ctx::<UniformG>(Range::F32),
        seed in raw_ctx::<Cat<UniformG, UniformSs>>(Range::F32),
    ) {
        exact_soundness(&uniform::<f32, Rational>(&ch, EXACT), &x, &seed, true)?;
    }

    #[test]
    fn approx_exact_rational_mixed_f32(
        ch in choices(MIXED_NODES),
        x in raw_ctx::<MixedG>(Range::F32),
        seed in raw_ctx::<Cat<MixedG, MixedSs>>(Range::F32),
    ) {
        exact_soundness(&mixed::<f32, Rational>(&ch, EXACT), &x, &seed, true)?;
    }

    #[test]
    fn approx_exact_rational_mixed_f64(
        ch in choices(MIXED_NODES),
        x in raw_ctx::<MixedG>(Range::F64),
        seed in raw_ctx::<Cat<MixedG, MixedSs>>(Range::F64),
    ) {
        exact_soundness(&mixed::<f64, Rational>(&ch, EXACT), &x, &seed, true)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(BLOCKED_RATIONAL_CASES),
        ..ProptestConfig::default()
    })]

    /// 16×16 products through the blocked GEMM kernel (another summation order than Lean's
    /// left fold), exactly.
    #[test]
    fn approx_exact_rational_blocked_gemm(
        ch in blocked_choices(),
        x in raw_ctx::<BlockedG>(Range::Small),
        seed in raw_ctx::<Cat<BlockedG, BlockedSs>>(Range::Small),
    ) {
        exact_soundness(&blocked::<f32, Rational>(&ch, EXACT), &x, &seed, false)?;
    }
}

// ================================================================ 3. soundness with the f64 spec

fn f64_soundness<G: ShapeList, Ss: ShapeList>(
    b: &Built<f32, f64, G, Ss>,
    x: &RawCtx,
    seed: &RawCtx,
) -> Law {
    let g = &b.graph;
    let names = names(b);
    let x: Pairs<f64, f32, G> = realize(x);
    let seed: Pairs<f64, f32, Cat<G, Ss>> = realize(seed);
    let spec = g.eval_spec(x.spec.clone());
    let (vals, eps) = g.eval_certified(x.eps.clone(), x.rt.clone());
    non_finite_is_unbounded("eval", &vals, &eps, &names)?;
    let scale = magnitude(&spec).max(magnitude(&vals));
    let finite_in = x.eps.as_slice().iter().all(|e| e.is_finite());
    slack_approx("eval_approx", &spec, &vals, &eps, scale, finite_in, &names)?;
    let enc = g.eval_enclosed(x.eps.clone(), x.rt.clone());
    prop_assert_eq!(bits_of(enc.runtime()), bits_of(&vals));
    non_finite_is_unbounded("eval_enclosed", &vals, &enc.bounds(), &names)?;
    slack_approx(
        "eval_enclosed",
        &spec,
        &vals,
        &enc.bounds(),
        scale,
        finite_in,
        &names,
    )?;
    let finite_in = finite_in && seed.eps.as_slice().iter().all(|e| e.is_finite());
    let grad_s = g.backprop_spec(x.spec.clone(), seed.spec.clone());
    let scale = scale
        .max(magnitude(&seed.spec))
        .max(magnitude(&seed.rt))
        .max(magnitude(&grad_s));
    for lean in [false, true] {
        let (grad, e) = if lean {
            g.backprop_certified_with(
                x.eps.clone(),
                x.rt.clone(),
                seed.eps.clone(),
                seed.rt.clone(),
                &LeanCtxAddBound,
            )
        } else {
            g.backprop_certified(
                x.eps.clone(),
                x.rt.clone(),
                seed.eps.clone(),
                seed.rt.clone(),
            )
        };
        let what = if lean {
            "backprop_approx (LeanCtxAddBound)"
        } else {
            "backprop_approx (CtxAddBound)"
        };
        non_finite_is_unbounded(what, &grad, &e, &names)?;
        let scale = scale.max(magnitude(&grad));
        slack_approx(what, &grad_s, &grad, &e, scale, finite_in, &names)?;
    }
    let enc = g.backprop_enclosed(x.eps, x.rt, seed.eps, seed.rt);
    let grad = enc.runtime();
    non_finite_is_unbounded("backprop_enclosed", grad, &enc.bounds(), &names)?;
    let scale = scale.max(magnitude(grad));
    slack_approx(
        "backprop_enclosed",
        &grad_s,
        grad,
        &enc.bounds(),
        scale,
        finite_in,
        &names,
    )?;
    Ok(())
}

proptest! {
    #[test]
    fn approx_f64_spec_uniform(
        ch in choices(UNIFORM_NODES),
        x in raw_ctx::<UniformG>(Range::F32),
        seed in raw_ctx::<Cat<UniformG, UniformSs>>(Range::F32),
    ) {
        f64_soundness(&uniform::<f32, f64>(&ch, LIBRARY), &x, &seed)?;
    }

    #[test]
    fn approx_f64_spec_mixed(
        ch in choices(MIXED_NODES),
        x in raw_ctx::<MixedG>(Range::F32),
        seed in raw_ctx::<Cat<MixedG, MixedSs>>(Range::F32),
    ) {
        f64_soundness(&mixed::<f32, f64>(&ch, LIBRARY), &x, &seed)?;
    }

    /// The error function and GELU's exact form composed with the other ops (their own list,
    /// so that the stored regression seeds of the other properties keep drawing the same ops).
    #[test]
    fn approx_f64_spec_with_erf(
        ch in choices(MIXED_NODES),
        x in raw_ctx::<MixedG>(Range::F32),
        seed in raw_ctx::<Cat<MixedG, MixedSs>>(Range::F32),
    ) {
        f64_soundness(&mixed::<f32, f64>(&ch, ERF_OPS), &x, &seed)?;
    }
}

/// [`LIBRARY`]'s exact ops with `erf`, `gelu_erf` and `tanh` as the transcendental ones.
const ERF_OPS: &[Kind] = &[
    Kind::Add,
    Kind::Sub,
    Kind::Mul,
    Kind::Relu,
    Kind::Matvec,
    Kind::Linear,
    Kind::Matmul,
    Kind::Transpose,
    Kind::LinearBatch,
    Kind::Sum,
    Kind::Mse,
    Kind::Erf,
    Kind::GeluErf,
    Kind::Tanh,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(BLOCKED_CASES), ..ProptestConfig::default() })]

    /// 16×16 products through the blocked GEMM kernel, with every op and adversarial values.
    #[test]
    fn approx_f64_spec_blocked_gemm(
        ch in blocked_choices(),
        x in raw_ctx::<BlockedG>(Range::F32),
        seed in raw_ctx::<Cat<BlockedG, BlockedSs>>(Range::F32),
    ) {
        f64_soundness(&blocked::<f32, f64>(&ch, LIBRARY), &x, &seed)?;
    }
}

// ================================================================ 4. NaN, ∞ and unbounded inputs

/// The input slots of `eval_certified`'s bounds: `+∞` where the input holds a NaN or ±∞
/// (whatever the caller's bound), the caller's bound bit for bit elsewhere (Lean's
/// `evalBounds nil = epsIn`).
fn input_bounds_are_kept_or_infinite<G: ShapeList, C: ShapeList>(
    x: &TList<f32, G>,
    eps_in: &EList<G>,
    eps: &EList<C>,
) -> Law {
    for (j, (xs, &e_in)) in x.slot_slices().zip(eps_in.as_slice()).enumerate() {
        let want = if xs.iter().all(|v| v.is_finite()) {
            e_in
        } else {
            f64::INFINITY
        };
        prop_assert_eq!(
            eps.as_slice()[j].to_bits(),
            want.to_bits(),
            "input slot {} holds {:?}, bound given {:e}, returned {:e}",
            j,
            xs,
            e_in,
            eps.as_slice()[j]
        );
    }
    Ok(())
}

fn non_finite_runtime<G: ShapeList, Ss: ShapeList>(
    b: &Built<f32, f64, G, Ss>,
    x: TList<f32, G>,
    eps_in: EList<G>,
    seed: TList<f32, Cat<G, Ss>>,
    eps_seed: EList<Cat<G, Ss>>,
) -> Law {
    let g = &b.graph;
    let names = names(b);
    let (vals, eps) = g.eval_certified(eps_in.clone(), x.clone());
    non_finite_is_unbounded("eval", &vals, &eps, &names)?;
    input_bounds_are_kept_or_infinite(&x, &eps_in, &eps)?;
    let (grad, e) = g.backprop_certified_with(
        eps_in.clone(),
        x.clone(),
        eps_seed.clone(),
        seed.clone(),
        &CtxAddBound,
    );
    non_finite_is_unbounded("backprop (CtxAddBound)", &grad, &e, &names)?;
    let enc = g.eval_enclosed(eps_in.clone(), x.clone());
    non_finite_is_unbounded("eval_enclosed", &vals, &enc.bounds(), &names)?;
    let enc = g.backprop_enclosed(eps_in.clone(), x.clone(), eps_seed.clone(), seed.clone());
    non_finite_is_unbounded("backprop_enclosed", enc.runtime(), &enc.bounds(), &names)?;
    let (grad, e) = g.backprop_certified_with(eps_in, x, eps_seed, seed, &LeanCtxAddBound);
    non_finite_is_unbounded("backprop (LeanCtxAddBound)", &grad, &e, &names)?;
    Ok(())
}

proptest! {
    #[test]
    fn non_finite_runtime_values_get_infinite_bounds_mixed(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(wild_f64())),
        eps_in in elist_of::<MixedG>(),
        seed in tlist_of::<f32, Cat<MixedG, MixedSs>>(rt(wild_f64())),
        eps_seed in elist_of::<Cat<MixedG, MixedSs>>(),
    ) {
        non_finite_runtime(&mixed::<f32, f64>(&ch, LIBRARY), x, eps_in, seed, eps_seed)?;
    }

    #[test]
    fn non_finite_runtime_values_get_infinite_bounds_uniform(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f32, UniformG>(rt(wild_f64())),
        eps_in in elist_of::<UniformG>(),
        seed in tlist_of::<f32, Cat<UniformG, UniformSs>>(rt(wild_f64())),
        eps_seed in elist_of::<Cat<UniformG, UniformSs>>(),
    ) {
        non_finite_runtime(&uniform::<f32, f64>(&ch, LIBRARY), x, eps_in, seed, eps_seed)?;
    }

    /// Input bounds `+∞` (any spec input is allowed): every node built from ops that are
    /// unbounded on an unbounded box gets the bound `+∞`. Seed bounds `+∞`: every gradient
    /// slot gets `+∞` (the input seeds flow into it).
    #[test]
    fn infinite_bounds_propagate(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(input_f64())),
        seed in tlist_of::<f32, Cat<MixedG, MixedSs>>(rt(seed_f64())),
        eps_seed in elist_of::<Cat<MixedG, MixedSs>>(),
    ) {
        let b = mixed::<f32, f64>(&nonzero_scale(ch.clone()), UNBOUNDED);
        let eps = b.graph.eval_bounds(EList::uniform(f64::INFINITY), x.clone());
        prop_assert!(
            eps.as_slice().iter().all(|&e| e == f64::INFINITY),
            "{:?} for nodes {:?}",
            eps,
            names(&b)
        );
        let b = mixed::<f32, f64>(&ch, LIBRARY);
        for eps_in in [EList::uniform(f64::INFINITY), EList::zero()] {
            let e = b.graph.backprop_bounds(eps_in, x.clone(), EList::uniform(f64::INFINITY), seed.clone());
            prop_assert!(e.as_slice().iter().all(|&e| e == f64::INFINITY), "{:?}", e);
        }
        // With finite seed bounds the gradient bounds are finite or not, but never NaN.
        let e = b.graph.backprop_bounds(EList::uniform(f64::INFINITY), x, eps_seed, seed);
        prop_assert!(e.as_slice().iter().all(|e| !e.is_nan() && *e >= 0.0));
    }
}

/// `exp` at the edge of f32 overflow: where the runtime overflows to `+∞` the bound is `+∞`;
/// just below, the bound is finite and covers the exact value, also for spec inputs whose
/// exponential exceeds `f32::MAX` (the bound is a real number, not an f32).
#[test]
fn exp_at_the_overflow_edge() {
    type G = HList![Vector<3>];
    let g = RevGraph::<f32, f64, G, HNil>::nil()
        .snoc(ops::exp(Idx::at::<0>()))
        .snoc(ops::sum(Idx::at::<1>()));
    let x: TList<f32, G> = tlist![Tensor::new([88.0, 88.7, 89.0])];
    let (vals, eps) = g.eval_certified(EList::zero(), x.clone());
    let v: Vec<f32> = vals.slot_slices().nth(1).unwrap().to_vec();
    assert!(v[0].is_finite() && v[1].is_finite() && v[2] == f32::INFINITY);
    assert_eq!(eps.as_slice()[1], f64::INFINITY);
    assert_eq!(eps.as_slice()[2], f64::INFINITY);
    // Without the overflowing entry: finite bounds, sound for spec inputs up to 0.1 away.
    let x: TList<f32, G> = tlist![Tensor::new([80.0, 88.7, -104.0])];
    let eps_in = EList::<G>::uniform(0.2);
    let (vals, eps) = g.eval_certified(eps_in, x);
    assert!(
        eps.as_slice()[1].is_finite() && eps.as_slice()[2].is_finite(),
        "{eps:?}"
    );
    for xs in [
        [80.1, 88.8, -103.9],
        [79.9, 88.6, -104.1],
        [80.0, 88.7, -104.0],
    ] {
        let spec = g.eval_spec(tlist![Tensor::new(xs)]);
        assert!(f64::from(f32::MAX) < (88.8_f64).exp());
        let d = ctx_distances(&spec, &vals);
        for (j, (d, e)) in d.iter().zip(eps.as_slice()).enumerate() {
            assert!(d.unwrap() <= *e, "slot {j}: {d:?} > {e}");
        }
    }
    // Underflow: exp(−104) is below the smallest f32 subnormal, rounded to 0 or 2⁻¹⁴⁹.
    let (vals, eps) = g.eval_certified(EList::zero(), tlist![Tensor::new([-104.0, -110.0, 0.0])]);
    let spec = g.eval_spec(tlist![Tensor::new([-104.0, -110.0, 0.0])]);
    assert!(approx_ctx(&spec, &vals, &eps), "{eps:?}");
}

/// A NaN in one input entry: the nodes reading it (transitively) get `+∞`, the others keep a
/// finite bound; a bounded op of an infinite input (`tanh(∞) = 1`) gets a finite bound, which
/// is sound for any spec.
#[test]
fn nan_and_infinity_in_a_small_graph() {
    type G = HList![Vector<2>, Vector<2>];
    type C1 = HList![Vector<2>, Vector<2>, Vector<2>];
    type C2 = HList![Vector<2>, Vector<2>, Vector<2>, Vector<2>];
    let g = RevGraph::<f32, f64, G, HNil>::nil()
        .snoc(ops::mul(Idx::<G, _>::at::<0>(), Idx::at::<0>()))
        .snoc(ops::tanh(Idx::<C1, _>::at::<1>()))
        .snoc(ops::sum(Idx::<C2, _>::at::<2>()));
    let x: TList<f32, G> = tlist![
        Tensor::new([f32::NAN, 1.0]),
        Tensor::new([f32::INFINITY, 0.5])
    ];
    let (vals, eps) = g.eval_certified(EList::uniform(1e-3), x.clone());
    let e = eps.as_slice();
    assert_eq!(e[2], f64::INFINITY, "NaN² is NaN");
    assert!(e[3].is_finite() && e[3] <= 2.0, "tanh is bounded: {e:?}");
    assert_eq!(e[4], f64::INFINITY, "Σ NaN");
    assert_eq!(vals.slot_slices().nth(3).unwrap()[0], 1.0);
    // The gradient of the NaN slot is NaN, with bound +∞; with a NaN seed on an input slot
    // that no node reads, also +∞ (for both add bounds).
    let mut seed = TList::<f32, Cat<G, HList![Vector<2>, Vector<2>, Scalar]>>::zero();
    seed = seed.map(|_| 1.0);
    let (grad, eb) =
        g.backprop_certified(EList::uniform(1e-3), x.clone(), EList::zero(), seed.clone());
    assert!(grad.slot_slices().next().unwrap()[0].is_nan());
    assert_eq!(eb.as_slice()[0], f64::INFINITY);
    type H = HList![Vector<2>, Vector<2>];
    let g2 = RevGraph::<f32, f64, H, HNil>::nil().snoc(ops::neg(Idx::<H, _>::at::<0>()));
    type H3 = HList![Vector<2>, Vector<2>, Vector<2>];
    let seed2: TList<f32, H3> = tlist![
        Tensor::new([1.0, 1.0]),
        Tensor::new([f32::NAN, -0.0]),
        Tensor::new([0.0, 0.0])
    ];
    let x2: TList<f32, H> = tlist![Tensor::new([1.0, 2.0]), Tensor::new([3.0, 4.0])];
    for lean in [false, true] {
        let (grad, eb) = if lean {
            g2.backprop_certified_with(
                EList::zero(),
                x2.clone(),
                EList::zero(),
                seed2.clone(),
                &LeanCtxAddBound,
            )
        } else {
            g2.backprop_certified(EList::zero(), x2.clone(), EList::zero(), seed2.clone())
        };
        // Slot 1 is read by no node: its NaN seed only receives the dense zero addition.
        assert!(grad.slot_slices().nth(1).unwrap()[0].is_nan());
        assert_eq!(eb.as_slice()[1], f64::INFINITY, "lean: {lean}");
        // Slot 0: 1 ⊕ (−0) = 1 exactly; only Lean's bound charges a rounding.
        let want = if lean { 2f64.powi(-24) } else { 0.0 };
        assert_eq!(eb.as_slice()[0], want, "lean: {lean}");
    }
}

/// An input slot holding a NaN or ±∞ gets the bound `+∞` from `eval_certified`,
/// `eval_bounds` and `eval_bounds_literal` (of the `RevGraph` and of its `FwdGraph`), even
/// where the caller's bound for it was 0 (they used to hand the caller's bound back); a finite
/// input slot keeps the caller's bound bit for bit. With nodes and without (the base case of
/// Lean's recursion, `evalBounds nil`).
#[test]
fn non_finite_inputs_get_infinite_bounds_whatever_the_callers_bound() {
    type G = HList![Vector<2>, Vector<2>, Vector<2>, Scalar];
    let x: TList<f32, G> = tlist![
        Tensor::new([f32::NAN, 1.0]),
        Tensor::new([2.0, f32::NEG_INFINITY]),
        Tensor::new([0.5, -0.25]),
        Tensor::new(f32::INFINITY)
    ];
    let nil = RevGraph::<f32, f64, G, HNil>::nil();
    // One node reading only the finite slot 2: its output is finite, and so is its bound.
    let g = RevGraph::<f32, f64, G, HNil>::nil()
        .snoc(ops::mul(Idx::<G, Vector<2>>::at::<2>(), Idx::at::<2>()));
    for given in [vec![0.0, 0.0, 0.0, 0.0], vec![0.25, 0.5, 0.125, 1e-300]] {
        let eps_in = EList::<G>::try_from_vec(given.clone()).unwrap();
        let want = [f64::INFINITY, f64::INFINITY, given[2], f64::INFINITY];
        let check = |what: &str, e: &[f64]| {
            let got: Vec<u64> = e[..4].iter().map(|v| v.to_bits()).collect();
            let want: Vec<u64> = want.iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, want, "{what}: {e:?} for eps_in {given:?}");
        };
        check(
            "nil eval_bounds",
            nil.eval_bounds(eps_in.clone(), x.clone()).as_slice(),
        );
        check(
            "nil eval_bounds_literal",
            nil.eval_bounds_literal(eps_in.clone(), x.clone())
                .as_slice(),
        );
        check(
            "nil eval_certified",
            nil.eval_certified(eps_in.clone(), x.clone()).1.as_slice(),
        );
        check(
            "nil FwdGraph eval_bounds",
            FwdGraph::<f32, f64, G, HNil>::nil()
                .eval_bounds(eps_in.clone(), x.clone())
                .as_slice(),
        );
        let e = g.eval_bounds(eps_in.clone(), x.clone());
        check("eval_bounds", e.as_slice());
        assert!(e.as_slice()[4].is_finite(), "{e:?}");
        assert_eq!(g.eval_bounds_literal(eps_in.clone(), x.clone()), e);
        assert_eq!(g.eval_certified(eps_in.clone(), x.clone()).1, e);
        assert_eq!(g.to_fwd_graph().eval_bounds(eps_in.clone(), x.clone()), e);
        assert_eq!(
            g.to_fwd_graph()
                .eval_bounds_literal(eps_in.clone(), x.clone()),
            e
        );
    }
}

/// A graph without nodes: `backprop_bounds` is the seed bound (Lean's `backpropBounds nil =
/// epsSeed`) on finite seed slots, and `+∞` on a seed slot holding a NaN or ±∞, even where the
/// caller's seed bound was 0; for both add bounds, linear and literal.
#[test]
fn a_graph_without_nodes_gives_infinite_bounds_to_non_finite_seeds() {
    type G = HList![Vector<2>, Scalar, Vector<2>, Scalar];
    let g = RevGraph::<f32, f64, G, HNil>::nil();
    let x: TList<f32, G> = tlist![
        Tensor::new([1.0, 2.0]),
        Tensor::new(3.0),
        Tensor::new([-0.5, 0.0]),
        Tensor::new(4.0)
    ];
    let seed: TList<f32, G> = tlist![
        Tensor::new([f32::NAN, 0.5]),
        Tensor::new(-1.0),
        Tensor::new([0.25, f32::INFINITY]),
        Tensor::new(f32::NEG_INFINITY)
    ];
    for given in [vec![0.0, 0.0, 0.0, 0.0], vec![0.0, 0.125, 0.5, 2.0]] {
        let eps_seed = EList::<G>::try_from_vec(given.clone()).unwrap();
        let want: Vec<u64> = [f64::INFINITY, given[1], f64::INFINITY, f64::INFINITY]
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let check = |what: &str, e: &EList<G>| {
            assert_eq!(bound_bits(e), want, "{what}: {e:?} for eps_seed {given:?}");
        };
        for eps_in in [EList::<G>::zero(), EList::uniform(0.25)] {
            check(
                "backprop_bounds",
                &g.backprop_bounds(eps_in.clone(), x.clone(), eps_seed.clone(), seed.clone()),
            );
            let (grad, e) =
                g.backprop_certified(eps_in.clone(), x.clone(), eps_seed.clone(), seed.clone());
            check("backprop_certified", &e);
            assert_eq!(
                bits_of(&grad),
                bits_of(&seed),
                "no node: the gradient is the seed"
            );
            let (_, e) = g.backprop_certified_with(
                eps_in.clone(),
                x.clone(),
                eps_seed.clone(),
                seed.clone(),
                &LeanCtxAddBound,
            );
            check("backprop_certified_with (LeanCtxAddBound)", &e);
            check(
                "backprop_bounds_literal (CtxAddBound)",
                &g.backprop_bounds_literal(
                    eps_in.clone(),
                    x.clone(),
                    eps_seed.clone(),
                    seed.clone(),
                    &CtxAddBound,
                ),
            );
            check(
                "backprop_bounds_literal (LeanCtxAddBound)",
                &g.backprop_bounds_literal(
                    eps_in,
                    x.clone(),
                    eps_seed.clone(),
                    seed.clone(),
                    &LeanCtxAddBound,
                ),
            );
        }
    }
}

// ================================================================ builders = snoc

/// The inputs of the builder tests: `w : 2×3`, `x : 3`.
type BuildG = HList![Matrix<2, 3>, Vector<3>];
/// Their nodes: `y = w x`, `tanh y`.
type BuildSs = HList![Vector<2>, Vector<2>];

/// `tanh(w x)` with the builder (handles, no positions).
fn rev_by_builder() -> RevGraph<f32, f64, BuildG, BuildSs> {
    RevGraph::<f32, f64, BuildG, _>::build(|b| {
        let hlist_pat![w, x] = b.inputs();
        let (b, y) = b.push(|c| ops::matvec(c.idx(w), c.idx(x)));
        let (b, _) = b.push(|c| ops::tanh(c.idx(y)));
        b
    })
}

/// `tanh(w x)` by `snoc`, with positional indices.
fn rev_by_snoc() -> RevGraph<f32, f64, BuildG, BuildSs> {
    RevGraph::<f32, f64, BuildG, HNil>::nil()
        .snoc(ops::matvec(
            Idx::<BuildG, Matrix<2, 3>>::at::<0>(),
            Idx::at::<1>(),
        ))
        .snoc(ops::tanh(
            Idx::<Snoc<BuildG, Vector<2>>, Vector<2>>::at::<2>(),
        ))
}

fn fwd_by_builder() -> FwdGraph<f32, f64, BuildG, BuildSs> {
    FwdGraph::<f32, f64, BuildG, _>::build(|b| {
        let hlist_pat![w, x] = b.inputs();
        let (b, y) = b.push(|c| ops::matvec(c.idx(w), c.idx(x)));
        let (b, _) = b.push(|c| ops::tanh(c.idx(y)));
        b
    })
}

fn fwd_by_snoc() -> FwdGraph<f32, f64, BuildG, BuildSs> {
    FwdGraph::<f32, f64, BuildG, HNil>::nil()
        .snoc(ops::matvec(
            Idx::<BuildG, Matrix<2, 3>>::at::<0>(),
            Idx::at::<1>(),
        ))
        .snoc(ops::tanh(
            Idx::<Snoc<BuildG, Vector<2>>, Vector<2>>::at::<2>(),
        ))
}

/// A value that is the same for every runtime scalar the builder tests draw: moderate values,
/// `±0`, and now and then a NaN or ±∞.
fn build_input() -> impl Strategy<Value = f64> {
    prop_oneof![9 => input_f64(), 1 => wild_f64()]
}

proptest! {
    /// `RevGraph::build` gives the graph `snoc` gives: the same node names and, bit for bit,
    /// the same runtime and spec values, forward bounds, gradients and gradient bounds (both
    /// add bounds).
    #[test]
    fn rev_graph_builder_equals_snoc(
        x in tlist_of::<f32, BuildG>(rt(build_input())),
        eps_in in elist_of::<BuildG>(),
        seed in tlist_of::<f32, Cat<BuildG, BuildSs>>(rt(build_input())),
        eps_seed in elist_of::<Cat<BuildG, BuildSs>>(),
    ) {
        let (b, s) = (rev_by_builder(), rev_by_snoc());
        prop_assert_eq!(b.len(), 2);
        prop_assert_eq!(
            b.node_names().collect::<Vec<_>>(),
            s.node_names().collect::<Vec<_>>()
        );
        prop_assert_eq!(bits_of(&b.eval_runtime(x.clone())), bits_of(&s.eval_runtime(x.clone())));
        let xs = x.map(|v| v.to_f64_exact());
        prop_assert_eq!(bits_of(&b.eval_spec(xs.clone())), bits_of(&s.eval_spec(xs)));
        prop_assert_eq!(
            &b.eval_bounds(eps_in.clone(), x.clone()),
            &s.eval_bounds(eps_in.clone(), x.clone())
        );
        prop_assert_eq!(
            &b.backprop_bounds(eps_in.clone(), x.clone(), eps_seed.clone(), seed.clone()),
            &s.backprop_bounds(eps_in.clone(), x.clone(), eps_seed.clone(), seed.clone())
        );
        let (gb, eb) = b.backprop_certified_with(
            eps_in.clone(), x.clone(), eps_seed.clone(), seed.clone(), &LeanCtxAddBound,
        );
        let (gs, es) = s.backprop_certified_with(eps_in, x, eps_seed, seed, &LeanCtxAddBound);
        prop_assert_eq!(bits_of(&gb), bits_of(&gs));
        prop_assert_eq!(&eb, &es);
    }

    /// `FwdGraph::build` gives the graph `snoc` gives (and `RevGraph::to_fwd_graph`): the same
    /// node names, runtime and spec values and forward bounds, bit for bit.
    #[test]
    fn fwd_graph_builder_equals_snoc(
        x in tlist_of::<f32, BuildG>(rt(build_input())),
        eps_in in elist_of::<BuildG>(),
    ) {
        let (b, s, r) = (fwd_by_builder(), fwd_by_snoc(), rev_by_snoc().to_fwd_graph());
        prop_assert_eq!(b.len(), 2);
        for other in [&s, &r] {
            prop_assert_eq!(
                b.node_names().collect::<Vec<_>>(),
                other.node_names().collect::<Vec<_>>()
            );
            prop_assert_eq!(
                bits_of(&b.eval_runtime(x.clone())),
                bits_of(&other.eval_runtime(x.clone()))
            );
            let xs = x.map(|v| v.to_f64_exact());
            prop_assert_eq!(bits_of(&b.eval_spec(xs.clone())), bits_of(&other.eval_spec(xs)));
            prop_assert_eq!(
                &b.eval_bounds(eps_in.clone(), x.clone()),
                &other.eval_bounds(eps_in.clone(), x.clone())
            );
            prop_assert_eq!(
                &b.eval_bounds_literal(eps_in.clone(), x.clone()),
                &other.eval_bounds_literal(eps_in.clone(), x.clone())
            );
        }
    }
}

// ================================================================ 5. the generator covers every op

/// Over many random choices the templates build every op of `ops` they draw from, and alias
/// operands.
#[test]
fn templates_cover_every_op() {
    use std::collections::BTreeSet;
    let mut rng = shapetape::rng::SplitMix64::new(7);
    let mut seen = BTreeSet::new();
    let mut aliased = 0;
    let draw = |n: usize, rng: &mut shapetape::rng::SplitMix64| -> Vec<Choice> {
        (0..n)
            .map(|_| Choice {
                op: rng.next_u64() as usize,
                operands: [
                    rng.next_u64() as usize,
                    rng.next_u64() as usize,
                    rng.next_u64() as usize,
                ],
                alias: rng.next_u64() % 4 == 0,
                konst: (rng.next_u64() % 17) as i64 - 8,
            })
            .collect()
    };
    for _ in 0..400 {
        let ch = draw(MIXED_NODES, &mut rng);
        let b = mixed::<f32, f64>(&ch, LIBRARY);
        seen.extend(names(&b));
        aliased += b
            .reads
            .iter()
            .filter(|r| r.len() > 1 && r[0] == r[1])
            .count();
        let ch = draw(UNIFORM_NODES, &mut rng);
        let b = uniform::<f32, Rational>(&ch, EXACT);
        aliased += b
            .reads
            .iter()
            .filter(|r| r.len() > 1 && r[0] == r[1])
            .count();
    }
    let all = [
        "add",
        "sub",
        "mul",
        "neg",
        "scale",
        "relu",
        "exp",
        "tanh",
        "sigmoid",
        "softplus",
        "safe_log",
        "softmax",
        "log_softmax",
        "matvec",
        "linear",
        "matmul",
        "transpose",
        "linear_batch",
        "sum",
        "mean",
        "mse",
        "cross_entropy",
    ];
    for op in all {
        assert!(seen.contains(op), "{op} never drawn; seen {seen:?}");
    }
    assert!(aliased > 100, "{aliased}");
    // The blocked template starts with a 16×16 product.
    let mut first = BTreeSet::new();
    for _ in 0..20 {
        let mut ch = draw(BLOCKED_NODES, &mut rng);
        let kind = if rng.next_u64() % 2 == 0 {
            Kind::Matmul
        } else {
            Kind::LinearBatch
        };
        ch[0].op = op_index::<M16>(LIBRARY, true, kind);
        let b = blocked::<f32, f64>(&ch, LIBRARY);
        first.insert(names(&b)[0].clone());
    }
    assert_eq!(
        first.into_iter().collect::<Vec<_>>(),
        ["linear_batch", "matmul"]
    );
}

// ================================================================ 6. units: approx_t, approx_ctx

#[test]
fn approx_t_semantics() {
    type S = Vector<2>;
    let spec = Tensor::<Rational, S>::new([Rational::new(1.into(), 3.into()), Rational::zero()]);
    let third = 1.0_f32 / 3.0;
    let rt = Tensor::<f32, S>::new([third, -0.0]);
    let d = (Rational::new(1.into(), 3.into()) - q(f64::from(third))).abs();
    let d_up = up_f64(&d);
    // ≤, not <: the exact distance (rounded up) is enough, one f64 less is not.
    assert!(approx_t(&spec, &rt, d_up));
    assert!(!approx_t(&spec, &rt, d_up.next_down()));
    assert!(approx_t(&spec, &rt, f64::INFINITY));
    // Negative and NaN bounds hold for nothing, not even for equal tensors.
    let exact = Tensor::<f32, S>::new([0.5, 0.0]);
    let exact_s = exact.map(|&v| ToSpec::<Rational>::to_spec(&v).unwrap());
    assert!(approx_t(&exact_s, &exact, 0.0));
    assert!(!approx_t(&exact_s, &exact, -1e-300));
    assert!(!approx_t(&exact_s, &exact, f64::NAN));
    // A NaN or ∞ runtime entry: only the bound +∞ holds.
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let rt = Tensor::<f32, S>::new([0.5, bad]);
        assert!(!approx_t(&exact_s, &rt, 1e300));
        assert!(approx_t(&exact_s, &rt, f64::INFINITY));
    }
    // The f64 spec: the same predicate.
    let spec64 = Tensor::<f64, S>::new([0.1, -2.0]);
    let rt64 = Tensor::<f32, S>::new([0.1, -2.0]);
    let d = (0.1_f64 - f64::from(0.1_f32)).abs();
    assert!(approx_t(&spec64, &rt64, d));
    assert!(!approx_t(&spec64, &rt64, d.next_down()));
    // The empty tensor: distance 0.
    let e_s = Tensor::<Rational, Vector<0>>::new([]);
    let e_r = Tensor::<f32, Vector<0>>::new([]);
    assert!(approx_t(&e_s, &e_r, 0.0));
    assert!(!approx_t(&e_s, &e_r, -1.0));
}

#[test]
fn approx_ctx_semantics() {
    type G = HList![Scalar, Vector<2>];
    let spec: TList<f64, G> = tlist![Tensor::new(1.0), Tensor::new([2.0, 3.0])];
    let rt: TList<f32, G> = tlist![Tensor::new(1.5), Tensor::new([2.0, 2.75])];
    let ok = EList::<G>::try_from_vec(vec![0.5, 0.25]).unwrap();
    assert!(approx_ctx(&spec, &rt, &ok));
    let tight = EList::<G>::try_from_vec(vec![0.5, 0.24]).unwrap();
    assert!(!approx_ctx(&spec, &rt, &tight));
    let tight = EList::<G>::try_from_vec(vec![0.49, 0.25]).unwrap();
    assert!(!approx_ctx(&spec, &rt, &tight));
    assert_eq!(ctx_distances(&spec, &rt), vec![Some(0.5), Some(0.25)]);
    // The empty context: True.
    let e: TList<f64, HNil> = TList::new();
    let r: TList<f32, HNil> = TList::new();
    assert!(approx_ctx(&e, &r, &EList::new()));
}

// ================================================================ 6. units: EList

#[test]
fn elist_constructors() {
    type G = HList![Scalar, Vector<2>, Scalar];
    assert_eq!(EList::<G>::zero().as_slice(), &[0.0, 0.0, 0.0]);
    assert_eq!(
        EList::<G>::uniform(f64::NAN).as_slice(),
        &[f64::INFINITY; 3]
    );
    let e = EList::<G>::try_from_vec(vec![0.0, f64::NAN, f64::INFINITY]).unwrap();
    assert_eq!(e.as_slice(), &[0.0, f64::INFINITY, f64::INFINITY]);
    assert_eq!(
        EList::<G>::try_from_vec(vec![0.0, -1e-300, 1.0]),
        Err(EListError::Negative(NegativeBound(-1e-300)))
    );
    assert_eq!(
        EList::<G>::try_from_vec(vec![f64::NEG_INFINITY, 0.0, 1.0]),
        Err(EListError::Negative(NegativeBound(f64::NEG_INFINITY)))
    );
    assert_eq!(
        EList::<G>::try_from_vec(vec![0.0; 2]),
        Err(EListError::Length {
            expected: 3,
            actual: 2
        })
    );
    assert!(
        EListError::Negative(NegativeBound(-2.0))
            .to_string()
            .contains("-2")
    );
    // snoc / unsnoc / get / len.
    let e = EList::<HList![Scalar]>::uniform(0.5).snoc::<Vector<2>>(f64::NAN);
    assert_eq!(e.as_slice(), &[0.5, f64::INFINITY]);
    assert_eq!(e.len(), 2);
    assert_eq!(
        e.get(Idx::<HList![Scalar, Vector<2>], Vector<2>>::at::<1>()),
        f64::INFINITY
    );
    let (init, last) = e.unsnoc();
    assert_eq!((init.as_slice(), last), (&[0.5][..], f64::INFINITY));
    // add rounds upward: 0.1 + 0.2 is above the nearest double of the exact sum.
    let a = EList::<HList![Scalar]>::uniform(0.1);
    let b = EList::<HList![Scalar]>::uniform(0.2);
    let s = a.add(&b).as_slice()[0];
    assert!(q(s) >= q(0.1) + q(0.2));
    // `==` compares bits.
    let pz = EList::<HList![Scalar]>::try_from_vec(vec![0.0]).unwrap();
    let nz = EList::<HList![Scalar]>::try_from_vec(vec![-0.0]).unwrap();
    assert_ne!(pz, nz);
}

#[test]
#[should_panic(expected = "nonnegative")]
fn elist_uniform_rejects_a_negative_bound() {
    let _ = EList::<HList![Scalar]>::uniform(-1.0);
}

#[test]
#[should_panic(expected = "nonnegative")]
fn elist_snoc_rejects_a_negative_bound() {
    let _ = EList::<HList![Scalar]>::zero().snoc::<Scalar>(-0.5);
}

// ================================================================ 6. units: rounding helpers

/// Finite `f64`s of every exponent: proptest's float generator (normal, subnormal, zero,
/// both signs), small integers, and subnormals and values near `f64::MAX` explicitly.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>().prop_filter("finite", |v| v.is_finite()),
        2 => (-8_i32..=8).prop_map(f64::from),
        2 => (1_u64..(1 << 52), any::<bool>()).prop_map(|(b, neg)| signed(f64::from_bits(b), neg)),
        1 => (1_u64..1000, any::<bool>()).prop_map(|(b, neg)| signed(f64::from_bits(b), neg)),
        1 => (0.5_f64..1.0, any::<bool>()).prop_map(|(m, neg)| signed(m * f64::MAX, neg)),
        2 => -1.0_f64..1.0,
    ]
}

proptest! {
    /// `add_up`, `mul_up`, `div_up`, `sum_up`, `sqrt_up` are never below the exact result, and
    /// exact results are returned unchanged.
    #[test]
    fn upward_helpers_are_never_below_the_exact_result(a in any_f64(), b in any_f64(), c in any_f64()) {
        let (qa, qb) = (q(a), q(b));
        let s = round::add_up(a, b);
        prop_assert!(s == f64::INFINITY || (s.is_finite() && q(s) >= qa.clone() + qb.clone()), "add_up({a:e}, {b:e}) = {s:e}");
        if (a + b).is_finite() && q(a + b) == qa.clone() + qb.clone() {
            prop_assert_eq!(s, a + b);
        }
        let p = round::mul_up(a, b);
        prop_assert!(p == f64::INFINITY || (p.is_finite() && q(p) >= qa.clone() * qb.clone()), "mul_up({a:e}, {b:e}) = {p:e}");
        if b != 0.0 {
            let (n, d) = (a, b.abs());
            let r = round::div_up(n, d);
            prop_assert!(r == f64::INFINITY || (r.is_finite() && q(r) * q(d) >= q(n)), "div_up({n:e}, {d:e}) = {r:e}");
        }
        let t = round::sum_up([a, b, c]);
        prop_assert!(t == f64::INFINITY || q(t) >= qa.clone() + qb.clone() + q(c), "sum_up = {t:e}");
        let r = round::sqrt_up(a.abs());
        prop_assert!(q(r) * q(r) >= q(a.abs()));
        let r = round::sqrt_down(a.abs());
        prop_assert!(q(r) * q(r) <= q(a.abs()));
        prop_assert!(round::norm_max([a.abs(), b.abs(), f64::NAN]) == f64::INFINITY);
    }

    /// `half_ulp::<F>(z)` bounds the error of rounding any real `z` to `F` (tested on `f64`
    /// reals for `F = f32`, and on exact midpoints of f64 neighbours for `F = f64`).
    #[test]
    fn half_ulp_bounds_the_rounding_error(x in any_f64()) {
        let r = x as f32;
        if r.is_finite() {
            prop_assert!((q(f64::from(r)) - q(x)).abs() <= q(round::half_ulp::<f32>(x)), "{x:e}");
        } else {
            prop_assert_eq!(round::half_ulp::<f32>(x), f64::INFINITY);
        }
        let m = (q(x) + q(x.next_up())) / Rational::from_i64(2);
        if x.next_up().is_finite() {
            let err = (q(x) - m.clone()).abs();
            prop_assert!(err <= q(round::half_ulp::<f64>(x.next_up())));
        }
    }
}

// ================================================================ 6. units: intervals

fn interval_and_point() -> impl Strategy<Value = (Interval, Rational)> {
    (any_f64(), any_f64(), 0_i64..=16).prop_map(|(a, b, t)| {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let p = q(lo) + (q(hi) - q(lo)) * Rational::new(t.into(), 16.into());
        (Interval::new(lo, hi), p)
    })
}

fn contains(i: Interval, p: &Rational) -> bool {
    (i.lo() == f64::NEG_INFINITY || q(i.lo()) <= *p) && (i.hi() == f64::INFINITY || q(i.hi()) >= *p)
}

proptest! {
    /// Inclusion: for points `p ∈ I`, `r ∈ J` the exact `p ∘ r` lies in `I ∘ J`.
    #[test]
    fn interval_arithmetic_encloses_exact_results(
        (i, p) in interval_and_point(),
        (j, r) in interval_and_point(),
        e in eps_value(),
        x in any_f64(),
    ) {
        prop_assert!(contains(i + j, &(p.clone() + r.clone())), "{i} + {j}");
        prop_assert!(contains(i - j, &(p.clone() - r.clone())), "{i} − {j}");
        prop_assert!(contains(i * j, &(p.clone() * r.clone())), "{i} · {j}");
        if r != Rational::zero() {
            prop_assert!(contains(i / j, &(p.clone() / r.clone())), "{i} / {j}");
        }
        prop_assert!(contains(-i, &(-p.clone())));
        prop_assert!(contains(Element::abs(&i), &Element::abs(&p)));
        let m = if p > r { p.clone() } else { r.clone() };
        prop_assert!(contains(i.elem_max(&j), &m));
        let h = if p > Rational::zero() { Rational::from_i64(1) } else { Rational::zero() };
        prop_assert!(contains(i.heaviside(), &h));
        // The box [x − e, x + e] contains every point within e of x, and the distance from x
        // to any point of the box is at most max_distance_from(x).
        let bx = Interval::around(x, e);
        if e.is_finite() {
            for t in [-1_i64, 0, 1] {
                let y = q(x) + q(e) * Rational::from_i64(t);
                prop_assert!(contains(bx, &y), "{bx} ∌ {x:e} + {t}·{e:e}");
            }
            let dmax = bx.max_distance_from(x);
            prop_assert!(dmax == f64::INFINITY || q(dmax) >= q(e));
        } else {
            prop_assert_eq!(bx, Interval::ENTIRE);
        }
        let d = i.max_distance_from(x);
        prop_assert!(d == f64::INFINITY || q(d) >= (p.clone() - q(x)).abs());
    }
}

// ================================================================ 6. units: add bounds

/// One scalar spec/runtime pair from an entry, and the exact distance rounded up.
fn scalar_pair<R: Ulps>(e: &Entry) -> (Rational, R, f64) {
    let raw = RawCtx {
        pool: vec![e.base.clone(); 3],
        entries: vec![e.clone()],
        modes: vec![EpsMode::Exact],
    };
    let p: Pairs<Rational, R, HList![Scalar]> = realize(&raw);
    let s = p.spec.slot_slices().next().unwrap()[0].clone();
    let r = p.rt.slot_slices().next().unwrap()[0];
    (s, r, p.eps.as_slice()[0])
}

fn add_bound_sound<R: Ulps>(xs: &[Entry], ys: &[Entry], extra: f64) -> Law {
    let (mut xs_s, mut xr, mut ex) = (vec![], vec![], 0.0_f64);
    let (mut ys_s, mut yr, mut ey) = (vec![], vec![], 0.0_f64);
    for (a, b) in xs.iter().zip(ys) {
        let (s, r, e) = scalar_pair::<R>(a);
        xs_s.push(s);
        xr.push(r);
        ex = ex.max(e);
        let (s, r, e) = scalar_pair::<R>(b);
        ys_s.push(s);
        yr.push(r);
        ey = ey.max(e);
    }
    let ex = round::add_up(ex, extra);
    let ctx = CtxAddBound.add(ex, ey, &xr, &yr);
    let lean = LeanCtxAddBound.add(ex, ey, &xr, &yr);
    prop_assert!(
        ctx <= lean,
        "CtxAddBound {ctx:e} > LeanCtxAddBound {lean:e}"
    );
    for (bound, name) in [(ctx, "CtxAddBound"), (lean, "LeanCtxAddBound")] {
        if bound == f64::INFINITY {
            continue;
        }
        for i in 0..xr.len() {
            let sum = xr[i] + yr[i];
            prop_assert!(
                sum.to_f64_exact().is_finite(),
                "{name}: finite bound {bound:e} for {sum:?}"
            );
            let err = (xs_s[i].clone() + ys_s[i].clone() - q(sum.to_f64_exact())).abs();
            prop_assert!(
                err <= q(bound),
                "{name}: |(xS + yS) − (x ⊕ y)| = {:e} > {bound:e} for x = {:e}, y = {:e}",
                Element::to_f64(&err),
                xr[i].to_f64_exact(),
                yr[i].to_f64_exact()
            );
        }
    }
    // `add_zeros` (the dense zero additions, in one call) equals replaying `add`.
    for times in [0_usize, 1, 2, 5] {
        for (bound, name) in [
            (&CtxAddBound as &dyn AddBound<R>, "CtxAddBound"),
            (&LeanCtxAddBound as &dyn AddBound<R>, "LeanCtxAddBound"),
        ] {
            let zeros = vec![R::from_f64(0.0); xr.len()];
            let mut e = ex;
            let mut cur = xr.clone();
            for _ in 0..times {
                e = bound.add(e, 0.0, &cur, &zeros);
                cur = cur.iter().map(|&v| v + R::from_f64(0.0)).collect();
            }
            let fast = match name {
                "CtxAddBound" => CtxAddBound.add_zeros(ex, &xr, times),
                _ => LeanCtxAddBound.add_zeros(ex, &xr, times),
            };
            prop_assert_eq!(
                fast.to_bits(),
                e.to_bits(),
                "{} add_zeros × {}",
                name,
                times
            );
        }
    }
    Ok(())
}

proptest! {
    /// Lean's `addSound` for both add bounds, exactly: if `|xS − x| ≤ ex` and `|yS − y| ≤ ey`
    /// entrywise, then `|(xS + yS) − (x ⊕ y)| ≤ add(ex, ey, x, y)`; on 1- and 3-entry slots,
    /// f32 and f64, with adversarial magnitudes and cancellation.
    #[test]
    fn add_bounds_are_sound_f32(
        xs in proptest::collection::vec(entry(Range::F32), 1..=3),
        ys in proptest::collection::vec(entry(Range::F32), 3),
        extra in eps_value(),
    ) {
        add_bound_sound::<f32>(&xs, &ys, extra)?;
    }

    #[test]
    fn add_bounds_are_sound_f64(
        xs in proptest::collection::vec(entry(Range::F64), 1..=3),
        ys in proptest::collection::vec(entry(Range::F64), 3),
        extra in eps_value(),
    ) {
        add_bound_sound::<f64>(&xs, &ys, extra)?;
    }

    /// Non-finite entries: the sum is NaN or ±∞, and both add bounds are `+∞`.
    #[test]
    fn add_bounds_of_non_finite_entries_are_infinite(
        x in rt::<f32>(wild_f64()),
        y in rt::<f32>(wild_f64()),
        ex in eps_value(),
        ey in eps_value(),
    ) {
        if !(x + y).is_finite() {
            prop_assert_eq!(CtxAddBound.add(ex, ey, &[x], &[y]), f64::INFINITY);
            prop_assert_eq!(LeanCtxAddBound.add(ex, ey, &[x], &[y]), f64::INFINITY);
            for times in [1, 3] {
                if !x.is_finite() {
                    prop_assert_eq!(CtxAddBound.add_zeros(ex, &[x], times), f64::INFINITY);
                    prop_assert_eq!(LeanCtxAddBound.add_zeros(ex, &[x], times), f64::INFINITY);
                }
            }
        }
    }
}

/// The exact-zero refinement of `CtxAddBound` on fixed values: adding an exact zero costs
/// nothing, a rounding addition costs half an ulp, Lean's bound always charges it.
#[test]
fn ctx_add_bound_examples() {
    let one = [1.0_f32];
    let zero = [0.0_f32];
    assert_eq!(CtxAddBound.add(0.25, 0.5, &one, &zero), 0.75);
    assert_eq!(CtxAddBound.add(0.0, 0.0, &[-0.0_f32], &zero), 0.0);
    assert_eq!(LeanCtxAddBound.add(0.0, 0.0, &one, &zero), 2f64.powi(-24));
    assert_eq!(LeanCtxAddBound.add(0.0, 0.0, &zero, &zero), 2f64.powi(-150));
    // 1 + 2⁻³⁰ rounds: half an ulp of 1 is charged.
    let tiny = [2f32.powi(-30)];
    assert_eq!(CtxAddBound.add(0.0, 0.0, &one, &tiny), 2f64.powi(-24));
    assert_eq!(CtxAddBound.add(0.0, 0.0, &[] as &[f32], &[]), 0.0);
    // Overflow: ∞ bound.
    assert_eq!(
        CtxAddBound.add(0.0, 0.0, &[f32::MAX], &[f32::MAX]),
        f64::INFINITY
    );
    // add_zeros: free for CtxAddBound (finite values), replayed for Lean's.
    assert_eq!(CtxAddBound.add_zeros(0.5, &one, 1000), 0.5);
    assert!(LeanCtxAddBound.add_zeros(0.5, &one, 1000) > 0.5);
    assert_eq!(CtxAddBound.add_zeros(0.5, &[f32::NAN], 1), f64::INFINITY);
}

/// Aliased operands of the matrix ops whose bounds are not derived by intervals: `linear(W, x,
/// x)` sends `Wᵀδ + δ` to one slot and `linear_batch(W, W, b)` sends `δᵀW + δW`; the bound of
/// that slot must cover both contributions (a spec `W` 0.5 away from the runtime one moves the
/// exact gradient by 1 per entry here).
#[test]
fn aliased_operands_of_matrix_ops_are_bounded() {
    type G = HList![Matrix<2, 2>, Vector<2>];
    type C = HList![Matrix<2, 2>, Vector<2>, Vector<2>];
    type D = HList![Matrix<2, 2>, Vector<2>, Matrix<2, 2>];
    let half = Rational::new(1.into(), 2.into());
    let r = |v: f32| ToSpec::<Rational>::to_spec(&v).unwrap();
    let x: TList<f32, G> = tlist![
        Tensor::new([[1.0, 0.0], [0.0, 1.0]]),
        Tensor::new([2.0, 3.0])
    ];
    // The spec W is the runtime W + 1/2 everywhere; x is exact.
    let xs: TList<Rational, G> = tlist![
        Tensor::new([
            [r(1.0) + half.clone(), half.clone()],
            [half.clone(), r(1.0) + half.clone()]
        ]),
        Tensor::new([r(2.0), r(3.0)])
    ];
    let eps_in = EList::<G>::try_from_vec(vec![0.5, 0.0]).unwrap();
    assert!(approx_ctx(&xs, &x, &eps_in));
    // linear(W, x, x): y = W x + x.
    let g = RevGraph::<f32, Rational, G, HNil>::nil().snoc(ops::linear(
        Idx::<G, Matrix<2, 2>>::at::<0>(),
        Idx::at::<1>(),
        Idx::at::<1>(),
    ));
    let seed: TList<f32, C> = tlist![Tensor::zeros(), Tensor::zeros(), Tensor::new([1.0, 1.0])];
    let seed_s = seed.map(|v| r(*v));
    let eps_seed = EList::<C>::zero();
    let grad_s = g.backprop_spec(xs.clone(), seed_s.clone());
    for lean in [false, true] {
        let (grad, e) = if lean {
            g.backprop_certified_with(
                eps_in.clone(),
                x.clone(),
                eps_seed.clone(),
                seed.clone(),
                &LeanCtxAddBound,
            )
        } else {
            g.backprop_certified(eps_in.clone(), x.clone(), eps_seed.clone(), seed.clone())
        };
        // x̄ = Wᵀδ + δ: runtime [2, 2], spec [3, 3].
        assert_eq!(grad.slot_slices().nth(1).unwrap(), &[2.0, 2.0]);
        assert!(e.as_slice()[1] >= 1.0, "{e:?}");
        assert!(
            approx_ctx(&grad_s, &grad, &e),
            "{:?} vs {e:?}",
            ctx_distances(&grad_s, &grad)
        );
    }
    // linear_batch(W, W, b): Y = W Wᵀ + 1 bᵀ.
    let g = RevGraph::<f32, Rational, G, HNil>::nil().snoc(ops::linear_batch(
        Idx::<G, Matrix<2, 2>>::at::<0>(),
        Idx::at::<0>(),
        Idx::at::<1>(),
    ));
    let seed: TList<f32, D> = tlist![
        Tensor::zeros(),
        Tensor::zeros(),
        Tensor::new([[1.0, 0.0], [0.0, 1.0]])
    ];
    let seed_s = seed.map(|v| r(*v));
    let eps_seed = EList::<D>::zero();
    let grad_s = g.backprop_spec(xs.clone(), seed_s);
    let (grad, e) = g.backprop_certified(eps_in, x, eps_seed, seed);
    assert!(
        approx_ctx(&grad_s, &grad, &e),
        "{:?} vs {e:?}",
        ctx_distances(&grad_s, &grad)
    );
}

/// `RevGraph` with a Rational spec: the doc example, and `eps = 0` with exact runtime values
/// gives bound 0 where the runtime computation is exact.
#[test]
fn exact_runtime_gives_zero_bounds() {
    type G = HList![Vector<2>, Vector<2>];
    let g = RevGraph::<f32, Rational, G, HNil>::nil()
        .snoc(ops::add(Idx::at::<0>(), Idx::at::<1>()))
        .snoc(ops::mul(Idx::at::<2>(), Idx::at::<0>()))
        .snoc(ops::sum(Idx::at::<3>()));
    let x: TList<f32, G> = tlist![Tensor::new([1.0, 2.0]), Tensor::new([0.5, -0.25])];
    let eps = g.eval_bounds(EList::zero(), x.clone());
    assert_eq!(eps.as_slice(), &[0.0; 5]);
    let xs = x.map(|v| ToSpec::<Rational>::to_spec(v).unwrap());
    assert!(approx_ctx(&g.eval_spec(xs), &g.eval_runtime(x), &eps));
    let _: RevNode<f32, Rational, G, Vector<2>> =
        ops::neg(Idx::at::<0>()).into_rev_node::<f32, Rational>();
}

/// `relu`'s closed-form bounds at the sign boundaries, exactly over ℚ: for runtime inputs at
/// and around `±ε` (and 0), every spec input at a corner or the centre of its box and every
/// spec seed at a corner of the seed box stays within the forward and VJP bounds; and the
/// bounds are not loose where the step is certain (`ε` forward, `εδ` or 0 backward).
#[test]
fn relu_closed_form_bounds_hold_at_the_kink() {
    type G = HList![Vector<1>];
    let node: RevNode<f32, Rational, G, Vector<1>> =
        ops::relu(Idx::at::<0>()).into_rev_node::<f32, Rational>();
    let e = 0.25f64;
    let ed = 0.125f64;
    let eps = EList::<G>::uniform(e);
    for &xr in &[-0.75f32, -0.25, -0.125, 0.0, 0.125, 0.25, 0.5, -0.0] {
        let x: TList<f32, G> = tlist![Tensor::new([xr])];
        let fwd_bound = node.fwd().bound(&eps, &x);
        assert_eq!(fwd_bound, e, "forward bound at {xr}");
        let y = node.fwd().forward_runtime(&x).as_slice()[0];
        for &dr in &[-2.0f32, -0.0, 0.5] {
            let seed = Tensor::<f32, Vector<1>>::new([dr]);
            let vb = node.vjp_bound(&eps, &x, ed, &seed).as_slice()[0];
            let c_rt = node.vjp_runtime(&x, &seed);
            let c_rt = c_rt
                .get(Idx::<G, Vector<1>>::at::<0>())
                .map_or(0.0, |t| t.as_slice()[0]);
            for dx in [-e, 0.0, e] {
                let xs: TList<Rational, G> = tlist![Tensor::new([q(f64::from(xr)) + q(dx)])];
                // forward
                let ys = node.fwd().forward_spec(&xs).as_slice()[0].clone();
                let err = (ys - q(f64::from(y))).abs();
                assert!(
                    err <= q(fwd_bound),
                    "forward at {xr}{dx:+}: {err} > {fwd_bound}"
                );
                // backward
                for dd in [-ed, ed] {
                    let ds = Tensor::<Rational, Vector<1>>::new([q(f64::from(dr)) + q(dd)]);
                    let cs = node.vjp_spec(&xs, &ds);
                    let cs = cs
                        .get(Idx::<G, Vector<1>>::at::<0>())
                        .map_or_else(|| q(0.0), |t| t.as_slice()[0].clone());
                    let err = (cs - q(f64::from(c_rt))).abs();
                    assert!(
                        err <= q(vb),
                        "VJP at x̂ = {xr}{dx:+}, δ̂ = {dr}{dd:+}: {err} > {vb}"
                    );
                }
            }
            // Not loose where the sign is certain.
            if f64::from(xr).abs() > e {
                let expected = if xr > 0.0 { ed } else { 0.0 };
                assert_eq!(vb, expected, "VJP bound at {xr}");
            }
        }
    }
    // A non-finite runtime input or seed gives +∞.
    let bad: TList<f32, G> = tlist![Tensor::new([f32::NAN])];
    assert_eq!(node.fwd().bound(&eps, &bad), f64::INFINITY);
    let x: TList<f32, G> = tlist![Tensor::new([1.0])];
    let inf_seed = Tensor::<f32, Vector<1>>::new([f32::INFINITY]);
    assert_eq!(
        node.vjp_bound(&eps, &x, ed, &inf_seed).as_slice()[0],
        f64::INFINITY
    );
}

/// A tie in the top binade: `fl(3·2⁹⁷⁰ − MAX)` rounds down to even while TwoSum's `s − a`
/// overflows, so the error term is NaN. The upward sum and the interval sum must still cover
/// the exact value (found by review: both once returned the rounded-down sum).
#[test]
fn upward_sum_covers_a_tie_whose_error_term_overflows() {
    let (a, b) = (3.0 * 2f64.powi(970), -f64::MAX);
    let exact = q(a) + q(b);
    let up = round::add_up(a, b);
    assert!(q(up) >= exact, "add_up {up:e} below the exact sum");
    for iv in [
        Interval::point(a) + Interval::point(b),
        Interval::point(b) + Interval::point(a),
        Interval::point(a) - Interval::point(f64::MAX),
    ] {
        assert!(contains(iv, &exact), "{iv} misses the exact sum");
    }
    // Through a graph: the enclosure of x + y and its bound.
    type G = HList![Scalar, Scalar];
    let g = FwdGraph::<f64, f64, G, _>::build(|b| {
        let hlist_pat![x, y] = b.inputs();
        b.push(|c| ops::add(c.idx(x), c.idx(y))).0
    });
    let x: TList<f64, G> = tlist![Tensor::new(a), Tensor::new(b)];
    let enc = g.eval_enclosed(EList::zero(), x.clone());
    let rt = enc.runtime().slot_slices().nth(2).unwrap()[0];
    let bound = enc.bounds().as_slice()[2];
    assert!(
        q(bound) >= (q(rt) - exact.clone()).abs(),
        "bound {bound:e} below the error of {rt:e}"
    );
    let (_, eps) = g.eval_certified(EList::zero(), x);
    assert!(q(eps.as_slice()[2]) >= (q(rt) - exact).abs());
}

/// Matrix entries beyond f32's range: the midpoint-radius product must not turn `∞ · 0` in its
/// f32 radius kernel into an unbounded result (found by review; sound either way, now tight).
#[test]
fn interval_product_with_huge_entries_stays_bounded() {
    let a = [Interval::new(1e39, 1e39), Interval::new(1.0, 1.0)];
    let b = [Interval::new(0.0, 0.0), Interval::new(1.0, 1.0)];
    let c = <Interval as Element>::gemm(&a, false, &b, false, 1, 2, 1);
    assert!(
        c[0].contains(1.0) && c[0].hi() - c[0].lo() < 1e-10,
        "{}",
        c[0]
    );
}
