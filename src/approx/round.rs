//! The rounding model and sound (upward-rounded) bound arithmetic.
//!
//! **Rounding model** (TorchLean's `NF`, `Floats/NeuralFloat/Rounding/Core.lean` and
//! `Proofs/RuntimeApprox/Rounding/RoundingApprox.lean`): a runtime operation computes the exact
//! real result and rounds it once to nearest, ties to even, with an unbounded exponent range.
//! The rounding error is at most `u(z) = ulp(z)/2`, where for a format with `p` significand
//! bits and smallest subnormal `2^q`, `ulp(z) = 2^max(mag z − p, q)` and
//! `mag z = ⌊log₂|z|⌋ + 1`. For FP32 (`p = 24`, `q = −149`) this is Lean's
//! `fexp32 = FLTExp(−149, 24)`; at `z = 0` we take `ulp(0) = 2^q` (the newer Lean
//! convention; the version at commit 411682f used `2^−24`, which is looser). Lean's model has
//! no overflow; here `u(z) = +∞` from the largest finite value of the format on, so that a
//! result that may overflow never gets a finite bound.
//!
//! **Formats.** A [`BinaryFormat`] is the one description of a format, `p` and the normal
//! exponent range `[e_min, e_max]`; `q = e_min − p + 1`, the unit roundoff `2^−p` and the
//! overflow threshold are derived from it. [`RuntimeFloat::FORMAT`] gives the format of each
//! runtime type: binary64 (`p = 53`, `q = −1074`), binary32 (`24`, `−149`), IEEE binary16
//! (`half::f16`: `11`, `−24`, largest finite `65504`) and bfloat16 (`half::bf16`: `8`, `−133`,
//! largest finite `≈ 3.39·10³⁸`).
//!
//! **Half-precision arithmetic.** `bf16` and `f16` compute `+ − × ÷ √` in `f32` and round the
//! result to the half format. That is the correctly rounded half result, so the model above
//! holds with the half format's `u`: `f32` has `24 ≥ 2p + 2` significand bits (`p = 8` or
//! `11`), and double rounding through such a format is innocuous for these five operations
//! (Figueroa 1995); in bf16's subnormal range, where `f32` is subnormal too, sums are exact and
//! products and quotients cannot fall within `2^−150` of a bf16 rounding boundary they are not
//! on (`tests/half.rs` checks all five against exact rational rounding). `exp`, `tanh`, `ln`,
//! `ln_1p` and `exp_m1` are the platform's `f32` functions rounded to the half format: the
//! interval-enclosure bounds of the ops using them measure the runtime value and assume
//! nothing about its accuracy (see TRUST.md, "Half precision", for the one closed form that
//! does).
//!
//! **Bound arithmetic.** Bounds are `f64` numbers that must never be smaller than the
//! real-number formula they stand for. Every helper here rounds its result *upward*: sums
//! and products are computed with an error-free transformation (TwoSum, FMA) and bumped to
//! the next `f64` only when the rounded result lies below the exact one, so exact steps
//! (like adding 0) cost nothing. Any NaN becomes `+∞`: a bound is never a false finite
//! number.

/// A binary floating-point format: `p` significand bits (the leading one included) and the
/// exponent range `[e_min, e_max]` of its normal numbers. Its finite values are `±m·2^(e−p+1)`
/// with integers `0 ≤ m < 2^p` and `e_min ≤ e ≤ e_max` (`m ≥ 2^(p−1)` unless `e = e_min`:
/// the subnormals), so the rounding model's parameters all follow from these three numbers:
/// the unit roundoff `u = 2^−p`, the subnormal spacing `2^(e_min−p+1)` (the smallest `ulp`) and
/// the largest finite value `(2 − 2^(1−p))·2^e_max`, beyond which a result overflows.
///
/// ```
/// use shapetape::approx::round::BinaryFormat;
/// let f16 = BinaryFormat::BINARY16;
/// assert_eq!(f16.unit_roundoff(), 2f64.powi(-11));
/// assert_eq!(f16.subnormal_exp(), -24);
/// assert_eq!(f16.max_finite(), 65504.0);
/// assert_eq!(BinaryFormat::BFLOAT16.max_finite(), f64::from(half::bf16::MAX.to_f32()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BinaryFormat {
    precision: i32,
    emin: i32,
    emax: i32,
}

impl BinaryFormat {
    /// bfloat16: `p = 8`, the exponent range of binary32 (`−126 … 127`).
    pub const BFLOAT16: BinaryFormat = BinaryFormat::new(8, -126, 127);
    /// IEEE binary16 (`half::f16`): `p = 11`, exponents `−14 … 15`.
    pub const BINARY16: BinaryFormat = BinaryFormat::new(11, -14, 15);
    /// IEEE binary32 (`f32`): `p = 24`, exponents `−126 … 127`.
    pub const BINARY32: BinaryFormat = BinaryFormat::new(24, -126, 127);
    /// IEEE binary64 (`f64`): `p = 53`, exponents `−1022 … 1023`.
    pub const BINARY64: BinaryFormat = BinaryFormat::new(53, -1022, 1023);

    /// The format with `precision` significand bits and normal exponents `emin ..= emax`.
    ///
    /// # Panics
    ///
    /// If the format does not fit in `f64` (the type of every bound): unless
    /// `2 ≤ precision ≤ 53`, `emin ≤ emax ≤ 1023` and `emin − precision + 1 ≥ −1074`. In a
    /// `const` item that is a compile-time error.
    #[must_use]
    pub const fn new(precision: i32, emin: i32, emax: i32) -> BinaryFormat {
        assert!(
            2 <= precision && precision <= 53,
            "BinaryFormat: the precision must be between 2 and 53 bits"
        );
        assert!(
            emin <= emax && emax <= 1023,
            "BinaryFormat: the exponent range must satisfy emin <= emax <= 1023"
        );
        assert!(
            emin - precision + 1 >= -1074,
            "BinaryFormat: the subnormal spacing 2^(emin - precision + 1) must be at least 2^-1074"
        );
        BinaryFormat {
            precision,
            emin,
            emax,
        }
    }

    /// Significand bits `p`, including the leading one (24 for f32).
    #[must_use]
    pub const fn precision(self) -> i32 {
        self.precision
    }

    /// Exponent of the smallest normal value, `2^e_min` (−126 for f32).
    #[must_use]
    pub const fn emin(self) -> i32 {
        self.emin
    }

    /// Exponent of the largest binade, `2^e_max ≤ max_finite < 2^(e_max+1)` (127 for f32).
    #[must_use]
    pub const fn emax(self) -> i32 {
        self.emax
    }

    /// The exponent of the smallest subnormal, `e_min − p + 1`: the `ulp` of every value below
    /// `2^e_min`, and the floor of `ulp` everywhere (−149 for f32, −1074 for f64).
    #[must_use]
    pub const fn subnormal_exp(self) -> i32 {
        self.emin - self.precision + 1
    }

    /// The unit roundoff `u = 2^−p`: the relative error bound of rounding to nearest in the
    /// normal range.
    #[must_use]
    pub const fn unit_roundoff(self) -> f64 {
        f64::from_bits(((1023 - self.precision) as u64) << 52)
    }

    /// The largest finite value `(2 − 2^(1−p))·2^e_max`, exactly: results of larger magnitude
    /// may overflow to `±∞`.
    #[must_use]
    pub const fn max_finite(self) -> f64 {
        let mantissa = ((1u64 << (self.precision - 1)) - 1) << (53 - self.precision);
        f64::from_bits((((self.emax + 1023) as u64) << 52) | mantissa)
    }

    /// `u(z) = ulp(z)/2` of this format at a real number of magnitude at most `|z|` (see
    /// [`half_ulp`]).
    #[must_use]
    pub fn half_ulp(self, z: f64) -> f64 {
        let a = z.abs();
        if !a.is_finite() || a >= self.max_finite() {
            return f64::INFINITY;
        }
        let exp = if a == 0.0 {
            self.subnormal_exp()
        } else {
            (floor_log2(a) + 1 - self.precision).max(self.subnormal_exp())
        };
        pow2_up(exp - 1)
    }
}

/// A runtime floating-point type: its [`BinaryFormat`] (every parameter of the rounding model
/// derives from it), the exact conversion of its values to `f64`, and the scalar in which its
/// matrix products accumulate.
pub trait RuntimeFloat: crate::scalar::Real {
    /// The format of the values (`BinaryFormat::BINARY32` for `f32`).
    const FORMAT: BinaryFormat;

    /// The scalar in which [`Element::gemm`](crate::Element::gemm) of this type forms its sums.
    ///
    /// The contract the certified bounds of matrix products rely on: every entry of
    /// `Self::gemm` is the sum of its `k` products computed in `Accumulator` (each product and
    /// partial sum rounded to nearest there, or a product fused into its addition, in any
    /// order), then rounded once to `Self` if `Accumulator` is another format. `Self` for `f32`
    /// and `f64` (no final rounding); `f32` for `bf16` and `f16`, which hold their products
    /// exactly there (as tensor cores do).
    type Accumulator: RuntimeFloat;

    /// The value in the accumulator's type (exact).
    fn to_accumulator(self) -> Self::Accumulator;

    /// The value as an `f64` (exact).
    fn to_f64_exact(self) -> f64;

    /// Whether every entry is `±0` (NaN is not). Implementations scan without an early exit,
    /// so that the pass vectorises.
    fn all_zero(xs: &[Self]) -> bool {
        xs.iter().all(|v| v.to_f64_exact() == 0.0)
    }

    /// Whether every entry is finite (neither NaN nor `±∞`).
    fn all_finite(xs: &[Self]) -> bool {
        xs.iter().all(|v| v.to_f64_exact().is_finite())
    }
}

/// The bit-pattern scans of [`RuntimeFloat::all_zero`] and [`RuntimeFloat::all_finite`] for a
/// format whose bits are `$bits` (signed view `$signed`): `|x|` as bits is 0 exactly for `±0`,
/// and below the bits of `+∞` exactly for finite `x` (compared as signed integers, which the
/// sign bit cleared allows, and which baseline SSE2 compares four at a time). Chunks of 512
/// entries are folded branch-free (they vectorise); the scan stops after the first chunk that
/// decides.
macro_rules! bit_scans {
    ($bits:ty, $signed:ty, $abs_mask:expr, $inf:expr) => {
        fn all_zero(xs: &[Self]) -> bool {
            xs.chunks(512).all(|c| {
                c.iter()
                    .fold(0, |acc: $bits, v| acc | (v.to_bits() & $abs_mask))
                    == 0
            })
        }
        fn all_finite(xs: &[Self]) -> bool {
            xs.chunks(512).all(|c| {
                let infinite = c.iter().fold(0, |acc: $bits, v| {
                    acc | <$bits>::from(((v.to_bits() & $abs_mask) as $signed) >= $inf)
                });
                infinite == 0
            })
        }
    };
}

impl RuntimeFloat for f32 {
    const FORMAT: BinaryFormat = BinaryFormat::BINARY32;
    type Accumulator = f32;
    fn to_accumulator(self) -> f32 {
        self
    }
    fn to_f64_exact(self) -> f64 {
        f64::from(self)
    }
    bit_scans!(u32, i32, 0x7fff_ffff, 0x7f80_0000);
}

impl RuntimeFloat for f64 {
    const FORMAT: BinaryFormat = BinaryFormat::BINARY64;
    type Accumulator = f64;
    fn to_accumulator(self) -> f64 {
        self
    }
    fn to_f64_exact(self) -> f64 {
        self
    }
    bit_scans!(u64, i64, 0x7fff_ffff_ffff_ffff, 0x7ff0_0000_0000_0000);
}

impl RuntimeFloat for half::bf16 {
    const FORMAT: BinaryFormat = BinaryFormat::BFLOAT16;
    type Accumulator = f32;
    fn to_accumulator(self) -> f32 {
        self.to_f32()
    }
    fn to_f64_exact(self) -> f64 {
        f64::from(self.to_f32())
    }
    bit_scans!(u16, i16, 0x7fff, 0x7f80);
}

impl RuntimeFloat for half::f16 {
    const FORMAT: BinaryFormat = BinaryFormat::BINARY16;
    type Accumulator = f32;
    fn to_accumulator(self) -> f32 {
        self.to_f32()
    }
    fn to_f64_exact(self) -> f64 {
        f64::from(self.to_f32())
    }
    bit_scans!(u16, i16, 0x7fff, 0x7c00);
}

/// `2^k` as an `f64`, exactly (built from the bit pattern), rounded upward when `k` is below
/// the subnormal range and `+∞` above the finite range.
///
/// (Not `2f64.powi(k)`: for `k < −1023` that computes `1 / 2^|k|`, whose denominator overflows,
/// and returns 0.)
fn pow2_up(k: i32) -> f64 {
    if k < -1074 {
        f64::from_bits(1)
    } else if k < -1022 {
        f64::from_bits(1u64 << (k + 1074))
    } else if k > 1023 {
        f64::INFINITY
    } else {
        f64::from_bits(((k + 1023) as u64) << 52)
    }
}

/// `2^−968`: below this magnitude the error-free transformations behind [`mul_up`] and
/// [`div_up`] can lose their residual to underflow (the exact residual may be a nonzero number
/// smaller than the least subnormal, which the FMA rounds to 0), so there the result is bumped
/// without looking at the residual.
const UNDERFLOW_ZONE: f64 = f64::from_bits((1023 - 968) << 52);

/// `⌊log₂ x⌋` for a finite `x > 0`, exactly (from the bit pattern).
fn floor_log2(x: f64) -> i32 {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // subnormal: value = mantissa · 2^−1074
        let mant = bits & ((1u64 << 52) - 1);
        63 - mant.leading_zeros() as i32 - 1074
    } else {
        exp - 1023
    }
}

/// `u(z) = ulp(z)/2` of the runtime format `F` at a real number of magnitude at most `|z|`
/// (monotone in `|z|`, so an upper bound of the magnitude gives an upper bound of `u`).
/// `+∞` for a NaN or infinite argument, and from the largest finite value of `F` on, where
/// the runtime result may overflow to `±∞` (the Lean model has no overflow; we refuse to give
/// a finite bound there).
pub fn half_ulp<F: RuntimeFloat>(z: f64) -> f64 {
    F::FORMAT.half_ulp(z)
}

/// `NaN ↦ +∞`; every other value unchanged.
#[inline]
pub fn sanitize(x: f64) -> f64 {
    if x.is_nan() { f64::INFINITY } else { x }
}

/// The upward rounding of an operation on `a`, `b` whose rounded result `r` is not finite:
/// `+∞` for NaN; `−f64::MAX` for `−∞` from finite operands (the exact result is a finite
/// number below `−f64::MAX`, and `−∞` would be below it); `r` itself otherwise.
#[inline]
fn up_non_finite(r: f64, a: f64, b: f64) -> f64 {
    if r == f64::NEG_INFINITY && a.is_finite() && b.is_finite() {
        -f64::MAX
    } else {
        sanitize(r)
    }
}

/// `a + b` rounded upward (TwoSum: bumped only if the rounded sum is below the exact one).
#[inline]
pub fn add_up(a: f64, b: f64) -> f64 {
    let s = a + b;
    if !s.is_finite() {
        return up_non_finite(s, a, b);
    }
    let bb = s - a;
    let err = (a - (s - bb)) + (b - bb);
    // `s − a` can overflow when `s` does not (a tie in the top binade, e.g. `3·2⁹⁷⁰ − MAX`):
    // the error is then NaN, and one step up covers it (rounding to nearest errs by at most
    // half an ulp).
    if err > 0.0 || err.is_nan() {
        s.next_up()
    } else {
        s
    }
}

/// `a · b` rounded upward (FMA residual; near underflow, where the residual itself may
/// underflow to 0, the rounded product is bumped unless it is exact because an operand is 0).
#[inline]
pub fn mul_up(a: f64, b: f64) -> f64 {
    let p = a * b;
    if !p.is_finite() {
        return up_non_finite(p, a, b);
    }
    if p.abs() < UNDERFLOW_ZONE && a != 0.0 && b != 0.0 {
        // p is a·b rounded to nearest, so the next float up is above a·b.
        return p.next_up();
    }
    let err = a.mul_add(b, -p); // a·b − p, exact for |p| ≥ 2^−968
    if err > 0.0 { p.next_up() } else { p }
}

/// `a / b` rounded upward, for `b > 0` (residual `a − q·b` by FMA; for a dividend near
/// underflow, where the residual may underflow to 0, the rounded quotient is bumped unless
/// the dividend is 0).
#[inline]
pub fn div_up(a: f64, b: f64) -> f64 {
    let q = a / b;
    if !q.is_finite() {
        return up_non_finite(q, a, b);
    }
    if a.abs() < UNDERFLOW_ZONE && a != 0.0 {
        // q is a/b rounded to nearest, so the next float up is above a/b.
        return q.next_up();
    }
    let r = (-q).mul_add(b, a); // a − q·b, exact for |a| ≥ 2^−968
    if r > 0.0 { q.next_up() } else { q }
}

/// An upper bound of `eˣ`: the platform's `exp` bumped up twice (assumes `f64::exp` is
/// within 1 ulp, see TRUST.md).
#[inline]
pub fn exp_up(x: f64) -> f64 {
    sanitize(x.exp()).next_up().next_up()
}

/// An upper bound of `√x` for `x ≥ 0` (IEEE `sqrt` is correctly rounded).
#[inline]
pub fn sqrt_up(x: f64) -> f64 {
    sanitize(x.sqrt()).next_up()
}

/// A lower bound of `√x` for `x ≥ 0`.
#[inline]
pub fn sqrt_down(x: f64) -> f64 {
    let r = x.sqrt();
    if r > 0.0 { r.next_down() } else { r }
}

/// Sum of nonnegative terms, each step rounded upward.
pub fn sum_up(terms: impl IntoIterator<Item = f64>) -> f64 {
    terms.into_iter().fold(0.0, add_up)
}

/// `max(0, max of the terms)` with NaN treated as `+∞` (the L∞-norm of a helper tensor).
pub fn norm_max(terms: impl IntoIterator<Item = f64>) -> f64 {
    terms.into_iter().fold(0.0, |m, t| m.max(sanitize(t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bit scans agree with the obvious definitions, for a bad entry anywhere in a long
    /// slice (inside the first chunk, a later chunk, the last entry).
    fn scans_agree<F: RuntimeFloat>(specials: &[F], ordinary: F) {
        let reference_zero = |xs: &[F]| xs.iter().all(|v| v.to_f64_exact() == 0.0);
        let reference_finite = |xs: &[F]| xs.iter().all(|v| v.to_f64_exact().is_finite());
        for len in [0, 1, 7, 512, 1300] {
            for &pos in &[0, 3, 511, 512, 1299] {
                for &fill in &[F::zero(), -F::zero(), ordinary] {
                    for &special in specials {
                        let mut xs = vec![fill; len];
                        if pos < len {
                            xs[pos] = special;
                        }
                        assert_eq!(F::all_zero(&xs), reference_zero(&xs), "{len} {pos}");
                        assert_eq!(F::all_finite(&xs), reference_finite(&xs), "{len} {pos}");
                    }
                }
            }
        }
    }

    #[test]
    fn bit_scans_match_their_definitions() {
        scans_agree::<f32>(
            &[
                0.0,
                -0.0,
                f32::from_bits(1),
                f32::MAX,
                -f32::MAX,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NAN,
                -f32::NAN,
            ],
            1.5,
        );
        scans_agree::<f64>(
            &[
                0.0,
                -0.0,
                f64::from_bits(1),
                f64::MAX,
                -f64::MAX,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
                -f64::NAN,
            ],
            -2.25,
        );
    }

    #[test]
    fn half_precision_bit_scans_match_their_definitions() {
        use half::{bf16, f16};
        scans_agree::<bf16>(
            &[
                bf16::ZERO,
                bf16::NEG_ZERO,
                bf16::MIN_POSITIVE_SUBNORMAL,
                bf16::MAX,
                bf16::MIN,
                bf16::INFINITY,
                bf16::NEG_INFINITY,
                bf16::NAN,
                -bf16::NAN,
            ],
            bf16::from_f32(1.5),
        );
        scans_agree::<f16>(
            &[
                f16::ZERO,
                f16::NEG_ZERO,
                f16::MIN_POSITIVE_SUBNORMAL,
                f16::MAX,
                f16::MIN,
                f16::INFINITY,
                f16::NEG_INFINITY,
                f16::NAN,
                -f16::NAN,
            ],
            f16::from_f32(-2.25),
        );
    }

    /// Every parameter derived from a `BinaryFormat` is the one of its type: the largest
    /// finite value, the smallest subnormal and normal values, machine epsilon `2^(1−p) = 2u`.
    #[test]
    fn formats_describe_their_types() {
        fn check<F: RuntimeFloat>(max: f64, min_sub: f64, min_normal: f64, epsilon: f64) {
            let f = F::FORMAT;
            assert_eq!(f.max_finite(), max, "{f:?}");
            assert_eq!(pow2_up(f.subnormal_exp()), min_sub, "{f:?}");
            assert_eq!(pow2_up(f.emin()), min_normal, "{f:?}");
            assert_eq!(2.0 * f.unit_roundoff(), epsilon, "{f:?}");
            assert_eq!(f.unit_roundoff(), 2f64.powi(-f.precision()), "{f:?}");
            assert_eq!(pow2_up(f.emax()) * (2.0 - epsilon), max, "{f:?}");
        }
        let h = |v: half::bf16| f64::from(v.to_f32());
        let g = |v: half::f16| f64::from(v.to_f32());
        check::<f32>(
            f64::from(f32::MAX),
            f64::from(f32::from_bits(1)),
            f64::from(f32::MIN_POSITIVE),
            f64::from(f32::EPSILON),
        );
        check::<f64>(f64::MAX, f64::from_bits(1), f64::MIN_POSITIVE, f64::EPSILON);
        check::<half::bf16>(
            h(half::bf16::MAX),
            h(half::bf16::MIN_POSITIVE_SUBNORMAL),
            h(half::bf16::MIN_POSITIVE),
            h(half::bf16::EPSILON),
        );
        check::<half::f16>(
            g(half::f16::MAX),
            g(half::f16::MIN_POSITIVE_SUBNORMAL),
            g(half::f16::MIN_POSITIVE),
            g(half::f16::EPSILON),
        );
        assert_eq!(half::f16::MAX.to_f32(), 65504.0);
        assert_eq!(BinaryFormat::BINARY16.subnormal_exp(), -24);
        assert_eq!(BinaryFormat::BFLOAT16.subnormal_exp(), -133);
    }

    #[test]
    #[should_panic(expected = "precision must be between 2 and 53")]
    fn a_format_wider_than_f64_is_refused() {
        let _ = BinaryFormat::new(64, -16382, 16383);
    }

    /// `half_ulp` of the half formats bounds the error of rounding to them (`Real::from_f64`,
    /// round to nearest), over their whole range, subnormals included, and is `+∞` where the
    /// rounded value overflows.
    #[test]
    fn half_ulp_bounds_the_actual_half_rounding_error() {
        fn sweep<F: RuntimeFloat>(from: f64, to: f64) {
            let mut x = from;
            while x < to {
                for v in [x, -x, x.next_up(), x * (1.0 + 2f64.powi(-9))] {
                    let r = F::from_f64(v).to_f64_exact();
                    let u = half_ulp::<F>(v);
                    if r.is_finite() {
                        assert!((r - v).abs() <= u, "{v:e}: {r:e} beyond {u:e}");
                    } else {
                        assert_eq!(u, f64::INFINITY, "{v:e}");
                    }
                }
                x *= 1.0137;
            }
        }
        sweep::<half::f16>(1e-9, 1e6);
        sweep::<half::bf16>(1e-42, 1e39);
        assert_eq!(half_ulp::<half::f16>(0.0), 2f64.powi(-25));
        assert_eq!(half_ulp::<half::f16>(1.0), 2f64.powi(-11));
        assert_eq!(half_ulp::<half::bf16>(1.0), 2f64.powi(-8));
        assert_eq!(half_ulp::<half::bf16>(1e-40), 2f64.powi(-134));
        assert_eq!(half_ulp::<half::f16>(65504.0), f64::INFINITY);
        assert_eq!(half_ulp::<half::f16>(65503.0), 16.0);
    }

    #[test]
    fn half_ulp_of_f32_matches_the_definition() {
        assert_eq!(half_ulp::<f32>(1.0), 2f64.powi(-24));
        assert_eq!(half_ulp::<f32>(1.5), 2f64.powi(-24));
        assert_eq!(half_ulp::<f32>(2.0), 2f64.powi(-23));
        assert_eq!(half_ulp::<f32>(0.0), 2f64.powi(-150));
        assert_eq!(half_ulp::<f32>(1e-45), 2f64.powi(-150));
        assert_eq!(half_ulp::<f32>(-3.0), 2f64.powi(-23));
        assert_eq!(half_ulp::<f64>(1.0), 2f64.powi(-53));
        assert_eq!(half_ulp::<f64>(0.0), f64::from_bits(1));
        assert_eq!(half_ulp::<f32>(f64::NAN), f64::INFINITY);
        // Below 2^−1022 (where `2f64.powi` underflows through 1/2^|k|).
        assert_eq!(half_ulp::<f64>(1e-300), f64::from_bits(1 << 24)); // 2^(−997 − 53)
        assert_eq!(half_ulp::<f64>(f64::MIN_POSITIVE), f64::from_bits(1)); // 2^−1075, rounded up
        assert_eq!(half_ulp::<f64>(f64::from_bits(1)), f64::from_bits(1));
    }

    #[test]
    fn half_ulp_bounds_the_actual_f32_rounding_error() {
        let mut x = 1.0e-40_f64;
        while x < 1.0e38 {
            let r = f64::from(x as f32);
            assert!((r - x).abs() <= half_ulp::<f32>(x), "{x}");
            x *= 1.37;
        }
    }

    #[test]
    fn upward_arithmetic_is_exact_when_possible_and_never_below() {
        assert_eq!(add_up(1.0, 0.0), 1.0);
        assert_eq!(add_up(0.5, 0.25), 0.75);
        assert!(add_up(1.0, 1e-30) > 1.0);
        assert_eq!(mul_up(3.0, 0.5), 1.5);
        assert!(mul_up(0.1, 0.1) >= 0.1 * 0.1);
        assert!(div_up(1.0, 3.0) > 1.0 / 3.0);
        assert_eq!(div_up(1.0, 4.0), 0.25);
        assert_eq!(add_up(f64::NAN, 1.0), f64::INFINITY);
        assert_eq!(mul_up(f64::INFINITY, 0.0), f64::INFINITY);
        // Near underflow the residuals vanish: a product or quotient that rounds down to a
        // subnormal (or to 0) must still be bumped.
        let tiny = f64::from_bits(1);
        assert_eq!(mul_up(tiny, tiny), tiny);
        assert_eq!(mul_up(tiny, 0.0), 0.0);
        assert_eq!(div_up(3.0 * tiny, 1.25), 3.0 * tiny); // exact 2.4·2^−1074
        assert_eq!(div_up(0.0, 3.0), 0.0);
        // Overflow towards −∞ from finite operands: the exact result is finite, so the upward
        // rounding is −MAX (and the downward rounding of a positive overflow, −(−MAX), too).
        assert_eq!(mul_up(-1e200, 1e200), -f64::MAX);
        assert_eq!(div_up(-1e300, 1e-300), -f64::MAX);
        assert_eq!(add_up(-f64::MAX, -f64::MAX), -f64::MAX);
        assert_eq!(mul_up(f64::NEG_INFINITY, 1.0), f64::NEG_INFINITY);
        assert_eq!(mul_up(1e200, 1e200), f64::INFINITY);
        assert_eq!(norm_max([1.0, f64::NAN]), f64::INFINITY);
        assert_eq!(norm_max(std::iter::empty()), 0.0);
    }
}
