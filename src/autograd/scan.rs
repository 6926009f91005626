//! `scan`: one compiled sub-graph applied `N` times (JAX's `lax.scan`).
//!
//! **Mathematics.** Given a body `f : C × S → C` (a graph over the inputs `[c, p]` whose chosen
//! slot is the new carry), an initial carry `c₀ : C` and parameters stacked as `P : Dim<N, S>`,
//! the scan node outputs `c_N` with `c_{k+1} = f(c_k, P_k)`. It is differentiable as the
//! composition it is: the JVP runs the body's forward mode step by step,
//! `dc_{k+1} = J_c f · dc_k + J_p f · dP_k`; the VJP runs the body's reverse mode last step
//! first, pulling the carry's cotangent back through each step and writing the cotangent of
//! `P_k` into slice `k` of the parameters' cotangent (the slices are disjoint, so nothing is
//! added). If the body's nodes are adjoint, so is the scan node.
//!
//! **Why.** A model of `N` identical layers written out node by node compiles `N` copies of the
//! same code, and its context type grows with `N`. A scan compiles the body once, whatever `N`.
//! In a certified graph the bounds compose step by step through the body's own bounds (Lean's
//! `eval_approx` and `backprop_approx` applied to each step), not through an interval
//! evaluation of the whole loop.

use std::sync::Arc;

use frunk::{HCons, HNil};

use crate::autograd::builder::{DataKind, GraphBuilder, GraphKind, LawfulKind, Pushed, Var};
use crate::autograd::engine::{self, Slots};
use crate::autograd::node::{Body, ErasedNode};
use crate::autograd::op::{Contribs, KernelFns, Operands};
use crate::internal::ScanSpec;
use crate::scalar::Element;
use crate::shape::{Dim, Shape};
use crate::shape_list::{Reverse, ShapeList};
use crate::tensor::Owned;

/// A graph kind that can hold a [`GraphBuilder::scan`] node: every kind of this crate.
pub trait ScanKind: GraphKind {
    #[doc(hidden)]
    fn scan_node(body: Vec<Self::Stored>, spec: ScanSpec) -> Self::Stored;
}

impl<'id, K: GraphKind, G: ShapeList, P: Reverse> GraphBuilder<'id, K, G, P> {
    /// Applies the sub-graph `body` `N` times (JAX's `lax.scan`): `c₀ = init`,
    /// `c_{k+1} = body(c_k, params[k])`, and the node outputs `c_N`.
    ///
    /// `body` builds, with a builder of the same kind, a graph over the inputs `[c, p]` (the
    /// carry `C` and one slice `S` of the stacked parameters `Dim<N, S>`) and returns the handle
    /// of the new carry. The body is compiled once, whatever `N`; forward mode, reverse mode and
    /// (in a certified graph) the bounds run through it step by step.
    ///
    /// ```
    /// use shapetape::prelude::*;
    /// use shapetape::{autograd::GraphData, ops};
    /// // Eight tanh layers h ← tanh(W_k h), weights stacked as Dim<8, Matrix<3, 3>>.
    /// type G = HList![Vector<3>, Dim<8, Matrix<3, 3>>];
    /// let (g, out) = GraphData::<f64, (), G, _>::build_with(|b| {
    ///     let hlist_pat![h, w] = b.inputs();
    ///     let (b, y) = b.scan(h, w, |s| {
    ///         let hlist_pat![h, w] = s.inputs();
    ///         let (s, z) = s.push(|c| ops::matvec(c.idx(w), c.idx(h)));
    ///         let (s, y) = s.push(|c| ops::tanh(c.idx(z)));
    ///         (s, y)
    ///     });
    ///     let out = b.idx(y);
    ///     (b, out)
    /// });
    /// let x: TList<f64, G> = tlist![Tensor::new([1.0, -1.0, 0.5]), Tensor::fill(0.1)];
    /// assert_eq!(g.len(), 1);
    /// let y = g.eval(x, &());
    /// assert!(y.get(out).as_slice().iter().all(|v| v.abs() < 1.0));
    /// ```
    pub fn scan<const N: usize, C: Shape, S: Shape, Q: Reverse>(
        self,
        init: Var<'id, C>,
        params: Var<'id, Dim<N, S>>,
        body: impl for<'sub> FnOnce(
            GraphBuilder<'sub, K, HCons<C, HCons<S, HNil>>, HNil>,
        ) -> (
            GraphBuilder<'sub, K, HCons<C, HCons<S, HNil>>, Q>,
            Var<'sub, C>,
        ),
    ) -> Pushed<'id, K, G, P, C>
    where
        K: ScanKind,
        Dim<N, S>: Shape,
    {
        let mut nodes = Vec::new();
        let (_, carry) = body(GraphBuilder::over(&mut nodes));
        let spec = ScanSpec {
            steps: N,
            init: init.pos(),
            params: params.pos(),
            slice: S::SIZE,
            carry_out: carry.pos(),
            out_dims: C::dims().to_vec(),
        };
        self.push_stored(K::scan_node(nodes, spec))
    }
}

/// The scan node of an executable graph: the body's nodes and where the scan reads and writes.
pub(crate) struct ScanKernel<A, D> {
    pub(crate) nodes: Vec<ErasedNode<A, D>>,
    pub(crate) spec: ScanSpec,
}

impl ScanSpec {
    /// The context of step `k`: the carry and slice `k` of the stacked parameters.
    pub(crate) fn step_inputs<A: Clone>(
        &self,
        carry: Owned<A>,
        params: &[A],
        k: usize,
    ) -> Slots<A> {
        let p = params[k * self.slice..(k + 1) * self.slice].to_vec();
        vec![carry, Owned(p.into())]
    }

    /// The scan's contributions: `dc` to the initial carry, `dp` to the parameters (added if
    /// the two are one slot).
    pub(crate) fn contributions<A: Element>(&self, dc: Owned<A>, dp: Owned<A>) -> Contribs<A> {
        let mut out = Contribs::new();
        out.push((self.init, dc));
        if self.params == self.init {
            out[0].1.add_assign(&dp);
        } else {
            out.push((self.params, dp));
        }
        out
    }
}

/// `N` forward steps over a body of `n` nodes run by `forward`: the final carry, and the input
/// carry of every step.
pub(crate) fn scan_forward<A: Clone>(
    s: &ScanSpec,
    x: Operands<'_, A>,
    n: usize,
    mut forward: impl FnMut(usize, &mut Slots<A>) -> Owned<A>,
) -> (Owned<A>, Vec<Owned<A>>) {
    let params = x.raw(s.params);
    let mut carries = Vec::with_capacity(s.steps);
    let mut carry = Owned(x.raw(s.init).into());
    for k in 0..s.steps {
        let vals = engine::eval(s.step_inputs(carry.clone(), params, k), n, &mut forward);
        carries.push(carry);
        carry = vals[s.carry_out].clone();
    }
    (carry, carries)
}

/// The scan's forward mode: the body's JVP step by step (`step(j, vals, tans)` gives node
/// `j`'s output and tangent on the step's primal and tangent contexts).
pub(crate) fn scan_jvp<A: Clone>(
    s: &ScanSpec,
    x: Operands<'_, A>,
    dx: Operands<'_, A>,
    n: usize,
    mut step: impl FnMut(usize, &mut Slots<A>, &mut Slots<A>) -> (Owned<A>, Owned<A>),
) -> Owned<A> {
    let (params, dparams) = (x.raw(s.params), dx.raw(s.params));
    let mut carry = Owned(x.raw(s.init).into());
    let mut dcarry = Owned(dx.raw(s.init).into());
    for k in 0..s.steps {
        let mut vals = s.step_inputs(carry, params, k);
        let mut tans = s.step_inputs(dcarry, dparams, k);
        for j in 0..n {
            let (y, t) = step(j, &mut vals, &mut tans);
            vals.push(y);
            tans.push(t);
        }
        carry = vals.swap_remove(s.carry_out);
        dcarry = tans.swap_remove(s.carry_out);
    }
    dcarry
}

/// The scan's reverse mode: forward keeping the input carries, then the body's reverse mode
/// last step first, the carry's cotangent seeding the step before.
pub(crate) fn scan_vjp<A: Element>(
    s: &ScanSpec,
    x: Operands<'_, A>,
    seed: Owned<A>,
    n: usize,
    mut forward: impl FnMut(usize, &mut Slots<A>) -> Owned<A>,
    mut vjp: impl FnMut(usize, &mut Slots<A>, Owned<A>) -> Contribs<A>,
) -> Contribs<A> {
    let params = x.raw(s.params);
    let (_, mut carries) = scan_forward(s, x, n, &mut forward);
    let mut dc = seed;
    let mut dp = Owned::zeros(params.len());
    for k in (0..s.steps).rev() {
        let c = carries.pop().expect("one input carry per step");
        let vals = engine::eval(s.step_inputs(c, params, k), n, &mut forward);
        let seed = engine::densify(vals.iter().map(Owned::len), [(s.carry_out, dc)]);
        let mut grads = engine::backprop_all(vals, seed, n, &mut vjp);
        let dpk = grads.pop().expect("the step's parameter slice");
        dp.0[k * s.slice..(k + 1) * s.slice].clone_from_slice(&dpk.0);
        dc = grads.pop().expect("the step's carry");
    }
    s.contributions(dc, dp)
}

impl<A: Element, D> KernelFns<A, D> for ScanKernel<A, D> {
    fn forward(&self, x: Operands<'_, A>, d: &D) -> Owned<A> {
        scan_forward(&self.spec, x, self.nodes.len(), |j, v| {
            self.nodes[j].forward(v, d)
        })
        .0
    }

    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, d: &D) -> Owned<A> {
        scan_jvp(&self.spec, x, dx, self.nodes.len(), |j, v, t| {
            let dy = self.nodes[j].jvp(v, t, d);
            (self.nodes[j].forward(v, d), dy)
        })
    }

    fn vjp(&self, x: Operands<'_, A>, d: &D, seed: Owned<A>) -> Contribs<A> {
        scan_vjp(
            &self.spec,
            x,
            seed,
            self.nodes.len(),
            |j, v| self.nodes[j].forward(v, d),
            |j, v, t| self.nodes[j].vjp(v, d, t, None),
        )
    }
}

/// The erased scan node of an executable graph.
fn erased_scan<A: Element + 'static, D: 'static>(
    nodes: Vec<ErasedNode<A, D>>,
    spec: ScanSpec,
) -> ErasedNode<A, D> {
    ErasedNode {
        name: "scan".into(),
        out_dims: spec.out_dims.clone(),
        reads: Some(spec.reads()),
        body: Body::Kernel(Arc::new(ScanKernel { nodes, spec })),
    }
}

impl<A: Element + 'static, D: 'static> ScanKind for DataKind<A, D> {
    fn scan_node(body: Vec<ErasedNode<A, D>>, spec: ScanSpec) -> ErasedNode<A, D> {
        erased_scan(body, spec)
    }
}

// A scan of lawful nodes is lawful: the composition of adjoint maps, transposed step by step.
impl<A: Element + 'static, D: 'static> ScanKind for LawfulKind<A, D> {
    fn scan_node(body: Vec<ErasedNode<A, D>>, spec: ScanSpec) -> ErasedNode<A, D> {
        erased_scan(body, spec)
    }
}

impl ScanSpec {
    /// The slots the scan reads.
    pub(crate) fn reads(&self) -> smallvec::SmallVec<[usize; 4]> {
        let mut r = smallvec::smallvec![self.init];
        if self.params != self.init {
            r.push(self.params);
        }
        r
    }
}
