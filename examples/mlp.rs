//! Train a 2 → 32 → 2 multilayer perceptron on the two-moons dataset with SGD, using the
//! gradients of `GraphData::backprop_ctx`.
//!
//! Run with `cargo run --release --example mlp`.
//!
//! The graph's inputs are the parameters followed by one minibatch:
//!
//! | slot | name | shape | meaning |
//! |---|---|---|---|
//! | 0 | `w1` | `Matrix<32, 2>` | first layer, row `o` holds the weights into hidden unit `o` |
//! | 1 | `b1` | `Vector<32>` | first layer bias |
//! | 2 | `w2` | `Matrix<2, 32>` | output layer, row `c` holds the weights into class `c` |
//! | 3 | `b2` | `Vector<2>` | output layer bias |
//! | 4 | `x` | `Matrix<25, 2>` | a minibatch of points, one per row |
//! | 5 | `t` | `Matrix<25, 2>` | their one-hot labels |
//!
//! and the nodes compute `h = tanh(x w1ᵀ + b1)`, `z = h w2ᵀ + b2` and the mean
//! cross-entropy `L = −(1/25) Σ t · log softmax(z)`. Everything is deterministic: the data,
//! the initialisation and the shuffling come from fixed seeds.

use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;
use shapetape::rng::SplitMix64;

const HIDDEN: usize = 32;
const BATCH: usize = 25;
const POINTS: usize = 400;
const EPOCHS: usize = 60;
const LEARNING_RATE: f32 = 0.5;

type Params = HList![Matrix<HIDDEN, 2>, Vector<HIDDEN>, Matrix<2, HIDDEN>, Vector<2>];
type Batch = HList![Matrix<BATCH, 2>, Matrix<BATCH, 2>];
type Inputs = Cat<Params, Batch>;

/// Outputs of the nodes: pre-activation, activation, logits, loss.
type Nodes = HList![Matrix<BATCH, HIDDEN>, Matrix<BATCH, HIDDEN>, Matrix<BATCH, 2>, Scalar];
/// The evaluated context `Inputs ++ Nodes`.
type Ctx = Cat<Inputs, Nodes>;
type Mlp = GraphData<f32, (), Inputs, Nodes>;

/// Two interleaved half circles with Gaussian noise; label 0 for the upper moon.
fn two_moons(n: usize, noise: f64, rng: &mut SplitMix64) -> Vec<([f32; 2], usize)> {
    (0..n)
        .map(|i| {
            let label = i % 2;
            let theta = rng.uniform(0.0, core::f64::consts::PI);
            let (x, y) = if label == 0 {
                (theta.cos(), theta.sin())
            } else {
                (1.0 - theta.cos(), 0.5 - theta.sin())
            };
            let p = [
                (x + noise * rng.normal()) as f32,
                (y + noise * rng.normal()) as f32,
            ];
            (p, label)
        })
        .collect()
}

/// The network and its loss as a graph over `Inputs`, with the typed indices of the logits
/// and the loss in the evaluated context.
fn network() -> (Mlp, Idx<Ctx, Matrix<BATCH, 2>>, Idx<Ctx, Scalar>) {
    let (graph, (logits, loss)) = GraphData::<f32, (), Inputs, _>::build_with(|b| {
        let hlist_pat![w1, b1, w2, b2, x, t] = b.inputs();
        let (b, h) = b.push(|c| ops::linear_batch(c.idx(w1), c.idx(x), c.idx(b1)));
        let (b, a) = b.push(|c| ops::tanh(c.idx(h)));
        let (b, z) = b.push(|c| ops::linear_batch(c.idx(w2), c.idx(a), c.idx(b2)));
        let (b, loss) = b.push(|c| ops::cross_entropy(c.idx(z), c.idx(t)));
        let outputs = (b.idx(z), b.idx(loss));
        (b, outputs)
    });
    (graph, logits, loss)
}

/// The minibatch `points[rows]` as the two data slots.
fn batch(points: &[([f32; 2], usize)], rows: &[usize]) -> TList<f32, Batch> {
    let x = Tensor::from_fn(|ix| points[rows[ix[0]]].0[ix[1]]);
    let t = Tensor::from_fn(|ix| {
        if points[rows[ix[0]]].1 == ix[1] {
            1.0
        } else {
            0.0
        }
    });
    tlist![x, t]
}

fn main() {
    let mut rng = SplitMix64::new(2024);
    let points = two_moons(POINTS, 0.1, &mut rng);
    let (graph, logits_slot, loss_slot) = network();

    let mut params: TList<f32, Params> = tlist![
        rng.glorot_uniform(),
        Tensor::zeros(),
        rng.glorot_uniform(),
        Tensor::zeros()
    ];

    // The seed: cotangent 1 on the loss (the last slot), 0 everywhere else.
    let seed = TList::<f32, Ctx>::single(loss_slot, Tensor::new(1.0));

    let mut order: Vec<usize> = (0..POINTS).collect();
    println!(
        "training a 2-{HIDDEN}-2 MLP on {POINTS} two-moons points, batch {BATCH}, lr {LEARNING_RATE}"
    );
    for epoch in 1..=EPOCHS {
        rng.shuffle(&mut order);
        let mut total = 0.0;
        for rows in order.chunks(BATCH) {
            let inputs = params.clone().append(batch(&points, rows));
            let loss = graph.eval(inputs.clone(), &()).get(loss_slot).as_slice()[0];
            total += loss;
            let grads = graph.backprop_ctx(inputs, &(), seed.clone());
            let (param_grads, _) = TList::<f32, Params>::split::<Batch>(grads);
            params = params.sub(&param_grads.scale(&LEARNING_RATE));
        }
        println!(
            "epoch {epoch:3}  mean loss {:.4}",
            total / (POINTS / BATCH) as f32
        );
    }

    // Training accuracy, one batch at a time.
    let all: Vec<usize> = (0..POINTS).collect();
    let mut correct = 0;
    for rows in all.chunks(BATCH) {
        let ctx = graph.eval(params.clone().append(batch(&points, rows)), &());
        let z = ctx.get(logits_slot);
        for (r, &row) in rows.iter().enumerate() {
            let predicted = usize::from(z.at(&[r, 1]).unwrap() > z.at(&[r, 0]).unwrap());
            correct += usize::from(predicted == points[row].1);
        }
    }
    let accuracy = correct as f64 / POINTS as f64;
    println!(
        "training accuracy: {:.1}% ({correct}/{POINTS})",
        100.0 * accuracy
    );
    assert!(accuracy >= 0.95, "the MLP should separate the moons");
}
