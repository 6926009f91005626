//! The matrix product of interval matrices in midpoint-radius form.
//!
//! **Mathematics.** Write each interval matrix as `⟨M, R⟩ = { X : |X − M| ≤ R }` (entrywise).
//! For `A ∈ ⟨Mₐ, Rₐ⟩` and `B ∈ ⟨M_b, R_b⟩`,
//! `|AB − MₐM_b| ≤ |Mₐ|R_b + Rₐ(|M_b| + R_b)`, so `AB ∈ ⟨MₐM_b, |Mₐ|R_b + Rₐ(|M_b| + R_b)⟩`.
//! The midpoint product is computed in `f64` by the blocked kernel; whatever its summation
//! order (and with or without FMA), its error is at most `γ_k |Mₐ||M_b| + k·2⁻¹⁰⁷⁴` with
//! `γ_k = k·2⁻⁵³ / (1 − k·2⁻⁵³)` (Higham, *Accuracy and Stability*, §3.1; the last term covers
//! underflow), which is added to the radius. The radius products have nonnegative operands,
//! rounded up to `f32` and multiplied by the `f32` kernel: its result `Ĝ` satisfies
//! `G ≤ (Ĝ + k·2⁻¹⁴⁹) / (1 − γ_k^{f32})`, so the radius is an upper bound (Rump's method).
//!
//! Cost: one `f64` product and one or two `f32` products, instead of `k` interval
//! multiply-adds per entry; the radius is at most 1.5 times the interval product's (Rump)
//! and, for the narrow enclosures of a certified graph, nearly equal to it.

use crate::approx::interval::Interval;
use crate::approx::round::{add_up, mul_up};
use crate::scalar::Element;

/// `x ≥ 0` rounded up to `f32` (`+∞` above `f32::MAX`).
#[inline]
fn up_f32(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) < x { f.next_up() } else { f }
}

/// `γ_k = k·u / (1 − k·u)` rounded upward (`+∞` when `k·u ≥ 1/2`).
fn gamma(k: usize, unit: f64) -> f64 {
    let ku = mul_up(k as f64, unit);
    if ku >= 0.5 {
        return f64::INFINITY;
    }
    // k·u / (1 − k·u) ≤ k·u · (1 + 2k·u) for k·u ≤ 1/2.
    mul_up(ku, add_up(1.0, mul_up(2.0, ku)))
}

/// An upper bound of the exact product `G = X·Y` of two nonnegative matrices (`f64` entries,
/// in the layout of [`Element::gemm`]), from the `f32` kernel.
fn nonneg_product_up(
    x: &[f64],
    tx: bool,
    y: &[f64],
    ty: bool,
    m: usize,
    k: usize,
    n: usize,
) -> Vec<f64> {
    let x32: Vec<f32> = x.iter().map(|&v| up_f32(v)).collect();
    let y32: Vec<f32> = y.iter().map(|&v| up_f32(v)).collect();
    let g = <f32 as Element>::gemm(&x32, tx, &y32, ty, m, k, n);
    let g32 = gamma(k, 2f64.powi(-24));
    let floor = mul_up(k as f64, 2f64.powi(-149));
    // (Ĝ + k·η) / (1 − γ) ≤ (Ĝ + k·η) · (1 + 2γ) for γ ≤ 1/2.
    let scale = add_up(1.0, mul_up(2.0, g32));
    g.into_iter()
        .map(|v| {
            let v = f64::from(v);
            if v.is_nan() {
                f64::INFINITY
            } else {
                mul_up(add_up(v, floor), scale)
            }
        })
        .collect()
}

/// The midpoint `m` and a radius `r` with `[lo, hi] ⊆ [m − r, m + r]`.
#[inline]
fn mid_rad(iv: Interval) -> (f64, f64) {
    let m = 0.5 * iv.lo() + 0.5 * iv.hi();
    (m, add_up(iv.hi(), -m).max(add_up(m, -iv.lo())))
}

/// `op(A) · op(B)` for interval matrices, enclosing `op(A')·op(B')` for every `A' ∈ A`,
/// `B' ∈ B` (the layout of [`Element::gemm`]); `None` if an endpoint is not finite (the caller
/// then uses the entrywise interval product, which handles unbounded intervals).
pub(crate) fn midrad_gemm(
    a: &[Interval],
    ta: bool,
    b: &[Interval],
    tb: bool,
    m: usize,
    k: usize,
    n: usize,
) -> Option<Vec<Interval>> {
    if !a.iter().chain(b).all(|iv| iv.lo().is_finite() && iv.hi().is_finite()) {
        return None;
    }
    let (am, ar): (Vec<f64>, Vec<f64>) = a.iter().map(|&iv| mid_rad(iv)).unzip();
    let (bm, br): (Vec<f64>, Vec<f64>) = b.iter().map(|&iv| mid_rad(iv)).unzip();
    let mid = <f64 as Element>::gemm(&am, ta, &bm, tb, m, k, n);
    // The radius: |Mₐ| (R_b + γ_k |M_b|) + Rₐ (|M_b| + R_b) + k·2⁻¹⁰⁷⁴.
    let gk = gamma(k, 2f64.powi(-53));
    let abs_am: Vec<f64> = am.iter().map(|v| v.abs()).collect();
    let x: Vec<f64> = bm
        .iter()
        .zip(&br)
        .map(|(&v, &r)| add_up(r, mul_up(gk, v.abs())))
        .collect();
    let mut rad = nonneg_product_up(&abs_am, ta, &x, tb, m, k, n);
    if ar.iter().any(|&r| r != 0.0) {
        let y: Vec<f64> = bm.iter().zip(&br).map(|(&v, &r)| add_up(v.abs(), r)).collect();
        for (r, g) in rad.iter_mut().zip(nonneg_product_up(&ar, ta, &y, tb, m, k, n)) {
            *r = add_up(*r, g);
        }
    }
    let floor = mul_up(k as f64, 2f64.powi(-1074));
    Some(
        mid.into_iter()
            .zip(rad)
            .map(|(c, r)| {
                let r = add_up(r, floor);
                Interval::new(-add_up(-c, r), add_up(c, r))
            })
            .collect(),
    )
}
