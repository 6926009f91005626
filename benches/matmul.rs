//! Target 4 of the performance issue: a 256×256×256 f32 matrix product through the library
//! (`Element::gemm`, and `ops::matmul` evaluated in a one-node graph) vs matrixmultiply called
//! through ndarray's `dot` directly: target ≥ 0.9× the direct speed (time ratio ≤ 1/0.9).
//!
//! `cargo bench --bench matmul` (add `REPORT_ONLY=1` to skip the criterion groups).

mod common;

use common::{Case, info_row, measure, print_times, ratio_row, sink};
use ndarray::{Array2, ArrayView2};
use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;
use shapetape::rng::SplitMix64;

const N: usize = 256;
type G = HList![Matrix<N, N>, Matrix<N, N>];

struct Setup {
    a: Vec<f32>,
    b: Vec<f32>,
    a_nd: Array2<f32>,
    b_nd: Array2<f32>,
    graph: GraphData<f32, (), G, HList![Matrix<N, N>]>,
    x: TList<f32, G>,
}

fn setup() -> Setup {
    let mut rng = SplitMix64::new(5);
    let a: Vec<f32> = (0..N * N).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let b: Vec<f32> = (0..N * N).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let a_nd = ArrayView2::from_shape((N, N), &a[..]).unwrap().to_owned();
    let b_nd = ArrayView2::from_shape((N, N), &b[..]).unwrap().to_owned();
    let graph =
        GraphData::<f32, (), G, HNil>::nil().snoc(ops::matmul(Idx::at::<0>(), Idx::at::<1>()));
    let x = tlist![
        Tensor::try_from_slice(&a).unwrap(),
        Tensor::try_from_slice(&b).unwrap()
    ];
    Setup {
        a,
        b,
        a_nd,
        b_nd,
        graph,
        x,
    }
}

fn report() {
    let s = setup();
    let lib = <f32 as Element>::gemm(&s.a, false, &s.b, false, N, N, N);
    let direct = s.a_nd.dot(&s.b_nd);
    let diff = lib
        .iter()
        .zip(direct.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    println!("{N}×{N}×{N} f32 matmul: max |library − ndarray| = {diff:.2e}");

    let mut cases = vec![
        Case::new("ndarray dot (matrixmultiply), operands owned", || {
            sink(s.a_nd.dot(&s.b_nd))
        }),
        Case::new("ndarray dot on slice views (what gemm does)", || {
            let a = ArrayView2::from_shape((N, N), &s.a[..]).unwrap();
            let b = ArrayView2::from_shape((N, N), &s.b[..]).unwrap();
            sink(a.dot(&b).into_raw_vec_and_offset())
        }),
        Case::new("Element::gemm (f32)", || {
            sink(<f32 as Element>::gemm(&s.a, false, &s.b, false, N, N, N))
        }),
        Case::new("Element::gemm, Bᵀ stored (tb = true)", || {
            sink(<f32 as Element>::gemm(&s.a, false, &s.b, true, N, N, N))
        }),
        Case::new("GraphData eval of ops::matmul (incl. input clone)", || {
            sink(s.graph.eval(s.x.clone(), &()))
        }),
        Case::new("clone of the two 256×256 inputs only", || {
            sink(s.x.clone())
        }),
    ];
    let t = measure(&mut cases);
    print_times("target 4: 256×256×256 f32 matmul", &cases, &t);
    let gflops = |secs: f64| 2.0 * (N * N * N) as f64 / secs / 1e9;
    for (c, &secs) in cases.iter().zip(&t).take(5) {
        println!("  {:<52} {:>8.2} GFLOP/s", c.name, gflops(secs));
    }
    ratio_row("speed Element::gemm / ndarray dot", t[0] / t[2], 0.9, true);
    ratio_row(
        "speed ops::matmul eval / ndarray dot",
        t[0] / t[4],
        0.9,
        true,
    );
    info_row("speed gemm(tb = true) / ndarray dot", t[0] / t[3]);
}

fn criterion_groups(c: &mut criterion::Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("matmul_256");
    group.bench_function("ndarray_dot", |b| b.iter(|| s.a_nd.dot(&s.b_nd)));
    group.bench_function("element_gemm", |b| {
        b.iter(|| <f32 as Element>::gemm(&s.a, false, &s.b, false, N, N, N))
    });
    group.bench_function("ops_matmul_eval", |b| {
        b.iter(|| s.graph.eval(s.x.clone(), &()))
    });
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
