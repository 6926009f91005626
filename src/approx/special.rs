//! The error function at every [`Real`] scalar of the crate ([`Erf`]).
//!
//! **Runtime formats.** [`erf_f64`] is the double-double `erf` of [`Ball`] (below) with its
//! series stopped at `2⁻⁶⁰` of the sum, rounded to nearest: within 1 ulp of
//! `erf x = 2/√π ∫₀ˣ e^{−t²} dt` (measured in `tests/erf.rs` against 40-digit values), at a
//! cost of about a microsecond per entry (GELU's tanh form, [`gelu`](crate::ops::gelu), is the
//! fast one). `f32`, `bf16` and `f16` round that `f64` value once. No certified bound assumes
//! this accuracy: the bounds measure the runtime value against an enclosure.
//!
//! **Enclosures.** [`Interval::erf`] encloses `erf` over `[lo, hi]` by monotonicity,
//! `[erf lo, erf hi]`, each end from the double-double `erf` of [`Ball`] widened by its assumed
//! error `2⁻⁹⁶ |F| + 2⁻¹⁰⁰⁰` and rounded outward (and cut to `[−1, 1]`); [`Ball::erf`] is the
//! double-double `erf` at the midpoint with the radius times `sup |erf′|`. The double-double
//! `erf` (series of positive terms up to `|x| = 6`, `1 − erfc` in `f64` between 6 and 9, `±1`
//! beyond) shares the assumption of the other double-double functions, and is tested against
//! the same kind of 40-digit fixture (`tests/fixtures/erf_reference.json`).

use crate::approx::ball::erf_dd;
use crate::approx::round::{add_up, mul_up};
use crate::approx::{Ball, Interval};
use crate::scalar::{Erf, Real};

/// `erf x` in `f64`, within 1 ulp (see the module docs).
pub fn erf_f64(x: f64) -> f64 {
    crate::approx::ball::erf_f64(x)
}

/// The assumed error `2⁻⁹⁶ |F| + 2⁻¹⁰⁰⁰` of the double-double `erf` value `F = hi + lo`,
/// rounded up.
fn dd_error(hi: f64) -> f64 {
    add_up(mul_up(2f64.powi(-96), hi.abs()), 2f64.powi(-1000))
}

/// A lower bound on `erf x` (−1 at −∞).
fn erf_down(x: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        return -1.0;
    }
    let (hi, lo) = erf_dd(x);
    let e = dd_error(hi);
    // hi + lo − e, rounded down: −((−hi) + (e − lo)) with both sums rounded up.
    (-add_up(-hi, add_up(e, -lo))).max(-1.0)
}

/// An upper bound on `erf x` (1 at +∞).
fn erf_up(x: f64) -> f64 {
    if x == f64::INFINITY {
        return 1.0;
    }
    let (hi, lo) = erf_dd(x);
    add_up(hi, add_up(lo, dd_error(hi))).min(1.0)
}

impl Interval {
    /// `erf` over the interval: `[erf lo, erf hi]` (erf is increasing), each end from the
    /// double-double `erf` widened by its assumed error and rounded outward; the whole line
    /// maps to `[−1, 1]`.
    pub fn erf(self) -> Interval {
        if self.lo().is_nan() || self.hi().is_nan() {
            return Interval::ENTIRE;
        }
        Interval::new(erf_down(self.lo()), erf_up(self.hi()))
    }
}

impl Erf for f64 {
    fn erf(self) -> f64 {
        erf_f64(self)
    }
}

impl Erf for f32 {
    /// The `f64` value rounded to `f32`.
    fn erf(self) -> f32 {
        erf_f64(f64::from(self)) as f32
    }
}

macro_rules! half_erf {
    ($($t:ty),*) => {$(
        impl Erf for $t {
            /// The `f64` value rounded once to the format.
            fn erf(self) -> $t {
                <$t as Real>::from_f64(erf_f64(self.to_f64()))
            }
        }
    )*};
}
half_erf!(half::bf16, half::f16);

impl Erf for Interval {
    fn erf(self) -> Interval {
        Interval::erf(self)
    }
}

impl Erf for Ball {
    fn erf(self) -> Ball {
        Ball::erf(self)
    }
}
