//! Writing an op: the one definition every graph kind runs.
//!
//! An op is a value that knows which slots of its context it reads ([`Op::reads`]) and how to
//! compute its output, its JVP and its VJP at any scalar ([`Eval<A, Δ>`]). The same value
//! ([`OpNode<Γ, K>`], what `ops::tanh(x)` returns) is appended to every graph kind:
//! [`GraphData`](crate::autograd::GraphData) and [`Graph`](crate::autograd::Graph) run it at
//! their scalar, [`RevGraph`](crate::approx::RevGraph) and
//! [`FwdGraph`](crate::approx::FwdGraph) run it at the runtime scalar, at the spec scalar and on
//! [`Interval`](crate::approx::Interval)s. The certified bound is that interval evaluation (the
//! enclosure of the op on the error boxes of its operands) unless the op gives a closed form,
//! [`Op::bound`] and [`Op::vjp_bound`], where that is tighter or cheaper.
//!
//! **Mathematics.** An op over `Γ` with output `τ` is a map `f : Π_{S ∈ Γ} A^{size S} →
//! A^{size τ}` that reads only the slots it lists, with `jvp(x, dx) = J_f(x) dx` and
//! `vjp(x, δ) = J_f(x)ᵀ δ`. Implementing [`Eval`] asserts the adjointness law
//! `⟨jvp(x, dx), δ⟩ = ⟨dx, vjp(x, δ)⟩` (Lean's `Node.correct`, `Proofs/Autograd/Tape/Algebra/Soundness.lean`),
//! which [`check_adjoint`](crate::autograd::check_adjoint) and the `strategies` harness test.
//!
//! **Why context-free.** An op never names its context: it reads [`Operands`] through
//! [`Slot`]s (positions with a shape). Only the thin [`OpNode<Γ, K>`] wrapper names `Γ`, so a
//! graph of N nodes compiles to code linear in N, whatever its kind.
//!
//! A complete op written from scratch (GELU) is `examples/custom_op.rs`.

use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::approx::RuntimeFloat;
use crate::scalar::Element;
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tensor::{Owned, Tensor, TensorBase, TensorView};
use crate::tlist::Idx;

/// A position in a context holding shape `S`, with the context's type forgotten: what an op
/// reads. Obtained from a checked index by [`Idx::slot`](crate::Idx::slot).
pub struct Slot<S> {
    pos: usize,
    marker: PhantomData<fn() -> S>,
}

impl<S> Clone for Slot<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Slot<S> {}

impl<S> fmt::Debug for Slot<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Slot({})", self.pos)
    }
}

impl<S> Slot<S> {
    /// A slot at `pos`; the caller has checked that the context holds an `S` there.
    pub(crate) fn new(pos: usize) -> Self {
        Slot {
            pos,
            marker: PhantomData,
        }
    }

    /// The position (0-based, inputs first).
    pub fn pos(self) -> usize {
        self.pos
    }
}

impl<G, S> Idx<G, S> {
    /// The slot this index names, with the context forgotten (what an op stores).
    pub fn slot(self) -> Slot<S> {
        Slot::new(self.pos)
    }
}

/// The slots of a context as an op sees them, and which cotangents its VJP is asked for.
///
/// They are the whole context or only the op's operands (when the op is evaluated on a few
/// boxed slots, as for interval bounds). A VJP may skip the contribution to a slot for which
/// [`Operands::wants`] is false: reverse mode restricted to some inputs
/// ([`GraphData::backprop_prefix`](crate::autograd::GraphData::backprop_prefix)) discards it.
pub struct Operands<'a, A> {
    slots: SlotsRef<'a, A>,
    wanted: Option<&'a [bool]>,
}

enum SlotsRef<'a, A> {
    Dense(&'a [Owned<A>]),
    Sparse(&'a [(usize, Owned<A>)]),
}

impl<A> Clone for Operands<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A> Copy for Operands<'_, A> {}
impl<A> Clone for SlotsRef<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A> Copy for SlotsRef<'_, A> {}

impl<A> fmt::Debug for Operands<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Operands")
    }
}

impl<'a, A> Operands<'a, A> {
    /// Every slot of the context, in order; every cotangent wanted.
    #[inline]
    pub(crate) fn dense(all: &'a [Owned<A>]) -> Self {
        Operands {
            slots: SlotsRef::Dense(all),
            wanted: None,
        }
    }

    /// At least every slot the op reads, as `(position, buffer)` pairs.
    #[inline]
    pub(crate) fn sparse(some: &'a [(usize, Owned<A>)]) -> Self {
        Operands {
            slots: SlotsRef::Sparse(some),
            wanted: None,
        }
    }

    /// The same operands, asking the VJP only for the slots `p` with `wanted[p]`.
    #[inline]
    pub(crate) fn wanting(self, wanted: Option<&'a [bool]>) -> Self {
        Operands { wanted, ..self }
    }

    /// Whether the VJP's contribution to `slot` is wanted (skipping it is allowed if not).
    #[inline]
    pub fn wants<S>(self, slot: Slot<S>) -> bool {
        self.wanted.is_none_or(|w| w[slot.pos])
    }

    /// The entries of the slot at `pos`, untyped (crate-internal).
    #[inline]
    pub(crate) fn raw(self, pos: usize) -> &'a [A] {
        match self.slots {
            SlotsRef::Dense(all) => all[pos].0.as_slice(),
            SlotsRef::Sparse(some) => some
                .iter()
                .find(|(p, _)| *p == pos)
                .expect("an op reads only the slots it lists")
                .1
                .0
                .as_slice(),
        }
    }

    /// The tensor at `slot` (the projection `π_slot`).
    #[inline]
    pub fn get<S: Shape>(self, slot: Slot<S>) -> TensorView<'a, A, S> {
        let buf = match self.slots {
            SlotsRef::Dense(all) => &all[slot.pos],
            SlotsRef::Sparse(some) => {
                &some
                    .iter()
                    .find(|(p, _)| *p == slot.pos)
                    .expect("an op reads only the slots it lists in `Op::reads`")
                    .1
            }
        };
        TensorBase::from_data_unchecked(buf.0.as_slice())
    }
}

/// A node's contributions to its context's cotangent, slot by slot (inline for up to two
/// operands, the common case, so a reverse step through an op allocates no list).
pub(crate) type Contribs<A> = SmallVec<[(usize, Owned<A>); 2]>;

/// An op's cotangent: the context cotangent that is zero except at the listed slots.
///
/// [`Pullback::with`] *adds* at a slot already listed (an operand read twice receives both
/// contributions), the same rule as [`Cotangent::with`](crate::autograd::Cotangent::with).
pub struct Pullback<A>(pub(crate) Contribs<A>);

impl<A> fmt::Debug for Pullback<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(p, _)| p))
            .finish()
    }
}

impl<A: Element> Pullback<A> {
    /// `value` at `slot`, zero elsewhere.
    pub fn single<S: Shape>(slot: Slot<S>, value: Tensor<A, S>) -> Self {
        let mut entries = Contribs::new();
        entries.push((slot.pos, value.into_data()));
        Pullback(entries)
    }

    /// No contribution (every slot zero).
    pub fn none() -> Self {
        Pullback(Contribs::new())
    }

    /// Adds `value()` at `slot` if the VJP is asked for that slot (see [`Operands::wants`]).
    pub fn with_if<S: Shape>(
        self,
        x: Operands<'_, A>,
        slot: Slot<S>,
        value: impl FnOnce() -> Tensor<A, S>,
    ) -> Self {
        if x.wants(slot) {
            self.with(slot, value())
        } else {
            self
        }
    }

    /// Adds `value` at `slot`.
    pub fn with<S: Shape>(mut self, slot: Slot<S>, value: Tensor<A, S>) -> Self {
        let value = value.into_data();
        match self.0.iter_mut().find(|(p, _)| *p == slot.pos) {
            Some((_, old)) => old.add_assign(&value),
            None => self.0.push((slot.pos, value)),
        }
        self
    }

    /// The contribution at `slot`, if listed.
    pub fn get<S: Shape>(&self, slot: Slot<S>) -> Option<TensorView<'_, A, S>> {
        self.0
            .iter()
            .find(|(p, _)| *p == slot.pos)
            .map(|(_, t)| TensorBase::from_data_unchecked(t.0.as_slice()))
    }
}

/// The bounds `ε` of a context, slot by slot, as a closed-form bound reads them.
#[derive(Clone, Copy, Debug)]
pub struct SlotBounds<'a>(pub(crate) &'a [f64]);

impl SlotBounds<'_> {
    /// The bound of the slot: `‖spec − runtime‖∞ ≤ ε` there.
    pub fn get<S>(self, slot: Slot<S>) -> f64 {
        self.0[slot.pos]
    }
}

/// Bounds on a VJP's contributions, slot by slot (0 on every slot not listed).
///
/// [`VjpBounds::with`] adds (rounding upward) at a slot already listed, as [`Pullback::with`]
/// adds the contributions; an op whose runtime VJP sums two contributions into one slot also
/// accounts for the rounding of that sum.
#[derive(Clone, Debug, Default)]
pub struct VjpBounds(pub(crate) SmallVec<[(usize, f64); 2]>);

impl VjpBounds {
    /// No slot touched: every bound 0.
    pub fn none() -> Self {
        VjpBounds(SmallVec::new())
    }

    /// Adds the bound `e` at `slot` (a NaN bound becomes +∞, a negative one 0).
    pub fn with<S>(mut self, slot: Slot<S>, e: f64) -> Self {
        let e = if e.is_nan() {
            f64::INFINITY
        } else {
            e.max(0.0)
        };
        match self.0.iter_mut().find(|(p, _)| *p == slot.pos) {
            Some((_, old)) => *old = crate::approx::round::add_up(*old, e),
            None => self.0.push((slot.pos, e)),
        }
        self
    }

    /// [`VjpBounds::with`] at a position (crate-internal).
    pub(crate) fn with_pos(self, pos: usize, e: f64) -> Self {
        self.with(Slot::<()>::new(pos), e)
    }
}

/// An op: a node with its context forgotten (see the [module docs](self)).
///
/// The scalar-generic maps are in [`Eval`]; this trait holds what does not depend on the
/// scalar: the output shape, the slots read, the name, and optional closed-form certified
/// bounds. Without them, a certified graph bounds the op by evaluating it on
/// [`Interval`](crate::approx::Interval)s.
pub trait Op: Send + Sync + 'static {
    /// The output shape `τ`.
    type Out: Shape;

    /// The display name (graph export, `Debug`).
    fn name(&self) -> &str;

    /// The slots the op reads (each once; any order). Nothing else of the context may be read.
    fn reads(&self) -> SmallVec<[usize; 4]>;

    /// A closed-form bound on `‖f(xS) − f̂(x̂)‖∞` for every spec context `xS` within `eps` of the
    /// runtime operands `x`, given the runtime output `y`; `None` (the default) uses the
    /// interval enclosure. Must read `eps` only at the op's own slots, and give +∞ (never a
    /// false finite value) when any operand is NaN or ±∞.
    fn bound<R: RuntimeFloat>(
        &self,
        _eps: SlotBounds<'_>,
        _x: Operands<'_, R>,
        _y: &[R],
    ) -> Option<f64> {
        None
    }

    /// A closed-form bound on the VJP's contributions for a spec seed within `e_seed` of the
    /// runtime seed `seed`, given the runtime contributions `c`; `None` (the default) uses the
    /// interval enclosure. The same rules as [`Op::bound`].
    fn vjp_bound<R: RuntimeFloat>(
        &self,
        _eps: SlotBounds<'_>,
        _x: Operands<'_, R>,
        _e_seed: f64,
        _seed: &[R],
        _c: &Pullback<R>,
    ) -> Option<VjpBounds> {
        None
    }
}

/// The maps of an op at the scalar `A` with environment `Δ` (Lean's `NodeData` fields):
/// `forward`, `jvp` and `vjp`, satisfying `⟨jvp(x, dx), δ⟩ = ⟨dx, vjp(x, δ)⟩`.
pub trait Eval<A, D = ()>: Op {
    /// `forward x d`.
    fn forward(&self, x: Operands<'_, A>, d: &D) -> Tensor<A, Self::Out>;
    /// `jvp x dx d`: the output tangent for the operand tangents `dx`.
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, d: &D) -> Tensor<A, Self::Out>;
    /// `vjp x d δ`: the operands' cotangents for the output cotangent `δ`.
    fn vjp(&self, x: Operands<'_, A>, d: &D, seed: &Tensor<A, Self::Out>) -> Pullback<A>;
}

/// An op applied in the context `G`: what `ops::tanh(x)` returns, accepted by every graph kind
/// (`snoc` and the builder's `push`). It promises the op's adjointness law, like a
/// [`Node`](crate::autograd::Node).
pub struct OpNode<G, K> {
    pub(crate) op: K,
    pub(crate) ctx: PhantomData<G>,
}

impl<G, K: Clone> Clone for OpNode<G, K> {
    fn clone(&self) -> Self {
        OpNode {
            op: self.op.clone(),
            ctx: PhantomData,
        }
    }
}

impl<G, K: Op> fmt::Debug for OpNode<G, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpNode({})", self.op.name())
    }
}

impl<G: ShapeList, K: Op> OpNode<G, K> {
    /// The op `op` in the context `G`: its slots must come from indices into `G`
    /// ([`Idx::slot`](crate::Idx::slot)).
    ///
    /// # Panics
    /// If the op reads a slot past the end of `G` (its slots were taken from indices into
    /// another context): a bug in the op's constructor.
    #[must_use]
    pub fn new(op: K) -> Self {
        if let Some(p) = op.reads().into_iter().find(|&p| p >= G::LEN) {
            panic!(
                "op `{}` reads slot {p}, but its context has {} slots: build its slots from indices into that context",
                op.name(),
                G::LEN
            );
        }
        OpNode {
            op,
            ctx: PhantomData,
        }
    }
}

/// A library op in the context its checked indices name, as a struct literal (crate-internal:
/// a generic function called here would be compiled once per node of a typed graph).
macro_rules! op_node {
    ($op:expr) => {
        $crate::autograd::op::OpNode {
            op: $op,
            ctx: core::marker::PhantomData,
        }
    };
}
pub(crate) use op_node;

impl<G, K> OpNode<G, K> {
    /// The op.
    pub fn op(&self) -> &K {
        &self.op
    }

    /// The op, without its context.
    pub fn into_op(self) -> K {
        self.op
    }
}

/// The listed slot positions, each once (what [`Op::reads`] returns when operands may alias).
pub(crate) fn distinct(slots: &[usize]) -> SmallVec<[usize; 4]> {
    let mut out = SmallVec::new();
    for &p in slots {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// The erased form of an op in an executable graph: its maps at one scalar and environment.
pub(crate) struct OpBox<K>(pub(crate) K);

/// The three maps of an executable node over untyped operands.
pub(crate) trait KernelFns<A, D>: Send + Sync {
    fn forward(&self, x: Operands<'_, A>, d: &D) -> Owned<A>;
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, d: &D) -> Owned<A>;
    fn vjp(&self, x: Operands<'_, A>, d: &D, seed: Owned<A>) -> Contribs<A>;
}

impl<A, D, K: Eval<A, D>> KernelFns<A, D> for OpBox<K> {
    #[inline]
    fn forward(&self, x: Operands<'_, A>, d: &D) -> Owned<A> {
        self.0.forward(x, d).into_data()
    }
    #[inline]
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, d: &D) -> Owned<A> {
        self.0.jvp(x, dx, d).into_data()
    }
    #[inline]
    fn vjp(&self, x: Operands<'_, A>, d: &D, seed: Owned<A>) -> Contribs<A> {
        self.0.vjp(x, d, &Tensor::from_data_unchecked(seed)).0
    }
}

/// An op as an executable graph node (context-free: compiled once per op type, scalar and
/// environment, whatever context it is used in).
pub(crate) fn erase_op<A, D, K: Eval<A, D>>(op: K) -> crate::autograd::node::ErasedNode<A, D> {
    crate::autograd::node::ErasedNode {
        name: op.name().to_owned().into(),
        out_dims: K::Out::dims().to_vec(),
        reads: Some(op.reads()),
        body: crate::autograd::node::Body::Kernel(Arc::new(OpBox(op))),
    }
}
