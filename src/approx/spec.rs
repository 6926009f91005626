//! Spec scalars, the map from runtime to spec values, and the approximation predicates.
//!
//! The spec side of a runtime-approximation graph computes in a scalar type the user chooses:
//! `f64` (fast, itself approximate) or the exact [`Rational`] (for
//! polynomial and piecewise-linear graphs). The runtime side computes in `f32`, `f64`,
//! `half::bf16` or `half::f16`.
//! [`ToSpec`] is Lean's `toSpec`, the exact embedding of runtime values into the spec scalar.
//!
//! `approx_t spec rt ε` is Lean's `approxT`: `‖spec − map toSpec rt‖∞ ≤ ε`, i.e.
//! `max(0, maxᵢ |specᵢ − toSpec(rtᵢ)|) ≤ ε`; `approx_ctx` is its conjunction over the slots of a
//! context.

use num_traits::FromPrimitive;

use crate::approx::elist::EList;
use crate::scalar::{Element, Rational};
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tensor::{Data, TensorBase};
use crate::tlist::TList;

/// A scalar for the spec (high-precision) side, with an exact embedding of `f64` bounds.
pub trait SpecScalar: Element {
    /// The finite `f64` `x` as a spec value, exactly (`None` for NaN or ±∞).
    fn from_f64_exact(x: f64) -> Option<Self>;
}

impl SpecScalar for f64 {
    fn from_f64_exact(x: f64) -> Option<Self> {
        x.is_finite().then_some(x)
    }
}

impl SpecScalar for Rational {
    fn from_f64_exact(x: f64) -> Option<Self> {
        if x.is_finite() {
            Rational::from_f64(x)
        } else {
            None
        }
    }
}

/// Lean's `toSpec`: the exact value of a runtime scalar in the spec scalar `P`
/// (`None` for NaN or ±∞, which have no real value).
pub trait ToSpec<P> {
    /// The value as a spec scalar.
    fn to_spec(&self) -> Option<P>;
}

impl ToSpec<f64> for f32 {
    fn to_spec(&self) -> Option<f64> {
        self.is_finite().then(|| f64::from(*self))
    }
}
impl ToSpec<f64> for f64 {
    fn to_spec(&self) -> Option<f64> {
        self.is_finite().then_some(*self)
    }
}
impl ToSpec<Rational> for f32 {
    fn to_spec(&self) -> Option<Rational> {
        Rational::from_f64_exact(f64::from(*self))
    }
}
impl ToSpec<Rational> for f64 {
    fn to_spec(&self) -> Option<Rational> {
        Rational::from_f64_exact(*self)
    }
}

impl ToSpec<f64> for half::bf16 {
    fn to_spec(&self) -> Option<f64> {
        self.is_finite().then(|| f64::from(self.to_f32()))
    }
}
impl ToSpec<f64> for half::f16 {
    fn to_spec(&self) -> Option<f64> {
        self.is_finite().then(|| f64::from(self.to_f32()))
    }
}
impl ToSpec<Rational> for half::bf16 {
    fn to_spec(&self) -> Option<Rational> {
        Rational::from_f64_exact(f64::from(self.to_f32()))
    }
}
impl ToSpec<Rational> for half::f16 {
    fn to_spec(&self) -> Option<Rational> {
        Rational::from_f64_exact(f64::from(self.to_f32()))
    }
}

/// The L∞ distance `max(0, maxᵢ |specᵢ − toSpec(rtᵢ)|)` between a spec tensor and a runtime
/// tensor, in the spec scalar; `None` if a runtime entry is NaN or infinite.
pub fn linf_distance<P, R, D1, D2, S>(spec: &TensorBase<D1, S>, rt: &TensorBase<D2, S>) -> Option<P>
where
    P: SpecScalar,
    R: ToSpec<P>,
    D1: Data<Elem = P>,
    D2: Data<Elem = R>,
    S: Shape,
{
    linf_distance_slices(spec.as_slice(), rt.as_slice())
}

pub(crate) fn linf_distance_slices<P: SpecScalar, R: ToSpec<P>>(spec: &[P], rt: &[R]) -> Option<P> {
    let mut m = P::zero();
    for (s, r) in spec.iter().zip(rt) {
        let d = (s.clone() - r.to_spec()?).abs();
        if d > m {
            m = d;
        }
    }
    Some(m)
}

/// Lean's `approxT toSpec spec rt ε`: `‖spec − toSpec(rt)‖∞ ≤ ε`. An infinite `ε` holds for
/// anything; a NaN `ε` or a NaN/∞ runtime entry (with finite `ε`) does not hold.
pub fn approx_t<P, R, D1, D2, S>(spec: &TensorBase<D1, S>, rt: &TensorBase<D2, S>, eps: f64) -> bool
where
    P: SpecScalar,
    R: ToSpec<P>,
    D1: Data<Elem = P>,
    D2: Data<Elem = R>,
    S: Shape,
{
    approx_slices(spec.as_slice(), rt.as_slice(), eps)
}

pub(crate) fn approx_slices<P: SpecScalar, R: ToSpec<P>>(spec: &[P], rt: &[R], eps: f64) -> bool {
    if eps == f64::INFINITY {
        return true;
    }
    let Some(eps) = P::from_f64_exact(eps) else {
        return false;
    };
    match linf_distance_slices(spec, rt) {
        Some(d) => d <= eps,
        None => false,
    }
}

/// Lean's `approxCtx`: every slot `j` of the spec context is within `εⱼ` of the runtime one.
pub fn approx_ctx<P, R, G>(spec: &TList<P, G>, rt: &TList<R, G>, eps: &EList<G>) -> bool
where
    P: SpecScalar,
    R: ToSpec<P>,
    G: ShapeList,
{
    spec.slot_slices()
        .zip(rt.slot_slices())
        .zip(eps.as_slice())
        .all(|((s, r), &e)| approx_slices(s, r, e))
}

/// The measured L∞ distance of every slot (`None` for a slot with a NaN/∞ runtime entry):
/// what `approx_ctx` compares with the bounds, for reporting.
pub fn ctx_distances<P, R, G>(spec: &TList<P, G>, rt: &TList<R, G>) -> Vec<Option<P>>
where
    P: SpecScalar,
    R: ToSpec<P>,
    G: ShapeList,
{
    spec.slot_slices()
        .zip(rt.slot_slices())
        .map(|(s, r)| linf_distance_slices(s, r))
        .collect()
}
