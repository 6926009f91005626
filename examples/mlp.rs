//! Train a 2 → 32 → 2 multilayer perceptron on the two-moons dataset with SGD, using the
//! gradients of `GraphData::backprop_prefix` (the parameter part of `backprop_ctx`).
//!
//! ```text
//! cargo run --release --example mlp [-- OPTIONS]
//!
//!   --weights FILE    initial parameters from a safetensors file (default: seeded Glorot
//!                     initialisation of the weights, zero biases)
//!   --save FILE       write the trained parameters as safetensors
//!   --grads-out FILE  write the gradient of the loss at the initial parameters on the first
//!                     batch, with that batch and the loss, as safetensors
//!   --plot FILE       where to write the loss curve PNG (default: target/mlp-loss.png in
//!                     the crate's directory)
//!   --help            print this help
//! ```
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
//! and the nodes compute `h = tanh(x w1ᵀ + b1)` `[25, 32]`, the logits `z = h w2ᵀ + b2`
//! `[25, 2]` and the mean cross-entropy over the batch,
//! `L = −(1/25) Σ_r Σ_c t[r, c] · log softmax(z[r])[c]` (softmax over the two classes of a row).
//! Everything is deterministic: the data, the initialisation and the shuffling come from fixed
//! seeds.
//!
//! # Files
//!
//! Parameter files (`--weights`, `--save`) hold the four F32 tensors `w1` `[32, 2]`, `b1`
//! `[32]`, `w2` `[2, 32]` and `b2` `[2]`, row-major. The weight matrices are `[outputs,
//! inputs]`, PyTorch's `nn.Linear` layout: the parameters of `nn.Sequential(nn.Linear(2, 32),
//! nn.Tanh(), nn.Linear(32, 2))` are `0.weight`, `0.bias`, `2.weight`, `2.bias` under these
//! names (`tests/fixtures/torch_mlp.safetensors` is such a file). Other entries are ignored.
//!
//! The gradient file (`--grads-out`) holds, all F32:
//!
//! - `w1`, `b1`, `w2`, `b2`: `∂L/∂w1` … `∂L/∂b2`, each of the shape of its parameter;
//! - `x` `[25, 2]` and `t` `[25, 2]`: the batch, points one per row and one-hot labels;
//! - `loss` `[]`: `L` itself.
//!
//! The batch is the first of the first epoch (25 points of the shuffled training set), the
//! parameters those before the first step (from `--weights`, or the seeded initialisation). The
//! data and the order of the batches do not depend on `--weights`. `scripts/check_mlp_grads.py`
//! recomputes `L` and the gradient with numpy (and PyTorch, if installed) from the two files.
//!
//! A progress bar shows the epochs when standard output is a terminal; the per-epoch losses
//! and the accuracy are printed as plain lines in any case. The loss curve (mean training loss
//! of every epoch against the epoch) is drawn by `support/loss_plot.rs`.

#[path = "support/loss_plot.rs"]
mod loss_plot;
#[path = "support/model.rs"]
mod model;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use shapetape::autograd::{Cotangent, GraphData};

use shapetape::prelude::*;
use shapetape::rng::SplitMix64;
use shapetape::safetensors::{LoadError, save_tensors_file};

const HIDDEN: usize = 32;
const BATCH: usize = 25;
const POINTS: usize = 400;
const EPOCHS: usize = 60;
const LEARNING_RATE: f32 = 0.5;

/// The names of the parameter slots in safetensors files.
const PARAM_NAMES: [&str; 4] = ["w1", "b1", "w2", "b2"];

type Params = model::Params<2, HIDDEN, 2>;
type Batch = model::Batch<BATCH, 2, 2>;
type Inputs = model::Inputs<BATCH, 2, HIDDEN, 2>;

/// Outputs of the nodes: pre-activation, activation, logits, loss.
type Nodes = model::Nodes<BATCH, HIDDEN, 2>;
/// The evaluated context `Inputs ++ Nodes`.
type Ctx = Cat<Inputs, Nodes>;
type Mlp = GraphData<f32, (), Inputs, Nodes>;

const USAGE: &str = "usage: cargo run --release --example mlp [-- OPTIONS]

  --weights FILE    initial parameters (safetensors: w1 [32, 2], b1 [32], w2 [2, 32], b2 [2], F32)
  --save FILE       write the trained parameters (same names)
  --grads-out FILE  write the gradient of the loss at the initial parameters on the first
                    batch (w1, b1, w2, b2), the batch (x, t) and the loss (loss)
  --plot FILE       write the loss curve PNG here (default: target/mlp-loss.png)
  --help            print this help";

/// The command line.
struct Options {
    weights: Option<PathBuf>,
    save: Option<PathBuf>,
    grads_out: Option<PathBuf>,
    plot: PathBuf,
}

/// Parses `--flag VALUE` and `--flag=VALUE`; `Ok(None)` for `--help`.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Option<Options>, String> {
    let mut options = Options {
        weights: None,
        save: None,
        grads_out: None,
        plot: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/mlp-loss.png"),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|a| format!("unexpected argument {a:?}"))?;
        if arg == "--help" || arg == "-h" {
            return Ok(None);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(OsString::from(value))),
            _ => (arg.as_str(), None),
        };
        let slot = match flag {
            "--weights" => &mut options.weights,
            "--save" => &mut options.save,
            "--grads-out" => &mut options.grads_out,
            "--plot" => {
                let value = inline
                    .or_else(|| args.next())
                    .filter(|v| !v.is_empty())
                    .ok_or("--plot needs a file name")?;
                options.plot = PathBuf::from(value);
                continue;
            }
            _ if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            _ => return Err(format!("unexpected argument `{arg}`")),
        };
        let value = inline
            .or_else(|| args.next())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{flag} needs a file name"))?;
        *slot = Some(PathBuf::from(value));
    }
    Ok(Some(options))
}

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
        let (b, (z, loss)) = model::classifier::<_, model::Tanh, BATCH, 2, HIDDEN, 2>(b);
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

/// Writes the `--grads-out` file: the parameter gradients, the batch and the loss.
fn write_gradients(
    path: &std::path::Path,
    grads: TList<f32, Params>,
    batch: TList<f32, Batch>,
    loss: f32,
) -> Result<(), String> {
    let hlist_pat![w1, b1, w2, b2] = grads.into_tensors();
    let hlist_pat![x, t] = batch.into_tensors();
    let loss = Tensor::<f32, Scalar>::new(loss);
    save_tensors_file(
        path,
        &[
            ("w1", &w1),
            ("b1", &b1),
            ("w2", &w2),
            ("b2", &b2),
            ("x", &x),
            ("t", &t),
            ("loss", &loss),
        ],
    )
    .map_err(|e| format!("--grads-out: {e}"))
}

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
    let mut rng = SplitMix64::new(2024);
    let points = two_moons(POINTS, 0.1, &mut rng);
    let (graph, logits_slot, loss_slot) = network();

    // The seeded initialisation is always drawn, so that the shuffling that follows does not
    // depend on `--weights`.
    let seeded: TList<f32, Params> = tlist![
        rng.glorot_uniform(),
        Tensor::zeros(),
        rng.glorot_uniform(),
        Tensor::zeros()
    ];
    let mut params = match &options.weights {
        Some(path) => TList::<f32, Params>::load_safetensors_file(path, &PARAM_NAMES).map_err(
            |e| match e {
                LoadError::Io { .. } => format!("--weights: {e}"),
                _ => format!("--weights `{}`: {e}", path.display()),
            },
        )?,
        None => seeded,
    };

    // The seed: cotangent 1 on the loss (the last slot), 0 everywhere else (stored sparsely).
    let seed = Cotangent::<f32, Ctx>::single(loss_slot, Tensor::new(1.0));

    let mut order: Vec<usize> = (0..POINTS).collect();
    println!(
        "training a 2-{HIDDEN}-2 MLP on {POINTS} two-moons points, batch {BATCH}, lr {LEARNING_RATE}, \
         {} parameters",
        match &options.weights {
            Some(path) => format!("initial parameters from `{}`", path.display()),
            None => "seeded initial".to_owned(),
        }
    );
    // Drawn on standard output, and hidden (println included) when it is not a terminal.
    let bar = ProgressBar::with_draw_target(Some(EPOCHS as u64), ProgressDrawTarget::stdout());
    if let Ok(style) = ProgressStyle::with_template("{bar:40.cyan/blue} epoch {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    let mut losses = Vec::with_capacity(EPOCHS);
    for epoch in 1..=EPOCHS {
        rng.shuffle(&mut order);
        let mut total = 0.0;
        for (step, rows) in order.chunks(BATCH).enumerate() {
            let data = batch(&points, rows);
            let inputs = params.clone().append(data.clone());
            // One forward pass gives the loss and the parameter gradients (the data's
            // cotangent, which backprop_ctx would also return, is not computed).
            let (ctx, param_grads) = graph.backprop_prefix::<Params>(inputs, &(), seed.clone());
            let loss = ctx.get(loss_slot).as_slice()[0];
            total += loss;
            if let (1, 0, Some(path)) = (epoch, step, &options.grads_out) {
                if let Err(message) = write_gradients(path, param_grads.clone(), data, loss) {
                    bar.finish_and_clear();
                    return Err(message);
                }
            }
            params = params.sub(&param_grads.scale(&LEARNING_RATE));
        }
        let mean = total / (POINTS / BATCH) as f32;
        losses.push(mean);
        let line = format!("epoch {epoch:3}  mean loss {mean:.4}");
        if bar.is_hidden() {
            println!("{line}");
        } else {
            bar.println(line);
        }
        bar.set_message(format!("loss {mean:.4}"));
        bar.inc(1);
    }
    bar.finish_and_clear();

    // Training accuracy, one batch at a time.
    let all: Vec<usize> = (0..POINTS).collect();
    let mut correct = 0;
    for rows in all.chunks(BATCH) {
        let ctx = graph.eval(params.clone().append(batch(&points, rows)), &());
        let logits = ctx.get(logits_slot);
        let z = logits.as_slice();
        for (r, &row) in rows.iter().enumerate() {
            let predicted = usize::from(z[2 * r + 1] > z[2 * r]);
            correct += usize::from(predicted == points[row].1);
        }
    }
    let accuracy = correct as f64 / POINTS as f64;
    println!(
        "training accuracy: {:.1}% ({correct}/{POINTS})",
        100.0 * accuracy
    );

    if let Some(path) = &options.grads_out {
        println!(
            "wrote the gradient at the initial parameters on the first batch to `{}`",
            path.display()
        );
    }
    if let Some(path) = &options.save {
        params
            .save_safetensors_file(path, &PARAM_NAMES)
            .map_err(|e| format!("--save: {e}"))?;
        println!("wrote the trained parameters to `{}`", path.display());
    }
    let title = format!("MLP 2-{HIDDEN}-2 on two moons: SGD, batch {BATCH}, lr {LEARNING_RATE}");
    loss_plot::draw_loss_curve(&options.plot, &title, &losses)
        .map_err(|e| format!("--plot: {e}"))?;
    println!("wrote the loss curve to `{}`", options.plot.display());

    if options.weights.is_none() && accuracy < 0.95 {
        return Err(format!(
            "the MLP should separate the moons (≥ 95% training accuracy), but reached {:.1}%",
            100.0 * accuracy
        ));
    }
    Ok(())
}
