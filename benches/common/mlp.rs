//! The benchmark MLP (batch 32, 64 → 256 → 10, f32, ReLU, mean cross-entropy) three ways:
//! a shapetape `GraphData` and a shapetape `RevGraph<f32, f64, …>`, both built by the one model
//! definition of the examples (`examples/support/model.rs`), and hand-written ndarray code with
//! the same matrix kernel (ndarray's `dot`, i.e. matrixmultiply).

use ndarray::{Array1, Array2, ArrayView2, Axis, Zip};
use shapetape::approx::RevGraph;
use shapetape::autograd::GraphData;
use shapetape::prelude::*;

use super::model;
use shapetape::rng::SplitMix64;

pub const B: usize = 32;
pub const I: usize = 64;
pub const H: usize = 256;
pub const O: usize = 10;

pub type Params = model::Params<I, H, O>;
pub type Batch = model::Batch<B, I, O>;
pub type Inputs = model::Inputs<B, I, H, O>;
/// Pre-activation, activation, logits, loss.
pub type Nodes = model::Nodes<B, H, O>;
pub type Ctx = Cat<Inputs, Nodes>;
pub type Mlp = GraphData<f32, (), Inputs, Nodes>;
pub type RevMlp = RevGraph<f32, f64, Inputs, Nodes>;

/// The network as `GraphData`, built with the typed builder, and the index of the loss.
pub fn graph() -> (Mlp, Idx<Ctx, Scalar>) {
    GraphData::<f32, (), Inputs, _>::build_with(|b| {
        let (b, (_, loss)) = model::classifier::<_, model::Relu, B, I, H, O>(b);
        let l = b.idx(loss);
        (b, l)
    })
}

/// The same network as a `RevGraph` (f32 runtime, f64 spec).
pub fn rev_graph() -> RevMlp {
    RevGraph::<f32, f64, Inputs, _>::build(|b| model::classifier::<_, model::Relu, B, I, H, O>(b).0)
}

/// Deterministic inputs: Glorot weights, small biases, uniform points, one-hot targets.
pub fn inputs() -> TList<f32, Inputs> {
    let mut rng = SplitMix64::new(42);
    let w1: Tensor<f32, Matrix<H, I>> = rng.glorot_uniform();
    let b1: Tensor<f32, Vector<H>> = rng.uniform_tensor(-0.1, 0.1);
    let w2: Tensor<f32, Matrix<O, H>> = rng.glorot_uniform();
    let b2: Tensor<f32, Vector<O>> = rng.uniform_tensor(-0.1, 0.1);
    let x: Tensor<f32, Matrix<B, I>> = rng.uniform_tensor(-1.0, 1.0);
    let t: Tensor<f32, Matrix<B, O>> =
        Tensor::from_fn(|ix| if ix[1] == (ix[0] * 7) % O { 1.0 } else { 0.0 });
    tlist![w1, b1, w2, b2, x, t]
}

/// The seed: cotangent 1 on the loss.
pub fn seed(loss: Idx<Ctx, Scalar>) -> TList<f32, Ctx> {
    TList::single(loss, Tensor::new(1.0))
}

/// Bytes of the slots of a context (entries × 4).
pub fn bytes_of<G: ShapeList>(x: &TList<f32, G>) -> usize {
    x.slot_slices().map(|s| s.len() * 4).sum()
}

/// The hand-written network: parameters and batch as ndarray arrays.
pub struct Hand {
    pub w1: Array2<f32>,
    pub b1: Array1<f32>,
    pub w2: Array2<f32>,
    pub b2: Array1<f32>,
    pub x: Array2<f32>,
    pub t: Array2<f32>,
}

/// Loss and gradients of the hand-written step.
pub struct HandGrads {
    pub loss: f32,
    pub w1: Array2<f32>,
    pub b1: Array1<f32>,
    pub w2: Array2<f32>,
    pub b2: Array1<f32>,
    /// Only with `all_inputs`: the cotangents of the batch, as `backprop_ctx` returns them.
    pub x: Option<Array2<f32>>,
    pub t: Option<Array2<f32>>,
}

impl Hand {
    /// The same numbers as `inputs()`.
    pub fn from_inputs(x: &TList<f32, Inputs>) -> Self {
        let s: Vec<&[f32]> = x.slot_slices().collect();
        let m =
            |k: usize, r: usize, c: usize| ArrayView2::from_shape((r, c), s[k]).unwrap().to_owned();
        Hand {
            w1: m(0, H, I),
            b1: Array1::from(s[1].to_vec()),
            w2: m(2, O, H),
            b2: Array1::from(s[3].to_vec()),
            x: m(4, B, I),
            t: m(5, B, O),
        }
    }

    /// Forward and backward by hand. With `all_inputs` it also computes the cotangents of the
    /// batch `x` and `t`, which `backprop_ctx` always returns.
    pub fn step(&self, all_inputs: bool) -> HandGrads {
        // Forward.
        let mut h = self.x.dot(&self.w1.t());
        h += &self.b1;
        let a = h.mapv(|v| v.max(0.0));
        let mut z = a.dot(&self.w2.t());
        z += &self.b2;
        // Cross-entropy and its gradient, row by row.
        let inv = 1.0 / B as f32;
        let mut loss = 0.0f32;
        let mut dz = Array2::<f32>::zeros((B, O));
        let mut dt = if all_inputs {
            Some(Array2::<f32>::zeros((B, O)))
        } else {
            None
        };
        for r in 0..B {
            let zr = z.row(r);
            let tr = self.t.row(r);
            let m = zr.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let s: f32 = zr.iter().map(|&v| (v - m).exp()).sum();
            let lse = s.ln();
            let mass: f32 = tr.sum();
            for c in 0..O {
                let ls = zr[c] - m - lse;
                loss -= tr[c] * ls;
                dz[[r, c]] = ((zr[c] - m).exp() / s * mass - tr[c]) * inv;
                if let Some(dt) = dt.as_mut() {
                    dt[[r, c]] = -ls * inv;
                }
            }
        }
        loss *= inv;
        // Backward.
        let dw2 = dz.t().dot(&a);
        let db2 = dz.sum_axis(Axis(0));
        let mut dh = dz.dot(&self.w2);
        Zip::from(&mut dh)
            .and(&h)
            .for_each(|d, &hv| *d = if hv > 0.0 { *d } else { 0.0 });
        let dw1 = dh.t().dot(&self.x);
        let db1 = dh.sum_axis(Axis(0));
        let dx = if all_inputs {
            Some(dh.dot(&self.w1))
        } else {
            None
        };
        HandGrads {
            loss,
            w1: dw1,
            b1: db1,
            w2: dw2,
            b2: db2,
            x: dx,
            t: dt,
        }
    }
}

/// Largest absolute difference between the shapetape gradients and the hand-written ones.
pub fn max_grad_diff(lib: &TList<f32, Inputs>, hand: &HandGrads) -> f32 {
    let s: Vec<&[f32]> = lib.slot_slices().collect();
    let pairs: [(&[f32], &[f32]); 4] = [
        (s[0], hand.w1.as_slice().unwrap()),
        (s[1], hand.b1.as_slice().unwrap()),
        (s[2], hand.w2.as_slice().unwrap()),
        (s[3], hand.b2.as_slice().unwrap()),
    ];
    pairs
        .iter()
        .flat_map(|(a, b)| a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()))
        .fold(0.0, f32::max)
}
