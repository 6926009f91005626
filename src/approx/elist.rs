//! `EList<Γ>`: one error bound per context slot.
//!
//! **Mathematics.** An `EList<Γ>` is a point `ε ∈ [0, +∞]^{|Γ|}`, one L∞ radius per slot, and
//! `approx_ctx xS xR ε` says that the spec context lies in the box
//! `Πⱼ {y : ‖y − toSpec(xRⱼ)‖∞ ≤ εⱼ}` around the runtime context. Bounds are only combined by
//! upward-rounded arithmetic (e.g. [`EList::add`] is `εⱼ + ε′ⱼ` rounded up), so a computed bound
//! is never below the real number it stands for; `+∞` means "no information" and absorbs NaN.

use core::fmt;
use core::marker::PhantomData;

use frunk::HNil;

use crate::approx::round::add_up;
use crate::shape_list::{Cat, Init, NonEmpty, SameContext, ShapeList, Snoc};
use crate::tlist::Idx;

/// One nonnegative real bound per slot of the context `G` (Lean's `EList Γ`): the L∞ error
/// allowed for the whole tensor in that slot, not per entry.
///
/// Bounds are `f64` numbers that are only ever rounded upward. The invariant "nonnegative or
/// `+∞`" is kept by every constructor: a negative bound (which would make the approximation
/// predicate unsatisfiable) is rejected, and NaN becomes `+∞`.
///
/// ```
/// # use shapetape::prelude::*;
/// # use shapetape::approx::EList;
/// type G = HList![Scalar, Vector<3>];
/// let e = EList::<G>::uniform(1e-6).snoc::<Scalar>(0.5);
/// assert_eq!(e.as_slice(), &[1e-6, 1e-6, 0.5]);
/// let (init, last) = e.unsnoc();
/// assert_eq!((init.len(), last), (2, 0.5));
/// ```
pub struct EList<G> {
    eps: Vec<f64>,
    ctx: PhantomData<fn() -> G>,
}

/// `NaN ↦ +∞`, negative ↦ rejected.
fn checked(e: f64) -> Result<f64, NegativeBound> {
    if e.is_nan() {
        Ok(f64::INFINITY)
    } else if e < 0.0 {
        Err(NegativeBound(e))
    } else {
        Ok(e)
    }
}

/// A negative number was offered as an error bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NegativeBound(pub f64);

impl fmt::Display for NegativeBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an error bound must be nonnegative, got {}", self.0)
    }
}
impl std::error::Error for NegativeBound {}

impl<G> EList<G> {
    pub(crate) fn from_vec_unchecked(eps: Vec<f64>) -> Self {
        EList {
            eps,
            ctx: PhantomData,
        }
    }
    pub(crate) fn into_vec(self) -> Vec<f64> {
        self.eps
    }
    pub(crate) fn retag<H>(self) -> EList<H> {
        EList {
            eps: self.eps,
            ctx: PhantomData,
        }
    }

    /// The bounds, in slot order.
    pub fn as_slice(&self) -> &[f64] {
        &self.eps
    }
}

impl EList<HNil> {
    /// The empty list of bounds.
    #[must_use]
    pub fn new() -> Self {
        EList::from_vec_unchecked(Vec::new())
    }
}

impl Default for EList<HNil> {
    fn default() -> Self {
        Self::new()
    }
}

impl<G: ShapeList> EList<G> {
    /// Bound 0 for every slot (the inputs are exact).
    #[must_use]
    pub fn zero() -> Self {
        Self::from_vec_unchecked(vec![0.0; G::LEN])
    }

    /// The same bound `e` for every slot (`NaN` counts as `+∞`; a negative `e` panics — use
    /// [`EList::try_from_vec`] for untrusted values).
    #[must_use]
    pub fn uniform(e: f64) -> Self {
        let e = checked(e).expect("EList::uniform needs a nonnegative bound");
        Self::from_vec_unchecked(vec![e; G::LEN])
    }

    /// Bounds from a vector, one per slot; an error for the wrong length or a negative bound.
    /// NaN counts as `+∞`.
    pub fn try_from_vec(eps: Vec<f64>) -> Result<Self, EListError> {
        if eps.len() != G::LEN {
            return Err(EListError::Length {
                expected: G::LEN,
                actual: eps.len(),
            });
        }
        let eps = eps
            .into_iter()
            .map(checked)
            .collect::<Result<Vec<_>, _>>()
            .map_err(EListError::Negative)?;
        Ok(Self::from_vec_unchecked(eps))
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        G::LEN
    }

    /// Whether the context is empty.
    pub fn is_empty(&self) -> bool {
        G::LEN == 0
    }

    /// Lean's `getIdxEps`: the bound of the slot at `idx`.
    pub fn get<G2: SameContext<G>, S: crate::shape::Shape>(&self, idx: Idx<G2, S>) -> f64 {
        self.eps[idx.pos()]
    }

    /// Lean's `EList.snoc`: one more slot at the end (NaN counts as `+∞`; negative panics).
    #[must_use]
    pub fn snoc<S: crate::shape::Shape>(mut self, e: f64) -> EList<Snoc<G, S>> {
        self.eps
            .push(checked(e).expect("EList::snoc needs a nonnegative bound"));
        self.retag()
    }

    /// Lean's `EList.unsnoc`: the bounds of all slots but the last, and the last.
    pub fn unsnoc(mut self) -> (EList<Init<G>>, f64)
    where
        G: NonEmpty,
    {
        let last = self.eps.pop().expect("non-empty by the NonEmpty bound");
        (self.retag(), last)
    }

    /// Lean's `EList.add`: slot-wise sum, rounded upward.
    pub fn add<G2: SameContext<G>>(&self, other: &EList<G2>) -> Self {
        Self::from_vec_unchecked(
            self.eps
                .iter()
                .zip(&other.eps)
                .map(|(&a, &b)| add_up(a, b))
                .collect(),
        )
    }

    /// Lean's `EList.cast` along an equality of contexts (a move).
    pub fn cast<H: ShapeList>(self) -> EList<H>
    where
        G: SameContext<H>,
    {
        self.retag()
    }

    /// Concatenates two lists of bounds.
    pub fn append<R: ShapeList>(mut self, rest: EList<R>) -> EList<Cat<G, R>> {
        self.eps.extend(rest.eps);
        self.retag()
    }

    /// Splits the bounds of `G ++ R` at the boundary.
    pub fn split<R: ShapeList>(xs: EList<Cat<G, R>>) -> (Self, EList<R>) {
        let mut eps = xs.eps;
        let rest = eps.split_off(G::LEN);
        (
            Self::from_vec_unchecked(eps),
            EList::from_vec_unchecked(rest),
        )
    }
}

/// Why a vector could not be made an [`EList`].
#[derive(Clone, Debug, PartialEq)]
pub enum EListError {
    /// The vector does not have one bound per slot.
    Length {
        /// Slots of the context.
        expected: usize,
        /// Bounds supplied.
        actual: usize,
    },
    /// A bound was negative.
    Negative(NegativeBound),
}

impl fmt::Display for EListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EListError::Length { expected, actual } => {
                write!(
                    f,
                    "expected one error bound per slot ({expected}), got {actual}"
                )
            }
            EListError::Negative(n) => n.fmt(f),
        }
    }
}
impl std::error::Error for EListError {}

impl<G> Clone for EList<G> {
    fn clone(&self) -> Self {
        EList::from_vec_unchecked(self.eps.clone())
    }
}

impl<G> PartialEq for EList<G> {
    /// Bit-for-bit equality of the bounds.
    fn eq(&self, other: &Self) -> bool {
        self.eps.len() == other.eps.len()
            && self
                .eps
                .iter()
                .zip(&other.eps)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl<G> fmt::Debug for EList<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.eps).finish()
    }
}
