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
//! Lean: `Proofs/Autograd/Tape/Algebra/Nodes.lean` for the node definitions.
//!
//! Certified graphs bound these ops by the interval enclosure of this code (no closed form).

use smallvec::{SmallVec, smallvec};
use typenum::NonZero;

use crate::approx::node::{lifted_bound, lifted_vjp_bound, point_rounding};
use crate::approx::round::{add_up, mul_up};
use crate::approx::{Interval, RuntimeFloat};
use crate::autograd::op::{
    Eval, Op, OpNode, Operands, Pullback, Slot, SlotBounds, VjpBounds, op_node,
};
use crate::scalar::{Element, Real};
use crate::shape::{SameShape, Scalar, Shape};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

/// The positions of two operands, each once (the same slot when they alias).
fn reads_of<S>(a: Slot<S>, b: Slot<S>) -> SmallVec<[usize; 4]> {
    if a.pos() == b.pos() {
        smallvec![a.pos()]
    } else {
        smallvec![a.pos(), b.pos()]
    }
}

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
pub(crate) fn log_softmax_rows<A: Real>(x: &[A], last: usize) -> Vec<A> {
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
pub(crate) fn softmax_pullback<A: Real>(p: &[A], v: &[A], last: usize) -> Vec<A> {
    let mut out = vec![A::zero(); p.len().min(v.len())];
    softmax_pullback_into(p, v, last, &mut out);
    out
}

/// [`softmax_pullback`] into `out` (same length as `p`).
#[inline(always)]
pub(crate) fn softmax_pullback_into<A: Real>(p: &[A], v: &[A], last: usize, out: &mut [A]) {
    let rows = p.chunks(last.max(1)).zip(v.chunks(last.max(1)));
    for ((pr, vr), or) in rows.zip(out.chunks_mut(last.max(1))) {
        let dot = pr
            .iter()
            .zip(vr)
            .fold(A::zero(), |acc, (&a, &b)| acc + a * b);
        for ((o, &a), &b) in or.iter_mut().zip(pr).zip(vr) {
            *o = a * (b - dot);
        }
    }
}

/// The op `yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ}` per row (softmax over the last axis, [`softmax`]).
#[derive(Clone, Copy, Debug)]
pub struct Softmax<S> {
    a: Slot<S>,
}

/// `ε` if it is a usable bound (finite, ≥ 0), else `None` (the bound is then +∞).
fn usable(e: f64) -> Option<f64> {
    (e >= 0.0 && e.is_finite()).then_some(e)
}

/// `maxᵢ |vᵢ|` of each row of `v`, as exact `f64`s.
fn row_max_abs<R: RuntimeFloat>(v: &[R], last: usize) -> Vec<f64> {
    v.chunks(last.max(1))
        .map(|r| r.iter().fold(0.0f64, |m, x| m.max(x.to_f64_exact().abs())))
        .collect()
}

impl<S: Shape> Op for Softmax<S> {
    type Out = S;
    fn name(&self) -> &str {
        "softmax"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        smallvec![self.a.pos()]
    }

    /// `ε/2 + ρ`: softmax's Jacobian `diag p − p pᵀ` has `‖·‖∞ = maxᵢ 2pᵢ(1 − pᵢ) ≤ ½`
    /// everywhere, so an input error `ε` moves every output by at most `ε/2` (mean value
    /// theorem); `ρ` bounds the runtime's own rounding at `x̂` (the enclosure at zero width).
    /// The interval enclosure on the boxes instead loses the correlation of `x − max x`.
    fn bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        y: &[R],
    ) -> Option<f64> {
        let rho = point_rounding(self, x, y);
        Some(usable(eps.get(self.a)).map_or(f64::INFINITY, |e| add_up(mul_up(0.5, e), rho)))
    }

    /// For the contribution `p ⊙ (δ − ⟨p, δ⟩)`: `‖∂/∂δ‖∞ ≤ ½` and, per row, `‖∂/∂x‖∞ ≤ 3 D` with
    /// `D = max |δ| ≤ max |δ̂| + εδ`, so the error is at most `εδ/2 + 3 D ε` plus the rounding
    /// at `(x̂, δ̂)`.
    fn vjp_bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> Option<VjpBounds> {
        let rho = lifted_vjp_bound(self, None, x, 0.0, seed, c)
            .0
            .first()
            .map_or(0.0, |(_, e)| *e);
        let (_, last) = rows_of::<S>();
        let e = match (usable(eps.get(self.a)), usable(e_seed)) {
            (Some(e), Some(ed)) => row_max_abs(seed, last).into_iter().fold(0.0f64, |m, d| {
                let big_d = add_up(d, ed);
                m.max(add_up(mul_up(0.5, ed), mul_up(mul_up(3.0, big_d), e)))
            }),
            _ => f64::INFINITY,
        };
        Some(VjpBounds::none().with(self.a, add_up(e, rho)))
    }
}

impl<A: Real, D, S: Shape> Eval<A, D> for Softmax<S> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let (_, last) = rows_of::<S>();
        Tensor::from_vec_unchecked(softmax_rows(x.get(self.a).as_slice(), last))
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let (_, last) = rows_of::<S>();
        let p = softmax_rows(x.get(self.a).as_slice(), last);
        Tensor::from_vec_unchecked(softmax_pullback(&p, dx.get(self.a).as_slice(), last))
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, S>) -> Pullback<A> {
        let (_, last) = rows_of::<S>();
        let p = softmax_rows(x.get(self.a).as_slice(), last);
        Pullback::single(
            self.a,
            Tensor::from_vec_unchecked(softmax_pullback(&p, seed.as_slice(), last)),
        )
    }
}

/// Softmax over the last axis, `yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ}` per row:
/// JVP `y ⊙ (dx − ⟨y, dx⟩)`, VJP `y ⊙ (δ − ⟨y, δ⟩)` (per row).
#[must_use]
pub fn softmax<G: ShapeList, S: Shape>(a: Idx<G, S>) -> OpNode<G, Softmax<S>> {
    op_node!(Softmax {
        a: Slot::new(a.pos)
    })
}

/// Per row: `vᵢ − pᵢ Σⱼ vⱼ` (VJP of log-softmax) or `vᵢ − Σⱼ pⱼ vⱼ` (its JVP).
pub(crate) fn log_softmax_vjp<A: Real>(p: &[A], d: &[A], last: usize) -> Vec<A> {
    let mut out = Vec::with_capacity(p.len());
    for (pr, dr) in p.chunks(last.max(1)).zip(d.chunks(last.max(1))) {
        let s = dr.iter().fold(A::zero(), |acc, &v| acc + v);
        out.extend(pr.iter().zip(dr).map(|(&pi, &di)| di - pi * s));
    }
    out
}

pub(crate) fn log_softmax_jvp<A: Real>(p: &[A], dx: &[A], last: usize) -> Vec<A> {
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

/// The op `yᵢ = xᵢ − log Σⱼ e^{xⱼ}` per row (log-softmax over the last axis,
/// [`log_softmax`]).
#[derive(Clone, Copy, Debug)]
pub struct LogSoftmax<S> {
    a: Slot<S>,
}

impl<S: Shape> Op for LogSoftmax<S> {
    type Out = S;
    fn name(&self) -> &str {
        "log_softmax"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        smallvec![self.a.pos()]
    }

    /// The smaller of `2ε + ρ` (log-softmax's Jacobian `I − 𝟙 pᵀ` has `‖·‖∞ = maxᵢ 2(1 − pᵢ) ≤
    /// 2`; `ρ` the rounding at `x̂`) and the interval enclosure on the boxes (both sound).
    fn bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        y: &[R],
    ) -> Option<f64> {
        let closed = usable(eps.get(self.a)).map_or(f64::INFINITY, |e| {
            add_up(mul_up(2.0, e), point_rounding(self, x, y))
        });
        Some(closed.min(lifted_bound(self, eps, x, y)))
    }

    /// For the contribution `δ − p Σδ`: `Σⱼ |∂cᵢ/∂δⱼ| = (1 − pᵢ) + (n − 1) pᵢ ≤ 1 + (n − 2)⁺ p̄ᵢ`
    /// with `p̄ᵢ = min(1, p⁺ᵢ e^{2ε})` the largest `pᵢ` in the box (`p⁺` an upper bound of the
    /// exact softmax at `x̂`, from its enclosure: the runtime's `p̂` may lie below it), and `Σₖ |∂cᵢ/∂xₖ| =
    /// |Σδ| 2pᵢ(1 − pᵢ) ≤ (|Σδ̂| + n εδ)/2`; plus the rounding at `(x̂, δ̂)`. The smaller of that and
    /// the interval enclosure.
    fn vjp_bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> Option<VjpBounds> {
        let lifted = lifted_vjp_bound(self, Some(eps), x, e_seed, seed, c)
            .0
            .first()
            .map_or(0.0, |(_, e)| *e);
        let (_, last) = rows_of::<S>();
        let closed = match (usable(eps.get(self.a)), usable(e_seed)) {
            (Some(e), Some(ed)) => {
                let rho = lifted_vjp_bound(self, None, x, 0.0, seed, c)
                    .0
                    .first()
                    .map_or(0.0, |(_, e)| *e);
                // An upper bound of the exact softmax at x̂ (the runtime's p̂ may lie below
                // it), from its enclosure at the point.
                let xs: Vec<Interval> = x
                    .raw(self.a.pos())
                    .iter()
                    .map(|v| Interval::point(v.to_f64_exact()))
                    .collect();
                let p: Vec<f64> = softmax_rows(&xs, last).iter().map(|iv| iv.hi()).collect();
                let grow = crate::approx::round::exp_up(mul_up(2.0, e));
                let n = last as f64;
                let mut worst = 0.0f64;
                for (row, (pr, dr)) in p
                    .chunks(last.max(1))
                    .zip(seed.chunks(last.max(1)))
                    .enumerate()
                {
                    let _ = row;
                    let sum = dr
                        .iter()
                        .fold(0.0f64, |s, d| add_up(s, d.to_f64_exact().abs()));
                    let dx = mul_up(0.5, mul_up(add_up(sum, mul_up(n, ed)), e));
                    for &p in pr {
                        let pbar = mul_up(p, grow).min(1.0);
                        let coef = add_up(1.0, mul_up((n - 2.0).max(0.0), pbar));
                        worst = worst.max(add_up(mul_up(coef, ed), dx));
                    }
                }
                add_up(worst, rho)
            }
            _ => f64::INFINITY,
        };
        Some(VjpBounds::none().with(self.a, closed.min(lifted)))
    }
}

impl<A: Real, D, S: Shape> Eval<A, D> for LogSoftmax<S> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let (_, last) = rows_of::<S>();
        Tensor::from_vec_unchecked(log_softmax_rows(x.get(self.a).as_slice(), last))
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let (_, last) = rows_of::<S>();
        let p = softmax_rows(x.get(self.a).as_slice(), last);
        Tensor::from_vec_unchecked(log_softmax_jvp(&p, dx.get(self.a).as_slice(), last))
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, S>) -> Pullback<A> {
        let (_, last) = rows_of::<S>();
        let p = softmax_rows(x.get(self.a).as_slice(), last);
        Pullback::single(
            self.a,
            Tensor::from_vec_unchecked(log_softmax_vjp(&p, seed.as_slice(), last)),
        )
    }
}

/// Log-softmax over the last axis, `yᵢ = xᵢ − log Σⱼ e^{xⱼ}` per row:
/// JVP `dx − ⟨p, dx⟩`, VJP `δ − p Σ δ` with `p = softmax(x)` (per row).
#[must_use]
pub fn log_softmax<G: ShapeList, S: Shape>(a: Idx<G, S>) -> OpNode<G, LogSoftmax<S>> {
    op_node!(LogSoftmax {
        a: Slot::new(a.pos)
    })
}

/// The op `L = Σᵢ (pᵢ − tᵢ)² / n` with `n = S::SIZE` (mean squared error, [`mse`]).
#[derive(Clone, Copy, Debug)]
pub struct Mse<S> {
    pred: Slot<S>,
    target: Slot<S>,
}

/// `n = S::SIZE` at the scalar `A`.
fn size_of<A: Element, S: Shape>() -> A {
    A::from_i64(S::SIZE as i64)
}

/// The MSE gradient `(2/n)(p − t)`.
fn mse_grad<A: Element, S: Shape>(p: &[A], t: &[A]) -> Vec<A> {
    let two_over_n = A::from_i64(2) / size_of::<A, S>();
    p.iter()
        .zip(t)
        .map(|(a, b)| two_over_n.clone() * (a.clone() - b.clone()))
        .collect()
}

impl<S: Shape> Op for Mse<S> {
    type Out = Scalar;
    fn name(&self) -> &str {
        "mse"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        reads_of(self.pred, self.target)
    }
}

impl<A: Element, D, S: Shape> Eval<A, D> for Mse<S>
where
    S::Size: NonZero,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Scalar> {
        let r = x.get(self.pred).sub(&x.get(self.target));
        Tensor::new(
            r.iter()
                .fold(A::zero(), |acc, v: &A| acc + v.clone() * v.clone())
                / size_of::<A, S>(),
        )
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Scalar> {
        let g = mse_grad::<A, S>(x.get(self.pred).as_slice(), x.get(self.target).as_slice());
        let dr = dx.get(self.pred).sub(&dx.get(self.target));
        Tensor::new(
            g.iter()
                .zip(dr.iter())
                .fold(A::zero(), |acc, (a, b)| acc + a.clone() * b.clone()),
        )
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, Scalar>) -> Pullback<A> {
        let d = seed.as_slice()[0].clone();
        let g = Tensor::<A, S>::from_vec_unchecked(mse_grad::<A, S>(
            x.get(self.pred).as_slice(),
            x.get(self.target).as_slice(),
        ));
        let gp = g.scale(&d);
        Pullback::single(self.pred, gp.clone()).with(self.target, gp.neg())
    }
}

/// Mean squared error `L = Σᵢ (pᵢ − tᵢ)² / n` with `n = S::SIZE` (Lean's `mseLoss`):
/// with `g = (2/n)(p − t)`, JVP `⟨g, dp − dt⟩`, VJP `p ↦ δ g, t ↦ −δ g`.
#[must_use]
pub fn mse<G: ShapeList, S: Shape, S2: SameShape<S>>(
    pred: Idx<G, S>,
    target: Idx<G, S2>,
) -> OpNode<G, Mse<S>>
where
    S::Size: NonZero,
{
    op_node!(Mse {
        pred: Slot::new(pred.pos),
        target: Slot::new(target.pos),
    })
}

/// The op `L = −(1/R) Σᵣ Σ꜀ tᵣ꜀ log softmax(zᵣ)꜀` over the `R` rows of logits `z` and targets
/// `t` (mean cross-entropy, [`cross_entropy`]).
#[derive(Clone, Copy, Debug)]
pub struct CrossEntropy<S> {
    logits: Slot<S>,
    target: Slot<S>,
}

/// `1/R` for the `R` rows of `S`.
fn inv_rows<A: Real, S: Shape>() -> A {
    let (rows, _) = rows_of::<S>();
    A::one() / A::from_i64(rows as i64)
}

/// `∂L/∂z = (1/R)(p Σt − t)` and `∂L/∂t = −(1/R) log_softmax(z)`, row by row from one pass of
/// exponentials (`p` and `log_softmax` computed exactly as by `softmax_rows` and
/// `log_softmax_rows`); either may be skipped (then its vector is empty).
fn cross_entropy_grads<A: Real>(
    z: &[A],
    t: &[A],
    last: usize,
    inv_rows: A,
    want_z: bool,
    want_t: bool,
) -> (Vec<A>, Vec<A>) {
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
}

impl<S: Shape> Op for CrossEntropy<S> {
    type Out = Scalar;
    fn name(&self) -> &str {
        "cross_entropy"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        reads_of(self.logits, self.target)
    }
}

impl<A: Real, D, S: Shape> Eval<A, D> for CrossEntropy<S>
where
    S::Size: NonZero,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Scalar> {
        let (_, last) = rows_of::<S>();
        let ls = log_softmax_rows(x.get(self.logits).as_slice(), last);
        let s = ls
            .iter()
            .zip(x.get(self.target).iter())
            .fold(A::zero(), |acc, (&l, &t)| acc + t * l);
        Tensor::new(-s * inv_rows::<A, S>())
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Scalar> {
        let (_, last) = rows_of::<S>();
        let (z, t) = (x.get(self.logits), x.get(self.target));
        let (gz, gt) = cross_entropy_grads(
            z.as_slice(),
            t.as_slice(),
            last,
            inv_rows::<A, S>(),
            true,
            true,
        );
        let dz = dx.get(self.logits);
        let dt = dx.get(self.target);
        let a = gz
            .iter()
            .zip(dz.iter())
            .fold(A::zero(), |acc, (&g, &v)| acc + g * v);
        let b = gt
            .iter()
            .zip(dt.iter())
            .fold(A::zero(), |acc, (&g, &v)| acc + g * v);
        Tensor::new(a + b)
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, Scalar>) -> Pullback<A> {
        let (_, last) = rows_of::<S>();
        let d = seed.as_slice()[0];
        let (z, t) = (x.get(self.logits), x.get(self.target));
        let (want_z, want_t) = (x.wants(self.logits), x.wants(self.target));
        let (gz, gt) = cross_entropy_grads(
            z.as_slice(),
            t.as_slice(),
            last,
            inv_rows::<A, S>(),
            want_z,
            want_t,
        );
        let times_d =
            |g: Vec<A>| Tensor::from_vec_unchecked(g.into_iter().map(|g| g * d).collect());
        let pullback = Pullback::none();
        let pullback = if want_z {
            pullback.with(self.logits, times_d(gz))
        } else {
            pullback
        };
        if want_t {
            pullback.with(self.target, times_d(gt))
        } else {
            pullback
        }
    }
}

/// Cross-entropy of logits `z` against target distributions `t` (one-hot or soft), averaged
/// over the rows: `L = −(1/R) Σᵣ Σ꜀ tᵣ꜀ log softmax(zᵣ)꜀`.
///
/// Gradients: `∂L/∂z = (1/R)(softmax(z) Σ꜀ t − t)` and `∂L/∂t = −(1/R) log softmax(z)`;
/// JVP `⟨∂L/∂z, dz⟩ + ⟨∂L/∂t, dt⟩`, VJP `z ↦ δ ∂L/∂z, t ↦ δ ∂L/∂t`.
#[must_use]
pub fn cross_entropy<G: ShapeList, S: Shape, S2: SameShape<S>>(
    logits: Idx<G, S>,
    target: Idx<G, S2>,
) -> OpNode<G, CrossEntropy<S>>
where
    S::Size: NonZero,
{
    op_node!(CrossEntropy {
        logits: Slot::new(logits.pos),
        target: Slot::new(target.pos),
    })
}
