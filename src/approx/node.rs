//! Certified nodes: one op run at the runtime scalar, at the spec scalar and on intervals.
//!
//! **Mathematics.** A [`FwdNode`] over `Γ` with output `τ` is a spec function `f_S` on the spec
//! scalar `P`, a runtime function `f_R` on the runtime scalar `R`, and a bound transformer
//! `β(ε, xR) ≥ 0`, with the soundness law `approx_ctx xS xR ε →
//! ‖f_S(xS) − toSpec(f_R(xR))‖∞ ≤ β(ε, xR)` (Lean's `FwdNode`,
//! `Proofs/RuntimeApprox/Graph/ForwardApprox.lean` and
//! `BackwardApprox.lean`). A [`RevNode`] adds the VJPs `v_S`, `v_R` and a bound
//! `β′(ε, xR, εδ, δR)` such that `approx_ctx xS xR ε` and `‖δS − toSpec(δR)‖∞ ≤ εδ` imply
//! `approx_ctx (v_S xS δS) (v_R xR δR) β′`.
//!
//! Here `f_S` and `f_R` are one op ([`Eval`]) at two scalars, and the bounds are the op's
//! closed form ([`Op::bound`], [`Op::vjp_bound`]) or, by default, its interval enclosure: the
//! op evaluated in interval arithmetic on the boxes `[x̂ − ε, x̂ + ε]` encloses every admissible
//! spec value, and the bound is the largest distance from that enclosure to the runtime value.

use core::fmt;
use core::marker::PhantomData;
use std::borrow::Cow;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::approx::ball::Ball;
use crate::approx::elist::EList;
use crate::approx::interval::Interval;
use crate::approx::round::{RuntimeFloat, norm_max};
use crate::approx::spec::SpecScalar;
use crate::autograd::op::{
    Contribs, Eval, KernelFns, OpBox, OpNode, Operands, Pullback, SlotBounds, VjpBounds,
};
use crate::autograd::{Cotangent, NodeData};
pub use crate::constraint::Certifiable;
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tensor::{Owned, Tensor};
use crate::tlist::TList;

/// The maps and bounds of a certified node over untyped operands: its maps are an executable
/// kernel at every scalar it runs at (the runtime `R`, the spec `P`, and the enclosure scalars
/// [`Interval`] and [`Ball`]), plus the bound transformers.
pub(crate) trait CertFns<R, P>:
    KernelFns<R, ()> + KernelFns<P, ()> + KernelFns<Interval, ()> + KernelFns<Ball, ()> + Send + Sync
{
    /// The forward bound, given the runtime output `y`.
    fn bound(&self, eps: &[f64], x: &[Owned<R>], y: &[R]) -> f64;
    /// The bounds of the VJP's contributions, given the runtime contributions `c`.
    fn vjp_bound(
        &self,
        eps: &[f64],
        x: &[Owned<R>],
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> VjpBounds;
    /// The runtime side as an executable node's kernel (what `to_graph_data` keeps).
    fn runtime_kernel(self: Arc<Self>) -> Arc<dyn KernelFns<R, ()>>;
    /// The op's closed-form forward bound, if it has one (what [`CertFns::bound`] uses before
    /// falling back to the enclosure).
    fn closed_bound(&self, eps: &[f64], x: &[Owned<R>], y: &[R]) -> Option<f64>;
    /// The op's closed-form VJP bound, if it has one.
    fn closed_vjp_bound(
        &self,
        eps: &[f64],
        x: &[Owned<R>],
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> Option<VjpBounds>;
}

impl<R, P> CertNode<R, P> {
    /// The node's op at the scalar `A` (one of `R`, `P`, [`Interval`], [`Ball`]).
    #[inline]
    pub(crate) fn forward<A>(&self, x: Operands<'_, A>) -> Owned<A>
    where
        dyn CertFns<R, P>: KernelFns<A, ()>,
    {
        KernelFns::<A, ()>::forward(&*self.fns, x, &())
    }

    /// The node's JVP at the scalar `A`.
    #[inline]
    pub(crate) fn jvp<A>(&self, x: Operands<'_, A>, dx: Operands<'_, A>) -> Owned<A>
    where
        dyn CertFns<R, P>: KernelFns<A, ()>,
    {
        KernelFns::<A, ()>::jvp(&*self.fns, x, dx, &())
    }

    /// The node's VJP at the scalar `A`.
    #[inline]
    pub(crate) fn vjp<A>(&self, x: Operands<'_, A>, seed: Owned<A>) -> Contribs<A>
    where
        dyn CertFns<R, P>: KernelFns<A, ()>,
    {
        KernelFns::<A, ()>::vjp(&*self.fns, x, &(), seed)
    }
}

/// The box `[x̂ − ε, x̂ + ε]` around every entry of one slot (or seed).
pub(crate) fn slot_box<R: RuntimeFloat>(slot: &[R], e: f64) -> Owned<Interval> {
    Owned(
        slot.iter()
            .map(|&v| Interval::around(v.to_f64_exact(), e))
            .collect(),
    )
}

/// `max(0, maxᵢ sup |encᵢ − rtᵢ|)`: how far the runtime values can be from values in the
/// enclosures.
pub(crate) fn enclosure_distance<R: RuntimeFloat>(enc: &[Interval], rt: &[R]) -> f64 {
    norm_max(
        enc.iter()
            .zip(rt)
            .map(|(iv, &r)| iv.max_distance_from(r.to_f64_exact())),
    )
}

/// The distance from the runtime output `y` to the op's enclosure at the runtime operands
/// themselves (zero-width boxes): a bound on the op's own rounding at that point, for
/// closed-form bounds that add the propagated input error separately (`L · ε`).
pub(crate) fn point_rounding<R: RuntimeFloat, K: Eval<Interval>>(
    op: &K,
    x: Operands<'_, R>,
    y: &[R],
) -> f64 {
    let boxes: SmallVec<[(usize, Owned<Interval>); 2]> = op
        .reads()
        .into_iter()
        .map(|p| (p, slot_box(x.raw(p), 0.0)))
        .collect();
    enclosure_distance(op.forward(Operands::sparse(&boxes), &()).as_slice(), y)
}

/// The lifted (interval) forward bound of an op: the distance from `y` to its enclosure on the
/// operand boxes `[x̂ ± ε]`.
pub(crate) fn lifted_bound<R: RuntimeFloat, K: Eval<Interval>>(
    op: &K,
    eps: SlotBounds<'_>,
    x: Operands<'_, R>,
    y: &[R],
) -> f64 {
    let boxes: SmallVec<[(usize, Owned<Interval>); 2]> = op
        .reads()
        .into_iter()
        .map(|p| (p, slot_box(x.raw(p), eps.0[p])))
        .collect();
    enclosure_distance(op.forward(Operands::sparse(&boxes), &()).as_slice(), y)
}

/// The distance from the runtime contributions `c` to the enclosure of the op's VJP, at the
/// operand boxes `[x̂ ± ε]` and the seed box `[δ̂ ± εδ]`, slot by slot (`eps_zero`: every
/// width 0, the VJP's own rounding at the runtime point).
pub(crate) fn lifted_vjp_bound<R: RuntimeFloat, K: Eval<Interval>>(
    op: &K,
    eps: Option<SlotBounds<'_>>,
    x: Operands<'_, R>,
    e_seed: f64,
    seed: &[R],
    c: &Pullback<R>,
) -> VjpBounds {
    let boxes: SmallVec<[(usize, Owned<Interval>); 2]> = op
        .reads()
        .into_iter()
        .map(|p| (p, slot_box(x.raw(p), eps.map_or(0.0, |e| e.0[p]))))
        .collect();
    let c_enc = op
        .vjp(
            Operands::sparse(&boxes),
            &(),
            &Tensor::from_data_unchecked(slot_box(seed, e_seed)),
        )
        .0;
    let mut out = SmallVec::new();
    for (p, enc) in &c_enc {
        let e = match c.0.iter().find(|(q, _)| q == p) {
            Some((_, rt)) => enclosure_distance(&enc.0, &rt.0),
            None => norm_max(enc.0.iter().map(|iv| iv.max_distance_from(0.0))),
        };
        out.push((*p, e));
    }
    for (p, rt) in &c.0 {
        if !c_enc.iter().any(|(q, _)| q == p) {
            out.push((*p, norm_max(rt.0.iter().map(|v| v.to_f64_exact().abs()))));
        }
    }
    VjpBounds(out)
}

impl<R, P, K> CertFns<R, P> for OpBox<K>
where
    R: RuntimeFloat,
    P: SpecScalar,
    K: Certifiable<R, P>,
{
    /// The op's closed form, or the distance from `y` to the op's enclosure on the operand
    /// boxes. Every spec context allowed by `approx_ctx` lies in those boxes, so the enclosure
    /// holds the exact spec output: the bound covers at once the propagated input error and the
    /// rounding of the runtime computation, whatever that computation is.
    fn bound(&self, eps: &[f64], x: &[Owned<R>], y: &[R]) -> f64 {
        if let Some(b) = self.0.bound(SlotBounds(eps), Operands::dense(x), y) {
            return b;
        }
        lifted_bound(&self.0, SlotBounds(eps), Operands::dense(x), y)
    }

    /// The op's closed form, or, for each slot, the distance from the runtime contribution
    /// (absent means 0) to the enclosure of the op's VJP on the operand boxes and the seed box
    /// `[δ̂ − εδ, δ̂ + εδ]`.
    fn vjp_bound(
        &self,
        eps: &[f64],
        x: &[Owned<R>],
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> VjpBounds {
        if let Some(b) = self
            .0
            .vjp_bound(SlotBounds(eps), Operands::dense(x), e_seed, seed, c)
        {
            return b;
        }
        lifted_vjp_bound(
            &self.0,
            Some(SlotBounds(eps)),
            Operands::dense(x),
            e_seed,
            seed,
            c,
        )
    }

    fn runtime_kernel(self: Arc<Self>) -> Arc<dyn KernelFns<R, ()>> {
        self
    }

    fn closed_bound(&self, eps: &[f64], x: &[Owned<R>], y: &[R]) -> Option<f64> {
        self.0.bound(SlotBounds(eps), Operands::dense(x), y)
    }
    fn closed_vjp_bound(
        &self,
        eps: &[f64],
        x: &[Owned<R>],
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> Option<VjpBounds> {
        self.0
            .vjp_bound(SlotBounds(eps), Operands::dense(x), e_seed, seed, c)
    }
}

/// A certified node with its context type forgotten, as stored in a [`FwdGraph`] or a
/// [`RevGraph`](crate::approx::RevGraph).
///
/// [`FwdGraph`]: crate::approx::FwdGraph
#[doc(hidden)]
pub struct CertNode<R, P> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) out_dims: Vec<usize>,
    /// The slots the op reads: also the only slots its bounds read.
    pub(crate) reads: SmallVec<[usize; 4]>,
    pub(crate) fns: Arc<dyn CertFns<R, P>>,
}

impl<R, P> Clone for CertNode<R, P> {
    fn clone(&self) -> Self {
        CertNode {
            name: self.name.clone(),
            out_dims: self.out_dims.clone(),
            reads: self.reads.clone(),
            fns: Arc::clone(&self.fns),
        }
    }
}

/// An op as a certified node (context-free: compiled once per op type and scalar pair).
pub(crate) fn certify_op<R, P, K>(op: K) -> CertNode<R, P>
where
    R: RuntimeFloat,
    P: SpecScalar,
    K: Certifiable<R, P>,
{
    CertNode {
        name: op.name().to_owned().into(),
        out_dims: K::Out::dims().to_vec(),
        reads: op.reads(),
        fns: Arc::new(OpBox(op)),
    }
}

/// A forward node with a certified error bound (Lean's `FwdNode toSpec Γ τ`), the typed view
/// of an op in a certified graph ([`OpNode::into_fwd_node`]):
///
/// - `forward_spec : TList P Γ → Tensor P τ`, the high-precision semantics;
/// - `forward_runtime : TList R Γ → Tensor R τ`, what runs;
/// - `bound : EList Γ → TList R Γ → ℝ`, with the soundness law
///   `approxCtx xS xR ε → approxT (forward_spec xS) (forward_runtime xR) (bound ε xR)`.
pub struct FwdNode<R, P, G, T> {
    pub(crate) node: CertNode<R, P>,
    marker: PhantomData<fn() -> (G, T)>,
}

/// A reverse node with certified bounds (Lean's `RevNode`), the typed view of an op in a
/// certified graph ([`OpNode::into_rev_node`]): a [`FwdNode`] plus
///
/// - `vjp_spec : TList P Γ → Tensor P τ → TList P Γ` and `vjp_runtime` on the runtime side;
/// - `vjp_bound : EList Γ → TList R Γ → ℝ → Tensor R τ → EList Γ`, with the law: from
///   `approxCtx ctxS ctxR ε` and `approxT δS δR εδ` follows
///   `approxCtx (vjp_spec ctxS δS) (vjp_runtime ctxR δR) (vjp_bound ε ctxR εδ δR)`;
/// - `jvp_runtime`, a runtime JVP (an addition to Lean's `RevNode`, kept by the bridge so that
///   an erased graph has a real forward mode).
pub struct RevNode<R, P, G, T> {
    pub(crate) fwd: FwdNode<R, P, G, T>,
}

impl<R, P, G, T> Clone for FwdNode<R, P, G, T> {
    fn clone(&self) -> Self {
        FwdNode {
            node: self.node.clone(),
            marker: PhantomData,
        }
    }
}
impl<R, P, G, T> Clone for RevNode<R, P, G, T> {
    fn clone(&self) -> Self {
        RevNode {
            fwd: self.fwd.clone(),
        }
    }
}
impl<R, P, G, T> fmt::Debug for FwdNode<R, P, G, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FwdNode({})", self.node.name)
    }
}
impl<R, P, G, T> fmt::Debug for RevNode<R, P, G, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RevNode({})", self.fwd.node.name)
    }
}

impl<G, K> OpNode<G, K> {
    /// The op as a typed reverse node of a certified graph over the runtime scalar `R` and the
    /// spec scalar `P`.
    pub fn into_rev_node<R, P>(self) -> RevNode<R, P, G, K::Out>
    where
        R: RuntimeFloat,
        P: SpecScalar,
        K: Certifiable<R, P>,
    {
        RevNode {
            fwd: FwdNode {
                node: certify_op(self.op),
                marker: PhantomData,
            },
        }
    }

    /// The op as a typed forward node of a certified graph.
    pub fn into_fwd_node<R, P>(self) -> FwdNode<R, P, G, K::Out>
    where
        R: RuntimeFloat,
        P: SpecScalar,
        K: Certifiable<R, P>,
    {
        self.into_rev_node().fwd
    }
}

impl<R: Clone, P: Clone, G: ShapeList, T: Shape> FwdNode<R, P, G, T> {
    /// The node's display name.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// The spec output `forward_spec xS`.
    pub fn forward_spec(&self, x: &TList<P, G>) -> Tensor<P, T> {
        Tensor::from_data_unchecked(self.node.forward(Operands::dense(x.items())))
    }

    /// The runtime output `forward_runtime xR`.
    pub fn forward_runtime(&self, x: &TList<R, G>) -> Tensor<R, T> {
        Tensor::from_data_unchecked(self.node.forward(Operands::dense(x.items())))
    }

    /// The certified bound `bound ε xR` on `‖forward_spec xS − forward_runtime xR‖∞`.
    pub fn bound(&self, eps: &EList<G>, x: &TList<R, G>) -> f64 {
        let y = self.forward_runtime(x);
        self.node.fns.bound(eps.as_slice(), x.items(), y.as_slice())
    }
}

impl<R: Clone, P: Clone, G: ShapeList, T: Shape> RevNode<R, P, G, T> {
    /// The node's display name.
    pub fn name(&self) -> &str {
        self.fwd.name()
    }

    /// Forgets the VJP parts (Lean's `RevNode.toFwdNode`).
    pub fn to_fwd_node(&self) -> FwdNode<R, P, G, T> {
        self.fwd.clone()
    }

    /// The forward part, for the forward accessors.
    pub fn fwd(&self) -> &FwdNode<R, P, G, T> {
        &self.fwd
    }

    /// The spec VJP `vjp_spec xS δS`.
    pub fn vjp_spec(&self, x: &TList<P, G>, seed: &Tensor<P, T>) -> Cotangent<P, G> {
        Cotangent::from_entries(
            self.fwd
                .node
                .vjp(Operands::dense(x.items()), seed.clone().into_data()),
        )
    }

    /// The runtime VJP `vjp_runtime xR δR`.
    pub fn vjp_runtime(&self, x: &TList<R, G>, seed: &Tensor<R, T>) -> Cotangent<R, G> {
        Cotangent::from_entries(
            self.fwd
                .node
                .vjp(Operands::dense(x.items()), seed.clone().into_data()),
        )
    }

    /// The runtime JVP.
    pub fn jvp_runtime(&self, x: &TList<R, G>, dx: &TList<R, G>) -> Tensor<R, T> {
        Tensor::from_data_unchecked(
            self.fwd
                .node
                .jvp(Operands::dense(x.items()), Operands::dense(dx.items())),
        )
    }

    /// The certified bound of the VJP contributions, slot by slot (0 for untouched slots).
    pub fn vjp_bound(
        &self,
        eps: &EList<G>,
        x: &TList<R, G>,
        e_seed: f64,
        seed: &Tensor<R, T>,
    ) -> EList<G> {
        let node = &self.fwd.node;
        let c = Pullback(node.vjp(Operands::dense(x.items()), seed.clone().into_data()));
        let fns = &node.fns;
        let mut out = vec![0.0; G::LEN];
        for (p, e) in fns
            .vjp_bound(eps.as_slice(), x.items(), e_seed, seed.as_slice(), &c)
            .0
        {
            out[p] = e;
        }
        EList::from_vec_unchecked(out)
    }

    /// Erases the node into an executable node with `Δ = ()` (Lean's `RevNode.toNodeData`):
    /// `forward ctx () = forward_runtime ctx`, `vjp ctx () δ = vjp_runtime ctx δ`, and
    /// `jvp ctx dctx () = jvp_runtime ctx dctx` (a real JVP, where Lean keeps a placeholder).
    pub fn to_node_data(&self) -> NodeData<R, (), G, T> {
        NodeData::from_erased(self.fwd.node.to_erased_node())
    }
}

impl<R, P> CertNode<R, P> {
    /// The runtime side as an executable node, with its recorded operand slots.
    pub(crate) fn to_erased_node(&self) -> crate::autograd::node::ErasedNode<R, ()> {
        crate::autograd::node::ErasedNode {
            name: self.name.clone(),
            out_dims: self.out_dims.clone(),
            reads: Some(self.reads.clone()),
            body: crate::autograd::node::Body::Kernel(Arc::clone(&self.fns).runtime_kernel()),
        }
    }
}

impl<R, P, G, T> From<RevNode<R, P, G, T>> for FwdNode<R, P, G, T> {
    fn from(n: RevNode<R, P, G, T>) -> Self {
        n.fwd
    }
}
