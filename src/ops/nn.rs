//! Layers of neural networks as ops: batched matmul, attention, normalisation, embedding and
//! dropout, named as in PyTorch (`torch.bmm`, `F.scaled_dot_product_attention`,
//! `F.layer_norm`, `F.rms_norm`, `F.batch_norm`, `F.embedding`, `F.dropout`).
//!
//! **Layouts.** Rows are the last axis: a `Matrix<T, D>` is `T` tokens of `D` features. Batched
//! ops take a leading batch axis, `Dim<BT, Matrix<M, K>>` (for attention, batch × heads).
//!
//! **Integer inputs.** `embedding` reads its token indices from an input slot holding exact
//! small integers of the graph's scalar (not differentiable), so the same graph runs in every
//! kind; an index that is not an integer in range gives a NaN row (and a `+∞` certified bound),
//! never a panic. `dropout` reads its mask from the environment `Δ` (see [`MaskSource`]).
//!
//! **Certified bounds.** `bmm` has the closed-form a-priori bound of the matrix ops; the other
//! ops are bounded by the interval enclosure of their own code (sound; loose for the
//! normalisations, whose `x − mean(x)` the intervals cannot correlate).

use smallvec::{SmallVec, smallvec};

use crate::approx::Interval;
use crate::approx::RuntimeFloat;
use crate::approx::dot_bound::{add_rounding, gemm_bound};
use crate::approx::round::{add_up, div_up, mul_up};
use crate::autograd::op::{
    Eval, Op, OpNode, Operands, Pullback, Slot, SlotBounds, VjpBounds, op_node,
};
use crate::ops::kernels::{self, lane_sum};
use crate::ops::loss::{softmax_pullback, softmax_pullback_into};
use crate::ops::{Constant, ConstantError};
use crate::scalar::{Element, Real};
use crate::shape::{Dim, Matrix, Scalar, Shape, Vector};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

use crate::autograd::op::distinct;

// ================================================================================ bmm

/// The op `C_b = A_b B_b` for every batch entry `b` ([`bmm`]).
#[derive(Clone, Copy, Debug)]
pub struct Bmm<const BT: usize, const M: usize, const K: usize, const N: usize> {
    a: Slot<Dim<BT, Matrix<M, K>>>,
    b: Slot<Dim<BT, Matrix<K, N>>>,
}

/// `f(A_b, B_b)` for each batch entry, concatenated.
fn per_batch<A: Clone>(
    bt: usize,
    (la, lb): (usize, usize),
    a: &[A],
    b: &[A],
    f: impl Fn(&[A], &[A]) -> Vec<A>,
) -> Vec<A> {
    let mut out = Vec::new();
    for i in 0..bt {
        out.extend(f(&a[i * la..(i + 1) * la], &b[i * lb..(i + 1) * lb]));
    }
    out
}

impl<const BT: usize, const M: usize, const K: usize, const N: usize> Op for Bmm<BT, M, K, N>
where
    Dim<BT, Matrix<M, K>>: Shape,
    Dim<BT, Matrix<K, N>>: Shape,
    Dim<BT, Matrix<M, N>>: Shape,
{
    type Out = Dim<BT, Matrix<M, N>>;
    fn name(&self) -> &str {
        "bmm"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.a.pos(), self.b.pos()])
    }

    /// The largest of the per-batch a-priori bounds of the products (input errors plus
    /// `γ_K·|A_b||B_b|`, valid for any summation order).
    fn bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        _: &[R],
    ) -> Option<f64> {
        let (a, b) = (x.get(self.a), x.get(self.b));
        let (ea, eb) = (eps.get(self.a), eps.get(self.b));
        let mut e = 0.0f64;
        for i in 0..BT {
            let ai = &a.as_slice()[i * M * K..(i + 1) * M * K];
            let bi = &b.as_slice()[i * K * N..(i + 1) * K * N];
            e = e.max(gemm_bound(ai, false, ea, bi, false, eb, M, K, N));
        }
        Some(e)
    }

    /// Per batch, the a-priori bounds of `δ_b B_bᵀ` and `A_bᵀ δ_b` (both plus the rounding of
    /// their sum when `A` and `B` are one slot).
    fn vjp_bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> Option<VjpBounds> {
        let (a, b) = (x.get(self.a), x.get(self.b));
        let (ea, eb) = (eps.get(self.a), eps.get(self.b));
        let (mut da, mut db) = (0.0f64, 0.0f64);
        for i in 0..BT {
            let ai = &a.as_slice()[i * M * K..(i + 1) * M * K];
            let bi = &b.as_slice()[i * K * N..(i + 1) * K * N];
            let di = &seed[i * M * N..(i + 1) * M * N];
            da = da.max(gemm_bound(di, false, e_seed, bi, true, eb, M, N, K));
            db = db.max(gemm_bound(ai, true, ea, di, false, e_seed, K, M, N));
        }
        Some(if self.a.pos() == self.b.pos() {
            let sum = c.get(self.a).map_or(0.0, |t| add_rounding(t.as_slice()));
            VjpBounds::none().with(self.a, add_up(add_up(da, db), sum))
        } else {
            VjpBounds::none().with(self.a, da).with(self.b, db)
        })
    }
}

impl<A: Element, D, const BT: usize, const M: usize, const K: usize, const N: usize> Eval<A, D>
    for Bmm<BT, M, K, N>
where
    Dim<BT, Matrix<M, K>>: Shape,
    Dim<BT, Matrix<K, N>>: Shape,
    Dim<BT, Matrix<M, N>>: Shape,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Dim<BT, Matrix<M, N>>> {
        let (a, b) = (x.get(self.a), x.get(self.b));
        Tensor::from_vec_unchecked(per_batch(
            BT,
            (M * K, K * N),
            a.as_slice(),
            b.as_slice(),
            |a, b| kernels::mat_mul(a, b, M, K, N),
        ))
    }
    fn jvp(
        &self,
        x: Operands<'_, A>,
        dx: Operands<'_, A>,
        _: &D,
    ) -> Tensor<A, Dim<BT, Matrix<M, N>>> {
        let (a, b) = (x.get(self.a), x.get(self.b));
        let (da, db) = (dx.get(self.a), dx.get(self.b));
        let l = per_batch(BT, (M * K, K * N), da.as_slice(), b.as_slice(), |a, b| {
            kernels::mat_mul(a, b, M, K, N)
        });
        let r = per_batch(BT, (M * K, K * N), a.as_slice(), db.as_slice(), |a, b| {
            kernels::mat_mul(a, b, M, K, N)
        });
        Tensor::from_vec_unchecked(kernels::add(&l, &r))
    }
    fn vjp(
        &self,
        x: Operands<'_, A>,
        _: &D,
        seed: &Tensor<A, Dim<BT, Matrix<M, N>>>,
    ) -> Pullback<A> {
        let (a, b) = (x.get(self.a), x.get(self.b));
        let d = seed.as_slice();
        Pullback::none()
            .with_if(x, self.a, || {
                Tensor::from_vec_unchecked(per_batch(
                    BT,
                    (M * N, K * N),
                    d,
                    b.as_slice(),
                    |d, b| kernels::mat_mul_nt(d, b, M, N, K),
                ))
            })
            .with_if(x, self.b, || {
                Tensor::from_vec_unchecked(per_batch(
                    BT,
                    (M * K, M * N),
                    a.as_slice(),
                    d,
                    |a, d| kernels::mat_mul_tn(a, d, K, M, N),
                ))
            })
    }
}

/// Batched matrix product `C_b = A_b B_b` (`torch.bmm`): `Dim<BT, Matrix<M, K>>` times
/// `Dim<BT, Matrix<K, N>>`.
#[must_use]
pub fn bmm<G: ShapeList, const BT: usize, const M: usize, const K: usize, const N: usize>(
    a: Idx<G, Dim<BT, Matrix<M, K>>>,
    b: Idx<G, Dim<BT, Matrix<K, N>>>,
) -> OpNode<G, Bmm<BT, M, K, N>>
where
    Dim<BT, Matrix<M, K>>: Shape,
    Dim<BT, Matrix<K, N>>: Shape,
    Dim<BT, Matrix<M, N>>: Shape,
{
    op_node!(Bmm {
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}

// ====================================================================== attention

/// The op `softmax(Q Kᵀ / √D + mask) V` per batch entry ([`scaled_dot_product_attention`]).
#[derive(Clone, Copy, Debug)]
pub struct Attention<
    const BT: usize,
    const T: usize,
    const S: usize,
    const D: usize,
    const DV: usize,
> {
    q: Slot<Dim<BT, Matrix<T, D>>>,
    k: Slot<Dim<BT, Matrix<S, D>>>,
    v: Slot<Dim<BT, Matrix<S, DV>>>,
    causal: bool,
}

/// Products below this size (`m·k·n`) run in [`head_product`]'s inlined left fold; larger ones
/// go to [`Element::gemm`] (the blocked kernel for `f32`/`f64` from 4096 on).
const HEAD_PRODUCT_INLINE: usize = 4096;

/// The column block of [`head_product`]: a row accumulates this many entries at a time in
/// registers.
const HEAD_ROW: usize = 16;

/// `C = op(A) · B` into `c` (`m×n`, row-major), `op(A)` of size `m×k` (`A` stored `k×m` and
/// transposed when `ta`), `B` row-major `k×n`: every entry the left fold
/// `((0 + a₀b₀) + a₁b₁) + …` in index order (as [`Element::gemm`] computes small products),
/// inlined so that the constant sizes of an attention head unroll; large products go to
/// [`Element::gemm`].
#[inline(always)]
fn head_product<A: Real>(
    a: &[A],
    ta: bool,
    b: &[A],
    (m, k, n): (usize, usize, usize),
    c: &mut [A],
) {
    if m * k * n >= HEAD_PRODUCT_INLINE {
        c.clone_from_slice(&A::gemm(a, ta, b, false, m, k, n));
        return;
    }
    // Each row in blocks of at most `HEAD_ROW` columns, accumulated in a local array (registers,
    // for the constant head sizes): every entry is still the left fold over `l` in order.
    for (i, row) in c.chunks_exact_mut(n.max(1)).enumerate().take(m) {
        for (blk, out) in row.chunks_mut(HEAD_ROW).enumerate() {
            let j0 = blk * HEAD_ROW;
            let mut acc = [A::zero(); HEAD_ROW];
            let acc = &mut acc[..out.len()];
            for (l, bl) in b.chunks_exact(n.max(1)).enumerate().take(k) {
                let ail = if ta { a[l * m + i] } else { a[i * k + l] };
                for (s, &blj) in acc.iter_mut().zip(&bl[j0..]) {
                    *s = *s + ail * blj;
                }
            }
            out.copy_from_slice(acc);
        }
    }
}

/// `Xᵀ` of a row-major `m×n` matrix `x`, into `out` (`n×m`).
#[inline(always)]
fn transpose_into<A: Clone>(x: &[A], m: usize, n: usize, out: &mut [A]) {
    for i in 0..m {
        for j in 0..n {
            out[j * m + i] = x[i * n + j].clone();
        }
    }
}

/// One batch entry's attention weights `P = softmax(Q Kᵀ / √D)` into `p` (`t×s`; rows over
/// keys; with `causal`, key `j > i` gets weight 0). `kt` receives `Kᵀ`, laid out first so that
/// the scores `Q · (Kᵀ)` run along contiguous rows (each score is still the sum over `l < D`
/// in order).
#[inline(always)]
fn attention_weights<A: Real>(
    (q, k): (&[A], &[A]),
    (t, s, d): (usize, usize, usize),
    causal: bool,
    kt: &mut [A],
    p: &mut [A],
) {
    let scale = A::one() / A::from_f64(d as f64).sqrt();
    transpose_into(k, s, d, kt);
    head_product(q, false, kt, (t, d, s), p);
    for (i, row) in p.chunks_exact_mut(s.max(1)).enumerate().take(t) {
        let allowed = if causal { (i + 1).min(s) } else { s };
        let m = row[..allowed.max(1)]
            .iter()
            .fold(row[0] * scale, |m, &v| m.max(v * scale));
        for (j, v) in row.iter_mut().enumerate() {
            *v = if j < allowed {
                (*v * scale - m).exp()
            } else {
                A::zero()
            };
        }
        let sum = row.iter().fold(A::zero(), |acc, &v| acc + v);
        for v in row.iter_mut() {
            *v = *v / sum;
        }
    }
}

impl<const BT: usize, const T: usize, const S: usize, const D: usize, const DV: usize> Op
    for Attention<BT, T, S, D, DV>
where
    Dim<BT, Matrix<T, D>>: Shape,
    Dim<BT, Matrix<S, D>>: Shape,
    Dim<BT, Matrix<S, DV>>: Shape,
    Dim<BT, Matrix<T, DV>>: Shape,
{
    type Out = Dim<BT, Matrix<T, DV>>;
    fn name(&self) -> &str {
        if self.causal {
            "causal_attention"
        } else {
            "attention"
        }
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.q.pos(), self.k.pos(), self.v.pos()])
    }
}

impl<A: Real, E, const BT: usize, const T: usize, const S: usize, const D: usize, const DV: usize>
    Eval<A, E> for Attention<BT, T, S, D, DV>
where
    Dim<BT, Matrix<T, D>>: Shape,
    Dim<BT, Matrix<S, D>>: Shape,
    Dim<BT, Matrix<S, DV>>: Shape,
    Dim<BT, Matrix<T, DV>>: Shape,
{
    fn forward(&self, x: Operands<'_, A>, _: &E) -> Tensor<A, Dim<BT, Matrix<T, DV>>> {
        let (q, k, v) = (x.get(self.q), x.get(self.k), x.get(self.v));
        let (q, k, v) = (q.as_slice(), k.as_slice(), v.as_slice());
        let mut out = vec![A::zero(); BT * T * DV];
        let (mut kt, mut p) = (vec![A::zero(); D * S], vec![A::zero(); T * S]);
        A::vectorized(
            #[inline(always)]
            || {
                for (b, ob) in out.chunks_exact_mut((T * DV).max(1)).enumerate().take(BT) {
                    let qb = &q[b * T * D..(b + 1) * T * D];
                    let kb = &k[b * S * D..(b + 1) * S * D];
                    let vb = &v[b * S * DV..(b + 1) * S * DV];
                    attention_weights((qb, kb), (T, S, D), self.causal, &mut kt, &mut p);
                    head_product(&p, false, vb, (T, S, DV), ob);
                }
            },
        );
        Tensor::from_vec_unchecked(out)
    }
    fn jvp(
        &self,
        x: Operands<'_, A>,
        dx: Operands<'_, A>,
        _: &E,
    ) -> Tensor<A, Dim<BT, Matrix<T, DV>>> {
        let scale = A::one() / A::from_f64(D as f64).sqrt();
        let (q, k, v) = (x.get(self.q), x.get(self.k), x.get(self.v));
        let (dq, dk, dv) = (dx.get(self.q), dx.get(self.k), dx.get(self.v));
        let mut out = Vec::with_capacity(BT * T * DV);
        for b in 0..BT {
            let r = |t: &[A], n: usize| t[b * n..(b + 1) * n].to_vec();
            let (qb, kb, vb) = (
                r(q.as_slice(), T * D),
                r(k.as_slice(), S * D),
                r(v.as_slice(), S * DV),
            );
            let (dqb, dkb, dvb) = (
                r(dq.as_slice(), T * D),
                r(dk.as_slice(), S * D),
                r(dv.as_slice(), S * DV),
            );
            let (mut kt, mut p) = (vec![A::zero(); D * S], vec![A::zero(); T * S]);
            attention_weights((&qb, &kb), (T, S, D), self.causal, &mut kt, &mut p);
            // d(scores) = (dQ Kᵀ + Q dKᵀ) / √D (masked entries have P = 0 and drop out).
            let ds: Vec<A> = kernels::add(
                &kernels::mat_mul_nt(&dqb, &kb, T, D, S),
                &kernels::mat_mul_nt(&qb, &dkb, T, D, S),
            )
            .into_iter()
            .map(|v| v * scale)
            .collect();
            let dp = softmax_pullback(&p, &ds, S);
            out.extend(kernels::add(
                &kernels::mat_mul(&dp, &vb, T, S, DV),
                &kernels::mat_mul(&p, &dvb, T, S, DV),
            ));
        }
        Tensor::from_vec_unchecked(out)
    }
    fn vjp(
        &self,
        x: Operands<'_, A>,
        _: &E,
        seed: &Tensor<A, Dim<BT, Matrix<T, DV>>>,
    ) -> Pullback<A> {
        let scale = A::one() / A::from_f64(D as f64).sqrt();
        let (q, k, v) = (x.get(self.q), x.get(self.k), x.get(self.v));
        let (q, k, v, seed) = (q.as_slice(), k.as_slice(), v.as_slice(), seed.as_slice());
        let (mut gq, mut gk, mut gv) = (
            vec![A::zero(); BT * T * D],
            vec![A::zero(); BT * S * D],
            vec![A::zero(); BT * S * DV],
        );
        let (mut kt, mut p) = (vec![A::zero(); D * S], vec![A::zero(); T * S]);
        let (mut vt, mut dp) = (vec![A::zero(); DV * S], vec![A::zero(); T * S]);
        let mut ds = vec![A::zero(); T * S];
        A::vectorized(
            #[inline(always)]
            || {
                for b in 0..BT {
                    let qb = &q[b * T * D..(b + 1) * T * D];
                    let kb = &k[b * S * D..(b + 1) * S * D];
                    let vb = &v[b * S * DV..(b + 1) * S * DV];
                    let db = &seed[b * T * DV..(b + 1) * T * DV];
                    attention_weights((qb, kb), (T, S, D), self.causal, &mut kt, &mut p);
                    // V̄ = Pᵀ δ; P̄ = δ Vᵀ; score bar = softmax pullback of P̄, times 1/√D.
                    let gvb = &mut gv[b * S * DV..(b + 1) * S * DV];
                    head_product(&p, true, db, (S, T, DV), gvb);
                    transpose_into(vb, S, DV, &mut vt);
                    head_product(db, false, &vt, (T, DV, S), &mut dp);
                    softmax_pullback_into(&p, &dp, S, &mut ds);
                    for v in ds.iter_mut() {
                        *v = *v * scale;
                    }
                    let gqb = &mut gq[b * T * D..(b + 1) * T * D];
                    head_product(&ds, false, kb, (T, S, D), gqb);
                    let gkb = &mut gk[b * S * D..(b + 1) * S * D];
                    head_product(&ds, true, qb, (S, T, D), gkb);
                }
            },
        );
        Pullback::none()
            .with_if(x, self.q, || Tensor::from_vec_unchecked(gq))
            .with_if(x, self.k, || Tensor::from_vec_unchecked(gk))
            .with_if(x, self.v, || Tensor::from_vec_unchecked(gv))
    }
}

/// Scaled dot-product attention `softmax(Q Kᵀ / √D) V` for every batch entry (batch × heads
/// on the leading axis; `F.scaled_dot_product_attention`): queries `Dim<BT, Matrix<T, D>>`,
/// keys `Dim<BT, Matrix<S, D>>`, values `Dim<BT, Matrix<S, DV>>`. With `causal`, query `i`
/// attends to keys `0..=i` only (PyTorch's `is_causal=True`).
#[must_use]
pub fn scaled_dot_product_attention<
    G: ShapeList,
    const BT: usize,
    const T: usize,
    const S: usize,
    const D: usize,
    const DV: usize,
>(
    q: Idx<G, Dim<BT, Matrix<T, D>>>,
    k: Idx<G, Dim<BT, Matrix<S, D>>>,
    v: Idx<G, Dim<BT, Matrix<S, DV>>>,
    causal: bool,
) -> OpNode<G, Attention<BT, T, S, D, DV>>
where
    Dim<BT, Matrix<T, D>>: Shape,
    Dim<BT, Matrix<S, D>>: Shape,
    Dim<BT, Matrix<S, DV>>: Shape,
    Dim<BT, Matrix<T, DV>>: Shape,
{
    op_node!(Attention {
        q: Slot::new(q.pos),
        k: Slot::new(k.pos),
        v: Slot::new(v.pos),
        causal,
    })
}

// ================================================================== normalisation

/// Which groups a normalisation standardises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Groups {
    /// Each row (the last axis): layer norm, RMS norm.
    Rows,
    /// Each column (over the batch, the first axis): batch norm in training.
    Columns,
}

/// The shape `S` ends with an axis of length `C` (the features a normalisation's affine
/// parameters `Vector<C>` act on).
pub trait LastAxis<const C: usize>: Shape {}
impl<const C: usize> LastAxis<C> for Dim<C, Scalar> where Dim<C, Scalar>: Shape {}
impl<const N: usize, const M: usize, const C: usize, S> LastAxis<C> for Dim<N, Dim<M, S>>
where
    Dim<M, S>: LastAxis<C>,
    Dim<N, Dim<M, S>>: Shape,
{
}

/// The op `y = γ ⊙ x̂ + β` with `x̂` the standardised groups of `x` ([`layer_norm`],
/// [`rms_norm`] (no centring, no `β`), [`batch_norm`]).
#[derive(Clone, Copy, Debug)]
pub struct Norm<S, const C: usize, E> {
    x: Slot<S>,
    gamma: Slot<Vector<C>>,
    beta: Option<Slot<Vector<C>>>,
    eps: E,
    groups: Groups,
    centre: bool,
}

/// The index of entry `i` of group `g` (rows of length `c` or columns of `n / c` entries).
#[inline(always)]
fn at(groups: Groups, c: usize, g: usize, i: usize) -> usize {
    match groups {
        Groups::Rows => g * c + i,
        Groups::Columns => i * c + g,
    }
}

impl<S: Shape, const C: usize, E> Norm<S, C, E> {
    /// Number of groups and their length.
    fn layout(&self) -> (usize, usize) {
        let rows = S::SIZE / C.max(1);
        match self.groups {
            Groups::Rows => (rows, C),
            Groups::Columns => (C, rows),
        }
    }

    /// The feature (affine-parameter index) of entry `i` of group `g`.
    fn feature(&self, g: usize, i: usize) -> usize {
        match self.groups {
            Groups::Rows => i,
            Groups::Columns => g,
        }
    }

    /// `x̂` and, per group, `r = 1/√(var + ε)` (var of the centred or raw values).
    fn standardise<A: Real>(&self, x: &[A], eps: A) -> (Vec<A>, Vec<A>) {
        let (ng, len) = self.layout();
        let n = A::from_i64(len.max(1) as i64);
        let mut xh = vec![A::zero(); x.len()];
        let mut rs = Vec::with_capacity(ng);
        A::vectorized(
            #[inline(always)]
            || self.standardise_into(x, eps, n, &mut xh, &mut rs),
        );
        (xh, rs)
    }

    /// The loop of [`Self::standardise`]: `x̂` into `xh`, the `1/σ` of each group onto `rs`.
    /// The layout is matched once, so that each copy of the loop has a branch-free index
    /// (contiguous rows vectorise).
    #[inline(always)]
    fn standardise_into<A: Real>(&self, x: &[A], eps: A, n: A, xh: &mut [A], rs: &mut Vec<A>) {
        match self.groups {
            Groups::Rows => {
                self.standardise_at(|g, i| at(Groups::Rows, C, g, i), x, (eps, n), xh, rs)
            }
            Groups::Columns => {
                self.standardise_at(|g, i| at(Groups::Columns, C, g, i), x, (eps, n), xh, rs)
            }
        }
    }

    /// [`Self::standardise_into`] with entry `i` of group `g` at `idx(g, i)`.
    #[inline(always)]
    fn standardise_at<A: Real>(
        &self,
        idx: impl Fn(usize, usize) -> usize,
        x: &[A],
        (eps, n): (A, A),
        xh: &mut [A],
        rs: &mut Vec<A>,
    ) {
        let (ng, len) = self.layout();
        for g in 0..ng {
            let mu = if self.centre {
                lane_sum(len, |i| x[idx(g, i)]) / n
            } else {
                A::zero()
            };
            let var = lane_sum(len, |i| {
                let d = x[idx(g, i)] - mu;
                d * d
            }) / n;
            let r = A::one() / (var + eps).sqrt();
            for i in 0..len {
                xh[idx(g, i)] = (x[idx(g, i)] - mu) * r;
            }
            rs.push(r);
        }
    }

    /// The pullback of `g = ∂L/∂x̂` to `x`: per group
    /// `r (g − mean(g) − x̂ mean(g x̂))` (without the `mean(g)` term when not centring).
    fn back<A: Real>(&self, xh: &[A], rs: &[A], g: &[A]) -> Vec<A> {
        let (_, len) = self.layout();
        let n = A::from_i64(len.max(1) as i64);
        let mut out = vec![A::zero(); g.len()];
        A::vectorized(
            #[inline(always)]
            || self.back_into(xh, rs, g, n, &mut out),
        );
        out
    }

    /// The loop of [`Self::back`], into `out` (the layout matched once, as in
    /// [`Self::standardise_into`]).
    #[inline(always)]
    fn back_into<A: Real>(&self, xh: &[A], rs: &[A], g: &[A], n: A, out: &mut [A]) {
        match self.groups {
            Groups::Rows => self.back_at(|k, i| at(Groups::Rows, C, k, i), (xh, rs, g), n, out),
            Groups::Columns => {
                self.back_at(|k, i| at(Groups::Columns, C, k, i), (xh, rs, g), n, out)
            }
        }
    }

    /// [`Self::back_into`] with entry `i` of group `k` at `idx(k, i)`.
    #[inline(always)]
    fn back_at<A: Real>(
        &self,
        idx: impl Fn(usize, usize) -> usize,
        (xh, rs, g): (&[A], &[A], &[A]),
        n: A,
        out: &mut [A],
    ) {
        let (ng, len) = self.layout();
        for (k, &r) in rs.iter().enumerate().take(ng) {
            let mg = if self.centre {
                lane_sum(len, |i| g[idx(k, i)]) / n
            } else {
                A::zero()
            };
            let mgx = lane_sum(len, |i| g[idx(k, i)] * xh[idx(k, i)]) / n;
            for i in 0..len {
                out[idx(k, i)] = r * (g[idx(k, i)] - mg - xh[idx(k, i)] * mgx);
            }
        }
    }
}

impl<S: Shape, const C: usize, E: Constant<Interval> + Copy> Op for Norm<S, C, E>
where
    Vector<C>: Shape,
{
    type Out = S;
    fn name(&self) -> &str {
        match (self.groups, self.centre) {
            (Groups::Rows, true) => "layer_norm",
            (Groups::Rows, false) => "rms_norm",
            (Groups::Columns, _) => "batch_norm",
        }
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        let mut r: SmallVec<[usize; 4]> = smallvec![self.x.pos(), self.gamma.pos()];
        if let Some(b) = self.beta {
            r.push(b.pos());
        }
        distinct(&r)
    }

    /// The smaller of the interval enclosure and a closed form that keeps the correlation of
    /// `x − mean(x)` (which the enclosure loses). Per group of `n` entries, over the box
    /// `|xS − x̂| ≤ εₓ`: the standard deviation moves by at most `εₓ` (it is `‖x − μ‖₂/√n`), so
    /// `r = 1/√(var + ε) ≤ r̄ = 1/√(max(σ̂ − εₓ, 0)² + ε)`; `x̂ = (x − μ) r` has
    /// `Σₖ |∂x̂ᵢ/∂xₖ| ≤ r (c + |x̂ᵢ|)` (`c = 2` centred, `1` for RMS) with `|x̂ᵢ| ≤ Xᵢ`, its value
    /// at the point moved by `r̄ (c + √n) εₓ` and at most `√n`; hence
    /// `|yS − ŷ|ᵢ ≤ (|γ̂| + ε_γ) r̄ (c + Xᵢ) εₓ + ε_γ Xᵢ + ε_β + ρ`, with `ρ` the rounding at the
    /// runtime point (the enclosure at zero width). `σ̂` is bounded below rigorously from that
    /// point enclosure.
    fn bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        y: &[R],
    ) -> Option<f64> {
        let lifted = crate::approx::node::lifted_bound(self, eps, x, y);
        let (ex, eg) = (eps.get(self.x), eps.get(self.gamma));
        let eb = self.beta.map_or(0.0, |b| eps.get(b));
        if !(ex.is_finite() && eg.is_finite() && eb.is_finite()) {
            return Some(lifted);
        }
        let rho = crate::approx::node::point_rounding(self, x, y);
        let eps_c = Constant::<Interval>::at(&self.eps);
        let points: Vec<Interval> = x
            .raw(self.x.pos())
            .iter()
            .map(|v| Interval::point(v.to_f64_exact()))
            .collect();
        let (xh, rs) = self.standardise(&points, eps_c);
        let (_, len) = self.layout();
        let (root_n, c) = (
            (len as f64).sqrt().next_up(),
            if self.centre { 2.0 } else { 1.0 },
        );
        let gamma = x.raw(self.gamma.pos());
        let ec = eps_c.hi();
        let mut worst = 0.0f64;
        for (g, r) in rs.iter().enumerate() {
            // σ̂ ≥ √(1/r̂² − ε) from the enclosure of r̂ at the point, then over the box.
            let inv_r2 = 1.0 / (r.hi() * r.hi());
            let sigma =
                crate::approx::round::sqrt_down((inv_r2.next_down().next_down() - ec).max(0.0));
            let smin = (sigma - ex).max(0.0).next_down().max(0.0);
            let r_bar = div_up(
                1.0,
                crate::approx::round::sqrt_down(smin * smin + eps_c.lo()),
            );
            for i in 0..len {
                let f = self.feature(g, i);
                let gf = add_up(gamma[f].to_f64_exact().abs(), eg);
                // sup |x̂ᵢ| over the box: its value at the point moved by the crude Lipschitz
                // bound, and never above √n.
                let at_point = xh[at(self.groups, C, g, i)].abs().hi();
                let crude = mul_up(mul_up(r_bar, add_up(c, root_n)), ex);
                let xs = add_up(at_point, crude).min(root_n);
                let tx = mul_up(mul_up(gf, r_bar), mul_up(add_up(c, xs), ex));
                let e = add_up(add_up(tx, mul_up(eg, xs)), eb);
                worst = worst.max(e);
            }
        }
        Some(add_up(worst, rho).min(lifted))
    }
}

impl<A: Real, D, S: Shape, const C: usize, E: Constant<A> + Constant<Interval> + Copy> Eval<A, D>
    for Norm<S, C, E>
where
    Vector<C>: Shape,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let (xh, _) = self.standardise(x.get(self.x).as_slice(), self.eps.at());
        let (gamma, beta) = (x.get(self.gamma), self.beta.map(|b| x.get(b)));
        let (gamma, beta) = (gamma.as_slice(), beta.as_ref().map(|b| b.as_slice()));
        let (ng, len) = self.layout();
        let mut y = vec![A::zero(); xh.len()];
        A::vectorized(
            #[inline(always)]
            || match (self.groups, beta) {
                // Rows of features (layer and RMS norm): contiguous, branch-free loops.
                (Groups::Rows, Some(beta)) => {
                    for (yr, xr) in y.chunks_mut(len.max(1)).zip(xh.chunks(len.max(1))) {
                        for ((v, x), (g, b)) in yr.iter_mut().zip(xr).zip(gamma.iter().zip(beta)) {
                            *v = *x * *g + *b;
                        }
                    }
                }
                (Groups::Rows, None) => {
                    for (yr, xr) in y.chunks_mut(len.max(1)).zip(xh.chunks(len.max(1))) {
                        for ((v, x), g) in yr.iter_mut().zip(xr).zip(gamma) {
                            *v = *x * *g + A::zero();
                        }
                    }
                }
                _ => {
                    for g in 0..ng {
                        for i in 0..len {
                            let (j, f) = (at(self.groups, C, g, i), self.feature(g, i));
                            let b = beta.map_or(A::zero(), |b| b[f]);
                            y[j] = xh[j] * gamma[f] + b;
                        }
                    }
                }
            },
        );
        Tensor::from_vec_unchecked(y)
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let (xh, rs) = self.standardise(x.get(self.x).as_slice(), self.eps.at());
        // dx̂ is the (self-adjoint) pullback applied to dx.
        let dxh = self.back(&xh, &rs, dx.get(self.x).as_slice());
        let (gamma, dgamma) = (x.get(self.gamma), dx.get(self.gamma));
        let dbeta = self.beta.map(|b| dx.get(b));
        let (ng, len) = self.layout();
        let mut y = vec![A::zero(); xh.len()];
        for g in 0..ng {
            for i in 0..len {
                let (j, f) = (at(self.groups, C, g, i), self.feature(g, i));
                let db = dbeta.as_ref().map_or(A::zero(), |b| b.as_slice()[f]);
                y[j] = dxh[j] * gamma.as_slice()[f] + xh[j] * dgamma.as_slice()[f] + db;
            }
        }
        Tensor::from_vec_unchecked(y)
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, S>) -> Pullback<A> {
        let (xh, rs) = self.standardise(x.get(self.x).as_slice(), self.eps.at());
        let (gamma, d) = (x.get(self.gamma), seed.as_slice());
        let (ng, len) = self.layout();
        let gamma = gamma.as_slice();
        let mut g = vec![A::zero(); d.len()];
        let (mut dgamma, mut dbeta) = (vec![A::zero(); C], vec![A::zero(); C]);
        A::vectorized(
            #[inline(always)]
            || match self.groups {
                // Rows of features: every row adds into the per-feature sums, in row order.
                Groups::Rows => {
                    let l = len.max(1);
                    for ((gr, dr), xr) in g.chunks_mut(l).zip(d.chunks(l)).zip(xh.chunks(l)) {
                        let feats = gamma.iter().zip(dgamma.iter_mut().zip(dbeta.iter_mut()));
                        for (((gv, &dv), &xv), (&gm, (dg, db))) in
                            gr.iter_mut().zip(dr).zip(xr).zip(feats)
                        {
                            *gv = dv * gm;
                            *dg = *dg + dv * xv;
                            *db = *db + dv;
                        }
                    }
                }
                Groups::Columns => {
                    for grp in 0..ng {
                        for i in 0..len {
                            let (j, f) = (at(self.groups, C, grp, i), self.feature(grp, i));
                            g[j] = d[j] * gamma[f];
                            dgamma[f] = dgamma[f] + d[j] * xh[j];
                            dbeta[f] = dbeta[f] + d[j];
                        }
                    }
                }
            },
        );
        let mut pb = Pullback::none()
            .with_if(x, self.x, || {
                Tensor::from_vec_unchecked(self.back(&xh, &rs, &g))
            })
            .with_if(x, self.gamma, || Tensor::from_vec_unchecked(dgamma));
        if let Some(b) = self.beta {
            pb = pb.with_if(x, b, || Tensor::from_vec_unchecked(dbeta));
        }
        pb
    }
}

fn check_eps<C: Constant<C>>(op: &'static str, eps: &C) -> Result<(), ConstantError> {
    if eps.is_finite() && eps.value() > 0.0 {
        Ok(())
    } else {
        Err(ConstantError {
            op,
            value: eps.value(),
            needs: "a finite ε > 0",
        })
    }
}

/// Layer normalisation over the last axis (`F.layer_norm(x, (C,), γ, β, eps)`): each row
/// `x̂ = (x − mean) / √(var + ε)` (biased variance), then `γ ⊙ x̂ + β`.
pub fn layer_norm<G: ShapeList, S: LastAxis<C>, const C: usize, E: Constant<E> + Copy>(
    x: Idx<G, S>,
    gamma: Idx<G, Vector<C>>,
    beta: Idx<G, Vector<C>>,
    eps: E,
) -> Result<OpNode<G, Norm<S, C, E>>, ConstantError>
where
    Vector<C>: Shape,
{
    check_eps("layer_norm", &eps)?;
    Ok(op_node!(Norm {
        x: Slot::new(x.pos),
        gamma: Slot::new(gamma.pos),
        beta: Some(Slot::new(beta.pos)),
        eps,
        groups: Groups::Rows,
        centre: true,
    }))
}

/// RMS normalisation over the last axis (`F.rms_norm(x, (C,), γ, eps)`): each row
/// `x / √(mean(x²) + ε)`, then `γ ⊙ ·`.
pub fn rms_norm<G: ShapeList, S: LastAxis<C>, const C: usize, E: Constant<E> + Copy>(
    x: Idx<G, S>,
    gamma: Idx<G, Vector<C>>,
    eps: E,
) -> Result<OpNode<G, Norm<S, C, E>>, ConstantError>
where
    Vector<C>: Shape,
{
    check_eps("rms_norm", &eps)?;
    Ok(op_node!(Norm {
        x: Slot::new(x.pos),
        gamma: Slot::new(gamma.pos),
        beta: None,
        eps,
        groups: Groups::Rows,
        centre: false,
    }))
}

/// Batch normalisation in training mode (`F.batch_norm(x, None, None, γ, β, training=True,
/// eps=eps)` on a `Matrix<B, C>`): each feature (column) standardised with the batch's mean and
/// biased variance, then `γ ⊙ x̂ + β`. In inference, with given statistics, it is an affine map:
/// see [`batch_norm_inference`].
pub fn batch_norm<G: ShapeList, const B: usize, const C: usize, E: Constant<E> + Copy>(
    x: Idx<G, Matrix<B, C>>,
    gamma: Idx<G, Vector<C>>,
    beta: Idx<G, Vector<C>>,
    eps: E,
) -> Result<OpNode<G, Norm<Matrix<B, C>, C, E>>, ConstantError>
where
    Matrix<B, C>: Shape,
    Vector<C>: Shape,
{
    check_eps("batch_norm", &eps)?;
    Ok(op_node!(Norm {
        x: Slot::new(x.pos),
        gamma: Slot::new(gamma.pos),
        beta: Some(Slot::new(beta.pos)),
        eps,
        groups: Groups::Columns,
        centre: true,
    }))
}

/// The op `y = (x − m) ⊙ γ / √(v + ε) + β` per feature, with given statistics `m`, `v`
/// ([`batch_norm_inference`]).
#[derive(Clone, Copy, Debug)]
pub struct BatchNormInference<const B: usize, const C: usize, E> {
    x: Slot<Matrix<B, C>>,
    mean: Slot<Vector<C>>,
    var: Slot<Vector<C>>,
    gamma: Slot<Vector<C>>,
    beta: Slot<Vector<C>>,
    eps: E,
}

impl<const B: usize, const C: usize, E: Send + Sync + 'static + Copy> Op
    for BatchNormInference<B, C, E>
where
    Matrix<B, C>: Shape,
    Vector<C>: Shape,
{
    type Out = Matrix<B, C>;
    fn name(&self) -> &str {
        "batch_norm_inference"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[
            self.x.pos(),
            self.mean.pos(),
            self.var.pos(),
            self.gamma.pos(),
            self.beta.pos(),
        ])
    }
}

impl<A: Real, D, const B: usize, const C: usize, E: Constant<A> + Copy> Eval<A, D>
    for BatchNormInference<B, C, E>
where
    Matrix<B, C>: Shape,
    Vector<C>: Shape,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Matrix<B, C>> {
        let (xs, m, v) = (x.get(self.x), x.get(self.mean), x.get(self.var));
        let (g, b) = (x.get(self.gamma), x.get(self.beta));
        let eps = self.eps.at();
        Tensor::from_fn(|ix| {
            let (r, f) = (ix[0], ix[1]);
            let s = g.as_slice()[f] / (v.as_slice()[f] + eps).sqrt();
            (xs.as_slice()[r * C + f] - m.as_slice()[f]) * s + b.as_slice()[f]
        })
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Matrix<B, C>> {
        let (xs, m, v, g) = (
            x.get(self.x),
            x.get(self.mean),
            x.get(self.var),
            x.get(self.gamma),
        );
        let (dxs, dm, dv) = (dx.get(self.x), dx.get(self.mean), dx.get(self.var));
        let (dg, db) = (dx.get(self.gamma), dx.get(self.beta));
        let eps = self.eps.at();
        let half = A::one() / A::from_i64(2);
        Tensor::from_fn(|ix| {
            let (r, f) = (ix[0], ix[1]);
            let rinv = A::one() / (v.as_slice()[f] + eps).sqrt();
            let c = xs.as_slice()[r * C + f] - m.as_slice()[f];
            let dc = dxs.as_slice()[r * C + f] - dm.as_slice()[f];
            // d(c·γ·r) with dr = −½ r³ dv
            let dr = -(half * rinv * rinv * rinv) * dv.as_slice()[f];
            dc * g.as_slice()[f] * rinv
                + c * dg.as_slice()[f] * rinv
                + c * g.as_slice()[f] * dr
                + db.as_slice()[f]
        })
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, Matrix<B, C>>) -> Pullback<A> {
        let (xs, m, v, g) = (
            x.get(self.x),
            x.get(self.mean),
            x.get(self.var),
            x.get(self.gamma),
        );
        let eps = self.eps.at();
        let half = A::one() / A::from_i64(2);
        let d = seed.as_slice();
        let mut gx = vec![A::zero(); B * C];
        let (mut gm, mut gv, mut gg, mut gb) = (
            vec![A::zero(); C],
            vec![A::zero(); C],
            vec![A::zero(); C],
            vec![A::zero(); C],
        );
        for r in 0..B {
            for f in 0..C {
                let rinv = A::one() / (v.as_slice()[f] + eps).sqrt();
                let c = xs.as_slice()[r * C + f] - m.as_slice()[f];
                let dj = d[r * C + f];
                gx[r * C + f] = dj * g.as_slice()[f] * rinv;
                gm[f] = gm[f] - dj * g.as_slice()[f] * rinv;
                gv[f] = gv[f] - dj * c * g.as_slice()[f] * (half * rinv * rinv * rinv);
                gg[f] = gg[f] + dj * c * rinv;
                gb[f] = gb[f] + dj;
            }
        }
        Pullback::none()
            .with_if(x, self.x, || Tensor::from_vec_unchecked(gx))
            .with_if(x, self.mean, || Tensor::from_vec_unchecked(gm))
            .with_if(x, self.var, || Tensor::from_vec_unchecked(gv))
            .with_if(x, self.gamma, || Tensor::from_vec_unchecked(gg))
            .with_if(x, self.beta, || Tensor::from_vec_unchecked(gb))
    }
}

/// Batch normalisation in inference mode (`F.batch_norm(x, mean, var, γ, β, training=False,
/// eps=eps)`): `(x − m) ⊙ γ / √(v + ε) + β` per feature with the given statistics `m`, `v`
/// (graph values, so they may be trained or certified like any input).
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_inference<G: ShapeList, const B: usize, const C: usize, E: Constant<E> + Copy>(
    x: Idx<G, Matrix<B, C>>,
    mean: Idx<G, Vector<C>>,
    var: Idx<G, Vector<C>>,
    gamma: Idx<G, Vector<C>>,
    beta: Idx<G, Vector<C>>,
    eps: E,
) -> Result<OpNode<G, BatchNormInference<B, C, E>>, ConstantError>
where
    Matrix<B, C>: Shape,
    Vector<C>: Shape,
{
    check_eps("batch_norm_inference", &eps)?;
    Ok(op_node!(BatchNormInference {
        x: Slot::new(x.pos),
        mean: Slot::new(mean.pos),
        var: Slot::new(var.pos),
        gamma: Slot::new(gamma.pos),
        beta: Slot::new(beta.pos),
        eps,
    }))
}

// ====================================================================== embedding

/// The op `y_t = W[i_t]` (row `i_t` of the table) for token indices `i` ([`embedding`]).
#[derive(Clone, Copy, Debug)]
pub struct Embedding<const V: usize, const DM: usize, const T: usize> {
    table: Slot<Matrix<V, DM>>,
    indices: Slot<Vector<T>>,
}

/// The index held by `v`: `Some(i)` if `v` is an integer in `0..n`.
fn index_of<A: Element>(v: &A, n: usize) -> Option<usize> {
    let f = v.to_f64();
    (f >= 0.0 && f.fract() == 0.0 && f < n as f64 && A::from_i64(f as i64) == *v)
        .then_some(f as usize)
}

impl<const V: usize, const DM: usize, const T: usize> Op for Embedding<V, DM, T>
where
    Matrix<V, DM>: Shape,
    Vector<T>: Shape,
    Matrix<T, DM>: Shape,
{
    type Out = Matrix<T, DM>;
    fn name(&self) -> &str {
        "embedding"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.table.pos(), self.indices.pos()])
    }
}

impl<const V: usize, const DM: usize, const T: usize> Embedding<V, DM, T> {
    /// Row `i_t` of `table` for each token, NaN rows for invalid indices.
    fn gather<A: Real>(&self, table: &[A], indices: &[A]) -> Vec<A> {
        let mut out = Vec::with_capacity(T * DM);
        for v in indices {
            match index_of(v, V) {
                Some(i) => out.extend_from_slice(&table[i * DM..(i + 1) * DM]),
                None => out.extend((0..DM).map(|_| A::from_f64(f64::NAN))),
            }
        }
        out
    }
}

impl<A: Real, D, const V: usize, const DM: usize, const T: usize> Eval<A, D> for Embedding<V, DM, T>
where
    Matrix<V, DM>: Shape,
    Vector<T>: Shape,
    Matrix<T, DM>: Shape,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Matrix<T, DM>> {
        let (w, i) = (x.get(self.table), x.get(self.indices));
        Tensor::from_vec_unchecked(self.gather(w.as_slice(), i.as_slice()))
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Matrix<T, DM>> {
        let (dw, i) = (dx.get(self.table), x.get(self.indices));
        Tensor::from_vec_unchecked(self.gather(dw.as_slice(), i.as_slice()))
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, Matrix<T, DM>>) -> Pullback<A> {
        // Scatter-add the rows of δ into the table's cotangent, tokens in order; the indices
        // get no cotangent.
        Pullback::none().with_if(x, self.table, || {
            let mut g = vec![A::zero(); V * DM];
            for (t, v) in x.get(self.indices).iter().enumerate() {
                let row = &seed.as_slice()[t * DM..(t + 1) * DM];
                match index_of(v, V) {
                    Some(i) => {
                        for (a, &d) in g[i * DM..(i + 1) * DM].iter_mut().zip(row) {
                            *a = *a + d;
                        }
                    }
                    None => g.iter_mut().for_each(|a| *a = A::from_f64(f64::NAN)),
                }
            }
            Tensor::from_vec_unchecked(g)
        })
    }
}

/// Embedding lookup (`F.embedding(i, W)`): row `i_t` of the table `W: Matrix<V, DM>` for each
/// token index `i_t` of `Vector<T>` (exact integers in `0..V`, not differentiable); the table's
/// gradient adds the output rows into the looked-up rows.
#[must_use]
pub fn embedding<G: ShapeList, const V: usize, const DM: usize, const T: usize>(
    table: Idx<G, Matrix<V, DM>>,
    indices: Idx<G, Vector<T>>,
) -> OpNode<G, Embedding<V, DM, T>>
where
    Matrix<V, DM>: Shape,
    Vector<T>: Shape,
    Matrix<T, DM>: Shape,
{
    op_node!(Embedding {
        table: Slot::new(table.pos),
        indices: Slot::new(indices.pos),
    })
}

// ======================================================================== dropout

/// Where dropout masks come from: the graph's environment `Δ`. Deterministic: the same
/// environment, key and entry always give the same answer.
pub trait MaskSource: Send + Sync {
    /// Whether entry `index` of the dropout node with key `key` is kept, for drop probability
    /// `p`.
    fn keep(&self, key: u64, index: usize, p: f64) -> bool;
}

/// A seeded dropout environment: `Δ = DropoutEnv { seed }` keeps entry `i` of the node with key
/// `k` when a SplitMix64 hash of `(seed, k, i)` falls at or above `p`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DropoutEnv {
    /// The seed of this step's masks (change it every training step).
    pub seed: u64,
}

impl MaskSource for DropoutEnv {
    fn keep(&self, key: u64, index: usize, p: f64) -> bool {
        let mut z = self
            .seed
            .wrapping_add(key.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .wrapping_add((index as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64) / ((1u64 << 53) as f64) >= p
    }
}

/// The op `y = x ⊙ m / (1 − p)` with the mask `m` from the environment ([`dropout`]); with the
/// environment `()` (inference, certified graphs) it is the identity.
#[derive(Clone, Copy, Debug)]
pub struct Dropout<S> {
    x: Slot<S>,
    p: f64,
    key: u64,
}

impl<S: Shape> Op for Dropout<S> {
    type Out = S;
    fn name(&self) -> &str {
        "dropout"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        smallvec![self.x.pos()]
    }
}

impl<S: Shape> Dropout<S> {
    /// `x ⊙ m / (1 − p)` for the mask of `env`.
    fn apply<A: Real, M: MaskSource>(&self, x: &[A], env: &M) -> Vec<A> {
        let scale = A::one() / (A::one() - A::from_f64(self.p));
        x.iter()
            .enumerate()
            .map(|(i, &v)| {
                if env.keep(self.key, i, self.p) {
                    v * scale
                } else {
                    A::zero()
                }
            })
            .collect()
    }
}

impl<A: Real, S: Shape, M: MaskSource> Eval<A, M> for Dropout<S> {
    fn forward(&self, x: Operands<'_, A>, env: &M) -> Tensor<A, S> {
        Tensor::from_vec_unchecked(self.apply(x.get(self.x).as_slice(), env))
    }
    fn jvp(&self, _: Operands<'_, A>, dx: Operands<'_, A>, env: &M) -> Tensor<A, S> {
        Tensor::from_vec_unchecked(self.apply(dx.get(self.x).as_slice(), env))
    }
    fn vjp(&self, _: Operands<'_, A>, env: &M, seed: &Tensor<A, S>) -> Pullback<A> {
        Pullback::single(
            self.x,
            Tensor::from_vec_unchecked(self.apply(seed.as_slice(), env)),
        )
    }
}

// Inference (and every certified graph, whose environment is `()`): the identity.
impl<A: Element, S: Shape> Eval<A, ()> for Dropout<S> {
    fn forward(&self, x: Operands<'_, A>, _: &()) -> Tensor<A, S> {
        x.get(self.x).to_owned()
    }
    fn jvp(&self, _: Operands<'_, A>, dx: Operands<'_, A>, _: &()) -> Tensor<A, S> {
        dx.get(self.x).to_owned()
    }
    fn vjp(&self, _: Operands<'_, A>, _: &(), seed: &Tensor<A, S>) -> Pullback<A> {
        Pullback::single(self.x, seed.clone())
    }
}

/// Dropout (`F.dropout(x, p, training)`): in a graph whose environment is a [`MaskSource`]
/// (training), `x ⊙ m / (1 − p)` with the mask drawn from the environment for this node's `key`
/// (give each dropout node its own key); in a graph with environment `()` (inference, and every
/// certified graph), the identity. `p` must be in `[0, 1)`.
pub fn dropout<G: ShapeList, S: Shape>(
    x: Idx<G, S>,
    p: f64,
    key: u64,
) -> Result<OpNode<G, Dropout<S>>, ConstantError> {
    if (0.0..1.0).contains(&p) {
        Ok(op_node!(Dropout {
            x: Slot::new(x.pos),
            p,
            key,
        }))
    } else {
        Err(ConstantError {
            op: "dropout",
            value: p,
            needs: "a probability in [0, 1)",
        })
    }
}
