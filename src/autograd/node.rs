//! Executable nodes: forward, JVP and VJP closures over a context.
//!
//! **Mathematics.** A node over `Γ` with output `τ` is a map `f : Π_{S ∈ Γ} A^{size S} →
//! A^{size τ}` (with a non-differentiable environment `d`) given with its derivative in both
//! directions, `jvp(x, dx) = J_f(x) dx` and `vjp(x, δ) = J_f(x)ᵀ δ`. The transpose is taken
//! for the inner products of tensors and contexts, so the two satisfy the adjointness law
//! `⟨jvp(x, dx), δ⟩ = ⟨dx, vjp(x, δ)⟩` for all `x, dx, δ` (Lean's `Node.correct`), which
//! [`Node`] promises and [`check_adjoint`](crate::autograd::check_adjoint) tests.

use core::fmt;
use std::borrow::Cow;
use std::sync::Arc;

use crate::autograd::cotangent::Cotangent;
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tensor::{Owned, Tensor};
use crate::tlist::TList;

type ForwardFn<A, D, G, T> = dyn Fn(&TList<A, G>, &D) -> Tensor<A, T> + Send + Sync;
type JvpFn<A, D, G, T> = dyn Fn(&TList<A, G>, &TList<A, G>, &D) -> Tensor<A, T> + Send + Sync;
type VjpFn<A, D, G, T> = dyn Fn(&TList<A, G>, &D, &Tensor<A, T>) -> Cotangent<A, G> + Send + Sync;

/// An executable node over the context `G` with output shape `T` and a non-differentiable
/// environment `D` (Lean's `NodeData α Δ Γ τ`):
///
/// - `forward : TList A G → D → Tensor A T`,
/// - `jvp : TList A G → TList A G → D → Tensor A T` (primal context, tangent context),
/// - `vjp : TList A G → D → Tensor A T → TList A G` (a dense cotangent for all of `G`,
///   represented sparsely by [`Cotangent`]).
///
/// The closures are shared (`Arc`) and thread-safe, so nodes are `Clone + Send + Sync`.
/// `NodeData` carries no law; [`Node`] is the version that promises the adjointness law.
pub struct NodeData<A, D, G, T> {
    name: Cow<'static, str>,
    forward: Arc<ForwardFn<A, D, G, T>>,
    jvp: Arc<JvpFn<A, D, G, T>>,
    vjp: Arc<VjpFn<A, D, G, T>>,
}

impl<A, D, G, T> Clone for NodeData<A, D, G, T> {
    fn clone(&self) -> Self {
        NodeData {
            name: self.name.clone(),
            forward: Arc::clone(&self.forward),
            jvp: Arc::clone(&self.jvp),
            vjp: Arc::clone(&self.vjp),
        }
    }
}

impl<A, D, G, T> fmt::Debug for NodeData<A, D, G, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeData({})", self.name)
    }
}

impl<A, D, G: ShapeList, T: Shape> NodeData<A, D, G, T> {
    /// A node from its three closures.
    pub fn new(
        forward: impl Fn(&TList<A, G>, &D) -> Tensor<A, T> + Send + Sync + 'static,
        jvp: impl Fn(&TList<A, G>, &TList<A, G>, &D) -> Tensor<A, T> + Send + Sync + 'static,
        vjp: impl Fn(&TList<A, G>, &D, &Tensor<A, T>) -> Cotangent<A, G> + Send + Sync + 'static,
    ) -> Self {
        NodeData {
            name: Cow::Borrowed("node"),
            forward: Arc::new(forward),
            jvp: Arc::new(jvp),
            vjp: Arc::new(vjp),
        }
    }

    /// The same node with a display name (used in `Debug` output and graph export).
    pub fn named(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// The node's display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `forward ctx d`: the node's output.
    pub fn forward(&self, ctx: &TList<A, G>, d: &D) -> Tensor<A, T> {
        (self.forward)(ctx, d)
    }

    /// `jvp ctx dctx d`: the output tangent for the input tangents `dctx`.
    pub fn jvp(&self, ctx: &TList<A, G>, dctx: &TList<A, G>, d: &D) -> Tensor<A, T> {
        (self.jvp)(ctx, dctx, d)
    }

    /// `vjp ctx d δ`: the cotangent of the whole context for the output cotangent `δ`.
    pub fn vjp(&self, ctx: &TList<A, G>, d: &D, seed: &Tensor<A, T>) -> Cotangent<A, G> {
        (self.vjp)(ctx, d, seed)
    }
}

impl<A: 'static, D: 'static, G: ShapeList, T: Shape> NodeData<A, D, G, T> {
    /// Forgets the types: closures over the flat context buffer of a graph.
    ///
    /// Each erased closure moves the buffer into a `TList<A, G>` for the call and back out
    /// afterwards (a move of three words), so the typed closure sees exactly its context.
    pub(crate) fn erase(self) -> ErasedNode<A, D> {
        let NodeData {
            name,
            forward,
            jvp,
            vjp,
        } = self;
        ErasedNode {
            name,
            out_dims: T::dims().to_vec(),
            forward: Arc::new(move |vals: &mut Vec<Owned<A>>, d: &D| {
                let ctx = TList::<A, G>::from_items(core::mem::take(vals));
                let out = forward(&ctx, d).into_data();
                *vals = ctx.into_items();
                out
            }),
            jvp: Arc::new(
                move |vals: &mut Vec<Owned<A>>, tans: &mut Vec<Owned<A>>, d: &D| {
                    let ctx = TList::<A, G>::from_items(core::mem::take(vals));
                    let dctx = TList::<A, G>::from_items(core::mem::take(tans));
                    let out = jvp(&ctx, &dctx, d).into_data();
                    *vals = ctx.into_items();
                    *tans = dctx.into_items();
                    out
                },
            ),
            vjp: Arc::new(move |vals: &mut Vec<Owned<A>>, d: &D, seed: Owned<A>| {
                let ctx = TList::<A, G>::from_items(core::mem::take(vals));
                let seed = Tensor::<A, T>::from_data_unchecked(seed);
                let out = vjp(&ctx, d, &seed).into_entries();
                *vals = ctx.into_items();
                out
            }),
        }
    }
}

type ErasedForward<A, D> = dyn Fn(&mut Vec<Owned<A>>, &D) -> Owned<A> + Send + Sync;
type ErasedJvp<A, D> = dyn Fn(&mut Vec<Owned<A>>, &mut Vec<Owned<A>>, &D) -> Owned<A> + Send + Sync;
type ErasedVjp<A, D> =
    dyn Fn(&mut Vec<Owned<A>>, &D, Owned<A>) -> Vec<(usize, Owned<A>)> + Send + Sync;

/// A node with its context type forgotten, as stored in a graph. The graph's phantom types
/// guarantee it is only ever called on a context of the right layout.
pub(crate) struct ErasedNode<A, D> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) out_dims: Vec<usize>,
    pub(crate) forward: Arc<ErasedForward<A, D>>,
    pub(crate) jvp: Arc<ErasedJvp<A, D>>,
    pub(crate) vjp: Arc<ErasedVjp<A, D>>,
}

impl<A, D> Clone for ErasedNode<A, D> {
    fn clone(&self) -> Self {
        ErasedNode {
            name: self.name.clone(),
            out_dims: self.out_dims.clone(),
            forward: Arc::clone(&self.forward),
            jvp: Arc::clone(&self.jvp),
            vjp: Arc::clone(&self.vjp),
        }
    }
}

/// A [`NodeData`] together with the adjointness law of Lean's `Node`:
/// `⟨jvp x dx d, δ⟩ = ⟨dx, vjp x d δ⟩` for all `x, dx, d, δ`.
///
/// Rust cannot carry the proof, so a `Node` is built either by the op library (whose JVP/VJP
/// pairs are derived by hand and property-tested) or by [`Node::new_unchecked`], where the
/// caller asserts the law; [`check_adjoint`](crate::autograd::check_adjoint) tests it.
pub struct Node<A, D, G, T> {
    data: NodeData<A, D, G, T>,
}

impl<A, D, G, T> Clone for Node<A, D, G, T> {
    fn clone(&self) -> Self {
        Node {
            data: self.data.clone(),
        }
    }
}

impl<A, D, G, T> fmt::Debug for Node<A, D, G, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Node({})", self.data.name)
    }
}

impl<A, D, G, T> Node<A, D, G, T> {
    /// A node whose JVP and VJP the caller asserts to be adjoint (test it with
    /// [`check_adjoint`](crate::autograd::check_adjoint)).
    pub fn new_unchecked(data: NodeData<A, D, G, T>) -> Self {
        Node { data }
    }

    /// Forgets the law (Lean's `Node.toData`).
    pub fn to_data(&self) -> NodeData<A, D, G, T> {
        self.data.clone()
    }

    /// Forgets the law, by value.
    pub fn into_data(self) -> NodeData<A, D, G, T> {
        self.data
    }

    /// The underlying executable node.
    pub fn data(&self) -> &NodeData<A, D, G, T> {
        &self.data
    }
}

/// Anything that can be appended to a graph: a [`NodeData`] or a [`Node`].
pub trait IntoNodeData {
    /// Scalar type.
    type Elem;
    /// Environment type `Δ`.
    type Env;
    /// The context the node reads.
    type Ctx: ShapeList;
    /// The output shape.
    type Out: Shape;
    /// The executable node.
    fn into_node_data(self) -> NodeData<Self::Elem, Self::Env, Self::Ctx, Self::Out>;
}

impl<A, D, G: ShapeList, T: Shape> IntoNodeData for NodeData<A, D, G, T> {
    type Elem = A;
    type Env = D;
    type Ctx = G;
    type Out = T;
    fn into_node_data(self) -> Self {
        self
    }
}

impl<A, D, G: ShapeList, T: Shape> IntoNodeData for Node<A, D, G, T> {
    type Elem = A;
    type Env = D;
    type Ctx = G;
    type Out = T;
    fn into_node_data(self) -> NodeData<A, D, G, T> {
        self.data
    }
}

/// The node `Self` reads exactly the context `C`: the bound of
/// [`GraphData::snoc`](crate::autograd::GraphData::snoc). With the node as `Self`, the context
/// of an operand written `Idx::at::<0>()` is inferred from `C`, and a node built for another
/// context is reported in words.
#[diagnostic::on_unimplemented(
    message = "this node reads another context than the graph provides: the graph's Γ ++ Ss is `{C}`",
    label = "`{Self}` is not a node over the graph's context",
    note = "node k of a graph over inputs Γ reads Γ followed by the outputs of nodes 0..k"
)]
pub trait NodeOver<C>: IntoNodeData {}
impl<A, D, C: ShapeList, T: Shape> NodeOver<C> for NodeData<A, D, C, T> {}
impl<A, D, C: ShapeList, T: Shape> NodeOver<C> for Node<A, D, C, T> {}
