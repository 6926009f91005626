//! Entrywise ops on two operands of the same shape. Operands may alias (the same slot used
//! twice); the VJP then adds both contributions to that slot, as in Lean.
//!
//! **Mathematics.** For `y = a ∘ b` entrywise, `dy = ∂ₐ ⊙ da + ∂_b ⊙ db` with diagonal
//! Jacobians (`1` and `±1` for `±`, `b` and `a` for `⊙`), which are symmetric, so the VJP
//! scales the seed the same way: `ā = ∂ₐ ⊙ δ`, `b̄ = ∂_b ⊙ δ`. When `a` and `b` are one slot
//! `x`, the node is `x ↦ x ∘ x` and its VJP `ā + b̄` (the chain rule through `x ↦ (x, x)`).
//! Lean: `Proofs/Autograd/Tape/Algebra/Nodes.lean` (`addNode`, `subNode`, `mulNode`).
//!
//! [`maximum`] and [`minimum`] have the weights `∂ₐ = w`, `∂_b = 1 − w` with `w = 1` where `a`
//! wins, `0` where `b` wins and `½` at a tie, written `w = ½(1 + H(a − b) − H(b − a))` with the
//! Heaviside step so that intervals take every case into account. [`div`] is its own op
//! ([`Div`]), `∂ₐ = 1/b`, `∂_b = −a/b²`.

use smallvec::{SmallVec, smallvec};

use super::activations::{TotalDiv, elem_min};
use crate::autograd::op::{Eval, Op, OpNode, Operands, Pullback, Slot, op_node};
use crate::scalar::Element;
use crate::shape::{SameShape, Shape};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

/// Which entrywise binary op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryKind {
    /// `a + b`.
    Add,
    /// `a − b`.
    Sub,
    /// `a ⊙ b`.
    Mul,
    /// `max(a, b)`, the gradient split equally at a tie.
    Maximum,
    /// `min(a, b)`, the gradient split equally at a tie.
    Minimum,
}

/// The op `y = a ∘ b` entrywise ([`add`], [`sub`], [`mul`], [`maximum`], [`minimum`]).
#[derive(Clone, Copy, Debug)]
pub struct Binary<S> {
    kind: BinaryKind,
    a: Slot<S>,
    b: Slot<S>,
}

impl<S: Shape> Op for Binary<S> {
    type Out = S;
    fn name(&self) -> &str {
        match self.kind {
            BinaryKind::Add => "add",
            BinaryKind::Sub => "sub",
            BinaryKind::Mul => "mul",
            BinaryKind::Maximum => "maximum",
            BinaryKind::Minimum => "minimum",
        }
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        if self.a.pos() == self.b.pos() {
            smallvec![self.a.pos()]
        } else {
            smallvec![self.a.pos(), self.b.pos()]
        }
    }
}

/// Whether `x` is NaN (`x ≠ x`; never for exact or interval scalars).
#[allow(clippy::eq_op)]
fn is_nan<A: Element>(x: &A) -> bool {
    x != x
}

/// `max(a, b)`, NaN if either is NaN (as `torch.maximum`).
fn max_of<A: Element>(a: &A, b: &A) -> A {
    if is_nan(b) { b.clone() } else { a.elem_max(b) }
}

/// `min(a, b)`, NaN if either is NaN (as `torch.minimum`).
fn min_of<A: Element>(a: &A, b: &A) -> A {
    if is_nan(b) { b.clone() } else { elem_min(a, b) }
}

/// The weights `(∂ₐ, ∂_b)` of `max(a, b)`: `(1, 0)` where `a > b`, `(0, 1)` where `a < b`,
/// `(½, ½)` at a tie (as PyTorch's `maximum` and JAX's `max`); `max_weights(b, a)` are the
/// weights `(∂ₐ, ∂_b)` of `min(a, b)`.
fn max_weights<A: Element>(a: &A, b: &A) -> (A, A) {
    let (ha, hb) = (
        (a.clone() - b.clone()).heaviside(),
        (b.clone() - a.clone()).heaviside(),
    );
    let half = A::one() / A::from_i64(2);
    let one = A::one();
    (
        half.clone() * (one.clone() + ha.clone() - hb.clone()),
        half * (one - ha + hb),
    )
}

impl<S: Shape> Binary<S> {
    /// The weights `(∂ₐ, ∂_b)` at entry `i` of `max`/`min`.
    fn weights<A: Element>(&self, a: &[A], b: &[A], i: usize) -> (A, A) {
        match self.kind {
            BinaryKind::Maximum => max_weights(&a[i], &b[i]),
            // min(a, b) = −max(−a, −b): `a` gets the gradient where `b > a`.
            _ => max_weights(&b[i], &a[i]),
        }
    }
}

impl<A: Element, D, S: Shape> Eval<A, D> for Binary<S> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let (a, b) = (x.get(self.a), x.get(self.b));
        match self.kind {
            BinaryKind::Add => a.add(&b),
            BinaryKind::Sub => a.sub(&b),
            BinaryKind::Mul => a.mul(&b),
            BinaryKind::Maximum => a.zip_with(&b, max_of),
            BinaryKind::Minimum => a.zip_with(&b, min_of),
        }
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let (da, db) = (dx.get(self.a), dx.get(self.b));
        match self.kind {
            BinaryKind::Add => da.add(&db),
            BinaryKind::Sub => da.sub(&db),
            BinaryKind::Mul => da.mul(&x.get(self.b)).add(&x.get(self.a).mul(&db)),
            BinaryKind::Maximum | BinaryKind::Minimum => {
                let (a, b) = (x.get(self.a), x.get(self.b));
                let (a, b, da, db) = (a.as_slice(), b.as_slice(), da.as_slice(), db.as_slice());
                Tensor::from_flat_fn(|i| {
                    let (wa, wb) = self.weights(a, b, i);
                    wa * da[i].clone() + wb * db[i].clone()
                })
            }
        }
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, S>) -> Pullback<A> {
        let (a, b) = (self.a, self.b);
        match self.kind {
            BinaryKind::Add => Pullback::single(a, seed.clone()).with(b, seed.clone()),
            BinaryKind::Sub => Pullback::single(a, seed.clone()).with(b, seed.neg()),
            BinaryKind::Mul => {
                Pullback::single(a, seed.mul(&x.get(b))).with(b, seed.mul(&x.get(a)))
            }
            BinaryKind::Maximum | BinaryKind::Minimum => {
                let (xa, xb) = (x.get(a), x.get(b));
                let (xa, xb, d) = (xa.as_slice(), xb.as_slice(), seed.as_slice());
                let ca = Tensor::from_flat_fn(|i| d[i].clone() * self.weights(xa, xb, i).0);
                let cb = Tensor::from_flat_fn(|i| d[i].clone() * self.weights(xa, xb, i).1);
                Pullback::single(a, ca).with(b, cb)
            }
        }
    }
}

/// `y = xₐ + x_b`: JVP `dxₐ + dx_b`, VJP `a ↦ δ, b ↦ δ`.
#[must_use]
pub fn add<G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> OpNode<G, Binary<S>> {
    op_node!(Binary {
        kind: BinaryKind::Add,
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}

/// `y = xₐ − x_b`: JVP `dxₐ − dx_b`, VJP `a ↦ δ, b ↦ −δ`.
#[must_use]
pub fn sub<G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> OpNode<G, Binary<S>> {
    op_node!(Binary {
        kind: BinaryKind::Sub,
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}

/// `y = xₐ ⊙ x_b` (Hadamard product): JVP `dxₐ ⊙ x_b + xₐ ⊙ dx_b`,
/// VJP `a ↦ δ ⊙ x_b, b ↦ δ ⊙ xₐ`.
#[must_use]
pub fn mul<G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> OpNode<G, Binary<S>> {
    op_node!(Binary {
        kind: BinaryKind::Mul,
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}

/// `y = max(xₐ, x_b)` entrywise (NaN if either is NaN, as `torch.maximum`). Where `a > b` the
/// gradient goes to `a`, where `a < b` to `b`, and at a tie it is split equally, `½δ` to each
/// (PyTorch's and JAX's convention; `maximum(x, x)` then has derivative 1).
#[must_use]
pub fn maximum<G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> OpNode<G, Binary<S>> {
    op_node!(Binary {
        kind: BinaryKind::Maximum,
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}

/// `y = min(xₐ, x_b)` entrywise (NaN if either is NaN, as `torch.minimum`), the gradient to the
/// smaller operand and split equally at a tie (see [`maximum`]).
#[must_use]
pub fn minimum<G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> OpNode<G, Binary<S>> {
    op_node!(Binary {
        kind: BinaryKind::Minimum,
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}

/// The op `y = a / b` entrywise ([`div`]), at every [`TotalDiv`] scalar: IEEE at `f32`/`f64`
/// (`x/0 = ±∞`, `0/0 = NaN`), the whole line on intervals whose divisor contains 0, and Lean's
/// `x/0 = 0` over ℚ.
#[derive(Clone, Copy, Debug)]
pub struct Div<S> {
    a: Slot<S>,
    b: Slot<S>,
}

impl<S: Shape> Op for Div<S> {
    type Out = S;
    fn name(&self) -> &str {
        "div"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        if self.a.pos() == self.b.pos() {
            smallvec![self.a.pos()]
        } else {
            smallvec![self.a.pos(), self.b.pos()]
        }
    }
}

impl<A: TotalDiv, D, S: Shape> Eval<A, D> for Div<S> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        x.get(self.a)
            .zip_with(&x.get(self.b), |a, b| a.clone().total_div(b.clone()))
    }
    /// `da/b − (db/b) · (a/b)`.
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        let (a, b) = (x.get(self.a), x.get(self.b));
        let (da, db) = (dx.get(self.a), dx.get(self.b));
        let (a, b, da, db) = (a.as_slice(), b.as_slice(), da.as_slice(), db.as_slice());
        Tensor::from_flat_fn(|i| {
            let q = a[i].clone().total_div(b[i].clone());
            da[i].clone().total_div(b[i].clone()) - db[i].clone().total_div(b[i].clone()) * q
        })
    }
    /// `a ↦ δ/b`, `b ↦ −(δ/b) · (a/b)` (the same products as the JVP, so that for `div(x, x)`
    /// both are exactly 0 at `f32`/`f64` too).
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, S>) -> Pullback<A> {
        let (xa, xb) = (x.get(self.a), x.get(self.b));
        let (a, b, d) = (xa.as_slice(), xb.as_slice(), seed.as_slice());
        let ca = Tensor::from_flat_fn(|i| d[i].clone().total_div(b[i].clone()));
        let cb = Tensor::from_flat_fn(|i| {
            let q = a[i].clone().total_div(b[i].clone());
            -(ca.as_slice()[i].clone() * q)
        });
        Pullback::single(self.a, ca).with(self.b, cb)
    }
}

/// `y = xₐ / x_b` entrywise: JVP `dxₐ/x_b − dx_b · xₐ/x_b²`, VJP `a ↦ δ/x_b, b ↦ −δ xₐ/x_b²`.
/// Division by zero follows the scalar (see [`Div`]): `±∞` or NaN at `f32`/`f64`, so a certified
/// bound there is `+∞`.
#[must_use]
pub fn div<G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> OpNode<G, Div<S>> {
    op_node!(Div {
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}
