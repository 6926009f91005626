//! Item 6 of the performance issue: one training step of the transformer of
//! `examples/transformer.rs` (the model of `examples/support/transformer_model.rs`: 2 pre-norm
//! layers, d = 32, 4 causal heads, GELU MLP 32 → 128 → 32, batch 32 sequences of 16 tokens,
//! the loss on the 8 answer rows of each, f32) — the forward pass and every parameter gradient
//! through `GraphData::backprop_prefix::<Params>`, then one `optim::Adam` step.
//!
//! The peer is the same step in PyTorch eager on one thread, `peers/torch_transformer.py`
//! (not run by CI; goal: shapetape not slower). This bench prints shapetape's side and a
//! breakdown (forward only, forward + backward, the Adam step alone); pass its step time to the
//! script with `--rust-us` for the ratio.
//!
//! `REPORT_ONLY=1 cargo bench --bench transformer` prints the report only;
//! `SAVE_BATCH=FILE` also writes the initial parameters and the batch as safetensors (the
//! parameter names of the example, then `tokens` and `targets`), which the script reads with
//! `--batch FILE` to check that both sides compute the same losses.

mod common;
#[path = "../examples/support/transformer_model.rs"]
mod transformer_model;

use common::{Case, info_row, measure, print_times, sink};
use shapetape::autograd::{Cotangent, GraphData};
use shapetape::optim::{Adam, AdamConfig};
use shapetape::prelude::*;
use shapetape::rng::SplitMix64;
use shapetape::shape_list::Rev;
use transformer_model::{DIGITS, HEADS, PARAM_NAMES, Params, SEP, SEQ};

/// Sequences per batch.
const BATCH: usize = 32;
/// Token rows of a batch.
const BT: usize = BATCH * SEQ;
/// Attention heads of a batch.
const BH: usize = BATCH * HEADS;
/// Answer rows of a batch.
const BO: usize = BATCH * DIGITS;
/// The Adam step of the bench (the example's peak learning rate and betas; constant here).
const ADAM: AdamConfig = AdamConfig {
    lr: 3e-3,
    betas: (0.9, 0.98),
    eps: 1e-8,
    weight_decay: 0.0,
};

type Data = transformer_model::Data<BT, BO>;
type Inputs = transformer_model::Inputs<BT, BO>;
type Nodes = Rev<transformer_model::Built<BATCH, BT, BH, BO>>;
type Ctx = Cat<Inputs, Nodes>;
type Train = GraphData<f32, (), Inputs, Nodes>;

/// The training graph and the index of its loss.
fn graph() -> (Train, Idx<Ctx, Scalar>) {
    GraphData::<f32, (), Inputs, _>::try_build_with(|b| {
        let (b, out) = transformer_model::transformer::<_, BATCH, BT, BH, BO>(b)?;
        let loss = b.idx(out.loss);
        Ok::<_, shapetape::ops::ConstantError>((b, loss))
    })
    .expect("the layer-norm epsilon is a valid constant")
}

/// Layer-norm gains 1, biases 0, embeddings `N(0, 1)`, weight matrices Glorot-uniform.
fn init_params(rng: &mut SplitMix64) -> TList<f32, Params> {
    let mut flat = Vec::new();
    for (layout, name) in Params::layout().into_iter().zip(PARAM_NAMES) {
        for _ in 0..layout.size {
            let v = if name.ends_with(".bias") {
                0.0
            } else if name.contains("ln") {
                1.0
            } else if matches!(name, "tok_emb.weight" | "pos_emb") {
                rng.normal()
            } else {
                let r = (6.0 / (layout.dims[0] + layout.dims[1]) as f64).sqrt();
                rng.uniform(-r, r)
            };
            flat.push(v as f32);
        }
    }
    TList::try_from_flat(flat).expect("one value per parameter entry")
}

/// A batch of random questions: the tokens `q₀ … q₇ SEP r₀ … r₆` of every sequence (`r` the
/// digits reversed), then the targets `r₀ … r₇`.
fn batch(rng: &mut SplitMix64) -> TList<f32, Data> {
    let questions: Vec<[usize; DIGITS]> = (0..BATCH)
        .map(|_| core::array::from_fn(|_| rng.below(10)))
        .collect();
    let reversed = |q: &[usize; DIGITS], i: usize| q[DIGITS - 1 - i] as f32;
    let mut flat = Vec::with_capacity(BT + BO);
    for q in &questions {
        flat.extend(q.iter().map(|&d| d as f32));
        flat.push(SEP as f32);
        flat.extend((0..DIGITS - 1).map(|i| reversed(q, i)));
    }
    for q in &questions {
        flat.extend((0..DIGITS).map(|i| reversed(q, i)));
    }
    TList::try_from_flat(flat).expect("one row of tokens and targets per question")
}

/// The state of a training loop: the parameters, the batch and the optimiser.
struct Trainer<'g> {
    graph: &'g Train,
    seed: Cotangent<f32, Ctx>,
    loss: Idx<Ctx, Scalar>,
    state: Option<(TList<f32, Params>, TList<f32, Data>)>,
    opt: Adam<f32, Params>,
}

impl<'g> Trainer<'g> {
    fn new(
        graph: &'g Train,
        loss: Idx<Ctx, Scalar>,
        params: TList<f32, Params>,
        data: TList<f32, Data>,
    ) -> Self {
        Trainer {
            graph,
            seed: Cotangent::single(loss, Tensor::new(1.0)),
            loss,
            opt: Adam::new(&params, ADAM).expect("valid hyper-parameters"),
            state: Some((params, data)),
        }
    }

    /// One training step on the fixed batch; returns the loss before the update. The inputs go
    /// into `backprop_prefix` by value and come back as the head of the returned context (a
    /// move): nothing is cloned.
    fn step(&mut self) -> f32 {
        let (params, data) = self.state.take().expect("the state of the previous step");
        let (ctx, grads) =
            self.graph
                .backprop_prefix::<Params>(params.append(data), &(), self.seed.clone());
        let loss = ctx.get(self.loss).as_slice()[0];
        let (inputs, outputs) = TList::<f32, Inputs>::split::<Nodes>(ctx);
        sink(outputs);
        let (mut params, data) = TList::<f32, Params>::split::<Data>(inputs);
        self.opt.step(&mut params, &grads);
        self.state = Some((params, data));
        loss
    }

    /// The same step as `examples/transformer.rs` writes it: the parameters cloned into the
    /// inputs of every step (there the batch is fresh each time; here it is cloned).
    fn step_cloned(&mut self) -> f32 {
        let (mut params, data) = self.state.take().expect("the state of the previous step");
        let inputs = params.clone().append(data.clone());
        let (ctx, grads) = self
            .graph
            .backprop_prefix::<Params>(inputs, &(), self.seed.clone());
        let loss = ctx.get(self.loss).as_slice()[0];
        self.opt.step(&mut params, &grads);
        self.state = Some((params, data));
        loss
    }
}

fn report() {
    let (g, loss) = graph();
    let mut rng = SplitMix64::new(2025);
    let params = init_params(&mut rng);
    let data = batch(&mut rng);
    let count: usize = params.slot_slices().map(<[f32]>::len).sum();
    if let Some(path) = std::env::var_os("SAVE_BATCH") {
        let names: Vec<&str> = PARAM_NAMES
            .iter()
            .copied()
            .chain(["tokens", "targets"])
            .collect();
        params
            .clone()
            .append(data.clone())
            .save_safetensors_file(&path, &names)
            .expect("SAVE_BATCH: writable path");
        println!("wrote the initial parameters and the batch to {path:?}");
    }

    // Sanity (compare with `peers/torch_transformer.py --batch FILE`): the losses of the first
    // steps on the fixed batch, the Adam update included.
    let mut probe = Trainer::new(&g, loss, params.clone(), data.clone());
    let losses: Vec<String> = (0..5).map(|_| format!("{:.6}", probe.step())).collect();
    println!(
        "transformer training step: batch {BATCH}×{SEQ} tokens, {} nodes, {count} parameters, \
         f32, Adam; losses of steps 1-5 on one batch: {}",
        g.len(),
        losses.join(" ")
    );

    let inputs = params.clone().append(data.clone());
    let seed = Cotangent::<f32, Ctx>::single(loss, Tensor::new(1.0));
    let grads = g
        .backprop_prefix::<Params>(inputs.clone(), &(), seed.clone())
        .1;
    let mut moved = Trainer::new(&g, loss, params.clone(), data.clone());
    let mut cloned = Trainer::new(&g, loss, params.clone(), data.clone());
    let mut adam_params = params.clone();
    let mut adam = Adam::new(&adam_params, ADAM).expect("valid hyper-parameters");
    let mut cases = vec![
        Case::new(
            "training step: backprop_prefix + Adam (inputs moved)",
            || sink(moved.step()),
        ),
        Case::new("same, parameters and batch cloned (as the example)", || {
            sink(cloned.step_cloned())
        }),
        Case::new("forward only: eval (incl. input clone)", || {
            sink(g.eval(inputs.clone(), &()))
        }),
        Case::new("forward + backward: backprop_prefix (incl. clone)", || {
            sink(g.backprop_prefix::<Params>(inputs.clone(), &(), seed.clone()))
        }),
        Case::new("Adam step only", || adam.step(&mut adam_params, &grads)),
    ];
    let t = measure(&mut cases);
    print_times(
        "item 6: transformer training step, shapetape (compare: peers/torch_transformer.py)",
        &cases,
        &t,
    );
    println!(
        "  step time for the peer script: --rust-us {:.1}",
        t[0] * 1e6
    );
    info_row("forward / training step", t[2] / t[0]);
    info_row("forward + backward / training step", t[3] / t[0]);
    info_row("Adam step / training step", t[4] / t[0]);
    info_row("step with clones / step with moves", t[1] / t[0]);
}

fn criterion_groups(c: &mut criterion::Criterion) {
    let (g, loss) = graph();
    let mut rng = SplitMix64::new(2025);
    let params = init_params(&mut rng);
    let data = batch(&mut rng);
    let mut trainer = Trainer::new(&g, loss, params, data);
    let mut group = c.benchmark_group("transformer");
    group.bench_function("training_step", |b| b.iter(|| trainer.step()));
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
