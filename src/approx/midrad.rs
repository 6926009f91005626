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
//! `G ≤ (Ĝ + N·2⁻¹⁴⁹) / (1 − γ_N^{f32})` for `N` products summed per entry, so the radius is
//! an upper bound (Rump's method).
//!
//! Cost: one `f64` product and one `f32` product (two, accumulated into one buffer, when both
//! operands have radii), instead of `k` interval multiply-adds per entry; the radius is at
//! most 1.5 times the interval product's (Rump) and, for the narrow enclosures of a certified
//! graph, nearly equal to it. The conversions to midpoint-radius form are one branch-free pass
//! per operand, and every intermediate buffer is reused from one product to the next (a
//! thread-local scratch), so that only the result is allocated.

use core::cell::RefCell;

use ndarray::{ArrayViewMut2, LinalgScalar};

use crate::approx::interval::Interval;
use crate::approx::round::{add_up, mul_up};
use crate::scalar::gemm_view as view;

/// `1 + 2⁻²²`: the margin of [`up_f32`].
const F32_MARGIN: f64 = 1.0 + 1.0 / (1u64 << 22) as f64;
/// `1 + 2⁻⁵⁰`.
const UP50: f64 = 1.0 + 1.0 / (1u64 << 50) as f64;

/// A value `≥ v` in `f32` for `v ≥ 0` computed from nonnegative terms with at most four
/// roundings to nearest in `f64` (`v̂ ≥ v (1 − 2⁻⁵³)⁴`; `+∞` above `f32::MAX`), and at least
/// the smallest normal `f32` when positive: subnormal operands would slow the `f32` kernel
/// down by orders of magnitude on x86. An exact zero stays zero, so that the kernel never
/// multiplies a subnormal either.
///
/// Branch-free (so that the conversion loops vectorise): `z = fl(fl(v̂ (1 + 2⁻²²)) + 2⁻¹²⁶)`
/// is at least `2⁻¹²⁶` (rounding is monotone) and at least `v̂ (1 + 2⁻²²)(1 − 2⁻⁵³)²`, and its
/// rounding to `f32` is either `+∞` or a normal number within a factor `1 − 2⁻²⁴` of it, so
/// the result is at least `v (1 + 2⁻²²)(1 − 2⁻⁵³)⁶(1 − 2⁻²⁴) > v`.
#[inline(always)]
fn up_f32(v: f64) -> f32 {
    let f = (v * F32_MARGIN + f64::from(f32::MIN_POSITIVE)) as f32;
    if v == 0.0 { 0.0 } else { f }
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

/// A radius `r` with `[lo, hi] ⊆ [m − r, m + r]` for the midpoint `m = lo/2 + hi/2` (a point:
/// `r = 0`). Branch-free: `fl(hi − m)` and `fl(m − lo)` are within a factor `1 ± 2⁻⁵³` of the
/// exact distances, which the factor `1 + 2⁻⁵⁰` covers with room for its own rounding; the
/// smallest normal number covers the subnormal range, where halving may round (a subnormal
/// constant would be as sound, but arithmetic on subnormals is slow on x86).
#[inline(always)]
fn radius(lo: f64, hi: f64, m: f64) -> f64 {
    let (d1, d2) = (hi - m, m - lo);
    // No NaN here for the endpoints the callers keep (see `MidRad::convert`).
    let r = (if d1 > d2 { d1 } else { d2 }) * UP50 + f64::MIN_POSITIVE;
    if lo == hi { 0.0 } else { r }
}

/// An operand in midpoint-radius form (buffers reused across products).
#[derive(Default)]
struct MidRad {
    /// The midpoints `M` (a point is its own midpoint).
    mid: Vec<f64>,
    /// `|M|` rounded up to `f32`.
    abs_mid: Vec<f32>,
    /// `R` rounded up to `f32` (zero for a point).
    rad: Vec<f32>,
}

impl MidRad {
    /// Converts `x` in one branch-free pass; `None` if an endpoint is unbounded or a magnitude
    /// exceeds `f32`'s range (the caller then uses the entrywise interval product: `∞ · 0` in
    /// the `f32` kernel would make a whole entry unbounded), else whether any entry has a
    /// positive radius (a point entry has radius 0).
    fn convert(&mut self, x: &[Interval]) -> Option<bool> {
        let n = x.len();
        // Every entry is overwritten below; `resize` only writes the entries it adds.
        self.mid.resize(n, 0.0);
        self.abs_mid.resize(n, 0.0);
        if is_point_matrix(x) {
            // A point matrix (the weights and the data with bound 0, the common case) is its
            // own midpoint matrix, radius 0 (`rad` is left as it is).
            let (mid, abs_mid) = (&mut self.mid, &mut self.abs_mid);
            let finite = crate::simd::vectorized(
                #[inline(always)]
                || {
                    let mut finite = true;
                    for ((iv, m), a) in x.iter().zip(mid).zip(abs_mid) {
                        let am = up_f32(iv.lo().abs());
                        *m = iv.lo();
                        *a = am;
                        finite &= am.is_finite();
                    }
                    finite
                },
            );
            return finite.then_some(false);
        }
        self.rad.resize(n, 0.0);
        let (mid, abs_mid, rad) = (&mut self.mid, &mut self.abs_mid, &mut self.rad);
        let (point, finite) = crate::simd::vectorized(
            #[inline(always)]
            || {
                let (mut point, mut finite) = (true, true);
                for (((iv, m), a), r) in x.iter().zip(mid).zip(abs_mid).zip(rad) {
                    let (lo, hi) = (iv.lo(), iv.hi());
                    // A point is its own midpoint (halving a subnormal may round), radius 0.
                    let c = if lo == hi { lo } else { 0.5 * lo + 0.5 * hi };
                    let (am, rr) = (up_f32(c.abs()), up_f32(radius(lo, hi, c)));
                    *m = c;
                    *a = am;
                    *r = rr;
                    point &= lo == hi;
                    // An unbounded endpoint makes a midpoint infinite or NaN (so its `f32`
                    // magnitude is not finite), and a finite interval too wide for `f32` makes
                    // the magnitude or the radius infinite: checking the `f32` values covers
                    // both conditions.
                    finite &= am.is_finite() & rr.is_finite();
                }
                (point, finite)
            },
        );
        finite.then_some(!point)
    }
}

/// Whether every entry is a point with the same bits at both ends (so `[−0, +0]` is not one,
/// which only sends it to the general path): an integer reduction per chunk, which
/// vectorises, stopping after the first chunk that decides.
fn is_point_matrix(x: &[Interval]) -> bool {
    x.chunks(256).all(|c| {
        c.iter().fold(0u64, |acc, iv| {
            acc | (iv.lo().to_bits() ^ iv.hi().to_bits())
        }) == 0
    })
}

/// `out ← a + c·b`, entrywise, rounded up to `f32` (`a`, `b`, `c ≥ 0`; `a` absent: 0): at
/// most two roundings in `f64` (no underflow: `b` is 0 or a normal `f32` and `c` is 1 or
/// `γ_k ≥ 2⁻⁵³`), which [`up_f32`] covers.
fn fma_up(out: &mut Vec<f32>, a: Option<&[f32]>, c: f64, b: &[f32]) {
    out.clear();
    out.resize(a.map_or(b.len(), |a| a.len().min(b.len())), 0.0);
    crate::simd::vectorized(
        #[inline(always)]
        || match a {
            Some(a) => {
                for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                    *o = up_f32(f64::from(a) + c * f64::from(b));
                }
            }
            None => {
                for (o, &b) in out.iter_mut().zip(b) {
                    *o = up_f32(c * f64::from(b));
                }
            }
        },
    );
}

/// `C ← op(X)·op(Y) + β C` by the blocked kernel (matrixmultiply, through ndarray), into the
/// caller's row-major `m × n` buffer (resized and zeroed when `β = 0`).
#[allow(clippy::too_many_arguments)]
fn gemm_into<T: LinalgScalar>(
    c: &mut Vec<T>,
    accumulate: bool,
    x: &[T],
    tx: bool,
    y: &[T],
    ty: bool,
    (m, k, n): (usize, usize, usize),
) {
    if !accumulate {
        c.clear();
        c.resize(m * n, T::zero());
    }
    let mut cv = ArrayViewMut2::from_shape((m, n), &mut c[..]).expect("m × n buffer");
    let beta = if accumulate { T::one() } else { T::zero() };
    ndarray::linalg::general_mat_mul(
        T::one(),
        &view(x, m, k, tx),
        &view(y, k, n, ty),
        beta,
        &mut cv,
    );
}

/// Every buffer of one product, kept per thread between products.
#[derive(Default)]
struct Scratch {
    a: MidRad,
    b: MidRad,
    /// The combined `f32` operands of the radius products.
    x: Vec<f32>,
    y: Vec<f32>,
    /// The midpoint product.
    mid: Vec<f64>,
    /// The radius product(s), summed.
    rad: Vec<f32>,
    /// Per row of `op(A)` and per column of `op(B)`: the largest entry and the sum of `|M|`.
    a_lines: Vec<(f64, f64)>,
    b_lines: Vec<(f64, f64)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// `op(A) · op(B)` for interval matrices, enclosing `op(A')·op(B')` for every `A' ∈ A`,
/// `B' ∈ B` (the layout of [`Element::gemm`](crate::scalar::Element::gemm)); `None` if an
/// endpoint is not finite or a magnitude exceeds `f32`'s range (the caller then uses the
/// entrywise interval product, which handles unbounded intervals).
pub(crate) fn midrad_gemm(
    a: &[Interval],
    ta: bool,
    b: &[Interval],
    tb: bool,
    m: usize,
    k: usize,
    n: usize,
) -> Option<Vec<Interval>> {
    // Taken out of the cell for the product (a nested call would find a fresh scratch).
    let mut s = SCRATCH.with(|c| c.take());
    let out = midrad_gemm_in(&mut s, a, ta, b, tb, (m, k, n));
    SCRATCH.with(|c| c.replace(s));
    out
}

fn midrad_gemm_in(
    s: &mut Scratch,
    a: &[Interval],
    ta: bool,
    b: &[Interval],
    tb: bool,
    dims: (usize, usize, usize),
) -> Option<Vec<Interval>> {
    let k = dims.1;
    let a_rad = s.a.convert(a)?;
    let b_rad = s.b.convert(b)?;
    gemm_into(&mut s.mid, false, &s.a.mid, ta, &s.b.mid, tb, dims);
    // The radius |Mₐ|R_b + Rₐ(|M_b| + R_b) + γ_k|Mₐ||M_b| (the last term: the rounding of the
    // midpoint product), as at most two products of nonnegative matrices:
    // (|Mₐ| + Rₐ)·R_b + (Rₐ + γ_k|Mₐ|)·|M_b|, or one when an operand is a point matrix. Two
    // products are summed by the kernel into one buffer: 2k products per entry.
    let gk = gamma(k, 2f64.powi(-53));
    let (ra, rb) = (a_rad.then_some(&s.a.rad[..]), b_rad.then_some(&s.b.rad[..]));
    let terms = match (ra, rb) {
        (None, None) => return Some(point_product(s, ta, tb, dims, gk)),
        (None, rb) => {
            // |Mₐ| (R_b + γ_k |M_b|)
            fma_up(&mut s.y, rb, gk, &s.b.abs_mid);
            gemm_into(&mut s.rad, false, &s.a.abs_mid, ta, &s.y, tb, dims);
            k
        }
        (Some(ra), None) => {
            // (Rₐ + γ_k |Mₐ|) |M_b|
            fma_up(&mut s.x, Some(ra), gk, &s.a.abs_mid);
            gemm_into(&mut s.rad, false, &s.x, ta, &s.b.abs_mid, tb, dims);
            k
        }
        (Some(ra), Some(rb)) => {
            fma_up(&mut s.x, Some(ra), 1.0, &s.a.abs_mid);
            gemm_into(&mut s.rad, false, &s.x, ta, rb, tb, dims);
            fma_up(&mut s.x, Some(ra), gk, &s.a.abs_mid);
            gemm_into(&mut s.rad, true, &s.x, ta, &s.b.abs_mid, tb, dims);
            2 * k
        }
    };
    // Ĝ ≥ G (1 − γ_N) − N·2⁻¹⁴⁹ for the N nonnegative products summed per entry (any order,
    // with or without FMA; an underflowing product or sum loses at most 2⁻¹⁴⁹), so
    // G ≤ (Ĝ + N·2⁻¹⁴⁹)(1 + 2γ_N) for γ_N ≤ 1/2. The sums below are rounded to nearest, so the
    // factor also carries 2⁻⁴⁸ for their rounding (three roundings of relative size 2⁻⁵³ at
    // most), which keeps every result above.
    let g_floor = mul_up(terms as f64, 2f64.powi(-149));
    let scale = add_up(
        add_up(1.0, mul_up(2.0, gamma(terms, 2f64.powi(-24)))),
        2f64.powi(-48),
    );
    let floor = around_floor(k);
    let mut out = vec![Interval::point(0.0); s.mid.len().min(s.rad.len())];
    crate::simd::vectorized(
        #[inline(always)]
        || {
            for ((o, &c), &g) in out.iter_mut().zip(&s.mid).zip(&s.rad) {
                *o = around(c, (f64::from(g) + g_floor) * scale, floor);
            }
        },
    );
    Some(out)
}

/// The enclosure `[c − r, c + r]` of an entry from its midpoint `c` (an inner product of
/// length `k` rounded to nearest) and a radius `r` that covers everything but the rounding of
/// `c ± r`, widened so that rounding to nearest cannot cut into it: the error of `fl(c ± r′)`
/// is at most `2⁻⁵³ |c ± r′| ≤ 2⁻⁵³ (|c| + r′)`, which `r′ = (r + 2⁻⁵¹|c|)(1 + 2⁻⁵⁰) +
/// (k + 2)·2⁻¹⁰²²` covers with room for its own two roundings (the last term: the underflow of
/// the midpoint product, `k·2⁻¹⁰⁷⁴` at most, and of `c ± r′`). A midpoint that overflowed (the
/// exact product may still be finite) gives the whole line; an infinite radius gives infinite
/// endpoints (`c ∓ ∞`).
#[inline(always)]
fn around(c: f64, r: f64, floor: f64) -> Interval {
    const TWO_M51: f64 = 1.0 / (1u64 << 51) as f64;
    let r = (r + c.abs() * TWO_M51) * UP50 + floor;
    // Selects rather than a branch, so that the output loops vectorise; a NaN radius (not
    // expected: every term is nonnegative) also gives the whole line.
    let ok = c.is_finite() & !r.is_nan();
    Interval::from_sorted(
        if ok { c - r } else { f64::NEG_INFINITY },
        if ok { c + r } else { f64::INFINITY },
    )
}

/// The `floor` of [`around`] for inner products of length `k`: `(k + 2)·2⁻¹⁰²²`.
fn around_floor(k: usize) -> f64 {
    (k as f64 + 2.0) * f64::MIN_POSITIVE
}

/// Per line of the `lines × len` matrix `op(X)` (`X` in the layout of
/// [`Element::gemm`](crate::scalar::Element::gemm), entries `≥ 0` and finite): its largest
/// entry (exact) and the sum of its entries in `f64` (each entry an `f32`, so at most `len − 1`
/// roundings to nearest of nonnegative terms, and no underflow: every entry is 0 or at least
/// `2⁻¹²⁶`).
fn line_stats(out: &mut Vec<(f64, f64)>, x: &[f32], lines: usize, len: usize, t: bool) {
    out.clear();
    if lines == 0 || len == 0 {
        out.resize(lines, (0.0, 0.0));
        return;
    }
    if t {
        // Stored `len × lines`: line i is column i.
        out.resize(lines, (0.0, 0.0));
        for row in x.chunks(lines) {
            for (o, &v) in out.iter_mut().zip(row) {
                let v = f64::from(v);
                *o = (if v > o.0 { v } else { o.0 }, o.1 + v);
            }
        }
    } else {
        out.extend(x.chunks(len).map(line_max_sum));
    }
}

/// The largest entry and the sum of a line of nonnegative finite `f32`s, in eight interleaved
/// partial maxima and sums (independent chains, which vectorise; a sum of `len` nonnegative
/// terms in any order has at most `len − 1` roundings, as [`line_stats`] needs).
fn line_max_sum(line: &[f32]) -> (f64, f64) {
    const L: usize = 8;
    let (mut mx, mut sm) = ([0.0f64; L], [0.0f64; L]);
    let mut chunks = line.chunks_exact(L);
    for c in &mut chunks {
        for i in 0..L {
            let v = f64::from(c[i]);
            mx[i] = if v > mx[i] { v } else { mx[i] };
            sm[i] += v;
        }
    }
    for (i, &v) in chunks.remainder().iter().enumerate() {
        let v = f64::from(v);
        mx[i] = if v > mx[i] { v } else { mx[i] };
        sm[i] += v;
    }
    let m = mx.iter().fold(0.0f64, |a, &b| if b > a { b } else { a });
    (m, sm.iter().sum())
}

/// The product of two point matrices: the midpoint product, whose only error is its own
/// rounding, `≤ γ_k |A||B|` entrywise, bounded without a second matrix product by Hölder's
/// inequality, `Σₗ |aᵢₗ||bₗⱼ| ≤ min(maxₗ |aᵢₗ| · Σₗ |bₗⱼ|, Σₗ |aᵢₗ| · maxₗ |bₗⱼ|)`, from
/// per-row and per-column statistics of the `f32` magnitudes (upper bounds of `|A|`, `|B|`).
/// The sums computed in `f64` are at most a factor `1 + 2γ_k` below the exact ones; the factor
/// `1 + 2⁻⁵⁰` covers the four roundings of the entry's radius. This radius is at most a few
/// times the one of a radius product (twice for uniformly spread magnitudes) and of the size
/// of the midpoint's rounding, `k·2⁻⁵³` relative: far below any runtime error of interest.
fn point_product(
    s: &mut Scratch,
    ta: bool,
    tb: bool,
    dims: (usize, usize, usize),
    gk: f64,
) -> Vec<Interval> {
    let (m, k, n) = dims;
    line_stats(&mut s.a_lines, &s.a.abs_mid, m, k, ta);
    // The columns of op(B) are the rows of op(B)ᵀ, stored with the opposite flag.
    line_stats(&mut s.b_lines, &s.b.abs_mid, n, k, !tb);
    let g = mul_up(gk, add_up(1.0, mul_up(2.0, gamma(k, 2f64.powi(-53)))));
    let floor = around_floor(k);
    let mut out = Vec::with_capacity(m * n);
    if n == 0 {
        return out;
    }
    for (row, &(ma, sa)) in s.mid.chunks(n).zip(&s.a_lines) {
        out.extend(row.iter().zip(&s.b_lines).map(|(&c, &(mb, sb))| {
            let h = if ma * sb < sa * mb { ma * sb } else { sa * mb };
            around(c, g * h * UP50, floor)
        }));
    }
    out
}
