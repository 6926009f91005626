//! A-priori error bounds for matrix products, valid for any summation order.
//!
//! For `C = op(A) · op(B)` with an inner dimension `k`, spec operands within `εA`, `εB` (L∞)
//! of the runtime operands `Â`, `B̂`, and `Ĉ` the runtime product computed by any algorithm
//! that forms each entry as a sum of the `k` rounded (or fused) products in some order — the
//! blocked SGEMM/DGEMM included — every entry satisfies
//!
//! ```text
//! |C_spec − Ĉ|ᵢⱼ ≤ εA · Σₗ (|b̂ₗⱼ| + εB) + εB · Σₗ |âᵢₗ|      (input errors)
//!               + γₖ · Σₗ |âᵢₗ| |b̂ₗⱼ| + k · 2^q              (rounding, Higham §3.1)
//! ```
//!
//! with `γₖ = k·u / (1 − k·u)`, `u = 2^−p` the unit roundoff of the runtime format and the last
//! term covering underflow (`2^q` the subnormal spacing; each of the at most `2k` operations
//! errs by at most `2^(q−1)`). The slot bound takes the maximum over entries, bounding
//! `Σₗ |âᵢₗ||b̂ₗⱼ|` by Hölder's inequality from row sums and maxima, so the whole bound costs
//! `O(m·k + k·n)` instead of a second matrix product.
//!
//! **Half-precision runtimes.** `bf16` and `f16` accumulate their products in `f32`
//! ([`RuntimeFloat::Accumulator`]) and round each entry once to the half format. Two models
//! then apply, and both reduce to the formula above for `f32` and `f64` (bit for bit):
//!
//! - [`gemm_kernel_bound`], for an output that is exactly one `Element::gemm` (or, for `k = 1`,
//!   the products themselves): the accumulation errs by `γₖ` and the underflow term *of the
//!   accumulator* (`u = 2⁻²⁴`, `q = −149`, with a factor `1 + γₖ` for the growth of the
//!   underflow errors), and the final rounding by at most `u_F(z)` (half an ulp of the half
//!   format) at `z = Σₗ |âᵢₗ||b̂ₗⱼ| + (accumulation error)`, an upper bound of the accumulated
//!   entry; `+∞` if `z` reaches the half format's largest finite value (the entry may overflow).
//! - [`gemm_bound`], for any computation in which every product passes through at most `k + 1`
//!   roundings to nearest, each in the half format or in a format at least as precise with at
//!   least its exponent range: one `Element::gemm` (`≤ k` roundings in `f32`, then one to the
//!   half format), sums in the half format's own arithmetic (the bias gradient of
//!   `linear_batch`), and mixes of both (a convolution's input gradient: `Og` roundings in a
//!   gemm, one to the half format, `taps − 1` half additions, and `Og + taps ≤ k + 1` for
//!   `k = Og·taps`). It uses the half format's `γ_{k+1}` and `(k + 1)·2^q·(1 + γ)`.

use crate::approx::round::{
    BinaryFormat, RuntimeFloat, add_up, div_up, mul_up, norm_max, sanitize,
};
use crate::scalar::Element;

/// `2^k` exactly, also in the subnormal range (where `2f64.powi(k)` would underflow to 0).
fn pow2(k: i32) -> f64 {
    if k >= -1022 {
        2f64.powi(k)
    } else {
        f64::from_bits(1u64 << (k + 1074).clamp(0, 51))
    }
}

/// `γₖ = k·u / (1 − k·u)` for the format with unit roundoff `u`, rounded upward (`+∞` if
/// `k·u ≥ 1`).
pub(crate) fn gamma_of(format: BinaryFormat, k: usize) -> f64 {
    let u = format.unit_roundoff();
    let ku = mul_up(k as f64, u);
    if ku >= 1.0 {
        return f64::INFINITY;
    }
    let one_minus = -add_up(ku, -1.0); // 1 − ku, rounded downward
    div_up(ku, one_minus)
}

/// `γₖ` of the runtime format `F`.
pub(crate) fn gamma<F: RuntimeFloat>(k: usize) -> f64 {
    gamma_of(F::FORMAT, k)
}

/// The maximum over lines of `Σ |entries|` (rounded upward) and the maximum `|entry|` of
/// `op(X)` read along the summed axis: for `op(A)` (`m×k`) the lines are its rows, for `op(B)`
/// (`k×n`) its columns. NaN entries, and line sums that overflow, count as `+∞`.
///
/// Each line is summed in `F`'s accumulator `W = F::Accumulator` (`F` itself for f32 and f64,
/// f32 for the half formats; the entries convert exactly), in any order, and then inflated:
/// for `n` nonnegative terms the computed sum `ŝ` satisfies `|ŝ − s| ≤ γₙ₋₁ s` whatever the
/// order of the additions (adding nonnegative numbers never loses accuracy to underflow), so
/// `s ≤ ŝ / (1 − γₙ) ≤ ŝ (1 + 2γₙ)` with the `γ` of `W`. One cheap pass, at the width of `W`
/// (four f32 per SSE register), instead of a directed rounding per term.
fn line_stats<F: RuntimeFloat>(
    data: &[F],
    lines: usize,
    len: usize,
    contiguous: bool,
) -> (f64, f64) {
    let inflate = add_up(1.0, mul_up(2.0, gamma::<F::Accumulator>(len)));
    let zero = F::zero().to_accumulator();
    let larger = |m: F::Accumulator, v: F::Accumulator| if v > m { v } else { m };
    let wide = |v: &F| v.to_accumulator().abs();
    // NaN entries make their line's sum NaN (sanitised to +∞ below), so `larger` may skip them.
    let mut max_sum = 0.0f64;
    let mut max_abs = zero;
    let mut take_sum =
        |s: F::Accumulator| max_sum = max_sum.max(sanitize(mul_up(s.to_f64_exact(), inflate)));
    if contiguous {
        // line i is data[i·len .. (i + 1)·len]
        for line in data.chunks(len.max(1)).take(lines) {
            let (s, m) = abs_sum_max(line);
            take_sum(s);
            max_abs = larger(max_abs, m);
        }
    } else {
        // entry l of line i is data[l·lines + i]: sweep the storage four rows at a time, one
        // accumulator per line (independent, so the loop vectorises)
        let mut sums = vec![zero; lines];
        let mut maxes = vec![zero; lines];
        let width = lines.max(1);
        let full = len / 4;
        for block in data.chunks_exact(4 * width).take(full) {
            let (r0, rest) = block.split_at(width);
            let (r1, rest) = rest.split_at(width);
            let (r2, r3) = rest.split_at(width);
            for i in 0..lines {
                let (a0, a1, a2, a3) = (wide(&r0[i]), wide(&r1[i]), wide(&r2[i]), wide(&r3[i]));
                sums[i] = sums[i] + ((a0 + a1) + (a2 + a3));
                maxes[i] = larger(larger(maxes[i], larger(a0, a1)), larger(a2, a3));
            }
        }
        let rows = data.chunks_exact(width).take(len);
        for row in rows.skip(4 * full) {
            for ((sum, max), v) in sums.iter_mut().zip(maxes.iter_mut()).zip(row) {
                let v = wide(v);
                *sum = *sum + v;
                *max = larger(*max, v);
            }
        }
        for s in sums {
            take_sum(s);
        }
        max_abs = maxes.into_iter().fold(zero, larger);
    }
    if max_sum == f64::INFINITY {
        // a NaN or an overflow: no finite bound (and no finite max may be reported for NaN)
        return (f64::INFINITY, f64::INFINITY);
    }
    (max_sum, max_abs.to_f64_exact())
}

/// `(Σ |xᵢ|, max |xᵢ|)` of one line in eight interleaved partial sums, in `F`'s accumulator (the
/// summation order does not matter to the `γₙ` bound, and independent lanes let the loop
/// vectorise).
fn abs_sum_max<F: RuntimeFloat>(line: &[F]) -> (F::Accumulator, F::Accumulator) {
    const L: usize = 8;
    let zero = F::zero().to_accumulator();
    let (mut sums, mut maxes) = ([zero; L], [zero; L]);
    let chunks = line.chunks_exact(L);
    let rest = chunks.remainder();
    for chunk in chunks {
        for j in 0..L {
            let v = chunk[j].to_accumulator().abs();
            sums[j] = sums[j] + v;
            maxes[j] = if v > maxes[j] { v } else { maxes[j] };
        }
    }
    for (j, v) in rest.iter().enumerate() {
        let v = v.to_accumulator().abs();
        sums[j] = sums[j] + v;
        maxes[j] = if v > maxes[j] { v } else { maxes[j] };
    }
    let sum = sums.iter().fold(zero, |acc, &v| acc + v);
    let max = maxes.iter().fold(zero, |m, &v| if v > m { v } else { m });
    (sum, max)
}

/// The bound of the module docs for `op(A) · op(B)` (`op(A)`: `m×k`, `op(B)`: `k×n`, storage as
/// in [`Element::gemm`](crate::Element::gemm)), valid for any computation of each entry from
/// the `k` products in which every product passes through at most `k` roundings in `F` (`k + 1`
/// roundings in `F` or a finer format when `F` accumulates elsewhere: see the module docs).
/// For an output that is exactly one `Element::gemm`, [`gemm_kernel_bound`] is tighter.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_bound<F: RuntimeFloat>(
    a: &[F],
    ta: bool,
    ea: f64,
    b: &[F],
    tb: bool,
    eb: f64,
    m: usize,
    k: usize,
    n: usize,
) -> f64 {
    product_bound(a, ta, ea, b, tb, eb, (m, k, n), false)
}

/// The bound of the module docs for an output computed by exactly one
/// [`Element::gemm`](crate::Element::gemm) of `F` (accumulated in `F::Accumulator`, then
/// rounded once to `F`), or for `k = 1` by the products themselves, each rounded once to `F`.
/// Equal to [`gemm_bound`] when `F` is its own accumulator (f32, f64).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_kernel_bound<F: RuntimeFloat>(
    a: &[F],
    ta: bool,
    ea: f64,
    b: &[F],
    tb: bool,
    eb: f64,
    m: usize,
    k: usize,
    n: usize,
) -> f64 {
    product_bound(a, ta, ea, b, tb, eb, (m, k, n), true)
}

/// [`gemm_bound`] (`kernel` false) or [`gemm_kernel_bound`] (`kernel` true).
#[allow(clippy::too_many_arguments)]
fn product_bound<F: RuntimeFloat>(
    a: &[F],
    ta: bool,
    ea: f64,
    b: &[F],
    tb: bool,
    eb: f64,
    (m, k, n): (usize, usize, usize),
    kernel: bool,
) -> f64 {
    if m == 0 || n == 0 || k == 0 {
        return 0.0; // no entries, or every entry is the exact empty sum 0
    }
    // op(A) is m×k: its rows are stored contiguously unless A is stored transposed (k×m);
    // op(B) is k×n: its columns are contiguous only when B is stored transposed (n×k).
    let (rows_a, max_a) = line_stats(a, m, k, !ta);
    let (cols_b, max_b) = line_stats(b, n, k, tb);
    let kf = k as f64;
    let input = add_up(
        mul_up(ea, add_up(cols_b, mul_up(kf, eb))),
        mul_up(eb, rows_a),
    );
    let abs_products = mul_up(rows_a, max_b).min(mul_up(max_a, cols_b));
    let (format, acc) = (F::FORMAT, <F::Accumulator as RuntimeFloat>::FORMAT);
    if format == acc {
        // Every operation rounds in F itself (f32, f64): Higham's bound with F's γₖ.
        let g = gamma_of(format, k);
        if add_up(abs_products, mul_up(g, abs_products)) >= format.max_finite() {
            return f64::INFINITY; // a partial sum may overflow
        }
        let underflow = mul_up(kf, pow2(format.subnormal_exp()));
        return sanitize(add_up(input, add_up(mul_up(g, abs_products), underflow)));
    }
    if kernel {
        // Accumulated in `acc`, then one rounding to F at the accumulated magnitude.
        let g = gamma_of(acc, k);
        let underflow = mul_up(mul_up(kf, pow2(acc.subnormal_exp())), add_up(1.0, g));
        let accumulated = add_up(mul_up(g, abs_products), underflow);
        let magnitude = add_up(abs_products, accumulated); // ≥ every accumulated entry
        if magnitude >= acc.max_finite() {
            return f64::INFINITY; // a partial sum may overflow the accumulator
        }
        // +∞ from F's largest finite value on: the rounded entry may overflow.
        let last = format.half_ulp(magnitude);
        return sanitize(add_up(input, add_up(accumulated, last)));
    }
    // Up to k + 1 roundings per product, each in F or finer: F's γₖ₊₁.
    let g = gamma_of(format, k + 1);
    if add_up(abs_products, mul_up(g, abs_products)) >= format.max_finite() {
        return f64::INFINITY; // a partial sum may overflow
    }
    let underflow = mul_up(
        mul_up(add_up(kf, 1.0), pow2(format.subnormal_exp())),
        add_up(1.0, g),
    );
    sanitize(add_up(input, add_up(mul_up(g, abs_products), underflow)))
}

/// The rounding error of one runtime addition whose rounded results are `out`: at most
/// `u(z)` with `|z| ≤ next_up(|fl(z)|)` for round-to-nearest.
pub(crate) fn add_rounding<F: RuntimeFloat>(out: &[F]) -> f64 {
    let m = norm_max(out.iter().map(|v| v.to_f64_exact().abs()));
    if m == 0.0 {
        // every sum is 0: exact (x + y = 0 in round-to-nearest only if x = −y exactly)
        0.0
    } else {
        F::FORMAT.half_ulp(m.next_up())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn underflow_term_is_not_lost_for_f64() {
        assert_eq!(pow2(-1074), f64::from_bits(1));
        assert_eq!(pow2(-1023), f64::from_bits(1 << 51));
        assert_eq!(pow2(-149), 2f64.powi(-149));
        assert!(gemm_bound::<f64>(&[0.0], false, 0.0, &[0.0], false, 0.0, 1, 1, 1) > 0.0);
    }

    #[test]
    fn line_sums_bound_the_exact_sums() {
        // 1 + 2⁻⁵³ + 2⁻⁵³ + …: every small term is lost by round-to-nearest, the exact sum is
        // larger than the computed one; the inflated sum must still cover it.
        let tiny = 2f64.powi(-53);
        let n = 1000;
        let row: Vec<f64> = core::iter::once(1.0)
            .chain(core::iter::repeat_n(tiny, n))
            .collect();
        let exact = 1.0 + n as f64 * tiny; // exact: n·2⁻⁵³ is representable next to 1 here
        // As a row (eight-lane sums) and as a column (one sequential sum): both cover it.
        for contiguous in [true, false] {
            let (sum, max) = line_stats(&row, 1, row.len(), contiguous);
            assert!(sum >= exact, "{sum} < {exact}");
            assert_eq!(max, 1.0);
        }
        let sequential: f64 = row.iter().sum();
        assert!(
            sequential < exact,
            "the test needs a sum that loses the small terms"
        );
        let (nan_sum, nan_max) = line_stats(&[1.0f32, f32::NAN], 1, 2, true);
        assert_eq!((nan_sum, nan_max), (f64::INFINITY, f64::INFINITY));
        // Two lines, stored both ways: rows of [[1, 2], [3, 4]] and its columns.
        let m = [1.0f32, 2.0, 3.0, 4.0];
        // (summed in f32, so inflated by about 1 + 2γ₂ of f32)
        let (rows, _) = line_stats(&m, 2, 2, true);
        let (cols, _) = line_stats(&m, 2, 2, false);
        let slack = 1.0 + 3.0 * gamma::<f32>(2);
        assert!((7.0..7.0 * slack).contains(&rows), "{rows}");
        assert!((6.0..6.0 * slack).contains(&cols), "{cols}");
        // Five rows stored as columns (the four-row blocks and the remainder row), with a NaN
        // in the remainder and, separately, a sum that overflows f32.
        let tall = [1.0f32, -2.0, 3.0, -4.0, 5.0];
        let (sum, max) = line_stats(&tall, 1, 5, false);
        assert!(
            (15.0..15.0 * (1.0 + 3.0 * gamma::<f32>(5))).contains(&sum),
            "{sum}"
        );
        assert_eq!(max, 5.0);
        let with_nan = [1.0f32, 2.0, 3.0, 4.0, f32::NAN];
        assert_eq!(line_stats(&with_nan, 1, 5, false).0, f64::INFINITY);
        let huge = [f32::MAX, f32::MAX, 0.0, 0.0, 1.0];
        assert_eq!(
            line_stats(&huge, 1, 5, false),
            (f64::INFINITY, f64::INFINITY)
        );
    }

    #[test]
    fn gamma_matches_its_definition() {
        let g = gamma::<f32>(10);
        let exact = 10.0 * 2f64.powi(-24) / (1.0 - 10.0 * 2f64.powi(-24));
        assert!(g >= exact && g <= exact * (1.0 + 1e-15));
        assert_eq!(gamma::<f32>(1 << 24), f64::INFINITY);
    }

    #[test]
    fn gemm_bound_covers_a_bad_case() {
        // Cancellation: the exact product is 1 but f32 loses it entirely.
        let a = [1.0e8_f32, 1.0, -1.0e8];
        let b = [1.0_f32, 1.0, 1.0];
        let c = (a[0] * b[0] + a[1] * b[1]) + a[2] * b[2];
        let exact = 1.0;
        let bound = gemm_bound(&a, false, 0.0, &b, false, 0.0, 1, 3, 1);
        assert!((f64::from(c) - exact).abs() <= bound, "{c} vs {bound}");
        assert_eq!(
            gemm_bound::<f32>(&[f32::NAN], false, 0.0, &[1.0], false, 0.0, 1, 1, 1),
            f64::INFINITY
        );
    }

    // ---------------------------------------------------------------- half-precision products

    use crate::scalar::{Rational, left_fold_gemm};
    use half::{bf16, f16};

    /// A small deterministic generator of values in `[−1, 1)` (no dependency, same values on
    /// every run).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 11) as f64) / ((1u64 << 52) as f64) - 1.0
        }
        fn vec<F: RuntimeFloat>(&mut self, n: usize, scale: f64) -> Vec<F> {
            (0..n).map(|_| F::from_f64(self.next() * scale)).collect()
        }
    }

    fn q(x: f64) -> Rational {
        Rational::from_float(x).expect("a finite number")
    }

    /// `max |exact − ĉ|` over the entries, with `exact` the rational `op(A) · op(B)` of the
    /// runtime operands; `None` if an entry of `ĉ` is not finite.
    #[allow(clippy::too_many_arguments)]
    fn product_error<F: RuntimeFloat>(
        a: &[F],
        ta: bool,
        b: &[F],
        tb: bool,
        c: &[F],
        m: usize,
        k: usize,
        n: usize,
    ) -> Option<Rational> {
        let at = |i: usize, l: usize| if ta { a[l * m + i] } else { a[i * k + l] };
        let bt = |l: usize, j: usize| if tb { b[j * k + l] } else { b[l * n + j] };
        let mut worst = q(0.0);
        for i in 0..m {
            for j in 0..n {
                let exact = (0..k).fold(q(0.0), |s, l| {
                    s + q(at(i, l).to_f64_exact()) * q(bt(l, j).to_f64_exact())
                });
                let got = c[i * n + j].to_f64_exact();
                if !got.is_finite() {
                    return None;
                }
                let d = num_traits::Signed::abs(&(exact - q(got)));
                if d > worst {
                    worst = d;
                }
            }
        }
        Some(worst)
    }

    /// `F::gemm` is within `gemm_kernel_bound` of the exact product, and a non-finite result
    /// has the bound `+∞`; returns the bound.
    #[allow(clippy::too_many_arguments)]
    fn kernel_holds<F: RuntimeFloat>(
        a: &[F],
        ta: bool,
        b: &[F],
        tb: bool,
        m: usize,
        k: usize,
        n: usize,
    ) -> f64 {
        let c = F::gemm(a, ta, b, tb, m, k, n);
        let bound = gemm_kernel_bound(a, ta, 0.0, b, tb, 0.0, m, k, n);
        match product_error(a, ta, b, tb, &c, m, k, n) {
            Some(err) => assert!(
                bound == f64::INFINITY || err <= q(bound),
                "{:?} {m}×{k}×{n}: error {:e} > bound {bound:e}",
                F::FORMAT,
                crate::Element::to_f64(&err)
            ),
            None => assert_eq!(bound, f64::INFINITY, "a non-finite product needs +∞"),
        }
        bound
    }

    fn adversarial_products<F: RuntimeFloat>(big: f64, near_max_factor: f64, tiny: f64) {
        let v = |x: f64| F::from_f64(x);
        let mut rng = Lcg(F::FORMAT.precision() as u64);
        // Cancellation: the big products cancel in the f32 accumulator, the small one is lost.
        let small = big.recip();
        let a = [v(big), v(small), v(-big)];
        let b = [v(big), v(small), v(big)];
        let c = F::gemm(&a, false, &b, false, 1, 3, 1);
        assert_eq!(
            c[0].to_f64_exact(),
            0.0,
            "the test needs a cancellation that loses"
        );
        assert!(kernel_holds(&a, false, &b, false, 1, 3, 1) >= small * small);
        // Long sums (K = 256 and 1024), mixed signs and positive only, every transposition;
        // 16×16×16 products go to the blocked f32 kernel.
        let shapes = [
            (1, 1024, 1, false, false),
            (2, 256, 3, true, false),
            (3, 256, 2, false, true),
            (16, 16, 16, true, true),
        ];
        for (m, k, n, ta, tb) in shapes {
            let a: Vec<F> = rng.vec(m * k, 1.0);
            let b: Vec<F> = rng.vec(k * n, 1.0);
            assert!(kernel_holds(&a, ta, &b, tb, m, k, n).is_finite());
            let pa: Vec<F> = a.iter().map(|x| x.abs()).collect();
            let pb: Vec<F> = b.iter().map(|x| x.abs()).collect();
            assert!(kernel_holds(&pa, ta, &pb, tb, m, k, n).is_finite());
        }
        // Near the overflow threshold: one product just below it is finite (and bounded), two
        // of them overflow (and the bound is +∞).
        let r = near_max_factor;
        assert!(kernel_holds(&[v(r)], false, &[v(r)], false, 1, 1, 1).is_finite());
        let two = F::gemm(&[v(r), v(r)], false, &[v(r), v(r)], false, 1, 2, 1);
        assert!(!two[0].is_finite(), "the test needs an overflowing product");
        kernel_holds(&[v(r), v(r)], false, &[v(r), v(r)], false, 1, 2, 1);
        // Products near and below the smallest subnormal.
        let a: Vec<F> = (0..8).map(|j| v(tiny * (1.0 + j as f64 / 128.0))).collect();
        let b: Vec<F> = (0..8).map(|j| v(tiny * (1.0 - j as f64 / 256.0))).collect();
        kernel_holds(&a, false, &b, false, 1, 8, 1);
        kernel_holds(&a, false, &b, true, 8, 1, 8);
    }

    /// The bound of one `Element::gemm` holds for bf16 and f16 (f32 accumulation, one rounding
    /// to the half format) on cancellation, long sums, the blocked kernel, overflow and
    /// underflow.
    #[test]
    fn half_kernel_bound_holds_on_adversarial_products() {
        adversarial_products::<bf16>(2f64.powi(40), 1.8e19, 2f64.powi(-68));
        adversarial_products::<f16>(2f64.powi(7), 255.0, 2f64.powi(-13));
    }

    /// A sum accumulated in the half format itself (each addition rounded to bf16, as the
    /// bias gradient of `linear_batch` is) is *not* covered by the one-gemm bound: 512 ones add
    /// up to 256 in bf16. The bound for any accumulation, `gemm_bound`, is `+∞` there (`512·u ≥ 1`
    /// for `u = 2⁻⁸`), and holds where it is finite.
    #[test]
    fn half_accumulation_needs_the_general_bound() {
        let ones = vec![bf16::ONE; 512];
        let native = left_fold_gemm(&ones, false, &ones, false, 1, 512, 1);
        assert_eq!(native[0].to_f32(), 256.0);
        let kernel = gemm_kernel_bound(&ones, false, 0.0, &ones, false, 0.0, 1, 512, 1);
        assert!(256.0 > kernel, "{kernel}");
        assert_eq!(
            gemm_bound(&ones, false, 0.0, &ones, false, 0.0, 1, 512, 1),
            f64::INFINITY
        );
        fn native_holds<F: RuntimeFloat>(k: usize, seed: u64) {
            let mut rng = Lcg(seed);
            let a: Vec<F> = rng.vec(2 * k, 3.0);
            let b: Vec<F> = rng.vec(k * 2, 3.0);
            let ones: Vec<F> = vec![F::one(); k];
            for (x, y, m, n) in [(&a, &b, 2, 2), (&a, &ones, 2, 1)] {
                let c = left_fold_gemm(x, false, y, false, m, k, n);
                let bound = gemm_bound(x, false, 0.0, y, false, 0.0, m, k, n);
                assert!(bound.is_finite(), "{:?} k = {k}", F::FORMAT);
                let err = product_error(x, false, y, false, &c, m, k, n).unwrap();
                assert!(err <= q(bound), "{:?} k = {k}", F::FORMAT);
            }
        }
        native_holds::<bf16>(60, 3);
        native_holds::<f16>(300, 4);
        native_holds::<f16>(1000, 5);
    }
}
