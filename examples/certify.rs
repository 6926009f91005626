//! Certified error bounds for an f32 MLP in both certification modes, then erasure to
//! executable `GraphData`.
//!
//! Run with `cargo run --release --example certify`.
//!
//! The network is a `RevGraph<f32, f64, Γ, Ss>`: every node runs in f32 (the runtime) and has
//! an f64 specification. Two certification modes bound, for every slot, the distance from the
//! f32 value to the exact real value:
//!
//! - the **composed** bounds of Lean's `evalBounds` / `backpropBounds` (`eval_certified`,
//!   `backprop_certified`): one L∞ bound per slot, composed node by node (`eval_approx`,
//!   `backprop_approx`);
//! - the **enclosure** mode (`eval_enclosed`, `backprop_enclosed`): per-entry interval
//!   enclosures of the exact values, propagated through the whole graph, forward and reverse;
//!   each slot's bound is the largest distance from its runtime values to their enclosures.
//!
//! Beside both we print the error actually made, enclosed: the same model evaluated as a
//! `GraphData<Interval>` on the exact inputs encloses the exact value of every slot, so the
//! error lies between the nearest and the farthest point of that enclosure (a few f64 ulps
//! apart); a bound below the nearest point would be a violated theorem. (`tests/tightness.rs`
//! measures the same against an independent double-double reference.)
//!
//! A. With exact inputs (the f32 values are the spec, input bounds 0) the enclosure bounds are
//!    the error actually made, up to f64 rounding; the composed ones are 2–500× larger.
//! B. With the inputs given in f64 and rounded to f32 (input bounds: the rounding distances),
//!    both modes bound the error for every spec input in the boxes, so they exceed the error at
//!    one of them; the enclosure mode is never looser than the composed one.
//!
//! Then `to_graph_data` erases the spec and the bounds; the erased graph's `eval` and
//! `backprop_ctx` give exactly the runtime results (the two Lean theorems of the bridge).
//!
//! The model is written once, generic over the graph kind (`examples/support/model.rs`): the
//! same function builds the certified `RevGraph` and the interval `GraphData` used as reference.

use shapetape::approx::{self, EList, Interval, RevGraph};
use shapetape::autograd::GraphData;
use shapetape::prelude::*;
use shapetape::rng::SplitMix64;

#[path = "support/model.rs"]
mod model;

const HIDDEN: usize = 8;
const BATCH: usize = 4;

type Inputs = model::Inputs<BATCH, 2, HIDDEN, 2>;
type Nodes = model::Nodes<BATCH, HIDDEN, 2>;
type Ctx = Cat<Inputs, Nodes>;

const SLOTS: [&str; 10] = [
    "w1",
    "b1",
    "w2",
    "b2",
    "x",
    "t",
    "x w1ᵀ + b1",
    "tanh",
    "logits",
    "loss",
];

fn network() -> RevGraph<f32, f64, Inputs, Nodes> {
    RevGraph::<f32, f64, Inputs, _>::build(|b| {
        model::classifier::<_, model::Tanh, BATCH, 2, HIDDEN, 2>(b).0
    })
}

/// The same model in interval arithmetic: evaluated on exact inputs, it encloses the exact real
/// value of every slot.
fn enclosure() -> GraphData<Interval, (), Inputs, Nodes> {
    GraphData::<Interval, (), Inputs, _>::build(|b| {
        model::classifier::<_, model::Tanh, BATCH, 2, HIDDEN, 2>(b).0
    })
}

/// The spec inputs (f64): random weights and points, one-hot targets.
fn spec_inputs(rng: &mut SplitMix64) -> TList<f64, Inputs> {
    let t = Tensor::from_fn(|ix| if ix[1] == ix[0] % 2 { 1.0 } else { 0.0 });
    tlist![
        rng.glorot_uniform(),
        rng.uniform_tensor(-0.1, 0.1),
        rng.glorot_uniform(),
        rng.uniform_tensor(-0.1, 0.1),
        rng.uniform_tensor(-2.0, 2.0),
        t
    ]
}

/// L∞ distance of every slot: the input bounds. (The f64 difference of a value and its f32
/// rounding is exact by Sterbenz's lemma, so no upward rounding is needed.)
fn distances<G: ShapeList>(spec: &TList<f64, G>, rt: &TList<f32, G>) -> Vec<f64> {
    approx::ctx_distances(spec, rt)
        .into_iter()
        .map(|d| d.unwrap_or(f64::INFINITY))
        .collect()
}

/// The error of the runtime values, enclosed: for each slot, `[lo, hi]` with
/// `lo ≤ ‖exact − runtime‖∞ ≤ hi`, read off the enclosures of the exact values.
fn enclosed_errors<G: ShapeList>(
    exact: &TList<Interval, G>,
    rt: &TList<f32, G>,
) -> Vec<(f64, f64)> {
    exact
        .slot_slices()
        .zip(rt.slot_slices())
        .map(|(e, r)| {
            e.iter()
                .zip(r)
                .fold((0.0f64, 0.0f64), |(lo, hi), (iv, &v)| {
                    let v = f64::from(v);
                    let near = if iv.contains(v) {
                        0.0
                    } else {
                        (iv.lo() - v).abs().min((iv.hi() - v).abs())
                    };
                    (lo.max(near), hi.max(iv.max_distance_from(v)))
                })
        })
        .collect()
}

/// One table: per slot, both modes' bounds, the enclosed error and the ratios bound / error
/// (taken against the upper end of the enclosed error, so the printed ratio is at most the true
/// one up to the enclosure's width, a few f64 ulps).
fn report(title: &str, names: &[&str], lean: &[f64], enclosure: &[f64], errors: Vec<(f64, f64)>) {
    println!("\n{title}");
    println!(
        "  {:<12} {:>11} {:>11} {:>22} {:>10} {:>10}",
        "slot", "composed", "enclosure", "error (enclosed)", "comp/err", "encl/err"
    );
    let ratio = |b: f64, e: f64| {
        if e > 0.0 {
            format!("{:.2}", b / e)
        } else if b == 0.0 {
            "exact".to_owned()
        } else {
            "-".to_owned()
        }
    };
    for (((name, &l), &e), (lo, hi)) in names.iter().zip(lean).zip(enclosure).zip(errors) {
        println!(
            "  {name:<12} {l:>11.3e} {e:>11.3e} {:>22} {:>10} {:>10}",
            format!("[{lo:.3e}, {hi:.3e}]"),
            ratio(l, hi),
            ratio(e, hi),
        );
        assert!(
            lo <= l && lo <= e,
            "a certified bound was exceeded in slot {name}"
        );
    }
}

/// Both certification modes on one set of runtime inputs `x_rt` with input bounds `eps_in`,
/// against the exact values at the spec inputs `x_exact` (points inside the input boxes).
fn compare(
    what: &str,
    graph: &RevGraph<f32, f64, Inputs, Nodes>,
    eps_in: &EList<Inputs>,
    x_rt: &TList<f32, Inputs>,
    x_exact: &TList<Interval, Inputs>,
) -> TList<f32, Inputs> {
    let reference = enclosure();
    // 1. Forward: the composed bounds (Lean's evalBounds) and the enclosure mode's.
    let (values, lean) = graph.eval_certified(eps_in.clone(), x_rt.clone());
    let enclosed = graph.eval_enclosed(eps_in.clone(), x_rt.clone());
    assert!(enclosed.runtime() == &values);
    let exact_values = reference.eval(x_exact.clone(), &());
    report(
        &format!("forward pass, {what}"),
        &SLOTS,
        lean.as_slice(),
        enclosed.bounds().as_slice(),
        enclosed_errors(&exact_values, &values),
    );
    let loss = Idx::<Ctx, Scalar>::at::<9>();
    println!(
        "  loss: runtime {} ± {:.3e} (composed) ± {:.3e} (enclosure)",
        values.get(loss).as_slice()[0],
        lean.get(loss),
        enclosed.bounds().get(loss)
    );

    // 2. Backward: the gradient of the loss with respect to every input.
    let seed_rt = TList::<f32, Ctx>::single(loss, Tensor::new(1.0));
    let seed_exact: TList<Interval, Ctx> = seed_rt.map(|&v| Interval::point(f64::from(v)));
    let (grads, grad_lean) =
        graph.backprop_certified(eps_in.clone(), x_rt.clone(), EList::zero(), seed_rt.clone());
    let grad_enclosed =
        graph.backprop_enclosed(eps_in.clone(), x_rt.clone(), EList::zero(), seed_rt);
    assert!(grad_enclosed.runtime() == &grads);
    let exact_grads = reference.backprop_ctx(x_exact.clone(), &(), seed_exact);
    report(
        &format!("gradient of the loss, {what}"),
        &SLOTS[..6],
        grad_lean.as_slice(),
        grad_enclosed.bounds().as_slice(),
        enclosed_errors(&exact_grads, &grads),
    );
    grads
}

fn main() {
    let mut rng = SplitMix64::new(7);
    let graph = network();
    let x_spec = spec_inputs(&mut rng);
    let x_rt: TList<f32, Inputs> = x_spec.map(|&v| v as f32);
    println!(
        "the MLP of examples/certify.rs (batch {BATCH}, 2 → {HIDDEN} → 2, tanh, cross-entropy) as a \
         RevGraph<f32, f64>: every slot's certified bound on |f32 runtime − exact| in both \
         modes, the composed bounds of Lean's evalBounds/backpropBounds and the enclosure mode \
         (eval_enclosed/backprop_enclosed), beside the error actually made (enclosed by the same \
         model evaluated in interval arithmetic on the exact inputs)"
    );

    // A. Exact inputs: the f32 values are the spec (input bounds 0).
    let x_points: TList<Interval, Inputs> = x_rt.map(|&v| Interval::point(f64::from(v)));
    compare(
        "exact f32 inputs (input bounds 0)",
        &graph,
        &EList::zero(),
        &x_rt,
        &x_points,
    );

    // B. Inputs given in f64 and rounded to f32: each input slot's bound is its rounding
    // distance, and the bounds hold for every spec input within it.
    let eps_in = EList::<Inputs>::try_from_vec(distances(&x_spec, &x_rt))
        .expect("distances are nonnegative");
    let x_exact: TList<Interval, Inputs> = x_spec.map(|&v| Interval::point(v));
    let grads = compare(
        "f64 inputs rounded to f32 (input bounds: the rounding distances)",
        &graph,
        &eps_in,
        &x_rt,
        &x_exact,
    );

    // 3. Erase: the executable graph computes exactly the runtime results.
    let loss = Idx::<Ctx, Scalar>::at::<9>();
    let seed_rt = TList::<f32, Ctx>::single(loss, Tensor::new(1.0));
    let values = graph.eval_runtime(x_rt.clone());
    let erased: GraphData<f32, (), Inputs, Nodes> = graph.to_graph_data();
    let same_eval = erased.eval(x_rt.clone(), &()) == values;
    let same_grad = erased.backprop_ctx(x_rt, &(), seed_rt) == grads;
    println!(
        "\nerased GraphData<f32, (), Γ, Ss>: eval identical: {same_eval}, backprop_ctx identical: {same_grad}"
    );
    assert!(same_eval && same_grad);
}
