//! Context-free kernels: the compiled form of the library's nodes.
//!
//! A node over `Γ` only ever reads a few slots of its context, at positions fixed when the node
//! is built. A [`Kernel`] is the node with the context type forgotten: its closures read their
//! operands from [`Operands`] (the context's slots, untyped) through [`Slot`]s (positions with
//! a shape but no context), and report their cotangent as a [`Pullback`] (slot ↦ tensor).
//!
//! **Why.** Generic code is compiled once per type it is used at, and in a typed graph every
//! node has its own context type `Γ ++ Ss[..k]`. Op constructors therefore build their
//! closures in functions generic only over the scalar, the environment and the shapes, and a
//! node's context type appears only in thin wrappers ([`Node::from_kernel`](crate::autograd::Node)).
//! This keeps the machine code of an N-node graph linear in N with a small constant, which is
//! what the compile-time targets of the performance issue measure.
//!
//! **Mathematics.** Nothing changes: a kernel denotes the same map `f : Π_{S ∈ Γ} A^{size S} →
//! A^{size τ}` and its derivatives; reading slot `p` of the context is the projection `π_p`.

use core::marker::PhantomData;
use std::borrow::Cow;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::scalar::Element;
use crate::shape::Shape;
use crate::tensor::{Owned, Tensor, TensorBase, TensorView};

/// A position in a context holding shape `S`, with the context's type forgotten (what a
/// kernel reads; obtained from a checked [`Idx`](crate::Idx) by `Idx::slot`).
pub(crate) struct Slot<S> {
    pos: usize,
    marker: PhantomData<fn() -> S>,
}

impl<S> Clone for Slot<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Slot<S> {}

impl<S> Slot<S> {
    /// A slot at `pos`; the caller has checked that the context holds an `S` there.
    pub(crate) fn new(pos: usize) -> Self {
        Slot {
            pos,
            marker: PhantomData,
        }
    }

    /// The position (0-based).
    pub(crate) fn pos(self) -> usize {
        self.pos
    }
}

/// The slots a kernel reads, and which cotangents its VJP is asked for.
///
/// The slots are the whole context (`dense`) or only the operands as `(position, buffer)`
/// pairs (`sparse`, used to evaluate a kernel on a few boxed slots). A VJP may skip the
/// contribution to a slot for which [`Operands::wants`] is false: reverse mode restricted to
/// some inputs ([`GraphData::backprop_prefix`](crate::autograd::GraphData::backprop_prefix))
/// discards it anyway.
pub(crate) struct Operands<'a, A> {
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

impl<'a, A> Operands<'a, A> {
    /// Every slot of the context, in order; every cotangent wanted.
    #[inline]
    pub(crate) fn dense(all: &'a [Owned<A>]) -> Self {
        Operands {
            slots: SlotsRef::Dense(all),
            wanted: None,
        }
    }

    /// At least every slot the kernel reads, as `(position, buffer)` pairs.
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
    pub(crate) fn wants<S>(self, slot: Slot<S>) -> bool {
        self.wanted.is_none_or(|w| w[slot.pos])
    }

    /// The tensor at `slot` (the projection `π_slot`).
    #[inline]
    pub(crate) fn get<S: Shape>(self, slot: Slot<S>) -> TensorView<'a, A, S> {
        let buf = match self.slots {
            SlotsRef::Dense(all) => &all[slot.pos],
            SlotsRef::Sparse(some) => {
                &some
                    .iter()
                    .find(|(p, _)| *p == slot.pos)
                    .expect("a sparse operand list holds every slot the kernel reads")
                    .1
            }
        };
        TensorBase::from_data_unchecked(buf.0.as_slice())
    }
}

/// A node's contributions to its context's cotangent, slot by slot (inline for up to two
/// operands, the common case, so a reverse step through a library op allocates no list).
pub(crate) type Contribs<A> = SmallVec<[(usize, Owned<A>); 2]>;

/// A kernel's cotangent: the dense context that is zero except at the listed slots (the
/// context-free form of [`Cotangent`](crate::autograd::Cotangent)). Adding twice at one slot
/// adds the tensors (an operand read twice).
pub(crate) struct Pullback<A>(pub(crate) Contribs<A>);

impl<A: Element> Pullback<A> {
    /// `value` at `slot`, zero elsewhere.
    pub(crate) fn single<S: Shape>(slot: Slot<S>, value: Tensor<A, S>) -> Self {
        let mut entries = Contribs::new();
        entries.push((slot.pos, value.into_data()));
        Pullback(entries)
    }

    /// No contribution (every slot zero).
    pub(crate) fn none() -> Self {
        Pullback(Contribs::new())
    }

    /// Adds `value()` at `slot` if the VJP is asked for that slot (see [`Operands::wants`]).
    pub(crate) fn with_if<S: Shape>(
        self,
        ctx: Operands<'_, A>,
        slot: Slot<S>,
        value: impl FnOnce() -> Tensor<A, S>,
    ) -> Self {
        if ctx.wants(slot) {
            self.with(slot, value())
        } else {
            self
        }
    }

    /// Adds `value` at `slot`.
    pub(crate) fn with<S: Shape>(mut self, slot: Slot<S>, value: Tensor<A, S>) -> Self {
        let value = value.into_data();
        match self.0.iter_mut().find(|(p, _)| *p == slot.pos) {
            Some((_, old)) => old.add_assign(&value),
            None => self.0.push((slot.pos, value)),
        }
        self
    }
}

/// The three maps of a kernel over untyped operands.
pub(crate) trait KernelFns<A, D>: Send + Sync {
    /// `forward x d`.
    fn forward(&self, x: Operands<'_, A>, d: &D) -> Owned<A>;
    /// `jvp x dx d`.
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, d: &D) -> Owned<A>;
    /// `vjp x d δ`, sparse.
    fn vjp(&self, x: Operands<'_, A>, d: &D, seed: Owned<A>) -> Contribs<A>;
}

struct Closures<F, J, V, T> {
    forward: F,
    jvp: J,
    vjp: V,
    out: PhantomData<fn() -> T>,
}

impl<A, D, T, F, J, V> KernelFns<A, D> for Closures<F, J, V, T>
where
    T: Shape,
    F: Fn(Operands<'_, A>, &D) -> Tensor<A, T> + Send + Sync,
    J: Fn(Operands<'_, A>, Operands<'_, A>, &D) -> Tensor<A, T> + Send + Sync,
    V: Fn(Operands<'_, A>, &D, &Tensor<A, T>) -> Pullback<A> + Send + Sync,
{
    #[inline]
    fn forward(&self, x: Operands<'_, A>, d: &D) -> Owned<A> {
        (self.forward)(x, d).into_data()
    }
    #[inline]
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, d: &D) -> Owned<A> {
        (self.jvp)(x, dx, d).into_data()
    }
    #[inline]
    fn vjp(&self, x: Operands<'_, A>, d: &D, seed: Owned<A>) -> Contribs<A> {
        (self.vjp)(x, d, &Tensor::from_data_unchecked(seed)).0
    }
}

/// A node with its context type forgotten and output shape `T`: name, the slots it reads,
/// and its forward, JVP and VJP over untyped operands.
pub(crate) struct Kernel<A, D, T> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) reads: SmallVec<[usize; 4]>,
    pub(crate) fns: Arc<dyn KernelFns<A, D>>,
    out: PhantomData<fn() -> T>,
}

impl<A, D, T: Shape> Kernel<A, D, T> {
    /// A kernel reading the slots `reads` from its three closures.
    pub(crate) fn new(
        name: &'static str,
        reads: &[usize],
        forward: impl Fn(Operands<'_, A>, &D) -> Tensor<A, T> + Send + Sync + 'static,
        jvp: impl Fn(Operands<'_, A>, Operands<'_, A>, &D) -> Tensor<A, T> + Send + Sync + 'static,
        vjp: impl Fn(Operands<'_, A>, &D, &Tensor<A, T>) -> Pullback<A> + Send + Sync + 'static,
    ) -> Self {
        let mut slots: SmallVec<[usize; 4]> = SmallVec::new();
        for &p in reads {
            if !slots.contains(&p) {
                slots.push(p);
            }
        }
        Kernel {
            name: Cow::Borrowed(name),
            reads: slots,
            fns: Arc::new(Closures {
                forward,
                jvp,
                vjp,
                out: PhantomData,
            }),
            out: PhantomData,
        }
    }
}
