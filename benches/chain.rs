//! Target 2 of the performance issue: chain graphs of N = 32, 64, 128, 256 small nodes.
//!
//! Inputs `Γ = [a, x]`, both `Vector<4>` (f32). Node `k` reads the previous output `p` (`x`
//! for the first node) and the input `a`, cycling through `p ⊙ a`, `p + a`, `tanh p`, `p + a`.
//! The typed graphs are written with generic step functions (`data_mul`, …, `rev_tanh`)
//! applied N times by the `chain!` macro, so every graph has its fully generated type
//! `GraphData<f32, (), Γ, [Vector<4>; N]>`.
//!
//! Measured, in one run:
//! - `GraphData::backprop_ctx` (eval + reverse sweep) vs a minimal untyped tape (a `Vec` of
//!   boxed closures over `Vec<f32>`) doing the same arithmetic: target ≤ 1.5×;
//! - scaling t(256)/t(128) of `GraphData::backprop_ctx`, `RevGraph::backprop_runtime` and
//!   `RevGraph::backprop_bounds`: target ≤ 2.2;
//! - the literal Lean recursions beside them (`backprop_ctx_literal`: quadratic,
//!   `backprop_bounds_literal`: cubic), at N ≤ 128.
//!
//! `cargo bench --bench chain` (add `REPORT_ONLY=1` to skip the criterion groups).

// Needed for the 256-node chains (contexts of 258 slots): with the default limit of 128,
// rustc 1.95 either stops at the recursion limit or, for this file, panics in borrowck
// ("unexpected inference var", an internal compiler error). 512 is enough for N = 256.
#![recursion_limit = "512"]

mod common;

use common::{Case, fmt_time, info_row, measure, ratio_row, sink};
use shapetape::approx::{CtxAddBound, EList, RevGraph};
use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;

type V4 = Vector<4>;
type G = HList![V4, V4];

/// One chain step: the node `$op(p, a)` (or `$op(p)`) appended to a graph over `Γ ++ Ss`,
/// where `p` is the previous slot and `a` input 0. Generic over the context, so the compiler
/// generates the graph type; one function per op, so each step instantiates only its own op.
macro_rules! step_fns {
    ($($name:ident: $graph:ident<$($pre:ty),*> => |$p:ident, $a:ident| $node:expr;)*) => {$(
        fn $name<Gs: ShapeList, Ss: ShapeList>(
            g: $graph<$($pre,)* Gs, Ss>,
        ) -> $graph<$($pre,)* Gs, Snoc<Ss, V4>> {
            let n = Gs::LEN + Ss::LEN;
            let $p = Idx::<Cat<Gs, Ss>, V4>::try_at(n - 1).expect("the previous slot is a Vector<4>");
            let $a = Idx::<Cat<Gs, Ss>, V4>::try_at(0).expect("input 0 is a Vector<4>");
            let _ = $a;
            g.snoc($node)
        }
    )*};
}
step_fns! {
    data_mul: GraphData<f32, ()> => |p, a| ops::mul(p, a);
    data_add: GraphData<f32, ()> => |p, a| ops::add(p, a);
    data_tanh: GraphData<f32, ()> => |p, a| ops::tanh(p);
    rev_mul: RevGraph<f32, f64> => |p, a| ops::mul(p, a);
    rev_add: RevGraph<f32, f64> => |p, a| ops::add(p, a);
    rev_tanh: RevGraph<f32, f64> => |p, a| ops::tanh(p);
}

/// `$n` chain steps (a power of two ≥ 4) in the cycle mul, add, tanh, add, written out by
/// doubling (no deep macro recursion): `let $g = data_mul($g); let $g = data_add($g); …`.
macro_rules! chain {
    (4, $g:ident, $mul:ident, $add:ident, $tanh:ident) => {
        let $g = $mul($g);
        let $g = $add($g);
        let $g = $tanh($g);
        let $g = $add($g);
    };
    (8, $($t:tt)*) => { chain!(4, $($t)*); chain!(4, $($t)*); };
    (16, $($t:tt)*) => { chain!(8, $($t)*); chain!(8, $($t)*); };
    (32, $($t:tt)*) => { chain!(16, $($t)*); chain!(16, $($t)*); };
    (64, $($t:tt)*) => { chain!(32, $($t)*); chain!(32, $($t)*); };
    (128, $($t:tt)*) => { chain!(64, $($t)*); chain!(64, $($t)*); };
    (256, $($t:tt)*) => { chain!(128, $($t)*); chain!(128, $($t)*); };
}

/// Type-erased entry points of one chain length, each running one full call on fresh
/// copies of the inputs and the seed (the API takes them by value).
struct Chain {
    n: usize,
    backprop_ctx: Box<dyn Fn()>,
    backprop_ctx_literal: Box<dyn Fn()>,
    backprop_runtime: Box<dyn Fn()>,
    backprop_bounds: Box<dyn Fn()>,
    backprop_bounds_literal: Box<dyn Fn()>,
    /// The input cotangents of `backprop_ctx`, to check the tape against.
    grads: Vec<f32>,
}

fn inputs() -> TList<f32, G> {
    tlist![
        Tensor::new([0.9, -0.5, 0.3, 1.1]),
        Tensor::new([0.2, 0.4, -0.7, 0.05])
    ]
}

impl Chain {
    fn new<Ss: ShapeList>(g: GraphData<f32, (), G, Ss>, r: RevGraph<f32, f64, G, Ss>) -> Chain {
        let n = Ss::LEN;
        let last = Idx::<Cat<G, Ss>, V4>::try_at(G::LEN + n - 1).expect("the last node");
        let x = inputs();
        let seed = TList::<f32, Cat<G, Ss>>::single(last, Tensor::new([1.0; 4]));
        let grads = g
            .backprop_ctx(x.clone(), &(), seed.clone())
            .slot_slices()
            .flatten()
            .copied()
            .collect();
        let (g1, x1, s1) = (g.clone(), x.clone(), seed.clone());
        let (g2, x2, s2) = (g, x.clone(), seed.clone());
        let (r1, x3, s3) = (r.clone(), x.clone(), seed.clone());
        let (r2, x4, s4) = (r.clone(), x.clone(), seed.clone());
        let (r3, x5, s5) = (r, x, seed);
        Chain {
            n,
            backprop_ctx: Box::new(move || sink(g1.backprop_ctx(x1.clone(), &(), s1.clone()))),
            backprop_ctx_literal: Box::new(move || {
                sink(g2.backprop_ctx_literal(x2.clone(), &(), s2.clone()))
            }),
            backprop_runtime: Box::new(move || sink(r1.backprop_runtime(x3.clone(), s3.clone()))),
            backprop_bounds: Box::new(move || {
                sink(r2.backprop_bounds(EList::zero(), x4.clone(), EList::zero(), s4.clone()))
            }),
            backprop_bounds_literal: Box::new(move || {
                sink(r3.backprop_bounds_literal(
                    EList::zero(),
                    x5.clone(),
                    EList::zero(),
                    s5.clone(),
                    &CtxAddBound,
                ))
            }),
            grads,
        }
    }
}

macro_rules! chain_of {
    ($name:ident, $n:tt) => {
        fn $name() -> Chain {
            let g = GraphData::<f32, (), G, HNil>::nil();
            chain!($n, g, data_mul, data_add, data_tanh);
            let r = RevGraph::<f32, f64, G, HNil>::nil();
            chain!($n, r, rev_mul, rev_add, rev_tanh);
            Chain::new(g, r)
        }
    };
}
chain_of!(chain_32, 32);
chain_of!(chain_64, 64);
chain_of!(chain_128, 128);
chain_of!(chain_256, 256);

/// The baseline: a minimal untyped tape of boxed closures over `Vec<f32>`.
type Forward = Box<dyn Fn(&[Vec<f32>]) -> Vec<f32>>;
/// Adds the cotangents of one node (output cotangent given) into the earlier slots.
type Backward = Box<dyn Fn(&[Vec<f32>], &[f32], &mut [Vec<f32>])>;

struct Tape {
    nodes: Vec<(Forward, Backward)>,
}

impl Tape {
    /// The same chain: slots 0 = a, 1 = x, node k writes slot k + 2.
    fn chain(n: usize) -> Tape {
        let nodes = (0..n)
            .map(|k| {
                let p = k + 1;
                let a = 0;
                let node: (Forward, Backward) = match k % 4 {
                    0 => (
                        Box::new(move |v| v[p].iter().zip(&v[a]).map(|(x, y)| x * y).collect()),
                        Box::new(move |v, d, g| {
                            for i in 0..d.len() {
                                g[p][i] += d[i] * v[a][i];
                            }
                            for i in 0..d.len() {
                                g[a][i] += v[p][i] * d[i];
                            }
                        }),
                    ),
                    1 | 3 => (
                        Box::new(move |v| v[p].iter().zip(&v[a]).map(|(x, y)| x + y).collect()),
                        Box::new(move |_, d, g| {
                            for i in 0..d.len() {
                                g[p][i] += d[i];
                                g[a][i] += d[i];
                            }
                        }),
                    ),
                    _ => (
                        Box::new(move |v| v[p].iter().map(|x| x.tanh()).collect()),
                        Box::new(move |v, d, g| {
                            for i in 0..d.len() {
                                let t = v[p][i].tanh();
                                g[p][i] += d[i] * (1.0 - t * t);
                            }
                        }),
                    ),
                };
                node
            })
            .collect();
        Tape { nodes }
    }

    /// Eval, then the reverse sweep with seed 1 on the last slot; the input cotangents.
    fn backprop(&self, inputs: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let mut vals: Vec<Vec<f32>> = Vec::with_capacity(inputs.len() + self.nodes.len());
        vals.extend_from_slice(inputs);
        for (f, _) in &self.nodes {
            let y = f(&vals);
            vals.push(y);
        }
        let mut grads: Vec<Vec<f32>> = vals.iter().map(|v| vec![0.0; v.len()]).collect();
        grads.last_mut().expect("a node").fill(1.0);
        for (k, (_, b)) in self.nodes.iter().enumerate().rev() {
            let out = inputs.len() + k;
            let (lo, hi) = grads.split_at_mut(out);
            b(&vals, &hi[0], lo);
        }
        grads.truncate(inputs.len());
        grads
    }
}

fn report(chains: &[Chain]) {
    let x: Vec<Vec<f32>> = inputs().slot_slices().map(<[f32]>::to_vec).collect();
    let tapes: Vec<Tape> = chains.iter().map(|c| Tape::chain(c.n)).collect();
    for (c, t) in chains.iter().zip(&tapes) {
        let tg: Vec<f32> = t.backprop(&x).concat();
        let diff = tg
            .iter()
            .zip(&c.grads)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max);
        println!(
            "chain N = {:3}: max |tape − backprop_ctx| = {diff:.2e}",
            c.n
        );
    }

    // Every measured case at every length, alternately in one run.
    let literal_ctx_max = 128;
    let literal_bounds_max = 64;
    let mut cases: Vec<Case<'_>> = Vec::new();
    let mut rows: Vec<(usize, &str, usize)> = Vec::new();
    for (c, t) in chains.iter().zip(&tapes) {
        let x = &x;
        let mut named: Vec<(&str, Case<'_>)> = vec![
            ("tape", Case::new("", move || sink(t.backprop(x)))),
            ("backprop_ctx", Case::new("", || (c.backprop_ctx)())),
            ("backprop_runtime", Case::new("", || (c.backprop_runtime)())),
            ("backprop_bounds", Case::new("", || (c.backprop_bounds)())),
        ];
        if c.n <= literal_ctx_max {
            named.push((
                "backprop_ctx_literal",
                Case::new("", || (c.backprop_ctx_literal)()),
            ));
        }
        if c.n <= literal_bounds_max {
            named.push((
                "backprop_bounds_literal",
                Case::new("", || (c.backprop_bounds_literal)()),
            ));
        }
        for (what, mut case) in named {
            // named "<what> N=<n>" so that PROFILE_CASE can select one (see common/mod.rs)
            case.name = format!("{what} N={}", c.n);
            rows.push((c.n, what, cases.len()));
            cases.push(case);
        }
    }
    let t = measure(&mut cases);
    let time = |n: usize, what: &str| {
        rows.iter()
            .find(|(m, w, _)| *m == n && *w == what)
            .map(|&(_, _, i)| t[i])
    };
    let whats = [
        "tape",
        "backprop_ctx",
        "backprop_runtime",
        "backprop_bounds",
        "backprop_ctx_literal",
        "backprop_bounds_literal",
    ];
    println!("\n== target 2: chain graphs of Vector<4> nodes (eval + backprop, one call)");
    print!("  {:<26}", "N");
    for c in chains {
        print!("{:>14}", c.n);
    }
    println!();
    for what in whats {
        print!("  {what:<26}");
        for c in chains {
            print!(
                "{:>14}",
                time(c.n, what).map_or_else(|| "-".to_owned(), fmt_time)
            );
        }
        println!();
    }
    println!();
    for c in chains {
        let r = time(c.n, "backprop_ctx").unwrap() / time(c.n, "tape").unwrap();
        ratio_row(
            &format!("backprop_ctx / untyped tape, N = {}", c.n),
            r,
            1.5,
            false,
        );
    }
    for c in chains {
        let r = time(c.n, "backprop_runtime").unwrap() / time(c.n, "tape").unwrap();
        info_row(
            &format!("RevGraph::backprop_runtime / untyped tape, N = {}", c.n),
            r,
        );
    }
    for what in ["backprop_ctx", "backprop_runtime", "backprop_bounds"] {
        let r = time(256, what).unwrap() / time(128, what).unwrap();
        ratio_row(&format!("{what} t(256)/t(128)"), r, 2.2, false);
    }
    for what in ["tape", "backprop_ctx_literal", "backprop_bounds_literal"] {
        for w in chains.windows(2) {
            if let (Some(a), Some(b)) = (time(w[0].n, what), time(w[1].n, what)) {
                info_row(&format!("{what} t({})/t({})", w[1].n, w[0].n), b / a);
            }
        }
    }
}

fn criterion_groups(c: &mut criterion::Criterion, chains: &[Chain]) {
    let x: Vec<Vec<f32>> = inputs().slot_slices().map(<[f32]>::to_vec).collect();
    let mut group = c.benchmark_group("chain");
    for ch in chains {
        let tape = Tape::chain(ch.n);
        group.bench_function(format!("tape/{}", ch.n), |b| b.iter(|| tape.backprop(&x)));
        group.bench_function(format!("backprop_ctx/{}", ch.n), |b| {
            b.iter(|| (ch.backprop_ctx)())
        });
        group.bench_function(format!("backprop_runtime/{}", ch.n), |b| {
            b.iter(|| (ch.backprop_runtime)())
        });
        group.bench_function(format!("backprop_bounds/{}", ch.n), |b| {
            b.iter(|| (ch.backprop_bounds)())
        });
    }
    group.finish();
}

fn main() {
    let chains = [chain_32(), chain_64(), chain_128(), chain_256()];
    report(&chains);
    if common::run_criterion() {
        let mut c = common::criterion();
        criterion_groups(&mut c, &chains);
        c.final_summary();
    }
}
