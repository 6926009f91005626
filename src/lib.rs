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
//! - [`tlist`](mod@tlist): heterogeneous contexts [`TList<A, Γ>`] and typed indices
//!   [`Idx<Γ, S>`];
//! - [`scalar`]: the [`Element`] trait (f32, f64, exact [`Rational`]) and [`Real`].
//!
//! The layers on top:
//! - [`autograd`]: nodes and graphs with `eval`, `jvp_ctx` and `backprop_ctx`, a typed graph
//!   builder and derivative checks; [`ops`]: the op library;
//! - [`approx`]: runtime-approximation graphs with certified error bounds, and [`link`], which
//!   erases them into [`autograd`] graphs;
//! - [`export`]: the dataflow of a graph and its Graphviz DOT text;
//! - [`rng`]: a seeded generator and initialisers; `strategies` (with the `proptest` feature):
//!   proptest strategies for tensors and contexts.
//!
//! **Mathematics.** A graph over the inputs `Γ` with node outputs `Ss` denotes a map
//! `eval : Π Γ → Π (Γ ++ Ss)` (each node reads the inputs and the earlier outputs); forward
//! mode computes its Jacobian-vector product and reverse mode `J(x)ᵀ seed`, the two being
//! adjoint (Lean's `backprop_correct`). A runtime-approximation graph also carries, for every
//! slot, a bound `ε` on the L∞ distance between its high-precision specification and its
//! floating-point result, proved sound in Lean (`eval_approx`, `backprop_approx`) and
//! property-tested here.
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
pub mod constraint;
pub mod error;
pub mod export;
#[doc(hidden)]
pub mod internal;
pub mod link;
#[cfg(feature = "proptest")]
mod op_check;
pub mod ops;
pub mod optim;
pub mod rng;
pub mod safetensors;
pub mod scalar;
pub mod shape;
pub mod shape_arith;
pub mod shape_list;
mod simd;
#[cfg(feature = "proptest")]
pub mod strategies;
pub mod tensor;
pub mod tlist;

pub use frunk;
pub use frunk::{HCons, HList, HNil, hlist, hlist_pat};
/// The `half` crate, whose `bf16` and `f16` are runtime scalars of certified graphs.
pub use half;
pub use smallvec;
pub use typenum;

pub use error::{ContextError, IndexError, ShapeError};
pub use scalar::{Element, Erf, Rational, Real};
pub use shape::{Dim, Matrix, SameShape, Scalar, Shape, Tensor3, Vector};
pub use shape_list::{
    At, Cat, ExpectsContext, Init, Last, NonEmpty, SameContext, SeedContext, ShapeList, Snoc,
    SplitAt,
};
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
