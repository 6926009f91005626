//! The fast paths of the enclosure mode's interval arithmetic against exact rational
//! arithmetic, on adversarial inputs: interval sums and differences (branch-free TwoSum
//! rounding, overflow, subnormals, infinities), and the midpoint-radius matrix product
//! `Interval::gemm` (point × point products with the Hölder-bounded rounding term, point ×
//! interval and interval × interval products with the `f32` radius products, every
//! transposition), with magnitudes from subnormal to near `f32::MAX`, exact zeros, heavy
//! cancellation and long inner products.
//!
//! Every check is containment of the exact value (computed over `Rational`, independently of
//! the library's interval code) for members of the operand intervals: the endpoints and the
//! midpoint of each operand entry. Random draws scale with `PROPTEST_CASES`.

#[path = "common/checks.rs"]
mod checks;

use checks::{cases, q};
use shapetape::approx::Interval;
use shapetape::rng::SplitMix64;
use shapetape::{Element, Rational};

/// Whether the interval contains the exact rational `x` (unbounded endpoints contain
/// everything on their side).
fn contains(iv: Interval, x: &Rational) -> bool {
    let below = iv.lo() == f64::NEG_INFINITY || (iv.lo().is_finite() && q(iv.lo()) <= *x);
    let above = iv.hi() == f64::INFINITY || (iv.hi().is_finite() && q(iv.hi()) >= *x);
    below && above
}

/// A finite `f64` of an adversarial kind: ordinary, huge (near `f64::MAX` or `f32::MAX`), tiny
/// (subnormal `f64`, near the `f32` normal threshold), zero, or an exact `f32` value.
fn draw(rng: &mut SplitMix64, kinds: &[u32]) -> f64 {
    let kind = kinds[(rng.uniform(0.0, kinds.len() as f64) as usize).min(kinds.len() - 1)];
    let sign = if rng.uniform(0.0, 1.0) < 0.5 {
        -1.0
    } else {
        1.0
    };
    let u = rng.uniform(1.0, 2.0);
    sign * match kind {
        0 => rng.uniform(0.0, 4.0),
        1 => u * 2f64.powi(1022),
        2 => u * 2f64.powi(-1070), // subnormal
        3 => 0.0,
        4 => (u as f32) as f64 * 2f64.powi(rng.uniform(-140.0, 127.0) as i32),
        5 => u * f64::from(f32::MAX) / 2.0,
        6 => u * 2f64.powi(-126),
        _ => rng.uniform(0.0, 1.0) * 2f64.powi(rng.uniform(-60.0, 60.0) as i32),
    }
}

/// An interval: a point, or `[x, x + w]` with a width of another magnitude.
fn draw_interval(rng: &mut SplitMix64, kinds: &[u32], points: f64) -> Interval {
    let x = draw(rng, kinds);
    if rng.uniform(0.0, 1.0) < points {
        return Interval::point(x);
    }
    let w = draw(rng, kinds).abs();
    let y = x + w;
    if y.is_finite() {
        Interval::new(x, y)
    } else {
        Interval::point(x)
    }
}

/// Sums and differences contain the exact sum and difference of every pair of endpoints,
/// including sums that overflow, cancel exactly, or are made of subnormals, and unbounded
/// operands give unbounded results on their side.
#[test]
fn interval_sums_contain_the_exact_sums() {
    let mut rng = SplitMix64::new(11);
    let kinds = [0, 1, 2, 3, 4, 7];
    for _ in 0..cases(256) * 40 {
        let (x, y) = (
            draw_interval(&mut rng, &kinds, 0.3),
            draw_interval(&mut rng, &kinds, 0.3),
        );
        let (s, d) = (x + y, x - y);
        assert!(s.lo() <= s.hi() && d.lo() <= d.hi(), "{x} {y}: {s} {d}");
        for a in [x.lo(), x.hi()] {
            for b in [y.lo(), y.hi()] {
                assert!(
                    contains(s, &(q(a) + q(b))),
                    "{x} + {y} = {s} misses {a} + {b}"
                );
                assert!(
                    contains(d, &(q(a) - q(b))),
                    "{x} - {y} = {d} misses {a} - {b}"
                );
            }
        }
        // Exact sums stay exact (TwoSum), e.g. adding the point 0.
        assert_eq!(x + Interval::point(0.0), x);
    }
    // The top binade: the sum overflows, or TwoSum's own s − a does.
    let big = Interval::point(f64::MAX);
    assert_eq!((big + big).hi(), f64::INFINITY);
    assert!((big + big).lo() >= f64::MAX);
    let t = Interval::point(3.0 * 2f64.powi(970)) + Interval::point(-f64::MAX);
    assert!(contains(t, &(q(3.0 * 2f64.powi(970)) - q(f64::MAX))), "{t}");
    // Unbounded operands.
    let half_line = Interval::new(f64::NEG_INFINITY, 1.0);
    let s = half_line + Interval::point(2.0);
    assert_eq!((s.lo(), s.hi()), (f64::NEG_INFINITY, 3.0));
    let s = Interval::ENTIRE + Interval::point(-2.0);
    assert_eq!((s.lo(), s.hi()), (f64::NEG_INFINITY, f64::INFINITY));
    let s = Interval::point(f64::INFINITY) + Interval::point(f64::NEG_INFINITY);
    assert_eq!((s.lo(), s.hi()), (f64::NEG_INFINITY, f64::INFINITY));
}

/// `op(A)` entry `(i, l)` of a `rows × cols` operand in the layout of `Element::gemm`.
fn at(x: &[Interval], rows: usize, cols: usize, t: bool, i: usize, l: usize) -> Interval {
    if t { x[l * rows + i] } else { x[i * cols + l] }
}

/// Checks `Interval::gemm` on the given operands: every output entry contains the exact
/// product for the lower endpoints, the upper endpoints and the midpoints of the operands.
#[allow(clippy::too_many_arguments)]
fn check_gemm(
    a: &[Interval],
    ta: bool,
    b: &[Interval],
    tb: bool,
    m: usize,
    k: usize,
    n: usize,
    what: &str,
) {
    let c = <Interval as Element>::gemm(a, ta, b, tb, m, k, n);
    assert_eq!(c.len(), m * n);
    let pick = |iv: Interval, w: usize| -> Rational {
        match w {
            0 => q(iv.lo()),
            1 => q(iv.hi()),
            _ => (q(iv.lo()) + q(iv.hi())) / Rational::from_integer(2.into()),
        }
    };
    for i in 0..m {
        for j in 0..n {
            for w in 0..3 {
                let mut exact = Rational::from_integer(0.into());
                for l in 0..k {
                    exact += pick(at(a, m, k, ta, i, l), w) * pick(at(b, k, n, tb, l, j), w);
                }
                let e = c[i * n + j];
                assert!(
                    contains(e, &exact),
                    "{what}: entry ({i}, {j}) = {e} misses the exact product ({w}) {}",
                    Element::to_f64(&exact)
                );
            }
        }
    }
}

/// The midpoint-radius product contains the exact product on adversarial matrices: point ×
/// point (the Hölder-bounded rounding term), point × interval, interval × point and interval
/// × interval, each transposition, with magnitudes across the `f32` range, subnormals, exact
/// zeros and cancellation. Sizes reach the blocked kernel (`m·k·n ≥ 4096`).
#[test]
fn midrad_products_contain_the_exact_products() {
    let mut rng = SplitMix64::new(5);
    // Magnitude mixes: ordinary, f32-range extremes, subnormal/zero-heavy, and one wide range
    // whose products cancel heavily.
    let mixes: [&[u32]; 4] = [&[0, 3], &[4, 5, 6, 3], &[2, 3, 6, 0], &[7, 7, 0]];
    let sizes = [(1, 1, 1), (3, 7, 2), (4, 64, 5), (16, 32, 9), (2, 300, 3)];
    for round in 0..cases(256).div_ceil(256) {
        for (mi, kinds) in mixes.iter().enumerate() {
            for &(m, k, n) in &sizes {
                for (pa, pb) in [(1.0, 1.0), (1.0, 0.2), (0.2, 1.0), (0.3, 0.3)] {
                    let ta = rng.uniform(0.0, 1.0) < 0.5;
                    let tb = rng.uniform(0.0, 1.0) < 0.5;
                    let a: Vec<Interval> = (0..m * k)
                        .map(|_| draw_interval(&mut rng, kinds, pa))
                        .collect();
                    let b: Vec<Interval> = (0..k * n)
                        .map(|_| draw_interval(&mut rng, kinds, pb))
                        .collect();
                    let what = format!(
                        "round {round}, mix {mi}, {m}×{k}×{n}, ta {ta}, tb {tb}, points {pa}/{pb}"
                    );
                    check_gemm(&a, ta, &b, tb, m, k, n, &what);
                }
            }
        }
    }
}

/// The products whose radius terms are bounded by Hölder's inequality instead of radius
/// products (what a pass of the enclosure mode does when the radii are negligible) contain the
/// exact product too: every product of the adversarial mixes above sent through that path
/// (a huge tolerance), and narrow intervals (widths near `2⁻⁴⁸` relative, the enclosures of a
/// certified graph) with the tolerance of an `f32` runtime.
#[test]
fn hoelder_radius_products_contain_the_exact_products() {
    let mut rng = SplitMix64::new(11);
    let mixes: [&[u32]; 4] = [&[0, 3], &[4, 5, 6, 3], &[2, 3, 6, 0], &[7, 7, 0]];
    let sizes = [(1, 1, 1), (3, 7, 2), (4, 64, 5), (16, 32, 9), (2, 300, 3)];
    let narrow = |rng: &mut SplitMix64, kinds: &[u32], points: f64| {
        let x = draw(rng, kinds);
        if rng.uniform(0.0, 1.0) < points {
            return Interval::point(x);
        }
        let w = x.abs() * 2f64.powi(-48) * rng.uniform(0.0, 4.0);
        Interval::new(x - w, x + w)
    };
    for round in 0..cases(256).div_ceil(256) {
        for (mi, kinds) in mixes.iter().enumerate() {
            for &(m, k, n) in &sizes {
                for (pa, pb) in [(1.0, 0.2), (0.2, 1.0), (0.3, 0.3)] {
                    let ta = rng.uniform(0.0, 1.0) < 0.5;
                    let tb = rng.uniform(0.0, 1.0) < 0.5;
                    let wide = rng.uniform(0.0, 1.0) < 0.5;
                    let (a, b): (Vec<Interval>, Vec<Interval>) = if wide {
                        let a = (0..m * k).map(|_| draw_interval(&mut rng, kinds, pa));
                        let a = a.collect();
                        let b = (0..k * n).map(|_| draw_interval(&mut rng, kinds, pb));
                        (a, b.collect())
                    } else {
                        let a = (0..m * k).map(|_| narrow(&mut rng, kinds, pa)).collect();
                        (a, (0..k * n).map(|_| narrow(&mut rng, kinds, pb)).collect())
                    };
                    let u = if wide { 1e300 } else { 2f64.powi(-24) };
                    let what = format!(
                        "Hölder radius, round {round}, mix {mi}, {m}×{k}×{n}, ta {ta}, tb {tb}, \
                         points {pa}/{pb}, wide {wide}"
                    );
                    shapetape::internal::with_runtime_unit(u, || {
                        check_gemm(&a, ta, &b, tb, m, k, n, &what)
                    });
                }
            }
        }
    }
}

/// Exact cancellation in a point product: `Σ (x·y − x·y)` over a long inner product is 0
/// exactly, and the enclosure must contain 0 although every term is large; the same with a
/// single tiny term left over, which the midpoint product alone would lose.
#[test]
fn point_products_cover_their_rounding_under_cancellation() {
    let mut rng = SplitMix64::new(9);
    for _ in 0..cases(256) {
        let k = 2 * (1 + rng.uniform(0.0, 60.0) as usize);
        let mut a = Vec::with_capacity(k);
        let mut b = Vec::with_capacity(k);
        for _ in 0..k / 2 {
            let x =
                (rng.uniform(-1.0, 1.0) as f32) as f64 * 2f64.powi(rng.uniform(0.0, 40.0) as i32);
            let y = (rng.uniform(-1.0, 1.0) as f32) as f64;
            a.extend([x, x]);
            b.extend([y, -y]);
        }
        // A leftover tiny term at the end.
        a.push(2f64.powi(-30));
        b.push(1.0);
        let k = a.len();
        let a: Vec<Interval> = a.into_iter().map(Interval::point).collect();
        let b: Vec<Interval> = b.into_iter().map(Interval::point).collect();
        check_gemm(&a, false, &b, false, 1, k, 1, "cancellation");
        // Repeated into a product big enough for the blocked kernel: every row of `a_big` is
        // `a` and both columns of `b_big` are `b` (all points), so every entry's exact value is
        // the one inner product `a·b`, computed once.
        let rows = 4096 / k + 1;
        let a_big: Vec<Interval> = (0..rows).flat_map(|_| a.iter().copied()).collect();
        let b_big: Vec<Interval> = b.iter().flat_map(|&v| [v, v]).collect();
        let exact = a
            .iter()
            .zip(&b)
            .map(|(x, y)| q(x.lo()) * q(y.lo()))
            .fold(Rational::from_integer(0.into()), |s, t| s + t);
        let c = <Interval as Element>::gemm(&a_big, false, &b_big, false, rows, k, 2);
        assert_eq!(c.len(), rows * 2);
        for (i, e) in c.iter().enumerate() {
            assert!(
                contains(*e, &exact),
                "cancellation, blocked: entry {i} = {e} misses {}",
                Element::to_f64(&exact)
            );
        }
    }
}

/// Non-finite and out-of-`f32`-range operands leave the fast path for the entrywise product,
/// and unbounded operands give unbounded entries, never a false finite one.
#[test]
fn non_finite_operands_give_unbounded_entries() {
    let ones = vec![Interval::point(1.0); 8];
    let mut a = ones.clone();
    a[3] = Interval::ENTIRE;
    let c = <Interval as Element>::gemm(&a, false, &ones, false, 1, 8, 1);
    assert_eq!((c[0].lo(), c[0].hi()), (f64::NEG_INFINITY, f64::INFINITY));
    // Beyond f32's range: the exact product must still be inside.
    let huge: Vec<Interval> = (0..8)
        .map(|i| Interval::point(1e300 * (i as f64 - 3.5)))
        .collect();
    check_gemm(&huge, false, &ones, false, 1, 8, 1, "beyond f32");
    // Overflowing midpoint product: the whole line or a containing interval.
    let top = vec![Interval::point(f64::MAX); 4];
    let c = <Interval as Element>::gemm(&top, false, &top, false, 1, 4, 1);
    assert_eq!(c[0].hi(), f64::INFINITY);
}
