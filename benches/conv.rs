//! The convolution item of the performance issue: two stacked `conv2d` layers on a LeNet-sized
//! batch (`x: 64 × 1 × 28 × 28`, conv 1 → 6 channels 5 × 5, then conv 6 → 16 channels 5 × 5,
//! stride 1, no padding, with biases, f32; no activation in between), forward and backward for
//! a dense seed on the `64 × 16 × 20 × 20` output:
//!
//! - shapetape, `GraphData::backprop_prefix::<Params>` (the outputs and the gradients of the
//!   four parameters `w1, b1, w2, b2`; the data `x` is the last input and gets no cotangent),
//!   inputs moved in and taken back from the returned context, the seed cloned each step;
//! - the same forward and backward written here by hand: im2col, one `Element::gemm` per layer
//!   and direction (the same matrix kernel as the library), bias added while scattering the
//!   product into NCHW, col2im for the input gradient. It does not call the library's
//!   convolution code. Target: shapetape ≤ 1.2 × hand.
//!
//! `backprop_ctx` (which also returns the cotangent of `x`) is shown beside the hand code that
//! computes it too. The PyTorch eager comparison is `peers/torch_conv.py` (pass it the
//! `backprop_prefix` time printed here with `--rust-us`).
//!
//! `cargo bench --bench conv` prints the report, then runs the criterion groups;
//! `REPORT_ONLY=1 cargo bench --bench conv` prints only the report.

mod common;

use common::{Case, info_row, measure, print_times, ratio_row, sink};
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

/// One stride-1, unpadded, one-group convolution layer, written by hand.
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
    fn patch(self) -> usize {
        self.c * K * K
    }
    fn positions(self) -> usize {
        self.oh * self.oh
    }
    fn columns(self) -> usize {
        N * self.positions()
    }

    /// The `(c·K·K) × (N·OH·OW)` matrix of windows: row `(c, a, b)`, column `(n, i, j)`,
    /// entry `x[n, c, i + a, j + b]`.
    fn im2col(self, x: &[f32]) -> Vec<f32> {
        let (h, oh) = (self.h, self.oh);
        let mut cols = Vec::with_capacity(self.patch() * self.columns());
        for c in 0..self.c {
            for a in 0..K {
                for b in 0..K {
                    for n in 0..N {
                        let plane = &x[(n * self.c + c) * h * h..][..h * h];
                        for i in 0..oh {
                            cols.extend_from_slice(&plane[(i + a) * h + b..][..oh]);
                        }
                    }
                }
            }
        }
        cols
    }

    /// The forward pass from the im2col matrix: `W · cols`, bias added while laying the
    /// product `O × (N·P)` out as NCHW.
    fn forward(self, w: &[f32], bias: &[f32], cols: &[f32]) -> Vec<f32> {
        let (p, cols_n) = (self.positions(), self.columns());
        let prod = f32::gemm(w, false, cols, false, self.o, self.patch(), cols_n);
        let mut y = vec![0.0f32; N * self.o * p];
        for n in 0..N {
            for o in 0..self.o {
                let src = &prod[o * cols_n + n * p..][..p];
                let dst = &mut y[(n * self.o + o) * p..][..p];
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d = s + bias[o];
                }
            }
        }
        y
    }

    /// The backward pass for the output cotangent `dy` (NCHW): `(dW, db, dx)`, `dx` only when
    /// `want_dx`.
    fn backward(
        self,
        w: &[f32],
        cols: &[f32],
        dy: &[f32],
        want_dx: bool,
    ) -> (Vec<f32>, Vec<f32>, Option<Vec<f32>>) {
        let (p, cols_n) = (self.positions(), self.columns());
        // `dy` as the `O × (N·P)` matrix of the product.
        let mut d = vec![0.0f32; self.o * cols_n];
        for n in 0..N {
            for o in 0..self.o {
                d[o * cols_n + n * p..][..p].copy_from_slice(&dy[(n * self.o + o) * p..][..p]);
            }
        }
        let db: Vec<f32> = d.chunks_exact(cols_n).map(|r| r.iter().sum()).collect();
        let dw = f32::gemm(&d, false, cols, true, self.o, cols_n, self.patch());
        let dx = want_dx.then(|| {
            let dcols = f32::gemm(w, true, &d, false, self.patch(), self.o, cols_n);
            self.col2im(&dcols)
        });
        (dw, db, dx)
    }

    /// The adjoint of [`Layer::im2col`]: every column entry added back onto its input pixel.
    fn col2im(self, dcols: &[f32]) -> Vec<f32> {
        let (h, oh) = (self.h, self.oh);
        let mut dx = vec![0.0f32; N * self.c * h * h];
        let mut rows = dcols.chunks_exact(oh);
        for c in 0..self.c {
            for a in 0..K {
                for b in 0..K {
                    for n in 0..N {
                        let plane = &mut dx[(n * self.c + c) * h * h..][..h * h];
                        for i in 0..oh {
                            let src = rows.next().expect("the column matrix has every row");
                            let dst = &mut plane[(i + a) * h + b..][..oh];
                            for (d, &s) in dst.iter_mut().zip(src) {
                                *d += s;
                            }
                        }
                    }
                }
            }
        }
        dx
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
        let cols1 = L1.im2col(&self.x);
        let y1 = L1.forward(&self.w1, &self.b1, &cols1);
        let cols2 = L2.im2col(&y1);
        let y2 = L2.forward(&self.w2, &self.b2, &cols2);
        let (dw2, db2, dy1) = L2.backward(&self.w2, &cols2, &self.seed, true);
        let dy1 = dy1.expect("asked for");
        let (dw1, db1, dx) = L1.backward(&self.w1, &cols1, &dy1, want_dx);
        HandOut {
            y2,
            grads: [dw1, db1, dw2, db2],
            dx,
        }
    }
}

/// The five matrix products of [`Hand::step`] without `dx` (two forward, the weight gradients
/// and the column gradient of the second layer), on operands prepared in advance: the part of
/// a step spent in the kernel.
struct GemmsOnly {
    w1: Vec<f32>,
    w2: Vec<f32>,
    cols1: Vec<f32>,
    cols2: Vec<f32>,
    d1: Vec<f32>,
    d2: Vec<f32>,
}

impl GemmsOnly {
    fn new(hand: &Hand) -> Self {
        let cols1 = L1.im2col(&hand.x);
        let y1 = L1.forward(&hand.w1, &hand.b1, &cols1);
        let cols2 = L2.im2col(&y1);
        // Any operands of the right sizes do: the time does not depend on the values.
        GemmsOnly {
            w1: hand.w1.clone(),
            w2: hand.w2.clone(),
            d1: y1[..C1 * L1.columns()].to_vec(),
            d2: hand.seed.clone(),
            cols1,
            cols2,
        }
    }

    fn run(&self) -> [Vec<f32>; 5] {
        let (p1, p2, n1, n2) = (L1.patch(), L2.patch(), L1.columns(), L2.columns());
        [
            f32::gemm(&self.w1, false, &self.cols1, false, C1, p1, n1),
            f32::gemm(&self.w2, false, &self.cols2, false, C2, p2, n2),
            f32::gemm(&self.d2, false, &self.cols2, true, C2, n2, p2),
            f32::gemm(&self.w2, true, &self.d2, false, p2, C2, n2),
            f32::gemm(&self.d1, false, &self.cols1, true, C1, n1, p1),
        ]
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
        Case::new("hand: im2col + gemm, forward + parameter grads", || {
            sink(hand.step(false))
        }),
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
        Case::new("hand: its five gemms alone (no im2col, no layout)", || {
            sink(gemms.run())
        }),
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
