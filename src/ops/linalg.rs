//! Matrix ops: matrix–vector and matrix–matrix products, transpose, affine layers.
//!
//! Every product goes through [`Element::gemm`]. For exact scalars and small products each
//! inner product is a left fold from 0 in index order (Lean's `dot`); for large `f32`/`f64`
//! products the blocked kernel (`matrixmultiply`) is used, which is **not** a left fold: it
//! sums in its own blocked order, so only exact scalars and small products keep Lean's
//! summation order (the certified bounds below hold for any order).
//!
//! **Mathematics.** The products are bilinear, `d(W x) = dW x + W dx` and
//! `d(A B) = dA B + A dB`, and their adjoints for the Frobenius inner product
//! `⟨X, Y⟩ = Σᵢⱼ Xᵢⱼ Yᵢⱼ` are `W̄ = δ xᵀ`, `x̄ = Wᵀ δ`, `Ā = δ Bᵀ`, `B̄ = Aᵀ δ`. Transposition is
//! linear with adjoint `δ ↦ δᵀ`. The affine layers add a bias, whose VJP is `δ` (`linear`) or
//! the sum of the rows of `δ` (`linear_batch`, where one bias is added to every row).
//! Lean: `Proofs/Autograd/Tape/Algebra/Nodes.lean` for the node definitions.
//!
//! **Certified bounds.** The products ([`MatVec`], [`Matmul`], [`Linear`], [`LinearBatch`])
//! give closed-form bounds ([`Op::bound`], [`Op::vjp_bound`]) instead of the interval
//! enclosure: the a-priori dot-product bound, the input errors plus `γₖ·|A||B|` (`k` the inner
//! dimension), valid for any summation order, so also for the blocked runtime kernel. It costs
//! `O(m·k + k·n)` rather than interval matrix products. The affine layers add the bias error
//! and the rounding of the bias addition. [`Transpose`] (exact) uses the enclosure.
//!
//! **Accumulation.** Every product of these ops (forward, and the gradients `W̄`, `x̄`, `Ā`,
//! `B̄`) is one [`Element::gemm`] (or, for an outer product, the products themselves): for
//! `bf16`/`f16` it accumulates in `f32` and rounds each entry once, and its bound uses `f32`'s
//! `γₖ` plus one half-format rounding. The bias gradient of [`LinearBatch`], the column sums of
//! `δ`, is added in the runtime scalar's own arithmetic (in the half format for `bf16`/`f16`,
//! each addition rounded), and its bound uses that format's `γ`.

use smallvec::SmallVec;

use crate::approx::RuntimeFloat;
use crate::approx::dot_bound::{add_rounding, gemm_bound, gemm_kernel_bound};
use crate::approx::round::add_up;
use crate::autograd::op::{
    Eval, Op, OpNode, Operands, Pullback, Slot, SlotBounds, VjpBounds, op_node,
};
use crate::ops::kernels;
use crate::scalar::Element;
use crate::shape::{Matrix, Shape, Vector};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

use crate::autograd::op::distinct;

/// The rounding of the runtime addition that combined two contributions to `slot` (aliased
/// operands), bounded from the combined runtime contribution in `c`.
fn sum_rounding<R: RuntimeFloat, S: Shape>(c: &Pullback<R>, slot: Slot<S>) -> f64 {
    c.get(slot).map_or(0.0, |t| add_rounding(t.as_slice()))
}

/// The op `y = W x` for `W: M×N`, `x: N` (matrix–vector product, [`matvec`]).
#[derive(Clone, Copy, Debug)]
pub struct MatVec<const M: usize, const N: usize> {
    w: Slot<Matrix<M, N>>,
    x: Slot<Vector<N>>,
}

impl<const M: usize, const N: usize> Op for MatVec<M, N>
where
    Matrix<M, N>: Shape,
    Vector<N>: Shape,
    Vector<M>: Shape,
{
    type Out = Vector<M>;
    fn name(&self) -> &str {
        "matvec"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.w.pos(), self.x.pos()])
    }

    /// The a-priori bound on `W x`: input errors plus `γ_N·|W||x|`, for any summation order.
    fn bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        _y: &[R],
    ) -> Option<f64> {
        Some(gemm_kernel_bound(
            x.get(self.w).as_slice(),
            false,
            eps.get(self.w),
            x.get(self.x).as_slice(),
            false,
            eps.get(self.x),
            M,
            N,
            1,
        ))
    }

    /// The a-priori bounds on `W̄ = δ xᵀ` (inner dimension 1) and `x̄ = Wᵀ δ` (inner dimension
    /// `M`).
    fn vjp_bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        e_seed: f64,
        seed: &[R],
        _c: &Pullback<R>,
    ) -> Option<VjpBounds> {
        let (wv, xv) = (x.get(self.w), x.get(self.x));
        let ew = gemm_kernel_bound(
            seed,
            false,
            e_seed,
            xv.as_slice(),
            false,
            eps.get(self.x),
            M,
            1,
            N,
        );
        let ex = gemm_kernel_bound(
            wv.as_slice(),
            true,
            eps.get(self.w),
            seed,
            false,
            e_seed,
            N,
            M,
            1,
        );
        Some(VjpBounds::none().with(self.w, ew).with(self.x, ex))
    }
}

impl<A: Element, D, const M: usize, const N: usize> Eval<A, D> for MatVec<M, N>
where
    Matrix<M, N>: Shape,
    Vector<N>: Shape,
    Vector<M>: Shape,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Vector<M>> {
        Tensor::from_vec_unchecked(kernels::mat_vec(
            x.get(self.w).as_slice(),
            x.get(self.x).as_slice(),
            M,
            N,
        ))
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Vector<M>> {
        let dw_x = kernels::mat_vec(dx.get(self.w).as_slice(), x.get(self.x).as_slice(), M, N);
        let w_dx = kernels::mat_vec(x.get(self.w).as_slice(), dx.get(self.x).as_slice(), M, N);
        Tensor::from_vec_unchecked(kernels::add(&dw_x, &w_dx))
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, Vector<M>>) -> Pullback<A> {
        let d = seed.as_slice();
        Pullback::none()
            .with_if(x, self.w, || {
                Tensor::from_vec_unchecked(kernels::outer(d, x.get(self.x).as_slice()))
            })
            .with_if(x, self.x, || {
                Tensor::from_vec_unchecked(kernels::mat_t_vec(x.get(self.w).as_slice(), d, M, N))
            })
    }
}

/// `y = W x` for `W: M×N`, `x: N`: JVP `dW x + W dx`, VJP `W ↦ δ xᵀ, x ↦ Wᵀ δ`.
#[must_use]
pub fn matvec<G: ShapeList, const M: usize, const N: usize>(
    w: Idx<G, Matrix<M, N>>,
    x: Idx<G, Vector<N>>,
) -> OpNode<G, MatVec<M, N>>
where
    Matrix<M, N>: Shape,
    Vector<N>: Shape,
    Vector<M>: Shape,
{
    op_node!(MatVec {
        w: Slot::new(w.pos),
        x: Slot::new(x.pos),
    })
}

/// The op `C = A B` for `A: M×K`, `B: K×N` (matrix product, [`matmul`]).
#[derive(Clone, Copy, Debug)]
pub struct Matmul<const M: usize, const K: usize, const N: usize> {
    a: Slot<Matrix<M, K>>,
    b: Slot<Matrix<K, N>>,
}

impl<const M: usize, const K: usize, const N: usize> Op for Matmul<M, K, N>
where
    Matrix<M, K>: Shape,
    Matrix<K, N>: Shape,
    Matrix<M, N>: Shape,
{
    type Out = Matrix<M, N>;
    fn name(&self) -> &str {
        "matmul"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.a.pos(), self.b.pos()])
    }

    /// The a-priori bound on `A B`: input errors plus `γ_K·|A||B|`, for any summation order.
    fn bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        _y: &[R],
    ) -> Option<f64> {
        Some(gemm_kernel_bound(
            x.get(self.a).as_slice(),
            false,
            eps.get(self.a),
            x.get(self.b).as_slice(),
            false,
            eps.get(self.b),
            M,
            K,
            N,
        ))
    }

    /// The a-priori bounds on `Ā = δ Bᵀ` (inner dimension `N`) and `B̄ = Aᵀ δ` (inner
    /// dimension `M`); when `A` and `B` are one slot, both plus the rounding of their sum.
    fn vjp_bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> Option<VjpBounds> {
        let (av, bv) = (x.get(self.a), x.get(self.b));
        let ea = gemm_kernel_bound(
            seed,
            false,
            e_seed,
            bv.as_slice(),
            true,
            eps.get(self.b),
            M,
            N,
            K,
        );
        let eb = gemm_kernel_bound(
            av.as_slice(),
            true,
            eps.get(self.a),
            seed,
            false,
            e_seed,
            K,
            M,
            N,
        );
        Some(if self.a.pos() == self.b.pos() {
            // One slot receives δBᵀ + Aᵀδ: both errors plus the rounding of the sum, written
            // once (`with` twice would add the rounding-free bounds again).
            VjpBounds::none().with(self.a, add_up(add_up(ea, eb), sum_rounding(c, self.a)))
        } else {
            VjpBounds::none().with(self.a, ea).with(self.b, eb)
        })
    }
}

impl<A: Element, D, const M: usize, const K: usize, const N: usize> Eval<A, D> for Matmul<M, K, N>
where
    Matrix<M, K>: Shape,
    Matrix<K, N>: Shape,
    Matrix<M, N>: Shape,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Matrix<M, N>> {
        Tensor::from_vec_unchecked(kernels::mat_mul(
            x.get(self.a).as_slice(),
            x.get(self.b).as_slice(),
            M,
            K,
            N,
        ))
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Matrix<M, N>> {
        let da_b = kernels::mat_mul(dx.get(self.a).as_slice(), x.get(self.b).as_slice(), M, K, N);
        let a_db = kernels::mat_mul(x.get(self.a).as_slice(), dx.get(self.b).as_slice(), M, K, N);
        Tensor::from_vec_unchecked(kernels::add(&da_b, &a_db))
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, Matrix<M, N>>) -> Pullback<A> {
        let d = seed.as_slice();
        Pullback::none()
            .with_if(x, self.a, || {
                Tensor::from_vec_unchecked(kernels::mat_mul_nt(
                    d,
                    x.get(self.b).as_slice(),
                    M,
                    N,
                    K,
                ))
            })
            .with_if(x, self.b, || {
                Tensor::from_vec_unchecked(kernels::mat_mul_tn(
                    x.get(self.a).as_slice(),
                    d,
                    K,
                    M,
                    N,
                ))
            })
    }
}

/// `C = A B` for `A: M×K`, `B: K×N`: JVP `dA B + A dB`, VJP `A ↦ δ Bᵀ, B ↦ Aᵀ δ` (both
/// added to one slot when `A` and `B` are the same operand).
#[must_use]
pub fn matmul<G: ShapeList, const M: usize, const K: usize, const N: usize>(
    a: Idx<G, Matrix<M, K>>,
    b: Idx<G, Matrix<K, N>>,
) -> OpNode<G, Matmul<M, K, N>>
where
    Matrix<M, K>: Shape,
    Matrix<K, N>: Shape,
    Matrix<M, N>: Shape,
{
    op_node!(Matmul {
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}

/// The op `Y = Xᵀ` for `X: M×N` (transpose, [`transpose`]).
#[derive(Clone, Copy, Debug)]
pub struct Transpose<const M: usize, const N: usize> {
    x: Slot<Matrix<M, N>>,
}

impl<const M: usize, const N: usize> Op for Transpose<M, N>
where
    Matrix<M, N>: Shape,
    Matrix<N, M>: Shape,
{
    type Out = Matrix<N, M>;
    fn name(&self) -> &str {
        "transpose"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.x.pos()])
    }
}

impl<A: Element, D, const M: usize, const N: usize> Eval<A, D> for Transpose<M, N>
where
    Matrix<M, N>: Shape,
    Matrix<N, M>: Shape,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Matrix<N, M>> {
        Tensor::from_vec_unchecked(kernels::transpose(x.get(self.x).as_slice(), M, N))
    }
    fn jvp(&self, _: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Matrix<N, M>> {
        Tensor::from_vec_unchecked(kernels::transpose(dx.get(self.x).as_slice(), M, N))
    }
    fn vjp(&self, _: Operands<'_, A>, _: &D, seed: &Tensor<A, Matrix<N, M>>) -> Pullback<A> {
        Pullback::single(
            self.x,
            Tensor::from_vec_unchecked(kernels::transpose(seed.as_slice(), N, M)),
        )
    }
}

/// `Y = Xᵀ` for `X: M×N`: JVP `dXᵀ`, VJP `δᵀ`.
#[must_use]
pub fn transpose<G: ShapeList, const M: usize, const N: usize>(
    x: Idx<G, Matrix<M, N>>,
) -> OpNode<G, Transpose<M, N>>
where
    Matrix<M, N>: Shape,
    Matrix<N, M>: Shape,
{
    op_node!(Transpose {
        x: Slot::new(x.pos)
    })
}

/// The op `y = W x + b` for `W: O×I`, `x: I`, `b: O` (affine layer, [`linear`]).
#[derive(Clone, Copy, Debug)]
pub struct Linear<const O: usize, const I: usize> {
    w: Slot<Matrix<O, I>>,
    x: Slot<Vector<I>>,
    b: Slot<Vector<O>>,
}

impl<const O: usize, const I: usize> Op for Linear<O, I>
where
    Matrix<O, I>: Shape,
    Vector<I>: Shape,
    Vector<O>: Shape,
{
    type Out = Vector<O>;
    fn name(&self) -> &str {
        "linear"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.w.pos(), self.x.pos(), self.b.pos()])
    }

    /// The a-priori bound on `W x` (input errors plus `γ_I·|W||x|`), plus the bias error and
    /// the rounding of the bias addition (bounded from the runtime output).
    fn bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        y: &[R],
    ) -> Option<f64> {
        let wx = gemm_kernel_bound(
            x.get(self.w).as_slice(),
            false,
            eps.get(self.w),
            x.get(self.x).as_slice(),
            false,
            eps.get(self.x),
            O,
            I,
            1,
        );
        Some(add_up(add_up(wx, eps.get(self.b)), add_rounding(y)))
    }

    /// The a-priori bounds on `W̄ = δ xᵀ` and `x̄ = Wᵀ δ`, and the seed's error for `b̄ = δ`;
    /// when `x` and `b` are one slot, both plus the rounding of their sum.
    fn vjp_bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> Option<VjpBounds> {
        let (wv, xv) = (x.get(self.w), x.get(self.x));
        let ew = gemm_kernel_bound(
            seed,
            false,
            e_seed,
            xv.as_slice(),
            false,
            eps.get(self.x),
            O,
            1,
            I,
        );
        let ex = gemm_kernel_bound(
            wv.as_slice(),
            true,
            eps.get(self.w),
            seed,
            false,
            e_seed,
            I,
            O,
            1,
        );
        let bounds = VjpBounds::none().with(self.w, ew);
        Some(if self.x.pos() == self.b.pos() {
            // x and b alias (I = O): the slot receives Wᵀδ ⊕ δ, so both errors plus the
            // rounding of that sum, written once.
            bounds.with(self.x, add_up(add_up(ex, e_seed), sum_rounding(c, self.x)))
        } else {
            bounds.with(self.x, ex).with(self.b, e_seed)
        })
    }
}

impl<A: Element, D, const O: usize, const I: usize> Eval<A, D> for Linear<O, I>
where
    Matrix<O, I>: Shape,
    Vector<I>: Shape,
    Vector<O>: Shape,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Vector<O>> {
        let wx = kernels::mat_vec(x.get(self.w).as_slice(), x.get(self.x).as_slice(), O, I);
        Tensor::from_vec_unchecked(kernels::add(&wx, x.get(self.b).as_slice()))
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Vector<O>> {
        let dw_x = kernels::mat_vec(dx.get(self.w).as_slice(), x.get(self.x).as_slice(), O, I);
        let w_dx = kernels::mat_vec(x.get(self.w).as_slice(), dx.get(self.x).as_slice(), O, I);
        Tensor::from_vec_unchecked(kernels::add(
            &kernels::add(&dw_x, &w_dx),
            dx.get(self.b).as_slice(),
        ))
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, Vector<O>>) -> Pullback<A> {
        let d = seed.as_slice();
        Pullback::none()
            .with_if(x, self.w, || {
                Tensor::from_vec_unchecked(kernels::outer(d, x.get(self.x).as_slice()))
            })
            .with_if(x, self.x, || {
                Tensor::from_vec_unchecked(kernels::mat_t_vec(x.get(self.w).as_slice(), d, O, I))
            })
            .with_if(x, self.b, || seed.clone())
    }
}

/// The affine layer `y = W x + b` for `W: O×I`, `x: I`, `b: O`:
/// JVP `dW x + W dx + db`, VJP `W ↦ δ xᵀ, x ↦ Wᵀ δ, b ↦ δ`.
#[must_use]
pub fn linear<G: ShapeList, const O: usize, const I: usize>(
    w: Idx<G, Matrix<O, I>>,
    x: Idx<G, Vector<I>>,
    b: Idx<G, Vector<O>>,
) -> OpNode<G, Linear<O, I>>
where
    Matrix<O, I>: Shape,
    Vector<I>: Shape,
    Vector<O>: Shape,
{
    op_node!(Linear {
        w: Slot::new(w.pos),
        x: Slot::new(x.pos),
        b: Slot::new(b.pos),
    })
}

/// The op `Y = X Wᵀ + 1 bᵀ` for `W: O×I`, `X: B×I`, `b: O` (affine layer on a batch of rows,
/// [`linear_batch`]).
#[derive(Clone, Copy, Debug)]
pub struct LinearBatch<const B: usize, const O: usize, const I: usize> {
    w: Slot<Matrix<O, I>>,
    x: Slot<Matrix<B, I>>,
    b: Slot<Vector<O>>,
}

/// `bias` added to every row (of length `o`) of `y`.
fn add_rows<A: Element>(mut y: Vec<A>, bias: &[A], o: usize) -> Vec<A> {
    A::vectorized(
        #[inline(always)]
        || {
            for row in y.chunks_mut(o.max(1)) {
                for (v, c) in row.iter_mut().zip(bias) {
                    *v = v.clone() + c.clone();
                }
            }
        },
    );
    y
}

impl<const B: usize, const O: usize, const I: usize> Op for LinearBatch<B, O, I>
where
    Matrix<O, I>: Shape,
    Matrix<B, I>: Shape,
    Matrix<B, O>: Shape,
    Vector<O>: Shape,
{
    type Out = Matrix<B, O>;
    fn name(&self) -> &str {
        "linear_batch"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.w.pos(), self.x.pos(), self.b.pos()])
    }

    /// The a-priori bound on `X Wᵀ` (input errors plus `γ_I·|X||Wᵀ|`), plus the bias error and
    /// the rounding of the bias addition (bounded from the runtime output).
    fn bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        y: &[R],
    ) -> Option<f64> {
        let xw = gemm_kernel_bound(
            x.get(self.x).as_slice(),
            false,
            eps.get(self.x),
            x.get(self.w).as_slice(),
            true,
            eps.get(self.w),
            B,
            I,
            O,
        );
        Some(add_up(add_up(xw, eps.get(self.b)), add_rounding(y)))
    }

    /// The a-priori bounds on `W̄ = δᵀ X`, `X̄ = δ W` and `b̄ = δᵀ 𝟙` (the column sums, a
    /// product with an exact vector of ones); when `W` and `X` are one slot, both plus the
    /// rounding of their sum.
    fn vjp_bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> Option<VjpBounds> {
        let (wv, xv) = (x.get(self.w), x.get(self.x));
        let ones = vec![R::from_f64(1.0); B];
        let ew = gemm_kernel_bound(
            seed,
            true,
            e_seed,
            xv.as_slice(),
            false,
            eps.get(self.x),
            O,
            B,
            I,
        );
        let ex = gemm_kernel_bound(
            seed,
            false,
            e_seed,
            wv.as_slice(),
            false,
            eps.get(self.w),
            B,
            O,
            I,
        );
        // The column sums are added in R's own arithmetic (not one gemm): the bound for any
        // order and any mix of roundings in R.
        let eb = gemm_bound(seed, true, e_seed, &ones, false, 0.0, O, B, 1);
        let bounds = if self.w.pos() == self.x.pos() {
            // W and X alias (B = O): the slot receives δᵀX ⊕ δW, so both errors plus the
            // rounding of that sum, written once.
            VjpBounds::none().with(self.w, add_up(add_up(ew, ex), sum_rounding(c, self.w)))
        } else {
            VjpBounds::none().with(self.w, ew).with(self.x, ex)
        };
        Some(bounds.with(self.b, eb))
    }
}

impl<A: Element, D, const B: usize, const O: usize, const I: usize> Eval<A, D>
    for LinearBatch<B, O, I>
where
    Matrix<O, I>: Shape,
    Matrix<B, I>: Shape,
    Matrix<B, O>: Shape,
    Vector<O>: Shape,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Matrix<B, O>> {
        let xw = kernels::mat_mul_nt(x.get(self.x).as_slice(), x.get(self.w).as_slice(), B, I, O);
        Tensor::from_vec_unchecked(add_rows(xw, x.get(self.b).as_slice(), O))
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Matrix<B, O>> {
        let dx_w =
            kernels::mat_mul_nt(dx.get(self.x).as_slice(), x.get(self.w).as_slice(), B, I, O);
        let x_dw =
            kernels::mat_mul_nt(x.get(self.x).as_slice(), dx.get(self.w).as_slice(), B, I, O);
        Tensor::from_vec_unchecked(add_rows(
            kernels::add(&dx_w, &x_dw),
            dx.get(self.b).as_slice(),
            O,
        ))
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, Matrix<B, O>>) -> Pullback<A> {
        let d = seed.as_slice();
        Pullback::none()
            .with_if(x, self.w, || {
                Tensor::from_vec_unchecked(kernels::mat_mul_tn(
                    d,
                    x.get(self.x).as_slice(),
                    O,
                    B,
                    I,
                ))
            })
            .with_if(x, self.x, || {
                Tensor::from_vec_unchecked(kernels::mat_mul(d, x.get(self.w).as_slice(), B, O, I))
            })
            .with_if(x, self.b, || {
                // Σᵣ δᵣ, each column summed from 0 in row order.
                let mut sums = vec![A::zero(); O];
                A::vectorized(
                    #[inline(always)]
                    || {
                        for row in d.chunks(O.max(1)) {
                            for (acc, v) in sums.iter_mut().zip(row) {
                                *acc = acc.clone() + v.clone();
                            }
                        }
                    },
                );
                Tensor::from_vec_unchecked(sums)
            })
    }
}

/// The affine layer on a batch of rows, `Y = X Wᵀ + 1 bᵀ` for `W: O×I`, `X: B×I`, `b: O`
/// (row `r` of `Y` is `W xᵣ + b`): VJP `W ↦ δᵀ X, X ↦ δ W, b ↦ Σᵣ δᵣ`.
#[must_use]
pub fn linear_batch<G: ShapeList, const B: usize, const O: usize, const I: usize>(
    w: Idx<G, Matrix<O, I>>,
    x: Idx<G, Matrix<B, I>>,
    b: Idx<G, Vector<O>>,
) -> OpNode<G, LinearBatch<B, O, I>>
where
    Matrix<O, I>: Shape,
    Matrix<B, I>: Shape,
    Matrix<B, O>: Shape,
    Vector<O>: Shape,
{
    op_node!(LinearBatch {
        w: Slot::new(w.pos),
        x: Slot::new(x.pos),
        b: Slot::new(b.pos),
    })
}
