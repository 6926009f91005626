//! [proptest](https://docs.rs/proptest) strategies for tensors, contexts, exact scalars and
//! error bounds, so that downstream crates can property-test their own nodes (available with
//! the `proptest` feature, as nalgebra's `proptest-support`).
//!
//! **Mathematics.** A law such as a node's adjointness `⟨jvp(x, dx, d), δ⟩ = ⟨dx, vjp(x, d,
//! δ)⟩` is a statement "for all `x, dx ∈ Π_{S ∈ Γ} A^{size S}` and `δ ∈ A^{size T}`". A
//! property test samples that product space: [`tensor`] draws a point of `A^{size S}` with
//! independent entries from a given scalar strategy, [`tlist`] a point of the product over the
//! slots of `Γ`, [`elist`] a point of `[0, max]^{|Γ|}` (one L∞ bound per slot). Over the exact
//! scalar [`Rational`] (drawn by [`rational`] and [`small_rational`]) both sides of an
//! algebraic identity are computed without rounding, so a polynomial or piecewise-linear node
//! must satisfy it with `==`; over floats compare up to a tolerance, e.g. with
//! [`AdjointCheck::relative_error`](crate::autograd::AdjointCheck::relative_error). Failing
//! inputs shrink entry by entry; the shapes never change, since they are types.
//!
//! Enable the feature where the tests are, e.g. in `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! shapetape = { version = "0.1", features = ["proptest"] }
//! proptest = "1.5"
//! ```
//!
//! A hand-written node `y = x ⊙ x` tested exactly, for every sampled point, against its
//! adjointness law with [`check_adjoint`](crate::autograd::check_adjoint):
//!
//! ```
//! use proptest::prelude::*;
//! use shapetape::autograd::{Cotangent, NodeData, check_adjoint};
//! use shapetape::prelude::*;
//! use shapetape::strategies::{small_rational, tensor, tlist};
//!
//! type G = HList![Vector<3>, Scalar];
//! let x = Idx::<G, Vector<3>>::at::<0>();
//! let two = || Rational::from_integer(2.into());
//! // y = x ⊙ x: JVP 2 x ⊙ dx, VJP x ↦ 2 x ⊙ δ.
//! let square = NodeData::<Rational, (), G, Vector<3>>::new(
//!     move |c, _| c.get(x).mul(&c.get(x)),
//!     move |c, dc, _| c.get(x).mul(&dc.get(x)).scale(&two()),
//!     move |c, _, d| Cotangent::single(x, d.mul(&c.get(x)).scale(&two())),
//! );
//!
//! proptest!(|(
//!     ctx in tlist::<Rational, G>(small_rational()),
//!     dctx in tlist::<Rational, G>(small_rational()),
//!     seed in tensor::<Rational, Vector<3>>(small_rational()),
//! )| {
//!     let check = check_adjoint(&square, &ctx, &dctx, &(), &seed);
//!     prop_assert!(check.is_exact(), "{}", check);
//! });
//! ```
//!
//! Over `f64`, draw with [`f64_tlist`] and assert `check.relative_error() < 1e-12` instead; a
//! graph's `backprop_correct` is checked the same way with
//! [`check_backprop`](crate::autograd::check_backprop).

use core::fmt;
use core::ops::Range;

pub use crate::op_check::{OpCheck, OpCheckFailure, OpReport, check_op, check_op_exact};

use proptest::prelude::*;

use crate::approx::EList;
use crate::scalar::Rational;
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::TList;

/// Tensors of shape `S` whose `S::SIZE` entries are drawn independently from `elem`
/// (row-major). Shrinks entry by entry.
///
/// ```
/// use proptest::prelude::*;
/// use shapetape::prelude::*;
/// use shapetape::strategies::tensor;
/// proptest!(|(m in tensor::<i8, Matrix<2, 3>>(-5_i8..5))| {
///     prop_assert!(m.iter().all(|v| (-5..5).contains(v)));
/// });
/// ```
pub fn tensor<A, S>(elem: impl Strategy<Value = A>) -> impl Strategy<Value = Tensor<A, S>>
where
    A: fmt::Display,
    S: Shape,
{
    proptest::collection::vec(elem, S::SIZE)
        .prop_map(|v| Tensor::try_from_vec(v).expect("generated with the shape's size"))
}

/// Contexts over `G` whose entries, slot by slot, are drawn independently from `elem`.
/// Shrinks entry by entry.
///
/// ```
/// use proptest::prelude::*;
/// use shapetape::prelude::*;
/// use shapetape::strategies::tlist;
/// type G = HList![Scalar, Vector<2>];
/// proptest!(|(x in tlist::<f64, G>(0.0..1.0))| {
///     prop_assert_eq!(x.slot_slices().map(<[f64]>::len).collect::<Vec<_>>(), vec![1, 2]);
/// });
/// ```
pub fn tlist<A, G>(elem: impl Strategy<Value = A>) -> impl Strategy<Value = TList<A, G>>
where
    A: fmt::Display,
    G: ShapeList,
{
    let total: usize = G::layout().iter().map(|l| l.size).sum();
    proptest::collection::vec(elem, total)
        .prop_map(|v| TList::try_from_flat(v).expect("generated with the context's total size"))
}

/// `f64` tensors of shape `S` with entries uniform in `range` (`tensor::<f64, S>(range)`).
pub fn f64_tensor<S: Shape>(range: Range<f64>) -> impl Strategy<Value = Tensor<f64, S>> {
    tensor(range)
}

/// `f64` contexts over `G` with entries uniform in `range` (`tlist::<f64, G>(range)`).
pub fn f64_tlist<G: ShapeList>(range: Range<f64>) -> impl Strategy<Value = TList<f64, G>> {
    tlist(range)
}

/// Rationals `n/d` with `|n| ≤ max_num` and `1 ≤ d ≤ max_den` (in lowest terms after
/// reduction, so every value in that set is reachable).
///
/// # Panics
///
/// If `max_den` is 0.
pub fn rational(max_num: u32, max_den: u32) -> impl Strategy<Value = Rational> {
    assert!(max_den >= 1, "a rational needs a positive denominator");
    let n = i64::from(max_num);
    (-n..=n, 1..=i64::from(max_den)).prop_map(|(n, d)| Rational::new(n.into(), d.into()))
}

/// Small rationals `n/d`, `|n| ≤ 6`, `1 ≤ d ≤ 4`, with exact zero drawn often (one time in
/// seven, besides the zeros `0/d` of [`rational`]): the default scalar for exact law checks,
/// small enough that products over a few nodes stay cheap.
pub fn small_rational() -> impl Strategy<Value = Rational> {
    prop_oneof![
        1 => Just(Rational::from_integer(0.into())),
        6 => rational(6, 4),
    ]
}

/// Error bounds over `G`: one bound per slot, uniform in `[0, max_eps]`, with exact zero
/// (an exact input) drawn often.
///
/// # Panics
///
/// If `max_eps` is negative or NaN.
pub fn elist<G: ShapeList>(max_eps: f64) -> impl Strategy<Value = EList<G>> {
    assert!(max_eps >= 0.0, "an error bound must be nonnegative");
    let bound = prop_oneof![1 => Just(0.0), 3 => 0.0..=max_eps];
    proptest::collection::vec(bound, G::LEN).prop_map(|v| {
        EList::try_from_vec(v).expect("generated with the context's length, nonnegative")
    })
}
