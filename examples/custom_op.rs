//! Writing an op from scratch: GELU (tanh form), certified and tested with one call.
//!
//! Run with `cargo run --example custom_op --features proptest`.
//!
//! An op is a struct that knows the slots it reads ([`Op`]) and computes its forward, JVP and
//! VJP at any scalar ([`Eval`]). Written once, it is accepted by every graph kind: an executable
//! `GraphData<f32, …>`, an exact `GraphData<Rational, …>` if its maths allows, and a certified
//! `RevGraph<f32, f64, …>`, whose error bounds come from evaluating the same code on intervals.
//!
//! GELU, tanh form (Hendrycks & Gimpel 2016, PyTorch's `approximate="tanh"`):
//! `gelu(x) = x/2 · (1 + tanh(u))` with `u = √(2/π) (x + 0.044715 x³)`, and
//! `gelu′(x) = (1 + tanh u)/2 + x/2 · (1 − tanh² u) · √(2/π) (1 + 3 · 0.044715 x²)`.

use shapetape::approx::{EList, RevGraph, ToSpec, approx_ctx};
use shapetape::autograd::{Eval, GraphData, Op, OpNode, Operands, Pullback, Slot};
use shapetape::prelude::*;
use shapetape::smallvec::{SmallVec, smallvec};

/// `y = gelu(x)` entrywise (tanh form).
#[derive(Clone, Copy, Debug)]
struct Gelu<S> {
    x: Slot<S>,
}

impl<S: Shape> Op for Gelu<S> {
    type Out = S;
    fn name(&self) -> &str {
        "gelu"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        smallvec![self.x.pos()]
    }
    // No closed-form bound: a certified graph bounds GELU by evaluating `Eval<Interval>`.
}

/// `(gelu(x), gelu′(x))` at any real scalar (f32, f64, and the intervals of certified bounds).
fn gelu_and_slope<A: Real>(x: A) -> (A, A) {
    let c = A::from_f64((2.0 / std::f64::consts::PI).sqrt());
    let k = A::from_f64(0.044715);
    let half = A::from_f64(0.5);
    let one = A::one();
    let u = c * (x + k * x * x * x);
    let t = u.tanh();
    let y = half * x * (one + t);
    let dy = half * (one + t) + half * x * (one - t * t) * c * (one + A::from_f64(3.0) * k * x * x);
    (y, dy)
}

impl<A: Real, D, S: Shape> Eval<A, D> for Gelu<S> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        x.get(self.x).map(|&v| gelu_and_slope(v).0)
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        dx.get(self.x)
            .zip_with(&x.get(self.x), |&d, &v| d * gelu_and_slope(v).1)
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, S>) -> Pullback<A> {
        Pullback::single(
            self.x,
            seed.zip_with(&x.get(self.x), |&d, &v| d * gelu_and_slope(v).1),
        )
    }
}

/// The constructor users call: `gelu(c.idx(x))`, like `ops::tanh`.
fn gelu<G: ShapeList, S: Shape>(x: Idx<G, S>) -> OpNode<G, Gelu<S>> {
    OpNode::new(Gelu { x: x.slot() })
}

type G = HList![Vector<4>];

fn main() {
    let x: TList<f32, G> = tlist![Tensor::new([-3.0, -0.5, 0.25, 2.0])];

    // 1. An executable graph: y = gelu(x), loss = Σ y.
    let (g, (y, loss)) = GraphData::<f32, (), G, _>::build_with(|b| {
        let x = b.input::<0>();
        let (b, y) = b.push(|c| gelu(c.idx(x)));
        let (b, s) = b.push(|c| shapetape::ops::sum(c.idx(y)));
        let handles = (b.idx(y), b.idx(s));
        (b, handles)
    });
    let ctx = g.eval(x.clone(), &());
    println!("gelu(x)       = {:?}", ctx.get(y).as_slice());
    let grad = g.backprop_ctx(x.clone(), &(), TList::single(loss, Tensor::new(1.0)));
    println!("d Σ gelu / dx = {:?}", grad.into_tensors().head.as_slice());

    // 2. The same op in a certified graph: f32 runtime, f64 spec, bounds from intervals.
    let cg = RevGraph::<f32, f64, G, _>::build(|b| {
        let x = b.input::<0>();
        let (b, y) = b.push(|c| gelu(c.idx(x)));
        let (b, _) = b.push(|c| shapetape::ops::sum(c.idx(y)));
        b
    });
    let (rt, eps) = cg.eval_certified(EList::zero(), x.clone());
    let spec = cg.eval_spec(x.map(|v: &f32| v.to_spec().expect("finite input")));
    assert!(approx_ctx(&spec, &rt, &eps), "eval_approx holds");
    println!("bounds        = {:?}", eps.as_slice());
    println!(
        "f32 vs f64    = {:?}",
        shapetape::approx::ctx_distances(&spec, &rt)
    );
    // The enclosure mode comes from the same definition (the op's `Eval<Interval>` code, run
    // through the whole graph): bounds on the distance to the exact values, entry by entry.
    let enclosed = cg.eval_enclosed(EList::zero(), x.clone());
    assert!(
        enclosed.runtime() == &rt,
        "the same f32 values, bit for bit"
    );
    println!("enclosure     = {:?}", enclosed.bounds().as_slice());

    // 3. One call tests the op: gradcheck, adjointness, literal = linear backprop, the bridge
    //    equalities and bound soundness (`cargo test --features proptest` runs the same check
    //    in tests/harness.rs).
    #[cfg(feature = "proptest")]
    {
        use shapetape::strategies::{OpCheck, check_op};
        let report = check_op(gelu(Idx::<G, Vector<4>>::at::<0>()), &OpCheck::default())
            .expect("GELU passes every check");
        println!("{report}");
    }
}
