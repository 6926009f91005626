//! Peer comparisons (target 1 and 4 of the performance issue), in one run:
//!
//! - the MLP step of `../benches/common/mlp.rs` (batch 32, 64 → 256 → 10, f32, ReLU,
//!   cross-entropy) through shapetape's `backprop_ctx`, by hand with ndarray's `dot`, and with
//!   dfdx 0.13 on the CPU (with its default rayon pool and pinned to one thread);
//! - the 256³ f32 matmul through `Element::gemm` vs `matrixmultiply::sgemm` called raw.
//!
//! `cd peers && cargo bench` (this crate is not part of the main crate's workspace).

#[path = "../../benches/common/mod.rs"]
mod common;

use common::mlp::{self, B, H, Hand, I, O};
use common::{Case, info_row, measure, print_times, ratio_row, sink};
use dfdx::prelude::*;
use shapetape::Element;

type DfdxMlp = ((Linear<I, H>, ReLU), Linear<H, O>);

struct Dfdx {
    model: <DfdxMlp as BuildOnDevice<Cpu, f32>>::Built,
    x: Tensor<Rank2<B, I>, f32, Cpu>,
    t: Tensor<Rank2<B, O>, f32, Cpu>,
    grads: Option<Gradients<f32, Cpu>>,
}

impl Dfdx {
    /// The same weights and batch as shapetape's `mlp::inputs()`.
    fn new() -> Self {
        let x = mlp::inputs();
        let s: Vec<Vec<f32>> = x.slot_slices().map(<[f32]>::to_vec).collect();
        let dev = Cpu::default();
        let mut model = dev.build_module::<DfdxMlp, f32>();
        model.0.0.weight = dev.tensor_from_vec(s[0].clone(), (Const::<H>, Const::<I>));
        model.0.0.bias = dev.tensor_from_vec(s[1].clone(), (Const::<H>,));
        model.1.weight = dev.tensor_from_vec(s[2].clone(), (Const::<O>, Const::<H>));
        model.1.bias = dev.tensor_from_vec(s[3].clone(), (Const::<O>,));
        let grads = Some(model.alloc_grads());
        Dfdx {
            x: dev.tensor_from_vec(s[4].clone(), (Const::<B>, Const::<I>)),
            t: dev.tensor_from_vec(s[5].clone(), (Const::<B>, Const::<O>)),
            model,
            grads,
        }
    }

    /// One step: forward, mean cross-entropy, backward; returns the loss. The gradients stay
    /// in `self.grads` (zeroed at the start of the next step, as in dfdx's examples).
    fn step(&mut self) -> f32 {
        let mut g = self.grads.take().expect("gradients");
        self.model.zero_grads(&mut g);
        let logits = self.model.forward(self.x.clone().traced(g));
        // dfdx's loss is the mean over all B·O entries times O; ours (and the hand code's)
        // is the mean over rows — the same number.
        let loss = cross_entropy_with_logits_loss(logits, self.t.clone());
        let value = loss.array();
        self.grads = Some(loss.backward());
        value
    }

    fn w1_grad(&self) -> Vec<f32> {
        self.grads.as_ref().expect("gradients").get(&self.model.0.0.weight).as_vec()
    }
}

fn main() {
    let (g, loss) = mlp::graph();
    let x = mlp::inputs();
    let seed = mlp::seed(loss);
    let sparse_seed = shapetape::autograd::Cotangent::single(loss, shapetape::Tensor::new(1.0f32));
    let hand = Hand::from_inputs(&x);
    let mut dfdx = Dfdx::new();
    let mut dfdx1 = Dfdx::new();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a pool");

    // Sanity: the same loss and gradients.
    let dloss = dfdx.step();
    let lib = g.backprop_ctx(x.clone(), &(), seed.clone());
    let lw1 = lib.slot_slices().next().expect("w1").to_vec();
    let dw1 = dfdx.w1_grad();
    let diff = lw1.iter().zip(&dw1).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    println!(
        "MLP {B}x{I}→{H}→{O} f32: loss dfdx {dloss} / hand {}; max |Δ ∂L/∂w1| dfdx vs shapetape = {diff:.2e}",
        hand.step(false).loss
    );
    println!("rayon threads available to dfdx by default: {}", rayon::current_num_threads());

    let mut cases = vec![
        Case::new("hand (ndarray dot): parameter grads", || sink(hand.step(false))),
        Case::new("shapetape backprop_prefix::<Params> (incl. input clone)", || {
            sink(g.backprop_prefix::<mlp::Params>(x.clone(), &(), sparse_seed.clone()))
        }),
        Case::new("dfdx 0.13 Cpu, default rayon pool", || sink(dfdx.step())),
        Case::new("dfdx 0.13 Cpu, one rayon thread", || {
            sink(one.install(|| dfdx1.step()))
        }),
    ];
    let t = measure(&mut cases);
    print_times("target 1 (peers): MLP step", &cases, &t);
    // The hand-written target row is benches/mlp.rs (dfdx's idle rayon workers spin here and
    // slow every case of this run a little).
    info_row("shapetape / hand (parameter grads, incl. input clone)", t[1] / t[0]);
    ratio_row("shapetape / dfdx (default pool), < 1 = faster", t[1] / t[2], 1.0, false);
    ratio_row("shapetape / dfdx (one thread), < 1 = faster", t[1] / t[3], 1.0, false);
    info_row("dfdx (default pool) / hand", t[2] / t[0]);

    // Target 4 against raw sgemm.
    const N: usize = 256;
    let mut rng = shapetape::rng::SplitMix64::new(5);
    let a: Vec<f32> = (0..N * N).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let b: Vec<f32> = (0..N * N).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let raw = |c: &mut Vec<f32>| {
        // SAFETY: a, b, c hold N×N row-major f32 matrices; strides match that layout.
        unsafe {
            matrixmultiply::sgemm(
                N, N, N, 1.0,
                a.as_ptr(), N as isize, 1,
                b.as_ptr(), N as isize, 1,
                0.0,
                c.as_mut_ptr(), N as isize, 1,
            );
        }
    };
    let mut c = vec![0.0f32; N * N];
    let mut cases = vec![
        Case::new("matrixmultiply::sgemm raw, C preallocated", || {
            raw(&mut c);
            sink(&c);
        }),
        Case::new("matrixmultiply::sgemm raw + fresh zeroed C", || {
            let mut c = vec![0.0f32; N * N];
            raw(&mut c);
            sink(c)
        }),
        Case::new("shapetape Element::gemm (f32)", || {
            sink(<f32 as Element>::gemm(&a, false, &b, false, N, N, N))
        }),
    ];
    let t = measure(&mut cases);
    print_times("target 4 (raw): 256×256×256 f32 matmul", &cases, &t);
    ratio_row("speed Element::gemm / raw sgemm (fresh C)", t[1] / t[2], 0.9, true);
    info_row("speed Element::gemm / raw sgemm (preallocated C)", t[0] / t[2]);
}
