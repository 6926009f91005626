//! The layer ops of `ops::nn`: every check of the one-call harness (adjointness, finite
//! differences, literal = linear, the bridge against an independent reference, bound
//! soundness) where the harness can draw the inputs, and dedicated tests for the integer and
//! environment inputs (embedding indices, dropout masks) and for values computed by hand.
#![cfg(feature = "proptest")]

use shapetape::approx::{EList, RevGraph, ToSpec, approx_ctx};
use shapetape::autograd::{GraphData, check_backprop};
use shapetape::ops::{self, DropoutEnv};
use shapetape::prelude::*;
use shapetape::strategies::{OpCheck, check_op, check_op_exact};

fn opts() -> OpCheck {
    OpCheck::default()
}

#[test]
fn bmm_passes_every_check() {
    type G = HList![Dim<2, Matrix<2, 3>>, Dim<2, Matrix<3, 4>>, Dim<2, Matrix<3, 3>>];
    let (a, b, sq) = (
        Idx::<G, Dim<2, Matrix<2, 3>>>::at::<0>(),
        Idx::<G, Dim<2, Matrix<3, 4>>>::at::<1>(),
        Idx::<G, Dim<2, Matrix<3, 3>>>::at::<2>(),
    );
    check_op(ops::bmm(a, b), &opts()).unwrap();
    check_op_exact(ops::bmm(a, b), &opts()).unwrap();
    check_op(ops::bmm(sq, sq), &opts()).unwrap(); // aliased
    check_op_exact(ops::bmm(sq, sq), &opts()).unwrap();
}

#[test]
fn bmm_is_matmul_per_batch_entry() {
    type G = HList![Dim<2, Matrix<2, 2>>, Dim<2, Matrix<2, 2>>];
    let x: TList<f64, G> = TList::try_from_flat(vec![
        1.0, 2.0, 3.0, 4.0, /* A_1 */ 0.0, 1.0, 1.0, 0.0, // A_0, A_1
        5.0, 6.0, 7.0, 8.0, /* B_0 */ 2.0, 0.0, 0.0, 2.0, // B_0, B_1
    ])
    .unwrap();
    let y = ops::bmm(Idx::<G, _>::at::<0>(), Idx::at::<1>())
        .into_node::<f64, ()>()
        .forward(&x, &());
    // [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]; [[0,1],[1,0]]·2I = [[0,2],[2,0]].
    assert_eq!(y.as_slice(), &[19.0, 22.0, 43.0, 50.0, 0.0, 2.0, 2.0, 0.0]);
}

#[test]
fn attention_passes_every_check() {
    type G = HList![Dim<2, Matrix<3, 4>>, Dim<2, Matrix<5, 4>>, Dim<2, Matrix<5, 2>>, Dim<2, Matrix<3, 4>>];
    let (q, k, v) = (
        Idx::<G, Dim<2, Matrix<3, 4>>>::at::<0>(),
        Idx::<G, Dim<2, Matrix<5, 4>>>::at::<1>(),
        Idx::<G, Dim<2, Matrix<5, 2>>>::at::<2>(),
    );
    check_op(ops::scaled_dot_product_attention(q, k, v, false), &opts()).unwrap();
    check_op(ops::scaled_dot_product_attention(q, k, v, true), &opts()).unwrap();
    // Self-attention: q, k and v one slot.
    let x = Idx::<G, Dim<2, Matrix<3, 4>>>::at::<3>();
    check_op(ops::scaled_dot_product_attention(x, x, x, true), &opts()).unwrap();
}

/// With one key, every weight is 1 and the output is the value row; with a causal mask the
/// first query sees only the first key.
#[test]
fn attention_values() {
    type G = HList![Dim<1, Matrix<2, 2>>, Dim<1, Matrix<2, 2>>, Dim<1, Matrix<2, 1>>];
    let x: TList<f64, G> = TList::try_from_flat(vec![
        1.0, 0.0, 0.0, 1.0, // Q
        1.0, 0.0, 0.0, 1.0, // K
        10.0, 20.0, // V
    ])
    .unwrap();
    let (q, k, v) = (
        Idx::<G, _>::at::<0>(),
        Idx::<G, _>::at::<1>(),
        Idx::<G, _>::at::<2>(),
    );
    let y = ops::scaled_dot_product_attention(q, k, v, true)
        .into_node::<f64, ()>()
        .forward(&x, &());
    // Query 0 sees key 0 only: 10. Query 1: scores (0, 1)/√2, weights (1, e^{1/√2})/(1 + e^{1/√2}).
    let e = (1.0f64 / 2f64.sqrt()).exp();
    let want1 = (10.0 + 20.0 * e) / (1.0 + e);
    assert_eq!(y.as_slice()[0], 10.0);
    assert!((y.as_slice()[1] - want1).abs() < 1e-12);
}

#[test]
fn normalisations_pass_every_check() {
    type G = HList![Matrix<3, 4>, Vector<4>, Vector<4>, Vector<4>, Vector<4>];
    let x = Idx::<G, Matrix<3, 4>>::at::<0>();
    let (g, b, m, v) = (
        Idx::<G, Vector<4>>::at::<1>(),
        Idx::<G, Vector<4>>::at::<2>(),
        Idx::<G, Vector<4>>::at::<3>(),
        Idx::<G, Vector<4>>::at::<4>(),
    );
    check_op(ops::layer_norm(x, g, b, 1e-5).unwrap(), &opts()).unwrap();
    check_op(ops::rms_norm(x, g, 1e-5).unwrap(), &opts()).unwrap();
    check_op(ops::batch_norm(x, g, b, 1e-5).unwrap(), &opts()).unwrap();
    // Variances must be positive: draw every input in 0.5..2.
    check_op(
        ops::batch_norm_inference(x, m, v, g, b, 1e-5).unwrap(),
        &opts().range(0.5..2.0),
    )
    .unwrap();
}

/// Layer norm of a row by hand: x = (1, 2, 3, 4), mean 2.5, biased variance 1.25.
#[test]
fn layer_norm_values() {
    type G = HList![Vector<4>, Vector<4>, Vector<4>];
    let x: TList<f64, G> = tlist![
        Tensor::new([1.0, 2.0, 3.0, 4.0]),
        Tensor::new([1.0, 1.0, 2.0, 2.0]),
        Tensor::new([0.0, 0.0, 0.0, 1.0])
    ];
    let y = ops::layer_norm(
        Idx::<G, Vector<4>>::at::<0>(),
        Idx::at::<1>(),
        Idx::at::<2>(),
        1e-5,
    )
    .unwrap()
    .into_node::<f64, ()>()
    .forward(&x, &());
    let r = 1.0 / (1.25f64 + 1e-5).sqrt();
    let want = [-1.5 * r, -0.5 * r, 2.0 * 0.5 * r, 2.0 * 1.5 * r + 1.0];
    for (a, b) in y.as_slice().iter().zip(want) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    for bad in [0.0, -1e-5, f64::NAN] {
        assert!(
            ops::layer_norm(
                Idx::<G, Vector<4>>::at::<0>(),
                Idx::at::<1>(),
                Idx::at::<2>(),
                bad
            )
            .is_err()
        );
    }
}

type EG = HList![Matrix<5, 3>, Vector<4>];

fn tokens() -> TList<f64, EG> {
    tlist![
        Tensor::from_fn(|ix| (ix[0] * 3 + ix[1]) as f64 / 4.0 - 1.0),
        Tensor::new([4.0, 0.0, 4.0, 2.0])
    ]
}

/// Embedding: rows looked up, the table's gradient adds rows (token 4 twice), no gradient
/// for the indices, the law `backprop_correct` exactly over ℚ, bad indices give NaN.
#[test]
fn embedding() {
    let g = GraphData::<f64, (), EG, _>::build(|b| {
        let hlist_pat![w, i] = b.inputs();
        let (b, _) = b.push(|c| ops::embedding(c.idx(w), c.idx(i)));
        b
    });
    let x = tokens();
    let y = g.eval(x.clone(), &());
    let rows: Vec<f64> = y.slot_slices().last().unwrap().to_vec();
    let w = x.slot_slices().next().unwrap().to_vec();
    let want: Vec<f64> = [4, 0, 4, 2]
        .iter()
        .flat_map(|&r| w[r * 3..r * 3 + 3].to_vec())
        .collect();
    assert_eq!(rows, want);
    let seed: TList<f64, Cat<EG, HList![Matrix<4, 3>]>> = TList::zero().map(|_: &f64| 1.0);
    let grad = g.backprop_ctx(x.clone(), &(), seed);
    let gw: Vec<f64> = grad.slot_slices().next().unwrap().to_vec();
    // 1 (its own seed) + 2 for row 4 (twice), + 1 for rows 0 and 2, and the table's own seed 1.
    assert_eq!(&gw[12..15], &[3.0, 3.0, 3.0]);
    assert_eq!(&gw[0..3], &[2.0, 2.0, 2.0]);
    assert_eq!(&gw[3..6], &[1.0, 1.0, 1.0]);
    assert_eq!(grad.slot_slices().nth(1).unwrap(), &[1.0, 1.0, 1.0, 1.0]); // only the seed
    // The law `backprop_correct` (directions that do not move the indices); every value here
    // is a small dyadic rational, so the f64 sums are exact and so is the comparison.
    let dx: TList<f64, EG> = tlist![
        Tensor::from_fn(|ix| (ix[0] as f64) - (ix[1] as f64)),
        Tensor::zeros()
    ];
    let s: TList<f64, Cat<EG, HList![Matrix<4, 3>]>> = TList::zero().map(|_: &f64| 0.5);
    assert!(check_backprop(&g, &x, &dx, &(), &s).is_exact());
    for bad in [5.0, -1.0, 1.5] {
        let mut xb = x.clone();
        xb.get_mut(Idx::<EG, Vector<4>>::at::<1>()).as_mut_slice()[1] = bad;
        let y = g.eval(xb, &());
        assert!(
            y.slot_slices().last().unwrap()[3..6]
                .iter()
                .all(|v| v.is_nan())
        );
    }
}

/// A certified embedding: exact lookup (bound = the table's bound), and +∞ for uncertain indices.
#[test]
fn embedding_certified() {
    let g = RevGraph::<f32, f64, EG, _>::build(|b| {
        let hlist_pat![w, i] = b.inputs();
        let (b, _) = b.push(|c| ops::embedding(c.idx(w), c.idx(i)));
        b
    });
    let x32: TList<f32, EG> = tokens().map(|&v| v as f32);
    let (y, eps) = g.eval_certified(EList::try_from_vec(vec![1e-3, 0.0]).unwrap(), x32.clone());
    let spec = g.eval_spec(x32.map(|v| v.to_spec().unwrap()));
    assert!(approx_ctx(&spec, &y, &eps));
    assert!(eps.as_slice()[2] >= 1e-3 && eps.as_slice()[2] < 1.1e-3);
    let (_, eps) = g.eval_certified(EList::try_from_vec(vec![0.0, 0.5]).unwrap(), x32);
    assert_eq!(eps.as_slice()[2], f64::INFINITY);
}

/// Dropout: deterministic masks from the environment, the kept entries scaled by 1/(1 − p),
/// the same mask in forward and reverse, a fraction near p dropped, identity with Δ = ().
#[test]
fn dropout() {
    type G = HList![Vector<1000>];
    let x: TList<f64, G> = TList::zero().map(|_: &f64| 1.0);
    let node = ops::dropout(Idx::<G, Vector<1000>>::at::<0>(), 0.25, 7).unwrap();
    let train = node.clone().into_node::<f64, DropoutEnv>();
    let env = DropoutEnv { seed: 42 };
    let y = train.forward(&x, &env);
    let y2 = train.forward(&x, &env);
    assert_eq!(y, y2);
    let kept = y.as_slice().iter().filter(|&&v| v != 0.0).count();
    assert!(
        (700..800).contains(&kept),
        "kept {kept} of 1000 at p = 0.25"
    );
    assert!(y.as_slice().iter().all(|&v| v == 0.0 || v == 1.0 / 0.75));
    let g = train.vjp(&x, &env, &Tensor::fill(1.0)).to_dense();
    assert_eq!(g.slot_slices().next().unwrap(), y.as_slice());
    assert_ne!(y, train.forward(&x, &DropoutEnv { seed: 43 }));
    let infer = node.into_node::<f64, ()>();
    assert_eq!(infer.forward(&x, &()), x.clone().into_tensors().head);
    for bad in [1.0, -0.1, f64::NAN] {
        assert!(ops::dropout(Idx::<G, Vector<1000>>::at::<0>(), bad, 0).is_err());
    }
}

/// A bias over rows and a per-row scale, by hand; the bias's gradient is the column sums.
#[test]
fn broadcasting_values() {
    type G = HList![Matrix<2, 3>, Vector<3>, Matrix<2, 1>];
    let x: TList<f64, G> = tlist![
        Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        Tensor::new([10.0, 20.0, 30.0]),
        Tensor::new([[2.0], [-1.0]])
    ];
    let (m, b, r) = (
        Idx::<G, Matrix<2, 3>>::at::<0>(),
        Idx::<G, Vector<3>>::at::<1>(),
        Idx::<G, Matrix<2, 1>>::at::<2>(),
    );
    let add = ops::add_broadcast(m, b).into_node::<f64, ()>();
    assert_eq!(
        add.forward(&x, &()).as_slice(),
        &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0]
    );
    let seed = Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let g = add.vjp(&x, &(), &seed).to_dense();
    assert_eq!(g.slot_slices().nth(1).unwrap(), &[5.0, 7.0, 9.0]);
    let mul = ops::mul_broadcast(m, r).into_node::<f64, ()>();
    assert_eq!(
        mul.forward(&x, &()).as_slice(),
        &[2.0, 4.0, 6.0, -4.0, -5.0, -6.0]
    );
    let g = mul.vjp(&x, &(), &seed).to_dense();
    // ∂/∂r = row sums of δ ⊙ m: 1 + 4 + 9 = 14, 16 + 25 + 36 = 77.
    assert_eq!(g.slot_slices().nth(2).unwrap(), &[14.0, 77.0]);
}

/// The closed-form softmax bounds are sound (the harness checks them against the spec) and
/// much tighter than the interval enclosure of the generic code, which loses the correlation of
/// `x − max x` and of `p` with `Σ p`: measured here against that enclosure, computed
/// independently with a `GraphData<Interval>` on the error boxes.
#[test]
fn softmax_closed_form_is_tighter_than_the_enclosure() {
    use shapetape::approx::Interval;
    type G = HList![Matrix<4, 8>];
    let mut rng = shapetape::rng::SplitMix64::new(3);
    let x32: TList<f32, G> = TList::zero().map(|_: &f32| rng.uniform(-3.0, 3.0) as f32);
    for (op_name, log) in [("softmax", false), ("log_softmax", true)] {
        for e in [1e-6, 1e-4, 1e-2] {
            let cert = RevGraph::<f32, f64, G, _>::build(|b| {
                let x = b.input::<0>();
                if log {
                    b.push(|c| ops::log_softmax(c.idx(x))).0
                } else {
                    b.push(|c| ops::softmax(c.idx(x))).0
                }
            });
            let (y, eps) = cert.eval_certified(EList::try_from_vec(vec![e]).unwrap(), x32.clone());
            let bound = eps.as_slice()[1];
            // The enclosure: the same op on the boxes [x̂ − e, x̂ + e].
            let enc = GraphData::<Interval, (), G, _>::build(|b| {
                let x = b.input::<0>();
                if log {
                    b.push(|c| ops::log_softmax(c.idx(x))).0
                } else {
                    b.push(|c| ops::softmax(c.idx(x))).0
                }
            });
            let boxes = x32.map(|&v| Interval::around(f64::from(v), e));
            let out = enc.eval(boxes, &());
            let lifted = out
                .slot_slices()
                .nth(1)
                .unwrap()
                .iter()
                .zip(y.slot_slices().nth(1).unwrap())
                .fold(0.0f64, |m, (iv, &v)| {
                    m.max(iv.max_distance_from(f64::from(v)))
                });
            eprintln!("{op_name} ε = {e:e}: closed-form bound {bound:.3e}, enclosure {lifted:.3e}");
            assert!(
                bound <= lifted,
                "{op_name} at ε = {e}: {bound} > enclosure {lifted}"
            );
            if !log {
                assert!(
                    bound * 2.0 < lifted,
                    "{op_name} at ε = {e}: {bound} vs {lifted}"
                );
            }
        }
    }
}

/// Layer norm's certified bound (the smaller of a closed form that keeps the correlation of
/// `x − mean(x)` and the interval enclosure) against the enclosure alone, computed
/// independently with a `GraphData<Interval>` on the error boxes.
#[test]
fn layer_norm_bound_against_the_enclosure() {
    use shapetape::approx::Interval;
    type G = HList![Matrix<4, 16>, Vector<16>, Vector<16>];
    let mut rng = shapetape::rng::SplitMix64::new(5);
    let x32: TList<f32, G> = TList::zero().map(|_: &f32| rng.uniform(-2.0, 2.0) as f32);
    for e in [1e-6, 1e-4, 1e-2] {
        let cert = RevGraph::<f32, f64, G, _>::build(|b| {
            let hlist_pat![x, g, bb] = b.inputs();
            b.try_push(|c| ops::layer_norm(c.idx(x), c.idx(g), c.idx(bb), 1e-5))
                .unwrap()
                .0
        });
        let eps_in = EList::try_from_vec(vec![e, e, e]).unwrap();
        let (y, eps) = cert.eval_certified(eps_in, x32.clone());
        let bound = eps.as_slice()[3];
        let enc = GraphData::<Interval, (), G, _>::build(|b| {
            let hlist_pat![x, g, bb] = b.inputs();
            b.try_push(|c| ops::layer_norm(c.idx(x), c.idx(g), c.idx(bb), 1e-5))
                .unwrap()
                .0
        });
        let out = enc.eval(x32.map(|&v| Interval::around(f64::from(v), e)), &());
        let lifted = out
            .slot_slices()
            .nth(3)
            .unwrap()
            .iter()
            .zip(y.slot_slices().nth(3).unwrap())
            .fold(0.0f64, |m, (iv, &v)| {
                m.max(iv.max_distance_from(f64::from(v)))
            });
        eprintln!("layer_norm ε = {e:e}: certified bound {bound:.3e}, enclosure {lifted:.3e}");
        // The closed form wins here (about 20 % tighter); the bound is never looser.
        assert!(bound < lifted, "ε = {e}: {bound} vs {lifted}");
    }
}
