//! One call that tests an op: every law and theorem the library relies on, for a user's op as
//! for the library's own (feature `proptest`; re-exported by [`strategies`](crate::strategies)).
//!
//! See [`check_op`].

use core::fmt;
use core::ops::Range;

use frunk::{HCons, HNil};

use crate::approx::node::certify_op;
use crate::approx::{Certifiable, EList, RevGraph, RevKind, SpecScalar, ToSpec};
use crate::autograd::builder::GraphKind;
use crate::autograd::op::erase_op;
use crate::autograd::op::{Eval, OpNode, Operands};
use crate::autograd::{GradcheckOptions, GraphData, check_adjoint, gradcheck};
use crate::rng::SplitMix64;
use crate::scalar::Rational;
use crate::shape_list::{ShapeList, Snoc};
use crate::tensor::Owned;
use crate::tlist::TList;

/// What [`check_op`] draws and how strictly it compares.
#[derive(Clone, Debug)]
pub struct OpCheck {
    /// Number of random points (default: `PROPTEST_CASES`, else 32).
    pub cases: u32,
    /// Range of the input entries (default `−2..2`); narrow it for ops with a domain.
    pub range: Range<f64>,
    /// Largest input and seed bound drawn for the soundness checks (default `1e-3`).
    pub max_eps: f64,
    /// The finite-difference check's options.
    pub gradcheck: GradcheckOptions,
    /// Seed of the generator (default 0).
    pub seed: u64,
}

impl Default for OpCheck {
    fn default() -> Self {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(32);
        OpCheck {
            cases,
            range: -2.0..2.0,
            max_eps: 1e-3,
            gradcheck: GradcheckOptions::default(),
            seed: 0,
        }
    }
}

impl OpCheck {
    /// The same checks on `cases` points.
    pub fn cases(self, cases: u32) -> Self {
        OpCheck { cases, ..self }
    }

    /// The same checks with input entries in `range`.
    pub fn range(self, range: Range<f64>) -> Self {
        OpCheck { range, ..self }
    }
}

/// A passed [`check_op`]: the op, the number of points, and how tight the bounds were.
#[derive(Clone, Debug, PartialEq)]
pub struct OpReport {
    /// The op's name.
    pub op: String,
    /// Points checked.
    pub cases: u32,
    /// The largest ratio (measured distance to the spec) / (certified bound) seen, over the
    /// output and the input cotangents (≤ 1: sound; close to 1: tight). The input slots carry
    /// their own error straight into these when the op passes them through exactly (`neg`,
    /// `transpose`, …): then the ratio is 1 and says nothing about tightness.
    pub worst_ratio: f64,
}

impl fmt::Display for OpReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} points, every check passed (largest measured error / bound: {:.3e})",
            self.op, self.cases, self.worst_ratio
        )
    }
}

/// A failed [`check_op`]: which check, at which point, and what was seen.
#[derive(Clone, Debug, PartialEq)]
pub struct OpCheckFailure {
    /// The op's name.
    pub op: String,
    /// The check that failed (`"adjointness"`, `"gradcheck"`, `"literal"`, `"bridge"`,
    /// `"bound"`).
    pub check: &'static str,
    /// The point (0-based) at which it failed, with the generator seeded by `OpCheck::seed`.
    pub case: u32,
    /// What was compared.
    pub detail: String,
}

impl fmt::Display for OpCheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "op `{}` fails the {} check at point {}: {}",
            self.op, self.check, self.case, self.detail
        )
    }
}

impl std::error::Error for OpCheckFailure {}

/// The context of a one-node graph: the inputs and the op's output.
type Ctx<G, T> = Snoc<G, T>;
/// The outputs of a one-node graph.
type One<T> = HCons<T, HNil>;

fn bits(x: &TList<f32, impl ShapeList>) -> Vec<u32> {
    x.slot_slices().flatten().map(|v| v.to_bits()).collect()
}
fn bits64(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// A context of `f64` entries that are exact `f32` values, uniform in `range`.
fn f32_exact<G: ShapeList>(rng: &mut SplitMix64, range: &Range<f64>) -> TList<f64, G> {
    TList::<f64, G>::zero().map(|_| f64::from(rng.uniform(range.start, range.end) as f32))
}

/// Per-slot bounds in `[0, max]`, a third of them exactly 0.
fn bounds(rng: &mut SplitMix64, n: usize, max: f64) -> Vec<f64> {
    (0..n)
        .map(|_| {
            if rng.below(3) == 0 {
                0.0
            } else {
                rng.uniform(0.0, max)
            }
        })
        .collect()
}

/// A spec point within `eps` (per slot) of `x`: every entry moved by at most its slot's bound.
fn perturbed<P: SpecScalar, G: ShapeList>(
    rng: &mut SplitMix64,
    x: &TList<f64, G>,
    eps: &[f64],
) -> TList<P, G> {
    let mut items = Vec::with_capacity(eps.len());
    for (slot, &e) in x.slot_slices().zip(eps) {
        let moved: Vec<P> = slot
            .iter()
            .map(|&v| {
                // A multiple of e/4 (exact for the dyadic bounds drawn here up to rounding of
                // the product, which only shrinks the step), clamped inside the box.
                let step = e * (rng.below(9) as f64 - 4.0) / 4.0;
                let p = P::from_f64_exact(v).expect("finite input");
                let s = P::from_f64_exact(step).expect("finite step");
                p + s
            })
            .collect();
        items.push(Owned(moved.into()));
    }
    TList::from_items(items)
}

/// Runs an op, given as an [`OpNode`] over a context `Γ`, on `cases` random points
/// and checks, at each:
///
/// 1. **adjointness** (Lean's `Node.correct`): `⟨jvp(x, dx), δ⟩ = ⟨dx, vjp(x, δ)⟩` in `f64`, up to
///    a relative `1e-9` of the magnitudes ([`check_op_exact`]: exactly, over ℚ);
/// 2. **gradcheck**: forward and reverse mode against a central finite difference
///    ([`gradcheck`]);
/// 3. **literal = linear**: `backprop_ctx` equals the quadratic Lean recursion
///    `backprop_ctx_literal` bit for bit, and the same for the certified graph's
///    `backprop_runtime`, `eval_bounds` and `backprop_bounds` against their literal twins;
/// 4. **the bridge** (`evalRuntime_of_toGraphData`, `backpropRuntime_of_toGraphData`):
///    `to_graph_data().eval` and `.backprop_ctx` equal, bit for bit, an independent reference
///    computed here by calling the op's [`Eval<f32>`] maps directly on the context and adding
///    the contributions densely as Lean does (no graph engine, no erasure), and so does
///    `eval_runtime` / `backprop_runtime`;
/// 5. **bound soundness** (`eval_approx`, `backprop_approx`): with random input and seed bounds
///    and a spec point drawn inside them, the spec results lie within the certified bounds of
///    the `f32` results. [`check_op`] uses an `f64` spec, whose own rounding is allowed as a
///    relative slack of `1e-12`; [`check_op_exact`] an exact ℚ spec, with no slack.
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::{ops, strategies::{check_op, OpCheck}};
/// type G = HList![Matrix<2, 3>, Vector<3>];
/// let report = check_op(ops::matvec(Idx::<G, _>::at::<0>(), Idx::at::<1>()), &OpCheck::default())
///     .unwrap();
/// assert_eq!(report.op, "matvec");
/// ```
pub fn check_op<G, K>(op: OpNode<G, K>, opts: &OpCheck) -> Result<OpReport, OpCheckFailure>
where
    G: ShapeList,
    K: Certifiable<f32, f64> + Clone,
{
    run::<G, K, f64>(op, opts, |x| x.relative_error() <= 1e-9, 1e-12)
}

/// [`check_op`] with an exact ℚ spec, for polynomial and piecewise-linear ops: adjointness is
/// checked exactly over ℚ and bound soundness against the exact spec, without slack.
pub fn check_op_exact<G, K>(op: OpNode<G, K>, opts: &OpCheck) -> Result<OpReport, OpCheckFailure>
where
    G: ShapeList,
    K: Certifiable<f32, Rational> + Eval<f64> + Clone,
{
    run::<G, K, Rational>(op, opts, |x| x.is_exact(), 0.0)
}

fn run<G, K, P>(
    op: OpNode<G, K>,
    opts: &OpCheck,
    adjoint_ok: impl Fn(&crate::autograd::AdjointCheck<P>) -> bool,
    slack: f64,
) -> Result<OpReport, OpCheckFailure>
where
    G: ShapeList,
    K: Certifiable<f32, P> + Eval<f64> + Clone,
    P: SpecScalar + fmt::Display,
    f32: ToSpec<P>,
{
    let name = op.op().name().to_owned();
    let fail = |check: &'static str, case: u32, detail: String| OpCheckFailure {
        op: name.clone(),
        check,
        case,
        detail,
    };
    // One-node graphs over G (built from the erased op: `snoc` needs a concrete G to see that
    // `G ++ []` is G).
    let g64 = GraphData::<f64, (), G, One<K::Out>>::from_erased(vec![erase_op(op.op().clone())]);
    let gp = GraphData::<P, (), G, One<K::Out>>::from_erased(vec![erase_op(op.op().clone())]);
    let rg: RevGraph<f32, P, G, One<K::Out>> =
        RevKind::<f32, P>::finish(vec![certify_op(op.op().clone())]);
    let erased = rg.to_graph_data();
    let nodep = op.clone().into_node::<P, ()>();
    let kernel = op.into_op();
    let mut rng = SplitMix64::new(opts.seed);
    let mut worst = 0.0f64;
    for case in 0..opts.cases {
        let x = f32_exact::<G>(&mut rng, &opts.range);
        let dx = f32_exact::<G>(&mut rng, &(-1.0..1.0));
        let seed = f32_exact::<Ctx<G, K::Out>>(&mut rng, &(-1.0..1.0));
        let to_p = |v: &f64| P::from_f64_exact(*v).expect("finite");
        let (xp, dxp) = (x.map(to_p), dx.map(to_p));
        let seedp = seed.map(to_p);
        let (_, seed_out) = TList::<P, G>::unsnoc_from::<K::Out>(seedp.clone());

        // 1. Adjointness of the op at the spec scalar.
        let adj = check_adjoint(nodep.data(), &xp, &dxp, &(), &seed_out);
        if !adjoint_ok(&adj) {
            return Err(fail("adjointness", case, adj.to_string()));
        }

        // 2. Finite differences in f64.
        let gopts = GradcheckOptions {
            seed: opts.seed.wrapping_add(u64::from(case)),
            ..opts.gradcheck
        };
        if let Err(e) = gradcheck(&g64, &x, &(), &gopts) {
            return Err(fail("gradcheck", case, e.to_string()));
        }

        // 3. Linear sweeps against the literal Lean recursions, bit for bit.
        let lin = gp.backprop_ctx(xp.clone(), &(), seedp.clone());
        let lit = gp.backprop_ctx_literal(xp.clone(), &(), seedp.clone());
        if lin != lit {
            return Err(fail(
                "literal",
                case,
                "backprop_ctx ≠ backprop_ctx_literal".into(),
            ));
        }
        let (x32, seed32) = (x.map(|v| *v as f32), seed.map(|v| *v as f32));
        let lin = rg.backprop_runtime(x32.clone(), seed32.clone());
        let lit = rg.backprop_runtime_literal(x32.clone(), seed32.clone());
        if bits(&lin) != bits(&lit) {
            return Err(fail("literal", case, "backprop_runtime ≠ literal".into()));
        }
        let eps_in = bounds(&mut rng, G::LEN, opts.max_eps);
        // The seed's bound only on the op's output: an input slot's own seed error would pass
        // straight into its cotangent and hide how tight the op's VJP bound is.
        let mut eps_seed = vec![0.0; G::LEN];
        eps_seed.extend(bounds(&mut rng, 1, opts.max_eps));
        let e_in = EList::<G>::try_from_vec(eps_in.clone()).expect("nonnegative bounds");
        let e_seed =
            EList::<Ctx<G, K::Out>>::try_from_vec(eps_seed.clone()).expect("nonnegative bounds");
        let (b_lin, b_lit) = (
            rg.eval_bounds(e_in.clone(), x32.clone()),
            rg.eval_bounds_literal(e_in.clone(), x32.clone()),
        );
        if bits64(b_lin.as_slice()) != bits64(b_lit.as_slice()) {
            return Err(fail(
                "literal",
                case,
                "eval_bounds ≠ eval_bounds_literal".into(),
            ));
        }
        let (rt_grad, g_bounds) =
            rg.backprop_certified(e_in.clone(), x32.clone(), e_seed.clone(), seed32.clone());
        let g_lit = rg.backprop_bounds_literal(
            e_in.clone(),
            x32.clone(),
            e_seed.clone(),
            seed32.clone(),
            &crate::approx::CtxAddBound,
        );
        if bits64(g_bounds.as_slice()) != bits64(g_lit.as_slice()) {
            return Err(fail("literal", case, "backprop_bounds ≠ literal".into()));
        }

        // 4. The bridge, against the op's own maps called directly.
        let y = Eval::<f32>::forward(&kernel, Operands::dense(x32.items()), &());
        let reference_eval = x32.clone().snoc(y);
        let erased_eval = erased.eval(x32.clone(), &());
        if bits(&erased_eval) != bits(&reference_eval)
            || bits(&rg.eval_runtime(x32.clone())) != bits(&reference_eval)
        {
            return Err(fail("bridge", case, "eval ≠ the op's forward".into()));
        }
        let (seed_in, seed_y) = TList::<f32, G>::unsnoc_from::<K::Out>(seed32.clone());
        let contribution = Eval::<f32>::vjp(&kernel, Operands::dense(x32.items()), &(), &seed_y);
        let mut dense = seed_in.clone().into_items();
        for (j, slot) in dense.iter_mut().enumerate() {
            // Lean adds a dense contribution: zero on the slots the op does not touch.
            let c = contribution.0.iter().find(|(p, _)| *p == j);
            let zero = Owned::zeros(slot.len());
            slot.add_assign(c.map_or(&zero, |(_, t)| t));
        }
        let reference_grad = TList::<f32, G>::from_items(dense);
        let erased_grad = erased.backprop_ctx(x32.clone(), &(), seed32.clone());
        if bits(&erased_grad) != bits(&reference_grad) || bits(&rt_grad) != bits(&reference_grad) {
            return Err(fail(
                "bridge",
                case,
                "backprop ≠ seed + the op's vjp".into(),
            ));
        }

        // 5. Soundness of the bounds at a spec point inside them.
        let (rt, eps_out) = rg.eval_certified(e_in.clone(), x32.clone());
        let xs = perturbed::<P, G>(&mut rng, &x, &eps_in);
        let spec = rg.eval_spec(xs.clone());
        let seed_s = perturbed::<P, Ctx<G, K::Out>>(&mut rng, &seed, &eps_seed);
        let spec_grad = rg.backprop_spec(xs, seed_s);
        // (The input slots are within their bounds by construction: skip them.)
        let pairs = spec
            .slot_slices()
            .zip(rt.slot_slices())
            .zip(eps_out.as_slice())
            .skip(G::LEN)
            .chain(
                spec_grad
                    .slot_slices()
                    .zip(rt_grad.slot_slices())
                    .zip(g_bounds.as_slice()),
            );
        for ((s, r), &e) in pairs {
            for (sv, rv) in s.iter().zip(r) {
                let d = match rv.to_spec() {
                    Some(rs) => (sv.clone() - rs).abs().to_f64(),
                    None => f64::INFINITY,
                };
                let allowed = e + slack * sv.to_f64().abs().max(1.0);
                if !(d <= allowed || e == f64::INFINITY) {
                    return Err(fail(
                        "bound",
                        case,
                        format!("|spec − runtime| = {d:e} exceeds the certified bound {e:e}"),
                    ));
                }
                if e > 0.0 && e.is_finite() {
                    worst = worst.max(d / e);
                }
            }
        }
    }
    Ok(OpReport {
        op: name,
        cases: opts.cases,
        worst_ratio: worst,
    })
}
