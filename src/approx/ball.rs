//! Balls of reals with a double-double midpoint and an `f64` radius: a high-precision
//! enclosure scalar.
//!
//! A [`Ball`] `⟨m, r⟩` stands for every real `x` with `|x − m| ≤ r`, where the midpoint
//! `m = hi + lo` is a double-double (two `f64` with `hi = RN(hi + lo)`, about 106 significant
//! bits) and the radius `r ≥ 0` is an `f64` (`+∞`: the whole real line). Like
//! [`Interval`], every operation returns a ball that contains the exact real result for *every*
//! choice of operands inside the operand balls (inclusion), so the generic op library evaluated
//! at `A = Ball` encloses the exact value of every slot. Unlike an interval, whose endpoints
//! carry the `f64` rounding (`≈ 1e-16` relative) into every result, a ball computed from exact
//! inputs starts with a radius near `2⁻¹⁰⁰` relative (`≈ 1e-30`), so it stays far below the
//! `f32` errors it is meant to measure even after many layers.
//!
//! **Arithmetic.** The midpoint is computed in double-double arithmetic (error-free `TwoSum`
//! and FMA-based `TwoProd`; the sum is Joldes–Muller–Popescu's `AccurateDWPlusDW`, the product
//! their `DWTimesDW3`, "Tight and rigorous error bounds for basic building blocks of double-word
//! arithmetic", 2017, relative errors `≤ 3u²` and `≤ 4u²` with `u = 2⁻⁵³`). The radius is
//! propagated with upward-rounded `f64` arithmetic ([`crate::approx::round`]):
//!
//! - `⟨a, r⟩ ± ⟨b, s⟩ ⊆ ⟨a ± b, r + s + e⟩`;
//! - `⟨a, r⟩ · ⟨b, s⟩ ⊆ ⟨ab, |a|s + r(|b| + s) + e⟩`;
//! - `⟨a, r⟩ / ⟨b, s⟩ ⊆ ⟨q, e_q + (r + |a/b| s) / (|b| − s)⟩` for `s < |b|` (else the whole
//!   line), where `q ≈ a/b` and `e_q ≥ |q − a/b|` is computed *a posteriori* from the residual
//!   `a − bq` (itself bounded by the sum and product bounds that follow);
//!
//! where `e` bounds the midpoint's rounding error: `e = 2⁻¹⁰⁰ |hi|` for a sum (0 when both
//! midpoints are single `f64`s, whose sum `TwoSum` represents exactly) and
//! `e = 2⁻¹⁰⁰ |hi| + 2⁻¹⁰⁰⁰` for a product (0 when both midpoints are single `f64`s and the
//! product is above `2⁻⁹⁶⁸`, where `TwoProd` is exact). `2⁻¹⁰⁰ = 64u²` covers the proven
//! relative bounds with a wide margin; `2⁻¹⁰⁰⁰` covers the absolute error of the steps that
//! may underflow (a few units of `2⁻¹⁰⁷⁵` each). An exact zero times anything, even the whole
//! line, is exactly 0 (as `Interval` does with `0 · ∞`), and adding the point 0 is exact.
//!
//! **Functions.** `exp`, `exp_m1`, `ln`, `ln_1p`, `tanh` and `sqrt` evaluate `F ≈ f(m)` in
//! double-double arithmetic (argument reduction and a Taylor series, or a Newton step from the
//! `f64` value: the algorithms of the project's double-double reference,
//! `tests/common/reference.rs`). **Assumed** (not proved, tested against the 40-digit fixture
//! `tests/fixtures/dd_reference.json` in `tests/ball.rs`, where the measured errors are at most
//! `≈ 4e-32 ≈ 3u²` relative, 300 times below): `|F − f(m)| ≤ 2⁻⁹⁶ |F| + 2⁻¹⁰⁰⁰`. The result is
//! `⟨F, L·r + 2⁻⁹⁶ |F| + 2⁻¹⁰⁰⁰⟩` with `L ≥ sup |f′|` over the ball (mean value theorem):
//! `e^{m+r}` for `exp` and `exp_m1`, `1/(m − r)` for `ln`, `1/(1 + m − r)` for `ln_1p`,
//! `1/(2√(m − r))` for `sqrt`, `min(1, 4e^{−2 min|x|})` for `tanh` (`1 − tanh² x =
//! 4/(eˣ + e⁻ˣ)² ≤ 4e^{−2|x|}`), each rounded up; the `f64` `exp` behind these `L` is trusted
//! to 1 ulp, as in [`Interval`]. A wide ball (radius above `2⁻⁴⁰ |m|`), or one that reaches
//! the edge of the domain, is also enclosed by the [`Interval`] function of its `f64` hull (with
//! `Interval`'s assumptions on the platform's `exp` and `ln`), and the smaller of the two balls
//! is returned. A ball cannot hold a half-line, so an unbounded
//! result (`ln` of a ball reaching 0, `exp` of the whole line) is the whole line.
//!
//! Points: `exp(0) = 1`, `ln(1) = 0` and `f(0) = 0` for the other functions are exact.
//!
//! **Order.** `max` returns one operand (keeping its double-double midpoint) when both of its
//! ends are certainly at least the other's, else the ball of the `f64` range; comparisons are
//! certain or `None`, as for [`Interval`]. The matrix product accumulates the left fold's
//! enclosure in one double-double and two plain `f64` sums per entry (about 4 times faster than
//! the fold of ball operations, and 20 times slower than [`Interval`]'s midpoint-radius
//! product).

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, Div, Mul, Neg, Sub};

use crate::approx::interval::Interval;
use crate::approx::round::{add_up, div_up, exp_up, mul_up, sqrt_down};
use crate::scalar::{Element, Rational, Real};

/// `2ᵏ` for `k ∈ [−1022, 1023]`, exactly.
const fn pow2(k: i32) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// Relative error bound of a double-double sum or product (`2⁻¹⁰⁰ = 64u²`).
const REL_ARITH: f64 = pow2(-100);
/// Assumed relative error bound of a double-double function value (`2⁻⁹⁶ ≈ 1.26e-29`).
const REL_FN: f64 = pow2(-96);
/// Absolute error allowance for the steps that may underflow (`2⁻¹⁰⁰⁰ ≈ 9.3e-302`).
const ABS_UNDERFLOW: f64 = pow2(-1000);
/// From this magnitude on, the FMA residual of a product is exact (as in `round::mul_up`).
const EXACT_PRODUCT_ZONE: f64 = pow2(-968);
/// Radius (relative to the midpoint) above which a function is also enclosed through the
/// interval of the ball's `f64` hull.
const WIDE: f64 = pow2(-40);

#[inline]
fn add_down(a: f64, b: f64) -> f64 {
    -add_up(-a, -b)
}

/// `a · b` rounded upward for `a, b ≥ 0`, with `0 · ∞ = 0` (an exact zero factor contributes 0).
#[inline]
fn mul_up0(a: f64, b: f64) -> f64 {
    if a == 0.0 || b == 0.0 {
        0.0
    } else {
        mul_up(a, b)
    }
}

// ---------------------------------------------------------------------------------------------
// Double-double arithmetic (private)
// ---------------------------------------------------------------------------------------------

/// `a + b = s + e` exactly with `s = RN(a + b)` (Knuth's TwoSum; exact for every finite
/// result, also in the subnormal range).
#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// `a + b = s + e` exactly when `a = 0` or `exponent(a) ≥ exponent(b)` (Dekker's FastTwoSum).
#[inline]
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `a · b = p + e` with `p = RN(ab)`, exactly while `|p| ≥ 2⁻⁹⁶⁸` (FMA residual).
#[inline]
fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// `⌊log₂ |x|⌋` of a finite nonzero `x` (−1023 for a subnormal).
#[inline]
fn exponent(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023
}

/// ln 2 as the sum of three doubles (each the nearest double to what the previous ones miss).
const LN2: [f64; 3] = [
    core::f64::consts::LN_2,
    2.3190468138462996e-17,
    5.707708438416212e-34,
];

/// `2/√π` as a double-double.
const TWO_OVER_SQRT_PI: Dd = Dd {
    hi: core::f64::consts::FRAC_2_SQRT_PI,
    lo: 1.533_545_961_316_588e-17,
};

/// `2/√π` rounded up (`sup |erf′|`).
const TWO_OVER_SQRT_PI_UP: f64 = 1.128_379_167_095_512_8;

/// `erfc x` for `x ≥ 6` in `f64`, by the continued fraction
/// `erfc x = e^{−x²}/√π · 1/(x + (1/2)/(x + (2/2)/(x + (3/2)/(x + …))))` cut after 40 levels
/// (truncation below `1e-28` relative at `x = 6`, smaller beyond). Used where `erfc x < 2⁻⁵⁵`,
/// so its `f64` rounding errors (up to about `2⁻⁴⁸` relative, from `x²` near 36, and the
/// argument's dropped low part) stay near `2⁻¹⁰¹` absolute, inside the `2⁻⁹⁶` assumption (measured
/// at 0.017 of it by an independent review, against 250-bit values).
fn erfc_far(x: f64) -> f64 {
    let mut k = x;
    for n in (1..=40).rev() {
        k = x + (f64::from(n) * 0.5) / k;
    }
    (-(x * x)).exp() / (core::f64::consts::PI.sqrt() * k)
}

/// A double-double `hi + lo` (`hi = RN(hi + lo)`); non-finite values are `(±∞ or NaN, 0)`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Dd {
    hi: f64,
    lo: f64,
}

impl Dd {
    const ONE: Dd = Dd { hi: 1.0, lo: 0.0 };

    #[inline]
    const fn of(x: f64) -> Dd {
        Dd { hi: x, lo: 0.0 }
    }

    /// Any two doubles, renormalised exactly.
    #[inline]
    fn new(hi: f64, lo: f64) -> Dd {
        if !hi.is_finite() || !lo.is_finite() {
            return Dd::of(hi + lo);
        }
        let (s, e) = two_sum(hi, lo);
        Dd { hi: s, lo: e }
    }

    #[inline]
    fn is_finite(self) -> bool {
        self.hi.is_finite() && self.lo.is_finite()
    }

    /// `|hi + lo|` rounded up.
    #[inline]
    fn abs_up(self) -> f64 {
        add_up(self.hi.abs(), self.lo.abs())
    }

    /// `|hi + lo|` rounded down (`|lo| ≤ ½ ulp(hi)`, so this is positive when `hi ≠ 0`).
    #[inline]
    fn abs_down(self) -> f64 {
        add_down(self.hi.abs(), -self.lo.abs())
    }

    /// `self · 2ᵏ`, exact unless the result leaves the normal range.
    fn ldexp(self, k: i32) -> Dd {
        let mut x = self;
        let mut k = k;
        while k != 0 {
            let step = k.clamp(-1000, 1000);
            let f = pow2(step);
            x = Dd {
                hi: x.hi * f,
                lo: x.lo * f,
            };
            k -= step;
        }
        x
    }

    /// `1/n` for a small integer `n`, to about `u²` relative: `hi = RN(1/n)` and the remainder
    /// `(1 − n·hi)/n` (the numerator exact by FMA).
    #[inline]
    fn recip(n: f64) -> Dd {
        let hi = 1.0 / n;
        Dd::new(hi, (-hi).mul_add(n, 1.0) / n)
    }

    /// `self + b` for a double `b`.
    fn add_f64(self, b: f64) -> Dd {
        let (sh, sl) = two_sum(self.hi, b);
        if !sh.is_finite() {
            return Dd::of(sh);
        }
        let (h, l) = fast_two_sum(sh, self.lo + sl);
        Dd { hi: h, lo: l }
    }

    /// `self · b` for a double `b`.
    fn mul_f64(self, b: f64) -> Dd {
        let (ch, cl1) = two_prod(self.hi, b);
        if !ch.is_finite() {
            return Dd::of(ch);
        }
        let (h, l) = fast_two_sum(ch, self.lo.mul_add(b, cl1));
        Dd { hi: h, lo: l }
    }

    /// `e^self − 1` for `|self| ≤ 1`: a Taylor series at `s = self / 2ᵐ` (`|s| ≤ 2⁻¹⁰`), then
    /// `m` times `expm1(2t) = expm1(t) (expm1(t) + 2)` (no cancellation).
    fn expm1_small(self) -> Dd {
        if self.hi == 0.0 {
            return self;
        }
        let m = (exponent(self.hi) + 11).max(0);
        let s = self.ldexp(-m);
        // s (1 + s/2 (1 + s/3 (… (1 + s/13)))); the first omitted term is below 2⁻¹⁴⁰|s|.
        let mut p = Dd::ONE;
        for n in (2..=13).rev() {
            p = Dd::ONE + s * p * Dd::recip(f64::from(n));
        }
        let mut e = s * p;
        for _ in 0..m {
            e = e * (e + Dd::of(2.0));
        }
        e
    }

    /// `ln(1 + self)` for `self ∈ [−½, 1]`: `y₀ = ln_1p(hi)` in `f64`, then
    /// `y = y₀ + ln(1 + c) ≈ y₀ + c − c²/2` with `c = (self − expm1(y₀)) / (1 + expm1(y₀))`.
    fn ln1p_small(self) -> Dd {
        if self.hi == 0.0 {
            return self;
        }
        let y0 = self.hi.ln_1p();
        let e = Dd::of(y0).expm1_small();
        let c = (self - e) / (Dd::ONE + e);
        Dd::of(y0) + c - c * c * Dd::of(0.5)
    }

    /// `ln self` for a positive finite `self` outside `[½, 2]`.
    fn ln_far(self) -> Dd {
        let ex = exponent(self.hi);
        if !(-900..=900).contains(&ex) {
            // ln x = ln(x 2⁻ᵉ) + e ln 2.
            let k = f64::from(ex);
            let (a, b) = two_prod(k, LN2[0]);
            let (c, d) = two_prod(k, LN2[1]);
            let kln2 = Dd::new(a, b) + Dd::new(c, d + k * LN2[2]);
            return self.ldexp(-ex).dd_ln() + kln2;
        }
        // y₀ = ln(hi), t = x e^{−y₀} − 1 (tiny), ln x = y₀ + ln(1 + t) ≈ y₀ + t − t²/2.
        let y0 = self.hi.ln();
        let t = self * Dd::of(-y0).dd_exp() - Dd::ONE;
        Dd::of(y0) + t - t * t * Dd::of(0.5)
    }

    fn dd_exp(self) -> Dd {
        if self.hi.is_nan() {
            return self;
        }
        if self.hi > 709.8 {
            return Dd::of(f64::INFINITY);
        }
        if self.hi < -745.2 {
            return Dd::of(0.0);
        }
        // x = k ln 2 + r, |r| ≲ ln 2 / 2; k ln 2 is subtracted one exact product at a time.
        let k = (self.hi / LN2[0]).round();
        let (a, b) = two_prod(k, LN2[0]);
        let (c, d) = two_prod(k, LN2[1]);
        let r = self - Dd::new(a, b) - Dd::new(c, d) - Dd::of(k * LN2[2]);
        (r.expm1_small() + Dd::ONE).ldexp(k as i32)
    }

    fn dd_exp_m1(self) -> Dd {
        if self.hi.is_nan() || self.hi.abs() <= 1.0 {
            return if self.hi.is_nan() {
                self
            } else {
                self.expm1_small()
            };
        }
        self.dd_exp() - Dd::ONE
    }

    fn dd_ln(self) -> Dd {
        if self.hi.is_nan() || self.hi < 0.0 {
            return Dd::of(f64::NAN);
        }
        if self.hi == 0.0 {
            return Dd::of(f64::NEG_INFINITY);
        }
        if self.hi == f64::INFINITY {
            return self;
        }
        if (0.5..=2.0).contains(&self.hi) {
            (self - Dd::ONE).ln1p_small()
        } else {
            self.ln_far()
        }
    }

    fn dd_ln_1p(self) -> Dd {
        if self.hi.is_nan() {
            return self;
        }
        if (-0.5..=1.0).contains(&self.hi) {
            self.ln1p_small()
        } else {
            (self + Dd::ONE).dd_ln()
        }
    }

    /// `tanh x = m / (m + 2)` with `m = expm1(2|x|)`; `±1` for `|x| ≥ 50` (where
    /// `1 − tanh|x| < 2e^{−100} < 2⁻¹⁴⁰`).
    fn dd_tanh(self) -> Dd {
        if self.hi.is_nan() || self.hi == 0.0 {
            return self;
        }
        let a = if self.hi < 0.0 { -self } else { self };
        let t = if a.hi >= 50.0 {
            Dd::ONE
        } else {
            let m = (a + a).dd_exp_m1();
            m / (m + Dd::of(2.0))
        };
        if self.hi < 0.0 { -t } else { t }
    }

    /// `erf x`, odd in `x`: for `|x| ≤ 6` the series of positive terms
    /// `erf x = 2/√π · e^{−x²} Σₙ 2ⁿ x^{2n+1} / (1·3·5⋯(2n+1))` (no cancellation; stopped when a
    /// term falls below `cut` times the sum, at most 135 terms for `cut = 2⁻¹¹²`), for
    /// `6 < |x| < 9` `1 − erfc |x|` ([`erfc_far`]), and `±1` beyond (`erfc 9 < 5e-37 < 2⁻¹¹⁹`).
    fn dd_erf(self, cut: f64) -> Dd {
        if self.hi.is_nan() || self.hi == 0.0 {
            return self;
        }
        let a = if self.hi < 0.0 { -self } else { self };
        let v = if a.hi >= 9.0 {
            Dd::ONE
        } else if a.hi > 6.0 {
            Dd::ONE.add_f64(-erfc_far(a.hi + a.lo))
        } else {
            let a2 = a * a;
            let step = a2 + a2;
            let (mut term, mut sum) = (a, a);
            let mut n = 1.0;
            while term.hi > sum.hi * cut {
                term = term * step * Dd::recip(2.0 * n + 1.0);
                sum = sum + term;
                n += 1.0;
            }
            TWO_OVER_SQRT_PI * (-a2).dd_exp() * sum
        };
        if self.hi < 0.0 { -v } else { v }
    }

    /// `√x = y₀ + (x − y₀²) / (2y₀)` with `y₀ = √hi` and `y₀²` exact (extreme `x` scaled by an
    /// even power of two first).
    fn dd_sqrt(self) -> Dd {
        if self.hi == 0.0 || self.hi.is_nan() || self.hi == f64::INFINITY {
            return self;
        }
        if self.hi < 0.0 {
            return Dd::of(f64::NAN);
        }
        let ex = exponent(self.hi);
        if !(-600..=600).contains(&ex) {
            let half = ex / 2;
            return self.ldexp(-2 * half).dd_sqrt().ldexp(half);
        }
        let y0 = self.hi.sqrt();
        let (p, e) = two_prod(y0, y0);
        let d = self - Dd { hi: p, lo: e };
        Dd::of(y0) + Dd::of(d.hi / (2.0 * y0))
    }
}

impl Add for Dd {
    type Output = Dd;
    /// Joldes–Muller–Popescu `AccurateDWPlusDW`: relative error `≤ 3u²` (also under
    /// cancellation).
    #[inline]
    fn add(self, b: Dd) -> Dd {
        let (sh, sl) = two_sum(self.hi, b.hi);
        if !sh.is_finite() {
            return Dd::of(sh);
        }
        let (th, tl) = two_sum(self.lo, b.lo);
        let (vh, vl) = fast_two_sum(sh, sl + th);
        let (h, l) = fast_two_sum(vh, tl + vl);
        Dd { hi: h, lo: l }
    }
}

impl Neg for Dd {
    type Output = Dd;
    #[inline]
    fn neg(self) -> Dd {
        Dd {
            hi: -self.hi,
            lo: -self.lo,
        }
    }
}

impl Sub for Dd {
    type Output = Dd;
    #[inline]
    fn sub(self, b: Dd) -> Dd {
        self + (-b)
    }
}

impl Mul for Dd {
    type Output = Dd;
    /// Joldes–Muller–Popescu `DWTimesDW3` (with FMA): relative error `≤ 4u²`.
    #[inline]
    fn mul(self, b: Dd) -> Dd {
        let (ch, cl1) = two_prod(self.hi, b.hi);
        if !ch.is_finite() || ch == 0.0 {
            return Dd::of(ch);
        }
        let tl1 = self.hi.mul_add(b.lo, self.lo * b.lo);
        let cl2 = self.lo.mul_add(b.hi, tl1);
        let (h, l) = fast_two_sum(ch, cl1 + cl2);
        Dd { hi: h, lo: l }
    }
}

impl Div for Dd {
    type Output = Dd;
    /// Long division with three `f64` quotient digits (accuracy a few `u²`; the ball division
    /// bounds the error of the result a posteriori, so nothing rests on this).
    fn div(self, b: Dd) -> Dd {
        let q1 = self.hi / b.hi;
        if !q1.is_finite() || q1 == 0.0 || !b.hi.is_finite() || !self.hi.is_finite() {
            return Dd::of(q1);
        }
        let r = self - b.mul_f64(q1);
        let q2 = r.hi / b.hi;
        let r = r - b.mul_f64(q2);
        let q3 = r.hi / b.hi;
        let (h, l) = fast_two_sum(q1, q2);
        Dd { hi: h, lo: l }.add_f64(q3)
    }
}

/// The sum of two midpoints and a bound on its rounding error (0 when both are single `f64`s:
/// then the sum is `TwoSum`'s exact pair).
#[inline]
fn sum_with_error(a: Dd, b: Dd) -> (Dd, f64) {
    let s = a + b;
    let err = if a.lo == 0.0 && b.lo == 0.0 {
        0.0
    } else {
        mul_up(REL_ARITH, s.hi.abs())
    };
    (s, err)
}

/// The product of two midpoints and a bound on its rounding error (0 when both are single
/// `f64`s and the product is far enough from underflow for `TwoProd` to be exact).
#[inline]
fn product_with_error(a: Dd, b: Dd) -> (Dd, f64) {
    let p = a * b;
    let err = if a.lo == 0.0 && b.lo == 0.0 && p.hi.abs() >= EXACT_PRODUCT_ZONE {
        0.0
    } else {
        add_up(mul_up(REL_ARITH, p.hi.abs()), ABS_UNDERFLOW)
    };
    (p, err)
}

// ---------------------------------------------------------------------------------------------
// Balls
// ---------------------------------------------------------------------------------------------

/// The ball `{ x ∈ ℝ : |x − (hi + lo)| ≤ rad }`: a double-double midpoint and an `f64` radius
/// (`rad = +∞`: the whole real line).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ball {
    hi: f64,
    lo: f64,
    rad: f64,
}

/// The transcendental functions a ball encloses.
#[derive(Clone, Copy, PartialEq)]
enum Func {
    Exp,
    ExpM1,
    Ln,
    Ln1p,
    Tanh,
    Sqrt,
    Erf,
}

/// `erf x` as a double-double `(hi, lo)`, within `2⁻⁹⁶ |erf x| + 2⁻¹⁰⁰⁰` (the assumption on
/// every double-double function, see the module docs); NaN for NaN, `±1` at `±∞`.
pub(crate) fn erf_dd(x: f64) -> (f64, f64) {
    if x.is_infinite() {
        return (x.signum(), 0.0);
    }
    let v = Dd::of(x).dd_erf(pow2(-112));
    (v.hi, v.lo)
}

/// `erf x` rounded to `f64`: the double-double `erf` with its series stopped at `2⁻⁶⁰` of the
/// sum (its error is then far below half an ulp, so this is within 1 ulp, and correctly
/// rounded unless `erf x` lies within about `2⁻⁶⁰` relative of a midpoint between doubles).
pub(crate) fn erf_f64(x: f64) -> f64 {
    if x.is_infinite() {
        return x.signum();
    }
    Dd::of(x).dd_erf(pow2(-60)).hi
}

impl Ball {
    /// The whole real line (midpoint 0, radius `+∞`).
    pub const ENTIRE: Ball = Ball {
        hi: 0.0,
        lo: 0.0,
        rad: f64::INFINITY,
    };

    const ZERO: Ball = Ball {
        hi: 0.0,
        lo: 0.0,
        rad: 0.0,
    };

    const ONE: Ball = Ball {
        hi: 1.0,
        lo: 0.0,
        rad: 0.0,
    };

    /// The ball around a double-double midpoint; the whole line if anything is not finite.
    #[inline]
    fn from_parts(m: Dd, rad: f64) -> Ball {
        if m.is_finite() && rad < f64::INFINITY {
            Ball {
                hi: m.hi,
                lo: m.lo,
                rad,
            }
        } else {
            Ball::ENTIRE
        }
    }

    #[inline]
    fn mid(self) -> Dd {
        Dd {
            hi: self.hi,
            lo: self.lo,
        }
    }

    #[inline]
    fn is_zero_point(self) -> bool {
        self.hi == 0.0 && self.lo == 0.0 && self.rad == 0.0
    }

    /// The single point `x` (a NaN or infinite point becomes the whole real line).
    #[must_use]
    pub fn point(x: f64) -> Ball {
        Ball::from_parts(Dd::of(x), 0.0)
    }

    /// The ball with the double-double midpoint `hi + lo` (exactly; any two doubles, renormalised)
    /// and radius `rad`; the whole line if anything is not finite or `rad` is negative.
    #[must_use]
    pub fn new(hi: f64, lo: f64, rad: f64) -> Ball {
        if rad.is_nan() || rad < 0.0 {
            return Ball::ENTIRE;
        }
        Ball::from_parts(Dd::new(hi, lo), rad)
    }

    /// The ball with midpoint `x` (exactly) and radius `e`; the whole line if `x` is not finite
    /// or `e` is NaN, `+∞` or negative.
    #[must_use]
    pub fn around(x: f64, e: f64) -> Ball {
        if e.is_nan() || e < 0.0 {
            return Ball::ENTIRE;
        }
        Ball::from_parts(Dd::of(x), e)
    }

    /// [`Ball::around`] with `e = 0` (for the boxes of exact inputs).
    #[inline]
    pub(crate) fn point_box(x: f64) -> Ball {
        Ball::around(x, 0.0)
    }

    /// The smallest ball (up to rounding the radius up) containing the interval: midpoint
    /// `(lo + hi)/2` exactly, radius `(hi − lo)/2`; the whole line if an endpoint is infinite.
    #[must_use]
    pub fn from_interval(iv: Interval) -> Ball {
        let (lo, hi) = (iv.lo(), iv.hi());
        if !(lo.is_finite() && hi.is_finite()) {
            return Ball::ENTIRE;
        }
        if lo == hi {
            return Ball::point(lo);
        }
        // Halving is exact for 0 and for magnitudes from 2⁻¹⁰²¹ on; TwoSum then represents the
        // midpoint exactly, and (hi − lo)/2 = b − a is rounded up.
        let halvable = |x: f64| x == 0.0 || x.abs() >= pow2(-1021);
        if halvable(lo) && halvable(hi) {
            let (a, b) = (0.5 * lo, 0.5 * hi);
            let (s, e) = two_sum(a, b);
            return Ball::from_parts(Dd { hi: s, lo: e }, add_up(b, -a));
        }
        // Near underflow: any centre, with the radius its distance to the farther endpoint.
        let c = 0.5 * lo + 0.5 * hi;
        Ball::from_parts(Dd::of(c), add_up(hi, -c).max(add_up(c, -lo)))
    }

    /// The high part of the midpoint: the midpoint rounded to the nearest `f64`.
    pub fn mid_hi(self) -> f64 {
        self.hi
    }

    /// The low part of the midpoint: the midpoint minus [`Ball::mid_hi`] (exactly).
    pub fn mid_lo(self) -> f64 {
        self.lo
    }

    /// The radius (`+∞` for the whole line).
    pub fn rad(self) -> f64 {
        self.rad
    }

    /// A lower bound of every member, `m − r` rounded down (`−∞` for the whole line).
    pub fn lo(self) -> f64 {
        add_down(self.hi, add_down(self.lo, -self.rad))
    }

    /// An upper bound of every member, `m + r` rounded up (`+∞` for the whole line).
    pub fn hi(self) -> f64 {
        add_up(self.hi, add_up(self.lo, self.rad))
    }

    /// The interval `[lo(), hi()]`, which contains the ball.
    pub fn to_interval(self) -> Interval {
        Interval::new(self.lo(), self.hi())
    }

    /// Whether the ball is the whole real line.
    pub fn is_entire(self) -> bool {
        self.rad == f64::INFINITY
    }

    /// `x − m = p + q + e` exactly, as three doubles (`None` if `x − hi` overflows).
    fn offset_of(self, x: f64) -> Option<(f64, f64, f64)> {
        let (a, b) = two_sum(x, -self.hi);
        let (c, e) = two_sum(b, -self.lo);
        let (p, q) = two_sum(a, c);
        // TwoSum's error term can overflow even when the rounded sum does not (a tie in the
        // top binade): then the parts are not exact, and the caller decides otherwise.
        [a, b, c, e, p, q]
            .iter()
            .all(|v| v.is_finite())
            .then_some((p, q, e))
    }

    /// Whether the real number `x` lies in the ball (decided exactly; `false` for NaN and `±∞`).
    pub fn contains_f64(self, x: f64) -> bool {
        if !x.is_finite() {
            return false;
        }
        if self.is_entire() {
            return true;
        }
        // Every value here is finite (x, and the midpoint and radius of a ball that is not the
        // whole line), so the exact comparison is always available.
        let r = |v: f64| Rational::from_float(v).unwrap_or_else(<Rational as Element>::zero);
        let exact = || {
            let d = r(x) - r(self.hi) - r(self.lo);
            num_traits::Signed::abs(&d) <= r(self.rad)
        };
        let Some((p, q, e)) = self.offset_of(x) else {
            return exact();
        };
        let tail = add_up(q.abs(), e.abs());
        if add_up(p.abs(), tail) <= self.rad {
            return true;
        }
        if add_down(p.abs(), -tail) > self.rad {
            return false;
        }
        // Undecided by a few ulps: compare exactly.
        exact()
    }

    /// `sup { |y − x| : y ∈ self } = |m − x| + r`, rounded upward: how far the point `x` can be
    /// from a member. `+∞` if `x` is NaN or infinite or the ball is the whole line.
    pub fn max_distance_from(self, x: f64) -> f64 {
        if !x.is_finite() || self.is_entire() {
            return f64::INFINITY;
        }
        match self.offset_of(x) {
            Some((p, q, e)) => add_up(add_up(p.abs(), add_up(q.abs(), e.abs())), self.rad),
            None => f64::INFINITY,
        }
    }

    /// A ball containing `self ∩ other` when they meet; one containing both when they are
    /// disjoint (both are meant to contain the same real number, so disjoint sets mean one of
    /// them is wrong: a ball containing both still contains it). Of the candidates `self` and
    /// the ball of `hull(self) ∩ other`, the one with the smaller radius.
    #[must_use]
    pub fn intersect(self, other: Interval) -> Ball {
        let (lo, hi) = (self.lo(), self.hi());
        if other.lo() <= lo && hi <= other.hi() {
            return self; // self ⊆ other
        }
        // Inner bounds of the ball (m + r rounded down, m − r rounded up): if `other` reaches
        // past them, the two certainly meet.
        let upper_in = add_down(self.hi, add_down(self.lo, self.rad));
        let lower_in = add_up(self.hi, add_up(self.lo, -self.rad));
        if !(other.lo() <= upper_in && other.hi() >= lower_in) {
            // Possibly disjoint: a ball containing both.
            return Ball::from_interval(Interval::new(lo.min(other.lo()), hi.max(other.hi())));
        }
        let cut = Ball::from_interval(Interval::new(lo.max(other.lo()), hi.min(other.hi())));
        if cut.rad < self.rad { cut } else { self }
    }

    /// `L ≥ sup |f′|` over the ball, rounded up; `None` where the ball reaches the edge of the
    /// domain of `f` (or of the region where `f′` is bounded).
    fn lipschitz(self, f: Func) -> Option<f64> {
        let (lo, hi) = (self.lo(), self.hi());
        match f {
            Func::Exp | Func::ExpM1 => Some(exp_up(hi)),
            Func::Ln => (lo > 0.0).then(|| div_up(1.0, lo)),
            Func::Ln1p => {
                let l = add_down(1.0, lo);
                (l > 0.0).then(|| div_up(1.0, l))
            }
            Func::Sqrt => (lo > 0.0).then(|| div_up(0.5, sqrt_down(lo))),
            Func::Tanh => {
                // min |x| over the ball, rounded down; 1 − tanh² x ≤ 4e^{−2|x|}.
                let d = lo.max(-hi).max(0.0);
                Some(mul_up(4.0, exp_up(-2.0 * d)).min(1.0))
            }
            Func::Erf => {
                // erf′ x = 2/√π e^{−x²} ≤ 2/√π e^{−d²} with d = min |x| over the ball; the
                // exponent −0.999·RN(d²) ≥ −d² (RN's relative error is below 0.001).
                let d = lo.max(-hi).max(0.0);
                Some(mul_up(TWO_OVER_SQRT_PI_UP, exp_up(-0.999 * (d * d))).min(TWO_OVER_SQRT_PI_UP))
            }
        }
    }

    /// `f` at the midpoint in double-double arithmetic.
    fn eval_mid(self, f: Func) -> Dd {
        let m = self.mid();
        match f {
            Func::Exp => m.dd_exp(),
            Func::ExpM1 => m.dd_exp_m1(),
            Func::Ln => m.dd_ln(),
            Func::Ln1p => m.dd_ln_1p(),
            Func::Tanh => m.dd_tanh(),
            Func::Sqrt => m.dd_sqrt(),
            Func::Erf => m.dd_erf(pow2(-112)),
        }
    }

    /// The enclosure of `f` over the `f64` hull of the ball by [`Interval`]'s functions.
    fn through_interval(self, f: Func) -> Ball {
        let iv = self.to_interval();
        Ball::from_interval(match f {
            Func::Exp => Real::exp(iv),
            Func::ExpM1 => Real::exp_m1(iv),
            Func::Ln => Real::ln(iv),
            Func::Ln1p => Real::ln_1p(iv),
            Func::Tanh => Real::tanh(iv),
            Func::Sqrt => Real::sqrt(iv),
            Func::Erf => iv.erf(),
        })
    }

    /// The enclosure of `f` over the ball (see the module docs).
    fn apply(self, f: Func) -> Ball {
        if self.is_zero_point() {
            return match f {
                Func::Exp => Ball::ONE,
                Func::Ln => Ball::ENTIRE, // ln 0 = −∞: no real value
                _ => Ball::ZERO,
            };
        }
        if f == Func::Ln && self == Ball::ONE {
            return Ball::ZERO;
        }
        let by_derivative = if self.is_entire() {
            None
        } else {
            self.lipschitz(f).map(|l| {
                let v = self.eval_mid(f);
                let eval_err = add_up(mul_up(REL_FN, v.hi.abs()), ABS_UNDERFLOW);
                Ball::from_parts(v, add_up(mul_up0(l, self.rad), eval_err))
            })
        };
        match by_derivative {
            Some(b) if self.rad <= mul_up(WIDE, self.hi.abs()) => b,
            Some(b) => {
                let c = self.through_interval(f);
                if c.rad < b.rad { c } else { b }
            }
            None => self.through_interval(f),
        }
    }

    /// The error function `erf x = 2/√π ∫₀ˣ e^{−t²} dt` over the ball: the double-double `erf` at
    /// the midpoint (assumed within `2⁻⁹⁶ |F| + 2⁻¹⁰⁰⁰`, like the other functions) and the
    /// radius times `sup |erf′| ≤ 2/√π e^{−d²}` (`d` the smallest `|x|` in the ball).
    pub fn erf(self) -> Ball {
        self.apply(Func::Erf)
    }

    /// The exact real `n` as a double-double (a 64-bit integer fits in two doubles).
    fn of_i64(n: i64) -> Ball {
        let hi = n as f64;
        let lo = (i128::from(n) - hi as i128) as f64;
        Ball::from_parts(Dd::new(hi, lo), 0.0)
    }
}

impl fmt::Display for Ball {
    /// `hi + lo ± rad`, e.g. `1e0 + 1.2e-17 ± 3e-31`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:e} + {:e} ± {:e}", self.hi, self.lo, self.rad)
    }
}

impl PartialOrd for Ball {
    /// Certainly less / greater when every member of one ball is below every member of the
    /// other (decided from the enclosure of their difference); equal only for one point.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if self.rad == 0.0 && other.rad == 0.0 && self.hi == other.hi && self.lo == other.lo {
            return Some(Ordering::Equal);
        }
        let d = *self - *other;
        if d.hi() < 0.0 {
            Some(Ordering::Less)
        } else if d.lo() > 0.0 {
            Some(Ordering::Greater)
        } else {
            None
        }
    }
}

impl Add for Ball {
    type Output = Ball;
    /// `⟨a, r⟩ + ⟨b, s⟩ ⊆ ⟨a + b, r + s + e⟩` (adding the point 0 is exact).
    #[inline]
    fn add(self, o: Ball) -> Ball {
        if o.is_zero_point() {
            return self;
        }
        if self.is_zero_point() {
            return o;
        }
        if self.is_entire() || o.is_entire() {
            return Ball::ENTIRE;
        }
        let (s, err) = sum_with_error(self.mid(), o.mid());
        Ball::from_parts(s, add_up(add_up(self.rad, o.rad), err))
    }
}

impl Neg for Ball {
    type Output = Ball;
    #[inline]
    fn neg(self) -> Ball {
        Ball {
            hi: -self.hi,
            lo: -self.lo,
            rad: self.rad,
        }
    }
}

impl Sub for Ball {
    type Output = Ball;
    #[inline]
    fn sub(self, o: Ball) -> Ball {
        self + (-o)
    }
}

/// `|a| s + r (|b| + s)` rounded up: the radius of `⟨a, r⟩ · ⟨b, s⟩` before the midpoint's
/// rounding error (finite radii).
#[inline]
fn product_radius(x: Ball, y: Ball) -> f64 {
    let ax = x.mid().abs_up();
    let ay = y.mid().abs_up();
    add_up(mul_up0(ax, y.rad), mul_up0(x.rad, add_up(ay, y.rad)))
}

impl Mul for Ball {
    type Output = Ball;
    /// `⟨a, r⟩ · ⟨b, s⟩ ⊆ ⟨ab, |a|s + r(|b| + s) + e⟩`; the point 0 times anything is 0.
    #[inline]
    fn mul(self, o: Ball) -> Ball {
        if self.is_zero_point() || o.is_zero_point() {
            return Ball::ZERO;
        }
        if self.is_entire() || o.is_entire() {
            return Ball::ENTIRE;
        }
        let (p, err) = product_with_error(self.mid(), o.mid());
        Ball::from_parts(p, add_up(product_radius(self, o), err))
    }
}

impl Div for Ball {
    type Output = Ball;
    /// `⟨a, r⟩ / ⟨b, s⟩ ⊆ ⟨q, e_q + (r + |a/b| s) / (|b| − s)⟩` with `|q − a/b| ≤ e_q`
    /// bounded from the residual `a − bq`; the whole line when the divisor may be 0.
    fn div(self, o: Ball) -> Ball {
        if o.is_entire() {
            return Ball::ENTIRE;
        }
        let (a, b) = (self.mid(), o.mid());
        let b_low = b.abs_down(); // ≤ |b|
        let den = add_down(b_low, -o.rad); // ≤ |b| − s ≤ |y| for every y in o
        if den.is_nan() || den <= 0.0 {
            return Ball::ENTIRE;
        }
        if self.is_zero_point() {
            return Ball::ZERO;
        }
        if self.is_entire() {
            return Ball::ENTIRE;
        }
        let q = a / b;
        if !q.is_finite() {
            return Ball::ENTIRE;
        }
        // |a − bq| ≤ |ρ| + (error of bq) + (error of the subtraction), ρ = RN₂(a − RN₂(bq)).
        let (bq, e1) = product_with_error(b, q);
        let (rho, e2) = sum_with_error(a, -bq);
        let residual = add_up(add_up(rho.abs_up(), e1), e2);
        let eq = div_up(residual, b_low); // ≥ |q − a/b|
        let c = add_up(q.abs_up(), eq); // ≥ |a/b|
        let spread = div_up(add_up(self.rad, mul_up0(c, o.rad)), den);
        Ball::from_parts(q, add_up(eq, spread))
    }
}

/// A row accumulator of the matrix product: the double-double midpoint, the bound on its
/// rounding errors so far, and the propagated radius.
#[derive(Clone, Copy)]
struct DotAcc {
    s: Dd,
    err: f64,
    rad: f64,
    entire: bool,
}

impl DotAcc {
    const NEW: DotAcc = DotAcc {
        s: Dd::of(0.0),
        err: 0.0,
        rad: 0.0,
        entire: false,
    };

    /// `acc += x · y` (the left fold's step, without packing the intermediate balls).
    #[inline]
    fn mul_add(&mut self, x: Ball, y: Ball) {
        if x.is_zero_point() || y.is_zero_point() {
            return;
        }
        if x.is_entire() || y.is_entire() {
            self.entire = true;
            return;
        }
        let (p, e1) = product_with_error(x.mid(), y.mid());
        let (s, e2) = if self.s.hi == 0.0 && self.s.lo == 0.0 {
            (p, 0.0) // 0 + p is exact
        } else {
            sum_with_error(self.s, p)
        };
        self.s = s;
        self.err = add_up(self.err, add_up(e1, e2));
        self.rad = add_up(self.rad, product_radius(x, y));
    }

    fn finish(self) -> Ball {
        if self.entire {
            Ball::ENTIRE
        } else {
            Ball::from_parts(self.s, add_up(self.rad, self.err))
        }
    }
}

/// `1/(1 − u)^N ≤ 1 + 2Nu` (for `Nu ≤ ¼`), rounded up: the factor that lifts a sum of `N`
/// roundings to nearest of nonnegative terms back above the exact sum.
fn lift(n: usize) -> f64 {
    let nu = mul_up(n as f64, pow2(-53));
    if nu > 0.25 {
        f64::INFINITY
    } else {
        add_up(1.0, 2.0 * nu)
    }
}

/// The matrix product of balls that are all bounded, in the layout of [`Element::gemm`].
///
/// Each entry's midpoint is the double-double left fold `((p₁ + p₂) + p₃) + …` of the products
/// `pₗ = aₗ bₗ`; the radius is `Σ |aₗ| sₗ + rₗ (|bₗ| + sₗ)` (the product rule summed) plus the
/// rounding of the midpoint, `2⁻¹⁰⁰ Σ (|pₗ| + |Sₗ|)` (`Sₗ` the partial sums) and `2⁻¹⁰⁰⁰` per
/// product, leaving out the steps that are exact (as `+` and `·` on balls do): the same
/// enclosure as the left fold of ball `+` and `·`, with the two nonnegative sums taken in plain
/// rounding to nearest and lifted at the end. Each radius term takes at most 4 roundings and a
/// product may lose `2⁻¹⁰⁷⁵` twice to underflow, so the exact sum `T` of `k` terms and its
/// computed value `T̂` satisfy `T ≤ (T̂ + k·2⁻¹⁰⁷⁴) / (1 − u)^{k+4}`; likewise the sum of
/// magnitudes (one rounding per term, `k` additions) `A ≤ Â / (1 − u)^{k+1}`. A point-zero
/// operand contributes an exact 0.
fn gemm_bounded(
    a: &[Ball],
    ta: bool,
    b: &[Ball],
    tb: bool,
    dims: (usize, usize, usize),
) -> Vec<Ball> {
    /// One output entry in progress: midpoint, magnitudes of the inexact steps, number of
    /// inexact products, propagated radius.
    #[derive(Clone, Copy)]
    struct Acc {
        s: Dd,
        mag: f64,
        inexact: f64,
        rad: f64,
    }
    const NEW: Acc = Acc {
        s: Dd::of(0.0),
        mag: 0.0,
        inexact: 0.0,
        rad: 0.0,
    };
    let (m, k, n) = dims;
    let at = |i: usize, l: usize| if ta { a[l * m + i] } else { a[i * k + l] };
    let bt = |l: usize, j: usize| if tb { b[j * k + l] } else { b[l * n + j] };
    let mut out = Vec::with_capacity(m * n);
    let mut row = vec![NEW; n];
    let tiny = mul_up(k as f64, pow2(-1022) * pow2(-52)); // k·2⁻¹⁰⁷⁴
    let (lift_rad, lift_mag) = (lift(k + 4), lift(k + 1));
    for i in 0..m {
        row.iter_mut().for_each(|acc| *acc = NEW);
        for l in 0..k {
            let x = at(i, l);
            let (xm, ax, rx) = (x.mid(), x.hi.abs() + x.lo.abs(), x.rad);
            for (j, acc) in row.iter_mut().enumerate() {
                let y = bt(l, j);
                let p = xm * y.mid();
                // Exact: a product of single doubles away from underflow (or a zero factor),
                // a sum of single doubles, a sum with a zero term (`Dd` has a zero `lo` there).
                let exact_p = (x.lo == 0.0 && y.lo == 0.0 && p.hi.abs() >= EXACT_PRODUCT_ZONE)
                    || p.hi == 0.0 && (xm.hi == 0.0 || y.hi == 0.0);
                let exact_s = (acc.s.lo == 0.0 && p.lo == 0.0) || acc.s.hi == 0.0 || p.hi == 0.0;
                acc.s = acc.s + p;
                let (ep, es) = (f64::from(u8::from(!exact_p)), f64::from(u8::from(!exact_s)));
                acc.mag += ep * p.hi.abs() + es * acc.s.hi.abs();
                acc.inexact += ep;
                acc.rad += ax * y.rad + rx * ((y.hi.abs() + y.lo.abs()) + y.rad);
            }
        }
        out.extend(row.iter().map(|acc| {
            let spread = mul_up(add_up(acc.rad, tiny), lift_rad);
            let err = add_up(
                mul_up(REL_ARITH, mul_up(acc.mag, lift_mag)),
                mul_up(acc.inexact, ABS_UNDERFLOW),
            );
            Ball::from_parts(acc.s, add_up(spread, err))
        }));
    }
    out
}

impl Element for Ball {
    /// The enclosure of the left fold of ball `+` and `·`, each entry accumulated in one
    /// double-double sum and two plain `f64` sums (see `gemm_bounded`); with an unbounded
    /// operand entry, the entrywise fold (where `0 · ENTIRE = 0`).
    fn gemm(a: &[Self], ta: bool, b: &[Self], tb: bool, m: usize, k: usize, n: usize) -> Vec<Self> {
        if a.iter().chain(b).all(|x| !x.is_entire()) {
            return gemm_bounded(a, ta, b, tb, (m, k, n));
        }
        let at = |i: usize, l: usize| if ta { a[l * m + i] } else { a[i * k + l] };
        let bt = |l: usize, j: usize| if tb { b[j * k + l] } else { b[l * n + j] };
        let mut out = Vec::with_capacity(m * n);
        let mut row = vec![DotAcc::NEW; n];
        for i in 0..m {
            row.iter_mut().for_each(|acc| *acc = DotAcc::NEW);
            for l in 0..k {
                let ail = at(i, l);
                for (j, acc) in row.iter_mut().enumerate() {
                    acc.mul_add(ail, bt(l, j));
                }
            }
            out.extend(row.iter().map(|acc| acc.finish()));
        }
        out
    }
    fn zero() -> Self {
        Ball::ZERO
    }
    fn one() -> Self {
        Ball::ONE
    }
    /// `n` exactly (a 64-bit integer is a double-double).
    fn from_i64(n: i64) -> Self {
        Ball::of_i64(n)
    }
    fn abs(&self) -> Self {
        if self.lo() >= 0.0 {
            *self
        } else if self.hi() <= 0.0 {
            -*self
        } else {
            Ball::from_interval(Interval::new(0.0, (-self.lo()).max(self.hi())))
        }
    }
    /// The midpoint rounded to nearest (NaN for the whole line).
    fn to_f64(&self) -> f64 {
        if self.is_entire() { f64::NAN } else { self.hi }
    }
    /// Only the point `+0` (adding it is exact).
    fn is_positive_zero(&self) -> bool {
        self.hi.to_bits() == 0 && self.lo.to_bits() == 0 && self.rad == 0.0
    }
    /// `max(x, y)` over the balls, whose range is `[max(lx, ly), max(hx, hy)]` (`l`, `h` the
    /// ends of each ball): `self` when both of its ends are certainly at least `other`'s (then
    /// the range is `self`; also `max(x, x) = x`), `other` in the mirror case, else the ball
    /// of that range from the `f64` bounds. The ends are compared through
    /// `h_x − h_y = (m_x − m_y) + (r_x − r_y)` and `l_x − l_y = (m_x − m_y) − (r_x − r_y)`,
    /// enclosed in ball arithmetic.
    fn elem_max(&self, other: &Self) -> Self {
        if self == other {
            return *self;
        }
        let dm = Ball::new(self.hi, self.lo, 0.0) - Ball::new(other.hi, other.lo, 0.0);
        let dr = Ball::point(self.rad) - Ball::point(other.rad);
        let (dh, dl) = (dm + dr, dm - dr);
        if dh.lo() >= 0.0 && dl.lo() >= 0.0 {
            *self
        } else if dh.hi() <= 0.0 && dl.hi() <= 0.0 {
            *other
        } else {
            Ball::from_interval(Interval::new(
                self.lo().max(other.lo()),
                self.hi().max(other.hi()),
            ))
        }
    }
    /// `1` when every member is positive, `0` when none is, else the ball of `[0, 1]`.
    fn heaviside(&self) -> Self {
        if self.lo() > 0.0 {
            Ball::ONE
        } else if self.hi() <= 0.0 {
            Ball::ZERO
        } else {
            Ball {
                hi: 0.5,
                lo: 0.0,
                rad: 0.5,
            }
        }
    }
}

impl Real for Ball {
    fn exp(self) -> Self {
        self.apply(Func::Exp)
    }
    fn exp_m1(self) -> Self {
        self.apply(Func::ExpM1)
    }
    fn ln(self) -> Self {
        self.apply(Func::Ln)
    }
    fn ln_1p(self) -> Self {
        self.apply(Func::Ln1p)
    }
    fn tanh(self) -> Self {
        self.apply(Func::Tanh)
    }
    fn sqrt(self) -> Self {
        self.apply(Func::Sqrt)
    }
    fn max(self, other: Self) -> Self {
        self.elem_max(&other)
    }
    /// Whether the ball is bounded (not the whole line).
    fn is_finite(self) -> bool {
        !self.is_entire()
    }
    /// The point `x`, exactly.
    fn from_f64(x: f64) -> Self {
        Ball::point(x)
    }
    /// The point `f64::EPSILON` (as for [`Interval`], so that generic code using it denotes the
    /// same real function under both enclosures).
    const EPSILON: Self = Ball {
        hi: f64::EPSILON,
        lo: 0.0,
        rad: 0.0,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_and_exact_cases() {
        assert_eq!(Ball::point(2.0) * Ball::point(3.0), Ball::point(6.0));
        assert_eq!(Ball::point(0.5) + Ball::point(0.25), Ball::point(0.75));
        assert_eq!(Ball::point(1.0) / Ball::point(4.0), Ball::point(0.25));
        assert_eq!(Ball::point(0.0) * Ball::ENTIRE, Ball::ZERO);
        assert_eq!(Ball::ENTIRE * Ball::point(2.0), Ball::ENTIRE);
        assert_eq!(Ball::point(f64::NAN), Ball::ENTIRE);
        assert_eq!(Ball::around(1.0, -1.0), Ball::ENTIRE);
        let third = Ball::point(1.0) / Ball::point(3.0);
        assert!(third.rad() > 0.0 && third.rad() < 1e-30, "{third}");
        assert!(!third.contains_f64(1.0 / 3.0)); // 1/3 is not an f64
        assert_eq!(Ball::point(1.0) / Ball::around(0.0, 1.0), Ball::ENTIRE);
        assert_eq!(Ball::point(0.0).exp(), Ball::ONE);
        assert_eq!(Ball::point(1.0).ln(), Ball::ZERO);
        assert_eq!(Ball::point(0.0).tanh(), Ball::ZERO);
        assert_eq!(Ball::of_i64(i64::MIN).hi, -(2f64.powi(63)));
    }
}
