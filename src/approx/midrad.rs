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

/// `x ≥ 0` (finite or `+∞`) rounded up to `f32` (`+∞` above `f32::MAX`), and to at least
/// the smallest normal `f32` when positive: subnormal operands would slow the `f32` kernel
/// down by orders of magnitude on x86. Branch-free, so that the conversion loops vectorise.
#[inline]
fn up_f32(x: f64) -> f32 {
    let f = x as f32;
    // `f` is `x` rounded to nearest; one step up (as bits, for f ≥ 0) when it fell below.
    // At `f = +∞` the comparison is false, so the bits never step past infinity.
    let f = f32::from_bits(f.to_bits() + u32::from(f64::from(f) < x));
    let floor = if x > 0.0 { f32::MIN_POSITIVE } else { 0.0 };
    f.max(floor)
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

/// An upper bound of the exact product `G = X·Y` of two nonnegative matrices (already
/// rounded up to `f32`, in the layout of [`Element::gemm`]), from the `f32` kernel; added
/// into `acc`.
fn add_nonneg_product_up(
    acc: &mut [f64],
    x: &[f32],
    tx: bool,
    y: &[f32],
    ty: bool,
    (m, k, n): (usize, usize, usize),
) {
    let g = <f32 as Element>::gemm(x, tx, y, ty, m, k, n);
    // Ĝ ≥ G (1 − γ_k) − k·2⁻¹⁴⁹, so G ≤ (Ĝ + k·2⁻¹⁴⁹)(1 + 2γ_k) for γ_k ≤ 1/2. The sums
    // below are rounded to nearest, so the factor also carries 2⁻⁴⁸ for their rounding
    // (three roundings of relative size 2⁻⁵³ at most), which keeps every result above.
    let floor = mul_up(k as f64, 2f64.powi(-149));
    let scale = add_up(
        add_up(1.0, mul_up(2.0, gamma(k, 2f64.powi(-24)))),
        2f64.powi(-48),
    );
    for (a, v) in acc.iter_mut().zip(g) {
        let v = f64::from(v); // finite operands (checked by the caller): no ∞ · 0
        *a += (v + floor) * scale;
    }
}

/// A radius `r` with `[lo, hi] ⊆ [m − r, m + r]` for the midpoint `m = lo/2 + hi/2` (a point:
/// `r = 0`). Branch-free: `fl(hi − m)` and `fl(m − lo)` are within a factor `1 ± 2⁻⁵³` of the
/// exact distances, which the factor `1 + 2⁻⁵⁰` covers with room for its own rounding; the
/// smallest normal number covers the subnormal range, where halving may round (a subnormal
/// constant would be as sound, but arithmetic on subnormals is slow on x86).
#[inline]
fn radius(lo: f64, hi: f64, m: f64) -> f64 {
    let r = (hi - m).max(m - lo) * (1.0 + 2f64.powi(-50)) + f64::MIN_POSITIVE;
    if lo == hi { 0.0 } else { r }
}

/// An operand in midpoint-radius form, its entries rounded up to `f32` where the radius
/// products need them.
struct MidRad {
    mid: Vec<f64>,
    /// `|M|` rounded up to `f32`.
    abs_mid: Vec<f32>,
    /// `R` rounded up to `f32`, `None` when every entry is a point.
    rad: Option<Vec<f32>>,
}

impl MidRad {
    fn new(x: &[Interval]) -> Self {
        // Separate simple passes, each of which vectorises. A point matrix (the weights and
        // inputs with bound 0, the common case) is its own midpoint, radius 0.
        if x.iter().all(|iv| iv.lo() == iv.hi()) {
            let mid: Vec<f64> = x.iter().map(|iv| iv.lo()).collect();
            let abs_mid = mid.iter().map(|v| up_f32(v.abs())).collect();
            return MidRad {
                mid,
                abs_mid,
                rad: None,
            };
        }
        // A point is its own midpoint (halving a subnormal may round).
        let mid: Vec<f64> = x
            .iter()
            .map(|iv| {
                let m = 0.5 * iv.lo() + 0.5 * iv.hi();
                if iv.lo() == iv.hi() { iv.lo() } else { m }
            })
            .collect();
        let rad: Vec<f32> = x
            .iter()
            .zip(&mid)
            .map(|(iv, &m)| up_f32(radius(iv.lo(), iv.hi(), m)))
            .collect();
        let abs_mid = mid.iter().map(|v| up_f32(v.abs())).collect();
        let any = rad.iter().any(|&r| r != 0.0);
        MidRad {
            mid,
            abs_mid,
            rad: any.then_some(rad),
        }
    }

    /// Whether every `f32` operand of the radius products is finite.
    fn f32_finite(&self) -> bool {
        self.abs_mid
            .iter()
            .chain(self.rad.iter().flatten())
            .all(|v| v.is_finite())
    }

    /// `a + c·b`, entrywise, rounded up to `f32` (`a`, `b`, `c ≥ 0`). Branch-free: the two
    /// roundings to nearest lose at most a factor `(1 − 2⁻⁵³)²`, which the factor `1 + 2⁻⁵⁰`
    /// makes up with room for its own rounding; the smallest normal number covers an
    /// underflowing product. An exact zero (`a = b = 0`) stays zero, so that the `f32` kernel
    /// never multiplies a subnormal (slow on x86).
    fn fma_up(a: Option<&[f32]>, c: f64, b: &[f32]) -> Vec<f32> {
        const UP: f64 = 1.0 + 1.0 / (1u64 << 50) as f64;
        let up = |v: f64| {
            let r = up_f32((v + f64::MIN_POSITIVE) * UP);
            if v == 0.0 { 0.0 } else { r }
        };
        match a {
            Some(a) => a
                .iter()
                .zip(b)
                .map(|(&a, &b)| up(f64::from(a) + c * f64::from(b)))
                .collect(),
            None => b.iter().map(|&b| up(c * f64::from(b))).collect(),
        }
    }
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
    if !a
        .iter()
        .chain(b)
        .all(|iv| iv.lo().is_finite() && iv.hi().is_finite())
    {
        return None;
    }
    let (a, b) = (MidRad::new(a), MidRad::new(b));
    // Magnitudes beyond f32's range round up to +∞ there, and ∞ · 0 in the kernel would make
    // the whole entry unbounded: leave such products to the entrywise fold.
    if !a.f32_finite() || !b.f32_finite() {
        return None;
    }
    let mid = <f64 as Element>::gemm(&a.mid, ta, &b.mid, tb, m, k, n);
    // The radius |Mₐ|R_b + Rₐ(|M_b| + R_b) + γ_k|Mₐ||M_b| (the last term: the rounding of the
    // midpoint product), as at most two products of nonnegative matrices:
    // (|Mₐ| + Rₐ)·R_b + (Rₐ + γ_k|Mₐ|)·|M_b|, or one when an operand is a point matrix.
    let gk = gamma(k, 2f64.powi(-53));
    let dims = (m, k, n);
    let mut rad = vec![0.0; m * n];
    match (&a.rad, &b.rad) {
        (None, rb) => {
            // |Mₐ| (R_b + γ_k |M_b|)
            let y = MidRad::fma_up(rb.as_deref(), gk, &b.abs_mid);
            add_nonneg_product_up(&mut rad, &a.abs_mid, ta, &y, tb, dims);
        }
        (Some(ra), None) => {
            // (Rₐ + γ_k |Mₐ|) |M_b|
            let x = MidRad::fma_up(Some(ra), gk, &a.abs_mid);
            add_nonneg_product_up(&mut rad, &x, ta, &b.abs_mid, tb, dims);
        }
        (Some(ra), Some(rb)) => {
            let x1 = MidRad::fma_up(Some(ra), 1.0, &a.abs_mid);
            add_nonneg_product_up(&mut rad, &x1, ta, rb, tb, dims);
            let x2 = MidRad::fma_up(Some(ra), gk, &a.abs_mid);
            add_nonneg_product_up(&mut rad, &x2, ta, &b.abs_mid, tb, dims);
        }
    }
    // c ± r, widened so that rounding to nearest cannot cut into [c − r, c + r]: the error of
    // fl(c ± r′) is at most 2⁻⁵³ |c ± r′| ≤ 2⁻⁵³ (|c| + r′), which r′ = (r + 2⁻⁵¹|c|)(1 + 2⁻⁵⁰)
    // + (k + 2)·2⁻¹⁰²² covers with room for its own two roundings (the last term: the
    // underflow of the midpoint product, k·2⁻¹⁰⁷⁴ at most, and of c ± r′).
    let floor = (k as f64 + 2.0) * f64::MIN_POSITIVE;
    Some(
        mid.into_iter()
            .zip(rad)
            .map(|(c, r)| {
                let r = (r + c.abs() * 2f64.powi(-51)) * (1.0 + 2f64.powi(-50)) + floor;
                Interval::new(c - r, c + r)
            })
            .collect(),
    )
}
