//! Train a two-layer causal transformer to reverse digit sequences with Adam, then bound the
//! floating-point error of its inference with certified graphs.
//!
//! ```text
//! cargo run --release --example transformer [-- OPTIONS]
//!
//!   --steps N         training steps (default 1000; 0 only evaluates and certifies)
//!   --weights FILE    initial parameters from a safetensors file (default: seeded
//!                     initialisation)
//!   --save FILE       write the trained parameters as safetensors
//!   --plot FILE       where to write the loss curve PNG (default: target/transformer-loss.png
//!                     in the crate's directory)
//!   --all-bounds      print the certified bound of every node (first certified question)
//!   --help            print this help
//! ```
//!
//! **The task.** A question is `DIGITS = 8` random digits `d₀ … d₇`; the answer is the same
//! digits reversed, `rᵢ = d₇₋ᵢ`. The model reads the 16 tokens `d₀ … d₇ SEP r₀ … r₆` and, as a
//! causal language model, predicts at every position the next token: the rows at positions
//! `8 … 15` (`SEP`, `r₀`, …, `r₆`) predict `r₀ … r₇`, and only those rows enter the loss (the
//! logits are narrowed to them before `cross_entropy_with_integer_labels`). One question in five
//! (chosen by a hash of its digits) is held out: training never draws it, and the accuracy is
//! measured on 2048 held-out questions, teacher-forced (the answer digits predicted from the
//! true earlier ones: the token accuracy of the goal, ≥ 99%) and by greedy decoding (the
//! model's own digits fed back, eight passes).
//!
//! **The model** (`examples/support/transformer_model.rs`, written once for every graph kind and
//! batch size): token embedding plus a learned positional embedding, two pre-norm blocks of
//! causal four-head self-attention (`linear_batch`, `reshape`, `swapaxes`, `narrow`,
//! `scaled_dot_product_attention`) and a GELU MLP, with residual connections (`add`), a final
//! layer norm and the logits: 52 nodes over 30 parameter tensors (26 699 numbers) and the two
//! data slots. A batch of 32 sequences is one graph whose linear layers act on its 512 token
//! rows at once. Training is `optim::Adam` (β = (0.9, 0.98)) with a linear warm-up and a cosine
//! decay of the learning rate, on freshly drawn questions, the gradient from
//! `GraphData::backprop_prefix::<Params>` (which skips the data's cotangent). Every 100 steps
//! the token accuracy on 256 held-out questions is printed, with the time.
//!
//! **Certification.** The same function then builds the model for one sequence as a
//! `RevGraph<f32, f64, …>`, and for comparison as a `RevGraph<f64, f64, …>` (the inference run
//! in f64). With the trained parameters and the exact integer tokens as inputs (input bounds
//! 0: the spec reads the same numbers), both certification modes bound, for every slot, the
//! distance from the runtime values to the exact real-number values of the model:
//! `eval_certified` composes one L∞ bound per slot node by node (Lean's `evalBounds`), and
//! `eval_enclosed_in::<Ball>` carries an enclosure of every exact entry through the graph (balls
//! with double-double midpoints, whose widths stay far below the f32 error through the 52
//! nodes). The enclosures also give the error actually made; beside it the example prints the
//! distance to the f64 evaluation (`eval_spec`). A bound below the enclosed error would be a
//! violated theorem and stops the example. An answer digit is certified when the exact model
//! provably predicts the digit the runtime predicts: by the composed bounds (the winning logit
//! beats the runner-up by more than twice the logits' bound) or by the enclosures (the winner's
//! enclosure lies above every other's).
//!
//! The composed bounds grow with every layer: in f32 they are finite through the first block
//! and infinite from the second block's attention on; in f64 they stay finite and certify every
//! answer digit. The enclosure bounds are the error actually made (run with `--all-bounds` to
//! see both node by node).
//!
//! A progress bar shows the steps when standard output is a terminal; the progress lines are
//! printed in any case. The loss curve (the mean training loss of every 20 steps, an "epoch"
//! of 640 fresh questions) is drawn by `support/loss_plot.rs`. Everything is deterministic:
//! the data, the initialisation and the held-out split come from fixed seeds.

#[path = "support/loss_plot.rs"]
mod loss_plot;
#[path = "support/transformer_model.rs"]
mod model;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use shapetape::approx::{Ball, EList, RevGraph, RuntimeFloat};
use shapetape::autograd::{Cotangent, GraphData};
use shapetape::ops::{Constant, ConstantError};
use shapetape::optim::{Adam, AdamConfig};
use shapetape::prelude::*;
use shapetape::rng::SplitMix64;
use shapetape::safetensors::LoadError;
use shapetape::shape_list::Rev;

use model::{DIGITS, HEADS, PARAM_NAMES, Params, SEP, SEQ, VOCAB};

/// Sequences per training batch.
const BATCH: usize = 32;
/// Token rows of a batch.
const BT: usize = BATCH * SEQ;
/// Attention heads of a batch.
const BH: usize = BATCH * HEADS;
/// Answer rows of a batch.
const BO: usize = BATCH * DIGITS;

const STEPS: usize = 1000;
const WARMUP: usize = 100;
const PEAK_LR: f64 = 3e-3;
/// The learning rate at the end of the cosine decay, as a fraction of the peak.
const FINAL_LR_FRACTION: f64 = 0.05;
/// Steps per point of the loss curve.
const STEPS_PER_EPOCH: usize = 20;
/// Steps between progress lines.
const REPORT_EVERY: usize = 100;
/// Held-out questions for the accuracy (a multiple of `BATCH`).
const TEST_QUESTIONS: usize = 2048;
/// Held-out questions of the accuracy probes during training.
const PROBE_QUESTIONS: usize = 256;
/// Held-out questions evaluated by the certified graph.
const CERTIFIED_QUESTIONS: usize = 4;
/// The target of the issue: held-out token accuracy.
const TARGET_ACCURACY: f64 = 0.99;

type Inputs = model::Inputs<BT, BO>;
type Nodes = Rev<model::Built<BATCH, BT, BH, BO>>;
type Ctx = Cat<Inputs, Nodes>;
type Train = GraphData<f32, (), Inputs, Nodes>;
/// The index of the answer logits of a batch.
type AnswerLogits = Idx<Ctx, Matrix<BO, VOCAB>>;

/// One sequence: the certified graph and its interval reference.
type Inputs1 = model::Inputs<SEQ, DIGITS>;
type Nodes1 = Rev<model::Built<1, SEQ, HEADS, DIGITS>>;
type Ctx1 = Cat<Inputs1, Nodes1>;

const USAGE: &str = "usage: cargo run --release --example transformer [-- OPTIONS]

  --steps N         training steps (default 1000; 0 only evaluates and certifies)
  --weights FILE    initial parameters (safetensors, the names of --save)
  --save FILE       write the trained parameters as safetensors
  --plot FILE       write the loss curve PNG here (default: target/transformer-loss.png)
  --all-bounds      print the certified bound of every node (first certified question)
  --help            print this help";

/// The command line.
struct Options {
    steps: usize,
    all_bounds: bool,
    weights: Option<PathBuf>,
    save: Option<PathBuf>,
    plot: PathBuf,
}

/// Parses `--flag VALUE` and `--flag=VALUE`; `Ok(None)` for `--help`.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Option<Options>, String> {
    let mut options = Options {
        steps: STEPS,
        all_bounds: false,
        weights: None,
        save: None,
        plot: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/transformer-loss.png"),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|a| format!("unexpected argument {a:?}"))?;
        if arg == "--help" || arg == "-h" {
            return Ok(None);
        }
        if arg == "--all-bounds" {
            options.all_bounds = true;
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(OsString::from(value))),
            _ => (arg.as_str(), None),
        };
        if !matches!(flag, "--steps" | "--weights" | "--save" | "--plot") {
            return Err(if flag.starts_with('-') {
                format!("unknown option `{flag}`")
            } else {
                format!("unexpected argument `{arg}`")
            });
        }
        let value = inline
            .or_else(|| args.next())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{flag} needs a value"))?;
        match flag {
            "--steps" => {
                options.steps = value
                    .to_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("--steps needs a whole number, not {value:?}"))?;
            }
            "--weights" => options.weights = Some(PathBuf::from(value)),
            "--save" => options.save = Some(PathBuf::from(value)),
            _ => options.plot = PathBuf::from(value),
        }
    }
    Ok(Some(options))
}

// ------------------------------------------------------------------------------------ data

/// A question: `DIGITS` digits.
type Question = [u8; DIGITS];

/// Whether `q` belongs to the held-out fifth of all questions (a hash of its digits).
fn held_out(q: &Question) -> bool {
    let n = q.iter().fold(0u64, |n, &d| 10 * n + u64::from(d));
    SplitMix64::new(n).next_u64() % 5 == 0
}

/// A uniformly random question from the training part (`test == false`) or the held-out part.
fn draw(rng: &mut SplitMix64, test: bool) -> Question {
    loop {
        let mut q = [0u8; DIGITS];
        for d in &mut q {
            *d = rng.below(10) as u8;
        }
        if held_out(&q) == test {
            return q;
        }
    }
}

/// The answer digit `i` of `q`: the digits reversed.
fn answer(q: &Question, i: usize) -> u8 {
    q[DIGITS - 1 - i]
}

/// The model's input for `q` with the answer digits `a` (the true ones when teacher-forced):
/// `q₀ … q₇ SEP a₀ … a₆`.
fn tokens(q: &Question, a: &[u8; DIGITS]) -> [f32; SEQ] {
    let mut t = [0.0; SEQ];
    for i in 0..DIGITS {
        t[i] = f32::from(q[i]);
    }
    t[DIGITS] = SEP as f32;
    for i in 0..DIGITS - 1 {
        t[DIGITS + 1 + i] = f32::from(a[i]);
    }
    t
}

/// The true answer of `q`.
fn reversed(q: &Question) -> [u8; DIGITS] {
    core::array::from_fn(|i| answer(q, i))
}

/// The data slots for the questions `qs` (`BT = qs.len()·SEQ`, `BO = qs.len()·DIGITS`) at the
/// scalar `A`, with the answer-so-far `given[s]` as input and the true answers as targets.
fn data<A: Real, const BT1: usize, const BO1: usize>(
    qs: &[Question],
    given: &[[u8; DIGITS]],
) -> TList<A, model::Data<BT1, BO1>>
where
    Vector<BT1>: Shape,
    Vector<BO1>: Shape,
{
    let mut flat = Vec::with_capacity(BT1 + BO1);
    for (q, a) in qs.iter().zip(given) {
        flat.extend(tokens(q, a).map(|t| A::from_f64(f64::from(t))));
    }
    for q in qs {
        flat.extend((0..DIGITS).map(|i| A::from_f64(f64::from(answer(q, i)))));
    }
    TList::try_from_flat(flat).expect("one row of tokens and targets per question")
}

// ------------------------------------------------------------------------------ parameters

/// The seeded initialisation: layer-norm gains 1, biases 0, embeddings `N(0, 1)` (PyTorch's
/// `nn.Embedding`), weight matrices Glorot-uniform.
fn init_params(rng: &mut SplitMix64) -> TList<f32, Params> {
    let mut flat = Vec::new();
    for (layout, name) in Params::layout().into_iter().zip(PARAM_NAMES) {
        let is_norm = name.contains("ln");
        for _ in 0..layout.size {
            let v = if name.ends_with(".bias") {
                0.0
            } else if is_norm {
                1.0
            } else if matches!(name, "tok_emb.weight" | "pos_emb") {
                rng.normal()
            } else {
                let (fan_out, fan_in) = (layout.dims[0], layout.dims[1]);
                let r = (6.0 / (fan_in + fan_out) as f64).sqrt();
                rng.uniform(-r, r)
            };
            flat.push(v as f32);
        }
    }
    TList::try_from_flat(flat).expect("one value per parameter entry")
}

/// The learning rate at `step` (from 0): linear warm-up, then cosine decay to
/// `FINAL_LR_FRACTION` of the peak.
fn learning_rate(step: usize, steps: usize) -> f64 {
    if step < WARMUP {
        PEAK_LR * (step + 1) as f64 / WARMUP as f64
    } else {
        let t = (step - WARMUP) as f64 / (steps.saturating_sub(WARMUP)).max(1) as f64;
        let cos = 0.5 * (1.0 + (core::f64::consts::PI * t).cos());
        PEAK_LR * (FINAL_LR_FRACTION + (1.0 - FINAL_LR_FRACTION) * cos)
    }
}

// ------------------------------------------------------------------------------- graphs

/// The training graph (batch of `BATCH`), with the indices of the answer logits and the loss.
fn training_graph() -> Result<(Train, AnswerLogits, Idx<Ctx, Scalar>), String> {
    let (graph, (logits, loss)) = GraphData::<f32, (), Inputs, _>::try_build_with(|b| {
        let (b, out) = model::transformer::<_, BATCH, BT, BH, BO>(b)?;
        let idx = (b.idx(out.logits), b.idx(out.loss));
        Ok::<_, shapetape::ops::ConstantError>((b, idx))
    })
    .map_err(|e| e.to_string())?;
    Ok((graph, logits, loss))
}

/// The index of the largest entry of `row` (the first on ties).
fn argmax<T: PartialOrd>(row: &[T]) -> usize {
    (1..row.len()).fold(0, |best, i| if row[i] > row[best] { i } else { best })
}

/// Held-out token accuracy, teacher-forced: the answer digits predicted with the true earlier
/// digits as input.
fn forced_accuracy(
    graph: &Train,
    logits: AnswerLogits,
    params: &TList<f32, Params>,
    test: &[Question],
) -> f64 {
    let mut right = 0usize;
    for qs in test.chunks(BATCH) {
        let truth: Vec<[u8; DIGITS]> = qs.iter().map(reversed).collect();
        let ctx = graph.eval(params.clone().append(data(qs, &truth)), &());
        let z = ctx.get(logits);
        for (row, &digit) in z.as_slice().chunks(VOCAB).zip(truth.iter().flatten()) {
            right += usize::from(argmax(row) == usize::from(digit));
        }
    }
    right as f64 / (test.len() * DIGITS) as f64
}

/// Held-out accuracy of greedy decoding (answer digit `i` predicted from the model's own digits
/// `0..i`): `(token accuracy, sequence accuracy)`.
fn greedy_accuracy(
    graph: &Train,
    logits: AnswerLogits,
    params: &TList<f32, Params>,
    test: &[Question],
) -> (f64, f64) {
    let (mut tokens, mut sequences) = (0usize, 0usize);
    for qs in test.chunks(BATCH) {
        let mut guess = vec![[0u8; DIGITS]; qs.len()];
        for i in 0..DIGITS {
            let ctx = graph.eval(params.clone().append(data(qs, &guess)), &());
            let z = ctx.get(logits);
            for (s, g) in guess.iter_mut().enumerate() {
                g[i] = argmax(&z.as_slice()[(s * DIGITS + i) * VOCAB..][..VOCAB]) as u8;
            }
        }
        for (g, q) in guess.iter().zip(qs) {
            let right = g.iter().zip(reversed(q)).filter(|&(&a, b)| a == b).count();
            tokens += right;
            sequences += usize::from(right == DIGITS);
        }
    }
    (
        tokens as f64 / (test.len() * DIGITS) as f64,
        sequences as f64 / test.len() as f64,
    )
}

// ------------------------------------------------------------------------------------ main

fn main() -> ExitCode {
    let options = match parse_args(std::env::args_os().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), String> {
    let start = Instant::now();
    let mut rng = SplitMix64::new(2025);
    // The seeded initialisation is always drawn, so that the training data that follows does
    // not depend on `--weights`.
    let seeded = init_params(&mut rng);
    let mut params = match &options.weights {
        Some(path) => TList::<f32, Params>::load_safetensors_file(path, &PARAM_NAMES).map_err(
            |e| match e {
                LoadError::Io { .. } => format!("--weights: {e}"),
                _ => format!("--weights `{}`: {e}", path.display()),
            },
        )?,
        None => seeded,
    };
    let mut test_rng = SplitMix64::new(99);
    let test: Vec<Question> = (0..TEST_QUESTIONS)
        .map(|_| draw(&mut test_rng, true))
        .collect();

    let (graph, logits, loss_slot) = training_graph()?;
    let seed = Cotangent::<f32, Ctx>::single(loss_slot, Tensor::new(1.0));
    let count: usize = params.slot_slices().map(<[f32]>::len).sum();
    println!(
        "training a 2-layer causal transformer (d = {}, {HEADS} heads, {} nodes, {count} \
         parameters) to reverse {DIGITS} digits: Adam, batch {BATCH}, {} steps, peak lr {PEAK_LR}",
        model::MODEL,
        graph.len(),
        options.steps,
    );

    let config = AdamConfig {
        lr: PEAK_LR,
        betas: (0.9, 0.98),
        ..AdamConfig::default()
    };
    let mut opt = Adam::new(&params, config).map_err(|e| e.to_string())?;
    // Drawn on standard output, and hidden (println included) when it is not a terminal.
    let bar =
        ProgressBar::with_draw_target(Some(options.steps as u64), ProgressDrawTarget::stdout());
    if let Ok(style) = ProgressStyle::with_template("{bar:40.cyan/blue} step {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    let say = |line: String| {
        if bar.is_hidden() {
            println!("{line}");
        } else {
            bar.println(line);
        }
    };
    let mut losses = Vec::new();
    let (mut running, mut in_epoch) = (0.0f32, 0usize);
    let mut reached: Option<(usize, f64)> = None;
    for step in 0..options.steps {
        opt.set_lr(learning_rate(step, options.steps))
            .map_err(|e| e.to_string())?;
        let qs: Vec<Question> = (0..BATCH).map(|_| draw(&mut rng, false)).collect();
        let truth: Vec<[u8; DIGITS]> = qs.iter().map(reversed).collect();
        let inputs = params.clone().append(data(&qs, &truth));
        // One pass gives the loss and the parameter gradients (not the data's cotangent).
        let (ctx, grads) = graph.backprop_prefix::<Params>(inputs, &(), seed.clone());
        let loss = ctx.get(loss_slot).as_slice()[0];
        if !loss.is_finite() {
            bar.finish_and_clear();
            return Err(format!("the loss diverged at step {}: {loss}", step + 1));
        }
        opt.step(&mut params, &grads);
        running += loss;
        in_epoch += 1;
        if in_epoch == STEPS_PER_EPOCH || step + 1 == options.steps {
            losses.push(running / in_epoch as f32);
            (running, in_epoch) = (0.0, 0);
        }
        if (step + 1) % REPORT_EVERY == 0 {
            let probe = forced_accuracy(&graph, logits, &params, &test[..PROBE_QUESTIONS]);
            let elapsed = start.elapsed().as_secs_f64();
            if reached.is_none() && probe >= TARGET_ACCURACY {
                reached = Some((step + 1, elapsed));
            }
            say(format!(
                "step {:5}  loss {loss:.5}  lr {:.2e}  held-out token accuracy {:6.2}% \
                 ({PROBE_QUESTIONS} questions)  {elapsed:5.1} s",
                step + 1,
                learning_rate(step, options.steps),
                100.0 * probe,
            ));
        }
        bar.set_message(format!("loss {loss:.5}"));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let trained = start.elapsed().as_secs_f64();

    let forced = forced_accuracy(&graph, logits, &params, &test);
    let (greedy, sequences) = greedy_accuracy(&graph, logits, &params, &test);
    println!(
        "held-out accuracy on {TEST_QUESTIONS} questions: {:.2}% of the answer digits \
         (teacher-forced); greedy decoding: {:.2}% of the digits, {:.2}% of the answers entirely \
         right",
        100.0 * forced,
        100.0 * greedy,
        100.0 * sequences
    );
    if let Some((step, time)) = reached {
        println!(
            "{:.0}% held-out token accuracy ({PROBE_QUESTIONS} questions) first seen at step \
             {step}, {time:.1} s after the start",
            100.0 * TARGET_ACCURACY
        );
    }
    println!(
        "wall time: {trained:.1} s to train, {:.1} s with the evaluation",
        start.elapsed().as_secs_f64()
    );

    if let Some(path) = &options.save {
        params
            .save_safetensors_file(path, &PARAM_NAMES)
            .map_err(|e| format!("--save: {e}"))?;
        println!("wrote the trained parameters to `{}`", path.display());
    }
    if !losses.is_empty() {
        let title = format!(
            "transformer reversing {DIGITS} digits, adam: 1 epoch = {STEPS_PER_EPOCH} steps of \
             {BATCH}"
        );
        loss_plot::draw_loss_curve(&options.plot, &title, &losses)
            .map_err(|e| format!("--plot: {e}"))?;
        println!("wrote the loss curve to `{}`", options.plot.display());
    }

    certify_all(&params, &test[..CERTIFIED_QUESTIONS], options.all_bounds)?;

    if options.weights.is_none() && options.steps == STEPS && forced < TARGET_ACCURACY {
        return Err(format!(
            "the transformer should reach {:.0}% held-out token accuracy, but reached {:.2}%",
            100.0 * TARGET_ACCURACY,
            100.0 * forced
        ));
    }
    Ok(())
}

// --------------------------------------------------------------------------- certification

/// The enclosure scalar of the certification: a ball with a double-double midpoint, whose
/// widths start about 16 digits below an `f64` interval's, so that they stay far below the
/// runtime's error through the 52 nodes (an `Interval` reaches the f32 error by the end).
type Encl = Ball;

/// The error of the runtime values of one slot, enclosed: `(lo, hi)` with
/// `lo ≤ max |exact − runtime| ≤ hi`, read off the enclosures of the exact values.
fn enclosed_error(exact: &[Encl], rt: &[f64]) -> (f64, f64) {
    exact
        .iter()
        .zip(rt)
        .fold((0.0f64, 0.0f64), |(lo, hi), (iv, &v)| {
            let near = if iv.lo() <= v && v <= iv.hi() {
                0.0
            } else {
                (iv.lo() - v).abs().min((iv.hi() - v).abs())
            };
            (lo.max(near), hi.max(iv.max_distance_from(v)))
        })
}

/// `max |spec − runtime|` over one slot.
fn spec_error(spec: &[f64], rt: &[f64]) -> f64 {
    spec.iter()
        .zip(rt)
        .fold(0.0f64, |m, (&s, &r)| m.max((s - r).abs()))
}

/// What [`certify`] found for one question.
struct Certified {
    /// The composed bound of every slot.
    bounds: Vec<f64>,
    /// The enclosure mode's bound of every slot.
    enclosed: Vec<f64>,
    /// The answer digits whose logit margin exceeds twice the composed bound.
    by_bound: usize,
    /// The answer digits whose winning logit's enclosure lies above every other's.
    by_enclosure: usize,
}

/// Builds the model for one sequence as a certified graph `RevGraph<R, f64, …>` and evaluates
/// it on `questions` with the trained parameters (exactly representable at `R`, so the input
/// bounds are 0) in both certification modes: prints the composed and the enclosure bounds of
/// a few slots beside the error enclosed by the enclosure mode and the distance to the f64
/// spec, and checks that no bound lies below the enclosed error (that would contradict
/// `eval_approx`).
fn certify<R: RuntimeFloat>(
    params: &TList<f32, Params>,
    questions: &[Question],
) -> Result<Vec<Certified>, String>
where
    f32: Constant<R>,
{
    let (graph, (logits, loss, residual)) = RevGraph::<R, f64, Inputs1, _>::try_build_with(|b| {
        let (b, out) = model::transformer::<_, 1, SEQ, HEADS, DIGITS>(b)?;
        let idx = (
            b.idx(out.logits),
            b.idx(out.loss),
            out.residual.map(|r| b.idx(r)),
        );
        Ok((b, idx))
    })
    .map_err(|e: ConstantError| e.to_string())?;
    let params: TList<R, Params> = params.map(|&v| R::from_f64(f64::from(v)));
    println!(
        "  {:<10} {:>9} {:>10} {:>10} {:>10} {:>23} {:>10}",
        "question", "answer", "slot", "composed", "enclosure", "error (exact, enclosed)", "vs f64"
    );
    let mut found = Vec::new();
    for q in questions {
        let x = params
            .clone()
            .append(data::<R, SEQ, DIGITS>(&[*q], &[reversed(q)]));
        let (values, bounds) = graph.eval_certified(EList::zero(), x.clone());
        let enclosed = graph.eval_enclosed_in::<Encl, _>(EList::zero(), x.clone());
        let spec = graph.eval_spec(x.map(|v| v.to_f64()));
        let values: TList<f64, Ctx1> = values.map(|v| v.to_f64());
        let enclosed_bounds = enclosed.bounds();
        let exact = enclosed.enclosures();

        // The answer, and the digits whose winner is certified: by the composed bound (margin
        // > 2 · bound) and by the enclosures of the exact logits.
        let (z, e) = (values.get(logits), exact.get(logits));
        let bound = bounds.get(logits);
        let mut answer = String::new();
        let (mut by_bound, mut by_enclosure) = (0, 0);
        for (row, enc) in z.as_slice().chunks(VOCAB).zip(e.as_slice().chunks(VOCAB)) {
            let best = argmax(row);
            let others = |j: &usize| *j != best;
            let runner_up = (0..VOCAB)
                .filter(others)
                .fold(f64::NEG_INFINITY, |m, j| m.max(row[j]));
            let enclosed_runner_up = (0..VOCAB)
                .filter(others)
                .fold(f64::NEG_INFINITY, |m, j| m.max(enc[j].hi()));
            answer.push(char::from(b'0' + best as u8));
            by_bound += usize::from(row[best] - runner_up > 2.0 * bound);
            by_enclosure += usize::from(enc[best].lo() > enclosed_runner_up);
        }
        let question: String = q.iter().map(|&d| char::from(b'0' + d)).collect();

        let mut slots: Vec<(&str, usize)> = residual
            .iter()
            .zip(["embedding", "block 1", "block 2"])
            .map(|(&r, name)| (name, r.pos()))
            .collect();
        slots.push(("logits", logits.pos()));
        slots.push(("loss", loss.pos()));
        let (rt, spec, exact) = (
            values.slot_slices().collect::<Vec<_>>(),
            spec.slot_slices().collect::<Vec<_>>(),
            exact.slot_slices().collect::<Vec<_>>(),
        );
        for (k, (name, pos)) in slots.into_iter().enumerate() {
            let b = bounds.as_slice()[pos];
            let be = enclosed_bounds.as_slice()[pos];
            let (lo, hi) = enclosed_error(exact[pos], rt[pos]);
            let (qcol, acol) = if k == 0 {
                (question.as_str(), answer.as_str())
            } else {
                ("", "")
            };
            println!(
                "  {qcol:<10} {acol:>9} {name:>10} {b:>10.2e} {be:>10.2e} {:>23} {:>10.2e}",
                format!("[{lo:.2e}, {hi:.2e}]"),
                spec_error(spec[pos], rt[pos]),
            );
            if lo > b || lo > be {
                return Err(format!(
                    "a certified bound of slot `{name}` was exceeded: {b:e} or {be:e} < {lo:e}"
                ));
            }
        }
        found.push(Certified {
            bounds: bounds.as_slice().to_vec(),
            enclosed: enclosed_bounds.as_slice().to_vec(),
            by_bound,
            by_enclosure,
        });
    }
    Ok(found)
}

/// Certifies the f32 and the f64 inference of the trained model on `questions` and prints a
/// summary (with `all_bounds`, both bounds of every node on the first question).
fn certify_all(
    params: &TList<f32, Params>,
    questions: &[Question],
    all_bounds: bool,
) -> Result<(), String> {
    let (graph, _) = RevGraph::<f32, f64, Inputs1, _>::try_build_with(|b| {
        model::transformer::<_, 1, SEQ, HEADS, DIGITS>(b).map(|(b, _)| (b, ()))
    })
    .map_err(|e: ConstantError| e.to_string())?;
    let names: Vec<&str> = graph.node_names().collect();
    let digits = questions.len() * DIGITS;
    println!(
        "\ncertified inference on {} held-out questions: the same model for one sequence as a \
         RevGraph<R, f64> ({} nodes), the trained parameters and the tokens as inputs (input \
         bounds 0); each bound is on the distance from the runtime values to the exact \
         real-arithmetic values, composed node by node (Lean's evalBounds) or read off the \
         enclosure mode (eval_enclosed_in::<Ball>: per-entry enclosures of the exact values, \
         double-double midpoints), whose enclosures also give the error actually made",
        questions.len(),
        names.len()
    );
    let mut per_runtime = Vec::new();
    for runtime in ["f32", "f64"] {
        println!("\n{runtime} runtime: RevGraph<{runtime}, f64>");
        let found = if runtime == "f32" {
            certify::<f32>(params, questions)?
        } else {
            certify::<f64>(params, questions)?
        };
        let by_bound: usize = found.iter().map(|c| c.by_bound).sum();
        let by_enclosure: usize = found.iter().map(|c| c.by_enclosure).sum();
        print!(
            "  answer digits certified (the exact model predicts the same digit): {by_bound} of \
             {digits} by the composed bounds (logit margin > 2 · bound), {by_enclosure} of \
             {digits} by the enclosure mode"
        );
        let first_infinite = found
            .iter()
            .filter_map(|c| c.bounds.iter().position(|b| b.is_infinite()))
            .min();
        match first_infinite {
            Some(slot) => println!(
                "; the composed bounds are infinite from node {} (`{}`) on",
                slot - Inputs1::LEN,
                names[slot - Inputs1::LEN]
            ),
            None => println!(),
        }
        per_runtime.push(found);
    }
    if all_bounds {
        println!("\ncertified bounds of every node, first question (composed / enclosure):");
        println!(
            "  {:>4} {:<34} {:>10} {:>10} {:>10} {:>10}",
            "node", "op", "f32 comp", "f32 encl", "f64 comp", "f64 encl"
        );
        for (k, name) in names.iter().enumerate() {
            let slot = Inputs1::LEN + k;
            let (a, b) = (&per_runtime[0][0], &per_runtime[1][0]);
            println!(
                "  {k:>4} {name:<34} {:>10.2e} {:>10.2e} {:>10.2e} {:>10.2e}",
                a.bounds[slot], a.enclosed[slot], b.bounds[slot], b.enclosed[slot]
            );
        }
    }
    Ok(())
}
