//! Forward and reverse nodes of the runtime-approximation layer.
//!
//! **Mathematics.** A [`FwdNode`] over `Γ` with output `τ` is a spec function `f_S` on the spec
//! scalar `P`, a runtime function `f_R` on the runtime scalar `R`, and a bound transformer
//! `β(ε, xR) ≥ 0`, with the soundness law `approx_ctx xS xR ε →
//! ‖f_S(xS) − toSpec(f_R(xR))‖∞ ≤ β(ε, xR)`. A [`RevNode`] adds the VJPs `v_S`, `v_R` and a bound
//! `β′(ε, xR, εδ, δR)` such that `approx_ctx xS xR ε` and `‖δS − toSpec(δR)‖∞ ≤ εδ` imply
//! `approx_ctx (v_S xS δS) (v_R xR δR) β′`. [`RevNode::lift`] derives both bounds from one
//! generic op: evaluated in interval arithmetic on the boxes `[x̂ − ε, x̂ + ε]`, the op encloses
//! every admissible spec value, and the bound is the largest distance from that enclosure to the
//! runtime value.

use core::fmt;
use std::borrow::Cow;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::approx::elist::EList;
use crate::approx::interval::Interval;
use crate::approx::round::{RuntimeFloat, norm_max};
use crate::approx::spec::SpecScalar;
use crate::autograd::kernel::Contribs;
use crate::autograd::kernel::Operands;
use crate::autograd::node::ErasedNode;
use crate::autograd::{Cotangent, Node};
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tensor::{Owned, Tensor, TensorView};
use crate::tlist::TList;

type SpecForward<P, G, T> = dyn Fn(&TList<P, G>) -> Tensor<P, T> + Send + Sync;
type RtForward<R, G, T> = dyn Fn(&TList<R, G>) -> Tensor<R, T> + Send + Sync;
/// A bound given the runtime output as well (so it need not be recomputed).
type Bound<R, G, T> = dyn Fn(&EList<G>, &TList<R, G>, TensorView<'_, R, T>) -> f64 + Send + Sync;
type RtJvp<R, G, T> = dyn Fn(&TList<R, G>, &TList<R, G>) -> Tensor<R, T> + Send + Sync;
type SpecVjp<P, G, T> = dyn Fn(&TList<P, G>, &Tensor<P, T>) -> Cotangent<P, G> + Send + Sync;
type RtVjp<R, G, T> = dyn Fn(&TList<R, G>, &Tensor<R, T>) -> Cotangent<R, G> + Send + Sync;
/// A VJP bound given the runtime contribution as well.
type VjpBound<R, G, T> = dyn Fn(&EList<G>, &TList<R, G>, f64, TensorView<'_, R, T>, &[(usize, Owned<R>)]) -> EContrib<G>
    + Send
    + Sync;

/// Bounds for a VJP's contributions, slot by slot: 0 on every slot not listed (Lean's sparse
/// `EList` setters).
pub struct EContrib<G> {
    entries: Vec<(usize, f64)>,
    ctx: core::marker::PhantomData<fn() -> G>,
}

impl<G> EContrib<G> {
    /// No slot touched: every bound 0.
    pub fn zero() -> Self {
        EContrib {
            entries: Vec::new(),
            ctx: core::marker::PhantomData,
        }
    }

    /// Sets the bound of the contribution to the slot at `idx` (replacing an earlier one).
    pub fn with<G2: crate::shape_list::SameContext<G>, S: Shape>(
        mut self,
        idx: crate::tlist::Idx<G2, S>,
        e: f64,
    ) -> Self {
        let e = if e.is_nan() {
            f64::INFINITY
        } else {
            e.max(0.0)
        };
        match self.entries.iter_mut().find(|(p, _)| *p == idx.pos()) {
            Some((_, old)) => *old = e,
            None => self.entries.push((idx.pos(), e)),
        }
        self
    }

    pub(crate) fn into_entries(self) -> Vec<(usize, f64)> {
        self.entries
    }

    pub(crate) fn from_entries(entries: Vec<(usize, f64)>) -> Self {
        EContrib {
            entries,
            ctx: core::marker::PhantomData,
        }
    }
}

/// A forward node with a certified error bound (Lean's `FwdNode toSpec Γ τ`):
///
/// - `forward_spec : TList P Γ → Tensor P τ`, the high-precision semantics;
/// - `forward_runtime : TList R Γ → Tensor R τ`, what runs;
/// - `bound : EList Γ → TList R Γ → ℝ`, with the soundness law
///   `approxCtx xS xR ε → approxT (forward_spec xS) (forward_runtime xR) (bound ε xR)`.
pub struct FwdNode<R, P, G, T> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) forward_spec: Arc<SpecForward<P, G, T>>,
    pub(crate) forward_runtime: Arc<RtForward<R, G, T>>,
    pub(crate) bound: Arc<Bound<R, G, T>>,
    /// For a node built from one op at both scalars ([`RevNode::lift`] and the matrix ops): that
    /// op's erased nodes, which a graph calls directly on its slots instead of going through
    /// the typed closures above (same functions, fewer indirections).
    pub(crate) kernels: Option<SideKernels<R, P>>,
}

/// The spec and runtime sides of a node built from one op, context type erased.
pub(crate) struct SideKernels<R, P> {
    pub(crate) spec: ErasedNode<P, ()>,
    pub(crate) runtime: ErasedNode<R, ()>,
    /// For a lifted node, the op at [`Interval`]: its bounds are [`lifted_bound`] and
    /// [`lifted_vjp_bound`] of this node, which a graph computes on its slots directly.
    pub(crate) enclosure: Option<ErasedNode<Interval, ()>>,
}

impl<R, P> Clone for SideKernels<R, P> {
    fn clone(&self) -> Self {
        SideKernels {
            spec: self.spec.clone(),
            runtime: self.runtime.clone(),
            enclosure: self.enclosure.clone(),
        }
    }
}

impl<R, P, G, T> Clone for FwdNode<R, P, G, T> {
    fn clone(&self) -> Self {
        FwdNode {
            name: self.name.clone(),
            forward_spec: Arc::clone(&self.forward_spec),
            forward_runtime: Arc::clone(&self.forward_runtime),
            bound: Arc::clone(&self.bound),
            kernels: self.kernels.clone(),
        }
    }
}

impl<R, P, G, T> fmt::Debug for FwdNode<R, P, G, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FwdNode({})", self.name)
    }
}

impl<R, P, G: ShapeList, T: Shape> FwdNode<R, P, G, T> {
    /// A forward node from its three closures; the caller asserts the soundness law.
    pub fn new(
        forward_spec: impl Fn(&TList<P, G>) -> Tensor<P, T> + Send + Sync + 'static,
        forward_runtime: impl Fn(&TList<R, G>) -> Tensor<R, T> + Send + Sync + 'static,
        bound: impl Fn(&EList<G>, &TList<R, G>) -> f64 + Send + Sync + 'static,
    ) -> Self {
        FwdNode {
            name: Cow::Borrowed("node"),
            forward_spec: Arc::new(forward_spec),
            forward_runtime: Arc::new(forward_runtime),
            bound: Arc::new(
                move |eps: &EList<G>, x: &TList<R, G>, _: TensorView<'_, R, T>| bound(eps, x),
            ),
            kernels: None,
        }
    }

    /// The spec output `forward_spec xS`.
    pub fn forward_spec(&self, x: &TList<P, G>) -> Tensor<P, T> {
        (self.forward_spec)(x)
    }

    /// The runtime output `forward_runtime xR`.
    pub fn forward_runtime(&self, x: &TList<R, G>) -> Tensor<R, T> {
        (self.forward_runtime)(x)
    }

    /// The certified bound `bound ε xR` on `‖forward_spec xS − forward_runtime xR‖∞`.
    pub fn bound(&self, eps: &EList<G>, x: &TList<R, G>) -> f64 {
        (self.bound)(eps, x, self.forward_runtime(x).view())
    }
}

/// A reverse node with certified bounds (Lean's `RevNode`): a [`FwdNode`] plus
///
/// - `vjp_spec : TList P Γ → Tensor P τ → TList P Γ` and `vjp_runtime` on the runtime side;
/// - `vjp_bound : EList Γ → TList R Γ → ℝ → Tensor R τ → EList Γ`, with the law: from
///   `approxCtx ctxS ctxR ε` and `approxT δS δR εδ` follows
///   `approxCtx (vjp_spec ctxS δS) (vjp_runtime ctxR δR) (vjp_bound ε ctxR εδ δR)`;
/// - `jvp_runtime`, a runtime JVP (an addition to Lean's `RevNode`, kept by the bridge so that
///   an erased graph has a real forward mode).
pub struct RevNode<R, P, G, T> {
    pub(crate) fwd: FwdNode<R, P, G, T>,
    pub(crate) jvp_runtime: Arc<RtJvp<R, G, T>>,
    pub(crate) vjp_spec: Arc<SpecVjp<P, G, T>>,
    pub(crate) vjp_runtime: Arc<RtVjp<R, G, T>>,
    pub(crate) vjp_bound: Arc<VjpBound<R, G, T>>,
}

impl<R, P, G, T> Clone for RevNode<R, P, G, T> {
    fn clone(&self) -> Self {
        RevNode {
            fwd: self.fwd.clone(),
            jvp_runtime: Arc::clone(&self.jvp_runtime),
            vjp_spec: Arc::clone(&self.vjp_spec),
            vjp_runtime: Arc::clone(&self.vjp_runtime),
            vjp_bound: Arc::clone(&self.vjp_bound),
        }
    }
}

impl<R, P, G, T> fmt::Debug for RevNode<R, P, G, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RevNode({})", self.fwd.name)
    }
}

/// The box `[x̂ − ε, x̂ + ε]` around every entry of one slot (or seed).
fn slot_box<R: RuntimeFloat>(slot: &[R], e: f64) -> Owned<Interval> {
    Owned(
        slot.iter()
            .map(|&v| Interval::around(v.to_f64_exact(), e))
            .collect(),
    )
}

/// The boxes `[x̂ⱼ − εⱼ, x̂ⱼ + εⱼ]` of the listed slots only, as sparse operands: what a
/// kernel that reads only those slots needs (linear in the operands, not in the context).
fn operand_boxes<R: RuntimeFloat>(
    reads: &[usize],
    eps: &[f64],
    vals: &[Owned<R>],
) -> SmallVec<[(usize, Owned<Interval>); 2]> {
    reads
        .iter()
        .map(|&p| (p, slot_box(&vals[p].0, eps[p])))
        .collect()
}

/// The boxes around every slot of the context: the set of spec contexts `approx_ctx` allows.
fn context_boxes<R: RuntimeFloat>(eps: &[f64], vals: &[Owned<R>]) -> Vec<Owned<Interval>> {
    vals.iter()
        .zip(eps)
        .map(|(v, &e)| slot_box(&v.0, e))
        .collect()
}

/// The enclosure node evaluated on the boxes around the runtime context: on the operand boxes
/// only when the node records the slots it reads (every library op), else on the boxes of the
/// whole context.
fn enclosure_forward<R: RuntimeFloat>(
    enclosure: &ErasedNode<Interval, ()>,
    eps: &[f64],
    vals: &[Owned<R>],
) -> Owned<Interval> {
    match enclosure.sparse() {
        Some((reads, k)) => k.forward(Operands::sparse(&operand_boxes(reads, eps, vals)), &()),
        None => enclosure.forward(&mut context_boxes(eps, vals), &()),
    }
}

/// The enclosure node's VJP on the boxes around the runtime context and the seed box (see
/// [`enclosure_forward`]).
fn enclosure_vjp<R: RuntimeFloat>(
    enclosure: &ErasedNode<Interval, ()>,
    eps: &[f64],
    vals: &[Owned<R>],
    seed: Owned<Interval>,
) -> Contribs<Interval> {
    match enclosure.sparse() {
        Some((reads, k)) => k.vjp(
            Operands::sparse(&operand_boxes(reads, eps, vals)),
            &(),
            seed,
        ),
        None => enclosure.vjp(&mut context_boxes(eps, vals), &(), seed, None),
    }
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

/// The bounds of a VJP's contributions, slot by slot (inline for up to two operands).
pub(crate) type BoundEntries = SmallVec<[(usize, f64); 2]>;

/// The forward bound of a lifted node ([`RevNode::lift`]) over the erased context: the
/// distance from the runtime output `y` to the enclosure of the op on the input boxes.
pub(crate) fn lifted_bound<R: RuntimeFloat>(
    enclosure: &ErasedNode<Interval, ()>,
    eps: &[f64],
    vals: &[Owned<R>],
    y: &[R],
) -> f64 {
    enclosure_distance(&enclosure_forward(enclosure, eps, vals).0, y)
}

/// The VJP bound of a lifted node over the erased context: for each slot, the distance from
/// the runtime contribution (`c_rt`; absent means 0) to the enclosure of the op's VJP on the
/// input boxes and the seed box `[δ̂ − εδ, δ̂ + εδ]`.
pub(crate) fn lifted_vjp_bound<R: RuntimeFloat>(
    enclosure: &ErasedNode<Interval, ()>,
    eps: &[f64],
    vals: &[Owned<R>],
    e_seed: f64,
    seed: &[R],
    c_rt: &[(usize, Owned<R>)],
) -> BoundEntries {
    let c_enc = enclosure_vjp(enclosure, eps, vals, slot_box(seed, e_seed));
    let mut out = BoundEntries::new();
    for (p, enc) in &c_enc {
        let e = match c_rt.iter().find(|(q, _)| q == p) {
            Some((_, rt)) => enclosure_distance(&enc.0, &rt.0),
            None => norm_max(enc.0.iter().map(|iv| iv.max_distance_from(0.0))),
        };
        out.push((*p, e));
    }
    for (p, rt) in c_rt {
        if !c_enc.iter().any(|(q, _)| q == p) {
            // The enclosure says the spec contribution is exactly 0 here.
            out.push((*p, norm_max(rt.0.iter().map(|v| v.to_f64_exact().abs()))));
        }
    }
    out
}

impl<R, P, G, T> RevNode<R, P, G, T>
where
    R: RuntimeFloat,
    P: SpecScalar,
    G: ShapeList,
    T: Shape,
{
    /// A reverse node from its closures; the caller asserts both soundness laws.
    pub fn new(
        fwd: FwdNode<R, P, G, T>,
        jvp_runtime: impl Fn(&TList<R, G>, &TList<R, G>) -> Tensor<R, T> + Send + Sync + 'static,
        vjp_spec: impl Fn(&TList<P, G>, &Tensor<P, T>) -> Cotangent<P, G> + Send + Sync + 'static,
        vjp_runtime: impl Fn(&TList<R, G>, &Tensor<R, T>) -> Cotangent<R, G> + Send + Sync + 'static,
        vjp_bound: impl Fn(&EList<G>, &TList<R, G>, f64, &Tensor<R, T>) -> EContrib<G>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        RevNode {
            fwd,
            jvp_runtime: Arc::new(jvp_runtime),
            vjp_spec: Arc::new(vjp_spec),
            vjp_runtime: Arc::new(vjp_runtime),
            vjp_bound: Arc::new(
                move |eps: &EList<G>,
                      x: &TList<R, G>,
                      e: f64,
                      d: TensorView<'_, R, T>,
                      _: &[(usize, Owned<R>)]| {
                    vjp_bound(eps, x, e, &d.to_owned())
                },
            ),
        }
    }

    /// Lifts one op of the library, given at the spec scalar, the runtime scalar and at
    /// [`Interval`], into a reverse node whose bounds are derived, not written by hand:
    ///
    /// - `bound ε xR` is `supᵢ |ŷᵢ − Yᵢ|` where `ŷ = forward_runtime xR` and `Y` is the op
    ///   evaluated in interval arithmetic on the boxes `[x̂ − ε, x̂ + ε]`. Every spec context
    ///   allowed by `approx_ctx` lies in those boxes, so `Y` encloses the exact real spec
    ///   output and the bound is sound. It accounts at once for the propagated input error and
    ///   for the rounding of the runtime computation, whatever that computation is.
    /// - `vjp_bound ε xR εδ δR` is the same distance for each contribution of the VJP, with
    ///   the seed box `[δ̂ − εδ, δ̂ + εδ]`.
    ///
    /// The three nodes must be the same op at three scalar types (same formula), as the
    /// [`approx::ops`](crate::approx::ops) constructors guarantee.
    pub fn lift(
        spec: Node<P, (), G, T>,
        runtime: Node<R, (), G, T>,
        enclosure: Node<Interval, (), G, T>,
    ) -> Self {
        let enclosure = enclosure.into_data().erase();
        let enc_fwd = enclosure.clone();
        let bound = move |eps: &EList<G>, x: &TList<R, G>, y: TensorView<'_, R, T>| {
            lifted_bound(&enc_fwd, eps.as_slice(), x.items(), y.as_slice())
        };
        let enc_vjp = enclosure.clone();
        let vjp_bound = move |eps: &EList<G>,
                              x: &TList<R, G>,
                              e_seed: f64,
                              seed: TensorView<'_, R, T>,
                              c_rt: &[(usize, Owned<R>)]| {
            EContrib::from_entries(Vec::from_iter(lifted_vjp_bound(
                &enc_vjp,
                eps.as_slice(),
                x.items(),
                e_seed,
                seed.as_slice(),
                c_rt,
            )))
        };
        let mut node = Self::from_parts(spec, runtime, bound, vjp_bound);
        if let Some(k) = node.fwd.kernels.as_mut() {
            k.enclosure = Some(enclosure);
        }
        node
    }

    /// A reverse node from one op at the spec and runtime scalars and bound transformers that
    /// also receive the runtime result (`bound ε xR ŷ`, `vjp_bound ε xR εδ δR ĉ`), so they need
    /// not recompute it. The caller asserts both soundness laws, and that the bounds read (of
    /// `ε` and `xR`) only the slots the runtime node records as its operands: a graph skips
    /// the forward bounds nobody reads.
    pub(crate) fn from_parts(
        spec: Node<P, (), G, T>,
        runtime: Node<R, (), G, T>,
        bound: impl Fn(&EList<G>, &TList<R, G>, TensorView<'_, R, T>) -> f64 + Send + Sync + 'static,
        vjp_bound: impl Fn(
            &EList<G>,
            &TList<R, G>,
            f64,
            TensorView<'_, R, T>,
            &[(usize, Owned<R>)],
        ) -> EContrib<G>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        let (spec, runtime) = (spec.into_data(), runtime.into_data());
        let name: Cow<'static, str> = Cow::Owned(runtime.name().to_owned());
        let kernels = SideKernels {
            spec: spec.erased().clone(),
            runtime: runtime.erased().clone(),
            enclosure: None,
        };
        let (spec_f, rt_f, rt_j, rt_v) = (spec.clone(), runtime.clone(), runtime.clone(), runtime);
        RevNode {
            fwd: FwdNode {
                name,
                forward_spec: Arc::new(move |x| spec_f.forward(x, &())),
                forward_runtime: Arc::new(move |x| rt_f.forward(x, &())),
                bound: Arc::new(bound),
                kernels: Some(kernels),
            },
            jvp_runtime: Arc::new(move |x, dx| rt_j.jvp(x, dx, &())),
            vjp_spec: Arc::new(move |x, d| spec.vjp(x, &(), d)),
            vjp_runtime: Arc::new(move |x, d| rt_v.vjp(x, &(), d)),
            vjp_bound: Arc::new(vjp_bound),
        }
    }

    /// The node's display name.
    pub fn name(&self) -> &str {
        &self.fwd.name
    }

    /// Forgets the VJP parts (Lean's `RevNode.toFwdNode`).
    pub fn to_fwd_node(&self) -> FwdNode<R, P, G, T> {
        self.fwd.clone()
    }

    /// The spec VJP `vjp_spec xS δS`.
    pub fn vjp_spec(&self, x: &TList<P, G>, seed: &Tensor<P, T>) -> Cotangent<P, G> {
        (self.vjp_spec)(x, seed)
    }

    /// The runtime VJP `vjp_runtime xR δR`.
    pub fn vjp_runtime(&self, x: &TList<R, G>, seed: &Tensor<R, T>) -> Cotangent<R, G> {
        (self.vjp_runtime)(x, seed)
    }

    /// The certified bound of the VJP contributions, slot by slot (0 for untouched slots).
    pub fn vjp_bound(
        &self,
        eps: &EList<G>,
        x: &TList<R, G>,
        e_seed: f64,
        seed: &Tensor<R, T>,
    ) -> EList<G> {
        let mut out = vec![0.0; G::LEN];
        let contribution = self.vjp_runtime(x, seed);
        for (p, e) in
            (self.vjp_bound)(eps, x, e_seed, seed.view(), contribution.entries()).into_entries()
        {
            out[p] = e;
        }
        EList::from_vec_unchecked(out)
    }

    /// The runtime JVP.
    pub fn jvp_runtime(&self, x: &TList<R, G>, dx: &TList<R, G>) -> Tensor<R, T> {
        (self.jvp_runtime)(x, dx)
    }

    /// The forward part, for the forward accessors.
    pub fn fwd(&self) -> &FwdNode<R, P, G, T> {
        &self.fwd
    }
}

impl<R, P, G, T> From<RevNode<R, P, G, T>> for FwdNode<R, P, G, T> {
    fn from(n: RevNode<R, P, G, T>) -> Self {
        n.fwd
    }
}
