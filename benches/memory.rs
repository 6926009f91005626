//! Target 5 of the performance issue: the peak heap of `backprop_ctx` on the MLP, measured by
//! a counting global allocator, against the bytes of the inputs plus one forward context.
//!
//! `cargo bench --bench memory` (no criterion groups: this bench only counts bytes).
//!
//! The allocator wrapper needs `unsafe impl GlobalAlloc`; this file is its own crate (a bench
//! target), so the library's `#![forbid(unsafe_code)]` is untouched.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use common::mlp;
use common::{info_row, ratio_row};
use shapetape::approx::EList;

/// `System`, counting the bytes currently allocated and their peak.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static CALLS: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
    CALLS.fetch_add(1, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak bytes above the level at the start of `f`, and the number of allocations in `f`.
fn peak_of<T>(f: impl FnOnce() -> T) -> (usize, usize, T) {
    let base = CURRENT.load(Relaxed);
    PEAK.store(base, Relaxed);
    let calls = CALLS.load(Relaxed);
    let out = f();
    (PEAK.load(Relaxed) - base, CALLS.load(Relaxed) - calls, out)
}

fn kib(b: usize) -> String {
    format!("{:.1} KiB", b as f64 / 1024.0)
}

fn main() {
    let (g, loss) = mlp::graph();
    let x = mlp::inputs();
    let seed = mlp::seed(loss);
    let ctx = g.eval(x.clone(), &());
    let inputs = mlp::bytes_of(&x);
    let context = mlp::bytes_of(&ctx);
    let reference = inputs + context;
    drop(ctx);
    println!(
        "MLP {}x{}→{}→{} f32, entry bytes:",
        mlp::B,
        mlp::I,
        mlp::H,
        mlp::O
    );
    println!(
        "  inputs Γ                                   {:>12}",
        kib(inputs)
    );
    println!(
        "  forward context Γ ++ Ss (eval result)      {:>12}",
        kib(context)
    );
    println!(
        "  reference = inputs + forward context       {:>12}",
        kib(reference)
    );

    // A: the call alone (inputs and seed already cloned, passed by value).
    let (xa, sa) = (x.clone(), seed.clone());
    let (peak_call, calls, grads) = peak_of(|| g.backprop_ctx(xa, &(), sa));
    drop(grads);
    // B: cloning inputs and seed inside the measured region (what a training step does).
    let (peak_step, _, grads) = peak_of(|| g.backprop_ctx(x.clone(), &(), seed.clone()));
    drop(grads);
    // C: eval alone, for scale.
    let (peak_eval, _, c) = peak_of(|| g.eval(x.clone(), &()));
    drop(c);
    // D: the bounds sweep of the same MLP as a RevGraph<f32, f64>.
    let r = mlp::rev_graph();
    let (peak_bounds, _, e) =
        peak_of(|| r.backprop_bounds(EList::zero(), x.clone(), EList::zero(), seed.clone()));
    drop(e);

    println!("\n== target 5: peak heap above the starting level");
    println!(
        "  backprop_ctx call (args moved in)          {:>12}  ({calls} allocations)",
        kib(peak_call)
    );
    println!(
        "  clone inputs + seed, then backprop_ctx      {:>12}",
        kib(peak_step)
    );
    println!(
        "  eval (incl. input clone)                    {:>12}",
        kib(peak_eval)
    );
    println!(
        "  RevGraph::backprop_bounds (incl. clones)    {:>12}",
        kib(peak_bounds)
    );
    ratio_row(
        "peak(clone inputs + seed, backprop_ctx) / (inputs + fwd ctx)",
        peak_step as f64 / reference as f64,
        2.0,
        false,
    );
    info_row(
        "peak(backprop_ctx call only) / (inputs + forward context)",
        peak_call as f64 / reference as f64,
    );
    info_row(
        "peak(backprop_ctx call) / forward context",
        peak_call as f64 / context as f64,
    );

    conv_backward();
}

/// The peak heap of the backward pass of the two convolutions of `benches/conv.rs`
/// (`64 × 1 × 28 × 28`, conv 1 → 6 then 6 → 16 channels, 5 × 5, f32, a dense seed on the
/// output), against the inputs plus the forward context.
fn conv_backward() {
    use shapetape::autograd::{Cotangent, GraphData};
    use shapetape::ops::{self, Conv2dParams, Nchw};
    use shapetape::prelude::*;
    use shapetape::rng::SplitMix64;

    type W1 = Nchw<6, 1, 5, 5>;
    type W2 = Nchw<16, 6, 5, 5>;
    type X = Nchw<64, 1, 28, 28>;
    type Y2 = Nchw<64, 16, 20, 20>;
    type Params = HList![W1, Vector<6>, W2, Vector<16>];
    type Inputs = HList![W1, Vector<6>, W2, Vector<16>, X];

    let (g, y) = GraphData::<f32, (), Inputs, _>::build_with(|b| {
        let hlist_pat![w1, b1, w2, b2, x] = b.inputs();
        let p = Conv2dParams::new();
        let (b, y1) = b.push(|c| ops::conv2d(c.idx(x), c.idx(w1), c.idx(b1), p));
        let (b, y2) = b.push(|c| ops::conv2d(c.idx(y1), c.idx(w2), c.idx(b2), p));
        let y = b.idx(y2);
        (b, y)
    });
    let mut rng = SplitMix64::new(7);
    let x: TList<f32, Inputs> = tlist![
        rng.glorot_uniform(),
        rng.uniform_tensor(-0.1, 0.1),
        rng.glorot_uniform(),
        rng.uniform_tensor(-0.1, 0.1),
        rng.uniform_tensor(0.0, 1.0)
    ];
    let seed: Tensor<f32, Y2> = rng.uniform_tensor(-1.0, 1.0);
    let ctx = g.eval(x.clone(), &());
    let inputs = mlp::bytes_of(&x);
    let context = mlp::bytes_of(&ctx);
    let reference = inputs + context;
    drop(ctx);

    let (xa, sa) = (x.clone(), Cotangent::single(y, seed.clone()));
    let (peak_prefix, calls_prefix, out) = peak_of(|| g.backprop_prefix::<Params>(xa, &(), sa));
    drop(out);
    let (xa, sa) = (x.clone(), TList::single(y, seed.clone()));
    let (peak_ctx, calls_ctx, out) = peak_of(|| g.backprop_ctx(xa, &(), sa));
    drop(out);
    let (peak_eval, _, out) = peak_of(|| g.eval(x.clone(), &()));
    drop(out);

    println!(
        "\n== conv2d 64x1x28x28 → 6 → 16 channels (5x5) f32, forward + backward, peak heap above \
         the starting level"
    );
    println!(
        "  inputs Γ                                   {:>12}",
        kib(inputs)
    );
    println!(
        "  forward context Γ ++ Ss (eval result)      {:>12}",
        kib(context)
    );
    // The im2col matrix of the second layer, `(6·5·5) × (64·20·20)` entries: any im2col
    // implementation holds it (and the product it feeds) during that layer's gemms.
    let cols2 = 6 * 5 * 5 * 64 * 20 * 20 * 4;
    println!(
        "  im2col matrix of layer 2 (150 x 25600)     {:>12}",
        kib(cols2)
    );
    println!(
        "  backprop_prefix::<Params> call (args moved) {:>11}  ({calls_prefix} allocations)",
        kib(peak_prefix)
    );
    println!(
        "  backprop_ctx call (args moved, with dx)    {:>12}  ({calls_ctx} allocations)",
        kib(peak_ctx)
    );
    println!(
        "  eval (incl. input clone)                   {:>12}",
        kib(peak_eval)
    );
    info_row(
        "conv: peak(backprop_prefix call) / (inputs + fwd ctx)",
        peak_prefix as f64 / reference as f64,
    );
    info_row(
        "conv: peak(backprop_ctx call) / (inputs + fwd ctx)",
        peak_ctx as f64 / reference as f64,
    );
    info_row(
        "conv: peak(backprop_prefix call) / (inputs + fwd ctx + im2col)",
        peak_prefix as f64 / (reference + cols2) as f64,
    );
}
