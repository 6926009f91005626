//! Bounds for the context additions of reverse mode (Lean's `addBound` parameter).
//!
//! **Mathematics.** Reverse mode accumulates a slot's seed by additions `s ← s ⊕ c`, where `⊕`
//! is the runtime addition and the spec adds exactly. If `‖sS − s‖∞ ≤ es` and
//! `‖cS − c‖∞ ≤ ec`, the triangle inequality gives, entry by entry,
//! `|(sS + cS) − (s ⊕ c)| ≤ es + ec + |(s + c) − (s ⊕ c)|`, and under the rounding model the
//! last term is at most `u(s + c) = ulp(s + c)/2` (and 0 when an operand is exactly zero and
//! the sum finite). An [`AddBound`] computes such a bound for a whole slot; Lean's
//! `backprop_approx` holds for any sound one.

use crate::approx::round::{RuntimeFloat, add_up, half_ulp, norm_max, sanitize};

/// An error bound for the runtime addition `x ⊕ y` of two slot tensors, given bounds `ex`,
/// `ey` of their distances to spec values `xS`, `yS`: Lean's
/// `addBound : EList Δ → EList Δ → TList α Δ → TList α Δ → EList Δ`, one slot at a time.
///
/// Soundness (Lean's `addSound`): if `‖xS − x‖∞ ≤ ex` and `‖yS − y‖∞ ≤ ey` then
/// `‖(xS + yS) − (x ⊕ y)‖∞ ≤ add(ex, ey, x, y)`.
pub trait AddBound<R>: Sync {
    /// The bound for one slot.
    fn add(&self, ex: f64, ey: f64, x: &[R], y: &[R]) -> f64;

    /// The bound after `times` additions of an exactly-zero contribution with bound 0,
    /// i.e. `add` applied `times` times with `ey = 0`, `y = 0` (the dense zero additions of
    /// Lean's recursion). The default replays them; implementations for which adding an exact
    /// zero is free override it so that reverse mode stays linear.
    fn add_zeros(&self, ex: f64, x: &[R], times: usize) -> f64
    where
        R: RuntimeFloat,
    {
        if times == 0 {
            return ex;
        }
        let zeros = vec![R::from_f64(0.0); x.len()];
        let mut e = self.add(ex, 0.0, x, &zeros);
        let x_after: Vec<R> = x.iter().map(|&v| v + R::from_f64(0.0)).collect();
        for _ in 1..times {
            e = self.add(e, 0.0, &x_after, &zeros);
        }
        e
    }
}

/// Lean's `ctxAddBound` for the runtime format `R`, refined: entry `i` is charged
/// `ex + ey + u(xᵢ + yᵢ)` with `u = ulp/2` of `R` (`NF/BackwardOps/Main.lean`), except that an addition with an
/// exactly-zero operand (`xᵢ = 0` or `yᵢ = 0`) and a finite result is exact and charged
/// `ex + ey`. A NaN or infinite sum is charged `+∞` (as by Lean's formula, `u(NaN) = u(∞) = ∞`).
/// The slot bound is the maximum over entries, clamped at 0 (an empty slot gets 0).
///
/// The refinement is sound (IEEE `x + 0` is exact) and makes the dense zero additions of
/// Lean's recursion free, which is what lets `backprop_bounds` run in linear time.
#[derive(Clone, Copy, Debug, Default)]
pub struct CtxAddBound;

impl<R: RuntimeFloat> AddBound<R> for CtxAddBound {
    fn add(&self, ex: f64, ey: f64, x: &[R], y: &[R]) -> f64 {
        // maxᵢ of `ex + ey` (an exact sum: an operand is 0) or `ex + ey + u(xᵢ + yᵢ)`: the
        // half-ulp is monotone in |xᵢ + yᵢ|, so one half-ulp of the largest rounded-up
        // |xᵢ + yᵢ| over the rounding entries bounds them all (`next_up` covers the rounding of
        // the f64 sum itself).
        if x.is_empty() {
            return 0.0;
        }
        let base = sanitize(add_up(ex, ey)).max(0.0);
        // The common first contribution to a slot seeded with zeros: every entry is exact
        // (`0 + y = y`), so the bound is `base` unless some `y` is NaN or ±∞. Two bit-pattern
        // scans (the first stops soon after a nonzero seed entry) instead of the full pass below.
        if R::all_zero(x) {
            return if R::all_finite(y) {
                base
            } else {
                f64::INFINITY
            };
        }
        // Eight independent lanes of plain f64 arithmetic (the loop vectorises):
        // `s · 0` is 0 for a finite sum and NaN otherwise, and an entry that rounds counts with at least
        // the smallest normal magnitude (whose half-ulp is that of 0, the smallest there is).
        const L: usize = 8;
        let (mut largest, mut bad) = ([0.0f64; L], [0.0f64; L]);
        let n = x.len().min(y.len());
        let (xc, yc) = (x[..n].chunks_exact(L), y[..n].chunks_exact(L));
        let (xr, yr) = (xc.remainder(), yc.remainder());
        let lane = |largest: &mut f64, bad: &mut f64, a: R, b: R| {
            let (a, b) = (a.to_f64_exact(), b.to_f64_exact());
            let s = a + b;
            let t = if a != 0.0 && b != 0.0 {
                s.abs().max(f64::MIN_POSITIVE)
            } else {
                0.0
            };
            *largest = if t > *largest { t } else { *largest };
            *bad += s * 0.0;
        };
        for (cx, cy) in xc.zip(yc) {
            for j in 0..L {
                lane(&mut largest[j], &mut bad[j], cx[j], cy[j]);
            }
        }
        for (j, (&a, &b)) in xr.iter().zip(yr).enumerate() {
            lane(&mut largest[j], &mut bad[j], a, b);
        }
        let largest = largest.into_iter().fold(0.0, f64::max);
        let overflow = bad.iter().any(|b| b.is_nan());
        let rounds = largest > 0.0;
        if overflow {
            f64::INFINITY
        } else if rounds {
            add_up(base, half_ulp::<R>(largest.next_up()))
        } else {
            base
        }
    }

    fn add_zeros(&self, ex: f64, x: &[R], times: usize) -> f64
    where
        R: RuntimeFloat,
    {
        // add(e, 0, x, 0) = max(0, maxᵢ (e + 0)) = e for a non-empty slot of finite values
        // (e ≥ 0), +∞ if an entry is NaN or ±∞ (which stays so), 0 for an empty slot.
        if times == 0 {
            ex
        } else if x.is_empty() {
            0.0
        } else if !R::all_finite(x) {
            f64::INFINITY
        } else {
            ex
        }
    }
}

/// Lean's `ctxAddBound` exactly as in `NF/BackwardOps/Main.lean`: every entry is charged
/// `ex + ey + u(xᵢ + yᵢ)`, also when an operand is zero. Sound but looser than [`CtxAddBound`];
/// with it, `backprop_bounds` replays the dense zero additions (quadratic scalar work).
#[derive(Clone, Copy, Debug, Default)]
pub struct LeanCtxAddBound;

impl<R: RuntimeFloat> AddBound<R> for LeanCtxAddBound {
    fn add(&self, ex: f64, ey: f64, x: &[R], y: &[R]) -> f64 {
        let base = add_up(ex, ey);
        norm_max(x.iter().zip(y).map(|(&a, &b)| {
            add_up(
                base,
                half_ulp::<R>(upper_abs_sum(a.to_f64_exact(), b.to_f64_exact())),
            )
        }))
    }
}

/// An upper bound of `|a + b|` (exact real sum) from the rounded `f64` sum.
fn upper_abs_sum(a: f64, b: f64) -> f64 {
    let s = a + b;
    if !s.is_finite() {
        return f64::INFINITY;
    }
    let bb = s - a;
    let err = (a - (s - bb)) + (b - bb);
    if err == 0.0 {
        s.abs()
    } else {
        s.abs().next_up()
    }
}
