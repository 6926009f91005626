//! Checks of the double-double reference scalar `Dd` (`tests/common/reference.rs`), independent
//! of the library's own interval code:
//!
//! 1. arithmetic `+ − × ÷` against exact rationals (`shapetape::Rational` of the two `f64`
//!    components), on random operands and on adversarial ones (cancellation, huge and tiny
//!    magnitudes, exact results): relative error ≤ [`TOL_ARITH`], and every result is a
//!    canonical double-double (`hi = RN(hi + lo)`);
//! 2. `exp`, `exp_m1`, `ln`, `ln_1p`, `tanh`, `sqrt` against the committed fixture
//!    `tests/fixtures/dd_reference.json` (40 significant digits from Python's `decimal` at 60
//!    digits, `scripts/make_dd_reference.py`), compared exactly as rationals: relative error
//!    ≤ [`TOL_FN`] (absolute ≤ 1e-300 where the value is 0);
//! 3. the `Element`/`Real` plumbing: the classifier of `examples/support/model.rs` (tanh
//!    hidden layer, cross-entropy loss) built as `GraphData<Dd, ..>` and as `GraphData<f64, ..>`
//!    agrees on every slot of `eval` and of `backprop_ctx` to [`TOL_F64`] relative to the slot's
//!    largest entry; the `Dd` values lie in the interval enclosures of the library; and the
//!    certified bounds of the `f32` runtime graph dominate the errors measured against `Dd`.
//!
//! Each test prints its measured maxima (`cargo test --test reference_scalar -- --nocapture`).
//! Case counts: proptest's default (256) or `PROPTEST_CASES`.

#[path = "common/reference.rs"]
mod reference;

#[path = "../examples/support/model.rs"]
mod model;

use num_traits::Zero;
use proptest::prelude::*;
use reference::{
    Dd, ctx_to_dd, distance, parse_decimal, rational_to_sci, rel_error, slot_max_abs,
    slot_max_distances,
};
use serde_json::Value;
use shapetape::approx::{EList, Interval, RevGraph};
use shapetape::autograd::GraphData;
use shapetape::prelude::*;
use shapetape::rng::SplitMix64;
use shapetape::{Element, Rational, Real};

/// Relative error allowed for `+ − × ÷` (the proven bounds are `3u²`, `4u²` with
/// `u² = 2⁻¹⁰⁶ ≈ 1.2e-32`; division is a few `u²`).
const TOL_ARITH: f64 = 1e-30;
/// Relative error allowed for the functions against the 40-digit fixture.
const TOL_FN: f64 = 1e-30;
/// Normwise relative agreement of the `f64` and `Dd` evaluations of the classifier.
const TOL_F64: f64 = 1e-13;

const FIXTURE: &str = include_str!("fixtures/dd_reference.json");

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// `[a, b, …]` with two decimals in scientific notation.
fn sci(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{x:.2e}")).collect();
    format!("[{}]", items.join(", "))
}

fn exact(x: Dd) -> Rational {
    x.to_rational().expect("finite operand")
}

/// Whether `x` is a canonical double-double: `hi = RN(hi + lo)`.
fn canonical(x: Dd) -> bool {
    let (hi, lo) = x.parts();
    hi + lo == hi
}

// ============================================================================== 1. arithmetic

/// A double-double with `|hi| ∈ [2^emin, 2^emax)` and a low part of any size below half an ulp
/// (or zero).
fn dd_in(emin: i32, emax: i32) -> impl Strategy<Value = Dd> {
    (
        any::<bool>(),
        1.0f64..2.0,
        emin..emax,
        prop_oneof![Just(None), (-1.0f64..1.0, 53i32..110).prop_map(Some)],
    )
        .prop_map(|(neg, m, e, lo)| {
            let hi = if neg { -m } else { m } * 2f64.powi(e);
            let lo = lo.map_or(0.0, |(v, k)| hi * v * 2f64.powi(-k));
            Dd::new(hi, lo)
        })
}

/// Whether a double-double has full precision at the exact value `r`: `r = 0` or
/// `2⁻⁹⁶⁸ ≤ |r| ≤ f64::MAX` (below, the low part of the result would be subnormal; above, it
/// overflows).
fn in_range(r: &Rational) -> bool {
    r.is_zero() || (2f64.powi(-968)..=f64::MAX).contains(&Element::to_f64(r).abs())
}

/// Checks `a op b` for the four operations against the exact rational result (those whose
/// exact result is [`in_range`]); returns how many were checked.
fn check_arith(a: Dd, b: Dd, worst: &mut [f64; 4]) -> Result<usize, TestCaseError> {
    let (ra, rb) = (exact(a), exact(b));
    let results = [
        (a + b, &ra + &rb),
        (a - b, &ra - &rb),
        (a * b, &ra * &rb),
        (a / b, &ra / &rb),
    ];
    let mut checked = 0;
    for (k, (got, want)) in results.into_iter().enumerate() {
        if !in_range(&want) {
            continue;
        }
        checked += 1;
        prop_assert!(
            canonical(got),
            "op {k} of {a:?}, {b:?}: {got:?} is not canonical"
        );
        let err = rel_error(got, &want);
        worst[k] = worst[k].max(err);
        prop_assert!(
            err <= TOL_ARITH,
            "op {k} (+ − × ÷) of {a:?}, {b:?}: {got:?}, relative error {err:e}"
        );
    }
    Ok(checked)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    /// Operands of any magnitude that keeps products and quotients in the normal range.
    #[test]
    fn arithmetic_matches_exact_rationals(a in dd_in(-400, 400), b in dd_in(-400, 400)) {
        prop_assert_eq!(check_arith(a, b, &mut [0.0; 4])?, 4);
    }

    /// Operands of about the same magnitude: the sums and differences cancel.
    #[test]
    fn arithmetic_under_cancellation(
        a in dd_in(-30, 30),
        ulps in -4i32..=4,
        v in -1.0f64..1.0,
        k in 53i32..110,
    ) {
        let (hi, _) = a.parts();
        // b's high part is a few ulps from −a's, its low part unrelated to a's.
        let bhi = -hi + f64::from(ulps) * hi.abs() * f64::EPSILON;
        let b = Dd::new(bhi, bhi * v * 2f64.powi(-k));
        prop_assert_eq!(check_arith(a, b, &mut [0.0; 4])?, 4);
        // a + (−a) is exactly zero.
        prop_assert!((a + -a).is_positive_zero() || (a + -a) == Dd::from(0.0));
    }
}

#[test]
fn arithmetic_adversarial() {
    let p = |e: i32| 2f64.powi(e);
    let pairs = [
        // Cancellation of the high parts, the result lives in the low parts.
        (Dd::new(1.0, p(-60)), Dd::new(-1.0, p(-70))),
        (Dd::new(1.0, p(-60)), Dd::new(-1.0, -p(-61))),
        (Dd::new(1.0, -p(-54)), Dd::new(-1.0, p(-106))),
        (Dd::new(3.0, 1e-16), Dd::new(-3.0, 1e-16 * (1.0 + p(-40)))),
        (Dd::new(1e20, 1234.5), Dd::new(-1e20, -1234.25)),
        // Products and quotients whose exact results need all the bits.
        (Dd::from(1.0 + p(-52)), Dd::from(1.0 - p(-52))),
        (Dd::from(1.0), Dd::from(3.0)),
        (Dd::from(2.0), Dd::from(3.0)),
        (Dd::new(1.0, p(-80)), Dd::new(1.0, -p(-80))),
        (Dd::from(0.1), Dd::from(0.3)),
        (
            Dd::from((1u64 << 53) as f64 - 1.0),
            Dd::from((1u64 << 52) as f64 + 1.0),
        ),
        // Huge and tiny magnitudes (results still at least 2^-969, where lo is normal).
        (Dd::from(1e300), Dd::from(1e-8)),
        (Dd::new(1e300, 1e283), Dd::new(-1e300, 1e284)),
        (Dd::from(1e150), Dd::new(1e150, -1e133)),
        (Dd::from(1e-140), Dd::new(1e-140, 1e-157)),
        (Dd::new(1.7e308, 1e291), Dd::from(1.0)),
        (Dd::from(1e-280), Dd::new(-3e-281, 1e-298)),
        (Dd::from(1e-5), Dd::from(1e285)),
        // Equal operands: x − x = 0, x / x = 1.
        (Dd::new(0.7, 1e-17), Dd::new(0.7, 1e-17)),
        (Dd::new(-5.5, 3e-16), Dd::new(-5.5, 3e-16)),
    ];
    let mut worst = [0.0f64; 4];
    let mut checked = 0;
    for (a, b) in pairs {
        checked += check_arith(a, b, &mut worst).unwrap();
        checked += check_arith(b, a, &mut worst).unwrap();
    }
    // Only a few results of the extreme pairs leave the range (1e-8 / 1e300, 1e-280 · 3e-281, …).
    assert!(checked >= 8 * pairs.len() - 6, "{checked} results checked");
    println!(
        "adversarial worst relative errors (+ − × ÷): {}",
        sci(&worst)
    );
}

/// The measured maxima over a fixed random sample (printed; the bounds are asserted by the
/// property tests above).
#[test]
fn arithmetic_worst_case_report() {
    let mut rng = SplitMix64::new(11);
    let mut worst = [0.0f64; 4];
    let draw = |rng: &mut SplitMix64| {
        let hi = rng.uniform(1.0, 2.0) * 2f64.powi(rng.below(81) as i32 - 40);
        let hi = if rng.next_f64() < 0.5 { -hi } else { hi };
        let lo = hi * rng.uniform(-1.0, 1.0) * 2f64.powi(-53 - rng.below(40) as i32);
        Dd::new(hi, lo)
    };
    for _ in 0..2000 {
        let a = draw(&mut rng);
        let b = if rng.next_f64() < 0.5 {
            // cancelling partner
            let (hi, _) = a.parts();
            Dd::new(-hi, hi * rng.uniform(-1.0, 1.0) * 2f64.powi(-60))
        } else {
            draw(&mut rng)
        };
        assert_eq!(check_arith(a, b, &mut worst).unwrap(), 4);
    }
    let u2 = 2f64.powi(-106);
    println!(
        "random worst relative errors (+ − × ÷): {} = {} u²",
        sci(&worst),
        sci(&worst.map(|w| w / u2))
    );
}

// ============================================================================== 2. functions

/// The fixture cases: function name, argument, exact rational of the 40-digit value.
fn fixture() -> Vec<(String, Dd, String, Rational)> {
    let doc: Value = serde_json::from_str(FIXTURE).expect("the fixture is valid JSON");
    assert_eq!(doc["digits"].as_u64(), Some(40));
    doc["cases"]
        .as_array()
        .expect("a list of cases")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().expect("a string field").to_owned();
            let hi: f64 = s("hi").parse().expect("hi is a float");
            let lo: f64 = s("lo").parse().expect("lo is a float");
            let value = parse_decimal(&s("value")).expect("value is a decimal");
            (s("f"), Dd::new(hi, lo), s("value"), value)
        })
        .collect()
}

fn apply(f: &str, x: Dd) -> Dd {
    match f {
        "exp" => x.exp(),
        "exp_m1" => x.exp_m1(),
        "ln" => x.ln(),
        "ln_1p" => x.ln_1p(),
        "tanh" => x.tanh(),
        "sqrt" => x.sqrt(),
        other => panic!("unknown function {other} in the fixture"),
    }
}

#[test]
fn functions_match_decimal_fixture() {
    let cases = fixture();
    assert!(cases.len() > 400, "the fixture has {} cases", cases.len());
    let names = ["exp", "exp_m1", "ln", "ln_1p", "tanh", "sqrt"];
    let mut worst: [(f64, String); 6] = Default::default();
    let mut failures = Vec::new();
    for (f, x, text, want) in &cases {
        let got = apply(f, *x);
        let k = names.iter().position(|n| n == f).expect("known name");
        let err = if want.is_zero() {
            got.hi().abs()
        } else {
            rel_error(got, want)
        };
        let tol = if want.is_zero() { 1e-300 } else { TOL_FN };
        if err > worst[k].0 {
            worst[k] = (err, format!("{x:?}"));
        }
        if err > tol || err.is_nan() {
            failures.push(format!("{f}({x:?}) = {got} but {text}: error {err:e}"));
        }
    }
    for (n, (w, at)) in names.iter().zip(&worst) {
        println!("{n:>7}: max relative error {w:.2e} at {at}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A double-double argument `hi + lo` with `hi` from `range` and a low part below half an ulp.
fn dd_arg(range: core::ops::Range<f64>) -> impl Strategy<Value = Dd> {
    (range, -1.0f64..1.0).prop_map(|(hi, v)| Dd::new(hi, hi * v * 2f64.powi(-54)))
}

/// `|a − b| ≤ tol · scale` in double-double.
fn close(a: Dd, b: Dd, tol: f64, scale: f64) -> bool {
    Element::abs(&(a - b)).hi() <= tol * scale
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    /// Identities between the functions at random arguments (between the fixture's points),
    /// each to about [`TOL_FN`] times its condition.
    #[test]
    fn function_identities(x in dd_arg(-80.0..80.0), y in dd_arg(1e-30..1e30), e in -30i32..0) {
        let one = Dd::from(1.0);
        prop_assert!(close(x.exp() * (-x).exp(), one, 4.0 * TOL_FN, 1.0));
        prop_assert!(close(x.exp().ln(), x, 4.0 * TOL_FN, 1.0 + x.hi().abs()));
        prop_assert!(close(x.exp_m1() + one, x.exp(), 4.0 * TOL_FN, 1.0 + x.exp().hi()));
        let t = x.tanh();
        prop_assert_eq!((-x).tanh(), -t);
        let t2 = (x + x).tanh();
        prop_assert!(close(t2, (t + t) / (one + t * t), 4.0 * TOL_FN, t2.hi().abs()));
        prop_assert!(close(y.ln().exp(), y, 4.0 * TOL_FN, y.hi() * (1.0 + y.hi().ln().abs())));
        let r = y.sqrt();
        prop_assert!(close(r * r, y, 4.0 * TOL_FN, y.hi()));
        // Small arguments: ln_1p ∘ exp_m1 is the identity to relative accuracy.
        let z = x * Dd::from(2f64.powi(e)) / Dd::from(80.0);
        prop_assert!(close(z.exp_m1().ln_1p(), z, 4.0 * TOL_FN, z.hi().abs()));
        // tanh z = (e^{2z} − 1) / (e^{2z} + 1) with e^{2z} − 1 = m (m + 2), m = exp_m1(z).
        let m = z.exp_m1();
        let e2 = m * (m + Dd::from(2.0));
        prop_assert!(close(z.tanh(), e2 / (e2 + Dd::from(2.0)), 8.0 * TOL_FN, z.hi().abs()));
    }
}

/// Special values follow `f64` (NaN propagates, `ln 0 = −∞`, overflow to `+∞`).
#[test]
fn functions_special_values() {
    let nan = Dd::from(f64::NAN);
    for f in ["exp", "exp_m1", "ln", "ln_1p", "tanh", "sqrt"] {
        assert!(apply(f, nan).hi().is_nan(), "{f}(NaN)");
    }
    assert_eq!(Dd::from(0.0).ln().hi(), f64::NEG_INFINITY);
    assert!(Dd::from(-1.0).ln().hi().is_nan());
    assert!(Dd::from(-1.0).sqrt().hi().is_nan());
    assert_eq!(Dd::from(-1.0).ln_1p().hi(), f64::NEG_INFINITY);
    assert_eq!(Dd::from(710.0).exp().hi(), f64::INFINITY);
    assert_eq!(Dd::from(-800.0).exp().hi(), 0.0);
    assert_eq!(Dd::from(f64::INFINITY).exp().hi(), f64::INFINITY);
    assert_eq!(Dd::from(f64::NEG_INFINITY).exp().hi(), 0.0);
    assert_eq!(Dd::from(f64::NEG_INFINITY).exp_m1().hi(), -1.0);
    assert_eq!(Dd::from(f64::INFINITY).ln().hi(), f64::INFINITY);
    assert_eq!(Dd::from(f64::INFINITY).sqrt().hi(), f64::INFINITY);
    assert_eq!(Dd::from(1e6).tanh(), Dd::from(1.0));
    assert_eq!(Dd::from(f64::NEG_INFINITY).tanh(), Dd::from(-1.0));
    assert!((Dd::from(1.0) / Dd::from(0.0)).hi() == f64::INFINITY);
    assert!((Dd::from(0.0) / Dd::from(0.0)).hi().is_nan());
    assert!((Dd::from(1e300) * Dd::from(1e300)).hi() == f64::INFINITY);
}

// ============================================================================== scalar traits

#[test]
fn element_and_real_contract() {
    // from_i64 is exact, also where an f64 is not.
    for n in [
        0i64,
        1,
        -7,
        i64::MAX,
        i64::MIN,
        (1 << 53) + 1,
        -(1 << 60) - 3,
    ] {
        assert_eq!(
            exact(<Dd as Element>::from_i64(n)),
            Rational::from_integer(n.into())
        );
    }
    // to_f64 rounds to nearest: hi is the nearest double of hi + lo.
    let x = Dd::new(1.0, f64::EPSILON / 2.0 * 0.999);
    assert_eq!(x.to_f64(), 1.0);
    let third = Dd::from(1.0) / Dd::from(3.0);
    assert_eq!(third.to_f64(), 1.0 / 3.0);
    // from_f64 is exact; the order is the order of the values.
    assert_eq!(<Dd as Real>::from_f64(0.1).parts(), (0.1, 0.0));
    assert!(Dd::new(1.0, 1e-20) > Dd::from(1.0));
    assert!(Dd::new(1.0, -1e-20) < Dd::from(1.0));
    assert!(Dd::new(1.0, -1e-20) > Dd::from(1.0 - f64::EPSILON / 2.0));
    // max is maxNum, elem_max the larger value, heaviside H(0) = 0.
    let nan = Dd::from(f64::NAN);
    assert_eq!(nan.max(Dd::from(2.0)), Dd::from(2.0));
    assert_eq!(Dd::from(2.0).max(nan), Dd::from(2.0));
    assert_eq!(Dd::new(1.0, 1e-20).max(Dd::from(1.0)), Dd::new(1.0, 1e-20));
    assert_eq!(
        Dd::from(1.0).elem_max(&Dd::new(1.0, 1e-20)),
        Dd::new(1.0, 1e-20)
    );
    assert_eq!(Dd::from(0.0).heaviside(), Dd::from(0.0));
    assert_eq!(Dd::new(0.0, 0.0).heaviside(), Dd::from(0.0));
    assert_eq!(Dd::from(1e-300).heaviside(), Dd::from(1.0));
    assert_eq!(Dd::from(-1e-300).heaviside(), Dd::from(0.0));
    assert!(Dd::from(0.0).is_positive_zero());
    assert!(!Dd::from(-0.0).is_positive_zero());
    assert_eq!(Element::abs(&Dd::new(-2.0, 1e-17)), Dd::new(2.0, -1e-17));
    assert!(Dd::from(1.0).is_finite() && !Dd::from(f64::INFINITY).is_finite());
    // EPSILON is 2^-104.
    assert_eq!(
        exact(Dd::EPSILON),
        Rational::new(1.into(), (1u128 << 104).into())
    );
}

#[test]
fn display_and_parsing() {
    // 0.1 = 0.1000000000000000055511151231257827021181583404541015625 exactly.
    assert_eq!(
        Dd::from(0.1).to_string(),
        "1.000000000000000055511151231257827e-1"
    );
    assert_eq!(format!("{:.5}", Dd::from(-123456.0)), "-1.2346e5");
    assert_eq!(
        Dd::from(1.0).to_string(),
        "1.000000000000000000000000000000000e0"
    );
    assert_eq!(Dd::from(0.0).to_string(), "0");
    assert_eq!(
        Dd::from(9.5).to_string().len(),
        "9.".len() + 33 + "e0".len()
    );
    // sqrt(2) = 1.41421356237309504880168872420969807856967…: the double-double nearest to it
    // agrees to 30 digits (its own exact decimal expansion differs from the 32nd digit on).
    assert_eq!(
        format!("{:.30}", Dd::from(2.0).sqrt()),
        "1.41421356237309504880168872421e0"
    );
    let r = |n: i64, d: i64| Rational::new(n.into(), d.into());
    assert_eq!(parse_decimal("-1.25e-3"), Some(r(-125, 100_000)));
    assert_eq!(parse_decimal("7"), Some(r(7, 1)));
    assert_eq!(parse_decimal("+0.5E1"), Some(r(5, 1)));
    assert_eq!(parse_decimal(".5"), Some(r(1, 2)));
    assert_eq!(parse_decimal("1e"), None);
    assert_eq!(parse_decimal("x"), None);
    assert_eq!(parse_decimal("."), None);
    assert_eq!(rational_to_sci(&r(-1, 3), 3), "-3.33e-1");
    assert_eq!(rational_to_sci(&r(999_999, 1), 3), "1.00e6");
    // distance is exact-ish even when it cancels.
    assert_eq!(distance(Dd::new(1.0, 1e-30), 1.0), 1e-30);
    assert_eq!(distance(Dd::from(3.0), 1.0), 2.0);
    // from_rational round-trips a double-double.
    let x = Dd::new(std::f64::consts::PI, 1.2246467991473532e-16);
    assert_eq!(Dd::from_rational(&exact(x)), x);
}

// ============================================================================== 3. a model

const B: usize = 4;
const H: usize = 8;
type Inputs = model::Inputs<B, 2, H, 2>;
type Nodes = model::Nodes<B, H, 2>;
type Ctx = Cat<Inputs, Nodes>;

fn graph<A: Real>() -> GraphData<A, (), Inputs, Nodes> {
    GraphData::<A, (), Inputs, _>::build(|b| model::classifier::<_, model::Tanh, B, 2, H, 2>(b).0)
}

/// Random weights and points (as in examples/certify.rs), rounded to `f32` so that the same
/// values are exact in every scalar type.
fn inputs(seed: u64) -> TList<f64, Inputs> {
    let mut rng = SplitMix64::new(seed);
    let t = Tensor::from_fn(|ix| if ix[1] == ix[0] % 2 { 1.0 } else { 0.0 });
    let x: TList<f64, Inputs> = tlist![
        rng.glorot_uniform(),
        rng.uniform_tensor(-0.1, 0.1),
        rng.glorot_uniform(),
        rng.uniform_tensor(-0.1, 0.1),
        rng.uniform_tensor(-2.0, 2.0),
        t
    ];
    x.map(|&v| f64::from(v as f32))
}

/// `maxᵢ |f64ᵢ − ddᵢ| / maxᵢ |ddᵢ|` for every slot (0 for an all-zero slot that matches).
fn normwise<G: ShapeList>(dd: &TList<Dd, G>, f: &TList<f64, G>) -> Vec<f64> {
    slot_max_distances(dd, f)
        .into_iter()
        .zip(slot_max_abs(dd))
        .map(|(d, n)| if n > 0.0 { d / n } else { d })
        .collect()
}

#[test]
fn classifier_dd_matches_f64() {
    let (gd, gf) = (graph::<Dd>(), graph::<f64>());
    let loss = Idx::<Ctx, Scalar>::at::<9>();
    let mut worst_eval = 0.0f64;
    let mut worst_grad = 0.0f64;
    for seed in 0..4 {
        let x = inputs(seed);
        let xd = ctx_to_dd(&x);
        let (vd, vf) = (gd.eval(xd.clone(), &()), gf.eval(x.clone(), &()));
        let rel = normwise(&vd, &vf);
        assert_eq!(rel.len(), 10);
        for (k, r) in rel.iter().enumerate() {
            assert!(*r <= TOL_F64, "seed {seed}, eval slot {k}: relative {r:e}");
        }
        worst_eval = rel.iter().fold(worst_eval, |m, &r| m.max(r));
        // The loss is a genuine cross-entropy (positive, and not a constant of the inputs).
        let l = vd.get(loss).as_slice()[0];
        assert!(l > Dd::from(0.0) && l.hi() < 10.0, "loss {l}");

        let seed_f = TList::<f64, Ctx>::single(loss, Tensor::new(1.0));
        let seed_d = ctx_to_dd(&seed_f);
        let gdd = gd.backprop_ctx(xd, &(), seed_d);
        let gff = gf.backprop_ctx(x, &(), seed_f);
        let rel = normwise(&gdd, &gff);
        assert_eq!(rel.len(), 6);
        for (k, r) in rel.iter().enumerate() {
            assert!(
                *r <= TOL_F64,
                "seed {seed}, gradient slot {k}: relative {r:e}"
            );
        }
        // The weight gradients are not trivially zero (the check compares something).
        assert!(slot_max_abs(&gdd)[..4].iter().all(|&n| n > 1e-6));
        worst_grad = rel.iter().fold(worst_grad, |m, &r| m.max(r));
    }
    println!("f64 vs Dd, normwise relative: eval {worst_eval:.2e}, backprop_ctx {worst_grad:.2e}");
}

/// The `Dd` values lie in the library's interval enclosures of the exact values (up to the
/// `Dd` error, far below an `f64` ulp): two independent computations agree.
#[test]
fn classifier_dd_inside_interval_enclosures() {
    let gd = graph::<Dd>();
    let gi = GraphData::<Interval, (), Inputs, _>::build(|b| {
        model::classifier::<_, model::Tanh, B, 2, H, 2>(b).0
    });
    let x = inputs(5);
    let vd = gd.eval(ctx_to_dd(&x), &());
    let vi = gi.eval(x.map(|&v| Interval::point(v)), &());
    let mut widest = 0.0f64;
    for (k, (d, i)) in vd.slot_slices().zip(vi.slot_slices()).enumerate() {
        for (d, iv) in d.iter().zip(i) {
            let slack = 1e-25 * d.hi().abs();
            assert!(
                iv.lo() - slack <= d.hi() && d.hi() <= iv.hi() + slack,
                "slot {k}: {d} outside [{:e}, {:e}]",
                iv.lo(),
                iv.hi()
            );
            widest = widest.max(iv.hi() - iv.lo());
        }
    }
    println!("Dd inside every enclosure (widest {widest:.2e})");
}

/// How the lead's measurement reads: the `f32` runtime of a certified graph against the `Dd`
/// evaluation of the same model on the same (f32) inputs; every certified bound must dominate
/// the measured error (Lean's `eval_approx`, `backprop_approx`).
#[test]
fn certified_f32_bounds_dominate_dd_errors() {
    let rev = RevGraph::<f32, f64, Inputs, _>::build(|b| {
        model::classifier::<_, model::Tanh, B, 2, H, 2>(b).0
    });
    let gd = graph::<Dd>();
    let loss = Idx::<Ctx, Scalar>::at::<9>();
    let x = inputs(9);
    let x_rt: TList<f32, Inputs> = x.map(|&v| v as f32);
    let (values, bounds) = rev.eval_certified(EList::zero(), x_rt.clone());
    let errors = slot_max_distances(&gd.eval(ctx_to_dd(&x), &()), &values);
    for (k, (e, b)) in errors.iter().zip(bounds.as_slice()).enumerate() {
        assert!(e <= b, "eval slot {k}: error {e:e} above the bound {b:e}");
    }
    println!(
        "eval: errors {}\n      bounds {}",
        sci(&errors),
        sci(bounds.as_slice())
    );

    let seed_rt = TList::<f32, Ctx>::single(loss, Tensor::new(1.0));
    let (grads, gbounds) = rev.backprop_certified(EList::zero(), x_rt, EList::zero(), seed_rt);
    let seed_d = TList::<Dd, Ctx>::single(loss, Tensor::new(Dd::from(1.0)));
    let exact_grads = gd.backprop_ctx(ctx_to_dd(&x), &(), seed_d);
    let gerrors = slot_max_distances(&exact_grads, &grads);
    for (k, (e, b)) in gerrors.iter().zip(gbounds.as_slice()).enumerate() {
        assert!(
            e <= b,
            "gradient slot {k}: error {e:e} above the bound {b:e}"
        );
    }
    println!(
        "grad: errors {}\n      bounds {}",
        sci(&gerrors),
        sci(gbounds.as_slice())
    );
}
