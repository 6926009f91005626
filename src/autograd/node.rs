//! Executable nodes: forward, JVP and VJP closures over a context.
//!
//! **Mathematics.** A node over `Γ` with output `τ` is a map `f : Π_{S ∈ Γ} A^{size S} →
//! A^{size τ}` (with a non-differentiable environment `d`) given with its derivative in both
//! directions, `jvp(x, dx) = J_f(x) dx` and `vjp(x, δ) = J_f(x)ᵀ δ`. The transpose is taken
//! for the inner products of tensors and contexts, so the two satisfy the adjointness law
//! `⟨jvp(x, dx), δ⟩ = ⟨dx, vjp(x, δ)⟩` for all `x, dx, δ` (Lean's `Node.correct`), which
//! [`Node`] promises and [`check_adjoint`](crate::autograd::check_adjoint) tests.

use core::fmt;
use core::marker::PhantomData;
use std::borrow::Cow;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::autograd::cotangent::Cotangent;
use crate::autograd::op::{Contribs, Eval, KernelFns, OpNode, Operands, erase_op};
pub use crate::constraint::NodeOver;
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tensor::{Owned, Tensor};
use crate::tlist::TList;

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
///
/// A node made from an op ([`OpNode::into_node`]) records the slots it reads and is
/// context-free, so a graph of N nodes compiles to code linear in N. A node built by
/// [`NodeData::new`] keeps its typed closures behind the same erased interface (and may read
/// every slot).
pub struct NodeData<A, D, G, T> {
    pub(crate) node: ErasedNode<A, D>,
    /// The context and the output shape, as markers only: nothing stored in a node depends on
    /// its context, so no code (drop glue, typed entry points) is compiled once per node of a
    /// long graph; typed calls go through the erased node.
    pub(crate) ctx: PhantomData<G>,
    /// The output shape.
    pub(crate) out: PhantomData<T>,
}

impl<A, D, G, T> Clone for NodeData<A, D, G, T> {
    fn clone(&self) -> Self {
        NodeData {
            node: self.node.clone(),
            ctx: PhantomData,
            out: PhantomData,
        }
    }
}

impl<A, D, G, T> fmt::Debug for NodeData<A, D, G, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeData({})", self.node.name)
    }
}

/// The three closures of [`NodeData::new`] for the context `G` and output `T`, run by a graph
/// on its flat buffer (which the graph's types guarantee to be a `TList<A, G>`).
struct OnContext<F, J, V, G, T> {
    forward: F,
    jvp: J,
    vjp: V,
    marker: PhantomData<fn() -> (G, T)>,
}

impl<A, D, G, T, F, J, V> OwningFns<A, D> for OnContext<F, J, V, G, T>
where
    T: Shape,
    F: Fn(&TList<A, G>, &D) -> Tensor<A, T> + Send + Sync,
    J: Fn(&TList<A, G>, &TList<A, G>, &D) -> Tensor<A, T> + Send + Sync,
    V: Fn(&TList<A, G>, &D, &Tensor<A, T>) -> Cotangent<A, G> + Send + Sync,
{
    fn forward(&self, vals: &mut Vec<Owned<A>>, d: &D) -> Owned<A> {
        TList::<A, G>::lend(vals, |ctx| (self.forward)(ctx, d).into_data())
    }
    fn jvp(&self, vals: &mut Vec<Owned<A>>, tans: &mut Vec<Owned<A>>, d: &D) -> Owned<A> {
        TList::<A, G>::lend(vals, |ctx| {
            TList::<A, G>::lend(tans, |dctx| (self.jvp)(ctx, dctx, d).into_data())
        })
    }
    fn vjp(&self, vals: &mut Vec<Owned<A>>, d: &D, seed: Owned<A>) -> Contribs<A> {
        let seed = Tensor::<A, T>::from_data_unchecked(seed);
        TList::<A, G>::lend(vals, |ctx| (self.vjp)(ctx, d, &seed).into_entries())
    }
}

impl<A: 'static, D: 'static, G: ShapeList, T: Shape> NodeData<A, D, G, T> {
    /// A node from its three closures.
    ///
    /// Called through [`NodeData::forward`] and friends, the closures see a copy of the
    /// context (a graph runs them on its own buffer, without copying).
    #[must_use]
    pub fn new(
        forward: impl Fn(&TList<A, G>, &D) -> Tensor<A, T> + Send + Sync + 'static,
        jvp: impl Fn(&TList<A, G>, &TList<A, G>, &D) -> Tensor<A, T> + Send + Sync + 'static,
        vjp: impl Fn(&TList<A, G>, &D, &Tensor<A, T>) -> Cotangent<A, G> + Send + Sync + 'static,
    ) -> Self {
        NodeData {
            node: ErasedNode {
                name: Cow::Borrowed("node"),
                out_dims: T::dims().to_vec(),
                reads: None,
                body: Body::Owning(Arc::new(OnContext {
                    forward,
                    jvp,
                    vjp,
                    marker: PhantomData,
                })),
            },
            ctx: PhantomData,
            out: PhantomData,
        }
    }
}

impl<A, D, G, T> NodeData<A, D, G, T> {
    /// A node from a context-free kernel whose slots the caller has checked against `G`.
    #[inline]
    pub(crate) fn from_erased(node: ErasedNode<A, D>) -> Self {
        NodeData {
            node,
            ctx: PhantomData,
            out: PhantomData,
        }
    }

    /// The same node with a display name (used in `Debug` output and graph export).
    #[must_use]
    pub fn named(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.node.name = name.into();
        self
    }

    /// The node's display name.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// The slots of the context the node reads, if recorded (library ops record them; a node
    /// built from closures may read anything).
    pub fn reads(&self) -> Option<&[usize]> {
        self.node.reads.as_deref()
    }
}

impl<A: Clone, D, G: ShapeList, T: Shape> NodeData<A, D, G, T> {
    /// `forward ctx d`: the node's output.
    pub fn forward(&self, ctx: &TList<A, G>, d: &D) -> Tensor<A, T> {
        Tensor::from_data_unchecked(self.node.forward_at(ctx.items(), d))
    }

    /// `jvp ctx dctx d`: the output tangent for the input tangents `dctx`.
    pub fn jvp(&self, ctx: &TList<A, G>, dctx: &TList<A, G>, d: &D) -> Tensor<A, T> {
        Tensor::from_data_unchecked(self.node.jvp_at(ctx.items(), dctx.items(), d))
    }

    /// `vjp ctx d δ`: the cotangent of the whole context for the output cotangent `δ`.
    pub fn vjp(&self, ctx: &TList<A, G>, d: &D, seed: &Tensor<A, T>) -> Cotangent<A, G> {
        Cotangent::from_entries(self.node.vjp_at(ctx.items(), d, seed.clone().into_data()))
    }
}

/// The three maps of a node over the flat context buffer, which they may borrow by moving it
/// into a typed `TList` for the call (how typed closures are run without copying).
pub(crate) trait OwningFns<A, D>: Send + Sync {
    fn forward(&self, vals: &mut Vec<Owned<A>>, d: &D) -> Owned<A>;
    fn jvp(&self, vals: &mut Vec<Owned<A>>, tans: &mut Vec<Owned<A>>, d: &D) -> Owned<A>;
    fn vjp(&self, vals: &mut Vec<Owned<A>>, d: &D, seed: Owned<A>) -> Contribs<A>;
}

/// How an erased node computes: a context-free kernel, or closures over the whole buffer.
pub(crate) enum Body<A, D> {
    Kernel(Arc<dyn KernelFns<A, D>>),
    Owning(Arc<dyn OwningFns<A, D>>),
}

impl<A, D> Clone for Body<A, D> {
    fn clone(&self) -> Self {
        match self {
            Body::Kernel(k) => Body::Kernel(Arc::clone(k)),
            Body::Owning(o) => Body::Owning(Arc::clone(o)),
        }
    }
}

/// A node with its context type forgotten, as stored in a graph. The graph's phantom types
/// guarantee it is only ever called on a context of the right layout.
#[doc(hidden)]
pub struct ErasedNode<A, D> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) out_dims: Vec<usize>,
    /// The slots read, when known.
    pub(crate) reads: Option<SmallVec<[usize; 4]>>,
    pub(crate) body: Body<A, D>,
}

impl<A, D> Clone for ErasedNode<A, D> {
    fn clone(&self) -> Self {
        ErasedNode {
            name: self.name.clone(),
            out_dims: self.out_dims.clone(),
            reads: self.reads.clone(),
            body: self.body.clone(),
        }
    }
}

impl<A, D> ErasedNode<A, D> {
    /// `forward` on the evaluated context `vals`.
    #[inline]
    pub(crate) fn forward(&self, vals: &mut Vec<Owned<A>>, d: &D) -> Owned<A> {
        match &self.body {
            Body::Kernel(k) => k.forward(Operands::dense(vals), d),
            Body::Owning(o) => o.forward(vals, d),
        }
    }

    /// `jvp` on the evaluated context `vals` and tangents `tans`.
    #[inline]
    pub(crate) fn jvp(
        &self,
        vals: &mut Vec<Owned<A>>,
        tans: &mut Vec<Owned<A>>,
        d: &D,
    ) -> Owned<A> {
        match &self.body {
            Body::Kernel(k) => k.jvp(Operands::dense(vals), Operands::dense(tans), d),
            Body::Owning(o) => o.jvp(vals, tans, d),
        }
    }

    /// `vjp` on the evaluated context `vals`, sparse; contributions to the slots `p` without
    /// `wanted[p]` may be left out.
    #[inline]
    pub(crate) fn vjp(
        &self,
        vals: &mut Vec<Owned<A>>,
        d: &D,
        seed: Owned<A>,
        wanted: Option<&[bool]>,
    ) -> Contribs<A> {
        match &self.body {
            Body::Kernel(k) => k.vjp(Operands::dense(vals).wanting(wanted), d, seed),
            Body::Owning(o) => o.vjp(vals, d, seed),
        }
    }
}

impl<A: Clone, D> ErasedNode<A, D> {
    /// `forward` on a borrowed context (closures over the whole buffer get a copy).
    pub(crate) fn forward_at(&self, vals: &[Owned<A>], d: &D) -> Owned<A> {
        match &self.body {
            Body::Kernel(k) => k.forward(Operands::dense(vals), d),
            Body::Owning(o) => o.forward(&mut vals.to_vec(), d),
        }
    }

    /// `jvp` on a borrowed context and tangent.
    pub(crate) fn jvp_at(&self, vals: &[Owned<A>], tans: &[Owned<A>], d: &D) -> Owned<A> {
        match &self.body {
            Body::Kernel(k) => k.jvp(Operands::dense(vals), Operands::dense(tans), d),
            Body::Owning(o) => o.jvp(&mut vals.to_vec(), &mut tans.to_vec(), d),
        }
    }

    /// `vjp` on a borrowed context.
    pub(crate) fn vjp_at(&self, vals: &[Owned<A>], d: &D, seed: Owned<A>) -> Contribs<A> {
        match &self.body {
            Body::Kernel(k) => k.vjp(Operands::dense(vals), d, seed),
            Body::Owning(o) => o.vjp(&mut vals.to_vec(), d, seed),
        }
    }
}

/// A [`NodeData`] together with the adjointness law of Lean's `Node`:
/// `⟨jvp x dx d, δ⟩ = ⟨dx, vjp x d δ⟩` for all `x, dx, d, δ`.
///
/// Rust cannot carry the proof, so a `Node` is made either from an op
/// ([`OpNode::into_node`]; implementing [`Eval`] asserts the law, and the op library's pairs are
/// derived by hand and property-tested) or by [`Node::new_unchecked`], where the caller asserts
/// the law; [`check_adjoint`](crate::autograd::check_adjoint) tests it.
pub struct Node<A, D, G, T> {
    pub(crate) data: NodeData<A, D, G, T>,
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
        write!(f, "Node({})", self.data.name())
    }
}

/// A `Node` is used as its [`NodeData`] (`node.forward(..)`, `node.vjp(..)`).
impl<A, D, G, T> core::ops::Deref for Node<A, D, G, T> {
    type Target = NodeData<A, D, G, T>;
    fn deref(&self) -> &NodeData<A, D, G, T> {
        &self.data
    }
}

impl<A, D, G, T> Node<A, D, G, T> {
    /// A node whose JVP and VJP the caller asserts to be adjoint (test it with
    /// [`check_adjoint`](crate::autograd::check_adjoint)).
    #[must_use]
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

impl<G, K> OpNode<G, K> {
    /// The op as a typed executable node at the scalar `A` and environment `Δ` (what a
    /// [`GraphData<A, Δ, …>`](crate::autograd::GraphData) stores for it).
    pub fn into_node<A, D>(self) -> Node<A, D, G, K::Out>
    where
        K: Eval<A, D>,
    {
        Node {
            data: NodeData::from_erased(erase_op(self.op)),
        }
    }
}

/// Anything a graph can append ([`GraphData::snoc`](crate::autograd::GraphData::snoc), the
/// builder's `push`, and the same for every graph kind): an op ([`OpNode`]), a [`Node`], a
/// [`NodeData`].
pub trait GraphNode {
    /// The context the node reads.
    type Ctx: ShapeList;
    /// The output shape.
    type Out: Shape;
    /// The node with its context forgotten: what a graph kind admits (see
    /// [`Admits`](crate::autograd::Admits)).
    type Body;
    #[doc(hidden)]
    fn into_body(self) -> Self::Body;
}

impl<C: ShapeList, K: crate::autograd::op::Op> GraphNode for OpNode<C, K> {
    type Ctx = C;
    type Out = K::Out;
    type Body = crate::internal::OpBody<K>;
    #[inline]
    fn into_body(self) -> Self::Body {
        crate::internal::OpBody(self.op)
    }
}

impl<A, D, C: ShapeList, T: Shape> GraphNode for NodeData<A, D, C, T> {
    type Ctx = C;
    type Out = T;
    type Body = crate::internal::DataBody<A, D>;
    #[inline]
    fn into_body(self) -> Self::Body {
        crate::internal::DataBody(self.node)
    }
}

impl<A, D, C: ShapeList, T: Shape> GraphNode for Node<A, D, C, T> {
    type Ctx = C;
    type Out = T;
    type Body = crate::internal::LawfulBody<A, D>;
    #[inline]
    fn into_body(self) -> Self::Body {
        crate::internal::LawfulBody(self.data.node)
    }
}
