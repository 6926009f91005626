//! Certified error bounds for an f32 MLP in both certification modes, then erasure to
//! executable `GraphData`.
//!
//! Run with `cargo run --release --example certify` (the f32, bf16 and f16 runtimes side by
//! side, exact inputs) or `cargo run --release --example certify -- --runtime f32|bf16|f16`
//! (one runtime in detail).
//!
//! The network is a `RevGraph<R, f64, Γ, Ss>`: every node runs in `R` (the runtime: `f32`, or
//! `half::bf16` / `half::f16`, each operation rounded once to the format, matrix products
//! accumulated in f32) and has an f64 specification. Two certification modes bound, for every
//! slot, the distance from the runtime value to the exact real value:
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

use std::process::ExitCode;

use shapetape::approx::{EList, Interval, RevGraph, RuntimeFloat};
use shapetape::autograd::GraphData;
use shapetape::half::{bf16, f16};
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

fn network<R: RuntimeFloat>() -> RevGraph<R, f64, Inputs, Nodes> {
    RevGraph::<R, f64, Inputs, _>::build(|b| {
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

/// L∞ distance of every slot, rounded up: the input bounds.
fn distances<R: RuntimeFloat, G: ShapeList>(spec: &TList<f64, G>, rt: &TList<R, G>) -> Vec<f64> {
    spec.slot_slices()
        .zip(rt.slot_slices())
        .map(|(s, r)| {
            s.iter().zip(r).fold(0.0f64, |m, (&s, r)| {
                m.max(Interval::point(s).max_distance_from(r.to_f64_exact()))
            })
        })
        .collect()
}

/// The error of the runtime values, enclosed: for each slot, `[lo, hi]` with
/// `lo ≤ ‖exact − runtime‖∞ ≤ hi`, read off the enclosures of the exact values.
fn enclosed_errors<R: RuntimeFloat, G: ShapeList>(
    exact: &TList<Interval, G>,
    rt: &TList<R, G>,
) -> Vec<(f64, f64)> {
    exact
        .slot_slices()
        .zip(rt.slot_slices())
        .map(|(e, r)| {
            e.iter().zip(r).fold((0.0f64, 0.0f64), |(lo, hi), (iv, v)| {
                let v = v.to_f64_exact();
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

/// Per slot: the composed bound, the enclosure bound and the enclosed error `[lo, hi]`.
struct Rows {
    names: &'static [&'static str],
    composed: Vec<f64>,
    enclosure: Vec<f64>,
    errors: Vec<(f64, f64)>,
}

/// `bound / error`, or `exact` when both are 0.
fn ratio(b: f64, e: f64) -> String {
    if e > 0.0 {
        format!("{:.2}", b / e)
    } else if b == 0.0 {
        "exact".to_owned()
    } else {
        "-".to_owned()
    }
}

/// One table: per slot, both modes' bounds, the enclosed error and the ratios bound / error
/// (taken against the upper end of the enclosed error, so the printed ratio is at most the true
/// one up to the enclosure's width, a few f64 ulps).
fn report(title: &str, rows: &Rows) {
    println!("\n{title}");
    println!(
        "  {:<12} {:>11} {:>11} {:>22} {:>10} {:>10}",
        "slot", "composed", "enclosure", "error (enclosed)", "comp/err", "encl/err"
    );
    for (((name, &l), &e), &(lo, hi)) in rows
        .names
        .iter()
        .zip(&rows.composed)
        .zip(&rows.enclosure)
        .zip(&rows.errors)
    {
        println!(
            "  {name:<12} {l:>11.3e} {e:>11.3e} {:>22} {:>10} {:>10}",
            format!("[{lo:.3e}, {hi:.3e}]"),
            ratio(l, hi),
            ratio(e, hi),
        );
    }
}

/// Checks that no bound lies below the enclosed error (that would contradict `eval_approx` or
/// `backprop_approx`).
fn check(rows: &Rows) {
    for (((name, &l), &e), &(lo, _)) in rows
        .names
        .iter()
        .zip(&rows.composed)
        .zip(&rows.enclosure)
        .zip(&rows.errors)
    {
        assert!(
            lo <= l && lo <= e,
            "a certified bound was exceeded in slot {name}"
        );
    }
}

/// Both certification modes on one set of runtime inputs `x_rt` with input bounds `eps_in`,
/// against the exact values at the spec inputs `x_exact` (points inside the input boxes):
/// the forward rows, the gradient rows and the runtime gradients.
fn compare<R: RuntimeFloat>(
    graph: &RevGraph<R, f64, Inputs, Nodes>,
    eps_in: &EList<Inputs>,
    x_rt: &TList<R, Inputs>,
    x_exact: &TList<Interval, Inputs>,
) -> (Rows, Rows, TList<R, Inputs>) {
    let reference = enclosure();
    // Forward: the composed bounds (Lean's evalBounds) and the enclosure mode's.
    let (values, lean) = graph.eval_certified(eps_in.clone(), x_rt.clone());
    let enclosed = graph.eval_enclosed(eps_in.clone(), x_rt.clone());
    assert!(enclosed.runtime() == &values);
    let forward = Rows {
        names: &SLOTS,
        composed: lean.as_slice().to_vec(),
        enclosure: enclosed.bounds().as_slice().to_vec(),
        errors: enclosed_errors(&reference.eval(x_exact.clone(), &()), &values),
    };
    // Backward: the gradient of the loss with respect to every input.
    let loss = Idx::<Ctx, Scalar>::at::<9>();
    let seed_rt = TList::<R, Ctx>::single(loss, Tensor::new(R::one()));
    let seed_exact: TList<Interval, Ctx> = TList::single(loss, Tensor::new(Interval::point(1.0)));
    let (grads, grad_lean) =
        graph.backprop_certified(eps_in.clone(), x_rt.clone(), EList::zero(), seed_rt.clone());
    let grad_enclosed =
        graph.backprop_enclosed(eps_in.clone(), x_rt.clone(), EList::zero(), seed_rt);
    assert!(grad_enclosed.runtime() == &grads);
    let gradient = Rows {
        names: &SLOTS[..6],
        composed: grad_lean.as_slice().to_vec(),
        enclosure: grad_enclosed.bounds().as_slice().to_vec(),
        errors: enclosed_errors(
            &reference.backprop_ctx(x_exact.clone(), &(), seed_exact),
            &grads,
        ),
    };
    check(&forward);
    check(&gradient);
    (forward, gradient, grads)
}

/// The detailed report of one runtime: exact inputs, then f64 inputs rounded to the runtime,
/// then the erasure check.
fn detailed<R: RuntimeFloat>(name: &str, x_spec: &TList<f64, Inputs>) {
    let graph = network::<R>();
    let x_rt: TList<R, Inputs> = x_spec.map(|&v| R::from_f64(v));
    println!(
        "the MLP of examples/certify.rs (batch {BATCH}, 2 → {HIDDEN} → 2, tanh, cross-entropy) as a \
         RevGraph<{name}, f64>: every slot's certified bound on |{name} runtime − exact| in both \
         modes, the composed bounds of Lean's evalBounds/backpropBounds and the enclosure mode \
         (eval_enclosed/backprop_enclosed), beside the error actually made (enclosed by the same \
         model evaluated in interval arithmetic on the exact inputs)"
    );

    // A. Exact inputs: the runtime values are the spec (input bounds 0).
    let x_points: TList<Interval, Inputs> = x_rt.map(|v| Interval::point(v.to_f64_exact()));
    let (f, g, _) = compare(&graph, &EList::zero(), &x_rt, &x_points);
    let what = format!("exact {name} inputs (input bounds 0)");
    report(&format!("forward pass, {what}"), &f);
    report(&format!("gradient of the loss, {what}"), &g);

    // B. Inputs given in f64 and rounded to the runtime: each input slot's bound is its
    // rounding distance, and the bounds hold for every spec input within it.
    let eps_in =
        EList::<Inputs>::try_from_vec(distances(x_spec, &x_rt)).expect("distances are nonnegative");
    let x_exact: TList<Interval, Inputs> = x_spec.map(|&v| Interval::point(v));
    let (f, g, grads) = compare(&graph, &eps_in, &x_rt, &x_exact);
    let what = format!("f64 inputs rounded to {name} (input bounds: the rounding distances)");
    report(&format!("forward pass, {what}"), &f);
    report(&format!("gradient of the loss, {what}"), &g);

    // C. Erase: the executable graph computes exactly the runtime results.
    let loss = Idx::<Ctx, Scalar>::at::<9>();
    let seed_rt = TList::<R, Ctx>::single(loss, Tensor::new(R::one()));
    let values = graph.eval_runtime(x_rt.clone());
    let erased: GraphData<R, (), Inputs, Nodes> = graph.to_graph_data();
    let same_eval = erased.eval(x_rt.clone(), &()) == values;
    let same_grad = erased.backprop_ctx(x_rt, &(), seed_rt) == grads;
    println!(
        "\nerased GraphData<{name}, (), Γ, Ss>: eval identical: {same_eval}, backprop_ctx identical: {same_grad}"
    );
    assert!(same_eval && same_grad);
}

/// The three runtimes side by side, exact inputs: per slot, each format's measured error and
/// its two bounds as multiples of it.
fn side_by_side(x_spec: &TList<f64, Inputs>) {
    fn rows<R: RuntimeFloat>(x_spec: &TList<f64, Inputs>) -> (Rows, Rows) {
        let x_rt: TList<R, Inputs> = x_spec.map(|&v| R::from_f64(v));
        let x_points: TList<Interval, Inputs> = x_rt.map(|v| Interval::point(v.to_f64_exact()));
        let (f, g, _) = compare(&network::<R>(), &EList::zero(), &x_rt, &x_points);
        (f, g)
    }
    let all = [
        rows::<f32>(x_spec),
        rows::<bf16>(x_spec),
        rows::<f16>(x_spec),
    ];
    println!(
        "the MLP of examples/certify.rs (batch {BATCH}, 2 → {HIDDEN} → 2, tanh, cross-entropy) in \
         three runtime formats, exact inputs (the inputs rounded to each format are its spec): \
         per slot, the error actually made and the composed / enclosure bounds as multiples of \
         it (`--runtime f32|bf16|f16` prints one format in detail)"
    );
    for (k, title) in ["forward pass", "gradient of the loss"]
        .into_iter()
        .enumerate()
    {
        println!("\n{title}");
        println!(
            "  {:<12} {:>27} {:>27} {:>27}",
            "slot", "f32: error  comp  encl", "bf16: error  comp  encl", "f16: error  comp  encl"
        );
        let names = if k == 0 { &SLOTS[..] } else { &SLOTS[..6] };
        for (j, name) in names.iter().enumerate() {
            let cells: Vec<String> = all
                .iter()
                .map(|(f, g)| {
                    let r = if k == 0 { f } else { g };
                    let hi = r.errors[j].1;
                    format!(
                        "{hi:>9.2e} {:>8} {:>8}",
                        ratio(r.composed[j], hi),
                        ratio(r.enclosure[j], hi)
                    )
                })
                .collect();
            println!(
                "  {name:<12} {:>27} {:>27} {:>27}",
                cells[0], cells[1], cells[2]
            );
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match args.as_slice() {
        [] => None,
        [flag, r] if flag == "--runtime" => Some(r.as_str()),
        _ => {
            eprintln!("usage: certify [--runtime f32|bf16|f16]");
            return ExitCode::FAILURE;
        }
    };
    let mut rng = SplitMix64::new(7);
    let x_spec = spec_inputs(&mut rng);
    match runtime {
        None => side_by_side(&x_spec),
        Some("f32") => detailed::<f32>("f32", &x_spec),
        Some("bf16") => detailed::<bf16>("bf16", &x_spec),
        Some("f16") => detailed::<f16>("f16", &x_spec),
        Some(other) => {
            eprintln!("unknown runtime `{other}`: expected f32, bf16 or f16");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
