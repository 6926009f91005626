//! The losses of `ops::losses`: every elementwise loss through the one-call harness, values
//! against hand-computed expectations, and the class-index losses (whose integer inputs the
//! random harness cannot draw) against the probability-target cross-entropy and finite
//! differences.
#![cfg(feature = "proptest")]

use shapetape::approx::{EList, RevGraph, ToSpec, approx_ctx};
use shapetape::autograd::{GradcheckOptions, GraphData, gradcheck_with};
use shapetape::ops;
use shapetape::prelude::*;
use shapetape::strategies::{OpCheck, check_op, check_op_exact};

type V = Vector<4>;
type M = Matrix<3, 4>;
type G = HList![V, V, M, M];

fn opts() -> OpCheck {
    OpCheck::default()
}

#[test]
fn elementwise_losses_pass_every_check() {
    let (p, t) = (Idx::<G, V>::at::<0>(), Idx::<G, V>::at::<1>());
    let (z, y) = (Idx::<G, M>::at::<2>(), Idx::<G, M>::at::<3>());
    check_op(ops::l1_loss(p, t), &opts()).unwrap();
    check_op_exact(ops::l1_loss(p, t), &opts()).unwrap();
    check_op(ops::l1_loss(p, p), &opts()).unwrap(); // aliased: ℓ = 0
    check_op(ops::huber_loss(p, t, 0.5).unwrap(), &opts()).unwrap();
    check_op_exact(ops::huber_loss(p, t, 0.5).unwrap(), &opts()).unwrap();
    check_op(ops::binary_cross_entropy_with_logits(z, y), &opts()).unwrap();
    // kl_div needs positive targets (log t): log-probabilities in −4..0 and targets in 0.1..1.
    let kl = ops::kl_div(Idx::<HList![M, M], M>::at::<0>(), Idx::at::<1>());
    let r = check_op(kl, &opts().range(0.1..1.0)).unwrap();
    assert!(r.worst_ratio <= 1.0);
}

#[test]
fn constants_are_checked() {
    let (p, t) = (Idx::<G, V>::at::<0>(), Idx::<G, V>::at::<1>());
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = ops::huber_loss(p, t, bad).unwrap_err();
        assert_eq!((e.op, e.needs), ("huber_loss", "a finite δ > 0"));
    }
}

/// Values computed by hand (the expectations are the formulas evaluated on paper).
#[test]
fn values() {
    type H = HList![Vector<2>, Vector<2>];
    let x: TList<f64, H> = tlist![Tensor::new([1.0, -2.0]), Tensor::new([0.5, 1.0])];
    fn run<K: shapetape::autograd::Eval<f64>>(op: OpNode<H, K>, x: &TList<f64, H>) -> f64 {
        op.into_node::<f64, ()>().forward(x, &()).as_slice()[0]
    }
    use shapetape::autograd::OpNode;
    let (a, b) = (
        Idx::<H, Vector<2>>::at::<0>(),
        Idx::<H, Vector<2>>::at::<1>(),
    );
    // |1 − 0.5| + |−2 − 1| = 3.5, mean 1.75.
    assert_eq!(run(ops::l1_loss(a, b), &x), 1.75);
    // δ = 1: d = 0.5 → ½·0.25 = 0.125; d = −3 → 1·(3 − 0.5) = 2.5; mean 1.3125.
    assert_eq!(
        ops::huber_loss(a, b, 1.0)
            .unwrap()
            .into_node::<f64, ()>()
            .forward(&x, &())
            .as_slice()[0],
        1.3125
    );
    // bce(z, y) = max(z,0) − z y + ln(1 + e^{−|z|}): z = 1, y = 0.5: 0.5 + ln(1 + e⁻¹);
    // z = −2, y = 1: 2 + ln(1 + e⁻²).
    let want = (0.5 + (1.0 + (-1.0f64).exp()).ln() + 2.0 + (1.0 + (-2.0f64).exp()).ln()) / 2.0;
    let got = run(ops::binary_cross_entropy_with_logits(a, b), &x);
    assert!((got - want).abs() < 1e-15, "{got} vs {want}");
}

type Logits = Matrix<3, 4>;
type Classes = Vector<3>;
type IG = HList![Logits, Classes];

fn index_inputs() -> TList<f64, IG> {
    tlist![
        Tensor::new([
            [0.5, -1.0, 2.0, 0.0],
            [1.5, 0.25, -0.5, -2.0],
            [0.0, 0.0, 0.0, 1.0]
        ]),
        Tensor::new([2.0, 0.0, 3.0])
    ]
}

/// `cross_entropy_with_integer_labels(z, c)` equals the probability-target cross-entropy with
/// one-hot targets, value and gradient (the two are independent ops).
#[test]
fn integer_labels_agree_with_one_hot_targets() {
    type OG = HList![Logits, Logits];
    let x = index_inputs();
    let hlist_pat![z, c] = x.clone().into_tensors();
    let onehot = Tensor::<f64, Logits>::from_fn(|ix| {
        if c.as_slice()[ix[0]] as usize == ix[1] {
            1.0
        } else {
            0.0
        }
    });
    let xo: TList<f64, OG> = tlist![z, onehot];
    let idx = ops::cross_entropy_with_integer_labels(Idx::<IG, Logits>::at::<0>(), Idx::at::<1>())
        .into_node::<f64, ()>();
    let prob =
        ops::cross_entropy(Idx::<OG, Logits>::at::<0>(), Idx::at::<1>()).into_node::<f64, ()>();
    let (a, b) = (
        idx.forward(&x, &()).as_slice()[0],
        prob.forward(&xo, &()).as_slice()[0],
    );
    assert!((a - b).abs() < 1e-14, "{a} vs {b}");
    let s = Tensor::new(1.0);
    let (ga, gb) = (
        idx.vjp(&x, &(), &s).to_dense(),
        prob.vjp(&xo, &(), &s).to_dense(),
    );
    for (u, v) in ga
        .slot_slices()
        .next()
        .unwrap()
        .iter()
        .zip(gb.slot_slices().next().unwrap())
    {
        assert!((u - v).abs() < 1e-15);
    }
    // The class indices get no gradient.
    assert!(ga.slot_slices().nth(1).unwrap().iter().all(|&v| v == 0.0));
    // nll_loss of log_softmax(z) is the same number.
    let g = GraphData::<f64, (), IG, _>::build(|b| {
        let hlist_pat![z, c] = b.inputs();
        let (b, l) = b.push(|s| ops::log_softmax(s.idx(z)));
        let (b, _) = b.push(|s| ops::nll_loss(s.idx(l), s.idx(c)));
        b
    });
    let y = g.eval(x.clone(), &());
    assert!((y.slot_slices().last().unwrap()[0] - a).abs() < 1e-15);
}

/// Finite differences in the logits (the indices held fixed), and a bad index gives NaN.
#[test]
fn integer_labels_gradcheck_and_bad_indices() {
    let g = GraphData::<f64, (), IG, _>::build(|b| {
        let hlist_pat![z, c] = b.inputs();
        let (b, _) = b.push(|s| ops::cross_entropy_with_integer_labels(s.idx(z), s.idx(c)));
        b
    });
    let x = index_inputs();
    // Directions that do not move the class indices.
    let v: TList<f64, IG> = tlist![
        Tensor::from_fn(|ix| (ix[0] as f64 - ix[1] as f64) / 7.0),
        Tensor::zeros()
    ];
    type Out = Cat<IG, HList![Scalar]>;
    let w = TList::<f64, Out>::single(Idx::<Out, Scalar>::at::<2>(), Tensor::new(1.0));
    gradcheck_with(&g, &x, &(), &v, &w, &GradcheckOptions::default()).unwrap();
    for bad in [4.0, -1.0, 0.5, f64::NAN] {
        let mut xb = x.clone();
        xb.get_mut(Idx::<IG, Classes>::at::<1>()).as_mut_slice()[0] = bad;
        assert!(
            g.eval(xb, &()).slot_slices().last().unwrap()[0].is_nan(),
            "index {bad}"
        );
    }
}

/// Certified: the bound holds against the exact-input f64 spec, and an index slot with a
/// nonzero input bound (the class could change) gives +∞.
#[test]
fn integer_labels_certified() {
    let g = RevGraph::<f32, f64, IG, _>::build(|b| {
        let hlist_pat![z, c] = b.inputs();
        let (b, _) = b.push(|s| ops::cross_entropy_with_integer_labels(s.idx(z), s.idx(c)));
        b
    });
    let x32: TList<f32, IG> = index_inputs().map(|&v| v as f32);
    let (y, eps) = g.eval_certified(EList::zero(), x32.clone());
    let spec = g.eval_spec(x32.map(|v| v.to_spec().unwrap()));
    assert!(approx_ctx(&spec, &y, &eps));
    assert!(eps.as_slice()[2] > 0.0 && eps.as_slice()[2] < 1e-5);
    let (_, eps) = g.eval_certified(EList::try_from_vec(vec![0.0, 0.25]).unwrap(), x32);
    assert_eq!(eps.as_slice()[2], f64::INFINITY);
}
