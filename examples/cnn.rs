//! Train a small convolutional network on the UCI handwritten digits with Adam, then certify
//! its f32 predictions on the held-out images.
//!
//! ```text
//! cargo run --release --example cnn [-- OPTIONS]
//!
//!   --epochs N    training epochs (default 600)
//!   --plot FILE   where to write the loss curve PNG (default: target/cnn-loss.png in the
//!                 crate's directory)
//!   --help        print this help
//! ```
//!
//! **The data** (`examples/data/digits.safetensors`, written by `scripts/export_digits.py`):
//! the "Optical Recognition of Handwritten Digits" data set of the UCI Machine Learning
//! Repository (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0), in the copy shipped with scikit-learn
//! (`sklearn.datasets.load_digits`, BSD-3-Clause): 1797 grey images of 8×8 pixels with values
//! `0..=16`, stored divided by 16 (so in `[0, 1]`, exactly representable), and their digits.
//! The first 80 % (1437 images, in scikit-learn's order) are the training set and the last 360
//! the test set.
//!
//! **The model** (`examples/support/cnn_model.rs`, written once for every graph kind and batch
//! size): `conv2d` 1 → 8 channels (3×3, padding 1), `relu`, 2×2 `max_pool2d`, `conv2d` 8 → 16,
//! `relu`, flatten, `linear_batch` to 10 logits, `cross_entropy_with_integer_labels` (3818
//! parameters). Training is `optim::Adam` with a cosine decay of the learning rate, on
//! shuffled minibatches of 32 whose images are each shifted by a random `(dy, dx) ∈ {−1, 0,
//! 1}²` pixels (zero fill; without this augmentation the test accuracy stays near 92–94 %:
//! the last fifth of the data set comes from other writers than most of the rest), the
//! gradient from `GraphData::backprop_prefix::<Params>`. The goal is ≥ 97 % test accuracy
//! (the example fails otherwise, with the default settings).
//!
//! **Certification.** The same function then builds the model for one image as a
//! `RevGraph<f32, f64, …>`. With the trained f32 parameters and the image as inputs (input
//! bounds 0: the f64 spec reads the same numbers), both certification modes bound the distance
//! of the f32 logits to the logits of the same model in exact real arithmetic:
//! `eval_certified` gives one composed bound `ε` (Lean's `evalBounds`), and a prediction is
//! certified when the top logit beats the runner-up by more than `2ε`; `eval_enclosed` gives an
//! enclosure of every exact logit, and a prediction is certified when the enclosure of the top
//! one lies above all the others. Either way the exact-arithmetic model then predicts the same
//! class. Beside the bounds the example prints the error measured against the f64 evaluation
//! `eval_spec` (itself rounded, so a measure of the error's size, not an exact value).
//!
//! A progress bar shows the epochs when standard output is a terminal; the per-epoch lines are
//! printed in any case. Everything is deterministic (fixed seeds).

#[path = "support/cnn_model.rs"]
mod cnn_model;
#[path = "support/loss_plot.rs"]
mod loss_plot;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use cnn_model::{CLASSES, Data, Params, SIDE};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use shapetape::approx::{EList, RevGraph};
use shapetape::autograd::{Cotangent, GraphData};
use shapetape::ops::Nchw;
use shapetape::optim::{Adam, AdamConfig};
use shapetape::prelude::*;
use shapetape::rng::SplitMix64;
use shapetape::safetensors::TensorFile;

/// Images in the data file.
const IMAGES: usize = 1797;
/// Pixels per image.
const PIXELS: usize = SIDE * SIDE;
/// Training images: the first 80 % (rounded down).
const TRAIN: usize = IMAGES * 4 / 5;
/// Test images: the rest.
const TEST: usize = IMAGES - TRAIN;
/// Minibatch size of training.
const BATCH: usize = 32;
/// Batch of the test-accuracy graph (divides `TEST`).
const EVAL_BATCH: usize = 40;
const EPOCHS: usize = 600;
/// The peak learning rate (cosine decay to 0 over the epochs).
const LEARNING_RATE: f64 = 5e-3;
/// Certified predictions printed one per line (the others are summarised).
const SHOWN: usize = 20;
/// The test accuracy the example must reach with the default settings.
const TARGET_ACCURACY: f64 = 0.97;

type Inputs = cnn_model::Inputs<BATCH>;
type Nodes = cnn_model::Nodes<BATCH>;
type Ctx = Cat<Inputs, Nodes>;
type Train = GraphData<f32, (), Inputs, Nodes>;

type EvalInputs = cnn_model::Inputs<EVAL_BATCH>;
type EvalNodes = cnn_model::Nodes<EVAL_BATCH>;
type EvalCtx = Cat<EvalInputs, EvalNodes>;

type CertInputs = cnn_model::Inputs<1>;
type CertNodes = cnn_model::Nodes<1>;
type CertCtx = Cat<CertInputs, CertNodes>;

const USAGE: &str = "usage: cargo run --release --example cnn [-- OPTIONS]

  --epochs N    training epochs (default 600)
  --plot FILE   write the loss curve PNG here (default: target/cnn-loss.png)
  --help        print this help";

/// The command line.
struct Options {
    epochs: usize,
    plot: PathBuf,
}

/// Parses `--flag VALUE` and `--flag=VALUE`; `Ok(None)` for `--help`.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Option<Options>, String> {
    let mut options = Options {
        epochs: EPOCHS,
        plot: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/cnn-loss.png"),
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
        if !matches!(flag, "--epochs" | "--plot") {
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
        if flag == "--epochs" {
            options.epochs = value
                .to_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("--epochs needs a whole number, not {value:?}"))?;
        } else {
            options.plot = PathBuf::from(value);
        }
    }
    Ok(Some(options))
}

// ------------------------------------------------------------------------------------ data

/// The data set: `images[i]` (64 pixels in `[0, 1]`, row-major) has the digit `labels[i]`.
struct Digits {
    images: Vec<f32>,
    labels: Vec<usize>,
}

/// Reads and checks `examples/data/digits.safetensors` (with dimensions given at run time:
/// 1797 images are a data set, not a type).
fn load_digits() -> Result<Digits, String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/digits.safetensors");
    let at = |e: String| format!("`{}`: {e}", path.display());
    let bytes = std::fs::read(&path).map_err(|e| at(e.to_string()))?;
    let file = TensorFile::parse(&bytes).map_err(|e| at(e.to_string()))?;
    let images = file
        .values_with_dims::<f32>("images", &[IMAGES, 1, SIDE, SIDE])
        .map_err(|e| at(e.to_string()))?;
    let labels = file
        .values_with_dims::<f32>("labels", &[IMAGES])
        .map_err(|e| at(e.to_string()))?;
    if let Some(p) = images.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(at(format!("a pixel value {p} is outside [0, 1]")));
    }
    let labels = labels
        .iter()
        .map(|&l| {
            if l >= 0.0 && l < CLASSES as f32 && l.fract() == 0.0 {
                Ok(l as usize)
            } else {
                Err(at(format!("a label {l} is not a digit")))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Digits { images, labels })
}

impl Digits {
    /// The data slots of the images `rows`, at the scalar `A` (all values are exact in f32,
    /// hence in any wider format).
    fn batch<A: Real, const B: usize>(&self, rows: &[usize]) -> TList<A, Data<B>>
    where
        Nchw<B, 1, SIDE, SIDE>: Shape,
        Vector<B>: Shape,
    {
        let mut flat = Vec::with_capacity(B * (PIXELS + 1));
        for &r in rows {
            let image = &self.images[r * PIXELS..][..PIXELS];
            flat.extend(image.iter().map(|&p| A::from_f64(f64::from(p))));
        }
        flat.extend(rows.iter().map(|&r| A::from_f64(self.labels[r] as f64)));
        TList::try_from_flat(flat).expect("one image and one label per row")
    }
}

/// The training slots of the images `rows`, each shifted by `shifts[k] = (dy, dx)` pixels
/// (`-1..=1` each, the uncovered border filled with 0): the data augmentation.
fn shifted_batch<const B: usize>(
    data: &Digits,
    rows: &[usize],
    shifts: &[(isize, isize)],
) -> TList<f32, Data<B>>
where
    Nchw<B, 1, SIDE, SIDE>: Shape,
    Vector<B>: Shape,
{
    let mut flat = Vec::with_capacity(B * (PIXELS + 1));
    for (&r, &(dy, dx)) in rows.iter().zip(shifts) {
        let image = &data.images[r * PIXELS..][..PIXELS];
        for i in 0..SIDE as isize {
            for j in 0..SIDE as isize {
                let (si, sj) = (i - dy, j - dx);
                let inside = (0..SIDE as isize).contains(&si) && (0..SIDE as isize).contains(&sj);
                flat.push(if inside {
                    image[(si * SIDE as isize + sj) as usize]
                } else {
                    0.0
                });
            }
        }
    }
    flat.extend(rows.iter().map(|&r| data.labels[r] as f32));
    TList::try_from_flat(flat).expect("one image and one label per row")
}

/// PyTorch's default initialisation of `nn.Conv2d` and `nn.Linear`: weights and biases
/// uniform in `±1/√fan_in` (`fan_in` the product of a weight's axes after the first).
fn init_params(rng: &mut SplitMix64) -> TList<f32, Params> {
    let layout = Params::layout();
    let mut flat = Vec::new();
    for pair in layout.chunks(2) {
        let fan_in: usize = pair[0].dims[1..].iter().product();
        let r = 1.0 / (fan_in as f64).sqrt();
        for l in pair {
            flat.extend((0..l.size).map(|_| rng.uniform(-r, r) as f32));
        }
    }
    TList::try_from_flat(flat).expect("one value per parameter entry")
}

/// The index of the largest entry of `row` (the first on ties).
fn argmax<T: PartialOrd>(row: &[T]) -> usize {
    (1..row.len()).fold(0, |best, i| if row[i] > row[best] { i } else { best })
}

/// Test accuracy of `params`, `EVAL_BATCH` images at a time.
fn test_accuracy(
    graph: &GraphData<f32, (), EvalInputs, EvalNodes>,
    logits: Idx<EvalCtx, Matrix<EVAL_BATCH, CLASSES>>,
    params: &TList<f32, Params>,
    data: &Digits,
) -> f64 {
    let rows: Vec<usize> = (TRAIN..IMAGES).collect();
    let mut right = 0usize;
    for chunk in rows.chunks(EVAL_BATCH) {
        let ctx = graph.eval(
            params.clone().append(data.batch::<f32, EVAL_BATCH>(chunk)),
            &(),
        );
        for (z, &r) in ctx.get(logits).as_slice().chunks(CLASSES).zip(chunk) {
            right += usize::from(argmax(z) == data.labels[r]);
        }
    }
    right as f64 / TEST as f64
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
    const { assert!(TEST % EVAL_BATCH == 0) };
    let start = Instant::now();
    let data = load_digits()?;
    let mut rng = SplitMix64::new(2026);
    let mut params = init_params(&mut rng);

    let (graph, (_, loss_slot)) = Train::build_with(|b| {
        let (b, (z, loss)) = cnn_model::cnn::<_, BATCH>(b);
        let idx = (b.idx(z), b.idx(loss));
        (b, idx)
    });
    let (eval_graph, (eval_logits, _)) =
        GraphData::<f32, (), EvalInputs, EvalNodes>::build_with(|b| {
            let (b, (z, loss)) = cnn_model::cnn::<_, EVAL_BATCH>(b);
            let idx = (b.idx(z), b.idx(loss));
            (b, idx)
        });
    let seed = Cotangent::<f32, Ctx>::single(loss_slot, Tensor::new(1.0));
    let count: usize = params.slot_slices().map(<[f32]>::len).sum();
    println!(
        "training a CNN ({} nodes, {count} parameters) on the UCI digits ({TRAIN} training, \
         {TEST} test images of 8×8): Adam, peak lr {LEARNING_RATE} (cosine decay), batch \
         {BATCH}, shifts of ±1 pixel, {} epochs",
        graph.len(),
        options.epochs
    );
    let mut opt = Adam::new(
        &params,
        AdamConfig {
            lr: LEARNING_RATE,
            ..AdamConfig::default()
        },
    )
    .map_err(|e| e.to_string())?;

    // Drawn on standard output, and hidden (println included) when it is not a terminal.
    let bar =
        ProgressBar::with_draw_target(Some(options.epochs as u64), ProgressDrawTarget::stdout());
    if let Ok(style) = ProgressStyle::with_template("{bar:40.cyan/blue} epoch {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    let mut order: Vec<usize> = (0..TRAIN).collect();
    let mut losses = Vec::with_capacity(options.epochs);
    for epoch in 1..=options.epochs {
        rng.shuffle(&mut order);
        // Cosine decay of the learning rate over the epochs.
        let t = (epoch - 1) as f64 / options.epochs as f64;
        opt.set_lr(LEARNING_RATE * 0.5 * (1.0 + (core::f64::consts::PI * t).cos()))
            .map_err(|e| e.to_string())?;
        let (mut total, mut steps) = (0.0f32, 0usize);
        // The last partial batch of every epoch is dropped (another one next epoch).
        for rows in order.chunks_exact(BATCH) {
            // Every training image shifted by a random (dy, dx) in {-1, 0, 1}².
            let shifts: Vec<(isize, isize)> = rows
                .iter()
                .map(|_| (rng.below(3) as isize - 1, rng.below(3) as isize - 1))
                .collect();
            let inputs = params
                .clone()
                .append(shifted_batch::<BATCH>(&data, rows, &shifts));
            let (ctx, grads) = graph.backprop_prefix::<Params>(inputs, &(), seed.clone());
            let loss = ctx.get(loss_slot).as_slice()[0];
            if !loss.is_finite() {
                bar.finish_and_clear();
                return Err(format!("the loss diverged in epoch {epoch}: {loss}"));
            }
            opt.step(&mut params, &grads);
            total += loss;
            steps += 1;
        }
        let mean = total / steps as f32;
        losses.push(mean);
        let line = if epoch % 10 == 0 || epoch == options.epochs {
            let acc = test_accuracy(&eval_graph, eval_logits, &params, &data);
            format!(
                "epoch {epoch:3}  mean loss {mean:.4}  test accuracy {:6.2}%  {:5.1} s",
                100.0 * acc,
                start.elapsed().as_secs_f64()
            )
        } else {
            format!("epoch {epoch:3}  mean loss {mean:.4}")
        };
        if bar.is_hidden() {
            println!("{line}");
        } else {
            bar.println(line);
        }
        bar.set_message(format!("loss {mean:.4}"));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let trained = start.elapsed().as_secs_f64();
    let accuracy = test_accuracy(&eval_graph, eval_logits, &params, &data);
    println!(
        "test accuracy: {:.2}% ({} of {TEST}); trained in {trained:.1} s",
        100.0 * accuracy,
        (accuracy * TEST as f64).round()
    );
    if !losses.is_empty() {
        let title = format!("CNN on the UCI digits: Adam, peak lr {LEARNING_RATE}, batch {BATCH}");
        loss_plot::draw_loss_curve(&options.plot, &title, &losses)
            .map_err(|e| format!("--plot: {e}"))?;
        println!("wrote the loss curve to `{}`", options.plot.display());
    }

    certify(&params, &data)?;
    println!("total time {:.1} s", start.elapsed().as_secs_f64());

    if options.epochs == EPOCHS && accuracy < TARGET_ACCURACY {
        return Err(format!(
            "the CNN should reach {:.0}% test accuracy, but reached {:.2}%",
            100.0 * TARGET_ACCURACY,
            100.0 * accuracy
        ));
    }
    Ok(())
}

// --------------------------------------------------------------------------- certification

/// Builds the model for one image as a `RevGraph<f32, f64, …>` and certifies the prediction of
/// every test image in both certification modes: with the composed bounds (top logit minus
/// runner-up `> 2ε`, `ε` the composed bound of the logits) and with the enclosure mode (the
/// enclosure of the top exact logit lies above those of all others). Prints, per image, the
/// predicted class, both bounds, the error measured against the f64 spec and both verdicts.
fn certify(params: &TList<f32, Params>, data: &Digits) -> Result<(), String> {
    let start = Instant::now();
    let (graph, (logits, _)) = RevGraph::<f32, f64, CertInputs, CertNodes>::build_with(|b| {
        let (b, (z, loss)) = cnn_model::cnn::<_, 1>(b);
        let idx = (b.idx(z), b.idx(loss));
        (b, idx)
    });
    let logits: Idx<CertCtx, Matrix<1, CLASSES>> = logits;
    println!(
        "\ncertified inference on the {TEST} test images: the same model for one image as a \
         RevGraph<f32, f64> ({} nodes), the trained f32 parameters and the image as inputs \
         (input bounds 0). A prediction is certified (the exact real-arithmetic model predicts \
         the same class) by the composed bounds when the top logit beats the runner-up by more \
         than 2ε, and by the enclosure mode when the enclosure of the top exact logit lies \
         above the enclosures of all the others",
        graph.len()
    );
    println!(
        "  {:>5} {:>5} {:>9} {:>10} {:>11} {:>11} {:>10}  certified (composed, enclosure)",
        "image", "label", "predicted", "margin", "ε composed", "ε enclosure", "|f32−f64|"
    );
    let (mut certified, mut enclosed_certified, mut right) = (0usize, 0usize, 0usize);
    let (mut max_bound, mut max_enclosed, mut max_err) = (0.0f64, 0.0f64, 0.0f64);
    let mut uncertified = Vec::new();
    for (k, r) in (TRAIN..IMAGES).enumerate() {
        let x = params.clone().append(data.batch::<f32, 1>(&[r]));
        let (values, bounds) = graph.eval_certified(EList::zero(), x.clone());
        let enclosed = graph.eval_enclosed(EList::zero(), x.clone());
        let spec = graph.eval_spec(x.map(|&v| f64::from(v)));
        let (z, zs) = (values.get(logits), spec.get(logits));
        let (z, zs) = (z.as_slice(), zs.as_slice());
        let eps = bounds.get(logits);
        let eps_enclosed = enclosed.bounds().get(logits);
        let best = argmax(z);
        let others = (0..CLASSES).filter(|&j| j != best);
        let runner_up = others.clone().fold(f32::NEG_INFINITY, |m, j| m.max(z[j]));
        let margin = f64::from(z[best]) - f64::from(runner_up);
        let is_certified = margin > 2.0 * eps;
        let enc = enclosed.enclosures().get(logits);
        let enc = enc.as_slice();
        let by_enclosure = others.clone().all(|j| enc[best].lo() > enc[j].hi());
        let err = z
            .iter()
            .zip(zs)
            .fold(0.0f64, |m, (&a, &s)| m.max((f64::from(a) - s).abs()));
        certified += usize::from(is_certified);
        enclosed_certified += usize::from(by_enclosure);
        right += usize::from(best == data.labels[r]);
        max_bound = max_bound.max(eps);
        max_enclosed = max_enclosed.max(eps_enclosed);
        max_err = max_err.max(err);
        let verdict = |c: bool| if c { "yes" } else { "NO" };
        let line = format!(
            "  {r:>5} {:>5} {best:>9} {margin:>10.3e} {eps:>11.3e} {eps_enclosed:>11.3e} \
             {err:>10.3e}  {}, {}",
            data.labels[r],
            verdict(is_certified),
            verdict(by_enclosure),
        );
        if k < SHOWN {
            println!("{line}");
        } else if !(is_certified && by_enclosure) {
            uncertified.push(line);
        }
    }
    if !uncertified.is_empty() {
        println!("  … and the other images with a prediction left uncertified by a mode:");
        for line in uncertified {
            println!("{line}");
        }
    } else {
        println!("  … ({} more images, all certified by both)", TEST - SHOWN);
    }
    println!(
        "certified predictions: {certified} of {TEST} by the composed bounds (logit bounds up to \
         {max_bound:.2e}), {enclosed_certified} of {TEST} by the enclosure mode (up to \
         {max_enclosed:.2e}); {right} of {TEST} correct; measured f32 − f64 errors up to \
         {max_err:.2e}; {:.2} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
