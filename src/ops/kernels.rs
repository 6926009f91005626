//! Dense linear-algebra kernels on row-major slices, with Lean's summation order.
//!
//! Every inner product is the left fold `((0 + a₀b₀) + a₁b₁) + …` in index order: the order
//! of `TensorAlgebra.dot` on a vector, which the error-bound formulas assume.

use crate::scalar::Element;

/// `Σₖ a[k]·b[k]` as a left fold from 0, reading `a` and `b` with strides.
#[inline]
fn fold_dot<A: Element>(len: usize, a: impl Fn(usize) -> A, b: impl Fn(usize) -> A) -> A {
    (0..len).fold(A::zero(), |acc, k| acc + a(k) * b(k))
}

/// `y = W x` for `W: m×n`: `yᵢ = Σⱼ Wᵢⱼ xⱼ`.
pub(crate) fn mat_vec<A: Element>(w: &[A], x: &[A], m: usize, n: usize) -> Vec<A> {
    (0..m)
        .map(|i| fold_dot(n, |j| w[i * n + j].clone(), |j| x[j].clone()))
        .collect()
}

/// `x̄ = Wᵀ δ` for `W: m×n`: `x̄ⱼ = Σᵢ Wᵢⱼ δᵢ`.
pub(crate) fn mat_t_vec<A: Element>(w: &[A], d: &[A], m: usize, n: usize) -> Vec<A> {
    (0..n)
        .map(|j| fold_dot(m, |i| w[i * n + j].clone(), |i| d[i].clone()))
        .collect()
}

/// Outer product `δ xᵀ`: entry `(i, j)` is `δᵢ xⱼ`.
pub(crate) fn outer<A: Element>(d: &[A], x: &[A]) -> Vec<A> {
    d.iter()
        .flat_map(|di| x.iter().map(move |xj| di.clone() * xj.clone()))
        .collect()
}

/// `C = A B` for `A: m×k`, `B: k×n`: `Cᵢⱼ = Σₗ Aᵢₗ Bₗⱼ`.
pub(crate) fn mat_mul<A: Element>(a: &[A], b: &[A], m: usize, k: usize, n: usize) -> Vec<A> {
    let mut c = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            c.push(fold_dot(
                k,
                |l| a[i * k + l].clone(),
                |l| b[l * n + j].clone(),
            ));
        }
    }
    c
}

/// `C = A Bᵀ` for `A: m×k`, `B: n×k`: `Cᵢⱼ = Σₗ Aᵢₗ Bⱼₗ`.
pub(crate) fn mat_mul_nt<A: Element>(a: &[A], b: &[A], m: usize, k: usize, n: usize) -> Vec<A> {
    let mut c = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            c.push(fold_dot(
                k,
                |l| a[i * k + l].clone(),
                |l| b[j * k + l].clone(),
            ));
        }
    }
    c
}

/// `C = Aᵀ B` for `A: k×m`, `B: k×n`: `Cᵢⱼ = Σₗ Aₗᵢ Bₗⱼ`.
pub(crate) fn mat_mul_tn<A: Element>(a: &[A], b: &[A], m: usize, k: usize, n: usize) -> Vec<A> {
    let mut c = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            c.push(fold_dot(
                k,
                |l| a[l * m + i].clone(),
                |l| b[l * n + j].clone(),
            ));
        }
    }
    c
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
