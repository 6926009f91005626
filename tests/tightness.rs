//! Tightness of the enclosure certification mode (`eval_enclosed`, `backprop_enclosed`) on the
//! models of the examples, against an independent reference.
//!
//! With exact inputs (input bounds 0), every slot's bound must satisfy
//! `bound ≤ 2 · measured + 1e-12 · max|value|`, forward and gradient, where `measured` is the
//! largest distance from the f32 runtime value to the exact value, and the exact value is the
//! same model evaluated in double-double arithmetic (`tests/common/reference.rs`, about 106
//! bits, checked on its own in `tests/reference_scalar.rs`; no code of the library's interval
//! arithmetic). Soundness (the exact value inside every enclosure) is checked on the way, here
//! against the double-double values (exact to ~1e-30 relative, far below the f32 errors), and
//! exactly over `Rational` on random graphs in `tests/approx.rs`.
//!
//! Models: the MLP of `examples/certify.rs` (2 → 8 → 2, tanh), a 4 → 16 → 16 → 3 ReLU MLP,
//! the transformer of `examples/transformer.rs` and the CNN of `examples/cnn.rs`, each with
//! random parameters and data, and the transformer in bf16 and the CNN in f16. Deep models run
//! on double-double balls (`eval_enclosed_in::<Ball>`), shallow ones on `f64` intervals.
//! `PROPTEST_CASES` scales the number of random draws.

#[path = "../examples/support/cnn_model.rs"]
mod cnn_model;
#[path = "../examples/support/model.rs"]
mod model;
#[path = "common/reference.rs"]
mod reference;
#[path = "../examples/support/transformer_model.rs"]
mod transformer_model;

use reference::{Dd, ctx_to_dd, slot_max_abs, slot_max_distances};
use shapetape::approx::{Ball, EList, Enclosed, Enclosure, Interval, RevGraph};
use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;
use shapetape::rng::SplitMix64;

/// The criterion of the issue: `bound ≤ 2 · measured + 1e-12 · max|value|`.
fn tight(bound: f64, measured: f64, scale: f64) -> bool {
    bound <= 2.0 * measured + 1e-12 * scale
}

/// Checks one context of enclosure-mode results against the double-double values `exact`:
/// every exact value inside its enclosure (to the reference's own accuracy) and every slot
/// tight. Returns the largest `bound / measured` over slots with a nonzero error.
fn check<R: Rt, G: ShapeList, E: Enclosure>(
    what: &str,
    enc: &Enclosed<R, G, E>,
    exact: &TList<Dd, G>,
) -> f64 {
    let measured = slot_max_distances(exact, enc.runtime());
    let scale = slot_max_abs(exact);
    let bounds = enc.bounds();
    if std::env::var("TIGHT_DEBUG").is_ok() {
        for (j, (e, (&b, &m))) in enc
            .enclosures()
            .slot_slices()
            .zip(bounds.as_slice().iter().zip(&measured))
            .enumerate()
        {
            let w = e.iter().fold(0.0f64, |a, iv| {
                let (lo, hi) = iv.endpoints();
                a.max(hi - lo)
            });
            eprintln!("{what} slot {j}: width {w:e} bound {b:e} measured {m:e}");
        }
    }
    let mut worst = 0.0f64;
    for (j, ((&b, &m), &s)) in bounds
        .as_slice()
        .iter()
        .zip(&measured)
        .zip(&scale)
        .enumerate()
    {
        assert!(
            b >= m,
            "{what}: slot {j}: bound {b:e} below the measured error {m:e} (unsound)"
        );
        assert!(
            tight(b, m, s),
            "{what}: slot {j}: bound {b:e} not within 2 × the measured error {m:e} + 1e-12 × {s:e}"
        );
        if m > 0.0 {
            worst = worst.max(b / m);
        }
    }
    // Entry by entry: the exact value lies in its enclosure (with the reference's accuracy).
    for (j, (e, x)) in enc
        .enclosures()
        .slot_slices()
        .zip(exact.slot_slices())
        .enumerate()
    {
        for (i, (iv, d)) in e.iter().zip(x).enumerate() {
            let (lo, hi) = d.parts();
            let v = lo + hi;
            let slack = 1e-28 * v.abs();
            let (l, h) = iv.endpoints();
            assert!(
                l <= v + slack && v - slack <= h,
                "{what}: slot {j} entry {i}: exact {v:e} outside the enclosure {iv}"
            );
        }
    }
    worst
}

/// Forward and reverse checks of one certified graph against its double-double twin, the
/// reverse seeded with 1 at `loss`.
fn check_model<E: Enclosure, R: Rt, G: ShapeList, Ss: ShapeList>(
    what: &str,
    rev: &RevGraph<R, f64, G, Ss>,
    dd: &GraphData<Dd, (), G, Ss>,
    x: TList<R, G>,
    loss: Idx<Cat<G, Ss>, Scalar>,
) -> (f64, f64) {
    let x_dd = ctx_to_dd(&x);
    let enc = rev.eval_enclosed_in::<E, _>(EList::zero(), x.clone());
    let fwd = check(
        &format!("{what} forward"),
        &enc,
        &dd.eval(x_dd.clone(), &()),
    );
    let seed = TList::<R, Cat<G, Ss>>::single(loss, Tensor::new(R::one()));
    let seed_dd = TList::<Dd, Cat<G, Ss>>::single(loss, Tensor::new(Dd::from(1.0)));
    let grads = rev.backprop_enclosed_in::<E, _, _>(EList::zero(), x, EList::zero(), seed);
    let rev_ratio = check(
        &format!("{what} gradient"),
        &grads,
        &dd.backprop_ctx(x_dd, &(), seed_dd),
    );
    (fwd, rev_ratio)
}

/// A runtime scalar the checks run at (f32 and the half formats).
trait Rt: shapetape::approx::RuntimeFloat + Copy + Into<f64> {}
impl<R: shapetape::approx::RuntimeFloat + Copy + Into<f64>> Rt for R {}

/// Random draws per model (`PROPTEST_CASES / 16`, at least 2).
fn draws() -> u64 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(4, |c| (c / 16).max(2))
}

/// Every entry uniform in `[lo, hi)`, as f32 (so the inputs are exact: bounds 0).
fn uniform<G: ShapeList>(rng: &mut SplitMix64, lo: f64, hi: f64) -> TList<f32, G> {
    TList::<f32, G>::zero().map(|_| rng.uniform(lo, hi) as f32)
}

#[test]
fn certify_mlp_is_tight() {
    type In = model::Inputs<4, 2, 8, 2>;
    let rev = RevGraph::<f32, f64, In, _>::build(|b| {
        model::classifier::<_, model::Tanh, 4, 2, 8, 2>(b).0
    });
    let dd =
        GraphData::<Dd, (), In, _>::build(|b| model::classifier::<_, model::Tanh, 4, 2, 8, 2>(b).0);
    let loss = Idx::at::<9>();
    for seed in 0..draws() {
        let mut rng = SplitMix64::new(seed);
        let mut x: TList<f32, In> = uniform(&mut rng, -1.5, 1.5);
        // one-hot targets
        let t = Tensor::<f32, Matrix<4, 2>>::from_fn(|ix| f32::from(u8::from(ix[1] == ix[0] % 2)));
        x.replace(Idx::<In, _>::at::<5>(), t);
        let (f, r) = check_model::<Interval, _, _, _>("certify MLP", &rev, &dd, x, loss);
        println!("certify MLP draw {seed}: worst bound/measured forward {f:.3}, gradient {r:.3}");
    }
}

#[test]
fn deeper_relu_mlp_is_tight() {
    type In = HList![
        Matrix<16, 4>,
        Vector<16>,
        Matrix<16, 16>,
        Vector<16>,
        Matrix<3, 16>,
        Vector<3>,
        Matrix<8, 4>,
        Matrix<8, 3>
    ];
    type Built =
        HList![Scalar, Matrix<8, 3>, Matrix<8, 16>, Matrix<8, 16>, Matrix<8, 16>, Matrix<8, 16>];
    fn build<K>(
        b: shapetape::autograd::GraphBuilder<'_, K, In, HNil>,
    ) -> shapetape::autograd::GraphBuilder<'_, K, In, Built>
    where
        K: shapetape::autograd::Supports<ops::LinearBatch<8, 16, 4>>
            + shapetape::autograd::Supports<ops::LinearBatch<8, 16, 16>>
            + shapetape::autograd::Supports<ops::LinearBatch<8, 3, 16>>
            + shapetape::autograd::Supports<ops::Relu<Matrix<8, 16>>>
            + shapetape::autograd::Supports<ops::CrossEntropy<Matrix<8, 3>>>,
    {
        let hlist_pat![w1, b1, w2, b2, w3, b3, x, t] = b.inputs();
        let (b, h1) = b.push(|c| ops::linear_batch(c.idx(w1), c.idx(x), c.idx(b1)));
        let (b, a1) = b.push(|c| ops::relu(c.idx(h1)));
        let (b, h2) = b.push(|c| ops::linear_batch(c.idx(w2), c.idx(a1), c.idx(b2)));
        let (b, a2) = b.push(|c| ops::relu(c.idx(h2)));
        let (b, z) = b.push(|c| ops::linear_batch(c.idx(w3), c.idx(a2), c.idx(b3)));
        let (b, _) = b.push(|c| ops::cross_entropy(c.idx(z), c.idx(t)));
        b
    }
    let rev = RevGraph::<f32, f64, In, _>::build(build);
    let dd = GraphData::<Dd, (), In, _>::build(build);
    let loss = Idx::at::<13>();
    for seed in 0..draws() {
        let mut rng = SplitMix64::new(100 + seed);
        let mut x: TList<f32, In> = uniform(&mut rng, -0.8, 0.8);
        let t = Tensor::<f32, Matrix<8, 3>>::from_fn(|ix| f32::from(u8::from(ix[1] == ix[0] % 3)));
        x.replace(Idx::<In, _>::at::<7>(), t);
        let (f, r) = check_model::<Interval, _, _, _>("4-16-16-3 MLP", &rev, &dd, x, loss);
        println!("4-16-16-3 MLP draw {seed}: worst bound/measured forward {f:.3}, gradient {r:.3}");
    }
}

#[test]
fn transformer_is_tight() {
    use transformer_model::{DIGITS, HEADS, Inputs, SEQ, VOCAB};
    type In = Inputs<SEQ, DIGITS>;
    let (rev, loss) = RevGraph::<f32, f64, In, _>::try_build_with(|b| {
        let (b, out) = transformer_model::transformer::<_, 1, SEQ, HEADS, DIGITS>(b)?;
        let loss = b.idx(out.loss);
        Ok::<_, ops::ConstantError>((b, loss))
    })
    .expect("the layer-norm constant is valid");
    let dd = GraphData::<Dd, (), In, _>::try_build(|b| {
        transformer_model::transformer::<_, 1, SEQ, HEADS, DIGITS>(b).map(|(b, _)| b)
    })
    .expect("the layer-norm constant is valid");
    if std::env::var("TIGHT_DEBUG").is_ok() {
        for (k, n) in rev.node_names().enumerate() {
            eprintln!("node slot {}: {n}", k + In::LEN);
        }
    }
    for seed in 0..draws().min(3) {
        let mut rng = SplitMix64::new(200 + seed);
        let params: TList<f32, transformer_model::Params> = uniform(&mut rng, -0.3, 0.3);
        let tokens = Tensor::<f32, Vector<SEQ>>::from_fn(|_| rng.below(VOCAB) as f32);
        let targets = Tensor::<f32, Vector<DIGITS>>::from_fn(|_| rng.below(10) as f32);
        let x: TList<f32, In> = params.append(tlist![tokens, targets]);
        let (f, r) = check_model::<Ball, _, _, _>("transformer", &rev, &dd, x, loss);
        println!("transformer draw {seed}: worst bound/measured forward {f:.3}, gradient {r:.3}");
    }
}

#[test]
fn cnn_is_tight() {
    use cnn_model::{CLASSES, Inputs};
    const B: usize = 2;
    type In = Inputs<B>;
    let (rev, loss) = RevGraph::<f32, f64, In, _>::build_with(|b| {
        let (b, (_, loss)) = cnn_model::cnn::<_, B>(b);
        let loss = b.idx(loss);
        (b, loss)
    });
    let dd = GraphData::<Dd, (), In, _>::build(|b| cnn_model::cnn::<_, B>(b).0);
    for seed in 0..draws().min(3) {
        let mut rng = SplitMix64::new(300 + seed);
        let params: TList<f32, cnn_model::Params> = uniform(&mut rng, -0.4, 0.4);
        let images: TList<f32, HList![ops::Nchw<B, 1, 8, 8>]> = uniform(&mut rng, 0.0, 1.0);
        let (_, images) = images.unsnoc();
        let labels = Tensor::<f32, Vector<B>>::from_fn(|_| rng.below(CLASSES) as f32);
        let x: TList<f32, In> = params.append(tlist![images, labels]);
        let (f, r) = check_model::<Interval, _, _, _>("CNN", &rev, &dd, x, loss);
        println!("CNN draw {seed}: worst bound/measured forward {f:.3}, gradient {r:.3}");
    }
}

/// The transformer and the CNN with half-precision runtimes (exact inputs: the f32 draws
/// rounded to the format), on double-double balls: sound and tight like in f32.
#[test]
fn half_precision_models_are_tight() {
    use shapetape::half::{bf16, f16};
    use transformer_model::{DIGITS, HEADS, Inputs, SEQ, VOCAB};
    type In = Inputs<SEQ, DIGITS>;
    let (rev, loss) = RevGraph::<bf16, f64, In, _>::try_build_with(|b| {
        let (b, out) = transformer_model::transformer::<_, 1, SEQ, HEADS, DIGITS>(b)?;
        let loss = b.idx(out.loss);
        Ok::<_, ops::ConstantError>((b, loss))
    })
    .expect("the layer-norm constant is valid");
    let dd = GraphData::<Dd, (), In, _>::try_build(|b| {
        transformer_model::transformer::<_, 1, SEQ, HEADS, DIGITS>(b).map(|(b, _)| b)
    })
    .expect("the layer-norm constant is valid");
    let mut rng = SplitMix64::new(400);
    let params: TList<f32, transformer_model::Params> = uniform(&mut rng, -0.3, 0.3);
    let tokens = Tensor::<f32, Vector<SEQ>>::from_fn(|_| rng.below(VOCAB) as f32);
    let targets = Tensor::<f32, Vector<DIGITS>>::from_fn(|_| rng.below(10) as f32);
    let x: TList<bf16, In> = params
        .append(tlist![tokens, targets])
        .map(|&v| <bf16 as Real>::from_f64(f64::from(v)));
    let (f, r) = check_model::<Ball, _, _, _>("bf16 transformer", &rev, &dd, x, loss);
    println!("bf16 transformer: worst bound/measured forward {f:.3}, gradient {r:.3}");

    use cnn_model::{CLASSES, Inputs as CnnInputs};
    type CnnIn = CnnInputs<2>;
    let (rev, loss) = RevGraph::<f16, f64, CnnIn, _>::build_with(|b| {
        let (b, (_, loss)) = cnn_model::cnn::<_, 2>(b);
        let loss = b.idx(loss);
        (b, loss)
    });
    let dd = GraphData::<Dd, (), CnnIn, _>::build(|b| cnn_model::cnn::<_, 2>(b).0);
    let params: TList<f32, cnn_model::Params> = uniform(&mut rng, -0.4, 0.4);
    let images: TList<f32, HList![ops::Nchw<2, 1, 8, 8>]> = uniform(&mut rng, 0.0, 1.0);
    let (_, images) = images.unsnoc();
    let labels = Tensor::<f32, Vector<2>>::from_fn(|_| rng.below(CLASSES) as f32);
    let x: TList<f16, CnnIn> = params
        .append(tlist![images, labels])
        .map(|&v| <f16 as Real>::from_f64(f64::from(v)));
    let (f, r) = check_model::<Ball, _, _, _>("f16 CNN", &rev, &dd, x, loss);
    println!("f16 CNN: worst bound/measured forward {f:.3}, gradient {r:.3}");
}
