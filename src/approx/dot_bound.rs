//! A-priori error bounds for matrix products, valid for any summation order.
//!
//! For `C = op(A) · op(B)` with an inner dimension `k`, spec operands within `εA`, `εB` (L∞)
//! of the runtime operands `Â`, `B̂`, and `Ĉ` the runtime product computed by any algorithm
//! that forms each entry as a sum of the `k` rounded (or fused) products in some order — the
//! blocked SGEMM/DGEMM included — every entry satisfies
//!
//! ```text
//! |C_spec − Ĉ|ᵢⱼ ≤ εA · Σₗ (|b̂ₗⱼ| + εB) + εB · Σₗ |âᵢₗ|      (input errors)
//!               + γₖ · Σₗ |âᵢₗ| |b̂ₗⱼ| + k · 2^e_min           (rounding, Higham §3.1)
//! ```
//!
//! with `γₖ = k·u / (1 − k·u)`, `u = 2^−p` the unit roundoff of the runtime format and the last
//! term covering underflow (each of the at most `2k` operations errs by at most half the
//! subnormal spacing). The slot bound takes the maximum over entries, bounding
//! `Σₗ |âᵢₗ||b̂ₗⱼ|` by Hölder's inequality from row sums and maxima, so the whole bound costs
//! `O(m·k + k·n)` instead of a second matrix product.

use crate::approx::round::{RuntimeFloat, add_up, div_up, mul_up, norm_max, sanitize};

/// `2^k` exactly, also in the subnormal range (where `2f64.powi(k)` would underflow to 0).
fn pow2(k: i32) -> f64 {
    if k >= -1022 {
        2f64.powi(k)
    } else {
        f64::from_bits(1u64 << (k + 1074).clamp(0, 51))
    }
}

/// `γₖ = k·u / (1 − k·u)` for the runtime format `F`, rounded upward (`+∞` if `k·u ≥ 1`).
pub(crate) fn gamma<F: RuntimeFloat>(k: usize) -> f64 {
    let u = 2f64.powi(-F::PRECISION);
    let ku = mul_up(k as f64, u);
    if ku >= 1.0 {
        return f64::INFINITY;
    }
    let one_minus = -add_up(ku, -1.0); // 1 − ku, rounded downward
    div_up(ku, one_minus)
}

/// The maximum over lines of `Σ |entries|` (rounded upward) and the maximum `|entry|` of
/// `op(X)` read along the summed axis: for `op(A)` (`m×k`) the lines are its rows, for `op(B)`
/// (`k×n`) its columns. NaN entries, and line sums that overflow the format, count as `+∞`.
///
/// Each line is summed in the runtime format `F` itself, in any order, and then inflated: for
/// `n` nonnegative terms the computed sum `ŝ` satisfies `|ŝ − s| ≤ γₙ₋₁ s` whatever the order
/// of the additions (adding nonnegative numbers never loses accuracy to underflow), so
/// `s ≤ ŝ / (1 − γₙ) ≤ ŝ (1 + 2γₙ)` with the `γ` of `F`. One cheap pass, at the width of `F`
/// (four f32 per SSE register), instead of a directed rounding per term.
fn line_stats<F: RuntimeFloat>(
    data: &[F],
    lines: usize,
    len: usize,
    contiguous: bool,
) -> (f64, f64) {
    let inflate = add_up(1.0, mul_up(2.0, gamma::<F>(len)));
    let zero = F::zero();
    let larger = |m: F, v: F| if v > m { v } else { m };
    // NaN entries make their line's sum NaN (sanitised to +∞ below), so `larger` may skip them.
    let mut max_sum = 0.0f64;
    let mut max_abs = zero;
    let mut take_sum = |s: F| max_sum = max_sum.max(sanitize(mul_up(s.to_f64_exact(), inflate)));
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
                let (a0, a1, a2, a3) = (r0[i].abs(), r1[i].abs(), r2[i].abs(), r3[i].abs());
                sums[i] = sums[i] + ((a0 + a1) + (a2 + a3));
                maxes[i] = larger(larger(maxes[i], larger(a0, a1)), larger(a2, a3));
            }
        }
        let rows = data.chunks_exact(width).take(len);
        for row in rows.skip(4 * full) {
            for ((sum, max), v) in sums.iter_mut().zip(maxes.iter_mut()).zip(row) {
                let v = v.abs();
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

/// `(Σ |xᵢ|, max |xᵢ|)` of one line in eight interleaved partial sums, in the format `F` (the
/// summation order does not matter to the `γₙ` bound, and independent lanes let the loop
/// vectorise).
fn abs_sum_max<F: RuntimeFloat>(line: &[F]) -> (F, F) {
    const L: usize = 8;
    let zero = F::zero();
    let (mut sums, mut maxes) = ([zero; L], [zero; L]);
    let chunks = line.chunks_exact(L);
    let rest = chunks.remainder();
    for chunk in chunks {
        for j in 0..L {
            let v = chunk[j].abs();
            sums[j] = sums[j] + v;
            maxes[j] = if v > maxes[j] { v } else { maxes[j] };
        }
    }
    for (j, v) in rest.iter().enumerate() {
        let v = v.abs();
        sums[j] = sums[j] + v;
        maxes[j] = if v > maxes[j] { v } else { maxes[j] };
    }
    let sum = sums.iter().fold(zero, |acc, &v| acc + v);
    let max = maxes.iter().fold(zero, |m, &v| if v > m { v } else { m });
    (sum, max)
}

/// The bound of the module docs for `op(A) · op(B)` (`op(A)`: `m×k`, `op(B)`: `k×n`, storage as
/// in [`Element::gemm`](crate::Element::gemm)).
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
    let g = gamma::<F>(k);
    if add_up(abs_products, mul_up(g, abs_products)) >= F::MAX_FINITE {
        return f64::INFINITY; // a partial sum may overflow
    }
    let underflow = mul_up(kf, pow2(F::MIN_EXP));
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
        crate::approx::round::half_ulp::<F>(m.next_up())
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
}
