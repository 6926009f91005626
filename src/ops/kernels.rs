//! Dense linear-algebra kernels on row-major slices, with Lean's summation order.
//!
//! Every product goes through [`Element::gemm`]: Lean's left fold `((0 + a₀b₀) + a₁b₁) + …`
//! for exact and small products, a blocked kernel for large `f32`/`f64` products.

use crate::scalar::Element;

/// `y = W x` for `W: m×n`: `yᵢ = Σⱼ Wᵢⱼ xⱼ`.
pub(crate) fn mat_vec<A: Element>(w: &[A], x: &[A], m: usize, n: usize) -> Vec<A> {
    A::gemm(w, false, x, false, m, n, 1)
}

/// `x̄ = Wᵀ δ` for `W: m×n`: `x̄ⱼ = Σᵢ Wᵢⱼ δᵢ`.
pub(crate) fn mat_t_vec<A: Element>(w: &[A], d: &[A], m: usize, n: usize) -> Vec<A> {
    A::gemm(w, true, d, false, n, m, 1)
}

/// Outer product `δ xᵀ`: entry `(i, j)` is `δᵢ xⱼ`.
pub(crate) fn outer<A: Element>(d: &[A], x: &[A]) -> Vec<A> {
    d.iter()
        .flat_map(|di| x.iter().map(move |xj| di.clone() * xj.clone()))
        .collect()
}

/// `C = A B` for `A: m×k`, `B: k×n`: `Cᵢⱼ = Σₗ Aᵢₗ Bₗⱼ`.
pub(crate) fn mat_mul<A: Element>(a: &[A], b: &[A], m: usize, k: usize, n: usize) -> Vec<A> {
    A::gemm(a, false, b, false, m, k, n)
}

/// `C = A Bᵀ` for `A: m×k`, `B: n×k`: `Cᵢⱼ = Σₗ Aᵢₗ Bⱼₗ`.
pub(crate) fn mat_mul_nt<A: Element>(a: &[A], b: &[A], m: usize, k: usize, n: usize) -> Vec<A> {
    A::gemm(a, false, b, true, m, k, n)
}

/// `C = Aᵀ B` for `A: k×m`, `B: k×n`: `Cᵢⱼ = Σₗ Aₗᵢ Bₗⱼ`.
pub(crate) fn mat_mul_tn<A: Element>(a: &[A], b: &[A], m: usize, k: usize, n: usize) -> Vec<A> {
    A::gemm(a, true, b, false, m, k, n)
}

/// `Aᵀ` for `A: m×n`.
pub(crate) fn transpose<A: Clone>(a: &[A], m: usize, n: usize) -> Vec<A> {
    (0..n)
        .flat_map(|j| (0..m).map(move |i| a[i * n + j].clone()))
        .collect()
}

/// Entrywise `a + b`.
pub(crate) fn add<A: Element>(a: &[A], b: &[A]) -> Vec<A> {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.clone() + y.clone())
        .collect()
}

/// `Σᵢ term(i)` over `i < len` in eight interleaved partial sums (lane `l` adds the terms
/// `i ≡ l mod 8` in order; independent chains, which vectorise where one running sum is a
/// chain of dependent additions), combined pairwise: `((s₀ + s₁) + (s₂ + s₃)) + ((s₄ + s₅) +
/// (s₆ + s₇))`. Any summation order has the same worst-case rounding (`len − 1` additions).
#[inline(always)]
pub(crate) fn lane_sum<A: Element>(len: usize, term: impl Fn(usize) -> A) -> A {
    const L: usize = 8;
    let mut acc: [A; L] = core::array::from_fn(|_| A::zero());
    let full = len / L * L;
    let mut i = 0;
    while i < full {
        for (l, a) in acc.iter_mut().enumerate() {
            *a = a.clone() + term(i + l);
        }
        i += L;
    }
    for (l, a) in acc.iter_mut().enumerate().take(len - full) {
        *a = a.clone() + term(full + l);
    }
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
    ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
}
