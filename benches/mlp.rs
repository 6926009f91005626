//! Targets 1 and 3 of the performance issue, on the MLP of `common/mlp.rs`
//! (batch 32, 64 → 256 → 10, f32, ReLU, cross-entropy):
//!
//! 1. one training step (the loss and every parameter gradient) through
//!    `GraphData::backprop_prefix::<Params>` — one forward pass, the parameter part of
//!    `backprop_ctx`, a sparse seed — vs the same forward/backward written by hand with
//!    ndarray's `dot` (matrixmultiply): target ≤ 1.15×. The target row times a training loop's
//!    step: the inputs are moved into the call and taken back from the head of the returned
//!    context (no copy); the same step with a clone of the inputs is shown beside it, and so is
//!    `backprop_ctx`, which also returns the data's cotangent, beside the hand code that
//!    computes it too;
//! 3. `RevGraph::backprop_bounds` vs `RevGraph::backprop_runtime`: target ≤ 3×; the enclosure
//!    mode's `RevGraph::backprop_enclosed` vs `backprop_runtime`: target ≤ 4×.
//!
//! The peer comparison with dfdx lives in `peers/` (a separate crate).
//!
//! `cargo bench --bench mlp` prints the ratio report, then runs the criterion groups;
//! `REPORT_ONLY=1 cargo bench --bench mlp` prints only the report.

mod common;

use common::mlp::{self, Hand};
use common::{Case, info_row, measure, print_times, ratio_row, sink};
use shapetape::approx::EList;

fn report() {
    let (g, loss) = mlp::graph();
    let x = mlp::inputs();
    let seed = mlp::seed(loss);
    let sparse_seed = shapetape::autograd::Cotangent::single(loss, shapetape::Tensor::new(1.0f32));
    let hand = Hand::from_inputs(&x);

    // Sanity: both sides compute the same gradients.
    let lib = g.backprop_ctx(x.clone(), &(), seed.clone());
    let hg = hand.step(false);
    let lib_loss = g.eval(x.clone(), &()).get(loss).as_slice()[0];
    println!(
        "MLP {}x{}→{}→{} f32: loss shapetape {lib_loss} / hand {}, max |Δgrad| = {:.2e}",
        mlp::B,
        mlp::I,
        mlp::H,
        mlp::O,
        hg.loss,
        mlp::max_grad_diff(&lib, &hg)
    );

    let mut state = Some(x.clone());
    let mut cases = vec![
        Case::new("hand: forward+backward, parameter grads", || {
            sink(hand.step(false))
        }),
        Case::new("hand: forward+backward, all input cotangents", || {
            sink(hand.step(true))
        }),
        Case::new(
            "shapetape: backprop_prefix::<Params> (incl. input clone)",
            || sink(g.backprop_prefix::<mlp::Params>(x.clone(), &(), sparse_seed.clone())),
        ),
        Case::new(
            "shapetape: backprop_prefix, inputs moved in and back",
            || {
                // A training loop's step: the inputs go in by value and come back as the head of
                // the returned context (a move), so nothing is cloned.
                let inputs = state.take().expect("the inputs of the previous step");
                let (ctx, grads) =
                    g.backprop_prefix::<mlp::Params>(inputs, &(), sparse_seed.clone());
                let (inputs, outputs) =
                    shapetape::TList::<f32, mlp::Inputs>::split::<mlp::Nodes>(ctx);
                state = Some(inputs);
                sink((outputs, grads))
            },
        ),
        Case::new("shapetape: backprop_ctx (incl. input/seed clone)", || {
            sink(g.backprop_ctx(x.clone(), &(), seed.clone()))
        }),
        Case::new("shapetape: eval + backprop_ctx (two calls)", || {
            sink(g.eval(x.clone(), &()));
            sink(g.backprop_ctx(x.clone(), &(), seed.clone()))
        }),
        Case::new("shapetape: eval only (incl. input clone)", || {
            sink(g.eval(x.clone(), &()))
        }),
        Case::new("shapetape: clone of inputs + seed only", || {
            sink((x.clone(), seed.clone()))
        }),
    ];
    let t = measure(&mut cases);
    print_times(
        "target 1: MLP step, shapetape vs hand-written (same kernel)",
        &cases,
        &t,
    );
    ratio_row(
        "backprop_prefix / hand (values + parameter grads)",
        t[3] / t[0],
        1.15,
        false,
    );
    info_row("same, including a clone of the inputs", t[2] / t[0]);
    info_row(
        "backprop_ctx / hand (all input cotangents, same outputs)",
        t[4] / t[1],
    );
    info_row("eval + backprop_ctx / hand (parameter grads)", t[5] / t[0]);
    info_row("clone of inputs + dense seed / backprop_ctx", t[7] / t[4]);

    let r = mlp::rev_graph();
    let mut cases = vec![
        Case::new("RevGraph::backprop_runtime", || {
            sink(r.backprop_runtime(x.clone(), seed.clone()))
        }),
        Case::new("RevGraph::backprop_bounds (CtxAddBound)", || {
            sink(r.backprop_bounds(EList::zero(), x.clone(), EList::zero(), seed.clone()))
        }),
        Case::new("RevGraph::backprop_certified (values + bounds)", || {
            sink(r.backprop_certified(EList::zero(), x.clone(), EList::zero(), seed.clone()))
        }),
        Case::new("GraphData::backprop_ctx (same MLP)", || {
            sink(g.backprop_ctx(x.clone(), &(), seed.clone()))
        }),
        Case::new("RevGraph::backprop_enclosed (enclosure mode)", || {
            sink(r.backprop_enclosed(EList::zero(), x.clone(), EList::zero(), seed.clone()))
        }),
    ];
    let t = measure(&mut cases);
    print_times(
        "target 3: certified bounds on the MLP (RevGraph<f32, f64>)",
        &cases,
        &t,
    );
    ratio_row(
        "backprop_bounds / backprop_runtime",
        t[1] / t[0],
        3.0,
        false,
    );
    info_row("backprop_certified / backprop_runtime", t[2] / t[0]);
    ratio_row(
        "backprop_enclosed / backprop_runtime (enclosure mode)",
        t[4] / t[0],
        4.0,
        false,
    );
    info_row(
        "RevGraph::backprop_runtime / GraphData::backprop_ctx",
        t[0] / t[3],
    );
}

fn criterion_groups(c: &mut criterion::Criterion) {
    let (g, loss) = mlp::graph();
    let x = mlp::inputs();
    let seed = mlp::seed(loss);
    let sparse_seed = shapetape::autograd::Cotangent::single(loss, shapetape::Tensor::new(1.0f32));
    let hand = Hand::from_inputs(&x);
    let r = mlp::rev_graph();

    let mut group = c.benchmark_group("mlp_step");
    group.bench_function("hand_param_grads", |b| b.iter(|| hand.step(false)));
    group.bench_function("hand_all_inputs", |b| b.iter(|| hand.step(true)));
    group.bench_function("shapetape_backprop_prefix", |b| {
        b.iter(|| g.backprop_prefix::<mlp::Params>(x.clone(), &(), sparse_seed.clone()))
    });
    group.bench_function("shapetape_backprop_ctx", |b| {
        b.iter(|| g.backprop_ctx(x.clone(), &(), seed.clone()))
    });
    group.bench_function("shapetape_eval", |b| b.iter(|| g.eval(x.clone(), &())));
    group.finish();

    let mut group = c.benchmark_group("mlp_bounds");
    group.bench_function("backprop_runtime", |b| {
        b.iter(|| r.backprop_runtime(x.clone(), seed.clone()))
    });
    group.bench_function("backprop_bounds", |b| {
        b.iter(|| r.backprop_bounds(EList::zero(), x.clone(), EList::zero(), seed.clone()))
    });
    group.bench_function("backprop_enclosed", |b| {
        b.iter(|| r.backprop_enclosed(EList::zero(), x.clone(), EList::zero(), seed.clone()))
    });
    group.finish();
}

fn main() {
    report();
    if common::run_criterion() {
        let mut c = common::criterion();
        criterion_groups(&mut c);
        c.final_summary();
    }
}
