//! Closed intervals of reals with outward-rounded `f64` endpoints.
//!
//! An [`Interval`] `[lo, hi]` stands for every real number between its endpoints. Every
//! operation returns an interval that contains the exact real result of the operation for
//! *every* choice of operands inside the operand intervals (inclusion isotonicity), with
//! endpoints rounded outward. A NaN endpoint is replaced by the infinite one on its side, so an
//! interval never under-states what it contains.
//!
//! Because `Interval` implements [`Element`] and [`Real`], the generic op library runs on it
//! unchanged: evaluating a node at `A = Interval` on the boxes `[x̂ᵢ − εᵢ, x̂ᵢ + εᵢ]` encloses the
//! real-number value of the node at every spec input that is `ε`-close to the runtime input.
//! That is how the default error bounds of an op in a certified graph are made (see
//! [`Op::bound`](crate::autograd::Op::bound)).
//!
//! The transcendental endpoints assume the platform's `f64` `exp` and `ln` are within 1 ulp of
//! the exact value and widen each result by 2 ulps; `tanh` is derived from `exp` (the platform's
//! `tanh` is measured up to 2.2 ulps off). See TRUST.md and `tests/libm_accuracy.rs`.

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, Div, Mul, Neg, Sub};

use crate::approx::round::{add_up, div_up, mul_up};
use crate::scalar::{Element, Real};

/// The closed interval `[lo, hi]` of real numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    lo: f64,
    hi: f64,
}

#[inline]
fn add_down(a: f64, b: f64) -> f64 {
    -add_up(-a, -b)
}

/// `a + b` rounded upward, without branching (the hot path of interval sums, which this keeps
/// vectorisable): TwoSum gives the error `e` of `s = fl(a + b)`; if `e > 0`, `s` steps to the
/// next float up (one ulp in its bit pattern, towards `+∞`). A zero `s` is exact (`e = 0`), so
/// the step never has to cross zero. Exact sums (`e = 0`, e.g. adding `0`) are returned as they
/// are, so the result is `a + b` rounded upward, bit for bit, whenever `s` is finite.
///
/// The non-finite cases need no branch either: `s − a` can overflow when `s` does not (a tie
/// in the top binade), and TwoSum on an infinite `s` gives a NaN error; both take the step, which
/// is sound (rounding to nearest errs by at most half an ulp). From `s = −∞` the step gives
/// `−MAX`, a bound above everything `s` stands for (an overflowing finite sum, or `−∞` itself,
/// then enclosed by a superset); `s = +∞` or NaN gives `+∞`.
#[inline(always)]
fn add_up_fast(a: f64, b: f64) -> f64 {
    let s = a + b;
    let bb = s - a;
    let err = (a - (s - bb)) + (b - bb);
    let step = i64::from(err > 0.0 || err.is_nan()) * if s < 0.0 { -1 } else { 1 };
    let stepped = f64::from_bits(s.to_bits().wrapping_add_signed(step));
    if s < f64::INFINITY {
        stepped
    } else {
        f64::INFINITY
    }
}
#[inline]
fn mul_down(a: f64, b: f64) -> f64 {
    -mul_up(-a, b)
}
#[inline]
fn div_down(a: f64, b: f64) -> f64 {
    // for b > 0; the sign of b is handled by the caller through candidates
    -div_up(-a, b)
}
#[inline]
fn lo_of(x: f64) -> f64 {
    if x.is_nan() { f64::NEG_INFINITY } else { x }
}
#[inline]
fn hi_of(x: f64) -> f64 {
    if x.is_nan() { f64::INFINITY } else { x }
}
/// Product of two endpoints, rounded in direction `up`, with `0 · ∞ = 0` (an exact zero times
/// an unbounded endpoint contributes 0).
#[inline]
fn endpoint_mul(a: f64, b: f64, up: bool) -> f64 {
    if a == 0.0 || b == 0.0 {
        0.0
    } else if up {
        mul_up(a, b)
    } else {
        mul_down(a, b)
    }
}
/// Quotient of two endpoints rounded in direction `up` (`b ≠ 0`).
#[inline]
fn endpoint_div(a: f64, b: f64, up: bool) -> f64 {
    let (a, b) = if b < 0.0 { (-a, -b) } else { (a, b) };
    if up { div_up(a, b) } else { div_down(a, b) }
}
/// Widens a libm result by two ulps in each direction.
#[inline]
fn widen(v: f64) -> (f64, f64) {
    (v.next_down().next_down(), v.next_up().next_up())
}

impl Interval {
    /// `[lo, hi]`; NaN endpoints widen to `∓∞`, and `lo > hi` is widened to the whole line.
    #[must_use]
    pub fn new(lo: f64, hi: f64) -> Self {
        let (lo, hi) = (lo_of(lo), hi_of(hi));
        if lo <= hi {
            Interval { lo, hi }
        } else {
            Interval::ENTIRE
        }
    }

    /// `[lo, hi]` for endpoints known to satisfy `lo ≤ hi` unless one is NaN (a NaN endpoint
    /// widens to `∓∞`): [`Interval::new`] without the order check, for branch-free loops.
    #[inline]
    pub(crate) fn from_sorted(lo: f64, hi: f64) -> Self {
        debug_assert!(lo.is_nan() || hi.is_nan() || lo <= hi);
        Interval {
            lo: lo_of(lo),
            hi: hi_of(hi),
        }
    }

    /// The single point `x` (a NaN point becomes the whole real line).
    pub fn point(x: f64) -> Self {
        Interval::new(x, x)
    }

    /// `[x − e, x + e]` rounded outward (exact when `e = 0`); the whole line if either is not
    /// finite or `e` is NaN.
    pub fn around(x: f64, e: f64) -> Self {
        if !x.is_finite() || e.is_nan() || e == f64::INFINITY {
            return Interval::ENTIRE;
        }
        if e == 0.0 {
            return Interval { lo: x, hi: x };
        }
        Interval::new(add_down(x, -e), add_up(x, e))
    }

    /// `[x, x]` for a finite `x`, the whole line otherwise: [`Interval::around`] with `e = 0`,
    /// branch-free (for the boxes of exact inputs).
    #[inline]
    pub(crate) fn point_box(x: f64) -> Self {
        let finite = x.is_finite();
        Interval {
            lo: if finite { x } else { f64::NEG_INFINITY },
            hi: if finite { x } else { f64::INFINITY },
        }
    }

    /// The whole real line `[−∞, ∞]`.
    pub const ENTIRE: Interval = Interval {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };

    /// Lower endpoint.
    pub fn lo(self) -> f64 {
        self.lo
    }

    /// Upper endpoint.
    pub fn hi(self) -> f64 {
        self.hi
    }

    /// Whether `x` lies in the interval.
    pub fn contains(self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }

    /// `sup { |y − x| : y ∈ self }`, rounded upward: how far the point `x` can be from a
    /// value in the interval. `+∞` if `x` is NaN or infinite or the interval is unbounded.
    pub fn max_distance_from(self, x: f64) -> f64 {
        if !x.is_finite() {
            return f64::INFINITY;
        }
        let below = add_up(x, -self.lo); // x − lo
        let above = add_up(self.hi, -x); // hi − x
        hi_of(below.max(above).max(0.0))
    }

    /// `self ∩ other` when they meet; their hull otherwise (both are meant to contain the same
    /// real number, so disjoint intervals mean one of them is wrong: the hull still contains it).
    #[must_use]
    pub fn intersect(self, other: Interval) -> Interval {
        let (lo, hi) = (self.lo.max(other.lo), self.hi.min(other.hi));
        if lo <= hi {
            Interval { lo, hi }
        } else {
            Interval::new(self.lo.min(other.lo), self.hi.max(other.hi))
        }
    }

    fn from_candidates(c: [f64; 4], d: [f64; 4]) -> Self {
        let lo = c.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = d.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Interval::new(lo, hi)
    }
}

/// An enclosure `[lo, hi]` of `tanh x` that does not rely on the platform's `tanh` (glibc's is
/// off by up to 2.2 ulps, see `tests/libm_accuracy.rs`), only on `exp`:
///
/// - for `|x| < 2⁻¹⁰`, the alternating Taylor series brackets it:
///   `x − x³/3 ≤ tanh x ≤ x − x³/3 + 2x⁵/15` for `0 ≤ x < π/2` (and by oddness for `x < 0`);
/// - otherwise `tanh |x| = (1 − e^{−2|x|}) / (1 + e^{−2|x|})`, evaluated in interval
///   arithmetic around the widened `exp`.
fn tanh_enclosure(x: f64) -> (f64, f64) {
    if x.is_nan() {
        return (f64::NEG_INFINITY, f64::INFINITY);
    }
    if x < 0.0 {
        let (lo, hi) = tanh_enclosure(-x);
        return (-hi, -lo);
    }
    if x == f64::INFINITY {
        return (1.0, 1.0);
    }
    if x < 2f64.powi(-10) {
        let p = Interval::point(x);
        let x3 = p * p * p / Interval::point(3.0);
        let x5 = x3 * p * p * Interval::point(2.0) / Interval::point(5.0); // 2x⁵/15
        let lower = p - x3;
        let upper = p - x3 + x5;
        return (lower.lo, upper.hi);
    }
    let e = Interval::point(-2.0 * x).exp(); // −2x is exact (a power-of-two scaling)
    let r = (Interval::one() - e) / (Interval::one() + e);
    (r.lo, r.hi)
}

/// An enclosure `[lo, hi]` of `eˣ − 1` from the widened `exp` (no trust in the platform's
/// `expm1`) and `eˣ − 1 > −1`, tightened for `|x| < 1`, where `eˣ − 1` computed from `eˣ`
/// cancels, by the Taylor polynomial `T₃ = x + x²/2 + x³/6` and Lagrange's remainder
/// `e^ξ x⁴/24` (`ξ` between 0 and `x`): `T₃ + x⁴/24 ≤ eˣ − 1 ≤ T₃ + eˣ x⁴/24` for `x ≥ 0`, and
/// `T₃ ≤ eˣ − 1 ≤ T₃ + x⁴/24` for `x < 0` (there the next remainder, `e^ξ x⁵/120`, is `≤ 0`),
/// each evaluated in interval arithmetic.
fn exp_m1_enclosure(x: f64) -> (f64, f64) {
    if x.is_nan() {
        return (f64::NEG_INFINITY, f64::INFINITY);
    }
    if x == f64::NEG_INFINITY {
        return (-1.0, -1.0);
    }
    let p = Interval::point(x);
    let e = p.exp();
    let mut lo = add_down(e.lo, -1.0).max(-1.0);
    let mut hi = add_up(e.hi, -1.0);
    if x.abs() < 1.0 {
        let inv = |k: f64| Interval::one() / Interval::point(k);
        let t3 = p * (Interval::one() + p * (inv(2.0) + p * inv(6.0)));
        let r4 = (p * p) * (p * p) * inv(24.0);
        let (l, h) = if x >= 0.0 {
            (t3 + r4, t3 + r4 * e)
        } else {
            (t3, t3 + r4)
        };
        lo = lo.max(l.lo);
        hi = hi.min(h.hi);
    }
    (lo, hi)
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}]", self.lo, self.hi)
    }
}

impl PartialOrd for Interval {
    /// Certainly less / greater when the intervals are disjoint; equal only for one point.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if self.hi < other.lo {
            Some(Ordering::Less)
        } else if self.lo > other.hi {
            Some(Ordering::Greater)
        } else if self.lo == self.hi && other.lo == other.hi && self.lo == other.lo {
            Some(Ordering::Equal)
        } else {
            None
        }
    }
}

impl Add for Interval {
    type Output = Interval;
    /// Both endpoints rounded outward (TwoSum, one ulp step). For valid operands the endpoints
    /// stay ordered, and a NaN endpoint sum (`∞ − ∞`) gives the infinite endpoint on its side.
    #[inline]
    fn add(self, r: Interval) -> Interval {
        // Adding the point 0 (a zero seed, a zero contribution, the start of a sum) is exact;
        // returning the other operand skips TwoSum where the engine adds a whole slot to zero
        // (measured: about 8 % of the enclosure mode on the bench MLP, more than the
        // vectorisation a branch-free sum would allow).
        if r.lo == 0.0 && r.hi == 0.0 {
            return self;
        }
        if self.lo == 0.0 && self.hi == 0.0 {
            return r;
        }
        Interval {
            lo: -add_up_fast(-self.lo, -r.lo),
            hi: add_up_fast(self.hi, r.hi),
        }
    }
}

impl Sub for Interval {
    type Output = Interval;
    /// `[lo₁ − hi₂, hi₁ − lo₂]`, rounded outward as in `+`.
    #[inline]
    fn sub(self, r: Interval) -> Interval {
        Interval {
            lo: -add_up_fast(-self.lo, r.hi),
            hi: add_up_fast(self.hi, -r.lo),
        }
    }
}

impl Neg for Interval {
    type Output = Interval;
    fn neg(self) -> Interval {
        Interval::new(-self.hi, -self.lo)
    }
}

impl Mul for Interval {
    type Output = Interval;
    #[inline]
    fn mul(self, r: Interval) -> Interval {
        // Products by the points 0 and 1 (a relu's step, a mask) are exact (0 · ∞ = 0 as
        // below).
        for (p, q) in [(r, self), (self, r)] {
            if p.lo == p.hi {
                if p.lo == 1.0 {
                    return q;
                }
                if p.lo == 0.0 {
                    return Interval::zero();
                }
            }
        }
        let (a, b, c, d) = (self.lo, self.hi, r.lo, r.hi);
        // Sign-definite operands (the common case): the extreme products are known, so two
        // directed products suffice (directed rounding is monotone, so these are the same
        // endpoints the general case would pick).
        let ends = |(l1, l2): (f64, f64), (h1, h2): (f64, f64)| {
            Interval::new(endpoint_mul(l1, l2, false), endpoint_mul(h1, h2, true))
        };
        if a >= 0.0 && c >= 0.0 {
            return ends((a, c), (b, d));
        }
        if a >= 0.0 && d <= 0.0 {
            return ends((b, c), (a, d));
        }
        if b <= 0.0 && c >= 0.0 {
            return ends((a, d), (b, c));
        }
        if b <= 0.0 && d <= 0.0 {
            return ends((b, d), (a, c));
        }
        mul_by_candidates(self, r)
    }
}

/// The product from all four endpoint products (the general case of `Interval * Interval`).
fn mul_by_candidates(x: Interval, r: Interval) -> Interval {
    let (a, b, c, d) = (x.lo, x.hi, r.lo, r.hi);
    Interval::from_candidates(
        [
            endpoint_mul(a, c, false),
            endpoint_mul(a, d, false),
            endpoint_mul(b, c, false),
            endpoint_mul(b, d, false),
        ],
        [
            endpoint_mul(a, c, true),
            endpoint_mul(a, d, true),
            endpoint_mul(b, c, true),
            endpoint_mul(b, d, true),
        ],
    )
}

impl Div for Interval {
    type Output = Interval;
    fn div(self, r: Interval) -> Interval {
        if r.lo <= 0.0 && r.hi >= 0.0 {
            return Interval::ENTIRE;
        }
        let (a, b, c, d) = (self.lo, self.hi, r.lo, r.hi);
        // The divisor has one sign here; with the dividend's sign the extreme quotients are
        // known (monotonicity), so two directed quotients suffice.
        let ends = |(l1, l2): (f64, f64), (h1, h2): (f64, f64)| {
            Interval::new(endpoint_div(l1, l2, false), endpoint_div(h1, h2, true))
        };
        if c > 0.0 && a.is_finite() && b.is_finite() && d.is_finite() {
            return if a >= 0.0 {
                ends((a, d), (b, c))
            } else if b <= 0.0 {
                ends((a, c), (b, d))
            } else {
                ends((a, c), (b, c))
            };
        }
        div_by_candidates(self, r)
    }
}

/// The quotient from all four endpoint quotients (the general case; `r` excludes 0).
fn div_by_candidates(x: Interval, r: Interval) -> Interval {
    let (a, b, c, d) = (x.lo, x.hi, r.lo, r.hi);
    Interval::from_candidates(
        [
            endpoint_div(a, c, false),
            endpoint_div(a, d, false),
            endpoint_div(b, c, false),
            endpoint_div(b, d, false),
        ],
        [
            endpoint_div(a, c, true),
            endpoint_div(a, d, true),
            endpoint_div(b, c, true),
            endpoint_div(b, d, true),
        ],
    )
}

impl Element for Interval {
    #[inline(always)]
    fn vectorized<R>(f: impl FnOnce() -> R) -> R {
        crate::simd::vectorized(f)
    }
    /// The midpoint-radius product (see `approx::midrad`): one `f64` and one or two `f32`
    /// matrix products; the entrywise interval left fold when an endpoint is unbounded.
    fn gemm(a: &[Self], ta: bool, b: &[Self], tb: bool, m: usize, k: usize, n: usize) -> Vec<Self> {
        crate::approx::midrad::midrad_gemm(a, ta, b, tb, m, k, n)
            .unwrap_or_else(|| crate::scalar::left_fold_gemm(a, ta, b, tb, m, k, n))
    }
    fn zero() -> Self {
        Interval::point(0.0)
    }
    fn one() -> Self {
        Interval::point(1.0)
    }
    fn from_i64(n: i64) -> Self {
        let x = n as f64;
        if x.abs() <= 9_007_199_254_740_992.0 {
            Interval::point(x)
        } else {
            Interval::new(x.next_down(), x.next_up())
        }
    }
    fn abs(&self) -> Self {
        if self.lo >= 0.0 {
            *self
        } else if self.hi <= 0.0 {
            -*self
        } else {
            Interval::new(0.0, (-self.lo).max(self.hi))
        }
    }
    fn to_f64(&self) -> f64 {
        if self.lo.is_finite() && self.hi.is_finite() {
            self.lo / 2.0 + self.hi / 2.0
        } else {
            f64::NAN
        }
    }
    fn elem_max(&self, other: &Self) -> Self {
        Interval::new(self.lo.max(other.lo), self.hi.max(other.hi))
    }
    #[inline]
    fn heaviside(&self) -> Self {
        if self.lo > 0.0 {
            Interval::one()
        } else if self.hi <= 0.0 {
            Interval::zero()
        } else {
            Interval::new(0.0, 1.0)
        }
    }
}

impl Real for Interval {
    fn exp(self) -> Self {
        let lo = self.lo.exp().next_down().next_down().max(0.0);
        Interval::new(lo, self.hi.exp().next_up().next_up())
    }
    fn exp_m1(self) -> Self {
        // eˣ − 1 is increasing: enclose it at the two endpoints.
        Interval::new(exp_m1_enclosure(self.lo).0, exp_m1_enclosure(self.hi).1)
    }
    fn ln(self) -> Self {
        if self.hi < 0.0 {
            return Interval::ENTIRE; // the real logarithm is undefined here
        }
        let lo = if self.lo <= 0.0 {
            f64::NEG_INFINITY
        } else {
            widen(self.lo.ln()).0
        };
        let hi = if self.hi == 0.0 {
            f64::NEG_INFINITY
        } else {
            widen(self.hi.ln()).1
        };
        Interval::new(lo, hi)
    }
    fn ln_1p(self) -> Self {
        // ln(1 + x) is increasing on (−1, ∞): enclose it at the two endpoints.
        if self.hi < -1.0 {
            return Interval::ENTIRE; // undefined here
        }
        let lo = if self.lo <= -1.0 {
            f64::NEG_INFINITY
        } else {
            widen(self.lo.ln_1p()).0
        };
        let hi = if self.hi == -1.0 {
            f64::NEG_INFINITY
        } else {
            widen(self.hi.ln_1p()).1
        };
        Interval::new(lo, hi)
    }
    fn tanh(self) -> Self {
        // tanh is increasing: enclose it at the two endpoints.
        Interval::new(
            tanh_enclosure(self.lo).0.max(-1.0),
            tanh_enclosure(self.hi).1.min(1.0),
        )
    }
    fn sqrt(self) -> Self {
        if self.hi < 0.0 {
            return Interval::ENTIRE;
        }
        let lo = if self.lo <= 0.0 {
            0.0
        } else {
            self.lo.sqrt().next_down()
        };
        Interval::new(lo, self.hi.sqrt().next_up())
    }
    fn max(self, other: Self) -> Self {
        self.elem_max(&other)
    }
    fn is_finite(self) -> bool {
        self.lo.is_finite() && self.hi.is_finite()
    }
    fn from_f64(x: f64) -> Self {
        Interval::point(x)
    }
    const EPSILON: Self = Interval {
        lo: f64::EPSILON,
        hi: f64::EPSILON,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sign-case fast paths of `*` and `/` stay within the four-candidate general case and
    /// enclose every endpoint product or quotient, on random intervals of every sign pattern
    /// (with zeros, tiny values and infinities).
    #[test]
    fn fast_products_and_quotients_are_enclosures() {
        let mut rng = crate::rng::SplitMix64::new(7);
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            -3.5,
        ];
        let draw = |rng: &mut crate::rng::SplitMix64| {
            let pick = |rng: &mut crate::rng::SplitMix64| {
                if rng.uniform(0.0, 1.0) < 0.2 {
                    specials[(rng.uniform(0.0, 8.0) as usize).min(7)]
                } else {
                    rng.uniform(-4.0, 4.0)
                }
            };
            let (u, v) = (pick(rng), pick(rng));
            Interval::new(u.min(v), u.max(v))
        };
        for _ in 0..20_000 {
            let (x, y) = (draw(&mut rng), draw(&mut rng));
            // Within the general enclosure, and enclosing every endpoint product.
            let check = |fast: Interval, general: Interval, op: fn(f64, f64, bool) -> f64| {
                assert!(
                    fast.lo >= general.lo && fast.hi <= general.hi,
                    "{x:?}, {y:?}: {fast:?} vs {general:?}"
                );
                for p in [x.lo, x.hi] {
                    for q in [y.lo, y.hi] {
                        assert!(
                            fast.lo <= op(p, q, true) && fast.hi >= op(p, q, false),
                            "{x:?}, {y:?}: {fast:?} misses the endpoint value of {p} and {q}"
                        );
                    }
                }
            };
            check(x * y, mul_by_candidates(x, y), endpoint_mul);
            if !(y.lo <= 0.0 && y.hi >= 0.0) {
                check(x / y, div_by_candidates(x, y), endpoint_div);
            }
        }
    }

    #[test]
    fn arithmetic_encloses_the_exact_result() {
        let a = Interval::new(1.0, 2.0);
        let b = Interval::new(-3.0, 0.5);
        assert_eq!(a + b, Interval::new(-2.0, 2.5));
        assert_eq!(a * b, Interval::new(-6.0, 1.0));
        assert_eq!(
            Interval::point(1.0) / Interval::point(4.0),
            Interval::point(0.25)
        );
        let third = Interval::point(1.0) / Interval::point(3.0);
        assert!(third.lo() < third.hi() && third.lo() <= 1.0 / 3.0 && 1.0 / 3.0 <= third.hi());
        assert_eq!((a / b), Interval::ENTIRE);
        assert_eq!(Interval::new(-1.0, 2.0).abs(), Interval::new(0.0, 2.0));
        assert_eq!(
            Interval::new(-1.0, 2.0).heaviside(),
            Interval::new(0.0, 1.0)
        );
        assert_eq!(Interval::point(0.0).heaviside(), Interval::point(0.0));
        assert_eq!(Interval::point(f64::NAN), Interval::ENTIRE);
        assert_eq!(
            Interval::point(0.0) * Interval::ENTIRE,
            Interval::point(0.0)
        );
        let e = Interval::point(1.0).exp();
        assert!(e.contains(core::f64::consts::E));
        assert_eq!(Interval::new(0.0, 3.0).max_distance_from(1.0), 2.0);
        assert_eq!(Interval::ENTIRE.max_distance_from(1.0), f64::INFINITY);
    }
}
