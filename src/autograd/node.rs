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
use crate::autograd::kernel::Contribs;
use crate::autograd::kernel::{Kernel, KernelFns, Operands};
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
/// A node built by the op library is stored as a context-free kernel (see the `kernel`
/// module): only the slots it reads are recorded, so a graph of N nodes compiles to code
/// linear in N. A node built by [`NodeData::new`] keeps its typed closures behind the same
/// erased interface.
pub struct NodeData<A, D, G, T> {
    pub(crate) node: ErasedNode<A, D>,
    /// The context and the output shape, as markers only: nothing stored in a node depends on
    /// its context, so no code (drop glue, typed entry points) is compiled once per node of a
    /// long graph; typed calls go through the erased node.
    pub(crate) ctx: PhantomData<G>,
    /// The output shape, tying a kernel's output type to the node's (see `node_from_kernel!`).
    pub(crate) out: OutShape<T>,
}

/// A marker for a node's output shape `T`.
pub(crate) type OutShape<T> = PhantomData<T>;

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

    /// Forgets the types (crate-internal): the node as stored in a graph.
    #[inline]
    pub(crate) fn erase(self) -> ErasedNode<A, D> {
        self.node
    }

    /// The erased node, borrowed (crate-internal).
    pub(crate) fn erased(&self) -> &ErasedNode<A, D> {
        &self.node
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
pub(crate) struct ErasedNode<A, D> {
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

impl<A, D> ErasedNode<A, D> {
    /// The kernel and the slots it reads, when the node is a library op: such a node can be
    /// evaluated on sparse [`Operands`] holding only those slots.
    pub(crate) fn sparse(&self) -> Option<(&[usize], &dyn KernelFns<A, D>)> {
        match (&self.body, self.reads.as_deref()) {
            (Body::Kernel(k), Some(reads)) => Some((reads, &**k)),
            _ => None,
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

impl<A, D, T: Shape> Kernel<A, D, T> {
    /// [`Kernel::into_erased`], with the output shape kept as a marker, for a node type over
    /// any context to take it from (context-free).
    pub(crate) fn into_erased_with_shape(self) -> (ErasedNode<A, D>, OutShape<T>) {
        (self.into_erased(), PhantomData)
    }

    /// The kernel as a graph node (context-free: compiled once per scalar, environment and
    /// shapes, whatever context it is used in).
    pub(crate) fn into_erased(self) -> ErasedNode<A, D> {
        ErasedNode {
            name: self.name,
            out_dims: T::dims().to_vec(),
            reads: Some(self.reads),
            body: Body::Kernel(self.fns),
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
    pub(crate) data: NodeData<A, D, G, T>,
}

/// A library op's kernel as a [`Node`] over the context the op's typed indices name
/// (crate-internal: the op constructor has checked the kernel's slots against that context, and
/// derived the law). A struct literal, not a function: a generic function called here would be
/// compiled once per node of a typed graph.
macro_rules! node_from_kernel {
    ($kernel:expr) => {{
        let (node, out) = $crate::autograd::kernel::Kernel::into_erased_with_shape($kernel);
        $crate::autograd::Node {
            data: $crate::autograd::NodeData {
                node,
                ctx: core::marker::PhantomData,
                out,
            },
        }
    }};
}
pub(crate) use node_from_kernel;

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

/// Anything that can be appended to a graph with [`GraphData::snoc`](crate::autograd::GraphData::snoc):
/// a [`NodeData`] or a [`Node`]. (The typed builder,
/// [`GraphBuilder::push`](crate::autograd::GraphBuilder::push), takes exactly these two; see
/// [`Admits`](crate::autograd::Admits).)
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
