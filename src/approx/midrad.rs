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
//! Within a pass of the enclosure mode, when the radius terms are negligible (at most `u/64`
//! of the largest midpoint for a runtime of unit roundoff `u`: the enclosures of a certified
//! graph with exact inputs, `10⁻¹⁶`–`10⁻¹²` relative), they are bounded instead by Hölder's
//! inequality from row and column statistics, as the rounding term always is
//! ([`holder_product`]): then a product costs its `f64` midpoint product only.
//!
//! Cost otherwise: one `f64` product and one `f32` product (two, accumulated into one buffer,
//! when both operands have radii), instead of `k` interval multiply-adds per entry; the radius is at
//! most 1.5 times the interval product's (Rump) and, for the narrow enclosures of a certified
//! graph, nearly equal to it. The conversions to midpoint-radius form are one branch-free pass
//! per operand, and every intermediate buffer is reused from one product to the next (a
//! thread-local scratch), so that only the result is allocated.

use core::cell::{Cell, RefCell};

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
    a_lines: Lines,
    b_lines: Lines,
    /// The same statistics of `Rₐ` (per row) and `R_b` (per column).
    ra_lines: Lines,
    rb_lines: Lines,
}

/// Per line of a nonnegative matrix: the largest entry and the sum (two arrays, so that the
/// loops reading them vectorise).
#[derive(Default)]
struct Lines {
    max: Vec<f64>,
    sum: Vec<f64>,
}

impl Lines {
    /// `lines` lines of zeros (the statistics of an absent radius).
    fn zeros(&mut self, lines: usize) {
        for v in [&mut self.max, &mut self.sum] {
            v.clear();
            v.resize(lines, 0.0);
        }
    }

    /// The largest maximum and the largest sum over the lines (`f64::max` skips NaN; the
    /// statistics are finite).
    fn largest(&self) -> (f64, f64) {
        let top = |v: &[f64]| v.iter().fold(0.0f64, |a, &b| a.max(b));
        (top(&self.max), top(&self.sum))
    }
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
    // Two point matrices, or radii negligible next to the midpoints: no radius products.
    if let Some(out) = holder_product(s, (a_rad, b_rad), ta, tb, dims, gk) {
        return Some(out);
    }
    let (ra, rb) = (a_rad.then_some(&s.a.rad[..]), b_rad.then_some(&s.b.rad[..]));
    let terms = match (ra, rb) {
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
fn line_stats(out: &mut Lines, x: &[f32], lines: usize, len: usize, t: bool) {
    out.zeros(lines);
    if lines == 0 || len == 0 {
        return;
    }
    let (max, sum) = (&mut out.max, &mut out.sum);
    crate::simd::vectorized(
        #[inline(always)]
        || {
            if t {
                // Stored `len × lines`: line i is column i.
                for row in x.chunks(lines) {
                    for ((m, s), &v) in max.iter_mut().zip(sum.iter_mut()).zip(row) {
                        let v = f64::from(v);
                        *m = if v > *m { v } else { *m };
                        *s += v;
                    }
                }
            } else {
                for ((m, s), line) in max.iter_mut().zip(sum.iter_mut()).zip(x.chunks(len)) {
                    (*m, *s) = line_max_sum(line);
                }
            }
        },
    );
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

thread_local! {
    /// The largest radius term, relative to the largest midpoint of a product, that
    /// [`holder_product`] may bound by Hölder's inequality: 0 (exact radius products) unless a
    /// pass of the enclosure mode has set it from its runtime format ([`with_runtime_unit`]).
    static NARROW: Cell<f64> = const { Cell::new(0.0) };
}

/// Runs `f` with products allowed to bound radius terms below `u / 64` of their largest
/// midpoint by Hölder's inequality ([`holder_product`]), for a pass of the enclosure mode whose
/// runtime has unit roundoff `u`: a radius that small is far below any rounding error of that
/// runtime, so the coarser bound costs no tightness worth a matrix product.
pub(crate) fn with_runtime_unit<T>(u: f64, f: impl FnOnce() -> T) -> T {
    /// Restores the previous tolerance, also when `f` unwinds.
    struct Restore(f64);
    impl Drop for Restore {
        fn drop(&mut self) {
            NARROW.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(NARROW.with(|c| c.replace(u / 64.0)));
    f()
}

/// The product from its midpoint product and a radius bounded without radius products, by
/// Hölder's inequality `Σₗ xᵢₗ yₗⱼ ≤ min(maxₗ xᵢₗ · Σₗ yₗⱼ, Σₗ xᵢₗ · maxₗ yₗⱼ)` (nonnegative
/// `x`, `y`) from per-row statistics of `|Mₐ|`, `Rₐ` and per-column statistics of `|M_b|`,
/// `R_b`: `O(m·k + k·n + m·n)` instead of one or two matrix products.
///
/// - The rounding term `γ_k |Mₐ||M_b|` of the midpoint product is always bounded so: it is of
///   the size of the midpoint's rounding, `k·2⁻⁵³` relative, far below any runtime error of
///   interest, and Hölder's bound is at most a few times the exact one (twice for uniformly
///   spread magnitudes). Two point matrices need nothing else.
/// - The terms `|Mₐ|R_b + Rₐ(|M_b| + R_b)` of operands with radii are bounded so only when
///   their bound is at most [`NARROW`] times the largest midpoint (the enclosures of a
///   certified graph with exact inputs, whose widths start near `10⁻¹⁶` relative; see
///   [`with_runtime_unit`]), so that it cannot matter next to a runtime error; otherwise the
///   result is `None` and the caller computes the radius products.
///
/// Rigour: every statistic is of `f32` upper bounds (rounded up from the `f64` magnitudes and
/// radii); maxima are exact and the sums in `f64` are at most a factor `1 + 2γ_k` below the
/// exact ones ([`line_stats`]), which the factors `f` and `g` carry once per term. Along any
/// path to an entry's radius there are at most five roundings to nearest in `f64` (relative
/// error `2⁻⁵³` each, `(1 + 2⁻⁵³)⁵ < 1 + 2⁻⁵⁰` altogether), which the factor `1 + 2⁻⁵⁰`
/// covers; [`around`] covers the rest.
fn holder_product(
    s: &mut Scratch,
    (a_rad, b_rad): (bool, bool),
    ta: bool,
    tb: bool,
    dims: (usize, usize, usize),
    gk: f64,
) -> Option<Vec<Interval>> {
    let (m, k, n) = dims;
    if n == 0 || m == 0 {
        return Some(Vec::new());
    }
    let tolerance = NARROW.with(Cell::get);
    if (a_rad || b_rad) && tolerance == 0.0 {
        // Outside a pass of the enclosure mode: the radius products.
        return None;
    }
    line_stats(&mut s.a_lines, &s.a.abs_mid, m, k, ta);
    // The columns of op(B) are the rows of op(B)ᵀ, stored with the opposite flag.
    line_stats(&mut s.b_lines, &s.b.abs_mid, n, k, !tb);
    // An absent radius is zero.
    if a_rad {
        line_stats(&mut s.ra_lines, &s.a.rad, m, k, ta);
    } else {
        s.ra_lines.zeros(m);
    }
    if b_rad {
        line_stats(&mut s.rb_lines, &s.b.rad, n, k, !tb);
    } else {
        s.rb_lines.zeros(n);
    }
    let g2 = add_up(1.0, mul_up(2.0, gamma(k, 2f64.powi(-53))));
    let g = mul_up(mul_up(gk, g2), UP50);
    let f = mul_up(g2, UP50);
    let radii = a_rad || b_rad;
    if radii {
        // The decision, from the largest statistics (which bound every entry's radius terms)
        // and the largest midpoint magnitude (NaN midpoints are skipped: their entries are the
        // whole line whatever the radius).
        let ((ma, sa), (mra, sra)) = (s.a_lines.largest(), s.ra_lines.largest());
        let ((mb, sb), (mrb, srb)) = (s.b_lines.largest(), s.rb_lines.largest());
        let worst = (min(ma * srb, sa * mrb) + min(mra * (sb + srb), sra * (mb + mrb))) * f;
        let negligible = worst <= tolerance * max_abs(&s.mid);
        if !negligible {
            return None;
        }
    }
    // Per column: Σ R_b, max R_b, Σ |M_b| + Σ R_b, max |M_b| + max R_b (the line statistics of
    // |M_b| + R_b, up to one rounding each), Σ |M_b|, max |M_b|.
    let b = &s.b_lines;
    let rb = &s.rb_lines;
    let sum2 = |x: &[f64], y: &[f64]| -> Vec<f64> { x.iter().zip(y).map(|(a, b)| a + b).collect() };
    let (sbr, mbr) = (sum2(&b.sum, &rb.sum), sum2(&b.max, &rb.max));
    let floor = around_floor(k);
    let mut out = Vec::with_capacity(m * n);
    let (a, ra) = (&s.a_lines, &s.ra_lines);
    let cols = [&b.max[..], &b.sum, &rb.max, &rb.sum, &mbr, &sbr];
    crate::simd::vectorized(
        #[inline(always)]
        || {
            for (i, row) in s.mid.chunks(n).enumerate() {
                let rows = [a.max[i], a.sum[i], ra.max[i], ra.sum[i]];
                if radii {
                    holder_row::<true>(&mut out, row, rows, cols, (f, g, floor));
                } else {
                    holder_row::<false>(&mut out, row, rows, cols, (f, g, floor));
                }
            }
        },
    );
    Some(out)
}

/// One row of [`holder_product`]: `rows` = max and sum of the row of `|Mₐ|` and of `Rₐ`,
/// `cols` = per column max and sum of `|M_b|`, of `R_b` and of `|M_b| + R_b`.
#[inline(always)]
fn holder_row<const RADII: bool>(
    out: &mut Vec<Interval>,
    mid: &[f64],
    [ma, sa, mra, sra]: [f64; 4],
    cols: [&[f64]; 6],
    (f, g, floor): (f64, f64, f64),
) {
    let n = mid.len();
    // The row is appended zeroed, then written (a loop over indices vectorises where an
    // `extend` does not; the zeroing is of one row, in cache).
    let start = out.len();
    out.resize(start + n, Interval::point(0.0));
    let o = &mut out[start..];
    // Equal lengths, so that the loop has no bounds checks.
    let [mb, sb, mrb, srb, mbr, sbr] = cols.map(|c| &c[..n]);
    for j in 0..n {
        // γ_k |Mₐ||M_b|, and |Mₐ| R_b + Rₐ (|M_b| + R_b), each by Hölder.
        let t3 = min(ma * sb[j], sa * mb[j]);
        let r = if RADII {
            let t1 = min(ma * srb[j], sa * mrb[j]);
            let t2 = min(mra * sbr[j], sra * mbr[j]);
            (t1 + t2) * f + g * t3
        } else {
            g * t3
        };
        o[j] = around(mid[j], r, floor);
    }
}

/// `maxᵢ |xᵢ|` over the entries that are not NaN (0 when empty), in eight interleaved maxima
/// (which vectorise).
fn max_abs(x: &[f64]) -> f64 {
    const L: usize = 8;
    let mut m = [0.0f64; L];
    let mut chunks = x.chunks_exact(L);
    for c in &mut chunks {
        for (m, &v) in m.iter_mut().zip(c) {
            *m = if v.abs() > *m { v.abs() } else { *m };
        }
    }
    for &v in chunks.remainder() {
        m[0] = if v.abs() > m[0] { v.abs() } else { m[0] };
    }
    m.iter().fold(0.0, |a, &b| if b > a { b } else { a })
}

/// The smaller of two numbers (a select, which vectorises).
#[inline(always)]
fn min(x: f64, y: f64) -> f64 {
    if x < y { x } else { y }
}
