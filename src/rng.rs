//! A small deterministic random number generator and seeded tensor initialisers.
//!
//! [`SplitMix64`] is Steele, Lea and Flood's 64-bit mixing generator: tiny, fast, and fully
//! reproducible from its seed, which is what tests, gradient checks and seeded weight
//! initialisation need. It is **not** cryptographically secure.
//!
//! **Mathematics.** The state advances by the odd constant `γ = 0x9E37_79B9_7F4A_7C15`
//! (`⌊2⁶⁴/φ⌋`, φ the golden ratio) modulo `2⁶⁴`, so the states run through one cycle of
//! period `2⁶⁴`; each output is a bijective mix of the state (two xor-shift–multiply rounds
//! and a final xor-shift). From these 64-bit words: [`SplitMix64::next_f64`] is `k / 2⁵³` for
//! the top 53 bits `k`, uniform on a grid of `[0, 1)`; [`SplitMix64::normal`] is the
//! Box–Muller transform `√(−2 ln u₁) · cos(2π u₂)` with `u₁ ∈ (0, 1]`; [`SplitMix64::below`]
//! rejects the top `2⁶⁴ mod n` words so that `v mod n` is exactly uniform; and
//! [`SplitMix64::glorot_uniform`] draws from `U[−r, r)` with `r = √(6 / (fan_in + fan_out))`,
//! i.e. variance `r²/3 = 2 / (fan_in + fan_out)` (Glorot and Bengio, 2010).
//!
//! ```
//! use shapetape::prelude::*;
//! use shapetape::rng::SplitMix64;
//! let mut rng = SplitMix64::new(42);
//! let w: Tensor<f32, Matrix<3, 2>> = rng.glorot_uniform();
//! assert!(w.iter().all(|&v| v.abs() <= (6.0f32 / 5.0).sqrt()));
//! assert_eq!(SplitMix64::new(7).next_u64(), SplitMix64::new(7).next_u64());
//! ```

use crate::scalar::Real;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// The SplitMix64 generator (state advanced by the golden-ratio increment, then mixed).
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose whole output sequence is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 uniformly distributed bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform sample from `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform sample from `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// A standard normal sample (Box–Muller transform).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // in (0, 1]: the logarithm is finite
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * core::f64::consts::PI * u2).cos()
    }

    /// A uniform integer from `0..n` (`n > 0`), by rejection (no modulo bias).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "SplitMix64::below needs a non-empty range");
        let n = n as u64;
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let v = self.next_u64();
            if v < zone {
                return (v % n) as usize;
            }
        }
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }

    /// A tensor of independent uniform samples from `[lo, hi)`.
    pub fn uniform_tensor<A: Real, S: Shape>(&mut self, lo: f64, hi: f64) -> Tensor<A, S> {
        Tensor::from_flat_fn(|_| A::from_f64(self.uniform(lo, hi)))
    }

    /// Glorot (Xavier) uniform initialisation of a weight tensor: entries uniform in
    /// `[−r, r]` with `r = √(6 / (fan_in + fan_out))`, where `fan_out` is the first dimension
    /// and `fan_in` the product of the others (an `O×I` matrix maps `I` inputs to `O` outputs).
    pub fn glorot_uniform<A: Real, S: Shape>(&mut self) -> Tensor<A, S> {
        let dims = S::dims();
        let fan_out = dims.first().copied().unwrap_or(1);
        let fan_in = S::SIZE.checked_div(fan_out).unwrap_or(0);
        let r = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
        self.uniform_tensor(-r, r)
    }
}
