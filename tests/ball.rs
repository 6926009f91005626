//! The double-double ball scalar `shapetape::approx::Ball`, checked exactly:
//!
//! 1. **Arithmetic inclusion** against exact `shapetape::Rational`s: for random balls (midpoints
//!    with a low part or without, radius 0 or up to half the midpoint, magnitudes from 2⁻³⁰⁰ to
//!    2³⁰⁰, cancelling pairs) and points chosen inside them (both endpoints, the midpoint, a
//!    random interior point, all exact rationals), the exact `x ∘ y` lies in `X ∘ Y` for
//!    `+ − × ÷`, and every result's midpoint is a canonical double-double.
//! 2. **Functions.** Every case of the 40-digit fixture `tests/fixtures/dd_reference.json` (the
//!    one `tests/reference_scalar.rs` checks the reference against): the interval of reals
//!    within the fixture's rounding of its value lies in `f(point)`; this tests the assumed
//!    midpoint error `2⁻⁹⁶|F| + 2⁻¹⁰⁰⁰` (the measured worst ratio of error to assumption is
//!    printed). For balls of radius > 0, points inside are evaluated by the double-double
//!    reference (`tests/common/reference.rs`, accurate to 1e-30 relative): the reference value
//!    widened by that accuracy must lie in `f(ball)`.
//! 3. **Widths.** Point inputs give radii ≤ 1e-28 relative (for results above 1e-250, where the
//!    absolute underflow allowance `2⁻¹⁰⁰⁰` is negligible), for arithmetic and functions.
//! 4. **Outward bounds**: `lo()`, `hi()`, `max_distance_from`, `contains_f64`, `from_interval`,
//!    `to_interval`, `intersect`, exactly; the `Element`/`Real` contract (`from_i64` exact,
//!    `abs`, `elem_max`, `heaviside`, the order); `gemm` against exact products; and the
//!    classifier of the examples evaluated and differentiated at `Ball`, whose enclosures
//!    contain the double-double reference values with radii near 1e-30.
//!
//! Case counts: `PROPTEST_CASES` (default 64 for the property tests).

#[path = "common/reference.rs"]
mod reference;

#[path = "../examples/support/model.rs"]
mod model;

use proptest::prelude::*;
use reference::{Dd, ctx_to_dd, parse_decimal};
use serde_json::Value;
use shapetape::approx::{Ball, Interval};
use shapetape::autograd::GraphData;
use shapetape::prelude::*;
use shapetape::rng::SplitMix64;
use shapetape::{Element, Rational, Real};

const FIXTURE: &str = include_str!("fixtures/dd_reference.json");

/// Relative accuracy of the double-double reference's functions (checked against the fixture
/// in `tests/reference_scalar.rs`).
const REF_TOL: f64 = 1e-30;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn q(x: f64) -> Rational {
    Rational::from_float(x).expect("finite")
}

fn rabs(v: &Rational) -> Rational {
    num_traits::Signed::abs(v)
}

fn rzero() -> Rational {
    <Rational as num_traits::Zero>::zero()
}

/// The exact midpoint `hi + lo`.
fn mid(b: Ball) -> Rational {
    q(b.mid_hi()) + q(b.mid_lo())
}

/// Whether the exact real `v` lies in the ball.
fn contains(b: Ball, v: &Rational) -> bool {
    b.is_entire() || rabs(&(v - mid(b))) <= q(b.rad())
}

/// Whether every real within `slack` of `v` lies in the ball.
fn contains_with(b: Ball, v: &Rational, slack: &Rational) -> bool {
    b.is_entire() || rabs(&(v - mid(b))) + slack <= q(b.rad())
}

/// Whether the midpoint is a canonical double-double (`hi = RN(hi + lo)`) and the radius valid.
fn canonical(b: Ball) -> bool {
    let (h, l) = (b.mid_hi(), b.mid_lo());
    h.is_finite() && l.is_finite() && h + l == h && b.rad() >= 0.0
}

/// `|v|` as an `f64` (rounded to nearest).
fn mag(v: &Rational) -> f64 {
    Element::to_f64(&rabs(v))
}

// ============================================================================ random balls

/// A ball with `|hi| ∈ [2^emin, 2^emax)`, a low part (or none) and a radius: 0, relative
/// `2⁻ᵏ` (k from 1 to 110) or a tiny absolute one.
fn ball_in(emin: i32, emax: i32) -> impl Strategy<Value = Ball> {
    (
        any::<bool>(),
        1.0f64..2.0,
        emin..emax,
        prop_oneof![Just(None), (-1.0f64..1.0, 53i32..110).prop_map(Some)],
        prop_oneof![
            2 => Just(0.0f64),
            3 => (1i32..110, 1.0f64..2.0).prop_map(|(k, f)| f * 2f64.powi(-k)),
            1 => Just(-1.0), // marker: an absolute radius of 2^-1070
        ],
    )
        .prop_map(|(neg, m, e, lo, rel)| {
            let hi = if neg { -m } else { m } * 2f64.powi(e);
            let lo = lo.map_or(0.0, |(v, k)| hi * v * 2f64.powi(-k));
            let rad = if rel < 0.0 {
                2f64.powi(-1070)
            } else {
                hi.abs() * rel
            };
            Ball::new(hi, lo, rad)
        })
}

/// Exact points of the ball: both endpoints, the midpoint and `m + t r`.
fn points(b: Ball, t: f64) -> Vec<Rational> {
    let (m, r) = (mid(b), q(b.rad()));
    let mut v = vec![&m - &r, &m + &r, m.clone()];
    if b.rad() > 0.0 {
        v.push(&m + &r * q(t));
    }
    v
}

/// Checks `x ∘ y ∈ X ∘ Y` for the four operations at all pairs of points; returns how many
/// quotients were checked (those whose divisor ball excludes 0).
fn check_arith(x: Ball, y: Ball, t: f64) -> Result<usize, TestCaseError> {
    let results = [x + y, x - y, x * y, x / y];
    for (k, r) in results.iter().enumerate() {
        prop_assert!(canonical(*r), "op {k} of {x:?}, {y:?}: {r:?} not canonical");
    }
    let mut quotients = 0;
    for a in points(x, t) {
        for b in points(y, -t) {
            let exact = [&a + &b, &a - &b, &a * &b];
            for (k, v) in exact.iter().enumerate() {
                prop_assert!(
                    contains(results[k], v),
                    "op {k} (+ − ×) of {x:?}, {y:?}: {:?} misses {}",
                    results[k],
                    Element::to_f64(v)
                );
            }
            if b != rzero() {
                prop_assert!(
                    contains(results[3], &(&a / &b)),
                    "÷ of {x:?}, {y:?}: {:?} misses {}",
                    results[3],
                    Element::to_f64(&(&a / &b))
                );
                quotients += usize::from(!results[3].is_entire());
            } else {
                prop_assert!(
                    results[3].is_entire(),
                    "{x:?} / {y:?} with 0 in the divisor"
                );
            }
        }
    }
    Ok(quotients)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), ..ProptestConfig::default() })]

    /// Operands of moderate magnitudes.
    #[test]
    fn arithmetic_inclusion(x in ball_in(-40, 40), y in ball_in(-40, 40), t in -1.0f64..1.0) {
        check_arith(x, y, t)?;
    }

    /// Huge and tiny magnitudes (products and quotients may overflow or underflow).
    #[test]
    fn arithmetic_inclusion_extreme(x in ball_in(-300, 300), y in ball_in(-300, 300), t in -1.0f64..1.0) {
        check_arith(x, y, t)?;
    }

    /// Nearly opposite operands: the sums and differences cancel.
    #[test]
    fn arithmetic_inclusion_cancellation(
        x in ball_in(-30, 30),
        ulps in -4i32..=4,
        v in -1.0f64..1.0,
        k in 53i32..110,
        t in -1.0f64..1.0,
    ) {
        let h = x.mid_hi();
        let yh = -h + f64::from(ulps) * h.abs() * f64::EPSILON;
        let y = Ball::new(yh, yh * v * 2f64.powi(-k), x.rad());
        check_arith(x, y, t)?;
        check_arith(x, -x, t)?;
    }

    /// Point operands: radii of at most 1e-28 relative (exact for sums and products of
    /// single `f64`s).
    #[test]
    fn arithmetic_point_widths(x in ball_in(-100, 100), y in ball_in(-100, 100)) {
        let (x, y) = (Ball::new(x.mid_hi(), x.mid_lo(), 0.0), Ball::new(y.mid_hi(), y.mid_lo(), 0.0));
        for (k, r) in [x + y, x - y, x * y, x / y].into_iter().enumerate() {
            prop_assert!(r.rad() <= 1e-28 * r.mid_hi().abs(), "op {k}: {r} of {x}, {y}");
        }
        let (a, b) = (Ball::point(x.mid_hi()), Ball::point(y.mid_hi()));
        prop_assert_eq!((a + b).rad(), 0.0);
        prop_assert_eq!((a * b).rad(), 0.0);
    }
}

#[test]
fn arithmetic_special_cases() {
    let entire = Ball::ENTIRE;
    let zero = Ball::point(0.0);
    let two = Ball::point(2.0);
    // 0 · anything is exactly 0, also the whole line; otherwise the whole line spreads.
    assert_eq!(zero * entire, zero);
    assert_eq!(entire * zero, zero);
    assert_eq!(entire * two, entire);
    assert_eq!(entire + two, entire);
    assert_eq!(two - entire, entire);
    assert_eq!(two / entire, entire);
    assert_eq!(entire / two, entire);
    assert_eq!(zero / two, zero);
    // Adding the point 0 is exact (what `is_positive_zero` promises).
    let x = Ball::new(1.0, 1e-20, 1e-25);
    assert_eq!(x + zero, x);
    assert_eq!(zero + x, x);
    assert!(zero.is_positive_zero());
    assert!(!Ball::point(-0.0).is_positive_zero());
    assert!(!Ball::around(0.0, 1e-300).is_positive_zero());
    // Divisors reaching 0, NaN and overflow give the whole line.
    assert_eq!(two / Ball::around(1.0, 1.0), entire);
    assert_eq!(two / Ball::around(-1e-300, 2e-300), entire);
    assert_eq!(Ball::point(f64::NAN), entire);
    assert_eq!(Ball::point(f64::INFINITY), entire);
    assert_eq!(Ball::around(1.0, f64::NAN), entire);
    assert_eq!(Ball::around(1.0, -1.0), entire);
    assert_eq!(Ball::point(1e300) * Ball::point(1e300), entire);
    assert_eq!(Ball::point(f64::MAX) + Ball::point(f64::MAX), entire);
    assert_eq!(-entire, entire);
    // Exact small results stay points.
    assert_eq!(Ball::point(3.0) * Ball::point(0.5), Ball::point(1.5));
    assert_eq!(Ball::point(1.0) / Ball::point(8.0), Ball::point(0.125));
    assert_eq!(Ball::point(0.1) - Ball::point(0.1), zero);
}

// ============================================================================ functions

/// The fixture cases: function name, argument, the decimal value as text and as a rational.
fn fixture() -> Vec<(String, (f64, f64), String, Rational)> {
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
            (s("f"), (hi, lo), s("value"), value)
        })
        .collect()
}

/// The arguments where the functions have exact values a ball returns as points: `exp(0) = 1`,
/// `ln(1) = 0`, `f(0) = 0` for the others.
fn is_exact_case(f: &str, hi: f64, lo: f64) -> bool {
    lo == 0.0 && hi == if f == "ln" { 1.0 } else { 0.0 }
}

const NAMES: [&str; 6] = ["exp", "exp_m1", "ln", "ln_1p", "tanh", "sqrt"];

fn apply<A: Real>(f: &str, x: A) -> A {
    match f {
        "exp" => x.exp(),
        "exp_m1" => x.exp_m1(),
        "ln" => x.ln(),
        "ln_1p" => x.ln_1p(),
        "tanh" => x.tanh(),
        "sqrt" => x.sqrt(),
        other => panic!("unknown function {other}"),
    }
}

/// The fixture's exact values (widened by their 40-digit rounding) lie in `f(point)`; the
/// midpoint errors against the assumed bound `2⁻⁹⁶|F| + 2⁻¹⁰⁰⁰`, and the radii ≤ 1e-28
/// relative.
#[test]
fn functions_enclose_the_decimal_fixture() {
    let cases = fixture();
    assert!(cases.len() > 400);
    let assumed = |v: f64| 2f64.powi(-96) * v.abs() + 2f64.powi(-1000);
    let mut worst_ratio = [0.0f64; 6];
    let mut widest = [0.0f64; 6];
    let mut failures = Vec::new();
    for (f, (hi, lo), text, value) in &cases {
        let k = NAMES.iter().position(|n| n == f).expect("known function");
        let x = Ball::new(*hi, *lo, 0.0);
        let got = apply(f, x);
        // 40 significant digits: the exact value is within 5e-40 |value| of the decimal.
        let slack = rabs(value) * q(5e-40);
        // A point result claims an exact value: only at the arguments where it is known.
        let exact_point = got.rad() == 0.0 && mid(got) == *value && is_exact_case(f, *hi, *lo);
        if !canonical(got) || !(contains_with(got, value, &slack) || exact_point) {
            failures.push(format!("{f}({hi:e} + {lo:e}) = {got} misses {text}"));
            continue;
        }
        let err = mag(&(mid(got) - value));
        worst_ratio[k] = worst_ratio[k].max(err / assumed(got.mid_hi()));
        let v = mag(value);
        if v >= 1e-250 {
            let rel = got.rad() / v;
            widest[k] = widest[k].max(rel);
            if rel > 1e-28 {
                failures.push(format!(
                    "{f}({hi:e} + {lo:e}) = {got}: radius {rel:e} relative"
                ));
            }
        } else if got.rad() > 1e-28 * v + 2f64.powi(-999) {
            failures.push(format!("{f}({hi:e} + {lo:e}) = {got}: radius too large"));
        }
    }
    for (n, (w, r)) in NAMES.iter().zip(worst_ratio.iter().zip(&widest)) {
        println!("{n:>7}: midpoint error ≤ {w:.3} × assumed bound; radius ≤ {r:.2e} relative");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Arguments inside the domain of `f`: `(midpoint hi, radius relative to |hi|)`.
fn fn_arg(f: &'static str) -> impl Strategy<Value = (f64, f64)> {
    let range = match f {
        "exp" | "exp_m1" => -700.0..700.0,
        "tanh" => -60.0..60.0,
        "ln" | "sqrt" => 1e-8..1e8,
        _ => -0.99..100.0, // ln_1p
    };
    let near_zero = match f {
        "ln" | "sqrt" => 1e-30..1e-20,
        _ => -1e-5..1e-5,
    };
    (
        prop_oneof![3 => range, 1 => near_zero],
        prop_oneof![
            3 => (10i32..100).prop_map(|k| 2f64.powi(-k)),
            1 => 0.001f64..0.25,
        ],
    )
}

/// The reference value at a double-double point `y` widened by its accuracy lies in `f(x)`.
fn check_fn_at(f: &str, x: Ball, y: Dd, what: &str) -> Result<(), TestCaseError> {
    let yr = y.to_rational().expect("finite");
    if !contains(x, &yr) {
        return Ok(()); // the nearest double-double to an endpoint may fall just outside
    }
    let fy = apply(f, y);
    let got = apply(f, x);
    prop_assert!(canonical(got));
    if got.is_entire() {
        return Ok(());
    }
    let v = fy.to_rational().expect("finite reference value");
    // The reference's accuracy (relative, and absolute for subnormal results), clipped to the
    // function's range (exp > 0, exp_m1 > −1, |tanh| < 1, √ ≥ 0).
    let slack = rabs(&v) * q(REF_TOL) + q(1e-318);
    let (mut wlo, mut whi) = (&v - &slack, &v + &slack);
    let (range_lo, range_hi) = match f {
        "exp" | "sqrt" => (Some(0.0), None),
        "exp_m1" => (Some(-1.0), None),
        "tanh" => (Some(-1.0), Some(1.0)),
        _ => (None, None),
    };
    if let Some(l) = range_lo {
        wlo = wlo.max(q(l));
    }
    if let Some(h) = range_hi {
        whi = whi.min(q(h));
    }
    let (m, r) = (mid(got), q(got.rad()));
    let (yh, yl) = y.parts();
    let exact_point = got.rad() == 0.0 && m == v && is_exact_case(f, yh, yl);
    prop_assert!(
        (&m - &r <= wlo && whi <= &m + &r) || exact_point,
        "{f}({x}) = {got} misses the reference value {fy} at {what} {y:?}"
    );
    Ok(())
}

fn check_fn_ball(f: &'static str, (h, rel): (f64, f64), t: f64) -> Result<(), TestCaseError> {
    let r = h.abs() * rel;
    let x = Ball::new(h, h * 1e-17 * t, r);
    let (m, rr) = (mid(x), q(x.rad()));
    for (what, p) in [
        ("the lower end", &m - &rr),
        ("the upper end", &m + &rr),
        ("the midpoint", m.clone()),
        ("an interior point", &m + &rr * q(t)),
    ] {
        check_fn_at(f, x, Dd::from_rational(&p), what)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), ..ProptestConfig::default() })]

    #[test]
    fn exp_inclusion(a in fn_arg("exp"), t in -1.0f64..1.0) { check_fn_ball("exp", a, t)?; }
    #[test]
    fn exp_m1_inclusion(a in fn_arg("exp_m1"), t in -1.0f64..1.0) { check_fn_ball("exp_m1", a, t)?; }
    #[test]
    fn ln_inclusion(a in fn_arg("ln"), t in -1.0f64..1.0) { check_fn_ball("ln", a, t)?; }
    #[test]
    fn ln_1p_inclusion(a in fn_arg("ln_1p"), t in -1.0f64..1.0) { check_fn_ball("ln_1p", a, t)?; }
    #[test]
    fn tanh_inclusion(a in fn_arg("tanh"), t in -1.0f64..1.0) { check_fn_ball("tanh", a, t)?; }
    #[test]
    fn sqrt_inclusion(a in fn_arg("sqrt"), t in -1.0f64..1.0) { check_fn_ball("sqrt", a, t)?; }

    /// Point arguments with a low part: radii ≤ 1e-28 relative, and the reference value
    /// inside.
    #[test]
    fn function_point_widths(k in 0usize..6, a in -30.0f64..30.0, v in -1.0f64..1.0) {
        let f = NAMES[k];
        let h = if matches!(f, "ln" | "sqrt") { a.abs() + 1e-3 } else if f == "ln_1p" { a.abs() / 30.0 - 0.9 } else { a };
        let x = Ball::new(h, h * v * 1e-17, 0.0);
        let got = apply(f, x);
        prop_assert!(got.rad() <= 1e-28 * got.mid_hi().abs(), "{f}({x}) = {got}");
        check_fn_at(f, x, Dd::new(x.mid_hi(), x.mid_lo()), "the point")?;
    }
}

#[test]
fn function_special_cases() {
    let entire = Ball::ENTIRE;
    assert_eq!(Ball::point(0.0).exp(), Ball::point(1.0));
    assert_eq!(Ball::point(1.0).ln(), Ball::point(0.0));
    for f in ["exp_m1", "ln_1p", "tanh", "sqrt"] {
        assert_eq!(apply(f, Ball::point(0.0)), Ball::point(0.0), "{f}(0)");
    }
    // Outside the domain, at its edge, or unbounded: the whole line.
    assert_eq!(Ball::point(0.0).ln(), entire);
    assert_eq!(Ball::point(-1.0).ln(), entire);
    assert_eq!(Ball::around(1.0, 2.0).ln(), entire);
    assert_eq!(Ball::point(-1.0).ln_1p(), entire);
    assert_eq!(Ball::point(-4.0).sqrt(), entire);
    assert_eq!(Ball::point(710.0).exp(), entire);
    assert_eq!(entire.exp(), entire);
    // tanh of the whole line is [−1, 1]; sqrt of a ball reaching below 0 is [0, √hi].
    let t = entire.tanh();
    assert!(t.contains_f64(-1.0) && t.contains_f64(1.0) && t.rad() <= 1.0 + 1e-15);
    let s = Ball::around(1.0, 3.0).sqrt();
    assert!(s.contains_f64(0.0) && s.contains_f64(2.0) && s.hi() <= 2.0 + 1e-15);
    // Wide balls go through the interval hull: still tight.
    let e = Ball::around(0.0, 1.0).exp();
    assert!(e.contains_f64(1.0 / std::f64::consts::E) && e.contains_f64(std::f64::consts::E));
    assert!(e.rad() <= (std::f64::consts::E - 1.0 / std::f64::consts::E) / 2.0 + 1e-14);
    // Far tails: exp(−800) is a tiny ball around 0 (the absolute allowance), tanh(30) is 1.
    let tiny = Ball::point(-800.0).exp();
    assert!(tiny.contains_f64(0.0) && tiny.hi() < 1e-300);
    let one = Ball::point(30.0).tanh();
    assert!(one.lo() < 1.0 && one.hi() >= 1.0 && one.rad() < 1e-28);
}

// ============================================================================ outward bounds

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), ..ProptestConfig::default() })]

    /// `lo() ≤ m − r`, `hi() ≥ m + r` (each within a few ulps); `max_distance_from(x) ≥
    /// |m − x| + r` (within a relative 2⁻⁵⁰); `contains_f64` decides exactly.
    #[test]
    fn outward_bounds(x in ball_in(-300, 300), t in -2.0f64..2.0, ulps in -2i64..=2) {
        let (m, r) = (mid(x), q(x.rad()));
        let (lo, hi) = (q(x.lo()), q(x.hi()));
        prop_assert!(lo <= &m - &r && &m + &r <= hi, "{x}: [{}, {}]", x.lo(), x.hi());
        let width = (&hi - &lo) - q(2.0) * &r;
        prop_assert!(mag(&width) <= 4.0 * f64::EPSILON * (x.mid_hi().abs() + x.rad()) + 1e-300);
        let iv = x.to_interval();
        prop_assert!(iv.lo() == x.lo() && iv.hi() == x.hi());
        // Test points: the endpoints' nearest doubles and their neighbours, the midpoint, a
        // point at t radii.
        let step = |v: f64| f64::from_bits((v.to_bits() as i64 + ulps) as u64);
        let near = |v: &Rational| step(Element::to_f64(v));
        let candidates = [
            near(&(&m - &r)), near(&(&m + &r)), x.mid_hi(), step(x.mid_hi()),
            near(&(&m + &r * q(t))), x.lo(), x.hi(), 0.0,
        ];
        for p in candidates {
            if !p.is_finite() { continue; }
            let d = rabs(&(q(p) - &m));
            prop_assert_eq!(x.contains_f64(p), d <= r, "{} ∈ {}?", p, x);
            // Radii at the distance, rounded to nearest and one ulp either side: the decision
            // is then within the rounding of the fast tests, and made exactly.
            let dn = mag(&d);
            for rr in [dn, dn.next_up(), dn.next_down()] {
                if rr >= 0.0 && rr.is_finite() {
                    let y = Ball::new(x.mid_hi(), x.mid_lo(), rr);
                    prop_assert_eq!(y.contains_f64(p), d <= q(rr), "{} ∈ {}?", p, y);
                }
            }
            let md = x.max_distance_from(p);
            let exact = &d + &r;
            prop_assert!(q(md) >= exact, "{x}: max distance from {p} is {md:e}");
            prop_assert!(md <= mag(&exact) * (1.0 + 2f64.powi(-50)) + 1e-320);
        }
        prop_assert_eq!(x.max_distance_from(f64::NAN), f64::INFINITY);
        prop_assert_eq!(Ball::ENTIRE.max_distance_from(1.0), f64::INFINITY);
        prop_assert!(!x.contains_f64(f64::INFINITY));
    }

    /// `from_interval` contains the interval (radius at most half its width, rounded up) and
    /// `intersect` contains the intersection (or, for disjoint sets, both).
    #[test]
    fn interval_conversions(
        x in ball_in(-60, 60),
        a in -3.0f64..3.0,
        w in 0.0f64..2.0,
        scale_e in -60i32..60,
    ) {
        let s = 2f64.powi(scale_e);
        let (l, h) = (a * s, (a + w) * s);
        let iv = Interval::new(l, h);
        let b = Ball::from_interval(iv);
        prop_assert!(canonical(b));
        prop_assert!(b.contains_f64(l) && b.contains_f64(h), "{b} from [{l:e}, {h:e}]");
        prop_assert!(q(b.rad()) <= (q(h) - q(l)) / q(2.0) * q(1.0 + f64::EPSILON) + q(1e-320));
        // Intersection with an interval around a point v of the ball (they meet at v).
        let (m, r) = (mid(x), q(x.rad()));
        let v = &m + &r * q(a / 3.0);
        let vf = Element::to_f64(&v);
        let j = Interval::new(vf - w * s - vf.abs() * 1e-15, vf + w * s + vf.abs() * 1e-15);
        let cut = x.intersect(j);
        prop_assert!(canonical(cut));
        if contains(Ball::from_interval(j), &v) || (q(j.lo()) <= v && v <= q(j.hi())) {
            prop_assert!(contains(cut, &v), "{x} ∩ [{:e}, {:e}] = {cut} misses {vf:e}", j.lo(), j.hi());
        }
        prop_assert!(cut.rad() <= x.rad());
        // A disjoint interval: the result contains both.
        let far = Interval::new(x.hi() + 1.0 + x.hi().abs(), x.hi() + 2.0 + 2.0 * x.hi().abs());
        let both = x.intersect(far);
        prop_assert!(contains(both, &(&m - &r)) && contains(both, &(&m + &r)));
        prop_assert!(both.contains_f64(far.lo()) && both.contains_f64(far.hi()));
        prop_assert_eq!(x.intersect(Interval::ENTIRE), x);
        prop_assert_eq!(Ball::ENTIRE.intersect(iv), b);
    }

    /// `abs`, `elem_max`, `heaviside` and the order enclose their real counterparts.
    #[test]
    fn element_operations(x in ball_in(-20, 20), y in ball_in(-20, 20), shift in -2.0f64..2.0, t in -1.0f64..1.0) {
        // Move y's midpoint near x's so that the balls overlap sometimes.
        let y = if shift.abs() < 1.0 { Ball::new(x.mid_hi() * (1.0 + shift * 1e-3), 0.0, y.rad().min(x.mid_hi().abs())) } else { y };
        let (abs, max, hx) = (x.abs(), x.elem_max(&y), x.heaviside());
        let ord = x.partial_cmp(&y);
        for a in points(x, t) {
            prop_assert!(contains(abs, &rabs(&a)), "|{x}| = {abs}");
            let h = if a > rzero() { 1.0 } else { 0.0 };
            prop_assert!(contains(hx, &q(h)), "H({x}) = {hx}");
            for b in points(y, -t) {
                let mx = if a > b { a.clone() } else { b.clone() };
                prop_assert!(contains(max, &mx), "max({x}, {y}) = {max}");
                match ord {
                    Some(core::cmp::Ordering::Less) => prop_assert!(a < b),
                    Some(core::cmp::Ordering::Greater) => prop_assert!(a > b),
                    Some(core::cmp::Ordering::Equal) => prop_assert!(a == b),
                    None => {}
                }
            }
        }
        prop_assert_eq!(Real::max(x, y), max);
    }
}

#[test]
fn element_contract() {
    for n in [
        0i64,
        1,
        -7,
        i64::MAX,
        i64::MIN,
        (1 << 53) + 1,
        -(1 << 60) - 3,
    ] {
        let b = <Ball as Element>::from_i64(n);
        assert_eq!(b.rad(), 0.0);
        assert_eq!(mid(b), Rational::from_integer(n.into()), "{n}");
        assert!(canonical(b));
    }
    assert_eq!(<Ball as Real>::from_f64(0.1), Ball::point(0.1));
    assert_eq!(Ball::new(1.0, 1e-20, 0.0).to_f64(), 1.0);
    assert!(Ball::ENTIRE.to_f64().is_nan());
    assert!(Ball::point(1.0).is_finite() && !Ball::ENTIRE.is_finite());
    assert_eq!(Ball::EPSILON, Ball::point(f64::EPSILON));
    // The order: certain comparisons only, equality of one point.
    let (a, b) = (Ball::new(1.0, 1e-25, 0.0), Ball::new(1.0, 2e-25, 0.0));
    assert_eq!(a.partial_cmp(&b), Some(core::cmp::Ordering::Less));
    assert_eq!(b.partial_cmp(&a), Some(core::cmp::Ordering::Greater));
    assert_eq!(a.partial_cmp(&a), Some(core::cmp::Ordering::Equal));
    assert_eq!(a.partial_cmp(&Ball::new(1.0, 1e-25, 1e-24)), None);
    assert_eq!(Ball::ENTIRE.partial_cmp(&Ball::ENTIRE), None);
    // max picks the certainly larger one exactly (relu keeps the double-double midpoint).
    let x = Ball::new(0.3, 1e-18, 1e-30);
    assert_eq!(x.elem_max(&Ball::point(0.0)), x);
    assert_eq!((-x).elem_max(&Ball::point(0.0)), Ball::point(0.0));
    assert_eq!(Ball::point(0.0).heaviside(), Ball::point(0.0));
    assert_eq!(Ball::point(1e-300).heaviside(), Ball::point(1.0));
    let h = Ball::around(0.0, 1e-300).heaviside();
    assert!(h.contains_f64(0.0) && h.contains_f64(1.0));
    assert_eq!(
        Ball::new(-2.0, 1e-17, 0.0).abs(),
        Ball::new(2.0, -1e-17, 0.0)
    );
    assert_eq!(format!("{}", Ball::point(1.5)), "1.5e0 + 0e0 ± 0e0");
    // contains_f64 at distances within the rounding of its fast tests: |2 − (1 ± 2⁻⁶⁰)|.
    let t = 2f64.powi(-60);
    assert!(Ball::new(1.0, t, 1.0).contains_f64(2.0));
    assert!(!Ball::new(1.0, t, 1.0f64.next_down()).contains_f64(2.0));
    assert!(!Ball::new(1.0, -t, 1.0).contains_f64(2.0));
    assert!(Ball::new(1.0, -t, 1.0f64.next_up()).contains_f64(2.0));
}

// ============================================================================ gemm

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(32), ..ProptestConfig::default() })]

    /// The product of ball matrices contains the exact product of the midpoints and of random
    /// matrices of points inside the balls, for every transposition; its radii are at most the
    /// left fold's (up to rounding).
    #[test]
    fn gemm_inclusion(
        entries in prop::collection::vec((ball_in(-10, 10), 0u8..4, -1.0f64..1.0), 2 * 3 * 4 + 3 * 4),
        ta in any::<bool>(),
        tb in any::<bool>(),
    ) {
        let (m, k, n) = (2usize, 3usize, 4usize);
        // A few exact zeros and whole lines (0 · ENTIRE = 0).
        let balls: Vec<Ball> = entries.iter().map(|(b, c, _)| match c {
            0 => Ball::point(0.0),
            _ => *b,
        }).collect();
        let (a, b) = balls.split_at(m * k);
        let c = <Ball as Element>::gemm(a, ta, b, tb, m, k, n);
        let fold = shapetape::scalar::left_fold_gemm(a, ta, b, tb, m, k, n);
        let pick = |s: usize, seed: f64| -> Vec<Rational> {
            balls.iter().zip(&entries).map(|(bl, (_, _, u))| {
                let _ = s;
                mid(*bl) + q(bl.rad()) * q(if seed == 0.0 { 0.0 } else { (u * seed).clamp(-1.0, 1.0) })
            }).collect()
        };
        for seed in [0.0, 1.0, -1.0, 7.0] {
            let vals = pick(0, seed);
            let (va, vb) = vals.split_at(m * k);
            for i in 0..m {
                for j in 0..n {
                    let mut s = rzero();
                    for l in 0..k {
                        let x = if ta { &va[l * m + i] } else { &va[i * k + l] };
                        let y = if tb { &vb[j * k + l] } else { &vb[l * n + j] };
                        s += x * y;
                    }
                    let got = c[i * n + j];
                    prop_assert!(canonical(got));
                    prop_assert!(contains(got, &s), "entry ({i}, {j}): {got} misses {}", Element::to_f64(&s));
                    let f = fold[i * n + j];
                    prop_assert!(got.rad() <= f.rad() * (1.0 + 1e-12) + 1e-300, "{got} vs fold {f}");
                }
            }
        }
    }
}

#[test]
fn gemm_zero_times_entire() {
    let a = [Ball::point(0.0), Ball::point(2.0)];
    let b = [Ball::ENTIRE, Ball::point(3.0)];
    assert_eq!(
        <Ball as Element>::gemm(&a, false, &b, false, 1, 2, 1),
        vec![Ball::point(6.0)]
    );
    let a = [Ball::point(1.0), Ball::point(2.0)];
    assert_eq!(
        <Ball as Element>::gemm(&a, false, &b, false, 1, 2, 1),
        vec![Ball::ENTIRE]
    );
}

// ============================================================================ a model

const B: usize = 4;
const H: usize = 8;
type Inputs = model::Inputs<B, 2, H, 2>;
type Nodes = model::Nodes<B, H, 2>;
type Ctx = Cat<Inputs, Nodes>;

fn graph<A: Real>() -> GraphData<A, (), Inputs, Nodes>
where
    f32: shapetape::ops::Constant<A>,
{
    GraphData::<A, (), Inputs, _>::build(|b| model::classifier::<_, model::Tanh, B, 2, H, 2>(b).0)
}

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

/// Checks that every `Dd` reference value lies in its ball (widened by the reference's
/// accuracy, for the values of a few dozen operations); returns the largest radius relative to
/// the slot's largest magnitude.
fn check_slots<G: ShapeList>(what: &str, balls: &TList<Ball, G>, exact: &TList<Dd, G>) -> f64 {
    let mut widest = 0.0f64;
    for (k, (bs, ds)) in balls.slot_slices().zip(exact.slot_slices()).enumerate() {
        let scale = ds.iter().fold(0.0f64, |m, d| m.max(d.hi().abs()));
        for (b, d) in bs.iter().zip(ds) {
            let v = d.to_rational().expect("finite");
            let slack = q(1e-28 * scale);
            assert!(
                contains_with(*b, &v, &slack) || contains(*b, &v),
                "{what} slot {k}: {b} misses {d}"
            );
            if scale > 0.0 {
                widest = widest.max(b.rad() / scale);
            }
        }
    }
    widest
}

#[test]
fn classifier_at_ball_encloses_the_reference() {
    let (gb, gd, gi) = (graph::<Ball>(), graph::<Dd>(), graph::<Interval>());
    let loss = Idx::<Ctx, Scalar>::at::<9>();
    let x = inputs(3);
    let (vb, vd) = (
        gb.eval(x.map(|&v| Ball::point(v)), &()),
        gd.eval(ctx_to_dd(&x), &()),
    );
    let vi = gi.eval(x.map(|&v| Interval::point(v)), &());
    let w_eval = check_slots("eval", &vb, &vd);
    let seed_f = TList::<f64, Ctx>::single(loss, Tensor::new(1.0));
    let gbb = gb.backprop_ctx(
        x.map(|&v| Ball::point(v)),
        &(),
        seed_f.map(|&v| Ball::point(v)),
    );
    let gdd = gd.backprop_ctx(ctx_to_dd(&x), &(), ctx_to_dd(&seed_f));
    let w_grad = check_slots("gradient", &gbb, &gdd);
    let w_iv = vi
        .slot_slices()
        .flat_map(|s| s.iter().map(|iv| (iv.hi() - iv.lo()) / 2.0))
        .fold(0.0f64, f64::max);
    println!(
        "classifier: ball radii ≤ {w_eval:.2e} (eval), {w_grad:.2e} (gradient) relative to the \
         slot; interval half-widths up to {w_iv:.2e}"
    );
    // The f32 errors these enclosures measure are about 1e-7 relative; the intervals' widths
    // are about 1e-14 here (and grow with the depth of the model).
    assert!(w_eval <= 1e-26 && w_grad <= 1e-26);
}

/// `contains_f64` when TwoSum's error term overflows (a tie in the top binade): the point
/// `3·2⁹⁷⁰` is not in the ball `{MAX}`, and the decision must be exact (found by review: it
/// once answered `true`).
#[test]
fn containment_is_exact_when_the_offset_overflows() {
    let x = 3.0 * 2f64.powi(970);
    assert!(!Ball::point(f64::MAX).contains_f64(x));
    assert!(!Ball::point(-f64::MAX).contains_f64(-x));
    assert!(Ball::point(f64::MAX).contains_f64(f64::MAX));
    assert!(Ball::around(f64::MAX, f64::MAX).contains_f64(x));
}
