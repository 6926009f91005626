//! A high-precision reference scalar for tests: double-double numbers.
//!
//! Include it with `#[path = "common/reference.rs"] mod reference;` (the directory is not a
//! test target of its own).
//!
//! A [`Dd`] is the unevaluated sum `hi + lo` of two `f64` with `hi = RN(hi + lo)` (so
//! `|lo| ≤ ½ ulp(hi)`): about 106 significant bits, a unit roundoff `u² = 2⁻¹⁰⁶ ≈ 1.2e-32`.
//! It implements shapetape's `Element` and `Real`, so the generic op library runs on it: a
//! `GraphData<Dd, (), G, Ss>` evaluates a model at double-double precision, an independent
//! reference (no code of the library's interval arithmetic) for the exact values of every slot.
//!
//! Arithmetic uses the error-free transforms `two_sum` and `two_prod` (with `f64::mul_add`)
//! and the algorithms of Joldes, Muller and Popescu ("Tight and rigorous error bounds for basic
//! building blocks of double-word arithmetic", 2017): relative error at most `3u²` for `+`/`−`
//! (also under cancellation), `4u²` for `×`; `÷` takes three quotient digits (a few `u²`). The
//! functions reduce their argument and use a Taylor series or one Newton step from the `f64`
//! result:
//!
//! - `exp(x) = 2ᵏ (1 + expm1(r))`, `x = k ln 2 + r`, `|r| ≤ ln 2 / 2` (ln 2 as three doubles);
//! - `expm1(x)` for `|x| ≤ 1`: a Taylor series at `s = x / 2ᵐ` (`|s| ≤ 2⁻¹⁰`), then `m` times
//!   `expm1(2t) = expm1(t) (expm1(t) + 2)` (no cancellation); `eˣ − 1` above;
//! - `ln_1p(u)` for `u ∈ [−½, 1]`: `y₀ = ln_1p(u_hi)` in `f64`, `e = expm1(y₀)`, then
//!   `y = y₀ + ln(1 + c)` with `c = (u − e) / (1 + e)` (`|c| ≈ 1e-16`, two series terms);
//! - `ln(x)`: `ln_1p(x − 1)` for `x ∈ [½, 2]`, else `y₀ = ln x_hi`, `t = x e^{−y₀} − 1`,
//!   `y = y₀ + t − t²/2` (extreme `x` scaled by a power of two first);
//! - `tanh(x) = m / (m + 2)` with `m = expm1(2|x|)`, `±1` for `|x| ≥ 50`;
//! - `sqrt(x) = y₀ + (x − y₀²) / (2y₀)` with `y₀ = √x_hi` and `y₀²` exact.
//!
//! The full precision holds while every component stays a normal `f64` (magnitudes above
//! about `2⁻⁹⁶⁹ ≈ 2e-292`); below, the low part loses bits as a subnormal.
//! `tests/reference_scalar.rs` checks the arithmetic against exact rationals and the functions
//! against 40-digit values from Python's `decimal` (`scripts/make_dd_reference.py`).
//!
//! For the error actually made by a runtime graph: evaluate the same model as
//! `GraphData<Dd, ..>` on [`ctx_to_dd`] of the runtime inputs and compare every slot with
//! [`slot_max_distances`] (any runtime scalar convertible to `f64`).
#![allow(dead_code)] // each test file uses part of it

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, Div, Mul, Neg, Sub};

use num_bigint::BigInt;
use num_traits::{One, Signed, ToPrimitive, Zero};
use shapetape::{Element, Rational, Real, ShapeList, TList};

/// A double-double number: the exact real `hi + lo`, with `hi = RN(hi + lo)`.
///
/// Non-finite values are `(±∞ or NaN, 0)`.
#[derive(Clone, Copy, PartialEq)]
pub struct Dd {
    hi: f64,
    lo: f64,
}

// ---------------------------------------------------------------------------------------------
// Error-free transforms
// ---------------------------------------------------------------------------------------------

/// `a + b = s + e` exactly, `s = RN(a + b)` (Knuth's TwoSum).
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// `a + b = s + e` exactly when `a = 0` or `exponent(a) ≥ exponent(b)` (Dekker's FastTwoSum).
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `a · b = p + e` exactly, `p = RN(a b)` (while `e` is not subnormal).
fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// `2ᵏ` for `k ∈ [−1022, 1023]`.
fn pow2(k: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// `⌊log₂ |x|⌋` of a finite nonzero normal `x`.
fn exponent(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023
}

/// ln 2 as the sum of three doubles (each the nearest double to what the previous ones miss).
const LN2: [f64; 3] = [
    core::f64::consts::LN_2,
    2.3190468138462996e-17,
    5.707708438416212e-34,
];

impl Dd {
    /// The double-double `hi + lo` (any two doubles; the sum is renormalised, exactly).
    pub fn new(hi: f64, lo: f64) -> Dd {
        if !hi.is_finite() || !lo.is_finite() {
            return Dd {
                hi: hi + lo,
                lo: 0.0,
            };
        }
        let (s, e) = two_sum(hi, lo);
        Dd { hi: s, lo: e }
    }

    /// The two components `(hi, lo)`.
    pub fn parts(self) -> (f64, f64) {
        (self.hi, self.lo)
    }

    /// The high part: the nearest `f64` to the value.
    pub fn hi(self) -> f64 {
        self.hi
    }

    /// The low part: the value minus [`Dd::hi`].
    pub fn lo(self) -> f64 {
        self.lo
    }

    /// A non-finite or zero value with the given high part.
    fn special(hi: f64) -> Dd {
        Dd { hi, lo: 0.0 }
    }

    /// The exact value as a rational (`None` if it is not finite).
    pub fn to_rational(self) -> Option<Rational> {
        let h = Rational::from_float(self.hi)?;
        let l = Rational::from_float(self.lo)?;
        Some(h + l)
    }

    /// The double-double nearest to `r` up to a relative error of about `2⁻¹⁰⁶`
    /// (`hi` = `r` rounded to `f64`, `lo` = the remainder rounded to `f64`).
    pub fn from_rational(r: &Rational) -> Dd {
        let hi = ToPrimitive::to_f64(r).unwrap_or(f64::NAN);
        if !hi.is_finite() || hi == 0.0 {
            return Dd::special(hi);
        }
        let rest = r - Rational::from_float(hi).expect("finite");
        let lo = ToPrimitive::to_f64(&rest).unwrap_or(0.0);
        let (s, e) = fast_two_sum(hi, lo);
        Dd { hi: s, lo: e }
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

    /// `self + b` for a double `b` (relative error ≤ `2u²`).
    fn add_f64(self, b: f64) -> Dd {
        let (sh, sl) = two_sum(self.hi, b);
        if !sh.is_finite() {
            return Dd::special(sh);
        }
        let v = self.lo + sl;
        let (h, l) = fast_two_sum(sh, v);
        Dd { hi: h, lo: l }
    }

    /// `self · b` for a double `b` (relative error ≤ `2u²`).
    fn mul_f64(self, b: f64) -> Dd {
        let (ch, cl1) = two_prod(self.hi, b);
        if !ch.is_finite() {
            return Dd::special(ch);
        }
        let cl3 = self.lo.mul_add(b, cl1);
        let (h, l) = fast_two_sum(ch, cl3);
        Dd { hi: h, lo: l }
    }

    /// `e^self − 1` for `|self| ≤ 1` (also accurate for tiny `|self|`).
    fn expm1_small(self) -> Dd {
        if self.hi == 0.0 {
            return self;
        }
        // s = x / 2ᵐ with |s| ≤ 2⁻¹⁰.
        let m = (exponent(self.hi) + 11).max(0);
        let s = self.ldexp(-m);
        // Taylor: s (1 + s/2 (1 + s/3 (… (1 + s/13)))); the first omitted term is below
        // |s|·2⁻¹⁴⁰/13! relative.
        let one = Dd::from(1.0);
        let mut p = one;
        for n in (2..=13).rev() {
            p = one + s * p / Dd::from(f64::from(n));
        }
        let mut e = s * p;
        for _ in 0..m {
            e = e * (e + Dd::from(2.0));
        }
        e
    }

    /// `ln(1 + self)` for `self ∈ [−½, 1]`.
    fn ln1p_small(self) -> Dd {
        if self.hi == 0.0 {
            return self;
        }
        let y0 = self.hi.ln_1p();
        let e = Dd::from(y0).expm1_small();
        let c = (self - e) / (Dd::from(1.0) + e);
        Dd::from(y0) + c - c * c * Dd::from(0.5)
    }

    /// `ln self` for `self` outside `[½, 2]`, positive and finite.
    fn ln_far(self) -> Dd {
        let ex = exponent(self.hi);
        if !(-900..=900).contains(&ex) {
            // ln x = ln(x 2⁻ᵉ) + e ln 2 (x 2⁻ᵉ ∈ [1, 2), e ln 2 exact to 3 doubles).
            let k = f64::from(ex);
            let (a, b) = two_prod(k, LN2[0]);
            let (c, d) = two_prod(k, LN2[1]);
            let kln2 = Dd::new(a, b) + Dd::new(c, d + k * LN2[2]);
            return self.ldexp(-ex).ln() + kln2;
        }
        let y0 = self.hi.ln();
        let t = self * Dd::from(-y0).exp() - Dd::from(1.0);
        Dd::from(y0) + t - t * t * Dd::from(0.5)
    }

    /// The square root of `self` (`NaN` below zero).
    fn sqrt_dd(self) -> Dd {
        if self.hi == 0.0 || self.hi.is_nan() || self.hi == f64::INFINITY {
            return Dd::special(self.hi);
        }
        if self.hi < 0.0 {
            return Dd::special(f64::NAN);
        }
        let ex = exponent(self.hi);
        if !(-600..=600).contains(&ex) {
            let half = ex / 2;
            return self.ldexp(-2 * half).sqrt_dd().ldexp(half);
        }
        let y0 = self.hi.sqrt();
        let (p, e) = two_prod(y0, y0);
        let d = self - Dd { hi: p, lo: e };
        Dd::from(y0) + Dd::from(d.hi / (2.0 * y0))
    }
}

impl From<f64> for Dd {
    /// `x` exactly.
    fn from(x: f64) -> Dd {
        Dd { hi: x, lo: 0.0 }
    }
}

impl From<f32> for Dd {
    /// `x` exactly.
    fn from(x: f32) -> Dd {
        Dd::from(f64::from(x))
    }
}

// ---------------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------------

impl Add for Dd {
    type Output = Dd;
    /// Joldes–Muller–Popescu `AccurateDWPlusDW`: relative error ≤ `3u²` (also when the terms
    /// cancel).
    fn add(self, b: Dd) -> Dd {
        let (sh, sl) = two_sum(self.hi, b.hi);
        if !sh.is_finite() {
            return Dd::special(sh);
        }
        let (th, tl) = two_sum(self.lo, b.lo);
        let c = sl + th;
        let (vh, vl) = fast_two_sum(sh, c);
        let w = tl + vl;
        let (h, l) = fast_two_sum(vh, w);
        Dd { hi: h, lo: l }
    }
}

impl Neg for Dd {
    type Output = Dd;
    fn neg(self) -> Dd {
        Dd {
            hi: -self.hi,
            lo: -self.lo,
        }
    }
}

impl Sub for Dd {
    type Output = Dd;
    fn sub(self, b: Dd) -> Dd {
        self + (-b)
    }
}

impl Mul for Dd {
    type Output = Dd;
    /// Joldes–Muller–Popescu `DWTimesDW3` (with FMA): relative error ≤ `4u²`.
    fn mul(self, b: Dd) -> Dd {
        let (ch, cl1) = two_prod(self.hi, b.hi);
        if !ch.is_finite() || ch == 0.0 {
            return Dd::special(ch);
        }
        let tl0 = self.lo * b.lo;
        let tl1 = self.hi.mul_add(b.lo, tl0);
        let cl2 = self.lo.mul_add(b.hi, tl1);
        let cl3 = cl1 + cl2;
        let (h, l) = fast_two_sum(ch, cl3);
        Dd { hi: h, lo: l }
    }
}

impl Div for Dd {
    type Output = Dd;
    /// Long division with three double quotient digits: `q₁ = a_hi / b_hi`,
    /// `q₂ = (a − q₁b)_hi / b_hi`, `q₃ = (a − q₁b − q₂b)_hi / b_hi`, summed.
    fn div(self, b: Dd) -> Dd {
        let q1 = self.hi / b.hi;
        if !q1.is_finite() || q1 == 0.0 || !b.hi.is_finite() || !self.hi.is_finite() {
            return Dd::special(q1);
        }
        let r = self - b.mul_f64(q1);
        let q2 = r.hi / b.hi;
        let r = r - b.mul_f64(q2);
        let q3 = r.hi / b.hi;
        let (h, l) = fast_two_sum(q1, q2);
        Dd { hi: h, lo: l }.add_f64(q3)
    }
}

impl PartialOrd for Dd {
    /// The order of the values: lexicographic on `(hi, lo)`, since `hi = RN(hi + lo)` is
    /// monotone in the value.
    fn partial_cmp(&self, other: &Dd) -> Option<Ordering> {
        match self.hi.partial_cmp(&other.hi)? {
            Ordering::Equal => self.lo.partial_cmp(&other.lo),
            o => Some(o),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------------

/// The decimal `d.ddd…e±N` of `r ≠ 0` with `digits` significant digits, rounded to nearest.
pub fn rational_to_sci(r: &Rational, digits: usize) -> String {
    let digits = digits.max(1);
    let sign = if r.is_negative() { "-" } else { "" };
    let a = Signed::abs(r);
    // The decimal exponent: 10^e ≤ a < 10^(e+1), from the f64 estimate, then corrected.
    let est = ToPrimitive::to_f64(&a).map_or(0, |f| {
        if f > 0.0 && f.is_finite() {
            f.log10().floor() as i64
        } else {
            0
        }
    });
    let pow10 = |e: i64| -> Rational {
        let p = Rational::from_integer(BigInt::from(10).pow(e.unsigned_abs() as u32));
        if e >= 0 { p } else { p.recip() }
    };
    let mut e = est;
    while pow10(e) > a {
        e -= 1;
    }
    while pow10(e + 1) <= a {
        e += 1;
    }
    let scaled = &a * pow10(digits as i64 - 1 - e);
    let mut q = (scaled + Rational::new(BigInt::one(), BigInt::from(2)))
        .floor()
        .to_integer();
    if q >= BigInt::from(10).pow(digits as u32) {
        q /= 10;
        e += 1;
    }
    let s = q.to_string();
    let (first, rest) = s.split_at(1);
    if rest.is_empty() {
        format!("{sign}{first}e{e}")
    } else {
        format!("{sign}{first}.{rest}e{e}")
    }
}

impl fmt::Display for Dd {
    /// The value to 34 significant digits (or `precision` digits: `{:.40}`), e.g.
    /// `1.414213562373095048801688724209698e0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.hi.is_finite() || self.hi == 0.0 {
            return write!(f, "{}", self.hi);
        }
        let r = self.to_rational().expect("finite");
        f.write_str(&rational_to_sci(&r, f.precision().unwrap_or(34)))
    }
}

impl fmt::Debug for Dd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dd({:e} + {:e})", self.hi, self.lo)
    }
}

// ---------------------------------------------------------------------------------------------
// shapetape's scalar traits
// ---------------------------------------------------------------------------------------------

impl Element for Dd {
    fn zero() -> Self {
        Dd::from(0.0)
    }
    fn one() -> Self {
        Dd::from(1.0)
    }
    /// `n` exactly (a 64-bit integer fits in two doubles).
    fn from_i64(n: i64) -> Self {
        let hi = n as f64;
        let lo = (i128::from(n) - hi as i128) as f64;
        Dd::new(hi, lo)
    }
    fn abs(&self) -> Self {
        if self.hi.is_sign_negative() {
            -*self
        } else {
            *self
        }
    }
    /// The nearest `f64` (the high part).
    fn to_f64(&self) -> f64 {
        self.hi
    }
    fn is_positive_zero(&self) -> bool {
        self.hi.to_bits() == 0 && self.lo.to_bits() == 0
    }
}

impl Real for Dd {
    fn exp(self) -> Self {
        if self.hi.is_nan() {
            return self;
        }
        if self.hi > 709.8 {
            return Dd::special(f64::INFINITY);
        }
        if self.hi < -745.2 {
            return Dd::special(0.0);
        }
        // x = k ln 2 + r, |r| ≲ ln 2 / 2; k ln 2 is subtracted one exact product at a time.
        let k = (self.hi / LN2[0]).round();
        let (a, b) = two_prod(k, LN2[0]);
        let (c, d) = two_prod(k, LN2[1]);
        let r = self - Dd::new(a, b) - Dd::new(c, d) - Dd::from(k * LN2[2]);
        (r.expm1_small() + Dd::from(1.0)).ldexp(k as i32)
    }

    fn exp_m1(self) -> Self {
        if self.hi.is_nan() {
            return self;
        }
        if self.hi.abs() <= 1.0 {
            self.expm1_small()
        } else {
            self.exp() - Dd::from(1.0)
        }
    }

    fn ln(self) -> Self {
        if self.hi.is_nan() || self.hi < 0.0 {
            return Dd::special(f64::NAN);
        }
        if self.hi == 0.0 {
            return Dd::special(f64::NEG_INFINITY);
        }
        if self.hi == f64::INFINITY {
            return self;
        }
        if (0.5..=2.0).contains(&self.hi) {
            (self - Dd::from(1.0)).ln1p_small()
        } else {
            self.ln_far()
        }
    }

    fn ln_1p(self) -> Self {
        if self.hi.is_nan() {
            return self;
        }
        if (-0.5..=1.0).contains(&self.hi) {
            self.ln1p_small()
        } else {
            (self + Dd::from(1.0)).ln()
        }
    }

    fn tanh(self) -> Self {
        if self.hi.is_nan() || self.hi == 0.0 {
            return self;
        }
        let a = Element::abs(&self);
        let t = if a.hi >= 50.0 {
            Dd::from(1.0)
        } else {
            let m = (a + a).exp_m1();
            m / (m + Dd::from(2.0))
        };
        if self.hi < 0.0 { -t } else { t }
    }

    fn sqrt(self) -> Self {
        self.sqrt_dd()
    }

    /// IEEE `maxNum`: a NaN operand loses.
    fn max(self, other: Self) -> Self {
        if self.hi.is_nan() {
            other
        } else if other.hi.is_nan() || self >= other {
            self
        } else {
            other
        }
    }

    fn is_finite(self) -> bool {
        self.hi.is_finite()
    }

    /// `x` exactly.
    fn from_f64(x: f64) -> Self {
        Dd::from(x)
    }

    /// `2⁻¹⁰⁴`: the relative spacing of 106-bit significands (a double-double has no fixed
    /// gap after 1; `1 + 2⁻¹⁰⁷⁴` is representable).
    const EPSILON: Self = Dd {
        hi: 4.930380657631324e-32,
        lo: 0.0,
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// `x` as a double-double, exactly.
pub fn dd_of_f64(x: f64) -> Dd {
    Dd::from(x)
}

/// `|dd − r|` rounded to `f64` (to nearest, up to a relative error of about `2⁻¹⁰⁴`): the
/// difference is formed in double-double, where it is accurate even when it cancels.
pub fn distance(dd: Dd, r: f64) -> f64 {
    let d = dd - Dd::from(r);
    if d.hi.is_nan() {
        return f64::INFINITY;
    }
    d.hi.abs()
}

/// Every entry of a context converted exactly to double-double (from `f32` or `f64`).
pub fn ctx_to_dd<T: Copy + Into<f64>, G: ShapeList>(x: &TList<T, G>) -> TList<Dd, G> {
    x.map(|&v| Dd::from(v.into()))
}

/// For every slot, `maxᵢ |exactᵢ − rtᵢ|` (each distance as by [`distance`]; `+∞` for a NaN):
/// the error actually made by the runtime values `rt` when `exact` holds the reference values
/// of the same slots (e.g. the `Dd` evaluation of the same model on the same inputs).
pub fn slot_max_distances<T: Copy + Into<f64>, G: ShapeList>(
    exact: &TList<Dd, G>,
    rt: &TList<T, G>,
) -> Vec<f64> {
    exact
        .slot_slices()
        .zip(rt.slot_slices())
        .map(|(e, r)| {
            e.iter()
                .zip(r)
                .fold(0.0f64, |m, (&e, &r)| m.max(distance(e, r.into())))
        })
        .collect()
}

/// For every slot, `maxᵢ |exactᵢ|` (the `L∞` norm of the reference values, rounded to `f64`).
pub fn slot_max_abs<G: ShapeList>(exact: &TList<Dd, G>) -> Vec<f64> {
    exact
        .slot_slices()
        .map(|e| e.iter().fold(0.0f64, |m, v| m.max(v.hi.abs())))
        .collect()
}

/// `|dd − exact| / |exact|` rounded to `f64` (`|dd − exact|` when `exact = 0`; `+∞` when
/// `dd` is not finite).
pub fn rel_error(dd: Dd, exact: &Rational) -> f64 {
    let Some(v) = dd.to_rational() else {
        return f64::INFINITY;
    };
    let diff = Signed::abs(&(v - exact));
    let q = if exact.is_zero() {
        diff
    } else {
        diff / Signed::abs(exact)
    };
    ToPrimitive::to_f64(&q).unwrap_or(f64::INFINITY)
}

/// The exact rational value of a decimal literal such as `-1.25e-3`, `0.5` or `7` (`None` if
/// the text is not one).
pub fn parse_decimal(s: &str) -> Option<Rational> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i64>().ok()?),
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part
        .chars()
        .chain(frac_part.chars())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let digits: BigInt = format!("0{int_part}{frac_part}").parse().ok()?;
    let e = exp - frac_part.len() as i64;
    let p = BigInt::from(10).pow(u32::try_from(e.unsigned_abs()).ok()?);
    let v = if e >= 0 {
        Rational::from_integer(digits * p)
    } else {
        Rational::new(digits, p)
    };
    Some(if neg { -v } else { v })
}

/// The constants of ops (a layer norm's `ε`, a scale factor) at double-double precision:
/// exact, like at the other spec scalars.
impl shapetape::ops::Constant<Dd> for f32 {
    fn at(&self) -> Dd {
        Dd::from(f64::from(*self))
    }
    fn value(&self) -> f64 {
        f64::from(*self)
    }
    fn is_finite(&self) -> bool {
        f32::is_finite(*self)
    }
}
