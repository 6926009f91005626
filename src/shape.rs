//! Type-level tensor shapes.
//!
//! A shape is `scalar` or `dim n s` (outermost dimension first), exactly TorchLean's
//! `Shape ::= scalar | dim (n : Nat) (s : Shape)`. In Rust it is a *type*: [`Scalar`] and
//! [`Dim<N, S>`], so `Dim<2, Dim<3, Scalar>>` is a 2×3 matrix shape and a shape mismatch is a
//! compile error. The element count `size scalar = 1`, `size (dim n s) = n · size s` is computed
//! at the type level by typenum ([`Shape::Size`]); the rank likewise ([`Shape::Rank`]).
//!
//! ```
//! use shapetape::{Matrix, Shape, Vector, Scalar};
//! assert_eq!(<Matrix<2, 3>>::SIZE, 6);
//! assert_eq!(<Matrix<2, 3>>::dims().as_slice(), &[2, 3]);
//! assert_eq!(<Vector<0>>::SIZE, 0); // empty dimensions are allowed
//! assert_eq!(<Scalar>::RANK, 0);
//! ```

use core::fmt;
use core::marker::PhantomData;
use core::ops::{Add, Mul};

use generic_array::{ArrayLength, GenericArray, sequence::GenericSequence};
use typenum::{Add1, B1, Const, Prod, ToUInt, U, U0, U1, Unsigned};

pub use crate::constraint::{AcceptsShape, SameShape};

/// A tensor shape: a type describing the dimensions of a tensor, outermost first.
///
/// Implemented by [`Scalar`] and [`Dim<N, S>`] only. The element count and the rank are
/// type-level numbers; [`Shape::dims`] gives the dimensions at run time.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tensor shape",
    label = "expected a shape such as `Scalar`, `Vector<3>` or `Dim<2, Dim<3, Scalar>>`",
    note = "shapes are built from `shapetape::Scalar` and `shapetape::Dim<N, S>`"
)]
pub trait Shape: Copy + Send + Sync + 'static {
    /// Type-level element count: `size scalar = 1`, `size (dim n s) = n · size s`.
    type Size: Unsigned;
    /// Type-level rank (number of dimensions).
    type Rank: ArrayLength;
    /// The nested Rust array literal type of a tensor of this shape with entries `A`
    /// (`A` for a scalar, `[[A; 3]; 2]` for `Matrix<2, 3>`).
    type Array<A>;
    /// Element count as a run-time constant (equal to `Self::Size::USIZE`).
    const SIZE: usize;
    /// Rank as a run-time constant.
    const RANK: usize;
    /// The dimensions, outermost first (empty for a scalar).
    fn dims() -> GenericArray<usize, Self::Rank>;
    /// Appends the entries of a nested array literal to `out` in row-major order.
    fn flatten_array<A>(array: Self::Array<A>, out: &mut impl Extend<A>);
}

/// The rank-0 shape: a single entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scalar;

/// The shape `dim n s`: `N` copies of a tensor of shape `S` (outermost dimension first).
pub struct Dim<const N: usize, S>(PhantomData<fn() -> S>);

impl<const N: usize, S> Clone for Dim<N, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<const N: usize, S> Copy for Dim<N, S> {}
impl<const N: usize, S> Default for Dim<N, S> {
    fn default() -> Self {
        Dim(PhantomData)
    }
}

impl<const N: usize, S> fmt::Debug for Dim<N, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dim<{N}, {}>", core::any::type_name::<S>())
    }
}

/// Vector shape of length `N`: `Dim<N, Scalar>`.
pub type Vector<const N: usize> = Dim<N, Scalar>;
/// Matrix shape with `R` rows and `C` columns: `Dim<R, Dim<C, Scalar>>`.
pub type Matrix<const R: usize, const C: usize> = Dim<R, Dim<C, Scalar>>;
/// Rank-3 shape `A × B × C`.
pub type Tensor3<const A: usize, const B: usize, const C: usize> = Dim<A, Dim<B, Dim<C, Scalar>>>;

impl Shape for Scalar {
    type Size = U1;
    type Rank = U0;
    type Array<A> = A;
    const SIZE: usize = 1;
    const RANK: usize = 0;
    fn dims() -> GenericArray<usize, U0> {
        GenericArray::default()
    }
    fn flatten_array<A>(array: A, out: &mut impl Extend<A>) {
        out.extend(core::iter::once(array));
    }
}

impl<const N: usize, S: Shape> Shape for Dim<N, S>
where
    Const<N>: ToUInt,
    U<N>: Mul<S::Size>,
    Prod<U<N>, S::Size>: Unsigned,
    S::Rank: Add<B1>,
    Add1<S::Rank>: ArrayLength,
{
    type Size = Prod<U<N>, S::Size>;
    type Rank = Add1<S::Rank>;
    type Array<A> = [S::Array<A>; N];
    const SIZE: usize = <Self::Size as Unsigned>::USIZE;
    const RANK: usize = S::RANK + 1;
    fn dims() -> GenericArray<usize, Self::Rank> {
        let inner = S::dims();
        GenericArray::generate(|i| if i == 0 { N } else { inner[i - 1] })
    }
    fn flatten_array<A>(array: [S::Array<A>; N], out: &mut impl Extend<A>) {
        for sub in array {
            S::flatten_array(sub, out);
        }
    }
}

/// `Self` is the shape `Expected`: the equality of two shapes as a trait bound.
///
/// Formats the dimensions of `S` as `[2, 3]` (`[]` for a scalar).
pub fn dims_string<S: Shape>() -> String {
    format!("{:?}", S::dims().as_slice())
}
