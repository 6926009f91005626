//! Matrix ops: matrix–vector and matrix–matrix products, transpose, affine layers.
//!
//! Every inner product is a left fold from 0 in index order (Lean's `dot`).
//!
//! **Mathematics.** The products are bilinear, `d(W x) = dW x + W dx` and
//! `d(A B) = dA B + A dB`, and their adjoints for the Frobenius inner product
//! `⟨X, Y⟩ = Σᵢⱼ Xᵢⱼ Yᵢⱼ` are `W̄ = δ xᵀ`, `x̄ = Wᵀ δ`, `Ā = δ Bᵀ`, `B̄ = Aᵀ δ`. Transposition is
//! linear with adjoint `δ ↦ δᵀ`. The affine layers add a bias, whose VJP is `δ` (`linear`) or
//! the sum of the rows of `δ` (`linear_batch`, where one bias is added to every row).

use crate::autograd::Node;
use crate::autograd::kernel::{Kernel, Pullback, Slot};
use crate::autograd::node::node_from_kernel;
use crate::ops::kernels;
use crate::scalar::Element;
use crate::shape::{Matrix, Shape, Vector};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

/// `y = W x` for `W: M×N`, `x: N`: JVP `dW x + W dx`, VJP `W ↦ δ xᵀ, x ↦ Wᵀ δ`.
pub fn matvec<A, D, G, const M: usize, const N: usize>(
    w: Idx<G, Matrix<M, N>>,
    x: Idx<G, Vector<N>>,
) -> Node<A, D, G, Vector<M>>
where
    A: Element,
    G: ShapeList,
    Matrix<M, N>: Shape,
    Vector<N>: Shape,
    Vector<M>: Shape,
{
    fn kernel<A, D, const M: usize, const N: usize>(
        w: Slot<Matrix<M, N>>,
        x: Slot<Vector<N>>,
    ) -> Kernel<A, D, Vector<M>>
    where
        A: Element,
        Matrix<M, N>: Shape,
        Vector<N>: Shape,
        Vector<M>: Shape,
    {
        Kernel::new(
            "matvec",
            &[w.pos(), x.pos()],
            move |ctx, _| {
                Tensor::from_vec_unchecked(kernels::mat_vec(
                    ctx.get(w).as_slice(),
                    ctx.get(x).as_slice(),
                    M,
                    N,
                ))
            },
            move |ctx, dctx, _| {
                let dw_x = kernels::mat_vec(dctx.get(w).as_slice(), ctx.get(x).as_slice(), M, N);
                let w_dx = kernels::mat_vec(ctx.get(w).as_slice(), dctx.get(x).as_slice(), M, N);
                Tensor::from_vec_unchecked(kernels::add(&dw_x, &w_dx))
            },
            move |ctx, _, seed| {
                let d = seed.as_slice();
                Pullback::none()
                    .with_if(ctx, w, || {
                        Tensor::from_vec_unchecked(kernels::outer(d, ctx.get(x).as_slice()))
                    })
                    .with_if(ctx, x, || {
                        Tensor::from_vec_unchecked(kernels::mat_t_vec(
                            ctx.get(w).as_slice(),
                            d,
                            M,
                            N,
                        ))
                    })
            },
        )
    }
    node_from_kernel!(kernel(Slot::new(w.pos), Slot::new(x.pos)))
}

/// `C = A B` for `A: M×K`, `B: K×N`: JVP `dA B + A dB`, VJP `A ↦ δ Bᵀ, B ↦ Aᵀ δ` (both
/// added to one slot when `A` and `B` are the same operand).
pub fn matmul<A, D, G, const M: usize, const K: usize, const N: usize>(
    a: Idx<G, Matrix<M, K>>,
    b: Idx<G, Matrix<K, N>>,
) -> Node<A, D, G, Matrix<M, N>>
where
    A: Element,
    G: ShapeList,
    Matrix<M, K>: Shape,
    Matrix<K, N>: Shape,
    Matrix<M, N>: Shape,
{
    fn kernel<A, D, const M: usize, const K: usize, const N: usize>(
        a: Slot<Matrix<M, K>>,
        b: Slot<Matrix<K, N>>,
    ) -> Kernel<A, D, Matrix<M, N>>
    where
        A: Element,
        Matrix<M, K>: Shape,
        Matrix<K, N>: Shape,
        Matrix<M, N>: Shape,
    {
        Kernel::new(
            "matmul",
            &[a.pos(), b.pos()],
            move |ctx, _| {
                Tensor::from_vec_unchecked(kernels::mat_mul(
                    ctx.get(a).as_slice(),
                    ctx.get(b).as_slice(),
                    M,
                    K,
                    N,
                ))
            },
            move |ctx, dctx, _| {
                let da_b = kernels::mat_mul(dctx.get(a).as_slice(), ctx.get(b).as_slice(), M, K, N);
                let a_db = kernels::mat_mul(ctx.get(a).as_slice(), dctx.get(b).as_slice(), M, K, N);
                Tensor::from_vec_unchecked(kernels::add(&da_b, &a_db))
            },
            move |ctx, _, seed| {
                let d = seed.as_slice();
                Pullback::none()
                    .with_if(ctx, a, || {
                        Tensor::from_vec_unchecked(kernels::mat_mul_nt(
                            d,
                            ctx.get(b).as_slice(),
                            M,
                            N,
                            K,
                        ))
                    })
                    .with_if(ctx, b, || {
                        Tensor::from_vec_unchecked(kernels::mat_mul_tn(
                            ctx.get(a).as_slice(),
                            d,
                            K,
                            M,
                            N,
                        ))
                    })
            },
        )
    }
    node_from_kernel!(kernel::<A, D, M, K, N>(Slot::new(a.pos), Slot::new(b.pos)))
}

/// `Y = Xᵀ` for `X: M×N`: JVP `dXᵀ`, VJP `δᵀ`.
pub fn transpose<A, D, G, const M: usize, const N: usize>(
    x: Idx<G, Matrix<M, N>>,
) -> Node<A, D, G, Matrix<N, M>>
where
    A: Element,
    G: ShapeList,
    Matrix<M, N>: Shape,
    Matrix<N, M>: Shape,
{
    fn kernel<A, D, const M: usize, const N: usize>(
        x: Slot<Matrix<M, N>>,
    ) -> Kernel<A, D, Matrix<N, M>>
    where
        A: Element,
        Matrix<M, N>: Shape,
        Matrix<N, M>: Shape,
    {
        Kernel::new(
            "transpose",
            &[x.pos()],
            move |ctx, _| {
                Tensor::from_vec_unchecked(kernels::transpose(ctx.get(x).as_slice(), M, N))
            },
            move |_, dctx, _| {
                Tensor::from_vec_unchecked(kernels::transpose(dctx.get(x).as_slice(), M, N))
            },
            move |_, _, seed| {
                Pullback::single(
                    x,
                    Tensor::from_vec_unchecked(kernels::transpose(seed.as_slice(), N, M)),
                )
            },
        )
    }
    node_from_kernel!(kernel::<A, D, M, N>(Slot::new(x.pos)))
}

/// The affine layer `y = W x + b` for `W: O×I`, `x: I`, `b: O`:
/// JVP `dW x + W dx + db`, VJP `W ↦ δ xᵀ, x ↦ Wᵀ δ, b ↦ δ`.
pub fn linear<A, D, G, const O: usize, const I: usize>(
    w: Idx<G, Matrix<O, I>>,
    x: Idx<G, Vector<I>>,
    b: Idx<G, Vector<O>>,
) -> Node<A, D, G, Vector<O>>
where
    A: Element,
    G: ShapeList,
    Matrix<O, I>: Shape,
    Vector<I>: Shape,
    Vector<O>: Shape,
{
    fn kernel<A, D, const O: usize, const I: usize>(
        w: Slot<Matrix<O, I>>,
        x: Slot<Vector<I>>,
        b: Slot<Vector<O>>,
    ) -> Kernel<A, D, Vector<O>>
    where
        A: Element,
        Matrix<O, I>: Shape,
        Vector<I>: Shape,
        Vector<O>: Shape,
    {
        Kernel::new(
            "linear",
            &[w.pos(), x.pos(), b.pos()],
            move |ctx, _| {
                let wx = kernels::mat_vec(ctx.get(w).as_slice(), ctx.get(x).as_slice(), O, I);
                Tensor::from_vec_unchecked(kernels::add(&wx, ctx.get(b).as_slice()))
            },
            move |ctx, dctx, _| {
                let dw_x = kernels::mat_vec(dctx.get(w).as_slice(), ctx.get(x).as_slice(), O, I);
                let w_dx = kernels::mat_vec(ctx.get(w).as_slice(), dctx.get(x).as_slice(), O, I);
                Tensor::from_vec_unchecked(kernels::add(
                    &kernels::add(&dw_x, &w_dx),
                    dctx.get(b).as_slice(),
                ))
            },
            move |ctx, _, seed| {
                let d = seed.as_slice();
                Pullback::none()
                    .with_if(ctx, w, || {
                        Tensor::from_vec_unchecked(kernels::outer(d, ctx.get(x).as_slice()))
                    })
                    .with_if(ctx, x, || {
                        Tensor::from_vec_unchecked(kernels::mat_t_vec(
                            ctx.get(w).as_slice(),
                            d,
                            O,
                            I,
                        ))
                    })
                    .with_if(ctx, b, || seed.clone())
            },
        )
    }
    node_from_kernel!(kernel(Slot::new(w.pos), Slot::new(x.pos), Slot::new(b.pos)))
}

/// The affine layer on a batch of rows, `Y = X Wᵀ + 1 bᵀ` for `W: O×I`, `X: B×I`, `b: O`
/// (row `r` of `Y` is `W xᵣ + b`): VJP `W ↦ δᵀ X, X ↦ δ W, b ↦ Σᵣ δᵣ`.
pub fn linear_batch<A, D, G, const B: usize, const O: usize, const I: usize>(
    w: Idx<G, Matrix<O, I>>,
    x: Idx<G, Matrix<B, I>>,
    b: Idx<G, Vector<O>>,
) -> Node<A, D, G, Matrix<B, O>>
where
    A: Element,
    G: ShapeList,
    Matrix<O, I>: Shape,
    Matrix<B, I>: Shape,
    Matrix<B, O>: Shape,
    Vector<O>: Shape,
{
    fn kernel<A, D, const B: usize, const O: usize, const I: usize>(
        w: Slot<Matrix<O, I>>,
        x: Slot<Matrix<B, I>>,
        b: Slot<Vector<O>>,
    ) -> Kernel<A, D, Matrix<B, O>>
    where
        A: Element,
        Matrix<O, I>: Shape,
        Matrix<B, I>: Shape,
        Matrix<B, O>: Shape,
        Vector<O>: Shape,
    {
        let add_rows = |mut y: Vec<A>, bias: &[A]| {
            for row in y.chunks_mut(O.max(1)) {
                for (v, c) in row.iter_mut().zip(bias) {
                    *v = v.clone() + c.clone();
                }
            }
            y
        };
        Kernel::new(
            "linear_batch",
            &[w.pos(), x.pos(), b.pos()],
            move |ctx, _| {
                let xw = kernels::mat_mul_nt(ctx.get(x).as_slice(), ctx.get(w).as_slice(), B, I, O);
                Tensor::from_vec_unchecked(add_rows(xw, ctx.get(b).as_slice()))
            },
            move |ctx, dctx, _| {
                let dx_w =
                    kernels::mat_mul_nt(dctx.get(x).as_slice(), ctx.get(w).as_slice(), B, I, O);
                let x_dw =
                    kernels::mat_mul_nt(ctx.get(x).as_slice(), dctx.get(w).as_slice(), B, I, O);
                Tensor::from_vec_unchecked(add_rows(
                    kernels::add(&dx_w, &x_dw),
                    dctx.get(b).as_slice(),
                ))
            },
            move |ctx, _, seed| {
                let d = seed.as_slice();
                Pullback::none()
                    .with_if(ctx, w, || {
                        Tensor::from_vec_unchecked(kernels::mat_mul_tn(
                            d,
                            ctx.get(x).as_slice(),
                            O,
                            B,
                            I,
                        ))
                    })
                    .with_if(ctx, x, || {
                        Tensor::from_vec_unchecked(kernels::mat_mul(
                            d,
                            ctx.get(w).as_slice(),
                            B,
                            O,
                            I,
                        ))
                    })
                    .with_if(ctx, b, || {
                        // Σᵣ δᵣ, each column summed from 0 in row order.
                        let mut sums = vec![A::zero(); O];
                        for row in d.chunks(O.max(1)) {
                            for (acc, v) in sums.iter_mut().zip(row) {
                                *acc = acc.clone() + v.clone();
                            }
                        }
                        Tensor::from_vec_unchecked(sums)
                    })
            },
        )
    }
    node_from_kernel!(kernel(Slot::new(w.pos), Slot::new(x.pos), Slot::new(b.pos)))
}
