//! Reductions and softmax along a chosen axis, as `x.sum(dim=A)` / `jnp.sum(x, axis=A)`:
//! `sum_axis`, `mean_axis`, `max_axis`, `logsumexp_axis`, `var_axis`, `softmax_axis`,
//! `log_softmax_axis` (the axis is a const generic, checked by the compiler: an axis past the
//! rank is a worded compile error; the output shape drops the axis, see
//! [`RemoveAxis`](crate::shape_arith::RemoveAxis)).
//!
//! **Mathematics.** Axis `A` of a shape with dimensions `d` splits every index into
//! `(outer, j, inner)`; a *line* is the `n = d_A` entries with a fixed `(outer, inner)`. Each op
//! acts on every line independently: `sum`, `mean = sum/n`, `max` (its gradient is split evenly
//! among the maximal entries, as PyTorch's `amax` and JAX's `max` do), `logsumexp =
//! m + log Σ e^{x − m}` (gradient: the softmax of the line), `var = Σ (x − mean)² / n` (biased,
//! JAX's default `ddof = 0`; PyTorch's `unbiased=False`; gradient `2(x − mean)/n`), and the line's
//! softmax and log-softmax (as the last-axis ops of `ops::softmax`).
//!
//! Certified graphs bound them by the interval enclosure of this code; the tie indicator of
//! `max` is computed with steps (`H`), so on an uncertain tie the enclosure covers every split.

use core::marker::PhantomData;

use smallvec::{SmallVec, smallvec};

use crate::autograd::op::{Eval, Op, OpNode, Operands, Pullback, Slot, op_node};
use crate::ops::loss::{log_softmax_jvp, log_softmax_vjp, softmax_pullback};
use crate::scalar::{Element, Real};
use crate::shape::Shape;
use crate::shape_arith::{Axis, RemoveAxis};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

/// `(outer, n, inner)` of axis `a` of the dimensions `dims`.
fn line_layout(dims: &[usize], a: usize) -> (usize, usize, usize) {
    let outer = dims[..a].iter().product();
    let inner = dims[a + 1..].iter().product();
    (outer, dims[a], inner)
}

/// The entries of every line (line `o * inner + k` holds `x[(o * n + j) * inner + k]`, `j` in
/// order).
fn lines<A: Clone>(x: &[A], (outer, n, inner): (usize, usize, usize)) -> Vec<Vec<A>> {
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for k in 0..inner {
            out.push((0..n).map(|j| x[(o * n + j) * inner + k].clone()).collect());
        }
    }
    out
}

/// The inverse of [`lines`]: the tensor whose lines are `ls`.
fn unlines<A: Element>(ls: &[Vec<A>], (outer, n, inner): (usize, usize, usize)) -> Vec<A> {
    let mut out = vec![A::zero(); outer * n * inner];
    for o in 0..outer {
        for k in 0..inner {
            for (j, v) in ls[o * inner + k].iter().enumerate() {
                out[(o * n + j) * inner + k] = v.clone();
            }
        }
    }
    out
}

/// Which reduction ([`AxisReduce`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    /// `Σ x`.
    Sum,
    /// `Σ x / n`.
    Mean,
    /// `max x`.
    Max,
    /// `log Σ eˣ`.
    LogSumExp,
    /// `Σ (x − mean)² / n`.
    Var,
}

/// The op reducing every line along axis `A` of `S` ([`sum_axis`], [`mean_axis`],
/// [`max_axis`], [`logsumexp_axis`], [`var_axis`]).
#[derive(Clone, Copy, Debug)]
pub struct AxisReduce<S, const A: usize> {
    x: Slot<S>,
    kind: Reduce,
}

/// The scalar functions of the reductions, on one line.
trait LineOps: Element {
    fn n_of(n: usize) -> Self {
        Self::from_i64(n.max(1) as i64)
    }
    fn sum_line(l: &[Self]) -> Self {
        l.iter().fold(Self::zero(), |acc, v| acc + v.clone())
    }
    fn mean_line(l: &[Self]) -> Self {
        Self::sum_line(l) / Self::n_of(l.len())
    }
    fn max_line(l: &[Self]) -> Self {
        l.iter().skip(1).fold(l[0].clone(), |m, v| m.elem_max(v))
    }
    /// The weights `t_j / Σ t` of the maximal entries (`t_j = 1 − H(m − x_j)`).
    fn max_weights(l: &[Self]) -> Vec<Self> {
        let m = Self::max_line(l);
        let t: Vec<Self> = l
            .iter()
            .map(|v| Self::one() - (m.clone() - v.clone()).heaviside())
            .collect();
        let s = Self::sum_line(&t);
        t.into_iter().map(|v| v / s.clone()).collect()
    }
}
impl<A: Element> LineOps for A {}

impl<S: Shape + Axis<A>, const A: usize> Op for AxisReduce<S, A> {
    type Out = RemoveAxis<S, A>;
    fn name(&self) -> &str {
        match self.kind {
            Reduce::Sum => "sum_axis",
            Reduce::Mean => "mean_axis",
            Reduce::Max => "max_axis",
            Reduce::LogSumExp => "logsumexp_axis",
            Reduce::Var => "var_axis",
        }
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        smallvec![self.x.pos()]
    }
}

/// The scalars the reductions run at: every [`Real`] (f32, f64, the half formats, intervals,
/// balls) for all of them; the
/// polynomial ones also over ℚ through [`Element`] (see the `Eval` impls).
pub trait AxisScalar: Element {
    /// `log Σ e^{xⱼ}` of one line and its gradient (the line's softmax); `None` for scalars
    /// without `exp`.
    fn logsumexp_line(l: &[Self]) -> Option<(Self, Vec<Self>)>;
}
macro_rules! real_axis_scalars {
    ($($t:ty),*) => {$(
        impl AxisScalar for $t {
            fn logsumexp_line(l: &[Self]) -> Option<(Self, Vec<Self>)> {
                Some(lse(l))
            }
        }
    )*};
}
real_axis_scalars!(
    f32,
    f64,
    half::bf16,
    half::f16,
    crate::approx::Interval,
    crate::approx::Ball
);
impl AxisScalar for crate::scalar::Rational {
    fn logsumexp_line(_: &[Self]) -> Option<(Self, Vec<Self>)> {
        None
    }
}

/// `(m + log Σ e^{x − m}, softmax)` with `m` the line's max.
fn lse<A: Real>(l: &[A]) -> (A, Vec<A>) {
    let m = A::max_line(l);
    let e: Vec<A> = l.iter().map(|&v| (v - m).exp()).collect();
    let s = A::sum_line(&e);
    (m + s.ln(), e.into_iter().map(|v| v / s).collect())
}

impl<S: Shape + Axis<A>, const A: usize> AxisReduce<S, A> {
    fn layout(&self) -> (usize, usize, usize) {
        line_layout(&S::dims(), A)
    }

    /// The value of one line and its gradient `∂/∂x` (for every kind).
    fn line<T: AxisScalar>(&self, l: &[T]) -> (T, Vec<T>) {
        let n = T::n_of(l.len());
        match self.kind {
            Reduce::Sum => (T::sum_line(l), vec![T::one(); l.len()]),
            Reduce::Mean => (T::mean_line(l), vec![T::one() / n; l.len()]),
            Reduce::Max => (T::max_line(l), T::max_weights(l)),
            Reduce::LogSumExp => T::logsumexp_line(l).unwrap_or_else(|| {
                // Unreachable: `logsumexp_axis` needs a `Real` scalar (its constructor's bound).
                (T::zero(), vec![T::zero(); l.len()])
            }),
            Reduce::Var => {
                let mu = T::mean_line(l);
                let d: Vec<T> = l.iter().map(|v| v.clone() - mu.clone()).collect();
                let v = d
                    .iter()
                    .fold(T::zero(), |acc, x| acc + x.clone() * x.clone())
                    / n.clone();
                let two = T::from_i64(2);
                (
                    v,
                    d.into_iter().map(|x| two.clone() * x / n.clone()).collect(),
                )
            }
        }
    }
}

impl<T: AxisScalar, D, S: Shape + Axis<A>, const A: usize> Eval<T, D> for AxisReduce<S, A> {
    fn forward(&self, x: Operands<'_, T>, _: &D) -> Tensor<T, RemoveAxis<S, A>> {
        let ls = lines(x.get(self.x).as_slice(), self.layout());
        Tensor::from_vec_unchecked(ls.iter().map(|l| self.line(l).0).collect())
    }
    fn jvp(&self, x: Operands<'_, T>, dx: Operands<'_, T>, _: &D) -> Tensor<T, RemoveAxis<S, A>> {
        let ls = lines(x.get(self.x).as_slice(), self.layout());
        let dls = lines(dx.get(self.x).as_slice(), self.layout());
        Tensor::from_vec_unchecked(
            ls.iter()
                .zip(&dls)
                .map(|(l, dl)| {
                    let g = self.line(l).1;
                    g.iter()
                        .zip(dl)
                        .fold(T::zero(), |acc, (g, d)| acc + g.clone() * d.clone())
                })
                .collect(),
        )
    }
    fn vjp(&self, x: Operands<'_, T>, _: &D, seed: &Tensor<T, RemoveAxis<S, A>>) -> Pullback<T> {
        let layout = self.layout();
        let ls = lines(x.get(self.x).as_slice(), layout);
        let gs: Vec<Vec<T>> = ls
            .iter()
            .zip(seed.as_slice())
            .map(|(l, d)| self.line(l).1.into_iter().map(|g| g * d.clone()).collect())
            .collect();
        Pullback::single(self.x, Tensor::from_vec_unchecked(unlines(&gs, layout)))
    }
}

macro_rules! reduction {
    ($(#[$doc:meta])* $name:ident, $kind:ident) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name<const A: usize, G: ShapeList, S: Shape + Axis<A>>(
            x: Idx<G, S>,
        ) -> OpNode<G, AxisReduce<S, A>> {
            op_node!(AxisReduce {
                x: Slot::new(x.pos),
                kind: Reduce::$kind,
            })
        }
    };
}

reduction!(
    /// `Σ` along axis `A` (`x.sum(dim=A)`): `sum_axis::<1, _, _>(m)` of a `Matrix<R, C>` is the
    /// `Vector<R>` of row sums.
    sum_axis, Sum
);
reduction!(
    /// The mean along axis `A` (`x.mean(dim=A)`).
    mean_axis, Mean
);
reduction!(
    /// The maximum along axis `A` (`x.amax(dim=A)`), its gradient split evenly among ties.
    max_axis, Max
);
reduction!(
    /// The biased variance `Σ (x − mean)² / n` along axis `A` (`x.var(dim=A, unbiased=False)`,
    /// `jnp.var(x, axis=A)`).
    var_axis, Var
);

/// `log Σ eˣ` along axis `A` (`torch.logsumexp(x, dim=A)`), computed as `m + log Σ e^{x − m}`;
/// its gradient is the softmax of each line. Needs a real scalar.
#[must_use]
pub fn logsumexp_axis<const A: usize, G: ShapeList, S: Shape + Axis<A>>(
    x: Idx<G, S>,
) -> OpNode<G, AxisReduce<S, A>> {
    op_node!(AxisReduce {
        x: Slot::new(x.pos),
        kind: Reduce::LogSumExp,
    })
}

/// The op `softmax` (or `log_softmax`) of every line along axis `A` of `S`
/// ([`softmax_axis`], [`log_softmax_axis`]).
#[derive(Clone, Copy, Debug)]
pub struct AxisSoftmax<S, const A: usize> {
    x: Slot<S>,
    log: bool,
    shape: PhantomData<fn() -> S>,
}

impl<S: Shape + Axis<A>, const A: usize> Op for AxisSoftmax<S, A> {
    type Out = S;
    fn name(&self) -> &str {
        if self.log {
            "log_softmax_axis"
        } else {
            "softmax_axis"
        }
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        smallvec![self.x.pos()]
    }
}

impl<S: Shape + Axis<A>, const A: usize> AxisSoftmax<S, A> {
    /// The op on every line: the output line, and the pullback of a line `g` through it
    /// (`p ⊙ (g − ⟨p, g⟩)` for softmax, `g − p Σ g` for log-softmax).
    fn run<T: Real>(&self, l: &[T]) -> (Vec<T>, Vec<T>) {
        let (lse, p) = lse(l);
        let y = if self.log {
            l.iter().map(|&v| v - lse).collect()
        } else {
            p.clone()
        };
        (y, p)
    }

    /// The pullback of the line `g` through the op at weights `p` (the last-axis kernels of
    /// `ops::softmax` / `ops::log_softmax`, on one line).
    fn back<T: Real>(&self, p: &[T], g: &[T]) -> Vec<T> {
        if self.log {
            log_softmax_vjp(p, g, p.len())
        } else {
            softmax_pullback(p, g, p.len())
        }
    }

    /// The tangent of the line for the input tangent `g`.
    fn fwd_back<T: Real>(&self, l: &[T], g: &[T]) -> Vec<T> {
        let (_, p) = self.run(l);
        if self.log {
            log_softmax_jvp(&p, g, p.len())
        } else {
            softmax_pullback(&p, g, p.len())
        }
    }
}

impl<T: Real, D, S: Shape + Axis<A>, const A: usize> Eval<T, D> for AxisSoftmax<S, A> {
    fn forward(&self, x: Operands<'_, T>, _: &D) -> Tensor<T, S> {
        let layout = line_layout(&S::dims(), A);
        let ls: Vec<Vec<T>> = lines(x.get(self.x).as_slice(), layout)
            .iter()
            .map(|l| self.run(l).0)
            .collect();
        Tensor::from_vec_unchecked(unlines(&ls, layout))
    }
    fn jvp(&self, x: Operands<'_, T>, dx: Operands<'_, T>, _: &D) -> Tensor<T, S> {
        let layout = line_layout(&S::dims(), A);
        let (ls, dls) = (
            lines(x.get(self.x).as_slice(), layout),
            lines(dx.get(self.x).as_slice(), layout),
        );
        let out: Vec<Vec<T>> = ls
            .iter()
            .zip(&dls)
            .map(|(l, d)| self.fwd_back(l, d))
            .collect();
        Tensor::from_vec_unchecked(unlines(&out, layout))
    }
    fn vjp(&self, x: Operands<'_, T>, _: &D, seed: &Tensor<T, S>) -> Pullback<T> {
        let layout = line_layout(&S::dims(), A);
        let (ls, gs) = (
            lines(x.get(self.x).as_slice(), layout),
            lines(seed.as_slice(), layout),
        );
        let out: Vec<Vec<T>> = ls
            .iter()
            .zip(&gs)
            .map(|(l, g)| self.back(&self.run(l).1, g))
            .collect();
        Pullback::single(self.x, Tensor::from_vec_unchecked(unlines(&out, layout)))
    }
}

/// Softmax along axis `A` (`F.softmax(x, dim=A)`); `ops::softmax` is the last axis.
#[must_use]
pub fn softmax_axis<const A: usize, G: ShapeList, S: Shape + Axis<A>>(
    x: Idx<G, S>,
) -> OpNode<G, AxisSoftmax<S, A>> {
    op_node!(AxisSoftmax {
        x: Slot::new(x.pos),
        log: false,
        shape: PhantomData,
    })
}

/// Log-softmax along axis `A` (`F.log_softmax(x, dim=A)`); `ops::log_softmax` is the last
/// axis.
#[must_use]
pub fn log_softmax_axis<const A: usize, G: ShapeList, S: Shape + Axis<A>>(
    x: Idx<G, S>,
) -> OpNode<G, AxisSoftmax<S, A>> {
    op_node!(AxisSoftmax {
        x: Slot::new(x.pos),
        log: true,
        shape: PhantomData,
    })
}
