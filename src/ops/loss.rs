//! Softmax over the last axis and the losses: mean squared error and cross-entropy.
//!
//! "Rows" are the slices along the last axis: a `Vector<C>` is one row, a `Matrix<B, C>` is
//! `B` rows of `C` classes (a scalar is one row of one entry).
//!
//! **Mathematics.** Per row `x`, with `m = maxⱼ xⱼ` (the shift cancels and keeps every
//! exponential at most 1): `softmax(x)ᵢ = e^{xᵢ − m} / Σⱼ e^{xⱼ − m}` and
//! `log_softmax(x) = x − m − log Σⱼ e^{xⱼ − m}`. With `p = softmax(x)`, softmax has the
//! symmetric Jacobian `diag p − p pᵀ`, so its JVP and VJP are both `v ↦ p ⊙ (v − ⟨p, v⟩)`;
//! log-softmax has the Jacobian `I − 𝟙 pᵀ`, JVP `v − ⟨p, v⟩ 𝟙` and VJP `v − p Σⱼ vⱼ`. The
//! losses `mse(p, t) = Σ (p − t)² / n` and `cross_entropy(z, t) = −(1/R) Σᵣ ⟨tᵣ,
//! log_softmax(zᵣ)⟩` are differentiable in both arguments, and their VJPs list both.

use typenum::NonZero;

use crate::autograd::Node;
use crate::autograd::kernel::{Kernel, Pullback, Slot};
use crate::autograd::node::node_from_kernel;
use crate::scalar::{Element, Real};
use crate::shape::{SameShape, Scalar, Shape};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

/// Length of the last axis of `S` (1 for a scalar) and the number of rows along it.
fn rows_of<S: Shape>() -> (usize, usize) {
    let last = S::dims().last().copied().unwrap_or(1);
    let rows = S::SIZE.checked_div(last).unwrap_or(0);
    (rows, last)
}

/// `softmax` of every row, computed as `e^{x − max} / Σ e^{x − max}`.
fn softmax_rows<A: Real>(x: &[A], last: usize) -> Vec<A> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks(last.max(1)) {
        let m = row.iter().fold(row[0], |m, &v| m.max(v));
        let e: Vec<A> = row.iter().map(|&v| (v - m).exp()).collect();
        let s = e.iter().fold(A::zero(), |acc, &v| acc + v);
        out.extend(e.into_iter().map(|v| v / s));
    }
    out
}

/// `log_softmax` of every row, `x − max − log Σ e^{x − max}`.
fn log_softmax_rows<A: Real>(x: &[A], last: usize) -> Vec<A> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks(last.max(1)) {
        let m = row.iter().fold(row[0], |m, &v| m.max(v));
        let lse = row
            .iter()
            .fold(A::zero(), |acc, &v| acc + (v - m).exp())
            .ln();
        out.extend(row.iter().map(|&v| v - m - lse));
    }
    out
}

/// Per row: `wᵢ · (vᵢ − Σⱼ wⱼ vⱼ)`, the softmax JVP/VJP with `w = softmax(x)`.
fn softmax_pullback<A: Real>(p: &[A], v: &[A], last: usize) -> Vec<A> {
    let mut out = Vec::with_capacity(p.len());
    for (pr, vr) in p.chunks(last.max(1)).zip(v.chunks(last.max(1))) {
        let dot = pr
            .iter()
            .zip(vr)
            .fold(A::zero(), |acc, (&a, &b)| acc + a * b);
        out.extend(pr.iter().zip(vr).map(|(&a, &b)| a * (b - dot)));
    }
    out
}

/// Softmax over the last axis, `yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ}` per row:
/// JVP `y ⊙ (dx − ⟨y, dx⟩)`, VJP `y ⊙ (δ − ⟨y, δ⟩)` (per row).
pub fn softmax<A: Real, D, G: ShapeList, S: Shape>(a: Idx<G, S>) -> Node<A, D, G, S> {
    fn kernel<A: Real, D, S: Shape>(a: Slot<S>) -> Kernel<A, D, S> {
        let (_, last) = rows_of::<S>();
        Kernel::new(
            "softmax",
            &[a.pos()],
            move |ctx, _| Tensor::from_vec_unchecked(softmax_rows(ctx.get(a).as_slice(), last)),
            move |ctx, dctx, _| {
                let p = softmax_rows(ctx.get(a).as_slice(), last);
                Tensor::from_vec_unchecked(softmax_pullback(&p, dctx.get(a).as_slice(), last))
            },
            move |ctx, _, seed| {
                let p = softmax_rows(ctx.get(a).as_slice(), last);
                Pullback::single(
                    a,
                    Tensor::from_vec_unchecked(softmax_pullback(&p, seed.as_slice(), last)),
                )
            },
        )
    }
    node_from_kernel!(kernel(Slot::<S>::new(a.pos)))
}

/// Per row: `vᵢ − pᵢ Σⱼ vⱼ` (VJP of log-softmax) or `vᵢ − Σⱼ pⱼ vⱼ` (its JVP).
fn log_softmax_vjp<A: Real>(p: &[A], d: &[A], last: usize) -> Vec<A> {
    let mut out = Vec::with_capacity(p.len());
    for (pr, dr) in p.chunks(last.max(1)).zip(d.chunks(last.max(1))) {
        let s = dr.iter().fold(A::zero(), |acc, &v| acc + v);
        out.extend(pr.iter().zip(dr).map(|(&pi, &di)| di - pi * s));
    }
    out
}

fn log_softmax_jvp<A: Real>(p: &[A], dx: &[A], last: usize) -> Vec<A> {
    let mut out = Vec::with_capacity(p.len());
    for (pr, dr) in p.chunks(last.max(1)).zip(dx.chunks(last.max(1))) {
        let dot = pr
            .iter()
            .zip(dr)
            .fold(A::zero(), |acc, (&a, &b)| acc + a * b);
        out.extend(dr.iter().map(|&v| v - dot));
    }
    out
}

/// Log-softmax over the last axis, `yᵢ = xᵢ − log Σⱼ e^{xⱼ}` per row:
/// JVP `dx − ⟨p, dx⟩`, VJP `δ − p Σ δ` with `p = softmax(x)` (per row).
pub fn log_softmax<A: Real, D, G: ShapeList, S: Shape>(a: Idx<G, S>) -> Node<A, D, G, S> {
    fn kernel<A: Real, D, S: Shape>(a: Slot<S>) -> Kernel<A, D, S> {
        let (_, last) = rows_of::<S>();
        Kernel::new(
            "log_softmax",
            &[a.pos()],
            move |ctx, _| Tensor::from_vec_unchecked(log_softmax_rows(ctx.get(a).as_slice(), last)),
            move |ctx, dctx, _| {
                let p = softmax_rows(ctx.get(a).as_slice(), last);
                Tensor::from_vec_unchecked(log_softmax_jvp(&p, dctx.get(a).as_slice(), last))
            },
            move |ctx, _, seed| {
                let p = softmax_rows(ctx.get(a).as_slice(), last);
                Pullback::single(
                    a,
                    Tensor::from_vec_unchecked(log_softmax_vjp(&p, seed.as_slice(), last)),
                )
            },
        )
    }
    node_from_kernel!(kernel(Slot::<S>::new(a.pos)))
}

/// Mean squared error `L = Σᵢ (pᵢ − tᵢ)² / n` with `n = S::SIZE` (Lean's `mseLoss`):
/// with `g = (2/n)(p − t)`, JVP `⟨g, dp − dt⟩`, VJP `p ↦ δ g, t ↦ −δ g`.
pub fn mse<A: Element, D, G: ShapeList, S: Shape, S2: SameShape<S>>(
    pred: Idx<G, S>,
    target: Idx<G, S2>,
) -> Node<A, D, G, Scalar>
where
    S::Size: NonZero,
{
    fn kernel<A: Element, D, S: Shape>(pred: Slot<S>, target: Slot<S>) -> Kernel<A, D, Scalar>
    where
        S::Size: NonZero,
    {
        let n = || A::from_i64(S::SIZE as i64);
        let grad = move |p: &[A], t: &[A]| -> Vec<A> {
            let two_over_n = A::from_i64(2) / n();
            p.iter()
                .zip(t)
                .map(|(a, b)| two_over_n.clone() * (a.clone() - b.clone()))
                .collect()
        };
        Kernel::new(
            "mse",
            &[pred.pos(), target.pos()],
            move |ctx, _| {
                let r = ctx.get(pred).sub(&ctx.get(target));
                Tensor::new(
                    r.iter()
                        .fold(A::zero(), |acc, v: &A| acc + v.clone() * v.clone())
                        / n(),
                )
            },
            move |ctx, dctx, _| {
                let g = grad(ctx.get(pred).as_slice(), ctx.get(target).as_slice());
                let dr = dctx.get(pred).sub(&dctx.get(target));
                Tensor::new(
                    g.iter()
                        .zip(dr.iter())
                        .fold(A::zero(), |acc, (a, b)| acc + a.clone() * b.clone()),
                )
            },
            move |ctx, _, seed| {
                let d = seed.as_slice()[0].clone();
                let g = Tensor::<A, S>::from_vec_unchecked(grad(
                    ctx.get(pred).as_slice(),
                    ctx.get(target).as_slice(),
                ));
                let gp = g.scale(&d);
                Pullback::single(pred, gp.clone()).with(target, gp.neg())
            },
        )
    }
    node_from_kernel!(kernel(Slot::<S>::new(pred.pos), Slot::new(target.pos)))
}

/// Cross-entropy of logits `z` against target distributions `t` (one-hot or soft), averaged
/// over the rows: `L = −(1/R) Σᵣ Σ꜀ tᵣ꜀ log softmax(zᵣ)꜀`.
///
/// Gradients: `∂L/∂z = (1/R)(softmax(z) Σ꜀ t − t)` and `∂L/∂t = −(1/R) log softmax(z)`;
/// JVP `⟨∂L/∂z, dz⟩ + ⟨∂L/∂t, dt⟩`, VJP `z ↦ δ ∂L/∂z, t ↦ δ ∂L/∂t`.
pub fn cross_entropy<A: Real, D, G: ShapeList, S: Shape, S2: SameShape<S>>(
    logits: Idx<G, S>,
    target: Idx<G, S2>,
) -> Node<A, D, G, Scalar>
where
    S::Size: NonZero,
{
    fn kernel<A: Real, D, S: Shape>(logits: Slot<S>, target: Slot<S>) -> Kernel<A, D, Scalar>
    where
        S::Size: NonZero,
    {
        let (rows, last) = rows_of::<S>();
        let inv_rows = A::one() / A::from_i64(rows as i64);
        // ∂L/∂z = (1/R)(p Σt − t) and ∂L/∂t = −(1/R) log_softmax(z), row by row from one pass
        // of exponentials (`p` and `log_softmax` computed exactly as by `softmax_rows` and
        // `log_softmax_rows`); either may be skipped.
        let grads = move |z: &[A], t: &[A], want_z: bool, want_t: bool| -> (Vec<A>, Vec<A>) {
            let mut gz = Vec::with_capacity(if want_z { z.len() } else { 0 });
            let mut gt = Vec::with_capacity(if want_t { z.len() } else { 0 });
            let mut e: Vec<A> = Vec::with_capacity(last);
            for (zr, tr) in z.chunks(last).zip(t.chunks(last)) {
                let m = zr.iter().fold(zr[0], |m, &v| m.max(v));
                e.clear();
                e.extend(zr.iter().map(|&v| (v - m).exp()));
                let s = e.iter().fold(A::zero(), |acc, &v| acc + v);
                if want_z {
                    let mass = tr.iter().fold(A::zero(), |acc, &v| acc + v);
                    gz.extend(
                        e.iter()
                            .zip(tr)
                            .map(|(&ei, &ti)| (ei / s * mass - ti) * inv_rows),
                    );
                }
                if want_t {
                    let lse = s.ln();
                    gt.extend(zr.iter().map(|&v| -(v - m - lse) * inv_rows));
                }
            }
            (gz, gt)
        };
        Kernel::new(
            "cross_entropy",
            &[logits.pos(), target.pos()],
            move |ctx, _| {
                let ls = log_softmax_rows(ctx.get(logits).as_slice(), last);
                let s = ls
                    .iter()
                    .zip(ctx.get(target).iter())
                    .fold(A::zero(), |acc, (&l, &t)| acc + t * l);
                Tensor::new(-s * inv_rows)
            },
            move |ctx, dctx, _| {
                let (z, t) = (ctx.get(logits), ctx.get(target));
                let (gz, gt) = grads(z.as_slice(), t.as_slice(), true, true);
                let dz = dctx.get(logits);
                let dt = dctx.get(target);
                let a = gz
                    .iter()
                    .zip(dz.iter())
                    .fold(A::zero(), |acc, (&g, &v)| acc + g * v);
                let b = gt
                    .iter()
                    .zip(dt.iter())
                    .fold(A::zero(), |acc, (&g, &v)| acc + g * v);
                Tensor::new(a + b)
            },
            move |ctx, _, seed| {
                let d = seed.as_slice()[0];
                let (z, t) = (ctx.get(logits), ctx.get(target));
                let (want_z, want_t) = (ctx.wants(logits), ctx.wants(target));
                let (gz, gt) = grads(z.as_slice(), t.as_slice(), want_z, want_t);
                let times_d =
                    |g: Vec<A>| Tensor::from_vec_unchecked(g.into_iter().map(|g| g * d).collect());
                let pullback = Pullback::none();
                let pullback = if want_z {
                    pullback.with(logits, times_d(gz))
                } else {
                    pullback
                };
                if want_t {
                    pullback.with(target, times_d(gt))
                } else {
                    pullback
                }
            },
        )
    }
    node_from_kernel!(kernel(Slot::<S>::new(logits.pos), Slot::new(target.pos)))
}
