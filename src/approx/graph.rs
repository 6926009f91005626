//! Forward and reverse runtime-approximation graphs and their semantics.
//!
//! **Mathematics.** Over the snoc-list of nodes, three forward recursions run side by side,
//! node `k` reading the context built so far: `eval_spec (snoc g n) xS = snoc c (n.forward_spec
//! c)` with `c = eval_spec g xS`, the same for `eval_runtime` with `forward_runtime`, and
//! `eval_bounds (snoc g n) ε xR = snoc e (n.bound e c)` with `e = eval_bounds g ε xR` and
//! `c = eval_runtime g xR`. Induction on the nodes, with each node's soundness, gives Lean's
//! `eval_approx`: `approx_ctx xS xR ε → approx_ctx (eval_spec xS) (eval_runtime xR)
//! (eval_bounds ε xR)`. Reverse mode follows `backpropCtx`: last node first, the output's seed
//! is pulled back by the node's spec and runtime VJPs and its VJP bound, and added to the
//! earlier seeds, each addition bounded by an [`AddBound`]; by the same induction,
//! `backprop_approx`: inputs and seeds within their bounds give
//! `approx_ctx (backprop_spec xS δS) (backprop_runtime xR δR) (backprop_bounds ε xR εδ δR)`.

use core::fmt;
use core::marker::PhantomData;
use std::borrow::Cow;
use std::sync::Arc;

use frunk::HNil;
use smallvec::SmallVec;

use crate::approx::add_bound::{AddBound, CtxAddBound};
use crate::approx::elist::EList;
use crate::approx::node::{
    BoundEntries, EContrib, FwdNode, RevNode, SideKernels, lifted_bound, lifted_vjp_bound,
};
use crate::approx::round::RuntimeFloat;
use crate::approx::spec::SpecScalar;
use crate::autograd::engine::{self, ReverseAccumulator, Slots};
use crate::autograd::kernel::Contribs;
use crate::shape::Shape;
use crate::shape_list::{Cat, ExpectsContext, ShapeList, Snoc};
use crate::tensor::{Data, Owned, Tensor, TensorView};
use crate::tlist::TList;

type ErasedSpec<P> = dyn Fn(&mut Slots<P>) -> Owned<P> + Send + Sync;
pub(crate) type ErasedRt<R> = dyn Fn(&mut Slots<R>) -> Owned<R> + Send + Sync;
type ErasedBound<R> = dyn Fn(&mut Vec<f64>, &mut Slots<R>, &Owned<R>) -> f64 + Send + Sync;
pub(crate) type ErasedJvp<R> = dyn Fn(&mut Slots<R>, &mut Slots<R>) -> Owned<R> + Send + Sync;
pub(crate) type ErasedVjp<A> = dyn Fn(&mut Slots<A>, Owned<A>) -> Contribs<A> + Send + Sync;
type ErasedVjpBound<R> = dyn Fn(&mut Vec<f64>, &mut Slots<R>, f64, &Owned<R>, &[(usize, Owned<R>)]) -> Vec<(usize, f64)>
    + Send
    + Sync;

/// Runs `f` on `eps` viewed as an `EList<G>` (moved in and back out).
fn with_eps<G, O>(eps: &mut Vec<f64>, f: impl FnOnce(&EList<G>) -> O) -> O {
    let e = EList::<G>::from_vec_unchecked(core::mem::take(eps));
    let out = f(&e);
    *eps = e.into_vec();
    out
}

/// How an erased node runs its spec and runtime maps.
// One per node, stored inline in the graph's node vector: boxing the kernels would add a
// pointer chase to every node call of every pass.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Maps<R, P> {
    /// One op at both scalars (library ops): its erased nodes, called on the slots directly.
    Kernels(SideKernels<R, P>),
    /// The node's own closures over the typed context (nodes built by `FwdNode::new` or
    /// `RevNode::new`); the VJP parts are `None` for a forward node.
    Closures {
        forward_spec: Arc<ErasedSpec<P>>,
        forward_runtime: Arc<ErasedRt<R>>,
        vjp: Option<ClosureVjps<R, P>>,
    },
}

/// The reverse-mode closures of a `RevNode::new` node, erased.
pub(crate) struct ClosureVjps<R, P> {
    pub(crate) jvp_runtime: Arc<ErasedJvp<R>>,
    vjp_spec: Arc<ErasedVjp<P>>,
    pub(crate) vjp_runtime: Arc<ErasedVjp<R>>,
}

impl<R, P> Clone for ClosureVjps<R, P> {
    fn clone(&self) -> Self {
        ClosureVjps {
            jvp_runtime: Arc::clone(&self.jvp_runtime),
            vjp_spec: Arc::clone(&self.vjp_spec),
            vjp_runtime: Arc::clone(&self.vjp_runtime),
        }
    }
}

impl<R, P> Clone for Maps<R, P> {
    fn clone(&self) -> Self {
        match self {
            Maps::Kernels(k) => Maps::Kernels(k.clone()),
            Maps::Closures {
                forward_spec,
                forward_runtime,
                vjp,
            } => Maps::Closures {
                forward_spec: Arc::clone(forward_spec),
                forward_runtime: Arc::clone(forward_runtime),
                vjp: vjp.clone(),
            },
        }
    }
}

pub(crate) struct ErasedFwd<R, P> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) out_dims: Vec<usize>,
    pub(crate) maps: Maps<R, P>,
    bound: Arc<ErasedBound<R>>,
}

impl<R, P> Clone for ErasedFwd<R, P> {
    fn clone(&self) -> Self {
        ErasedFwd {
            name: self.name.clone(),
            out_dims: self.out_dims.clone(),
            maps: self.maps.clone(),
            bound: Arc::clone(&self.bound),
        }
    }
}

impl<R, P> ErasedFwd<R, P> {
    /// `forward_spec` on the evaluated spec context.
    pub(crate) fn forward_spec(&self, vals: &mut Slots<P>) -> Owned<P> {
        match &self.maps {
            Maps::Kernels(k) => k.spec.forward(vals, &()),
            Maps::Closures { forward_spec, .. } => forward_spec(vals),
        }
    }

    /// `forward_runtime` on the evaluated runtime context.
    pub(crate) fn forward_runtime(&self, vals: &mut Slots<R>) -> Owned<R> {
        match &self.maps {
            Maps::Kernels(k) => k.runtime.forward(vals, &()),
            Maps::Closures {
                forward_runtime, ..
            } => forward_runtime(vals),
        }
    }
}

impl<R: RuntimeFloat, P> ErasedFwd<R, P> {
    /// The node's bound transformer on the erased context (`eps` one bound per slot) and the
    /// runtime output `y`: computed directly for a lifted node, else by its closure.
    pub(crate) fn bound(&self, eps: &mut Vec<f64>, vals: &mut Slots<R>, y: &Owned<R>) -> f64 {
        match &self.maps {
            Maps::Kernels(SideKernels {
                enclosure: Some(enc),
                ..
            }) => lifted_bound(enc, eps, vals, y.as_slice()),
            _ => (self.bound)(eps, vals, y),
        }
    }
}

impl<R: 'static, P: 'static, G: ShapeList, T: Shape> FwdNode<R, P, G, T> {
    fn erase(self) -> ErasedFwd<R, P> {
        self.erase_with(|| None)
    }

    /// Erases the node; `vjp` gives the erased reverse-mode closures of a `RevNode::new` node
    /// (not called for a node with kernels).
    fn erase_with(self, vjp: impl FnOnce() -> Option<ClosureVjps<R, P>>) -> ErasedFwd<R, P> {
        let FwdNode {
            name,
            forward_spec,
            forward_runtime,
            bound,
            kernels,
        } = self;
        let maps = match kernels {
            Some(k) => Maps::Kernels(k),
            None => Maps::Closures {
                forward_spec: Arc::new(move |vals| {
                    TList::<P, G>::lend(vals, |c| forward_spec(c).into_data())
                }),
                forward_runtime: Arc::new(move |vals| {
                    TList::<R, G>::lend(vals, |c| forward_runtime(c).into_data())
                }),
                vjp: vjp(),
            },
        };
        ErasedFwd {
            name,
            out_dims: T::dims().to_vec(),
            maps,
            bound: Arc::new(move |eps, vals, y| {
                with_eps::<G, _>(eps, |e| {
                    TList::<R, G>::lend(vals, |c| {
                        bound(e, c, TensorView::from_data_unchecked(y.as_slice()))
                    })
                })
            }),
        }
    }
}

pub(crate) struct ErasedRev<R, P> {
    pub(crate) fwd: ErasedFwd<R, P>,
    vjp_bound: Arc<ErasedVjpBound<R>>,
}

impl<R, P> Clone for ErasedRev<R, P> {
    fn clone(&self) -> Self {
        ErasedRev {
            fwd: self.fwd.clone(),
            vjp_bound: Arc::clone(&self.vjp_bound),
        }
    }
}

impl<R, P> ErasedRev<R, P> {
    /// The slots the node reads, when recorded: for a node built from one op, that op's
    /// operands, which are also the only slots its bound transformers read.
    pub(crate) fn reads(&self) -> Option<&[usize]> {
        match &self.fwd.maps {
            Maps::Kernels(k) => k.runtime.reads.as_deref(),
            Maps::Closures { .. } => None,
        }
    }

    /// The reverse-mode closures of a `RevNode::new` node (a node without kernels).
    pub(crate) fn closures(&self) -> &ClosureVjps<R, P> {
        match &self.fwd.maps {
            Maps::Closures { vjp: Some(v), .. } => v,
            _ => unreachable!("a reverse node has kernels or reverse-mode closures"),
        }
    }

    /// `vjp_spec` on the evaluated spec context, sparse.
    pub(crate) fn vjp_spec(&self, vals: &mut Slots<P>, seed: Owned<P>) -> Contribs<P> {
        match &self.fwd.maps {
            Maps::Kernels(k) => k.spec.vjp(vals, &(), seed, None),
            Maps::Closures { .. } => (self.closures().vjp_spec)(vals, seed),
        }
    }

    /// `vjp_runtime` on the evaluated runtime context, sparse.
    pub(crate) fn vjp_runtime(&self, vals: &mut Slots<R>, seed: Owned<R>) -> Contribs<R> {
        match &self.fwd.maps {
            Maps::Kernels(k) => k.runtime.vjp(vals, &(), seed, None),
            Maps::Closures { .. } => (self.closures().vjp_runtime)(vals, seed),
        }
    }
}

impl<R: RuntimeFloat, P> ErasedRev<R, P> {
    /// The node's VJP bound transformer on the erased context, given the seed `δ̂` with its
    /// bound and the runtime contributions `c`: computed directly for a lifted node, else by
    /// its closure.
    pub(crate) fn vjp_bound(
        &self,
        eps: &mut Vec<f64>,
        vals: &mut Slots<R>,
        e_seed: f64,
        seed: &Owned<R>,
        c: &[(usize, Owned<R>)],
    ) -> BoundEntries {
        match &self.fwd.maps {
            Maps::Kernels(SideKernels {
                enclosure: Some(enc),
                ..
            }) => lifted_vjp_bound(enc, eps, vals, e_seed, seed.as_slice(), c),
            _ => BoundEntries::from_vec((self.vjp_bound)(eps, vals, e_seed, seed, c)),
        }
    }
}

impl<R: 'static, P: 'static, G: ShapeList, T: Shape> RevNode<R, P, G, T> {
    fn erase(self) -> ErasedRev<R, P> {
        let RevNode {
            fwd,
            jvp_runtime,
            vjp_spec,
            vjp_runtime,
            vjp_bound,
        } = self;
        let closures = move || {
            Some(ClosureVjps {
                jvp_runtime: Arc::new(move |vals: &mut Slots<R>, tans: &mut Slots<R>| {
                    TList::<R, G>::lend(vals, |c| {
                        TList::<R, G>::lend(tans, |t| jvp_runtime(c, t).into_data())
                    })
                }) as Arc<ErasedJvp<R>>,
                vjp_spec: Arc::new(move |vals: &mut Slots<P>, seed: Owned<P>| {
                    TList::<P, G>::lend(vals, |c| {
                        vjp_spec(c, &Tensor::<P, T>::from_data_unchecked(seed)).into_entries()
                    })
                }),
                vjp_runtime: Arc::new(move |vals: &mut Slots<R>, seed: Owned<R>| {
                    TList::<R, G>::lend(vals, |c| {
                        vjp_runtime(c, &Tensor::<R, T>::from_data_unchecked(seed)).into_entries()
                    })
                }),
            })
        };
        ErasedRev {
            fwd: fwd.erase_with(closures),
            vjp_bound: Arc::new(move |eps, vals, e_seed, seed, contribution| {
                with_eps::<G, _>(eps, |e| {
                    TList::<R, G>::lend(vals, |c| {
                        let s = TensorView::<R, T>::from_data_unchecked(seed.as_slice());
                        EContrib::into_entries(vjp_bound(e, c, e_seed, s, contribution))
                    })
                })
            }),
        }
    }
}

/// `evalBounds` in one pass: the runtime context and its bounds, slot by slot. With `needed`
/// (one flag per node), the bound of a node whose flag is off is not computed and recorded as
/// `+∞` (always sound); the caller guarantees that nothing reads it.
fn eval_certified_raw<R: RuntimeFloat, P>(
    nodes: &[&ErasedFwd<R, P>],
    mut vals: Slots<R>,
    mut eps: Vec<f64>,
    needed: Option<&[bool]>,
) -> (Slots<R>, Vec<f64>) {
    for (k, node) in nodes.iter().enumerate() {
        let y = node.forward_runtime(&mut vals);
        let e = if needed.is_none_or(|n| n[k]) {
            node.bound(&mut eps, &mut vals, &y)
        } else {
            f64::INFINITY
        };
        eps.push(e);
        vals.push(y);
    }
    (vals, eps)
}

/// Which node outputs some later node reads (`n_inputs` slots before the first output), for
/// nodes that record their operand slots; a node that does not (built from closures) may read
/// every earlier slot.
fn outputs_read_later<R, P>(n_inputs: usize, nodes: &[ErasedRev<R, P>]) -> Vec<bool> {
    let mut read = vec![false; nodes.len()];
    let mut read_all = false;
    for k in (0..nodes.len()).rev() {
        read[k] |= read_all;
        match nodes[k].reads() {
            Some(slots) => {
                for &j in slots {
                    if let Some(r) = j.checked_sub(n_inputs) {
                        read[r] = true;
                    }
                }
            }
            None => read_all = true,
        }
    }
    read
}

/// `evalBounds` following the Lean recursion: the bound of node `k` is computed from the
/// bounds of the prefix (recursively) and the runtime context of the prefix, evaluated again.
fn eval_bounds_literal_raw<R: RuntimeFloat, P>(
    nodes: &[&ErasedFwd<R, P>],
    x: &Slots<R>,
    eps_in: Vec<f64>,
) -> Vec<f64> {
    match nodes.split_last() {
        None => eps_in,
        Some((last, init)) => {
            let mut eps_prev = eval_bounds_literal_raw(init, x, eps_in);
            let mut ctx = engine::eval(x.clone(), init.len(), |k, v| init[k].forward_runtime(v));
            let y = last.forward_runtime(&mut ctx);
            let e = last.bound(&mut eps_prev, &mut ctx, &y);
            eps_prev.push(e);
            eps_prev
        }
    }
}

/// Access to the forward part of a stored node.
trait AsFwd<R, P> {
    fn as_fwd(&self) -> &ErasedFwd<R, P>;
}
impl<R, P> AsFwd<R, P> for ErasedFwd<R, P> {
    fn as_fwd(&self) -> &ErasedFwd<R, P> {
        self
    }
}
impl<R, P> AsFwd<R, P> for ErasedRev<R, P> {
    fn as_fwd(&self) -> &ErasedFwd<R, P> {
        &self.fwd
    }
}

macro_rules! forward_semantics {
    ($ty:ident) => {
        impl<R, P, G: ShapeList, Ss: ShapeList> $ty<R, P, G, Ss>
        where
            R: RuntimeFloat,
            P: SpecScalar,
        {
            fn fwd_nodes(&self) -> Vec<&ErasedFwd<R, P>> {
                self.nodes.iter().map(AsFwd::as_fwd).collect()
            }

            /// Number of nodes.
            pub fn len(&self) -> usize {
                Ss::LEN
            }

            /// Whether the graph has no nodes.
            pub fn is_empty(&self) -> bool {
                Ss::LEN == 0
            }

            /// Lean's `evalSpec`: the spec context, every node run on the spec scalar.
            pub fn eval_spec<G1>(&self, x: TList<P, G1>) -> TList<P, Cat<G, Ss>>
            where
                G: ExpectsContext<G1>,
            {
                let nodes = self.fwd_nodes();
                TList::from_items(engine::eval(x.into_items(), nodes.len(), |k, v| {
                    nodes[k].forward_spec(v)
                }))
            }

            /// Lean's `evalRuntime`: the runtime context, every node run on the runtime scalar.
            pub fn eval_runtime<G1>(&self, x: TList<R, G1>) -> TList<R, Cat<G, Ss>>
            where
                G: ExpectsContext<G1>,
            {
                let nodes = self.fwd_nodes();
                TList::from_items(engine::eval(x.into_items(), nodes.len(), |k, v| {
                    nodes[k].forward_runtime(v)
                }))
            }

            /// Lean's `evalBounds`: a bound for every slot of the evaluated context, given
            /// bounds `eps_in` on the inputs. By `eval_approx`, if the spec inputs are within
            /// `eps_in` of `x` then every slot of `eval_spec` is within its bound of
            /// `eval_runtime`. One forward pass (linear); equal bit for bit to
            /// [`Self::eval_bounds_literal`].
            pub fn eval_bounds<G1>(&self, eps_in: EList<G>, x: TList<R, G1>) -> EList<Cat<G, Ss>>
            where
                G: ExpectsContext<G1>,
            {
                EList::from_vec_unchecked(
                    eval_certified_raw(&self.fwd_nodes(), x.into_items(), eps_in.into_vec(), None)
                        .1,
                )
            }

            /// Lean's `evalBounds` following its recursion literally (the runtime prefix is
            /// evaluated again for every node: quadratic). The reference for `eval_bounds`.
            pub fn eval_bounds_literal<G1>(
                &self,
                eps_in: EList<G>,
                x: TList<R, G1>,
            ) -> EList<Cat<G, Ss>>
            where
                G: ExpectsContext<G1>,
            {
                EList::from_vec_unchecked(eval_bounds_literal_raw(
                    &self.fwd_nodes(),
                    &x.into_items(),
                    eps_in.into_vec(),
                ))
            }

            /// `eval_runtime` and `eval_bounds` together, in one pass.
            pub fn eval_certified<G1>(
                &self,
                eps_in: EList<G>,
                x: TList<R, G1>,
            ) -> (TList<R, Cat<G, Ss>>, EList<Cat<G, Ss>>)
            where
                G: ExpectsContext<G1>,
            {
                let (v, e) =
                    eval_certified_raw(&self.fwd_nodes(), x.into_items(), eps_in.into_vec(), None);
                (TList::from_items(v), EList::from_vec_unchecked(e))
            }

            /// The display names of the nodes, in order.
            pub fn node_names(&self) -> impl Iterator<Item = &str> {
                self.nodes.iter().map(|n| &*n.as_fwd().name)
            }
        }
    };
}

/// A forward runtime-approximation graph (Lean's `FwdGraph toSpec Γ ss`): a snoc-list of
/// [`FwdNode`]s where node `k` reads `G ++ Ss[..k]`; runtime scalar `R`, spec scalar `P`.
pub struct FwdGraph<R, P, G, Ss> {
    nodes: Vec<ErasedFwd<R, P>>,
    marker: PhantomData<fn() -> (G, Ss)>,
}

impl<R, P, G, Ss> Clone for FwdGraph<R, P, G, Ss> {
    fn clone(&self) -> Self {
        FwdGraph {
            nodes: self.nodes.clone(),
            marker: PhantomData,
        }
    }
}

impl<R, P, G, Ss> fmt::Debug for FwdGraph<R, P, G, Ss> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.nodes.iter().map(|n| &n.name))
            .finish()
    }
}

impl<R, P, G: ShapeList> FwdGraph<R, P, G, HNil> {
    /// The empty graph over the inputs `G`.
    pub fn nil() -> Self {
        FwdGraph {
            nodes: Vec::new(),
            marker: PhantomData,
        }
    }
}

impl<R: 'static, P: 'static, G: ShapeList, Ss: ShapeList> FwdGraph<R, P, G, Ss> {
    /// Appends a node reading the context `G ++ Ss` (Lean's `FwdGraph.snoc`).
    pub fn snoc<G2: ShapeList, T: Shape>(
        mut self,
        node: impl Into<FwdNode<R, P, G2, T>>,
    ) -> FwdGraph<R, P, G, Snoc<Ss, T>>
    where
        Cat<G, Ss>: ExpectsContext<G2>,
    {
        self.nodes.push(node.into().erase());
        FwdGraph {
            nodes: self.nodes,
            marker: PhantomData,
        }
    }
}

forward_semantics!(FwdGraph);

/// A reverse runtime-approximation graph (Lean's `RevGraph toSpec Γ ss`): a snoc-list of
/// [`RevNode`]s where node `k` reads `G ++ Ss[..k]`; runtime scalar `R`, spec scalar `P`.
///
/// Besides the forward semantics of [`FwdGraph`] it has `backprop_spec`, `backprop_runtime`
/// and `backprop_bounds`, related by `backprop_approx`, and it erases to an executable
/// [`GraphData`](crate::autograd::GraphData) (see [`crate::link`]).
pub struct RevGraph<R, P, G, Ss> {
    pub(crate) nodes: Vec<ErasedRev<R, P>>,
    marker: PhantomData<fn() -> (G, Ss)>,
}

impl<R, P, G, Ss> Clone for RevGraph<R, P, G, Ss> {
    fn clone(&self) -> Self {
        RevGraph {
            nodes: self.nodes.clone(),
            marker: PhantomData,
        }
    }
}

impl<R, P, G, Ss> fmt::Debug for RevGraph<R, P, G, Ss> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.nodes.iter().map(|n| &n.fwd.name))
            .finish()
    }
}

impl<R, P, G: ShapeList> RevGraph<R, P, G, HNil> {
    /// The empty graph over the inputs `G` (name the types: `RevGraph::<f32, f64, G, HNil>::nil()`).
    pub fn nil() -> Self {
        RevGraph {
            nodes: Vec::new(),
            marker: PhantomData,
        }
    }
}

impl<R: 'static, P: 'static, G: ShapeList, Ss: ShapeList> RevGraph<R, P, G, Ss> {
    /// Appends a node reading the context `G ++ Ss` (Lean's `RevGraph.snoc`).
    pub fn snoc<G2: ShapeList, T: Shape>(
        mut self,
        node: RevNode<R, P, G2, T>,
    ) -> RevGraph<R, P, G, Snoc<Ss, T>>
    where
        Cat<G, Ss>: ExpectsContext<G2>,
    {
        self.nodes.push(node.erase());
        RevGraph {
            nodes: self.nodes,
            marker: PhantomData,
        }
    }

    /// Forgets the VJP parts (Lean's `RevGraph.toFwdGraph`).
    pub fn to_fwd_graph(&self) -> FwdGraph<R, P, G, Ss> {
        FwdGraph {
            nodes: self.nodes.iter().map(|n| n.fwd.clone()).collect(),
            marker: PhantomData,
        }
    }
}

forward_semantics!(RevGraph);

/// A VJP contribution to one slot and its bound (`None`: an exactly-zero tensor).
type Contribution<R> = (Option<Owned<R>>, f64);

/// Seeds and their bounds, for `backpropBounds`.
struct BoundAccumulator<'a, R, P, B> {
    nodes: &'a [ErasedRev<R, P>],
    vals: Slots<R>,
    eps: Vec<f64>,
    seed: Slots<R>,
    seed_eps: Vec<f64>,
    add_bound: &'a B,
}

impl<R, P, B> ReverseAccumulator for BoundAccumulator<'_, R, P, B>
where
    R: RuntimeFloat,
    B: AddBound<R>,
{
    type Contribution = Contribution<R>;
    type Pulled = SmallVec<[(usize, Contribution<R>); 2]>;
    fn len(&self) -> usize {
        self.seed.len()
    }
    fn add_zeros(&mut self, slot: usize, times: usize) {
        if times > 0 {
            self.seed_eps[slot] =
                self.add_bound
                    .add_zeros(self.seed_eps[slot], &self.seed[slot].0, times);
            self.seed[slot].add_zero();
        }
    }
    fn pop_and_pull(&mut self, k: usize) -> Self::Pulled {
        self.vals.pop();
        self.eps.pop();
        let seed_out = self.seed.pop().expect("the seed covers every slot");
        let e_out = self
            .seed_eps
            .pop()
            .expect("the seed bounds cover every slot");
        let node = &self.nodes[k];
        let values = node.vjp_runtime(&mut self.vals, seed_out.clone());
        let bounds = node.vjp_bound(&mut self.eps, &mut self.vals, e_out, &seed_out, &values);
        merge_contributions(values, bounds)
    }
    fn add(&mut self, slot: usize, (c, e): Self::Contribution) {
        let c = c.unwrap_or_else(|| Owned::zeros(self.seed[slot].len()));
        self.seed_eps[slot] = self
            .add_bound
            .add(self.seed_eps[slot], e, &self.seed[slot].0, &c.0);
        self.seed[slot].add_assign(&c);
    }
}

/// Pairs the runtime contributions with their bounds; a slot in only one list gets a zero
/// tensor or a zero bound for the other.
fn merge_contributions<R>(
    values: Contribs<R>,
    bounds: BoundEntries,
) -> SmallVec<[(usize, Contribution<R>); 2]> {
    let mut out: SmallVec<[(usize, Contribution<R>); 2]> = values
        .into_iter()
        .map(|(p, v)| (p, (Some(v), 0.0)))
        .collect();
    for (p, e) in bounds {
        match out.iter_mut().find(|(q, _)| *q == p) {
            Some((_, (_, old))) => *old = e,
            None => out.push((p, (None, e))),
        }
    }
    out
}

impl<R, P, G: ShapeList, Ss: ShapeList> RevGraph<R, P, G, Ss>
where
    R: RuntimeFloat,
    P: SpecScalar,
{
    /// Lean's `backpropSpec`: reverse mode on the spec side (linear-time sweep).
    pub fn backprop_spec<G1, G2>(&self, x: TList<P, G1>, seed: TList<P, G2>) -> TList<P, G>
    where
        G: ExpectsContext<G1>,
        Cat<G, Ss>: ExpectsContext<G2>,
    {
        let vals = self.eval_spec(x).into_items();
        TList::from_items(engine::backprop_all(
            vals,
            seed.into_items(),
            self.nodes.len(),
            |k, v, s| self.nodes[k].vjp_spec(v, s),
        ))
    }

    /// Lean's `backpropSpec` following the recursion literally (quadratic).
    pub fn backprop_spec_literal<G1, G2>(&self, x: TList<P, G1>, seed: TList<P, G2>) -> TList<P, G>
    where
        G: ExpectsContext<G1>,
        Cat<G, Ss>: ExpectsContext<G2>,
    {
        TList::from_items(engine::backprop_literal(
            x.into_items(),
            seed.into_items(),
            self.nodes.len(),
            |k, v| self.nodes[k].fwd.forward_spec(v),
            |k, v, s| self.nodes[k].vjp_spec(v, s),
        ))
    }

    /// Lean's `backpropRuntime`: reverse mode on the runtime side (linear-time sweep, equal bit
    /// for bit to [`Self::backprop_runtime_literal`]).
    pub fn backprop_runtime<G1, G2>(&self, x: TList<R, G1>, seed: TList<R, G2>) -> TList<R, G>
    where
        G: ExpectsContext<G1>,
        Cat<G, Ss>: ExpectsContext<G2>,
    {
        let vals = self.eval_runtime(x).into_items();
        TList::from_items(engine::backprop_all(
            vals,
            seed.into_items(),
            self.nodes.len(),
            |k, v, s| self.nodes[k].vjp_runtime(v, s),
        ))
    }

    /// Lean's `backpropRuntime` following the recursion literally (quadratic).
    pub fn backprop_runtime_literal<G1, G2>(
        &self,
        x: TList<R, G1>,
        seed: TList<R, G2>,
    ) -> TList<R, G>
    where
        G: ExpectsContext<G1>,
        Cat<G, Ss>: ExpectsContext<G2>,
    {
        TList::from_items(engine::backprop_literal(
            x.into_items(),
            seed.into_items(),
            self.nodes.len(),
            |k, v| self.nodes[k].fwd.forward_runtime(v),
            |k, v, s| self.nodes[k].vjp_runtime(v, s),
        ))
    }

    /// Lean's `backpropBounds` with the default context-add bound [`CtxAddBound`]: by
    /// `backprop_approx`, if the spec inputs are within `eps_in` of `x` and the spec seed within
    /// `eps_seed` of `seed`, every input slot of `backprop_spec` is within its bound of
    /// `backprop_runtime`.
    pub fn backprop_bounds<G1, G2>(
        &self,
        eps_in: EList<G>,
        x: TList<R, G1>,
        eps_seed: EList<Cat<G, Ss>>,
        seed: TList<R, G2>,
    ) -> EList<G>
    where
        G: ExpectsContext<G1>,
        Cat<G, Ss>: ExpectsContext<G2>,
    {
        self.backprop_certified_with(eps_in, x, eps_seed, seed, &CtxAddBound)
            .1
    }

    /// `backprop_runtime` and `backprop_bounds` in one linear-time sweep, with a pluggable
    /// add bound (Lean's `addBound` parameter).
    pub fn backprop_certified_with<G1, G2, B: AddBound<R>>(
        &self,
        eps_in: EList<G>,
        x: TList<R, G1>,
        eps_seed: EList<Cat<G, Ss>>,
        seed: TList<R, G2>,
        add_bound: &B,
    ) -> (TList<R, G>, EList<G>)
    where
        G: ExpectsContext<G1>,
        Cat<G, Ss>: ExpectsContext<G2>,
    {
        let fwd: Vec<&ErasedFwd<R, P>> = self.nodes.iter().map(|n| &n.fwd).collect();
        // The reverse sweep reads the forward bound of a slot only through the VJP bounds of
        // the nodes reading it: the others (the loss's, typically) are not computed.
        let needed = outputs_read_later(G::LEN, &self.nodes);
        let (vals, eps) =
            eval_certified_raw(&fwd, x.into_items(), eps_in.into_vec(), Some(&needed));
        let mut acc = BoundAccumulator {
            nodes: &self.nodes,
            vals,
            eps,
            seed: seed.into_items(),
            seed_eps: eps_seed.into_vec(),
            add_bound,
        };
        engine::reverse_sweep(self.nodes.len(), &mut acc);
        (
            TList::from_items(acc.seed),
            EList::from_vec_unchecked(acc.seed_eps),
        )
    }

    /// `backprop_runtime` and `backprop_bounds` with the default add bound.
    pub fn backprop_certified<G1, G2>(
        &self,
        eps_in: EList<G>,
        x: TList<R, G1>,
        eps_seed: EList<Cat<G, Ss>>,
        seed: TList<R, G2>,
    ) -> (TList<R, G>, EList<G>)
    where
        G: ExpectsContext<G1>,
        Cat<G, Ss>: ExpectsContext<G2>,
    {
        self.backprop_certified_with(eps_in, x, eps_seed, seed, &CtxAddBound)
    }

    /// Lean's `backpropBounds g epsIn xR epsSeed seedR addBound` following the recursion
    /// literally: for every node the runtime prefix and its bounds are evaluated again
    /// (`eval_bounds_literal`, itself quadratic: cubic in all), and the add bound is applied to
    /// every slot with the dense contribution. The reference for `backprop_certified_with`.
    pub fn backprop_bounds_literal<G1, G2, B: AddBound<R>>(
        &self,
        eps_in: EList<G>,
        x: TList<R, G1>,
        eps_seed: EList<Cat<G, Ss>>,
        seed: TList<R, G2>,
        add_bound: &B,
    ) -> EList<G>
    where
        G: ExpectsContext<G1>,
        Cat<G, Ss>: ExpectsContext<G2>,
    {
        let x = x.into_items();
        let eps_in = eps_in.into_vec();
        let mut seed = seed.into_items();
        let mut eps_seed = eps_seed.into_vec();
        for k in (0..self.nodes.len()).rev() {
            let seed_out = seed.pop().expect("the seed covers every slot");
            let e_out = eps_seed.pop().expect("the seed bounds cover every slot");
            let fwd: Vec<&ErasedFwd<R, P>> = self.nodes[..k].iter().map(|n| &n.fwd).collect();
            let mut ctx = engine::eval(x.clone(), k, |j, v| fwd[j].forward_runtime(v));
            let mut eps_ctx = eval_bounds_literal_raw(&fwd, &x, eps_in.clone());
            let node = &self.nodes[k];
            let values = node.vjp_runtime(&mut ctx, seed_out.clone());
            let bounds = node.vjp_bound(&mut eps_ctx, &mut ctx, e_out, &seed_out, &values);
            let sizes: Vec<usize> = ctx.iter().map(Owned::len).collect();
            let dense = engine::densify(sizes.into_iter(), values);
            let mut dense_eps = vec![0.0; ctx.len()];
            for (p, e) in bounds {
                dense_eps[p] = e;
            }
            for j in 0..seed.len() {
                eps_seed[j] = add_bound.add(eps_seed[j], dense_eps[j], &seed[j].0, &dense[j].0);
                seed[j].add_assign(&dense[j]);
            }
        }
        EList::from_vec_unchecked(eps_seed)
    }
}
