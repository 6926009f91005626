//! The error function at every scalar ([`Erf`]), against the 40-digit values of
//! `tests/fixtures/erf_reference.json` (written by `scripts/make_erf_reference.py`, 532
//! arguments: both sides of every switch point of the algorithms, subnormals, `±∞`-like
//! magnitudes and random points in `[−10, 10]`):
//!
//! 1. `f64`: within 1 ulp of the exact value (the worst is printed); odd, bounded by 1 and
//!    non-decreasing over the sorted arguments.
//! 2. `f32` (arguments that are `f32`s): within 1 ulp of the exact value.
//! 3. The double-double `erf` behind `Interval` and `Ball`: a point ball contains the exact value
//!    (its radius is the assumed error `2⁻⁹⁶ |F| + 2⁻¹⁰⁰⁰`, so this tests the assumption; the
//!    worst ratio of actual to assumed error is printed), and so does the point interval.
//! 4. Intervals and balls of positive width contain the exact values at every fixture argument
//!    inside them.

#[path = "common/reference.rs"]
mod reference;

use num_traits::Signed;
use reference::parse_decimal;
use serde_json::Value;
use shapetape::approx::{Ball, Interval};
use shapetape::{Element, Erf, Rational};

const FIXTURE: &str = include_str!("fixtures/erf_reference.json");

/// An argument and the exact value, known to lie in `[lo, hi]` (the fixture's value within half
/// a unit of its 40th digit, cut to `erf`'s range `[−1, 1]`).
struct Case {
    x: f64,
    value: Rational,
    lo: Rational,
    hi: Rational,
}

fn q(x: f64) -> Rational {
    Rational::from_float(x).expect("finite")
}

fn cases() -> Vec<Case> {
    let v: Value = serde_json::from_str(FIXTURE).expect("valid JSON");
    v["cases"]
        .as_array()
        .expect("a case list")
        .iter()
        .map(|c| {
            let x: f64 = c["x"].as_str().expect("x").parse().expect("an f64");
            let value = parse_decimal(c["value"].as_str().expect("value")).expect("a decimal");
            // Half a unit of the 40th digit is at most 5e-40 |value|.
            let tol =
                Signed::abs(&value) / Rational::from_integer(num_bigint::BigInt::from(10).pow(39));
            let one = Rational::from_integer(1.into());
            let lo = (value.clone() - tol.clone()).max(-one.clone());
            let hi = (value.clone() + tol).min(one);
            Case { x, value, lo, hi }
        })
        .collect()
}

/// `|y − v|` in units of the spacing of `f64` (or `f32`) at the exact value `v`.
fn ulps(y: f64, v: &Rational, spacing: impl Fn(f64) -> f64) -> f64 {
    let err = Element::to_f64(&Signed::abs(&(q(y) - v.clone())));
    err / spacing(Element::to_f64(v).abs())
}

fn f64_spacing(a: f64) -> f64 {
    if a < f64::MIN_POSITIVE {
        f64::from_bits(1)
    } else {
        a.next_up() - a
    }
}

fn f32_spacing(a: f64) -> f64 {
    let a = a as f32;
    if a < f32::MIN_POSITIVE {
        f64::from(f32::from_bits(1))
    } else {
        f64::from(a.next_up() - a)
    }
}

#[test]
fn f64_erf_is_within_one_ulp() {
    let mut worst = (0.0, 0.0);
    for c in cases() {
        let u = ulps(Erf::erf(c.x), &c.value, f64_spacing);
        if u > worst.0 {
            worst = (u, c.x);
        }
        assert!(u <= 1.0, "erf({:e}) = {:e}: {u} ulps", c.x, Erf::erf(c.x));
    }
    eprintln!("f64 erf: worst {:.2} ulps (at x = {:e})", worst.0, worst.1);
}

#[test]
fn f64_erf_is_odd_bounded_and_monotone() {
    let mut xs: Vec<f64> = cases().iter().map(|c| c.x).collect();
    xs.sort_by(f64::total_cmp);
    let mut last = f64::NEG_INFINITY;
    for &x in &xs {
        let y = Erf::erf(x);
        assert_eq!(Erf::erf(-x).to_bits(), (-y).to_bits(), "odd at {x:e}");
        assert!(y.abs() <= 1.0);
        assert!(y >= last, "decreasing before {x:e}");
        last = y;
    }
    assert!(Erf::erf(f64::NAN).is_nan());
    assert_eq!(Erf::erf(f64::INFINITY), 1.0);
    assert_eq!(Erf::erf(-0.0f64).to_bits(), (-0.0f64).to_bits());
}

#[test]
fn f32_erf_is_within_one_ulp() {
    let mut n = 0;
    for c in cases().iter().filter(|c| f64::from(c.x as f32) == c.x) {
        let y = Erf::erf(c.x as f32);
        let u = ulps(f64::from(y), &c.value, f32_spacing);
        assert!(u <= 1.0, "erf({:e}) = {y:e}: {u} f32 ulps", c.x);
        n += 1;
    }
    assert!(n > 40, "{n} f32 arguments");
}

/// Whether the exact value, widened by its fixture tolerance, lies in the ball.
fn ball_contains(b: Ball, c: &Case) -> bool {
    let mid = q(b.mid_hi()) + q(b.mid_lo());
    let rad = q(b.rad());
    b.rad().is_finite() && mid.clone() - rad.clone() <= c.lo && c.hi <= mid + rad
}

/// Whether the exact value, widened by its fixture tolerance, lies in the interval.
fn interval_contains(iv: Interval, c: &Case) -> bool {
    q(iv.lo()) <= c.lo && c.hi <= q(iv.hi())
}

#[test]
fn double_double_erf_meets_its_assumption() {
    let mut worst: f64 = 0.0;
    for c in cases() {
        let b = Ball::point(c.x).erf();
        assert!(ball_contains(b, &c), "erf({:e}): {b}", c.x);
        let mid = q(b.mid_hi()) + q(b.mid_lo());
        let err = Element::to_f64(&Signed::abs(&(mid - c.value.clone())));
        let assumed = 2f64.powi(-96) * b.mid_hi().abs() + 2f64.powi(-1000);
        worst = worst.max(err / assumed);
        // The radius of a point is the assumed error alone.
        assert!(
            b.rad() <= 2.0 * assumed,
            "erf({:e}): radius {:e}",
            c.x,
            b.rad()
        );
        let iv = Interval::point(c.x).erf();
        assert!(interval_contains(iv, &c), "erf({:e}): {iv:?}", c.x);
        // A few ulps wide, plus the assumption's absolute term near 0.
        let width = iv.hi() - iv.lo();
        assert!(
            width <= 4.0 * f64_spacing(iv.hi().abs()) + 2f64.powi(-998),
            "{iv:?}"
        );
    }
    eprintln!("double-double erf: worst error / assumed error = {worst:.2e}");
    assert!(worst < 1.0);
}

#[test]
fn wide_intervals_and_balls_contain_every_value_inside() {
    let mut all = cases();
    all.sort_by(|a, b| a.x.total_cmp(&b.x));
    let finite: Vec<&Case> = all.iter().filter(|c| c.x.abs() < 1e9).collect();
    for w in finite.windows(7) {
        let (lo, hi) = (w[0].x, w[6].x);
        let iv = Interval::new(lo, hi).erf();
        let ball = Ball::from_interval(Interval::new(lo, hi)).erf();
        for c in w {
            assert!(
                interval_contains(iv, c),
                "[{lo:e}, {hi:e}] at {:e}: {iv:?}",
                c.x
            );
            assert!(
                ball_contains(ball, c),
                "[{lo:e}, {hi:e}] at {:e}: {ball}",
                c.x
            );
        }
    }
    // Narrow balls (the derivative path): the fixture holds t(1 ± 1e-9) around each switch.
    for t in [0.75, 3.5, 6.0, 9.0] {
        let (lo, hi) = (t * (1.0 - 1e-9), t * (1.0 + 1e-9));
        let ball = Ball::from_interval(Interval::new(lo, hi)).erf();
        for c in all.iter().filter(|c| c.x >= lo && c.x <= hi) {
            assert!(ball_contains(ball, c), "around {t} at {:e}: {ball}", c.x);
        }
    }
    assert_eq!(Interval::ENTIRE.erf(), Interval::new(-1.0, 1.0));
    assert!(Ball::ENTIRE.erf().hi() <= 1.0 && Ball::ENTIRE.erf().lo() >= -1.0);
}
