//! `GraphBuilder::scan` (JAX's `lax.scan`): one body applied `N` times.
//!
//! Every property compares the scan with the same body written out `N` times by hand (an
//! independent graph: no scan code runs in it): exactly over ℚ for forward and reverse mode,
//! bit for bit for the certified forward bound, and the certified bounds of the scan are checked
//! for soundness against the exact spec.

use proptest::prelude::*;
use shapetape::approx::{EList, RevGraph, ToSpec, approx_ctx};
use shapetape::autograd::{GradcheckOptions, GraphData, check_backprop, gradcheck};
use shapetape::ops;
use shapetape::prelude::*;
use shapetape::strategies::{small_rational, tensor, tlist};

type H = Vector<3>;
type W = Matrix<3, 3>;
/// Scan inputs: the initial state and three stacked weight matrices.
type GS = HList![H, Dim<3, W>];
/// The same inputs unstacked, for the hand-unrolled graph.
type GU = HList![H, W, W, W];

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// `h ← relu(W_k h) ⊙ h + h` over three steps, as a scan (one node).
macro_rules! scan_graph {
    ($graph:ident, $($root:ty),*) => {
        $graph::<$($root),*, GS, _>::build_with(|b| {
            let hlist_pat![h, w] = b.inputs();
            let (b, y) = b.scan(h, w, |s| {
                let hlist_pat![h, w] = s.inputs();
                let (s, z) = s.push(|c| ops::matvec(c.idx(w), c.idx(h)));
                let (s, r) = s.push(|c| ops::relu(c.idx(z)));
                let (s, m) = s.push(|c| ops::mul(c.idx(r), c.idx(h)));
                let (s, y) = s.push(|c| ops::add(c.idx(m), c.idx(h)));
                (s, y)
            });
            let y = b.idx(y);
            (b, y)
        })
    };
}

/// The same three steps written out by hand (twelve nodes).
macro_rules! unrolled_graph {
    ($graph:ident, $($root:ty),*) => {
        $graph::<$($root),*, GU, _>::build_with(|b| {
            let hlist_pat![h, w0, w1, w2] = b.inputs();
            let (b, z) = b.push(|c| ops::matvec(c.idx(w0), c.idx(h)));
            let (b, r) = b.push(|c| ops::relu(c.idx(z)));
            let (b, m) = b.push(|c| ops::mul(c.idx(r), c.idx(h)));
            let (b, h) = b.push(|c| ops::add(c.idx(m), c.idx(h)));
            let (b, z) = b.push(|c| ops::matvec(c.idx(w1), c.idx(h)));
            let (b, r) = b.push(|c| ops::relu(c.idx(z)));
            let (b, m) = b.push(|c| ops::mul(c.idx(r), c.idx(h)));
            let (b, h) = b.push(|c| ops::add(c.idx(m), c.idx(h)));
            let (b, z) = b.push(|c| ops::matvec(c.idx(w2), c.idx(h)));
            let (b, r) = b.push(|c| ops::relu(c.idx(z)));
            let (b, m) = b.push(|c| ops::mul(c.idx(r), c.idx(h)));
            let (b, h) = b.push(|c| ops::add(c.idx(m), c.idx(h)));
            let h = b.idx(h);
            (b, h)
        })
    };
}

/// The unrolled inputs stacked for the scan (same entries, same order).
fn stacked<A: Clone + std::fmt::Display>(x: &TList<A, GU>) -> TList<A, GS> {
    TList::try_from_flat(x.slot_slices().flatten().cloned().collect()).unwrap()
}

/// Bit patterns, to compare floats exactly (−0 ≠ +0, NaN = NaN).
fn bits<'a>(slots: impl Iterator<Item = &'a [f32]>) -> Vec<u32> {
    slots.flatten().map(|v| v.to_bits()).collect()
}

/// The scan's input cotangents unstacked.
fn unstacked<A: Clone + std::fmt::Display>(g: &TList<A, GS>) -> TList<A, GU> {
    TList::try_from_flat(g.slot_slices().flatten().cloned().collect()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    /// Over ℚ the scan equals the unrolled graph exactly: its output, the JVP, and the
    /// cotangents of the initial state and of every weight slice.
    #[test]
    fn scan_equals_the_unrolled_graph_exactly(
        x in tlist::<Rational, GU>(small_rational()),
        dx in tlist::<Rational, GU>(small_rational()),
        s in tensor::<Rational, H>(small_rational()),
    ) {
        let (gs, ys) = scan_graph!(GraphData, Rational, ());
        let (gu, yu) = unrolled_graph!(GraphData, Rational, ());
        prop_assert_eq!(gs.len(), 1);
        let (es, eu) = (gs.eval(stacked(&x), &()), gu.eval(x.clone(), &()));
        prop_assert_eq!(es.get(ys), eu.get(yu));
        let (ts, tu) = (
            gs.jvp_ctx(stacked(&x), stacked(&dx), &()),
            gu.jvp_ctx(x.clone(), dx.clone(), &()),
        );
        prop_assert_eq!(ts.get(ys), tu.get(yu));
        let seed = s;
        let cs = gs.backprop_ctx(stacked(&x), &(), TList::single(ys, seed.clone()));
        let cu = gu.backprop_ctx(x.clone(), &(), TList::single(yu, seed));
        prop_assert_eq!(unstacked(&cs), cu);
    }

    /// In f64: forward and reverse mode of the scan are adjoint, and agree with a finite
    /// difference.
    #[test]
    fn scan_is_differentiable(x in tlist::<f64, GS>(-1.0..1.0), seed in 0u64..1000) {
        let (g, _) = scan_graph!(GraphData, f64, ());
        let mut rng = shapetape::rng::SplitMix64::new(seed);
        let dx = TList::<f64, GS>::zero().map(|_| rng.uniform(-1.0, 1.0));
        let w = TList::<f64, Cat<GS, HList![H]>>::zero().map(|_| rng.uniform(-1.0, 1.0));
        let check = check_backprop(&g, &x, &dx, &(), &w);
        prop_assert!(check.relative_error() < 1e-12, "{}", check);
        let opts = GradcheckOptions { seed, ..GradcheckOptions::default() };
        prop_assert!(gradcheck(&g, &x, &(), &opts).is_ok());
    }

    /// The certified scan: its forward bound is, bit for bit, the unrolled graph's bound of the
    /// final state (the body's bounds composed step by step), its bounds hold against the exact
    /// ℚ spec, and its erasure runs exactly the executable scan.
    #[test]
    fn certified_scan(x in tlist::<f64, GU>(-2.0..2.0), e in 0.0..1e-3f64) {
        let x32: TList<f32, GU> = x.map(|&v| v as f32);
        let xs = stacked(&x32);
        let (rs, ys) = scan_graph!(RevGraph, f32, Rational);
        let (ru, yu) = unrolled_graph!(RevGraph, f32, Rational);
        let eps_u = EList::<GU>::try_from_vec(vec![e, e, e, e]).unwrap();
        let eps_s = EList::<GS>::try_from_vec(vec![e, e]).unwrap();
        let (vs, bs) = rs.eval_certified(eps_s.clone(), xs.clone());
        let (vu, bu) = ru.eval_certified(eps_u.clone(), x32.clone());
        prop_assert_eq!(vs.get(ys).to_owned(), vu.get(yu).to_owned());
        prop_assert_eq!(bs.get(ys).to_bits(), bu.get(yu).to_bits());

        // Soundness against the exact spec at the runtime point (inside every box).
        let spec = rs.eval_spec(xs.map(|v| v.to_spec().unwrap()));
        prop_assert!(approx_ctx(&spec, &vs, &bs));
        let seed32 = TList::single(ys, Tensor::<f32, H>::new([1.0, -0.5, 0.25]));
        let (g32, gb) = rs.backprop_certified(eps_s.clone(), xs.clone(), EList::zero(), seed32.clone());
        let g_spec = rs.backprop_spec(
            xs.map(|v| v.to_spec().unwrap()),
            seed32.map(|v| v.to_spec().unwrap()),
        );
        prop_assert!(approx_ctx(&g_spec, &g32, &gb));

        // The bridge: the erased certified scan is the executable scan, bit for bit.
        let (gd, yd) = scan_graph!(GraphData, f32, ());
        let e1 = rs.to_graph_data().eval(xs.clone(), &());
        let e2 = gd.eval(xs.clone(), &());
        prop_assert_eq!(bits(e1.slot_slices()), bits(e2.slot_slices()));
        let g2 = gd.backprop_ctx(xs.clone(), &(), TList::single(yd, Tensor::new([1.0, -0.5, 0.25])));
        prop_assert_eq!(bits(g32.slot_slices()), bits(g2.slot_slices()));
    }
}
