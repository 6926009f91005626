//! Half-precision runtimes (`half::bf16`, `half::f16`) of certified graphs, as property tests.
//!
//! **What is checked.**
//!
//! 1. *The rounding model's parameters* come from one `BinaryFormat` per type and match the
//!    types (largest finite value, subnormal spacing, epsilon; also unit tests in
//!    `src/approx/round.rs`).
//! 2. *The runtime arithmetic is correctly rounded*, which is what the closed-form bounds
//!    (the additions of reverse mode, the bias additions, `relu`) assume: `Real::from_f64`,
//!    `+ − × ÷` and `√` of both formats against the exact rational result rounded to nearest
//!    (ties to even, overflow to `±∞`) by a reference written here: `√` on every input, the
//!    others on random operands (uniform bit patterns, and pairs aimed at bf16's subnormal
//!    range, where `f32` is subnormal too, and at midpoints between half values).
//! 3. *Transcendental functions* (`exp`, `exp_m1`, `ln`, `ln_1p`, `tanh`: the platform's `f32`
//!    function rounded to the half format) are within one ulp of the half format of the exact
//!    value, on every input. No certified bound relies on that: the bounds of these ops are
//!    interval enclosures that measure the distance to the actual runtime value (item 5 runs
//!    them); the property documents the runtime's quality.
//! 4. *`eval_approx` and `backprop_approx`, exactly*: random graphs of polynomial and
//!    piecewise-linear ops (add, sub, mul, div, relu, square, matvec, linear, matmul,
//!    linear_batch, mse) with the exact `Rational` spec, for both formats, both add bounds,
//!    and a fixed graph with inner dimensions 256 (matrix products and the bias gradient of
//!    `linear_batch`, summed over 256 rows in the half format), also on 256 equal terms (where
//!    an accumulation in the half format errs by whole ulps of the result: the test fails if
//!    `Element::gemm` accumulates in the half format, or if the bias gradient is bounded as one
//!    gemm). Tight cases: exact inputs (bound 0) through products, affine layers and additions,
//!    and the add bounds of reverse mode on one addition, so that the bounds are as small as
//!    the rounding model allows (a wrong unit roundoff or a missing final rounding fails).
//!    Values are adversarial: zeros of both signs, non-dyadic rationals, values across the
//!    whole exponent range, subnormals, values within 10 % of the overflow threshold (65504
//!    for f16, ≈ 3.39·10³⁸ for bf16), shared values (cancellation), runtime values a few ulps
//!    off the spec. No slack.
//! 5. *The same with the `f64` spec* and the transcendental ops too (tanh, exp, log, softmax,
//!    cross_entropy), with the slack `SLACK_REL · max(1, M)` (`M` the largest magnitude in the
//!    computation): the `f64` spec itself rounds, by about `2⁻⁵³` per operation, and `10⁻¹²` is
//!    more than `10⁸` times smaller than one rounding of bf16 or f16 (`2⁻⁸`, `2⁻¹¹`), the
//!    smallest error their bounds account for.
//! 6. *Overflow*: a slot whose runtime value is `±∞` or NaN has the bound `+∞`, never a finite
//!    one (inputs too), checked in every property above and on values at the threshold.
//! 7. *The examples' classifier* (`examples/support/model.rs`) as a bf16 and an f16 graph: its
//!    forward and gradient bounds contain the exact values (enclosed by the same model in
//!    interval arithmetic), and `to_graph_data` computes the runtime results bit for bit.
//!
//! Case counts: `PROPTEST_CASES` if set, else the defaults below (the file runs in a few
//! seconds in a debug build).

use half::{bf16, f16};
use num_traits::Signed;
#[path = "common/checks.rs"]
mod checks;

use checks::*;
#[path = "common/registry.rs"]
mod registry;
use proptest::prelude::*;
use registry::*;
use shapetape::approx::round::{self, BinaryFormat};
use shapetape::approx::{
    CtxAddBound, EList, LeanCtxAddBound, RevGraph, RevNode, RuntimeFloat, SpecScalar, ToSpec,
    approx_ctx, ctx_distances,
};
use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;

/// Default cases of the arithmetic properties (per format and operation).
const ARITH_CASES: u32 = 512;
/// Default cases of the random-graph properties (per format).
const GRAPH_CASES: u32 = 24;
/// Default cases of the fixed graph with inner dimension 256 (per format).
const LONG_CASES: u32 = 4;

fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default),
        ..ProptestConfig::default()
    }
}

// ================================================================ the two formats

/// A half-precision runtime scalar.
trait Half: RevRuntime + RuntimeFloat + ToSpec<f64> + ToSpec<Rational> {
    /// The bits of `+∞` (every finite positive value has smaller bits).
    const INF_BITS: u16;
    fn bits(self) -> u16;
    fn of_bits(b: u16) -> Self;
}

impl Half for bf16 {
    const INF_BITS: u16 = 0x7f80;
    fn bits(self) -> u16 {
        self.to_bits()
    }
    fn of_bits(b: u16) -> Self {
        bf16::from_bits(b)
    }
}

impl Half for f16 {
    const INF_BITS: u16 = 0x7c00;
    fn bits(self) -> u16 {
        self.to_bits()
    }
    fn of_bits(b: u16) -> Self {
        f16::from_bits(b)
    }
}

/// `2^k` as an exact rational.
fn pow2(k: i32) -> Rational {
    let two = Rational::from_i64(2);
    if k >= 0 {
        num_traits::pow(two, k as usize)
    } else {
        Rational::from_i64(1) / num_traits::pow(two, (-k) as usize)
    }
}

/// The value of the nonnegative bit pattern `b ≤ INF_BITS`, with `+∞` standing for
/// `2^(e_max+1)` (the next power of two after the largest finite value: rounding to nearest
/// overflows exactly from the midpoint between it and the largest finite value on).
fn value_of<H: Half>(b: u16) -> Rational {
    if b == H::INF_BITS {
        pow2(H::FORMAT.emax() + 1)
    } else {
        q(H::of_bits(b).to_f64_exact())
    }
}

/// The reference rounding: the value of `H` nearest to the exact `x`, ties to the even bit
/// pattern, `±∞` beyond the range (by a binary search over the bit patterns, which are ordered
/// like the values they stand for).
fn nearest<H: Half>(x: &Rational) -> H {
    let a = Signed::abs(x);
    let (mut lo, mut hi) = (0u16, H::INF_BITS); // value_of(lo) ≤ a; find the largest such
    if value_of::<H>(hi) <= a {
        lo = hi;
    } else {
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if value_of::<H>(mid) <= a {
                lo = mid;
            } else {
                hi = mid;
            }
        }
    }
    let b = if lo == H::INF_BITS || value_of::<H>(lo) == a {
        lo
    } else {
        let (below, above) = (&a - value_of::<H>(lo), value_of::<H>(lo + 1) - &a);
        if below < above || (below == above && lo % 2 == 0) {
            lo
        } else {
            lo + 1
        }
    };
    H::of_bits(if x.is_negative() { b | 0x8000 } else { b })
}

/// Two runtime values are the same number (`±0` alike, `±∞` by sign).
fn same<H: Half>(a: H, b: H) -> bool {
    a.to_f64_exact() == b.to_f64_exact()
}

// ================================================================ 1. formats

#[test]
fn each_type_has_its_format() {
    assert_eq!(<bf16 as RuntimeFloat>::FORMAT, BinaryFormat::BFLOAT16);
    assert_eq!(<f16 as RuntimeFloat>::FORMAT, BinaryFormat::BINARY16);
    assert_eq!(<f32 as RuntimeFloat>::FORMAT, BinaryFormat::BINARY32);
    assert_eq!(<f64 as RuntimeFloat>::FORMAT, BinaryFormat::BINARY64);
    for (f, p, q_exp, max) in [
        (
            BinaryFormat::BFLOAT16,
            8,
            -133,
            f64::from(bf16::MAX.to_f32()),
        ),
        (BinaryFormat::BINARY16, 11, -24, 65504.0),
        (BinaryFormat::BINARY32, 24, -149, f64::from(f32::MAX)),
        (BinaryFormat::BINARY64, 53, -1074, f64::MAX),
    ] {
        assert_eq!(f.precision(), p);
        assert_eq!(f.subnormal_exp(), q_exp);
        assert_eq!(f.max_finite(), max);
        assert_eq!(f.unit_roundoff(), 2f64.powi(-p));
    }
    // The half types' accumulator (matrix products) is f32.
    assert_eq!(
        <<bf16 as RuntimeFloat>::Accumulator as RuntimeFloat>::FORMAT,
        BinaryFormat::BINARY32
    );
    assert_eq!(
        <<f16 as RuntimeFloat>::Accumulator as RuntimeFloat>::FORMAT,
        BinaryFormat::BINARY32
    );
}

// ================================================================ 2. correct rounding

/// An operand: any finite bit pattern (so every binade and the subnormals are equally
/// likely).
fn operand<H: Half>() -> impl Strategy<Value = H> {
    any::<u16>()
        .prop_filter("finite", |b| b & 0x7fff < H::INF_BITS)
        .prop_map(H::of_bits)
}

/// A pair `(a, b)` with `a ∘ b` near `target` for `∘ = ×` (`mul`) or `÷`: `b` any normal value
/// of moderate exponent, `a` the rounding of `target·b` (or `target/b`), so that the exact
/// result lands next to `target`.
fn aimed_pair<H: Half>(target: f64, b_raw: f64, b_exp: i32, mul: bool) -> Option<(H, H)> {
    let b = H::from_f64(b_raw * 2f64.powi(b_exp));
    let bf = b.to_f64_exact();
    if bf == 0.0 || !bf.is_finite() {
        return None;
    }
    let a = H::from_f64(if mul { target / bf } else { target * bf });
    a.to_f64_exact().is_finite().then_some((a, b))
}

/// Targets near the bottom of the format: subnormal values, midpoints between them and 0.
fn low_target<H: Half>() -> impl Strategy<Value = f64> {
    let q_exp = H::FORMAT.subnormal_exp();
    let emin = H::FORMAT.emin();
    prop_oneof![
        // k/2 subnormal spacings: values and midpoints of the subnormal range
        (1_u32..(1 << H::FORMAT.precision()))
            .prop_map(move |k| f64::from(k) * 2f64.powi(q_exp - 1)),
        // anywhere in the lowest binades
        (1.0_f64..2.0, (q_exp - 2)..(emin + 3)).prop_map(|(m, e)| m * 2f64.powi(e)),
    ]
}

fn check_binary<H: Half>(a: H, b: H) -> Law {
    let (x, y) = (q(a.to_f64_exact()), q(b.to_f64_exact()));
    let mut cases = vec![
        ("+", a + b, &x + &y),
        ("−", a - b, &x - &y),
        ("×", a * b, &x * &y),
    ];
    if b.to_f64_exact() != 0.0 {
        cases.push(("÷", a / b, &x / &y));
    }
    for (name, got, exact) in cases {
        let want = nearest::<H>(&exact);
        prop_assert!(
            same(got, want),
            "{:?}: {:e} {} {:e} = {:e}, the nearest value is {:e}",
            H::FORMAT,
            a.to_f64_exact(),
            name,
            b.to_f64_exact(),
            got.to_f64_exact(),
            want.to_f64_exact()
        );
    }
    Ok(())
}

fn check_from_f64<H: Half>(x: f64) -> Law {
    let got = H::from_f64(x);
    let want = nearest::<H>(&q(x));
    prop_assert!(
        same(got, want),
        "{:?}: from_f64({:e}) = {:e}, the nearest value is {:e}",
        H::FORMAT,
        x,
        got.to_f64_exact(),
        want.to_f64_exact()
    );
    Ok(())
}

/// An `f64` at or next to a midpoint between two neighbouring values of `H` (where a rounding
/// to `f32` first would decide the tie wrongly), or anywhere in `H`'s range and beyond.
fn f64_near_midpoints<H: Half>() -> impl Strategy<Value = f64> {
    let max_bits = H::INF_BITS - 1;
    prop_oneof![
        (0..max_bits, -3_i32..=3, any::<bool>()).prop_map(|(b, k, neg)| {
            let lo = H::of_bits(b).to_f64_exact();
            let hi = H::of_bits(b + 1).to_f64_exact();
            let mid = lo + (hi - lo) / 2.0; // exact: p + 1 bits
            let x = match k {
                0 => mid,
                1 => mid.next_up(),
                -1 => mid.next_down(),
                k => mid * (1.0 + f64::from(k) * 2f64.powi(-40)),
            };
            if neg { -x } else { x }
        }),
        (1.0_f64..2.0, -140_i32..=130, any::<bool>()).prop_map(|(m, e, neg)| if neg {
            -m
        } else {
            m
        } * 2f64.powi(e)),
    ]
}

macro_rules! arithmetic_properties {
    ($H:ty, $binary:ident, $aimed:ident, $from:ident) => {
        proptest! {
            #![proptest_config(config(ARITH_CASES))]

            /// `+ − × ÷` are correctly rounded on operands of any binade.
            #[test]
            fn $binary(a in operand::<$H>(), b in operand::<$H>()) {
                check_binary(a, b)?;
            }

            /// `×` and `÷` whose exact result lies at the bottom of the range (subnormal results,
            /// midpoints between subnormals, the rounding to 0).
            #[test]
            fn $aimed(
                t in low_target::<$H>(),
                m in 1.0_f64..2.0,
                e in -20_i32..=20,
                mul in any::<bool>(),
            ) {
                if let Some((a, b)) = aimed_pair::<$H>(t, m, e, mul) {
                    check_binary(a, b)?;
                }
            }

            /// `Real::from_f64` rounds once, to nearest (not through a rounding to `f32`).
            #[test]
            fn $from(x in f64_near_midpoints::<$H>()) {
                check_from_f64::<$H>(x)?;
            }
        }
    };
}

arithmetic_properties!(
    bf16,
    bf16_arithmetic_is_correctly_rounded,
    bf16_products_and_quotients_near_underflow_are_correctly_rounded,
    bf16_from_f64_is_correctly_rounded
);
arithmetic_properties!(
    f16,
    f16_arithmetic_is_correctly_rounded,
    f16_products_and_quotients_near_underflow_are_correctly_rounded,
    f16_from_f64_is_correctly_rounded
);

/// The double rounding that `Real::from_f64` avoids: `x` just above the midpoint between 1 and
/// its successor rounds up, but `x as f32` is the midpoint itself, which then rounds to even.
#[test]
fn from_f64_does_not_round_twice() {
    let x = 1.0 + 2f64.powi(-11) + 2f64.powi(-40);
    assert_eq!(<f16 as Real>::from_f64(x).to_f32(), 1.0 + 2f32.powi(-10));
    assert_eq!(
        f16::from_f32(x as f32).to_f32(),
        1.0,
        "the naive way rounds twice"
    );
    let y = 1.0 + 2f64.powi(-8) + 2f64.powi(-40);
    assert_eq!(<bf16 as Real>::from_f64(y).to_f32(), 1.0 + 2f32.powi(-7));
    assert_eq!(bf16::from_f32(y as f32).to_f32(), 1.0);
}

/// `√` is correctly rounded on every nonnegative input of both formats. Exact in `f64`: the
/// squares of half values and of midpoints between them (at most 24 significant bits) are
/// exact, so `r` is the nearest value to `√x` iff `m₋² ≤ x ≤ m₊²` for the midpoints `m±` around
/// `r`, with a tie (`x = m±²`) going to the even bit pattern.
fn sqrt_is_correctly_rounded<H: Half>() {
    for b in 0..H::INF_BITS {
        let x = H::of_bits(b);
        let r = x.sqrt();
        let (xf, rf) = (x.to_f64_exact(), r.to_f64_exact());
        let rb = r.bits();
        let below = if rb == 0 {
            0.0
        } else {
            H::of_bits(rb - 1).to_f64_exact()
        };
        let above = H::of_bits(rb + 1).to_f64_exact();
        let (m_lo, m_hi) = ((below + rf) / 2.0, (rf + above) / 2.0);
        let ok = m_lo * m_lo <= xf
            && xf <= m_hi * m_hi
            && (xf != m_lo * m_lo || rb % 2 == 0 || rb == 0)
            && (xf != m_hi * m_hi || rb % 2 == 0);
        assert!(ok, "{:?}: sqrt({xf:e}) = {rf:e}", H::FORMAT);
    }
    assert!(H::of_bits(0x8000 | 0x0100).sqrt().to_f64_exact().is_nan());
}

#[test]
fn sqrt_is_correctly_rounded_everywhere() {
    sqrt_is_correctly_rounded::<bf16>();
    sqrt_is_correctly_rounded::<f16>();
}

// ================================================================ 3. transcendental functions

/// Every finite input: `f(x)` of the half type is within one ulp of the half format of the
/// `f64` value (itself within an `f64` ulp of the exact one), and overflows only beyond the
/// largest finite value. Stated for the runtime's quality; no bound depends on it.
fn transcendental_within_one_ulp<H: Half>() {
    type F<H> = (&'static str, fn(H) -> H, fn(f64) -> f64);
    let funs: [F<H>; 5] = [
        ("exp", H::exp, f64::exp),
        ("exp_m1", H::exp_m1, f64::exp_m1),
        ("ln", H::ln, f64::ln),
        ("ln_1p", H::ln_1p, f64::ln_1p),
        ("tanh", H::tanh, f64::tanh),
    ];
    let max = H::FORMAT.max_finite();
    for b in (0..H::INF_BITS).chain(0x8000..0x8000 | H::INF_BITS) {
        let x = H::of_bits(b);
        for (name, f, reference) in funs {
            let (got, want) = (f(x).to_f64_exact(), reference(x.to_f64_exact()));
            if !want.is_finite() || want.abs() >= max {
                // a pole, a domain error, or beyond the largest value: ±∞ or NaN, or the
                // largest finite value for a result that rounds down to it
                assert!(
                    !got.is_finite() || got.abs() == max,
                    "{name}({:e}) = {got:e}",
                    x.to_f64_exact()
                );
                continue;
            }
            let ulp = 2.0 * round::half_ulp::<H>(want);
            assert!(
                (got - want).abs() <= ulp * (1.0 + 1e-9),
                "{:?}: {name}({:e}) = {got:e}, f64 gives {want:e}",
                H::FORMAT,
                x.to_f64_exact()
            );
        }
    }
}

#[test]
fn transcendental_functions_are_within_one_ulp() {
    transcendental_within_one_ulp::<bf16>();
    transcendental_within_one_ulp::<f16>();
}

// ================================================================ 4–6. random certified graphs

/// A spec scalar: exact `Rational` (polynomial and piecewise-linear ops) or `f64` (every op).
trait Sp: RevSpec + ops::TotalDiv {
    fn from_rational(r: &Rational) -> Self;
    fn to_rational(&self) -> Option<Rational>;
}

impl Sp for Rational {
    fn from_rational(r: &Rational) -> Self {
        r.clone()
    }
    fn to_rational(&self) -> Option<Rational> {
        Some(self.clone())
    }
}

impl Sp for f64 {
    fn from_rational(r: &Rational) -> Self {
        Element::to_f64(r)
    }
    fn to_rational(&self) -> Option<Rational> {
        Rational::from_f64_exact(*self)
    }
}

/// The ops of the random half-precision graphs (from the shared registry): the four
/// arithmetic operations, `relu`, `square`, products, `mse`, and with the `f64` spec `exp`,
/// `tanh`, `log`, `softmax` and cross-entropy.
const HALF_OPS: &[Kind] = &[
    Kind::Add,
    Kind::Sub,
    Kind::Mul,
    Kind::Div,
    Kind::Relu,
    Kind::Square,
    Kind::Matvec,
    Kind::Linear,
    Kind::Matmul,
    Kind::LinearBatch,
    Kind::Mse,
    Kind::Exp,
    Kind::Tanh,
    Kind::Log,
    Kind::Softmax,
    Kind::CrossEntropy,
];

/// The node for `ch` at output shape `S` over `C`, drawn from [`HALF_OPS`].
fn make_node<H: Half, P: Sp, C: ShapeList, S: OutShape>(ch: &Choice) -> RevNode<H, P, C, S> {
    registry::make_node::<Rev<H, P>, C, S>(ch, HALF_OPS).node
}

/// Builds a graph: `template!(H, P, G, [S₀, S₁, …], choices)`.
macro_rules! template {
    ($H:ty, $P:ty, $G:ty, [$($S:ty),* $(,)?], $choices:expr) => {{
        let mut it = $choices.iter();
        let g = RevGraph::<$H, $P, $G, HNil>::nil();
        $( let g = g.snoc(make_node::<$H, $P, _, $S>(it.next().expect("one choice per node"))); )*
        g
    }};
}

/// Γ = [V3, V3, V3], six nodes of shape V3 (long chains, much aliasing).
type UniformG = HList![V3, V3, V3];
type UniformSs = HList![V3, V3, V3, V3, V3, V3];
const UNIFORM_NODES: usize = 6;

fn uniform<H: Half, P: Sp>(ch: &[Choice]) -> RevGraph<H, P, UniformG, UniformSs> {
    template!(H, P, UniformG, [V3, V3, V3, V3, V3, V3], ch)
}

/// Γ = [M23, M32, V3, V2, M22], seven nodes: matrix–vector and matrix–matrix products, affine
/// layers, losses.
type MixedG = HList![M23, M32, V3, V2, M22];
type MixedSs = HList![M22, V2, V3, M22, Scalar, V3, Scalar];
const MIXED_NODES: usize = 7;

fn mixed<H: Half, P: Sp>(ch: &[Choice]) -> RevGraph<H, P, MixedG, MixedSs> {
    template!(H, P, MixedG, [M22, V2, V3, M22, Scalar, V3, Scalar], ch)
}

/// Inner dimension 256: `X₁ W₁ᵀ + b` and `X₁ X₂` (1×256 by 256×1), their sum, an affine
/// layer on 256 rows (its bias gradient sums 256 rows in the half format, its weight gradient
/// has inner dimension 256), and the mean squared error.
type LongG = HList![
    Matrix<1, 256>,
    Matrix<1, 256>,
    Vector<1>,
    Matrix<256, 1>,
    Matrix<256, 1>
];
type LongSs = HList![Matrix<1, 1>, Matrix<1, 1>, Matrix<1, 1>, Matrix<256, 1>, Scalar];

fn long<H: Half, P: Sp>() -> RevGraph<H, P, LongG, LongSs> {
    RevGraph::<H, P, LongG, _>::build(|b| {
        let hlist_pat![w1, x1, bias, x2, t] = b.inputs();
        let (b, h) = b.push(|c| ops::linear_batch(c.idx(w1), c.idx(x1), c.idx(bias)));
        let (b, m) = b.push(|c| ops::matmul(c.idx(x1), c.idx(x2)));
        let (b, s) = b.push(|c| ops::add(c.idx(h), c.idx(m)));
        let (b, y) = b.push(|c| ops::linear_batch(c.idx(s), c.idx(x2), c.idx(bias)));
        let (b, _) = b.push(|c| ops::mse(c.idx(y), c.idx(t)));
        b
    })
}

// ---------------------------------------------------------------- adversarial values

/// The value an entry starts from.
#[derive(Clone, Debug)]
enum Base {
    Zero,
    /// `n / d` with `d ∈ {3, 5, 7, 10}`: not a binary number.
    Ratio(i64, i64),
    Float(f64),
}

impl Base {
    fn value(&self) -> Rational {
        match self {
            Base::Zero => Rational::from_i64(0),
            Base::Ratio(n, d) => Rational::new((*n).into(), (*d).into()),
            Base::Float(x) => q(*x),
        }
    }
}

fn signed(x: f64, neg: bool) -> f64 {
    if neg { -x } else { x }
}

/// Zeros, non-dyadic rationals, moderate values, values across the format's exponent range,
/// subnormals, and values within 10 % of the largest finite one (`wide` = false: moderate
/// values only, for the 256-wide graph whose exact spec would otherwise carry huge numbers).
fn base(format: BinaryFormat, wide: bool) -> BoxedStrategy<Base> {
    let moderate = prop_oneof![
        2 => Just(Base::Zero),
        3 => (-40_i64..=40, prop::sample::select(vec![3_i64, 5, 7, 10]))
            .prop_map(|(n, d)| Base::Ratio(n, d)),
        3 => (1.0_f64..2.0, -3_i32..=3, any::<bool>())
            .prop_map(|(m, e, neg)| Base::Float(signed(m * 2f64.powi(e), neg))),
    ];
    if !wide {
        return moderate.boxed();
    }
    let (emin, emax, q_exp, p) = (
        format.emin(),
        format.emax(),
        format.subnormal_exp(),
        format.precision(),
    );
    let max = format.max_finite();
    prop_oneof![
        8 => moderate,
        2 => (1.0_f64..2.0, emin..emax, any::<bool>())
            .prop_map(|(m, e, neg)| Base::Float(signed(m * 2f64.powi(e), neg))),
        1 => (1_u32..(1 << (p - 1)), any::<bool>())
            .prop_map(move |(k, neg)| Base::Float(signed(f64::from(k) * 2f64.powi(q_exp), neg))),
        1 => (0.9_f64..1.0, any::<bool>())
            .prop_map(move |(m, neg)| Base::Float(signed(m * max, neg))),
    ]
    .boxed()
}

/// One entry: its own base or one shared by the context (so that entries cancel), a spec
/// jitter of `jitter/7` ulps (a spec off the runtime grid), and the runtime value `nudge` ulps
/// away from the nearest one to the spec.
#[derive(Clone, Debug)]
struct Entry {
    base: Base,
    shared: Option<(usize, bool)>,
    jitter: i64,
    nudge: i32,
    neg_zero: bool,
}

fn entry(format: BinaryFormat, wide: bool) -> impl Strategy<Value = Entry> {
    (
        base(format, wide),
        prop_oneof![2 => Just(None), 1 => (0_usize..3, any::<bool>()).prop_map(Some)],
        // (no jitter on the 256-wide graph: its denominators would make the exact spec slow)
        if wide {
            prop_oneof![2 => Just(0_i64), 1 => -5_i64..=5].boxed()
        } else {
            Just(0_i64).boxed()
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

/// How a slot's bound relates to the measured distance `d` of spec and runtime.
#[derive(Clone, Copy, Debug)]
enum EpsMode {
    /// `d` rounded up: as tight as possible.
    Exact,
    /// `2d + 2⁻²⁰`.
    Loose,
    /// `+∞`, and the spec of the slot moved far away.
    Infinite,
}

#[derive(Clone, Debug)]
struct RawCtx {
    pool: Vec<Base>,
    entries: Vec<Entry>,
    modes: Vec<EpsMode>,
}

fn total_len<G: ShapeList>() -> usize {
    G::layout().iter().map(|l| l.size).sum()
}

fn raw_ctx<C: ShapeList>(format: BinaryFormat, wide: bool) -> impl Strategy<Value = RawCtx> {
    (
        proptest::collection::vec(base(format, wide), 3),
        proptest::collection::vec(entry(format, wide), total_len::<C>()),
        proptest::collection::vec(
            prop_oneof![
                6 => Just(EpsMode::Exact),
                2 => Just(EpsMode::Loose),
                1 => Just(EpsMode::Infinite),
            ],
            C::LEN,
        ),
    )
        .prop_map(|(pool, entries, modes)| RawCtx {
            pool,
            entries,
            modes,
        })
}

/// `x` moved `k` steps to the neighbouring values (up for `k > 0`; `±∞` and NaN stay).
fn nudge<H: Half>(x: H, k: i32) -> H {
    let step = |v: H, up: bool| -> H {
        let b = v.bits();
        if b & 0x7fff >= H::INF_BITS {
            return v;
        }
        let neg = b & 0x8000 != 0;
        let mag = b & 0x7fff;
        match (neg, up) {
            (false, true) => H::of_bits(mag + 1),
            (true, false) => H::of_bits(0x8000 | (mag + 1)),
            (_, _) if mag == 0 => H::of_bits(if up { 1 } else { 0x8001 }),
            (false, false) => H::of_bits(mag - 1),
            (true, true) => H::of_bits(0x8000 | (mag - 1)),
        }
    };
    (0..k.unsigned_abs()).fold(x, |v, _| step(v, k > 0))
}

/// Spec and runtime contexts with bounds such that `approx_ctx(spec, rt, eps)` holds.
struct Pairs<P, H, C> {
    spec: TList<P, C>,
    rt: TList<H, C>,
    eps: EList<C>,
}

fn realize<P: Sp, H: Half + ToSpec<P>, C: ShapeList>(raw: &RawCtx) -> Pairs<P, H, C> {
    let mut spec: Vec<Rational> = Vec::new();
    let mut rt: Vec<H> = Vec::new();
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
            let ulp = q(2.0 * round::half_ulp::<H>(Element::to_f64(&v)).min(1e300));
            v += ulp * Rational::new(e.jitter.into(), 7.into());
        }
        // (any runtime value will do: the bound is the measured distance)
        let mut r = H::from_f64(Element::to_f64(&v));
        if r.to_f64_exact() == 0.0 && e.neg_zero {
            r = -r;
        }
        spec.push(v);
        rt.push(nudge(r, e.nudge));
    }
    let mut spec_p: Vec<P> = Vec::with_capacity(spec.len());
    let mut eps = Vec::with_capacity(C::LEN);
    let mut start = 0;
    for (l, mode) in C::layout().iter().zip(&raw.modes) {
        let mut d = Some(Rational::from_i64(0));
        for i in start..start + l.size {
            let mut v = spec[i].clone();
            if let EpsMode::Infinite = mode {
                v = v * Rational::from_i64(-3) + Rational::new(1000.into(), 3.into());
            }
            let p = P::from_rational(&v);
            let r = rt[i].to_f64_exact();
            // a runtime entry that is ±∞ (beyond the range) needs the bound +∞
            d = d.and_then(|d| {
                r.is_finite().then(|| {
                    let dist = Signed::abs(&(p.to_rational().expect("finite spec") - q(r)));
                    if dist > d { dist } else { d }
                })
            });
            spec_p.push(p);
        }
        start += l.size;
        eps.push(match (mode, d) {
            (EpsMode::Infinite, _) | (_, None) => f64::INFINITY,
            (EpsMode::Exact, Some(d)) => up_f64(&d),
            (EpsMode::Loose, Some(d)) => {
                round::add_up(round::mul_up(up_f64(&d), 2.0), 2f64.powi(-20))
            }
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

// ---------------------------------------------------------------- checks

fn names<H, P, G, Ss>(g: &RevGraph<H, P, G, Ss>) -> Vec<String>
where
    H: Half,
    P: Sp,
    G: ShapeList,
    Ss: ShapeList,
{
    g.node_names().map(str::to_owned).collect()
}

/// `eval_approx` and `backprop_approx` (both add bounds) with the exact spec, and `+∞` on
/// every non-finite runtime slot.
fn exact_soundness<H: Half, G: ShapeList, Ss: ShapeList>(
    g: &RevGraph<H, Rational, G, Ss>,
    x: &RawCtx,
    seed: &RawCtx,
) -> Law {
    exact_soundness_of(g, &realize(x), &realize(seed))
}

fn exact_soundness_of<H: Half, G: ShapeList, Ss: ShapeList>(
    g: &RevGraph<H, Rational, G, Ss>,
    x: &Pairs<Rational, H, G>,
    seed: &Pairs<Rational, H, Cat<G, Ss>>,
) -> Law {
    let names = names(g);
    let spec = g.eval_spec(x.spec.clone());
    let (vals, eps) = g.eval_certified(x.eps.clone(), x.rt.clone());
    non_finite_is_unbounded("eval", &vals, &eps, &names)?;
    exact_approx("eval_approx", &spec, &vals, &eps, &names)?;
    let grad_s = g.backprop_spec(x.spec.clone(), seed.spec.clone());
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
            g.backprop_certified_with(
                x.eps.clone(),
                x.rt.clone(),
                seed.eps.clone(),
                seed.rt.clone(),
                &CtxAddBound,
            )
        };
        let what = if lean {
            "backprop_approx (LeanCtxAddBound)"
        } else {
            "backprop_approx (CtxAddBound)"
        };
        non_finite_is_unbounded(what, &grad, &e, &names)?;
        exact_approx(what, &grad_s, &grad, &e, &names)?;
    }
    Ok(())
}

/// The same with the `f64` spec and the slack of the module docs.
fn f64_soundness<H: Half, G: ShapeList, Ss: ShapeList>(
    g: &RevGraph<H, f64, G, Ss>,
    x: &RawCtx,
    seed: &RawCtx,
) -> Law {
    let names = names(g);
    let x: Pairs<f64, H, G> = realize(x);
    let seed: Pairs<f64, H, Cat<G, Ss>> = realize(seed);
    let spec = g.eval_spec(x.spec.clone());
    let (vals, eps) = g.eval_certified(x.eps.clone(), x.rt.clone());
    non_finite_is_unbounded("eval", &vals, &eps, &names)?;
    let scale = magnitude(&spec).max(magnitude(&vals));
    let finite_in = x.eps.as_slice().iter().all(|e| e.is_finite());
    slack_approx("eval_approx", &spec, &vals, &eps, scale, finite_in, &names)?;
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
        non_finite_is_unbounded("backprop", &grad, &e, &names)?;
        let scale = scale.max(magnitude(&grad));
        slack_approx(
            "backprop_approx",
            &grad_s,
            &grad,
            &e,
            scale,
            finite_in,
            &names,
        )?;
    }
    Ok(())
}

macro_rules! graph_properties {
    ($H:ty, $exact_u:ident, $exact_m:ident, $f64_u:ident, $f64_m:ident, $long:ident) => {
        proptest! {
            #![proptest_config(config(GRAPH_CASES))]

            #[test]
            fn $exact_u(
                ch in choices(UNIFORM_NODES),
                x in raw_ctx::<UniformG>(<$H as RuntimeFloat>::FORMAT, true),
                seed in raw_ctx::<Cat<UniformG, UniformSs>>(<$H as RuntimeFloat>::FORMAT, true),
            ) {
                exact_soundness(&uniform::<$H, Rational>(&ch), &x, &seed)?;
            }

            #[test]
            fn $exact_m(
                ch in choices(MIXED_NODES),
                x in raw_ctx::<MixedG>(<$H as RuntimeFloat>::FORMAT, true),
                seed in raw_ctx::<Cat<MixedG, MixedSs>>(<$H as RuntimeFloat>::FORMAT, true),
            ) {
                exact_soundness(&mixed::<$H, Rational>(&ch), &x, &seed)?;
            }

            #[test]
            fn $f64_u(
                ch in choices(UNIFORM_NODES),
                x in raw_ctx::<UniformG>(<$H as RuntimeFloat>::FORMAT, true),
                seed in raw_ctx::<Cat<UniformG, UniformSs>>(<$H as RuntimeFloat>::FORMAT, true),
            ) {
                f64_soundness(&uniform::<$H, f64>(&ch), &x, &seed)?;
            }

            #[test]
            fn $f64_m(
                ch in choices(MIXED_NODES),
                x in raw_ctx::<MixedG>(<$H as RuntimeFloat>::FORMAT, true),
                seed in raw_ctx::<Cat<MixedG, MixedSs>>(<$H as RuntimeFloat>::FORMAT, true),
            ) {
                f64_soundness(&mixed::<$H, f64>(&ch), &x, &seed)?;
            }
        }

        proptest! {
            #![proptest_config(config(LONG_CASES))]

            /// Inner dimension 256, exactly.
            #[test]
            fn $long(
                x in raw_ctx::<LongG>(<$H as RuntimeFloat>::FORMAT, false),
                seed in raw_ctx::<Cat<LongG, LongSs>>(<$H as RuntimeFloat>::FORMAT, false),
            ) {
                exact_soundness(&long::<$H, Rational>(), &x, &seed)?;
            }
        }
    };
}

graph_properties!(
    bf16,
    bf16_exact_soundness_uniform,
    bf16_exact_soundness_mixed,
    bf16_f64_spec_soundness_uniform,
    bf16_f64_spec_soundness_mixed,
    bf16_exact_soundness_inner_dimension_256
);
graph_properties!(
    f16,
    f16_exact_soundness_uniform,
    f16_exact_soundness_mixed,
    f16_f64_spec_soundness_uniform,
    f16_f64_spec_soundness_mixed,
    f16_exact_soundness_inner_dimension_256
);

// ================================================================ 6. at the overflow threshold

/// Near the largest finite value `max`: sums, products and matrix products that overflow get
/// the bound `+∞` (forward and reverse, input slots too), those that stay finite get bounds
/// that hold exactly, also where the exact result lies beyond `max` but rounds to it.
fn overflow_gives_infinite_bounds<H: Half>() {
    type G = HList![V2, V2, M22];
    type Ss = HList![V2, V2, V2, V2, V2];
    let max = H::FORMAT.max_finite();
    let g: RevGraph<H, Rational, G, Ss> = RevGraph::build(|bld| {
        let hlist_pat![a, b, w] = bld.inputs();
        let (bld, _) = bld.push(|c| ops::add(c.idx(a), c.idx(b)));
        let (bld, _) = bld.push(|c| ops::mul(c.idx(a), c.idx(b)));
        let (bld, _) = bld.push(|c| ops::matvec(c.idx(w), c.idx(a)));
        let (bld, _) = bld.push(|c| ops::sub(c.idx(a), c.idx(b)));
        let (bld, _) = bld.push(|c| ops::linear(c.idx(w), c.idx(b), c.idx(a)));
        bld
    });
    let names = names(&g);
    let spec_in = |v: [f64; 8]| -> TList<Rational, G> {
        TList::try_from_flat(v.iter().map(|&x| q(x)).collect()).unwrap()
    };
    let rt_in = |v: [f64; 8]| -> TList<H, G> {
        TList::try_from_flat(v.iter().map(|&x| H::from_f64(x)).collect()).unwrap()
    };
    // a = [0.6 max, 1.5], b = [0.6 max, −0.5]: a + b and a·b overflow in their first entry,
    // W a (W = [[1, 1], [0, 1]]) is 0.6 max + 1.5, a − b is [0, 2]; then `max` itself plus a
    // value below half an ulp (the sum rounds back to max) and the largest value of the
    // format's last binade times 2 (overflows).
    let big = H::from_f64(0.6 * max).to_f64_exact();
    let top = max;
    let half_ulp_top = round::half_ulp::<H>(max / 2.0);
    for v in [
        [big, 1.5, big, -0.5, 1.0, 1.0, 0.0, 1.0],
        [top, -top, half_ulp_top, top, 1.0, -1.0, 2.0, 0.25],
        [-top, 3.0, -top, 1.0, 1.0, 1.0, 1.0, 1.0],
    ] {
        let (x, xs) = (rt_in(v), spec_in(v));
        let eps = EList::<G>::zero();
        let (vals, e) = g.eval_certified(eps.clone(), x.clone());
        non_finite_is_unbounded("eval", &vals, &e, &names).unwrap();
        exact_approx("eval_approx", &g.eval_spec(xs.clone()), &vals, &e, &names).unwrap();
        assert!(
            vals.slot_slices().any(|s| !H::all_finite(s)),
            "the test needs an overflow"
        );
        // the seed of every node output is huge: the gradients overflow too
        let seed: TList<H, Cat<G, Ss>> =
            TList::try_from_flat(vec![H::from_f64(big); total_len::<Cat<G, Ss>>()]).unwrap();
        let seed_s: TList<Rational, _> = seed.map(|v: &H| q(v.to_f64_exact()));
        let (grad, eg) = g.backprop_certified(eps, x, EList::zero(), seed);
        non_finite_is_unbounded("backprop", &grad, &eg, &names).unwrap();
        exact_approx(
            "backprop_approx",
            &g.backprop_spec(xs, seed_s),
            &grad,
            &eg,
            &names,
        )
        .unwrap();
    }
    // An input beyond the range is +∞ at runtime: its bound is +∞ whatever the caller's.
    let x = rt_in([2.0 * max, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    let (_, e) = g.eval_certified(EList::zero(), x);
    assert_eq!(e.as_slice()[0], f64::INFINITY);
    assert_eq!(e.as_slice()[1], 0.0);
}

#[test]
fn overflow_gives_infinite_bounds_f16() {
    assert_eq!(f16::MAX.to_f32(), 65504.0);
    overflow_gives_infinite_bounds::<f16>();
}

#[test]
fn overflow_gives_infinite_bounds_bf16() {
    assert!((f64::from(bf16::MAX.to_f32()) - 3.39e38).abs() < 0.01e38);
    overflow_gives_infinite_bounds::<bf16>();
}

// ================================================================ 7. the example's classifier

#[path = "../examples/support/model.rs"]
mod model;

/// The classifier of `examples/certify.rs` as a `RevGraph<H, f64, …>`: its certified bounds
/// (forward and gradient) contain the exact value of every slot (enclosed by the same model in
/// interval arithmetic), and the erased `GraphData` computes the runtime results bit for bit.
fn classifier_in_half_precision<H: Half>() {
    use shapetape::approx::Interval;
    use shapetape::rng::SplitMix64;
    type Inputs = model::Inputs<4, 2, 8, 2>;
    type Nodes = model::Nodes<4, 8, 2>;
    type Ctx = Cat<Inputs, Nodes>;
    let graph = RevGraph::<H, f64, Inputs, _>::build(|b| {
        model::classifier::<_, model::Tanh, 4, 2, 8, 2>(b).0
    });
    let reference = GraphData::<Interval, (), Inputs, _>::build(|b| {
        model::classifier::<_, model::Tanh, 4, 2, 8, 2>(b).0
    });
    let mut rng = SplitMix64::new(7);
    let t = Tensor::from_fn(|ix| if ix[1] == ix[0] % 2 { 1.0 } else { 0.0 });
    let x_spec: TList<f64, Inputs> = tlist![
        rng.glorot_uniform(),
        rng.uniform_tensor(-0.1, 0.1),
        rng.glorot_uniform(),
        rng.uniform_tensor(-0.1, 0.1),
        rng.uniform_tensor(-2.0, 2.0),
        t
    ];
    let x_rt: TList<H, Inputs> = x_spec.map(|&v| <H as Real>::from_f64(v));
    let dist: Vec<f64> = ctx_distances(&x_spec, &x_rt)
        .into_iter()
        .map(|d| d.map_or(f64::INFINITY, |d| d.next_up()))
        .collect();
    let eps_in = EList::<Inputs>::try_from_vec(dist).unwrap();
    let (values, bounds) = graph.eval_certified(eps_in.clone(), x_rt.clone());
    let x_exact: TList<Interval, Inputs> = x_spec.map(|&v| Interval::point(v));
    // every exact value lies within its slot's bound of the runtime value
    let within = |exact: &[Interval], rt: &[H], bound: f64| {
        exact
            .iter()
            .zip(rt)
            .all(|(iv, v)| iv.max_distance_from(v.to_f64_exact()) <= bound)
    };
    let exact = reference.eval(x_exact.clone(), &());
    for ((e, r), &b) in exact
        .slot_slices()
        .zip(values.slot_slices())
        .zip(bounds.as_slice())
    {
        assert!(
            b.is_finite() && within(e, r, b),
            "{:?}: bound {b:e}",
            H::FORMAT
        );
    }
    let loss = Idx::<Ctx, Scalar>::at::<9>();
    let seed = TList::<H, Ctx>::single(loss, Tensor::new(H::one()));
    let seed_exact: TList<Interval, Ctx> = seed.map(|v: &H| Interval::point(v.to_f64_exact()));
    let (grads, grad_bounds) =
        graph.backprop_certified(eps_in, x_rt.clone(), EList::zero(), seed.clone());
    let exact_grads = reference.backprop_ctx(x_exact, &(), seed_exact);
    for ((e, r), &b) in exact_grads
        .slot_slices()
        .zip(grads.slot_slices())
        .zip(grad_bounds.as_slice())
    {
        assert!(
            b.is_finite() && within(e, r, b),
            "{:?}: bound {b:e}",
            H::FORMAT
        );
    }
    // the half-precision bounds are those of a half-precision runtime: far above f32's
    assert!(bounds.as_slice()[9] > 2f64.powi(-H::FORMAT.precision() - 4));
    let erased: GraphData<H, (), Inputs, Nodes> = graph.to_graph_data();
    assert!(erased.eval(x_rt.clone(), &()) == values);
    assert!(erased.backprop_ctx(x_rt, &(), seed) == grads);
}

#[test]
fn classifier_in_bf16_and_f16() {
    classifier_in_half_precision::<bf16>();
    classifier_in_half_precision::<f16>();
}

/// Sums of 256 equal products (`1.5 · 1.5`) and a bias gradient summing 256 equal seeds: in
/// the half format each addition would round the same way and the errors add up (256 · 2.25
/// = 576, where bf16's spacing is 4 and f16's 0.5); accumulated in f32 they are exact. The
/// bounds hold exactly, whichever accumulation each op uses.
fn long_sums_of_equal_terms<H: Half>() {
    let g = long::<H, Rational>();
    let fill =
        |v: f64, n: usize| -> (Vec<Rational>, Vec<H>) { (vec![q(v); n], vec![H::from_f64(v); n]) };
    let pairs = |parts: Vec<(Vec<Rational>, Vec<H>)>| {
        let (s, r): (Vec<Vec<Rational>>, Vec<Vec<H>>) = parts.into_iter().unzip();
        (s.concat(), r.concat())
    };
    let (xs, xr) = pairs(vec![
        fill(1.5, 256),
        fill(1.5, 256),
        fill(0.0, 1),
        fill(1.5, 256),
        fill(0.0, 256),
    ]);
    let x = Pairs::<Rational, H, LongG> {
        spec: TList::try_from_flat(xs).unwrap(),
        rt: TList::try_from_flat(xr).unwrap(),
        eps: EList::zero(),
    };
    let n = total_len::<Cat<LongG, LongSs>>();
    let (ss, sr) = fill(1.5, n);
    let seed = Pairs::<Rational, H, Cat<LongG, LongSs>> {
        spec: TList::try_from_flat(ss).unwrap(),
        rt: TList::try_from_flat(sr).unwrap(),
        eps: EList::zero(),
    };
    exact_soundness_of(&g, &x, &seed).unwrap();
}

#[test]
fn long_sums_of_equal_terms_bf16() {
    long_sums_of_equal_terms::<bf16>();
}

#[test]
fn long_sums_of_equal_terms_f16() {
    long_sums_of_equal_terms::<f16>();
}

// ---------------------------------------------------------------- tight cases

/// A runtime value of moderate magnitude (most of the time) or any finite one.
fn moderate<H: Half>() -> impl Strategy<Value = H> {
    prop_oneof![
        4 => (1.0_f64..2.0, -8_i32..=8, any::<bool>())
            .prop_map(|(m, e, neg)| H::from_f64(signed(m * 2f64.powi(e), neg))),
        1 => operand::<H>(),
    ]
}

/// The exact spec of runtime values, with the bound 0.
fn exact_pairs<H: Half, C: ShapeList>(rt: Vec<H>) -> Pairs<Rational, H, C> {
    let spec = rt.iter().map(|v| q(v.to_f64_exact())).collect();
    Pairs {
        spec: TList::try_from_flat(spec).unwrap(),
        rt: TList::try_from_flat(rt).unwrap(),
        eps: EList::zero(),
    }
}

/// One rounding and nothing else: products, affine layers and additions of exact inputs
/// (the spec is the runtime input, bound 0), so every bound is as tight as the rounding model
/// makes it: a wrong unit roundoff or a missing final rounding shows.
type TightG = HList![Matrix<2, 1>, Matrix<1, 2>, M23, M23, V2];
type TightSs = HList![M22, M22, M22, V2];

fn tight<H: Half>() -> RevGraph<H, Rational, TightG, TightSs> {
    RevGraph::build(|b| {
        let hlist_pat![a, bm, w, x, bias] = b.inputs();
        let (b, p) = b.push(|c| ops::matmul(c.idx(a), c.idx(bm)));
        let (b, l) = b.push(|c| ops::linear_batch(c.idx(w), c.idx(x), c.idx(bias)));
        let (b, _) = b.push(|c| ops::add(c.idx(p), c.idx(l)));
        let (b, _) = b.push(|c| ops::matvec(c.idx(p), c.idx(bias)));
        b
    })
}

/// The add bounds of reverse mode against the exact error of one runtime addition.
fn add_bounds_hold<H: Half>(x: &[H], y: &[H]) -> Law {
    use shapetape::approx::AddBound;
    let z: Vec<H> = x.iter().zip(y).map(|(&a, &b)| a + b).collect();
    let bounds = [
        CtxAddBound.add(0.0, 0.0, x, y),
        LeanCtxAddBound.add(0.0, 0.0, x, y),
    ];
    for bound in bounds {
        if !H::all_finite(&z) {
            prop_assert_eq!(bound, f64::INFINITY);
            continue;
        }
        if bound == f64::INFINITY {
            // Sound, and what a sum at the format's largest finite value gets: the half-ulp is
            // taken just above the rounded-up magnitude, which is then past the range.
            continue;
        }
        for ((a, b), c) in x.iter().zip(y).zip(&z) {
            let exact = q(a.to_f64_exact()) + q(b.to_f64_exact());
            let err = Signed::abs(&(exact - q(c.to_f64_exact())));
            prop_assert!(err <= q(bound), "{:?}: {:?} + {:?}", H::FORMAT, a, b);
        }
    }
    Ok(())
}

macro_rules! tight_properties {
    ($H:ty, $graph:ident, $adds:ident) => {
        proptest! {
            #![proptest_config(config(ARITH_CASES))]

            #[test]
            fn $graph(
                x in proptest::collection::vec(moderate::<$H>(), total_len::<TightG>()),
                seed in proptest::collection::vec(
                    moderate::<$H>(),
                    total_len::<Cat<TightG, TightSs>>(),
                ),
            ) {
                exact_soundness_of(&tight::<$H>(), &exact_pairs(x), &exact_pairs(seed))?;
            }

            #[test]
            fn $adds(
                x in proptest::collection::vec(moderate::<$H>(), 8),
                y in proptest::collection::vec(moderate::<$H>(), 8),
            ) {
                add_bounds_hold(&x, &y)?;
            }
        }
    };
}

tight_properties!(
    bf16,
    bf16_single_roundings_are_bounded,
    bf16_add_bounds_hold_for_one_addition
);
tight_properties!(
    f16,
    f16_single_roundings_are_bounded,
    f16_add_bounds_hold_for_one_addition
);

/// `log_softmax`'s VJP bound must cover the exact softmax, not the runtime's (which rounds
/// below it): at `x̂ = 0` over 7 entries, runtime seed 0 with bound 1, the spec seed
/// `(1, −1, …, −1)` gives the contribution `1 − (1/7)(−5) = 12/7` in the first entry, while
/// the runtime contribution is 0. (A bound built on the rounded `p̂ = 1/7` gave 1.7129 in
/// bf16.)
fn log_softmax_vjp_bound_covers_the_exact_softmax<R>()
where
    R: shapetape::approx::RuntimeFloat + shapetape::approx::ToSpec<f64> + ToSpec<Rational>,
{
    type G = HList![Vector<7>];
    let node = ops::log_softmax(Idx::<G, Vector<7>>::at::<0>()).into_rev_node::<R, f64>();
    let x: TList<R, G> = tlist![Tensor::zeros()];
    let e = node.vjp_bound(&EList::zero(), &x, 1.0, &Tensor::zeros());
    assert!(
        e.as_slice()[0] >= 12.0 / 7.0,
        "{}: bound {} below the attained 12/7",
        core::any::type_name::<R>(),
        e.as_slice()[0]
    );
}

#[test]
fn log_softmax_vjp_bound_is_sound_in_every_format() {
    log_softmax_vjp_bound_covers_the_exact_softmax::<bf16>();
    log_softmax_vjp_bound_covers_the_exact_softmax::<f16>();
    log_softmax_vjp_bound_covers_the_exact_softmax::<f32>();
}
