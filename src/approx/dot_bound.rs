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
/// (`k×n`) its columns. NaN entries count as `+∞`.
///
/// Each line is summed in plain `f64` and then inflated: for `n` nonnegative terms the
/// computed sum `ŝ` satisfies `|ŝ − s| ≤ γₙ₋₁ s` (additions of nonnegative numbers never lose
/// accuracy to underflow), so `s ≤ ŝ / (1 − γₙ) ≤ ŝ (1 + 2γₙ)`. This is one cheap pass instead
/// of a directed rounding per term.
fn line_stats<F: RuntimeFloat>(
    data: &[F],
    lines: usize,
    len: usize,
    contiguous: bool,
) -> (f64, f64) {
    let inflate = add_up(1.0, mul_up(2.0, gamma::<f64>(len)));
    // NaN entries make their line's sum NaN (sanitised to +∞ below), so `max` may skip them.
    let mut sums = vec![0.0f64; lines];
    let mut max_abs = 0.0f64;
    if contiguous {
        // line i is data[i·len .. (i + 1)·len]
        for (sum, line) in sums.iter_mut().zip(data.chunks(len.max(1))) {
            let (s, m) = abs_sum_max(line);
            *sum = s;
            max_abs = max_abs.max(m);
        }
    } else {
        // entry l of line i is data[l·lines + i]: sweep the storage row by row, one
        // accumulator per line (independent, so the loop vectorises)
        let mut maxes = vec![0.0f64; lines];
        for row in data.chunks(lines.max(1)).take(len) {
            for ((sum, max), v) in sums.iter_mut().zip(maxes.iter_mut()).zip(row) {
                let v = v.to_f64_exact().abs();
                *sum += v;
                *max = if v > *max { v } else { *max };
            }
        }
        max_abs = maxes.into_iter().fold(0.0, f64::max);
    }
    let max_sum = sums
        .into_iter()
        .fold(0.0f64, |m, s| m.max(sanitize(mul_up(s, inflate))));
    if max_sum == f64::INFINITY {
        // a NaN or an overflow: no finite bound (and no finite max may be reported for NaN)
        return (f64::INFINITY, f64::INFINITY);
    }
    (max_sum, max_abs)
}

/// `(Σ |xᵢ|, max |xᵢ|)` of one line in eight interleaved partial sums (the summation order
/// does not matter to the `γₙ` bound, and independent lanes let the loop vectorise).
fn abs_sum_max<F: RuntimeFloat>(line: &[F]) -> (f64, f64) {
    const L: usize = 8;
    let (mut sums, mut maxes) = ([0.0f64; L], [0.0f64; L]);
    let chunks = line.chunks_exact(L);
    let rest = chunks.remainder();
    for chunk in chunks {
        for j in 0..L {
            let v = chunk[j].to_f64_exact().abs();
            sums[j] += v;
            maxes[j] = if v > maxes[j] { v } else { maxes[j] };
        }
    }
    for (j, v) in rest.iter().enumerate() {
        let v = v.to_f64_exact().abs();
        sums[j] += v;
        maxes[j] = if v > maxes[j] { v } else { maxes[j] };
    }
    (sums.iter().sum(), maxes.iter().copied().fold(0.0, f64::max))
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
        let (rows, _) = line_stats(&m, 2, 2, true);
        let (cols, _) = line_stats(&m, 2, 2, false);
        assert!((7.0..7.0 + 1e-12).contains(&rows), "{rows}");
        assert!((6.0..6.0 + 1e-12).contains(&cols), "{cols}");
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
