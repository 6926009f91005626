//! # shapetape
//!
//! Statically shape-checked reverse-mode autodiff graphs with certified floating-point error
//! bounds: an executable Rust port of TorchLean's autograd algebra layer
//! (`NN.Proofs.Autograd.Tape.Algebra`) and runtime-approximation layer
//! (`NN.Proofs.RuntimeApprox.Graph`), and of the bridge between them.
//!
//! The foundation:
//! - [`shape`]: shapes as types ([`Scalar`], [`Dim<N, S>`], [`Vector`], [`Matrix`]);
//! - [`tensor`]: [`Tensor<A, S>`], a row-major buffer whose length is fixed by `S`;
//! - [`shape_list`]: contexts Γ as frunk HLists of shapes and their algebra ([`Cat`], [`Snoc`],
//!   [`Init`], [`Last`], [`At`]);
//! - [`tlist`]: heterogeneous contexts [`TList<A, Γ>`] and typed indices [`Idx<Γ, S>`];
//! - [`scalar`]: the [`Element`] trait (f32, f64, exact [`Rational`]) and [`Real`].
//!
//! ```
//! use shapetape::prelude::*;
//! type G = HList![Scalar, Vector<3>];
//! let x: TList<f32, G> = tlist![Tensor::new(2.0), Tensor::new([1.0, 2.0, 3.0])];
//! let y = x.scale(&2.0);
//! assert_eq!(y.get(Idx::<G, Vector<3>>::at::<1>()).as_slice(), &[2.0, 4.0, 6.0]);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod approx;
pub mod autograd;
pub mod error;
pub mod link;
pub mod ops;
pub mod rng;
pub mod scalar;
pub mod shape;
pub mod shape_list;
pub mod tensor;
pub mod tlist;

pub use frunk;
pub use frunk::{HCons, HList, HNil, hlist, hlist_pat};

pub use error::{ContextError, IndexError, ShapeError};
pub use scalar::{Element, Rational, Real};
pub use shape::{Dim, Matrix, SameShape, Scalar, Shape, Tensor3, Vector};
pub use shape_list::{At, Cat, ExpectsContext, Init, Last, NonEmpty, SameContext, ShapeList, Snoc};
pub use tensor::{Tensor, TensorBase, TensorView, TensorViewMut};
pub use tlist::{Idx, TList};

/// The README's code blocks, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The names most programs need: `use shapetape::prelude::*;`.
pub mod prelude {
    pub use crate::scalar::{Element, Rational, Real};
    pub use crate::shape::{Dim, Matrix, Scalar, Shape, Tensor3, Vector};
    pub use crate::shape_list::{Cat, ShapeList, Snoc};
    pub use crate::tensor::{Tensor, TensorView};
    pub use crate::tlist;
    pub use crate::tlist::{Idx, TList};
    pub use frunk::{HCons, HList, HNil, hlist, hlist_pat};
}
