//! Certified error bounds for an f32 MLP, then erasure to executable `GraphData`.
//!
//! Run with `cargo run --release --example certify`.
//!
//! The network is a `RevGraph<f32, f64, Γ, Ss>`: every node runs in f32 (the runtime) and has
//! an f64 specification. The inputs are given in f64 (the spec) and rounded to f32 (the
//! runtime); the rounding distance of each input slot is its input bound. Then:
//!
//! 1. `eval_certified` returns the f32 values of every slot and a bound on how far each is
//!    from the spec value; we print the bound beside the error actually measured against
//!    `eval_spec` (`eval_approx` says measured ≤ bound).
//! 2. `backprop_certified` does the same for the gradient of the loss with respect to every
//!    input, measured against `backprop_spec` (`backprop_approx`).
//! 3. `to_graph_data` erases the spec and the bounds; the erased graph's `eval` and
//!    `backprop_ctx` give exactly the runtime results (the two Lean theorems of the bridge).

use shapetape::approx::{self, EList, RevGraph, ToSpec};
use shapetape::autograd::GraphData;
use shapetape::prelude::*;
use shapetape::rng::SplitMix64;

const HIDDEN: usize = 8;
const BATCH: usize = 4;

type Inputs = HList![Matrix<HIDDEN, 2>, Vector<HIDDEN>, Matrix<2, HIDDEN>, Vector<2>, Matrix<BATCH, 2>, Matrix<BATCH, 2>];
type Nodes = HList![Matrix<BATCH, HIDDEN>, Matrix<BATCH, HIDDEN>, Matrix<BATCH, 2>, Scalar];
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
    RevGraph::<f32, f64, Inputs, HNil>::nil()
        .snoc(approx::ops::linear_batch(
            Idx::at::<0>(),
            Idx::at::<4>(),
            Idx::at::<1>(),
        ))
        .snoc(approx::ops::tanh(Idx::at::<6>()))
        .snoc(approx::ops::linear_batch(
            Idx::at::<2>(),
            Idx::at::<7>(),
            Idx::at::<3>(),
        ))
        .snoc(approx::ops::cross_entropy(Idx::at::<8>(), Idx::at::<5>()))
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

fn report(title: &str, names: &[&str], bounds: &[f64], measured: Vec<Option<f64>>) {
    println!("\n{title}");
    println!(
        "  {:<12} {:>14} {:>14} {:>10}",
        "slot", "bound", "measured", "ratio"
    );
    for ((name, &b), m) in names.iter().zip(bounds).zip(measured) {
        let m = m.unwrap_or(f64::INFINITY);
        let ratio = if m > 0.0 {
            format!("{:.1}", b / m)
        } else {
            "-".to_owned()
        };
        println!("  {name:<12} {b:>14.3e} {m:>14.3e} {ratio:>10}");
        assert!(m <= b, "a certified bound was exceeded in slot {name}");
    }
}

fn main() {
    let mut rng = SplitMix64::new(7);
    let graph = network();
    let x_spec = spec_inputs(&mut rng);
    let x_rt: TList<f32, Inputs> = x_spec.map(|&v| v as f32);
    let eps_in = EList::<Inputs>::try_from_vec(distances(&x_spec, &x_rt))
        .expect("distances are nonnegative");

    // 1. Forward: certified bounds of every slot.
    let (values, bounds) = graph.eval_certified(eps_in.clone(), x_rt.clone());
    let spec_values = graph.eval_spec(x_spec.clone());
    report(
        "forward pass (f32 runtime vs f64 spec)",
        &SLOTS,
        bounds.as_slice(),
        approx::ctx_distances(&spec_values, &values),
    );
    let loss = Idx::<Ctx, Scalar>::at::<9>();
    println!(
        "  loss: runtime {} ± {:.3e}",
        values.get(loss).as_slice()[0],
        bounds.get(loss)
    );

    // 2. Backward: the gradient of the loss with respect to every input.
    let seed_rt = TList::<f32, Ctx>::single(loss, Tensor::new(1.0));
    let seed_spec: TList<f64, Ctx> = seed_rt.map(|v| v.to_spec().expect("finite seed"));
    let (grads, grad_bounds) =
        graph.backprop_certified(eps_in.clone(), x_rt.clone(), EList::zero(), seed_rt.clone());
    let spec_grads = graph.backprop_spec(x_spec, seed_spec);
    report(
        "gradient of the loss (f32 runtime vs f64 spec)",
        &SLOTS[..6],
        grad_bounds.as_slice(),
        approx::ctx_distances(&spec_grads, &grads),
    );

    // 3. Erase: the executable graph computes exactly the runtime results.
    let erased: GraphData<f32, (), Inputs, Nodes> = graph.to_graph_data();
    let same_eval = erased.eval(x_rt.clone(), &()) == values;
    let same_grad = erased.backprop_ctx(x_rt, &(), seed_rt) == grads;
    println!(
        "\nerased GraphData<f32, (), Γ, Ss>: eval identical: {same_eval}, backprop_ctx identical: {same_grad}"
    );
    assert!(same_eval && same_grad);
}
