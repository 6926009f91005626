//! Scalar element types.
//!
//! Mathematically a tensor entry lives in a commutative ring with division where needed
//! (ℚ or ℝ). [`Element`] is the scalar trait every tensor is generic over: it is implemented
//! for `f32`, `f64`, the half-precision `half::bf16` and `half::f16`, and the exact rational
//! type [`Rational`] (arbitrary precision, so the algebraic laws of the crate can be checked
//! with `==`). [`Real`] adds the transcendental functions (`exp`, `ln`, `tanh`, …) that only
//! the floating-point types provide.
//!
//! **Half precision.** `bf16` and `f16` compute every operation in `f32` and round the result
//! once to the half format (round to nearest, ties to even): `+ − × ÷` and `√` are then the
//! correctly rounded half results (`f32` has `24 ≥ 2p + 2` significand bits, see
//! [`approx::round`](crate::approx::round)); `exp`, `exp_m1`, `ln`, `ln_1p` and `tanh` are the
//! platform's `f32` functions rounded to the format. Matrix products ([`Element::gemm`])
//! accumulate in `f32` and round each entry once at the end, as tensor cores do.

use core::fmt::{Debug, Display};
use core::ops::{Add, Div, Mul, Neg, Sub};

use num_traits::{One, Signed, Zero};

/// Exact arbitrary-precision rational numbers (`num_rational::BigRational`).
///
/// Used as the scalar in exact law checks: `+` and `*` never round, so equalities such as
/// `⟨x, y + z⟩ = ⟨x, y⟩ + ⟨x, z⟩` hold with `==`.
pub type Rational = num_rational::BigRational;

/// The scalar trait: the entries of every tensor.
///
/// An `Element` is a (computer model of a) field: `+ − × ÷`, negation, `0`, `1`, an order
/// (for `relu`, `max`) and an exact embedding of small integers. Arithmetic is by value; for
/// `f32`/`f64` cloning is free, for [`Rational`] it allocates.
///
/// ```
/// use shapetape::Element;
/// fn square_plus_one<A: Element>(x: A) -> A { x.clone() * x + A::one() }
/// assert_eq!(square_plus_one(3.0_f32), 10.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tensor element type",
    label = "tensors hold `f32`, `f64`, `half::bf16`, `half::f16` or `shapetape::Rational` entries",
    note = "implement `shapetape::Element` for your scalar type to use it in tensors"
)]
pub trait Element:
    Clone
    + PartialEq
    + PartialOrd
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// The additive identity `0`.
    fn zero() -> Self;
    /// The multiplicative identity `1`.
    fn one() -> Self;
    /// The integer `n`, exactly when representable (always for [`Rational`]).
    fn from_i64(n: i64) -> Self;
    /// `|x|`.
    fn abs(&self) -> Self;
    /// A finite-precision approximation used for reporting (exact for `f32`/`f64`).
    fn to_f64(&self) -> f64;

    /// Whether `self` is the zero that a seed slot starts from, `+0` (not `−0`): then
    /// `self + x` and `x + self` are the same value for every `x`. Used to store all-zero seed
    /// slots sparsely; the default `false` is always correct (the slot is then kept dense).
    fn is_positive_zero(&self) -> bool {
        false
    }

    /// `max(self, other)`. Ops use this instead of branching on `>` so that set-valued scalars
    /// (intervals, used for error bounds) take both branches into account.
    fn elem_max(&self, other: &Self) -> Self {
        if other > self {
            other.clone()
        } else {
            self.clone()
        }
    }

    /// The Heaviside step `H(x) = 1` for `x > 0` and `0` otherwise (so `H(0) = 0`): the
    /// derivative of `max(x, 0)` as the ops use it.
    fn heaviside(&self) -> Self {
        if *self > Self::zero() {
            Self::one()
        } else {
            Self::zero()
        }
    }

    /// The matrix product `C = op(A) · op(B)`, row-major, with `op(A)` of size `m×k` and
    /// `op(B)` of size `k×n`; `A` is stored `k×m` and transposed when `ta` (likewise `B`,
    /// stored `n×k`, when `tb`). Every matrix op of the library goes through this kernel.
    ///
    /// The default computes each entry as Lean's left fold `((0 + a₀b₀) + a₁b₁) + …` in index
    /// order; `Rational` keeps it. `f32` and `f64` use the blocked kernels of `matrixmultiply`
    /// (through ndarray) once `m·k·n ≥ 4096`, which sum in another order; error bounds measure
    /// the runtime result, so they do not depend on the order. `bf16` and `f16` widen their
    /// operands to `f32` (exactly), multiply there with the `f32` kernel and round every entry
    /// once to the half format ([`RuntimeFloat::Accumulator`](crate::approx::RuntimeFloat::Accumulator)).
    fn gemm(a: &[Self], ta: bool, b: &[Self], tb: bool, m: usize, k: usize, n: usize) -> Vec<Self> {
        left_fold_gemm(a, ta, b, tb, m, k, n)
    }

    /// Runs `f`, a loop over entries of this type: `f32` and `f64` compile it a second time for
    /// AVX2 and choose at run time (`src/simd.rs`; the same values); other types call it. Only
    /// the two vectorisable types pay for the second compilation.
    #[doc(hidden)]
    #[inline(always)]
    fn vectorized<R>(f: impl FnOnce() -> R) -> R
    where
        Self: Sized,
    {
        f()
    }
}

/// `C = op(A) · op(B)` with every entry the left fold `((0 + a₀b₀) + a₁b₁) + …` (Lean's `dot`).
pub fn left_fold_gemm<A: Element>(
    a: &[A],
    ta: bool,
    b: &[A],
    tb: bool,
    m: usize,
    k: usize,
    n: usize,
) -> Vec<A> {
    let at = |i: usize, l: usize| if ta { &a[l * m + i] } else { &a[i * k + l] };
    let bt = |l: usize, j: usize| if tb { &b[j * k + l] } else { &b[l * n + j] };
    // Row by row, a row of accumulators: entry (i, j) still receives a_{i0} b_{0j}, then
    // a_{i1} b_{1j}, … in order (the same left fold, bit for bit), and the inner loop over j
    // runs along contiguous memory when B is not transposed, so it vectorises.
    let mut c = vec![A::zero(); m * n];
    for i in 0..m {
        let row = &mut c[i * n..(i + 1) * n];
        for l in 0..k {
            let ail = at(i, l);
            if tb {
                for (j, acc) in row.iter_mut().enumerate() {
                    *acc = acc.clone() + ail.clone() * bt(l, j).clone();
                }
            } else {
                for (acc, blj) in row.iter_mut().zip(&b[l * n..(l + 1) * n]) {
                    *acc = acc.clone() + ail.clone() * blj.clone();
                }
            }
        }
    }
    c
}

/// Products at least this large (`m·k·n`) go to the blocked kernel for `f32`/`f64`.
const BLOCKED_GEMM_MIN: usize = 4096;

/// `op(X)` as a `rows×cols` view of `data` (stored `cols×rows` and transposed when `t`).
pub(crate) fn gemm_view<T>(
    data: &[T],
    rows: usize,
    cols: usize,
    t: bool,
) -> ndarray::ArrayView2<'_, T> {
    use ndarray::ArrayView2;
    let v = if t {
        ArrayView2::from_shape((cols, rows), data)
    } else {
        ArrayView2::from_shape((rows, cols), data)
    };
    let v = v.expect("gemm operand lengths are fixed by the shapes");
    if t { v.reversed_axes() } else { v }
}

/// `op(A) · op(B)` through ndarray's `dot` (matrixmultiply's SGEMM/DGEMM).
fn blocked_gemm<T>(a: &[T], ta: bool, b: &[T], tb: bool, m: usize, k: usize, n: usize) -> Vec<T>
where
    T: ndarray::LinalgScalar,
{
    let c = gemm_view(a, m, k, ta).dot(&gemm_view(b, k, n, tb));
    if c.is_standard_layout() {
        c.into_raw_vec_and_offset().0
    } else {
        c.iter().copied().collect()
    }
}

macro_rules! impl_element_float {
    ($($t:ty),*) => {$(
        impl Element for $t {
            fn gemm(a: &[Self], ta: bool, b: &[Self], tb: bool, m: usize, k: usize, n: usize) -> Vec<Self> {
                if m * k * n >= BLOCKED_GEMM_MIN {
                    blocked_gemm(a, ta, b, tb, m, k, n)
                } else {
                    left_fold_gemm(a, ta, b, tb, m, k, n)
                }
            }
            #[inline(always)]
            fn vectorized<R>(f: impl FnOnce() -> R) -> R { crate::simd::vectorized(f) }
            #[inline]
            fn zero() -> Self { 0.0 }
            #[inline]
            fn one() -> Self { 1.0 }
            #[inline]
            fn from_i64(n: i64) -> Self { n as $t }
            #[inline]
            fn abs(&self) -> Self { <$t>::abs(*self) }
            #[inline]
            fn to_f64(&self) -> f64 { *self as f64 }
            #[inline]
            fn is_positive_zero(&self) -> bool { self.to_bits() == 0 }
        }
    )*};
}
impl_element_float!(f32, f64);

impl Element for Rational {
    fn zero() -> Self {
        <Rational as Zero>::zero()
    }
    fn one() -> Self {
        <Rational as One>::one()
    }
    fn from_i64(n: i64) -> Self {
        Rational::from_integer(n.into())
    }
    fn abs(&self) -> Self {
        Signed::abs(self)
    }
    fn is_positive_zero(&self) -> bool {
        Zero::is_zero(self)
    }
    fn to_f64(&self) -> f64 {
        num_traits::ToPrimitive::to_f64(self).unwrap_or(f64::NAN)
    }
}

/// `x` rounded to `f32` by *round to odd*: toward zero, then the last significand bit set if
/// the rounding was inexact. Rounding that to nearest in a format whose grid is at least two
/// bits coarser than `f32`'s over its whole range (bf16: 8 bits, subnormal spacing `2^−133`
/// against `2^−149`; f16: 11 bits, `2^−24`) gives the nearest value of `x` itself, ties to even
/// (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms using
/// rounding to odd", 2008). Plain `x as f32` followed by a second rounding would not: `x` just
/// above a half-format midpoint may round onto it and then to even, below `x`.
fn f64_to_f32_odd(x: f64) -> f32 {
    let r = x as f32;
    let rf = f64::from(r);
    if rf == x || x.is_nan() {
        return r;
    }
    // Toward zero: one step back when `x as f32` rounded away from zero (also from ±∞ to ±MAX).
    let t = if rf.abs() > x.abs() {
        f32::from_bits(r.to_bits() - 1)
    } else {
        r
    };
    f32::from_bits(t.to_bits() | 1)
}

/// `op(A) · op(B)` of half-precision matrices: the operands widened to `f32` (exact), the `f32`
/// kernel ([`Element::gemm`] of `f32`), and every entry rounded once to the half format.
fn widened_gemm<H: Copy>(
    a: &[H],
    ta: bool,
    b: &[H],
    tb: bool,
    (m, k, n): (usize, usize, usize),
    widen: fn(H) -> f32,
    narrow: fn(f32) -> H,
) -> Vec<H> {
    let a32: Vec<f32> = a.iter().map(|&v| widen(v)).collect();
    let b32: Vec<f32> = b.iter().map(|&v| widen(v)).collect();
    <f32 as Element>::gemm(&a32, ta, &b32, tb, m, k, n)
        .into_iter()
        .map(narrow)
        .collect()
}

macro_rules! impl_half {
    ($($t:ty),*) => {$(
        impl Element for $t {
            fn gemm(a: &[Self], ta: bool, b: &[Self], tb: bool, m: usize, k: usize, n: usize) -> Vec<Self> {
                widened_gemm(a, ta, b, tb, (m, k, n), <$t>::to_f32, <$t>::from_f32)
            }
            #[inline]
            fn zero() -> Self { <$t>::ZERO }
            #[inline]
            fn one() -> Self { <$t>::ONE }
            #[inline]
            fn from_i64(n: i64) -> Self { <Self as Real>::from_f64(n as f64) }
            #[inline]
            fn abs(&self) -> Self { <$t>::from_bits(self.to_bits() & 0x7fff) }
            #[inline]
            fn to_f64(&self) -> f64 { f64::from(self.to_f32()) }
            #[inline]
            fn is_positive_zero(&self) -> bool { self.to_bits() == 0 }
        }

        impl Real for $t {
            #[inline] fn exp(self) -> Self { <$t>::from_f32(self.to_f32().exp()) }
            #[inline] fn exp_m1(self) -> Self { <$t>::from_f32(self.to_f32().exp_m1()) }
            #[inline] fn ln(self) -> Self { <$t>::from_f32(self.to_f32().ln()) }
            #[inline] fn ln_1p(self) -> Self { <$t>::from_f32(self.to_f32().ln_1p()) }
            #[inline] fn tanh(self) -> Self { <$t>::from_f32(self.to_f32().tanh()) }
            #[inline] fn sqrt(self) -> Self { <$t>::from_f32(self.to_f32().sqrt()) }
            #[inline] fn max(self, other: Self) -> Self {
                <$t>::from_f32(self.to_f32().max(other.to_f32()))
            }
            #[inline] fn is_finite(self) -> bool { <$t>::is_finite(self) }
            #[inline] fn from_f64(x: f64) -> Self { <$t>::from_f32(f64_to_f32_odd(x)) }
            const EPSILON: Self = <$t>::EPSILON;
        }
    )*};
}
impl_half!(half::bf16, half::f16);

/// Floating-point scalars: an [`Element`] with the transcendental functions of ℝ.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `exp`, `ln` or `tanh`: this op needs a real scalar",
    label = "not a real scalar",
    note = "ops with transcendental functions run at `f32`, `f64`, `half::bf16`, `half::f16` and, for certified bounds, `Interval`; an exact `Rational` graph or spec cannot run them (use `f64` as the spec scalar)"
)]
///
/// Each method is the platform's `std` implementation (e.g. `f32::ln`; for `bf16` and `f16`
/// the `f32` one, rounded to the half format), except `exp` at `f32`: the crate's own, which
/// vectorises (within 1.03 ulp, see `exp_f32` in `src/scalar.rs`). Their accuracy is
/// measured, not something this crate proves or assumes.
pub trait Real: Element + Copy {
    /// `eˣ`.
    fn exp(self) -> Self;
    /// `eˣ − 1`, accurate also for `|x| ≪ 1`.
    fn exp_m1(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// `ln(1 + x)`, accurate also for `|x| ≪ 1`.
    fn ln_1p(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// The larger of two values (IEEE `maxNum`: a NaN operand loses).
    fn max(self, other: Self) -> Self;
    /// Whether the value is neither NaN nor ±∞.
    fn is_finite(self) -> bool;
    /// The nearest value of this type to `x` (round to nearest, ties to even).
    fn from_f64(x: f64) -> Self;
    /// Machine epsilon of the type (the gap between 1 and the next value).
    const EPSILON: Self;
}

/// The error function `erf x = 2/√π ∫₀ˣ e^{−t²} dt` at a [`Real`] scalar (the exact form of
/// GELU, `ops::gelu_erf`, and `ops::erf` need it). Implemented in this crate for `f32`, `f64`,
/// `half::bf16`, `half::f16` (an `f64` evaluation within 1 ulp, rounded once to the
/// format) and for the enclosures `Interval` and `Ball` (see `approx::special`).
pub trait Erf: Real {
    /// `erf self`.
    fn erf(self) -> Self;
}

macro_rules! impl_real {
    ($($t:ty => $exp:path),*) => {$(
        impl Real for $t {
            #[inline(always)] fn exp(self) -> Self { $exp(self) }
            #[inline] fn exp_m1(self) -> Self { <$t>::exp_m1(self) }
            #[inline] fn ln(self) -> Self { <$t>::ln(self) }
            #[inline] fn ln_1p(self) -> Self { <$t>::ln_1p(self) }
            #[inline] fn tanh(self) -> Self { <$t>::tanh(self) }
            #[inline] fn sqrt(self) -> Self { <$t>::sqrt(self) }
            #[inline] fn max(self, other: Self) -> Self { <$t>::max(self, other) }
            #[inline] fn is_finite(self) -> bool { <$t>::is_finite(self) }
            #[inline] fn from_f64(x: f64) -> Self { x as $t }
            const EPSILON: Self = <$t>::EPSILON;
        }
    )*};
}
// `f32` has its own vectorisable `exp` (the platform's `expf` is one call per entry).
impl_real!(f32 => exp_f32, f64 => f64::exp);

/// `eˣ` in `f32`, written to be inlined and vectorised (the platform's `expf` is a call per
/// entry): Cody–Waite reduction `x = n ln 2 + r`, `|r| ≤ ln 2 / 2`, `eʳ = 1 + (r + r² q(r))`
/// with `q` the Taylor polynomial of degree 5 of `(eʳ − 1 − r)/r²`, and the scaling by `2ⁿ` in
/// two exact steps (so subnormal results round once). Branch-free, plain `+ − × ÷` (no FMA: the
/// same bits on every x86-64 CPU, vectorised or not). NaN gives NaN, `+∞` and `x > 88.722839`
/// give `+∞`, `−∞` and `x < −103.97` give `0`. Within 1.025 ulp of `eˣ` at every `f32` (measured
/// exhaustively against `f64::exp`; `tests/libm_accuracy.rs` samples it); not assumed by
/// any bound (the runtime's values are measured against enclosures).
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = core::f32::consts::LOG2_E;
    // ln 2 = LN2_HI + LN2_LO with LN2_HI on 9 bits, so n · LN2_HI is exact for |n| ≤ 2¹⁵.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 · 2²³: adding it rounds to an integer held in the low mantissa bits.
    const SHIFT: f32 = 12_582_912.0;
    // `clamp` passes NaN through (it propagates below).
    let xc = x.clamp(-104.0, 89.0);
    let t = xc * LOG2E + SHIFT;
    let n = t - SHIFT;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    let q = 0.5
        + r * (1.0 / 6.0
            + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))));
    let p = 1.0 + (r + r * r * q);
    // n ∈ [−150, 129] as an integer, split in two halves whose powers of two are normal.
    let ni = (t.to_bits() as i32).wrapping_sub(SHIFT.to_bits() as i32);
    let n1 = ni >> 1;
    let n2 = ni.wrapping_sub(n1);
    let pow2 = |k: i32| f32::from_bits((k.wrapping_add(127) as u32).wrapping_shl(23));
    p * pow2(n1) * pow2(n2)
}
