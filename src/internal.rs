//! Machinery behind the public traits, hidden from the docs: the context-free bodies that a
//! graph kind admits. Users never name these types; they appear only in the associated types
//! of [`GraphNode`](crate::autograd::GraphNode) and in [`Admits`](crate::autograd::Admits).
#![doc(hidden)]

use crate::autograd::node::ErasedNode;

/// An op without its context (the body of an [`OpNode`](crate::autograd::OpNode)).
pub struct OpBody<K>(pub(crate) K);

/// A node built from closures, without a law (the body of a
/// [`NodeData`](crate::autograd::NodeData)).
pub struct DataBody<A, D>(pub(crate) ErasedNode<A, D>);

/// A node built from closures whose law the caller asserted (the body of a
/// [`Node`](crate::autograd::Node)).
pub struct LawfulBody<A, D>(pub(crate) ErasedNode<A, D>);

/// A certified node (the body of a [`RevNode`](crate::approx::RevNode)).
pub struct RevBody<R, P>(pub(crate) crate::approx::node::CertNode<R, P>);

/// A certified forward node (the body of a [`FwdNode`](crate::approx::FwdNode)).
pub struct FwdBody<R, P>(pub(crate) crate::approx::node::CertNode<R, P>);

/// A context no seed has (see `SeedContext`).
pub struct NoSeed<G>(core::marker::PhantomData<G>);

/// Where a scan node reads and writes (see [`GraphBuilder::scan`](crate::autograd::GraphBuilder::scan)).
pub struct ScanSpec {
    /// Number of steps `N`.
    pub(crate) steps: usize,
    /// The slot of the initial carry.
    pub(crate) init: usize,
    /// The slot of the stacked parameters.
    pub(crate) params: usize,
    /// Entries of one parameter slice.
    pub(crate) slice: usize,
    /// The slot of the new carry in the body's context.
    pub(crate) carry_out: usize,
    /// The carry's dimensions.
    pub(crate) out_dims: Vec<usize>,
}
