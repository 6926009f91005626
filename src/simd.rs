//! Runtime choice of vector instructions for the hot entrywise loops.
//!
//! The crate is compiled for the baseline of its target (SSE2 on x86-64), where an `f32` loop
//! vectorises 4 lanes wide without FMA. [`vectorized`] runs a closure compiled a second time
//! for AVX2 (x86-64-v3) when the CPU has it, detected at run time by the `pulp` crate (its
//! `V3::try_new` and `V3::vectorize`; the `unsafe` target-feature call lives there, not here).
//! The closure must be `#[inline(always)]` and must inline its work, or the second compilation
//! gains nothing. Generic code calls it through `Element::vectorized`, which only `f32` and
//! `f64` route here (a second compilation of an interval or rational loop would only cost
//! build time).
//!
//! Results do not depend on the choice: Rust never contracts `a·b + c` into an FMA and never
//! reorders a floating-point fold, so both compilations execute the same IEEE operations in
//! the same order, only more of them at once.

/// Runs `f`, compiled for the widest vector instruction set this CPU supports (see the module
/// documentation); the result is bit-for-bit the one of a plain call `f()`.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    // The AVX2 copy only (not pulp's whole `Arch` dispatch, which also instantiates a scalar
    // copy through its `Simd` trait): the fallback is the plain call.
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = pulp::x86::V3::try_new() {
        return simd.vectorize(f);
    }
    f()
}
