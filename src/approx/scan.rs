//! The scan node of a certified graph (see
//! [`GraphBuilder::scan`](crate::autograd::GraphBuilder::scan)): the body's certified nodes run
//! step by step, and so do their bounds.
//!
//! **Soundness.** Step `k` is the body graph on the inputs `[c_k, P_k]`; if the spec carry is
//! within `ε_k` of the runtime carry and the spec parameters within `ε_P` of the runtime ones
//! (so every slice is), Lean's `eval_approx` for the body gives the bound `ε_{k+1}` of its
//! carry output, so by induction `ε_N` bounds the scan's output. In reverse, `backprop_approx`
//! for the body at step `k`, seeded with the carry cotangent and its bound, bounds the
//! cotangents of `c_k` and `P_k`; the parameters' cotangent is the concatenation of the slices,
//! whose L∞ distance is the largest slice distance.

use std::sync::Arc;

use crate::approx::add_bound::CtxAddBound;
use crate::approx::dot_bound::add_rounding;
use crate::approx::graph::{FwdKind, RevKind, backprop_bounds_raw, eval_certified_raw};
use crate::approx::node::{CertFns, CertNode};
use crate::approx::round::{RuntimeFloat, add_up};
use crate::approx::spec::SpecScalar;
use crate::autograd::ScanKind;
use crate::autograd::engine;
use crate::autograd::op::{Contribs, KernelFns, Operands, Pullback, VjpBounds};
use crate::autograd::scan::{scan_forward, scan_jvp, scan_vjp};
use crate::internal::ScanSpec;
use crate::scalar::Element;
use crate::tensor::Owned;

/// The certified scan node: the body's certified nodes and where the scan reads and writes.
struct ScanCert<R, P> {
    nodes: Vec<CertNode<R, P>>,
    spec: ScanSpec,
}

/// The scan's maps at every scalar its body's nodes run at: the body, step by step.
impl<A: Element, R, P> KernelFns<A, ()> for ScanCert<R, P>
where
    dyn CertFns<R, P>: KernelFns<A, ()>,
{
    fn forward(&self, x: Operands<'_, A>, _: &()) -> Owned<A> {
        let nodes = &self.nodes;
        scan_forward(&self.spec, x, nodes.len(), |j, v| {
            nodes[j].forward(Operands::dense(v))
        })
        .0
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &()) -> Owned<A> {
        let nodes = &self.nodes;
        scan_jvp(&self.spec, x, dx, nodes.len(), |j, v, t| {
            let dy = nodes[j].jvp(Operands::dense(v), Operands::dense(t));
            (nodes[j].forward(Operands::dense(v)), dy)
        })
    }
    fn vjp(&self, x: Operands<'_, A>, _: &(), seed: Owned<A>) -> Contribs<A> {
        let nodes = &self.nodes;
        scan_vjp(
            &self.spec,
            x,
            seed,
            nodes.len(),
            |j, v| nodes[j].forward(Operands::dense(v)),
            |j, v, t| nodes[j].vjp(Operands::dense(v), t),
        )
    }
}

impl<R: RuntimeFloat, P: SpecScalar> CertFns<R, P> for ScanCert<R, P> {
    /// `ε_N` of the module docs: the body's `eval_bounds`, step by step.
    fn bound(&self, eps: &[f64], x: &[Owned<R>], _y: &[R]) -> f64 {
        let s = &self.spec;
        let params = x[s.params].0.as_slice();
        let mut carry = x[s.init].clone();
        let mut e = eps[s.init];
        for k in 0..s.steps {
            let (mut vals, mut es) = eval_certified_raw(
                &self.nodes,
                s.step_inputs(carry, params, k),
                vec![e, eps[s.params]],
                None,
            );
            carry = vals.swap_remove(s.carry_out);
            e = es.swap_remove(s.carry_out);
        }
        e
    }

    /// The body's `backprop_bounds`, last step first (with the default add bound).
    fn vjp_bound(
        &self,
        eps: &[f64],
        x: &[Owned<R>],
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> VjpBounds {
        let s = &self.spec;
        let params = x[s.params].0.as_slice();
        // Forward, keeping each step's evaluated context and bounds.
        let mut steps = Vec::with_capacity(s.steps);
        let (mut carry, mut e) = (x[s.init].clone(), eps[s.init]);
        for k in 0..s.steps {
            let (vals, es) = eval_certified_raw(
                &self.nodes,
                s.step_inputs(carry, params, k),
                vec![e, eps[s.params]],
                None,
            );
            carry = vals[s.carry_out].clone();
            e = es[s.carry_out];
            steps.push((vals, es));
        }
        let (mut dc, mut e_dc) = (Owned(seed.into()), e_seed);
        let mut e_dp = 0.0f64;
        while let Some((vals, es)) = steps.pop() {
            let sizes = || vals.iter().map(Owned::len);
            let seed = engine::densify(sizes(), [(s.carry_out, dc)]);
            let mut seed_eps = vec![0.0; vals.len()];
            seed_eps[s.carry_out] = e_dc;
            let (mut grads, mut bounds) =
                backprop_bounds_raw(&self.nodes, vals, es, seed, seed_eps, &CtxAddBound);
            let e_dpk = bounds.pop().expect("the step's parameter slice");
            grads.pop();
            e_dp = e_dp.max(if e_dpk.is_nan() { f64::INFINITY } else { e_dpk });
            dc = grads.pop().expect("the step's carry");
            e_dc = bounds.pop().expect("the step's carry");
        }
        // A non-finite cotangent gets +∞ whichever bounds it went through.
        if !R::all_finite(&dc.0) {
            e_dc = f64::INFINITY;
        }
        if c.0.iter().any(|(_, t)| !R::all_finite(&t.0)) {
            e_dp = f64::INFINITY;
            e_dc = f64::INFINITY;
        }
        if s.params == s.init {
            // One slot receives both cotangents: both errors and the rounding of their sum.
            let sum = c.0.first().map_or(0.0, |(_, t)| add_rounding(&t.0));
            VjpBounds::none().with_pos(s.init, add_up(add_up(e_dc, e_dp), sum))
        } else {
            VjpBounds::none()
                .with_pos(s.init, e_dc)
                .with_pos(s.params, e_dp)
        }
    }

    fn runtime_kernel(self: Arc<Self>) -> Arc<dyn KernelFns<R, ()>> {
        self
    }

    /// The scan's composed bound counts as its closed form: the enclosure mode intersects the
    /// body's enclosure with it, so it is never looser than the composed bound.
    fn closed_bound(&self, eps: &[f64], x: &[Owned<R>], y: &[R]) -> Option<f64> {
        Some(self.bound(eps, x, y))
    }
    fn closed_vjp_bound(
        &self,
        eps: &[f64],
        x: &[Owned<R>],
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> Option<VjpBounds> {
        Some(self.vjp_bound(eps, x, e_seed, seed, c))
    }
}

fn cert_scan<R: RuntimeFloat, P: SpecScalar + 'static>(
    nodes: Vec<CertNode<R, P>>,
    spec: ScanSpec,
) -> CertNode<R, P> {
    CertNode {
        name: "scan".into(),
        out_dims: spec.out_dims.clone(),
        reads: spec.reads(),
        fns: Arc::new(ScanCert { nodes, spec }),
    }
}

impl<R: RuntimeFloat, P: SpecScalar + 'static> ScanKind for RevKind<R, P> {
    fn scan_node(body: Vec<CertNode<R, P>>, spec: ScanSpec) -> CertNode<R, P> {
        cert_scan(body, spec)
    }
}

impl<R: RuntimeFloat, P: SpecScalar + 'static> ScanKind for FwdKind<R, P> {
    fn scan_node(body: Vec<CertNode<R, P>>, spec: ScanSpec) -> CertNode<R, P> {
        cert_scan(body, spec)
    }
}
