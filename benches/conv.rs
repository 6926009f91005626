//! The convolution item of the performance issue: two stacked `conv2d` layers on a LeNet-sized
//! batch (`x: 64 × 1 × 28 × 28`, conv 1 → 6 channels 5 × 5, then conv 6 → 16 channels 5 × 5,
//! stride 1, no padding, with biases, f32; no activation in between), forward and backward for
//! a dense seed on the `64 × 16 × 20 × 20` output:
//!
//! - shapetape, `GraphData::backprop_prefix::<Params>` (the outputs and the gradients of the
//!   four parameters `w1, b1, w2, b2`; the data `x` is the last input and gets no cotangent),
//!   inputs moved in and taken back from the returned context, the seed cloned each step;
//! - the same forward and backward written here by hand, the straightforward way with the same
//!   matrix kernel as the library (matrixmultiply's SGEMM, through ndarray's `general_mat_mul`):
//!   for each sample, im2col into a `(C·5·5) × (OH·OW)` buffer allocated once per layer and pass,
//!   then one gemm per product, written straight into the output (forward: `y_n = W · cols_n`
//!   onto the bias-prefilled NCHW block; backward: `dW += δ_n · cols_nᵀ` accumulated by the
//!   gemm, `db += δ_n · 𝟙` as row sums, and, for the input gradient, `Wᵀ · δ_n` into a reused
//!   buffer and col2im onto `dx_n`). The backward pass rebuilds each sample's im2col matrix
//!   instead of keeping the batch's. It does not call the library's convolution code.
//!   Target: shapetape ≤ 1.2 × hand.
//!
//! `backprop_ctx` (which also returns the cotangent of `x`) is shown beside the hand code that
//! computes it too. The PyTorch eager comparison is `peers/torch_conv.py` (pass it the
//! `backprop_prefix` time printed here with `--rust-us`).
//!
//! `cargo bench --bench conv` prints the report, then runs the criterion groups;
//! `REPORT_ONLY=1 cargo bench --bench conv` prints only the report.

mod common;

use common::{Case, info_row, measure, print_times, ratio_row, sink};
use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2};
use shapetape::autograd::{Cotangent, GraphData};
use shapetape::ops::{self, Conv2dParams, Nchw};
use shapetape::prelude::*;
use shapetape::rng::SplitMix64;

/// Batch, input size, channels and kernel size.
const N: usize = 64;
const H: usize = 28;
const C1: usize = 6;
const C2: usize = 16;
const K: usize = 5;
/// Output sizes of the two layers.
const H1: usize = H - K + 1;
const H2: usize = H1 - K + 1;

type W1 = Nchw<C1, 1, K, K>;
type W2 = Nchw<C2, C1, K, K>;
type X = Nchw<N, 1, H, H>;
type Y1 = Nchw<N, C1, H1, H1>;
type Y2 = Nchw<N, C2, H2, H2>;
type Params = HList![W1, Vector<C1>, W2, Vector<C2>];
type Inputs = HList![W1, Vector<C1>, W2, Vector<C2>, X];
type Nodes = HList![Y1, Y2];
type Ctx = Cat<Inputs, Nodes>;
type Net = GraphData<f32, (), Inputs, Nodes>;

/// The two convolutions as a graph, and the index of the output.
fn graph() -> (Net, Idx<Ctx, Y2>) {
    GraphData::<f32, (), Inputs, _>::build_with(|b| {
        let hlist_pat![w1, b1, w2, b2, x] = b.inputs();
        let p = Conv2dParams::new();
        let (b, y1) = b.push(|c| ops::conv2d(c.idx(x), c.idx(w1), c.idx(b1), p));
        let (b, y2) = b.push(|c| ops::conv2d(c.idx(y1), c.idx(w2), c.idx(b2), p));
        let y = b.idx(y2);
        (b, y)
    })
}

/// Deterministic inputs (Glorot weights, small biases, pixels in `[0, 1)`) and the seed.
fn inputs() -> (TList<f32, Inputs>, Tensor<f32, Y2>) {
    let mut rng = SplitMix64::new(7);
    let w1: Tensor<f32, W1> = rng.glorot_uniform();
    let b1: Tensor<f32, Vector<C1>> = rng.uniform_tensor(-0.1, 0.1);
    let w2: Tensor<f32, W2> = rng.glorot_uniform();
    let b2: Tensor<f32, Vector<C2>> = rng.uniform_tensor(-0.1, 0.1);
    let x: Tensor<f32, X> = rng.uniform_tensor(0.0, 1.0);
    let seed: Tensor<f32, Y2> = rng.uniform_tensor(-1.0, 1.0);
    (tlist![w1, b1, w2, b2, x], seed)
}

/// `c ← op(a) · op(b) + beta · c`, all row-major: `op(a)` is `m × k` (stored `k × m` and
/// transposed when `ta`), `op(b)` is `k × n` (likewise with `tb`), `c` is `m × n`. ndarray's
/// `general_mat_mul`, i.e. matrixmultiply's SGEMM, the kernel behind the library's f32 gemm.
fn gemm_into(
    a: &[f32],
    ta: bool,
    b: &[f32],
    tb: bool,
    beta: f32,
    c: &mut [f32],
    (m, k, n): (usize, usize, usize),
) {
    let view = |d, r: usize, s: usize, t: bool| {
        let v = if t {
            ArrayView2::from_shape((s, r), d).map(|v| v.reversed_axes())
        } else {
            ArrayView2::from_shape((r, s), d)
        };
        v.expect("operand length")
    };
    let mut c = ArrayViewMut2::from_shape((m, n), c).expect("product length");
    general_mat_mul(1.0, &view(a, m, k, ta), &view(b, k, n, tb), beta, &mut c);
}

/// One stride-1, unpadded, one-group convolution layer, written by hand: im2col of one sample
/// at a time into a buffer reused across the batch, one gemm per sample and product.
#[derive(Clone, Copy)]
struct Layer {
    c: usize,
    o: usize,
    h: usize,
    oh: usize,
}

impl Layer {
    const fn new(c: usize, o: usize, h: usize) -> Self {
        Layer {
            c,
            o,
            h,
            oh: h - K + 1,
        }
    }
    /// Rows of a sample's im2col matrix, `C·K·K`.
    fn patch(self) -> usize {
        self.c * K * K
    }
    /// Columns of a sample's im2col matrix, `OH·OW`.
    fn positions(self) -> usize {
        self.oh * self.oh
    }
    fn in_sample(self) -> usize {
        self.c * self.h * self.h
    }
    fn out_sample(self) -> usize {
        self.o * self.positions()
    }

    /// Writes sample `xn`'s `(C·K·K) × (OH·OW)` matrix of windows into `cols`: row `(c, a, b)`,
    /// column `(i, j)`, entry `xn[c, i + a, j + b]`.
    fn im2col(self, xn: &[f32], cols: &mut [f32]) {
        let (h, oh) = (self.h, self.oh);
        let mut rows = cols.chunks_exact_mut(self.positions());
        for plane in xn.chunks_exact(h * h) {
            for a in 0..K {
                for b in 0..K {
                    let row = rows.next().expect("a row per (c, a, b)");
                    for (i, dst) in row.chunks_exact_mut(oh).enumerate() {
                        dst.copy_from_slice(&plane[(i + a) * h + b..][..oh]);
                    }
                }
            }
        }
    }

    /// The adjoint of [`Layer::im2col`]: every entry of `dcols` added onto its input pixel
    /// of the sample's input gradient `dxn`.
    fn col2im_add(self, dcols: &[f32], dxn: &mut [f32]) {
        let (h, oh) = (self.h, self.oh);
        let mut rows = dcols.chunks_exact(self.positions());
        for plane in dxn.chunks_exact_mut(h * h) {
            for a in 0..K {
                for b in 0..K {
                    let row = rows.next().expect("a row per (c, a, b)");
                    for (i, src) in row.chunks_exact(oh).enumerate() {
                        let dst = &mut plane[(i + a) * h + b..][..oh];
                        for (d, &s) in dst.iter_mut().zip(src) {
                            *d += s;
                        }
                    }
                }
            }
        }
    }

    /// The forward pass `y_n = W · cols_n + b` for every sample, straight into the sample's
    /// block of the NCHW output (prefilled with the bias, then accumulated onto).
    fn forward(self, x: &[f32], w: &[f32], bias: &[f32]) -> Vec<f32> {
        let (p, k) = (self.positions(), self.patch());
        let mut y = vec![0.0f32; N * self.out_sample()];
        let mut cols = vec![0.0f32; k * p];
        for (xn, yn) in x
            .chunks_exact(self.in_sample())
            .zip(y.chunks_exact_mut(self.out_sample()))
        {
            self.im2col(xn, &mut cols);
            for (row, &b) in yn.chunks_exact_mut(p).zip(bias) {
                row.fill(b);
            }
            gemm_into(w, false, &cols, false, 1.0, yn, (self.o, k, p));
        }
        y
    }

    /// The backward pass for the output cotangent `dy` (NCHW): `(dW, db, dx)`, `dx` only when
    /// `want_dx`. Per sample: im2col again, `dW += δ_n · cols_nᵀ`, `db += δ_n · 𝟙`, and
    /// `dx_n = col2im(Wᵀ · δ_n)`.
    fn backward(
        self,
        x: &[f32],
        w: &[f32],
        dy: &[f32],
        want_dx: bool,
    ) -> (Vec<f32>, Vec<f32>, Option<Vec<f32>>) {
        let (p, k) = (self.positions(), self.patch());
        let mut dw = vec![0.0f32; self.o * k];
        let mut db = vec![0.0f32; self.o];
        let mut dx = want_dx.then(|| vec![0.0f32; N * self.in_sample()]);
        let mut cols = vec![0.0f32; k * p];
        let mut dcols = vec![0.0f32; if want_dx { k * p } else { 0 }];
        for (n, (xn, dyn_)) in x
            .chunks_exact(self.in_sample())
            .zip(dy.chunks_exact(self.out_sample()))
            .enumerate()
        {
            self.im2col(xn, &mut cols);
            gemm_into(dyn_, false, &cols, true, 1.0, &mut dw, (self.o, p, k));
            for (s, row) in db.iter_mut().zip(dyn_.chunks_exact(p)) {
                *s += ArrayView1::from(row).sum();
            }
            if let Some(dx) = dx.as_mut() {
                gemm_into(w, true, dyn_, false, 0.0, &mut dcols, (k, self.o, p));
                self.col2im_add(&dcols, &mut dx[n * self.in_sample()..][..self.in_sample()]);
            }
        }
        (dw, db, dx)
    }
}

const L1: Layer = Layer::new(1, C1, H);
const L2: Layer = Layer::new(C1, C2, H1);

/// The hand-written network's operands, as flat NCHW vectors.
struct Hand {
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
    x: Vec<f32>,
    seed: Vec<f32>,
}

/// What one hand-written step returns.
struct HandOut {
    y2: Vec<f32>,
    /// `dw1, db1, dw2, db2`.
    grads: [Vec<f32>; 4],
    dx: Option<Vec<f32>>,
}

impl Hand {
    fn new(x: &TList<f32, Inputs>, seed: &Tensor<f32, Y2>) -> Self {
        let s: Vec<Vec<f32>> = x.slot_slices().map(<[f32]>::to_vec).collect();
        let [w1, b1, w2, b2, x]: [Vec<f32>; 5] = s.try_into().expect("five inputs");
        Hand {
            w1,
            b1,
            w2,
            b2,
            x,
            seed: seed.as_slice().to_vec(),
        }
    }

    /// Forward, then backward for the seed; `dx` too with `want_dx`.
    fn step(&self, want_dx: bool) -> HandOut {
        let y1 = L1.forward(&self.x, &self.w1, &self.b1);
        let y2 = L2.forward(&y1, &self.w2, &self.b2);
        let (dw2, db2, dy1) = L2.backward(&y1, &self.w2, &self.seed, true);
        let dy1 = dy1.expect("asked for");
        let (dw1, db1, dx) = L1.backward(&self.x, &self.w1, &dy1, want_dx);
        HandOut {
            y2,
            grads: [dw1, db1, dw2, db2],
            dx,
        }
    }
}

/// The matrix products of [`Hand::step`] without `dx` (per sample: the two forward products,
/// the two weight gradients and the column gradient of the second layer, with the same betas),
/// on every sample's im2col matrix prepared in advance: the part of a step spent in the kernel.
struct GemmsOnly {
    w1: Vec<f32>,
    w2: Vec<f32>,
    /// Every sample's im2col matrix of each layer, one after the other.
    cols1: Vec<f32>,
    cols2: Vec<f32>,
    d1: Vec<f32>,
    d2: Vec<f32>,
}

impl GemmsOnly {
    fn new(hand: &Hand) -> Self {
        let all_cols = |l: Layer, x: &[f32]| {
            let mut cols = vec![0.0f32; N * l.patch() * l.positions()];
            for (xn, c) in x
                .chunks_exact(l.in_sample())
                .zip(cols.chunks_exact_mut(l.patch() * l.positions()))
            {
                l.im2col(xn, c);
            }
            cols
        };
        let y1 = L1.forward(&hand.x, &hand.w1, &hand.b1);
        // Any operands of the right sizes do: the time does not depend on the values.
        GemmsOnly {
            w1: hand.w1.clone(),
            w2: hand.w2.clone(),
            cols1: all_cols(L1, &hand.x),
            cols2: all_cols(L2, &y1),
            d1: y1,
            d2: hand.seed.clone(),
        }
    }

    /// `y1, y2, dw1, dw2` (the column gradient of the last sample is dropped).
    fn run(&self) -> [Vec<f32>; 4] {
        let (k1, k2, p1, p2) = (L1.patch(), L2.patch(), L1.positions(), L2.positions());
        let mut y1 = vec![0.0f32; N * L1.out_sample()];
        let mut y2 = vec![0.0f32; N * L2.out_sample()];
        let mut dw1 = vec![0.0f32; C1 * k1];
        let mut dw2 = vec![0.0f32; C2 * k2];
        let mut dcols = vec![0.0f32; k2 * p2];
        for n in 0..N {
            let c1 = &self.cols1[n * k1 * p1..][..k1 * p1];
            let c2 = &self.cols2[n * k2 * p2..][..k2 * p2];
            let y1n = &mut y1[n * L1.out_sample()..][..L1.out_sample()];
            gemm_into(&self.w1, false, c1, false, 1.0, y1n, (C1, k1, p1));
            let y2n = &mut y2[n * L2.out_sample()..][..L2.out_sample()];
            gemm_into(&self.w2, false, c2, false, 1.0, y2n, (C2, k2, p2));
            let d2 = &self.d2[n * L2.out_sample()..][..L2.out_sample()];
            gemm_into(d2, false, c2, true, 1.0, &mut dw2, (C2, p2, k2));
            gemm_into(&self.w2, true, d2, false, 0.0, &mut dcols, (k2, C2, p2));
            let d1 = &self.d1[n * L1.out_sample()..][..L1.out_sample()];
            gemm_into(d1, false, c1, true, 1.0, &mut dw1, (C1, p1, k1));
        }
        [y1, y2, dw1, dw2]
    }
}

/// `max |a − b|` and `max |b|`.
fn diff(a: &[f32], b: &[f32]) -> (f32, f32) {
    assert_eq!(a.len(), b.len());
    let d = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    let m = b.iter().map(|y| y.abs()).fold(0.0, f32::max);
    (d, m)
}

/// Checks that shapetape and the hand code agree; prints the largest differences.
fn check(g: &Net, y: Idx<Ctx, Y2>, x: &TList<f32, Inputs>, seed: &Tensor<f32, Y2>, hand: &Hand) {
    let (ctx, grads) =
        g.backprop_prefix::<Params>(x.clone(), &(), Cotangent::single(y, seed.clone()));
    let dense = g.backprop_ctx(x.clone(), &(), TList::single(y, seed.clone()));
    let h = hand.step(true);
    let mut worst_rel = 0.0f32;
    let mut line = String::new();
    let mut cmp = |name: &str, lib: &[f32], hand: &[f32]| {
        let (d, m) = diff(lib, hand);
        worst_rel = worst_rel.max(d / m.max(f32::MIN_POSITIVE));
        line.push_str(&format!(" {name} {d:.2e} (of {m:.2e});"));
    };
    cmp("y2", ctx.get(y).as_slice(), &h.y2);
    let names = ["dw1", "db1", "dw2", "db2"];
    for ((name, lib), hand) in names.iter().zip(grads.slot_slices()).zip(&h.grads) {
        cmp(name, lib, hand);
    }
    let dense: Vec<&[f32]> = dense.slot_slices().collect();
    for (k, name) in names.iter().enumerate() {
        cmp(&format!("{name}(ctx)"), dense[k], &h.grads[k]);
    }
    cmp("dx(ctx)", dense[4], h.dx.as_deref().expect("asked for"));
    println!(
        "conv2d {N}x1x{H}x{H} → {C1} → {C2} channels, {K}x{K}, f32: max |Δ| shapetape vs hand \
         (of max |hand|):{line}"
    );
    println!("  largest |Δ| / max |hand| over all outputs: {worst_rel:.2e}");
    assert!(
        worst_rel < 1e-5,
        "shapetape and the hand-written convolution disagree: relative {worst_rel:e}"
    );
}

fn report() {
    let (g, y) = graph();
    let (x, seed) = inputs();
    let hand = Hand::new(&x, &seed);
    check(&g, y, &x, &seed, &hand);

    let sparse = Cotangent::single(y, seed.clone());
    let dense = TList::<f32, Ctx>::single(y, seed.clone());
    let gemms = GemmsOnly::new(&hand);
    let mut state = Some(x.clone());
    let mut cases = vec![
        Case::new(
            "hand: per-sample im2col + gemm, forward + parameter grads",
            || sink(hand.step(false)),
        ),
        Case::new("hand: forward + parameter grads + dx", || {
            sink(hand.step(true))
        }),
        Case::new(
            "shapetape: backprop_prefix::<Params>, inputs moved in/back",
            || {
                let inputs = state.take().expect("the inputs of the previous step");
                let (ctx, grads) = g.backprop_prefix::<Params>(inputs, &(), sparse.clone());
                let (inputs, outputs) = TList::<f32, Inputs>::split::<Nodes>(ctx);
                state = Some(inputs);
                sink((outputs, grads))
            },
        ),
        Case::new("shapetape: backprop_prefix (incl. input clone)", || {
            sink(g.backprop_prefix::<Params>(x.clone(), &(), sparse.clone()))
        }),
        Case::new(
            "shapetape: backprop_ctx (incl. input clone), with dx",
            || sink(g.backprop_ctx(x.clone(), &(), dense.clone())),
        ),
        Case::new("shapetape: eval only (incl. input clone)", || {
            sink(g.eval(x.clone(), &()))
        }),
        Case::new("clone of the seed only", || sink(sparse.clone())),
        Case::new(
            "hand: its per-sample gemms alone (no im2col, bias, col2im)",
            || sink(gemms.run()),
        ),
    ];
    let t = measure(&mut cases);
    print_times(
        "conv2d 64x1x28x28 → 6 → 16 (5x5), forward + backward, shapetape vs hand (same gemm)",
        &cases,
        &t,
    );
    ratio_row(
        "backprop_prefix / hand (outputs + parameter grads)",
        t[2] / t[0],
        1.2,
        false,
    );
    info_row("same, including a clone of the inputs", t[3] / t[0]);
    info_row("backprop_ctx / hand (with dx)", t[4] / t[1]);
    info_row("seed clone / backprop_prefix", t[6] / t[2]);
    info_row("gemms alone / hand (share of the kernel)", t[7] / t[0]);
    println!(
        "  for peers/torch_conv.py: --rust-us {:.1}   (backprop_prefix, inputs moved)",
        t[2] * 1e6
    );
}

fn criterion_groups(c: &mut criterion::Criterion) {
    let (g, y) = graph();
    let (x, seed) = inputs();
    let hand = Hand::new(&x, &seed);
    let sparse = Cotangent::single(y, seed.clone());
    let mut group = c.benchmark_group("conv_lenet");
    group.bench_function("hand_param_grads", |b| b.iter(|| hand.step(false)));
    group.bench_function("shapetape_backprop_prefix", |b| {
        b.iter(|| g.backprop_prefix::<Params>(x.clone(), &(), sparse.clone()))
    });
    group.bench_function("shapetape_eval", |b| b.iter(|| g.eval(x.clone(), &())));
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
