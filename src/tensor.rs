//! Tensors of a statically known shape.
//!
//! `Tensor<A, S>` is TorchLean's `Tensor α s`: a row-major buffer of `S::SIZE` entries of type
//! `A`, whose shape `S` is a type. As in ndarray, owned tensors and borrowed views share one
//! struct, [`TensorBase<D, S>`], generic over the storage `D`:
//!
//! - [`Tensor<A, S>`]: owns its entries. Up to [`INLINE`] entries live inline (no heap
//!   allocation for scalars and short vectors); larger tensors live on the heap, so a
//!   `Matrix<512, 784>` never touches the stack.
//! - [`TensorView<'a, A, S>`] / [`TensorViewMut<'a, A, S>`]: borrowed, e.g. from a context.
//!
//! Every read-only operation is defined once on `TensorBase<D, S>` for any storage. The
//! arithmetic follows the Lean definitions exactly: `add`/`sub`/`mul` are entrywise (`map2`,
//! no broadcasting), `scale t c` multiplies by `c` *on the right*, `sum` is the left fold
//! `((0 + x₀) + x₁) + …` in row-major order, and `dot` is the nested left fold
//! `dot (dim f) (dim g) = foldl (fun acc i => acc + dot (f i) (g i)) 0` with
//! `dot (scalar a) (scalar b) = a · b`. For floats the order matters bit for bit.
//!
//! ```
//! use shapetape::prelude::*;
//! let a = Tensor::<f64, Matrix<2, 2>>::new([[1.0, 2.0], [3.0, 4.0]]);
//! let b = Tensor::<f64, Matrix<2, 2>>::fill(0.5);
//! assert_eq!(a.dot(&b), 5.0);
//! assert_eq!(a.add(&b).at(&[1, 0]), Ok(&3.5));
//! assert!(Tensor::<f64, Vector<3>>::try_from_slice(&[1.0, 2.0]).is_err());
//! ```

use core::fmt;
use core::marker::PhantomData;

use smallvec::SmallVec;

use crate::error::{IndexError, ShapeError};
use crate::scalar::Element;
use crate::shape::{SameShape, Shape};

/// Number of entries stored inline (without a heap allocation) in an owned tensor.
pub const INLINE: usize = 4;

mod sealed {
    pub trait Sealed {}
}

/// Storage of a [`TensorBase`]: something that exposes its entries as a slice.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not tensor storage",
    label = "tensors are stored as `Owned<A>`, `&[A]` or `&mut [A]`",
    note = "use `Tensor<A, S>`, `TensorView<'_, A, S>` or `TensorViewMut<'_, A, S>`"
)]
pub trait Data: sealed::Sealed {
    /// The entry type.
    type Elem;
    /// All entries in row-major order.
    fn as_slice(&self) -> &[Self::Elem];
}

/// Storage whose entries can be modified in place.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is read-only tensor storage: the entries of a `TensorView` cannot be modified",
    label = "this tensor is a read-only view",
    note = "modify an owned `Tensor` or a `TensorViewMut` (e.g. from `TList::get_mut`), or copy the view with `to_owned`"
)]
pub trait DataMut: Data {
    /// All entries in row-major order, mutably.
    fn as_mut_slice(&mut self) -> &mut [Self::Elem];
}

/// Owned storage: a small-buffer-optimised vector of entries (inline up to [`INLINE`]).
#[derive(Clone, PartialEq)]
pub struct Owned<A>(pub(crate) SmallVec<[A; INLINE]>);

impl<A> sealed::Sealed for Owned<A> {}
impl<A> Data for Owned<A> {
    type Elem = A;
    #[inline]
    fn as_slice(&self) -> &[A] {
        &self.0
    }
}
impl<A> DataMut for Owned<A> {
    #[inline]
    fn as_mut_slice(&mut self) -> &mut [A] {
        &mut self.0
    }
}
impl<A> sealed::Sealed for &[A] {}
impl<A> Data for &[A] {
    type Elem = A;
    #[inline]
    fn as_slice(&self) -> &[A] {
        self
    }
}
impl<A> sealed::Sealed for &mut [A] {}
impl<A> Data for &mut [A] {
    type Elem = A;
    #[inline]
    fn as_slice(&self) -> &[A] {
        self
    }
}
impl<A> DataMut for &mut [A] {
    #[inline]
    fn as_mut_slice(&mut self) -> &mut [A] {
        self
    }
}

/// `Self` is the element type `Expected`: the equality of two element types as a trait bound.
///
/// Binary tensor operations take their right operand with entries of any type `B:
/// SameElement<A>`, so that mixing, say, `f32` and `f64` tensors is reported in words instead
/// of as a bare "type mismatch resolving `<Owned<f64> as Data>::Elem == f32`".
#[diagnostic::on_unimplemented(
    message = "element type mismatch: expected a tensor with `{Expected}` entries, found `{Self}` entries",
    label = "this operand has `{Self}` entries",
    note = "both operands must have the same element type; convert one first, e.g. with `map(|&x| x as f64)`"
)]
pub trait SameElement<Expected>: Sized {
    /// The same entries at the type `Expected` (the identity).
    fn same_slice(values: &[Self]) -> &[Expected];
}
impl<A> SameElement<A> for A {
    #[inline]
    fn same_slice(values: &[A]) -> &[A] {
        values
    }
}

/// A tensor of shape `S` over storage `D`; see [`Tensor`] and [`TensorView`].
pub struct TensorBase<D, S> {
    data: D,
    shape: PhantomData<fn() -> S>,
}

/// An owned tensor of shape `S` with entries `A` (Lean's `Tensor α s`).
pub type Tensor<A, S> = TensorBase<Owned<A>, S>;
/// A borrowed read-only tensor of shape `S`.
pub type TensorView<'a, A, S> = TensorBase<&'a [A], S>;
/// A borrowed mutable tensor of shape `S`.
pub type TensorViewMut<'a, A, S> = TensorBase<&'a mut [A], S>;

impl<D, S> TensorBase<D, S> {
    /// Wraps storage already known to hold `S::SIZE` entries (crate-internal invariant).
    #[inline]
    pub(crate) fn from_data_unchecked(data: D) -> Self {
        TensorBase {
            data,
            shape: PhantomData,
        }
    }
    #[inline]
    pub(crate) fn into_data(self) -> D {
        self.data
    }
}

impl<A, S: Shape> Tensor<A, S> {
    #[inline]
    pub(crate) fn from_buffer(buf: SmallVec<[A; INLINE]>) -> Self {
        debug_assert_eq!(buf.len(), S::SIZE);
        Self::from_data_unchecked(Owned(buf))
    }

    /// The tensor with entries given by a nested array literal (`[[a, b], [c, d]]` for a 2×2
    /// matrix): its length is checked by the compiler.
    ///
    /// ```
    /// # use shapetape::prelude::*;
    /// let m = Tensor::<f32, Matrix<2, 3>>::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(m.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// ```
    #[must_use]
    pub fn new(array: S::Array<A>) -> Self {
        let mut buf = SmallVec::with_capacity(S::SIZE);
        S::flatten_array(array, &mut buf);
        Self::from_buffer(buf)
    }

    /// Wraps a vector known to hold `S::SIZE` entries (crate-internal invariant).
    #[inline]
    pub(crate) fn from_vec_unchecked(values: Vec<A>) -> Self {
        Self::from_buffer(SmallVec::from_vec(values))
    }
}

// The constructors below carry their bounds on the method rather than on the impl, so that
// `Tensor::<f32, u8>::zeros()` or `Tensor::<String, Scalar>::zeros()` is reported by the
// `Shape`/`Element` messages ("`u8` is not a tensor shape") instead of as "the function
// exists but its trait bounds were not satisfied". (`new` cannot: its signature mentions
// `S::Array<A>`, which is only defined for a shape.)
impl<A, S> Tensor<A, S> {
    /// The tensor whose entries, in row-major order, are `values`; an error if
    /// `values.len() != S::SIZE`.
    pub fn try_from_vec(values: Vec<A>) -> Result<Self, ShapeError>
    where
        S: Shape,
    {
        if values.len() != S::SIZE {
            return Err(shape_error::<S>(values.len()));
        }
        Ok(Self::from_buffer(SmallVec::from_vec(values)))
    }

    /// Entry `i` (row-major) is `f(i)`.
    pub fn from_flat_fn(f: impl FnMut(usize) -> A) -> Self
    where
        S: Shape,
    {
        Self::from_buffer(collect_buffer(S::SIZE, (0..S::SIZE).map(f)))
    }

    /// The entry at multi-index `idx` (outermost first) is `f(idx)`.
    ///
    /// ```
    /// # use shapetape::prelude::*;
    /// let eye = Tensor::<f64, Matrix<3, 3>>::from_fn(|ix| if ix[0] == ix[1] { 1.0 } else { 0.0 });
    /// assert_eq!(eye.sum(), 3.0);
    /// ```
    #[must_use]
    pub fn from_fn(mut f: impl FnMut(&[usize]) -> A) -> Self
    where
        S: Shape,
    {
        let dims = S::dims();
        let mut idx = vec![0usize; S::RANK];
        let mut buf = SmallVec::with_capacity(S::SIZE);
        for _ in 0..S::SIZE {
            buf.push(f(&idx));
            // Odometer increment, innermost dimension fastest (row-major).
            for axis in (0..S::RANK).rev() {
                idx[axis] += 1;
                if idx[axis] < dims[axis] {
                    break;
                }
                idx[axis] = 0;
            }
        }
        Self::from_buffer(buf)
    }

    /// The entries in row-major order.
    pub fn into_vec(self) -> Vec<A> {
        self.data.0.into_vec()
    }
}

impl<A, S> Tensor<A, S> {
    /// Lean's `fill v s`: every entry is `v`.
    #[must_use]
    pub fn fill(value: A) -> Self
    where
        A: Clone,
        S: Shape,
    {
        Self::from_buffer(SmallVec::from_elem(value, S::SIZE))
    }

    /// The tensor whose entries, in row-major order, are a copy of `values`; an error if
    /// `values.len() != S::SIZE`.
    pub fn try_from_slice(values: &[A]) -> Result<Self, ShapeError>
    where
        A: Clone,
        S: Shape,
    {
        if values.len() != S::SIZE {
            return Err(shape_error::<S>(values.len()));
        }
        Ok(Self::from_buffer(SmallVec::from(values)))
    }
}

impl<A, S> Tensor<A, S> {
    /// `fill 0 s`: the zero tensor.
    #[must_use]
    pub fn zeros() -> Self
    where
        A: Element,
        S: Shape,
    {
        Self::fill(A::zero())
    }
}

pub(crate) fn shape_error<S: Shape>(actual: usize) -> ShapeError {
    ShapeError {
        dims: S::dims().to_vec(),
        expected: S::SIZE,
        actual,
    }
}

fn flat_offset(dims: &[usize], index: &[usize]) -> Option<usize> {
    if index.len() != dims.len() {
        return None;
    }
    let mut offset = 0usize;
    for (&i, &n) in index.iter().zip(dims) {
        if i >= n {
            return None;
        }
        offset = offset * n + i;
    }
    Some(offset)
}

impl<D: Data, S: Shape> TensorBase<D, S> {
    /// All entries in row-major order.
    #[inline]
    pub fn as_slice(&self) -> &[D::Elem] {
        self.data.as_slice()
    }

    /// Number of entries, `S::SIZE`.
    #[inline]
    pub fn len(&self) -> usize {
        S::SIZE
    }

    /// Whether the tensor has no entries (some dimension is 0).
    #[inline]
    pub fn is_empty(&self) -> bool {
        S::SIZE == 0
    }

    /// The dimensions of `S`, outermost first.
    pub fn dims(&self) -> Vec<usize> {
        S::dims().to_vec()
    }

    /// Iterates over the entries in row-major order.
    pub fn iter(&self) -> core::slice::Iter<'_, D::Elem> {
        self.as_slice().iter()
    }

    /// The entry at multi-index `index` (outermost first), or an error naming the index and
    /// the shape when the rank is wrong or a component is out of bounds.
    pub fn at(&self, index: &[usize]) -> Result<&D::Elem, IndexError> {
        let dims = S::dims();
        match flat_offset(&dims, index) {
            Some(o) => Ok(&self.as_slice()[o]),
            None => Err(IndexError {
                dims: dims.to_vec(),
                index: index.to_vec(),
            }),
        }
    }

    /// A borrowed view of this tensor.
    #[inline]
    pub fn view(&self) -> TensorView<'_, D::Elem, S> {
        TensorBase::from_data_unchecked(self.as_slice())
    }

    /// An owned copy of this tensor.
    pub fn to_owned(&self) -> Tensor<D::Elem, S>
    where
        D::Elem: Clone,
    {
        Tensor::from_buffer(SmallVec::from(self.as_slice()))
    }

    /// Applies `f` to every entry.
    pub fn map<B>(&self, f: impl FnMut(&D::Elem) -> B) -> Tensor<B, S> {
        let a = self.as_slice();
        Tensor::from_buffer(collect_buffer(a.len(), a.iter().map(f)))
    }

    /// Combines corresponding entries of two tensors of the same shape (Lean's `map2`).
    pub fn zip_with<D2, S2, B>(
        &self,
        rhs: &TensorBase<D2, S2>,
        mut f: impl FnMut(&D::Elem, &D2::Elem) -> B,
    ) -> Tensor<B, S>
    where
        D2: Data,
        S2: SameShape<S>,
    {
        let (a, b) = (self.as_slice(), rhs.as_slice());
        let n = a.len().min(b.len());
        Tensor::from_buffer(collect_buffer(n, a.iter().zip(b).map(|(x, y)| f(x, y))))
    }
}

impl<A: Element, D: Data<Elem = A>, S: Shape> TensorBase<D, S> {
    /// [`TensorBase::map`] for the ops' hot loops: the same values, with the loop compiled by
    /// [`crate::simd::vectorized`] (so `f` must inline: mark it `#[inline(always)]` where it
    /// calls non-trivial code).
    #[inline(always)]
    pub(crate) fn map_entries<B: Element>(&self, f: impl Fn(&A) -> B) -> Tensor<B, S> {
        let a = self.as_slice();
        let mut out: SmallVec<[B; INLINE]> = SmallVec::from_elem(B::zero(), a.len());
        A::vectorized(
            #[inline(always)]
            || {
                for (o, x) in out.iter_mut().zip(a) {
                    *o = f(x);
                }
            },
        );
        Tensor::from_buffer(out)
    }

    /// [`TensorBase::zip_with`] with the loop of [`TensorBase::map_entries`].
    #[inline(always)]
    pub(crate) fn zip_entries<D2: Data<Elem = A>, S2: SameShape<S>, B: Element>(
        &self,
        rhs: &TensorBase<D2, S2>,
        f: impl Fn(&A, &A) -> B,
    ) -> Tensor<B, S> {
        zip_slices(self.as_slice(), rhs.as_slice(), f)
    }

    /// [`TensorBase::zip_with`] for a right operand checked by [`SameElement`] to have
    /// entries of type `A`.
    #[inline(always)]
    fn zip_same<D2: Data, S2: SameShape<S>>(
        &self,
        rhs: &TensorBase<D2, S2>,
        f: impl Fn(&A, &A) -> A,
    ) -> Tensor<A, S>
    where
        D2::Elem: SameElement<A>,
    {
        let rhs = <D2::Elem as SameElement<A>>::same_slice(rhs.as_slice());
        zip_slices(self.as_slice(), rhs, f)
    }

    /// Entrywise sum `self + rhs` (Lean's `addSpec`).
    pub fn add<D2: Data, S2: SameShape<S>>(&self, rhs: &TensorBase<D2, S2>) -> Tensor<A, S>
    where
        D2::Elem: SameElement<A>,
    {
        self.zip_same(rhs, |a, b| a.clone() + b.clone())
    }

    /// Entrywise difference `self − rhs` (Lean's `subSpec`).
    pub fn sub<D2: Data, S2: SameShape<S>>(&self, rhs: &TensorBase<D2, S2>) -> Tensor<A, S>
    where
        D2::Elem: SameElement<A>,
    {
        self.zip_same(rhs, |a, b| a.clone() - b.clone())
    }

    /// Entrywise (Hadamard) product `self ⊙ rhs` (Lean's `mulSpec`).
    pub fn mul<D2: Data, S2: SameShape<S>>(&self, rhs: &TensorBase<D2, S2>) -> Tensor<A, S>
    where
        D2::Elem: SameElement<A>,
    {
        self.zip_same(rhs, |a, b| a.clone() * b.clone())
    }

    /// `x ↦ x · c` on every entry, the scalar on the right (Lean's `scaleSpec t c`).
    pub fn scale(&self, c: &A) -> Tensor<A, S> {
        self.map(|a| a.clone() * c.clone())
    }

    /// Entrywise negation.
    pub fn neg(&self) -> Tensor<A, S> {
        self.map(|a| -a.clone())
    }

    /// Lean's `sumSpec`: the left fold `((0 + x₀) + x₁) + …` over all entries in row-major
    /// order.
    pub fn sum(&self) -> A {
        self.iter().fold(A::zero(), |acc, x| acc + x.clone())
    }

    /// Lean's `TensorAlgebra.dot`: `a · b` at a scalar, and at `dim n s` the left fold
    /// `foldl (acc + dot (f i) (g i)) 0` over `i = 0..n−1` of the sub-tensor dots.
    pub fn dot<D2: Data, S2: SameShape<S>>(&self, rhs: &TensorBase<D2, S2>) -> A
    where
        D2::Elem: SameElement<A>,
    {
        let rhs = <D2::Elem as SameElement<A>>::same_slice(rhs.as_slice());
        nested_dot(self.as_slice(), rhs, &S::dims())
    }

    /// Lean's `linfNorm`: `max(0, maxᵢ |xᵢ|)` (0 for an empty tensor).
    pub fn linf_norm(&self) -> A {
        self.iter().fold(A::zero(), |m, x| {
            let ax = x.abs();
            if ax > m { ax } else { m }
        })
    }
}

/// Dot product with Lean's nesting: one left fold from 0 per dimension.
pub(crate) fn nested_dot<A: Element>(a: &[A], b: &[A], dims: &[usize]) -> A {
    match dims.split_first() {
        None => a[0].clone() * b[0].clone(),
        Some((_, [])) => a
            .iter()
            .zip(b)
            .fold(A::zero(), |acc, (x, y)| acc + x.clone() * y.clone()),
        Some((&n, inner)) => {
            if n == 0 {
                return A::zero();
            }
            let chunk = a.len() / n;
            (0..n).fold(A::zero(), |acc, i| {
                let r = i * chunk..(i + 1) * chunk;
                acc + nested_dot(&a[r.clone()], &b[r], inner)
            })
        }
    }
}

// `DataMut` is bound on the methods, not on the impl, so that writing through a read-only
// `TensorView` is reported by its message rather than as "the method exists but its trait
// bounds were not satisfied".
impl<D: Data, S: Shape> TensorBase<D, S> {
    /// All entries in row-major order, mutably.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [D::Elem]
    where
        D: DataMut,
    {
        self.data.as_mut_slice()
    }

    /// The entry at multi-index `index`, mutably (see [`TensorBase::at`]).
    pub fn at_mut(&mut self, index: &[usize]) -> Result<&mut D::Elem, IndexError>
    where
        D: DataMut,
    {
        let dims = S::dims();
        match flat_offset(&dims, index) {
            Some(o) => Ok(&mut self.as_mut_slice()[o]),
            None => Err(IndexError {
                dims: dims.to_vec(),
                index: index.to_vec(),
            }),
        }
    }
}

impl<D: Clone, S> Clone for TensorBase<D, S> {
    fn clone(&self) -> Self {
        TensorBase {
            data: self.data.clone(),
            shape: PhantomData,
        }
    }
}

impl<'a, A, S> Copy for TensorView<'a, A, S> {}

impl<A, D, D2, S> PartialEq<TensorBase<D2, S>> for TensorBase<D, S>
where
    A: PartialEq,
    D: Data<Elem = A>,
    D2: Data<Elem = A>,
{
    fn eq(&self, other: &TensorBase<D2, S>) -> bool {
        self.data.as_slice() == other.data.as_slice()
    }
}

pub(crate) fn write_nested<A: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    data: &[A],
    dims: &[usize],
) -> fmt::Result {
    match dims.split_first() {
        None => write!(f, "{}", data[0]),
        Some((&n, inner)) => {
            f.write_str("[")?;
            let chunk = data.len().checked_div(n).unwrap_or(0);
            for i in 0..n {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_nested(f, &data[i * chunk..(i + 1) * chunk], inner)?;
            }
            f.write_str("]")
        }
    }
}

/// Shows the shape and the entries nested by dimension: `Tensor[2, 2] [[1, 2], [3, 4]]`.
impl<A: fmt::Display, D: Data<Elem = A>, S: Shape> fmt::Display for TensorBase<D, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor{:?} ", S::dims().as_slice())?;
        write_nested(f, self.as_slice(), &S::dims())
    }
}

impl<A: fmt::Display, D: Data<Elem = A>, S: Shape> fmt::Debug for TensorBase<D, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor{:?} ", S::dims().as_slice())?;
        write_nested(f, self.as_slice(), &S::dims())
    }
}

/// The buffer of the entries of `items`, of which there are `len` (each computed once, in
/// order). A buffer of exactly [`INLINE`] entries — the common small tensor — is built as an
/// array, without the per-entry capacity checks of `collect`; longer ones are collected.
#[inline]
fn collect_buffer<B>(len: usize, mut items: impl Iterator<Item = B>) -> SmallVec<[B; INLINE]> {
    if len == INLINE {
        SmallVec::from_buf(core::array::from_fn(|_| {
            items.next().expect("the iterator yields `len` items")
        }))
    } else if len > INLINE {
        // `Vec`'s collect of an exact-size iterator is one tight loop (no per-item capacity
        // check, so the closure's arithmetic can vectorise); the heap buffer then moves into
        // the `SmallVec` without a copy.
        SmallVec::from_vec(items.collect())
    } else {
        items.collect()
    }
}

/// `f` on corresponding entries of `a` and `b` (the shorter length), into a fresh tensor, the
/// loop compiled by [`crate::simd::vectorized`].
#[inline(always)]
fn zip_slices<A: Element, B: Element, S: Shape>(
    a: &[A],
    b: &[A],
    f: impl Fn(&A, &A) -> B,
) -> Tensor<B, S> {
    let n = a.len().min(b.len());
    let mut out: SmallVec<[B; INLINE]> = SmallVec::from_elem(B::zero(), n);
    A::vectorized(
        #[inline(always)]
        || {
            for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
                *o = f(x, y);
            }
        },
    );
    Tensor::from_buffer(out)
}

impl<A: Element> Owned<A> {
    /// `self ← self + rhs` entrywise, `self` on the left (Lean's accumulation order).
    #[inline]
    pub(crate) fn add_assign(&mut self, rhs: &Owned<A>) {
        let (lhs, rhs) = (&mut self.0[..], &rhs.0[..]);
        A::vectorized(
            #[inline(always)]
            || {
                for (a, b) in lhs.iter_mut().zip(rhs) {
                    *a = a.clone() + b.clone();
                }
            },
        );
    }

    /// `self ← self + 0` entrywise: the effect of adding a dense zero contribution
    /// (for IEEE floats it turns `−0` into `+0`; otherwise the identity).
    #[inline]
    pub(crate) fn add_zero(&mut self) {
        let x = &mut self.0[..];
        A::vectorized(
            #[inline(always)]
            || {
                for a in x.iter_mut() {
                    *a = a.clone() + A::zero();
                }
            },
        );
    }

    /// A zero buffer of `len` entries.
    #[inline]
    pub(crate) fn zeros(len: usize) -> Self {
        Owned(SmallVec::from_elem(A::zero(), len))
    }
}

impl<A> Owned<A> {
    /// Number of entries.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}
