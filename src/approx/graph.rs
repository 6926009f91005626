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

use frunk::HNil;
use smallvec::SmallVec;

use crate::approx::add_bound::{AddBound, CtxAddBound};
use crate::approx::elist::EList;
use crate::approx::node::{CertNode, Certifiable, FwdNode, RevNode, certify_op};
use crate::approx::round::RuntimeFloat;
use crate::approx::spec::SpecScalar;
use crate::autograd::builder::{Admits, GraphKind, build_entry_points};
use crate::autograd::engine::{self, ReverseAccumulator, Slots};
use crate::autograd::op::{Contribs, Operands, Pullback};
use crate::autograd::{GraphNode, NodeOver};
use crate::internal::{FwdBody, OpBody, RevBody};
use crate::shape::Shape;
use crate::shape_list::{Cat, ExpectsContext, SeedContext, ShapeList, Snoc};
use crate::tensor::Owned;
use crate::tlist::TList;

/// The certified builder kind of a [`RevGraph<R, P, …>`]: accepts ops that are
/// [`Certifiable<R, P>`] and [`RevNode`]s.
pub struct RevKind<R, P>(PhantomData<fn() -> (R, P)>);

/// The certified builder kind of a [`FwdGraph<R, P, …>`]: accepts ops that are
/// [`Certifiable<R, P>`], [`RevNode`]s and [`FwdNode`]s.
pub struct FwdKind<R, P>(PhantomData<fn() -> (R, P)>);

impl<R, P> fmt::Debug for RevKind<R, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RevKind")
    }
}
impl<R, P> fmt::Debug for FwdKind<R, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FwdKind")
    }
}

impl<R, P> GraphKind for RevKind<R, P> {
    type Graph<G, Ss> = RevGraph<R, P, G, Ss>;
    type Stored = CertNode<R, P>;
    fn finish<G, Ss>(nodes: Vec<CertNode<R, P>>) -> RevGraph<R, P, G, Ss> {
        RevGraph {
            nodes,
            marker: PhantomData,
        }
    }
}
impl<R, P> GraphKind for FwdKind<R, P> {
    type Graph<G, Ss> = FwdGraph<R, P, G, Ss>;
    type Stored = CertNode<R, P>;
    fn finish<G, Ss>(nodes: Vec<CertNode<R, P>>) -> FwdGraph<R, P, G, Ss> {
        FwdGraph {
            nodes,
            marker: PhantomData,
        }
    }
}

impl<R: RuntimeFloat, P: SpecScalar, K: Certifiable<R, P>> Admits<OpBody<K>, CertNode<R, P>>
    for RevKind<R, P>
{
    #[inline]
    fn admit(body: OpBody<K>) -> CertNode<R, P> {
        certify_op(body.0)
    }
}
impl<R: RuntimeFloat, P: SpecScalar, K: Certifiable<R, P>> Admits<OpBody<K>, CertNode<R, P>>
    for FwdKind<R, P>
{
    #[inline]
    fn admit(body: OpBody<K>) -> CertNode<R, P> {
        certify_op(body.0)
    }
}
impl<R, P> Admits<RevBody<R, P>, CertNode<R, P>> for RevKind<R, P> {
    #[inline]
    fn admit(body: RevBody<R, P>) -> CertNode<R, P> {
        body.0
    }
}
impl<R, P> Admits<RevBody<R, P>, CertNode<R, P>> for FwdKind<R, P> {
    #[inline]
    fn admit(body: RevBody<R, P>) -> CertNode<R, P> {
        body.0
    }
}
impl<R, P> Admits<FwdBody<R, P>, CertNode<R, P>> for FwdKind<R, P> {
    #[inline]
    fn admit(body: FwdBody<R, P>) -> CertNode<R, P> {
        body.0
    }
}

impl<R, P, C: ShapeList, T: Shape> GraphNode for RevNode<R, P, C, T> {
    type Ctx = C;
    type Out = T;
    type Body = RevBody<R, P>;
    fn into_body(self) -> RevBody<R, P> {
        RevBody(self.fwd.node)
    }
}
impl<R, P, C: ShapeList, T: Shape> GraphNode for FwdNode<R, P, C, T> {
    type Ctx = C;
    type Out = T;
    type Body = FwdBody<R, P>;
    fn into_body(self) -> FwdBody<R, P> {
        FwdBody(self.node)
    }
}

build_entry_points!(RevGraph<R, P>, RevKind<R, P>, "a certified reverse graph");
build_entry_points!(FwdGraph<R, P>, FwdKind<R, P>, "a certified forward graph");

/// Every slot holding a NaN or ±∞ gets the bound +∞ (a finite bound would claim a distance
/// to a non-real value).
pub(crate) fn infinite_where_not_finite<R: RuntimeFloat>(vals: &[Owned<R>], eps: &mut [f64]) {
    for (v, e) in vals.iter().zip(eps.iter_mut()) {
        if !R::all_finite(&v.0) {
            *e = f64::INFINITY;
        }
    }
}

/// `evalBounds` in one pass: the runtime context and its bounds, slot by slot. With `needed`
/// (one flag per node), the bound of a node whose flag is off is not computed and recorded as
/// `+∞` (always sound); the caller guarantees that nothing reads it.
pub(crate) fn eval_certified_raw<R: RuntimeFloat, P>(
    nodes: &[CertNode<R, P>],
    mut vals: Slots<R>,
    mut eps: Vec<f64>,
    needed: Option<&[bool]>,
) -> (Slots<R>, Vec<f64>) {
    if needed.is_none() {
        // The input slots' bounds are returned: a NaN or ±∞ there gets +∞. (Inside reverse
        // mode, with `needed`, they are read only by the bounds of the nodes reading them,
        // which give +∞ for a non-finite operand themselves.)
        infinite_where_not_finite(&vals, &mut eps);
    }
    for (k, node) in nodes.iter().enumerate() {
        let y = node.forward(Operands::dense(&vals));
        let e = if needed.is_none_or(|n| n[k]) {
            node.fns.bound(&eps, &vals, &y.0)
        } else {
            f64::INFINITY
        };
        eps.push(e);
        vals.push(y);
    }
    (vals, eps)
}

/// Which node outputs some later node reads (`n_inputs` slots before the first output).
fn outputs_read_later<R, P>(n_inputs: usize, nodes: &[CertNode<R, P>]) -> Vec<bool> {
    let mut read = vec![false; nodes.len()];
    for node in nodes {
        for &j in &node.reads {
            if let Some(r) = j.checked_sub(n_inputs) {
                read[r] = true;
            }
        }
    }
    read
}

/// `evalBounds` following the Lean recursion: the bound of node `k` is computed from the
/// bounds of the prefix (recursively) and the runtime context of the prefix, evaluated again.
fn eval_bounds_literal_raw<R: RuntimeFloat, P>(
    nodes: &[CertNode<R, P>],
    x: &Slots<R>,
    eps_in: Vec<f64>,
    returned: bool,
) -> Vec<f64> {
    match nodes.split_last() {
        None => {
            let mut eps = eps_in;
            if returned {
                infinite_where_not_finite(x, &mut eps);
            }
            eps
        }
        Some((last, init)) => {
            let mut eps_prev = eval_bounds_literal_raw(init, x, eps_in, returned);
            let ctx = engine::eval(x.clone(), init.len(), |k, v| {
                init[k].forward(Operands::dense(v))
            });
            let y = last.forward(Operands::dense(&ctx));
            let e = last.fns.bound(&eps_prev, &ctx, &y.0);
            eps_prev.push(e);
            eps_prev
        }
    }
}

macro_rules! forward_semantics {
    ($ty:ident) => {
        impl<R, P, G: ShapeList, Ss: ShapeList> $ty<R, P, G, Ss>
        where
            R: RuntimeFloat,
            P: SpecScalar,
        {
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
                let nodes = &self.nodes;
                TList::from_items(engine::eval(x.into_items(), nodes.len(), |k, v| {
                    nodes[k].forward(Operands::dense(v))
                }))
            }

            /// Lean's `evalRuntime`: the runtime context, every node run on the runtime scalar.
            pub fn eval_runtime<G1>(&self, x: TList<R, G1>) -> TList<R, Cat<G, Ss>>
            where
                G: ExpectsContext<G1>,
            {
                let nodes = &self.nodes;
                TList::from_items(engine::eval(x.into_items(), nodes.len(), |k, v| {
                    nodes[k].forward(Operands::dense(v))
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
                    eval_certified_raw(&self.nodes, x.into_items(), eps_in.into_vec(), None).1,
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
                    &self.nodes,
                    &x.into_items(),
                    eps_in.into_vec(),
                    true,
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
                    eval_certified_raw(&self.nodes, x.into_items(), eps_in.into_vec(), None);
                (TList::from_items(v), EList::from_vec_unchecked(e))
            }

            /// The display names of the nodes, in order.
            pub fn node_names(&self) -> impl Iterator<Item = &str> {
                self.nodes.iter().map(|n| &*n.name)
            }
        }
    };
}

/// A forward runtime-approximation graph (Lean's `FwdGraph toSpec Γ ss`): a snoc-list of
/// [`FwdNode`]s where node `k` reads `G ++ Ss[..k]`; runtime scalar `R`, spec scalar `P`.
pub struct FwdGraph<R, P, G, Ss> {
    pub(crate) nodes: Vec<CertNode<R, P>>,
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
    #[must_use]
    pub fn nil() -> Self {
        FwdGraph {
            nodes: Vec::new(),
            marker: PhantomData,
        }
    }
}

impl<R, P, G: ShapeList, Ss: ShapeList> FwdGraph<R, P, G, Ss> {
    /// Appends a node reading the context `G ++ Ss` (Lean's `FwdGraph.snoc`): an op
    /// (`ops::tanh(Idx::at::<0>())`), a [`FwdNode`] or a [`RevNode`].
    #[must_use]
    pub fn snoc<N>(mut self, node: N) -> FwdGraph<R, P, G, Snoc<Ss, N::Out>>
    where
        N: NodeOver<Cat<G, Ss>>,
        FwdKind<R, P>: Admits<N::Body, CertNode<R, P>>,
    {
        self.nodes.push(FwdKind::<R, P>::admit(node.into_body()));
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
    pub(crate) nodes: Vec<CertNode<R, P>>,
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
            .entries(self.nodes.iter().map(|n| &n.name))
            .finish()
    }
}

impl<R, P, G: ShapeList> RevGraph<R, P, G, HNil> {
    /// The empty graph over the inputs `G` (name the types: `RevGraph::<f32, f64, G, HNil>::nil()`).
    #[must_use]
    pub fn nil() -> Self {
        RevGraph {
            nodes: Vec::new(),
            marker: PhantomData,
        }
    }
}

impl<R, P, G: ShapeList, Ss: ShapeList> RevGraph<R, P, G, Ss> {
    /// Appends a node reading the context `G ++ Ss` (Lean's `RevGraph.snoc`): an op
    /// (`ops::tanh(Idx::at::<0>())`) or a [`RevNode`].
    #[must_use]
    pub fn snoc<N>(mut self, node: N) -> RevGraph<R, P, G, Snoc<Ss, N::Out>>
    where
        N: NodeOver<Cat<G, Ss>>,
        RevKind<R, P>: Admits<N::Body, CertNode<R, P>>,
    {
        self.nodes.push(RevKind::<R, P>::admit(node.into_body()));
        RevGraph {
            nodes: self.nodes,
            marker: PhantomData,
        }
    }

    /// Forgets the VJP parts (Lean's `RevGraph.toFwdGraph`).
    pub fn to_fwd_graph(&self) -> FwdGraph<R, P, G, Ss> {
        FwdGraph {
            nodes: self.nodes.clone(),
            marker: PhantomData,
        }
    }
}

forward_semantics!(RevGraph);

/// A VJP contribution to one slot and its bound (`None`: an exactly-zero tensor).
type Contribution<R> = (Option<Owned<R>>, f64);

/// Seeds and their bounds, for `backpropBounds`.
struct BoundAccumulator<'a, R, P, B> {
    nodes: &'a [CertNode<R, P>],
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
        let values = Pullback(node.vjp(Operands::dense(&self.vals), seed_out.clone()));
        let bounds = node
            .fns
            .vjp_bound(&self.eps, &self.vals, e_out, &seed_out.0, &values);
        merge_contributions(values.0, bounds.0)
    }
    fn add(&mut self, slot: usize, (c, e): Self::Contribution) {
        let c = c.unwrap_or_else(|| Owned::zeros(self.seed[slot].len()));
        self.seed_eps[slot] = self
            .add_bound
            .add(self.seed_eps[slot], e, &self.seed[slot].0, &c.0);
        self.seed[slot].add_assign(&c);
    }
}

/// The reverse sweep of `backpropBounds` over erased nodes: from the evaluated runtime context
/// `vals` with its bounds `eps` and a dense seed with its bounds, the input cotangents and their
/// bounds.
pub(crate) fn backprop_bounds_raw<R: RuntimeFloat, P, B: AddBound<R>>(
    nodes: &[CertNode<R, P>],
    vals: Slots<R>,
    eps: Vec<f64>,
    seed: Slots<R>,
    seed_eps: Vec<f64>,
    add_bound: &B,
) -> (Slots<R>, Vec<f64>) {
    let mut acc = BoundAccumulator {
        nodes,
        vals,
        eps,
        seed,
        seed_eps,
        add_bound,
    };
    engine::reverse_sweep(nodes.len(), &mut acc);
    (acc.seed, acc.seed_eps)
}

/// Pairs the runtime contributions with their bounds; a slot in only one list gets a zero
/// tensor or a zero bound for the other.
fn merge_contributions<R>(
    values: Contribs<R>,
    bounds: SmallVec<[(usize, f64); 2]>,
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
        Cat<G, Ss>: SeedContext<G2>,
    {
        let vals = self.eval_spec(x).into_items();
        TList::from_items(engine::backprop_all(
            vals,
            seed.into_items(),
            self.nodes.len(),
            |k, v, s| self.nodes[k].vjp(Operands::dense(v), s),
        ))
    }

    /// Lean's `backpropSpec` following the recursion literally (quadratic).
    pub fn backprop_spec_literal<G1, G2>(&self, x: TList<P, G1>, seed: TList<P, G2>) -> TList<P, G>
    where
        G: ExpectsContext<G1>,
        Cat<G, Ss>: SeedContext<G2>,
    {
        TList::from_items(engine::backprop_literal(
            x.into_items(),
            seed.into_items(),
            self.nodes.len(),
            |k, v| self.nodes[k].forward(Operands::dense(v)),
            |k, v, s| self.nodes[k].vjp(Operands::dense(v), s),
        ))
    }

    /// Lean's `backpropRuntime`: reverse mode on the runtime side (linear-time sweep, equal bit
    /// for bit to [`Self::backprop_runtime_literal`]).
    pub fn backprop_runtime<G1, G2>(&self, x: TList<R, G1>, seed: TList<R, G2>) -> TList<R, G>
    where
        G: ExpectsContext<G1>,
        Cat<G, Ss>: SeedContext<G2>,
    {
        let vals = self.eval_runtime(x).into_items();
        TList::from_items(engine::backprop_all(
            vals,
            seed.into_items(),
            self.nodes.len(),
            |k, v, s| self.nodes[k].vjp(Operands::dense(v), s),
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
        Cat<G, Ss>: SeedContext<G2>,
    {
        TList::from_items(engine::backprop_literal(
            x.into_items(),
            seed.into_items(),
            self.nodes.len(),
            |k, v| self.nodes[k].forward(Operands::dense(v)),
            |k, v, s| self.nodes[k].vjp(Operands::dense(v), s),
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
        Cat<G, Ss>: SeedContext<G2>,
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
        Cat<G, Ss>: SeedContext<G2>,
    {
        // The reverse sweep reads the forward bound of a slot only through the VJP bounds of
        // the nodes reading it: the others (the loss's, typically) are not computed.
        let needed = outputs_read_later(G::LEN, &self.nodes);
        let (vals, eps) = eval_certified_raw(
            &self.nodes,
            x.into_items(),
            eps_in.into_vec(),
            Some(&needed),
        );
        let (seed, mut seed_eps) = backprop_bounds_raw(
            &self.nodes,
            vals,
            eps,
            seed.into_items(),
            eps_seed.into_vec(),
            add_bound,
        );
        // A non-finite seed or contribution gets +∞ from the VJP and add bounds it goes
        // through; an input slot that no node touched keeps its seed, checked here.
        infinite_where_not_finite(&seed, &mut seed_eps);
        (TList::from_items(seed), EList::from_vec_unchecked(seed_eps))
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
        Cat<G, Ss>: SeedContext<G2>,
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
        Cat<G, Ss>: SeedContext<G2>,
    {
        let x = x.into_items();
        let eps_in = eps_in.into_vec();
        let mut seed = seed.into_items();
        let mut eps_seed = eps_seed.into_vec();
        for k in (0..self.nodes.len()).rev() {
            let seed_out = seed.pop().expect("the seed covers every slot");
            let e_out = eps_seed.pop().expect("the seed bounds cover every slot");
            let prefix = &self.nodes[..k];
            let ctx = engine::eval(x.clone(), k, |j, v| prefix[j].forward(Operands::dense(v)));
            let eps_ctx = eval_bounds_literal_raw(prefix, &x, eps_in.clone(), false);
            let node = &self.nodes[k];
            let values = Pullback(node.vjp(Operands::dense(&ctx), seed_out.clone()));
            let bounds = node
                .fns
                .vjp_bound(&eps_ctx, &ctx, e_out, &seed_out.0, &values);
            let sizes: Vec<usize> = ctx.iter().map(Owned::len).collect();
            let dense = engine::densify(sizes.into_iter(), values.0);
            let mut dense_eps = vec![0.0; ctx.len()];
            for (p, e) in bounds.0 {
                dense_eps[p] = e;
            }
            for j in 0..seed.len() {
                eps_seed[j] = add_bound.add(eps_seed[j], dense_eps[j], &seed[j].0, &dense[j].0);
                seed[j].add_assign(&dense[j]);
            }
        }
        infinite_where_not_finite(&seed, &mut eps_seed);
        EList::from_vec_unchecked(eps_seed)
    }
}
