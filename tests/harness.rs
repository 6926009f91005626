//! Every op of the library, at representative shapes and with its operands aliased where that
//! changes the VJP, through the one public harness
//! (`strategies::check_op`): adjointness, finite differences, literal = linear reverse mode,
//! the two bridge theorems against an independent reference, and bound soundness. Ops that are
//! polynomial or piecewise linear are also checked exactly over ℚ (`check_op_exact`).
//!
//! `PROPTEST_CASES` sets the number of points per op.
#![cfg(feature = "proptest")]

#[path = "common/registry.rs"]
mod registry;

use registry::*;
use shapetape::autograd::{Eval, OpNode};
use shapetape::ops;
use shapetape::prelude::*;
use shapetape::strategies::{OpCheck, check_op, check_op_exact};

type V = Vector<3>;
type M = Matrix<2, 3>;
/// A context with room for every operand kind the registry uses.
type G = HList![V, V, M, Matrix<3, 2>, Vector<2>, Matrix<2, 2>, Matrix<4, 3>, Matrix<4, 2>];

fn opts() -> OpCheck {
    OpCheck::default()
}

fn pass<K>(op: OpNode<G, K>)
where
    K: shapetape::approx::Certifiable<f32, f64> + Clone,
{
    let name = op.op().name().to_owned();
    match check_op(op, &opts()) {
        Ok(report) => eprintln!("{report}"),
        Err(e) => panic!("{name}: {e}"),
    }
}

fn pass_exact<K>(op: OpNode<G, K>)
where
    K: shapetape::approx::Certifiable<f32, Rational> + Eval<f64> + Clone,
{
    let name = op.op().name().to_owned();
    if let Err(e) = check_op_exact(op, &opts()) {
        panic!("{name} (exact): {e}");
    }
}

/// Every op of the random-graph registry (`tests/common/registry.rs`, the ops the multi-node
/// properties compose), at every output shape it produces over `G`, with distinct and with
/// aliased operands, and `scale` at a nonzero factor: through `check_op`, and `check_op_exact`
/// where the op is exact over ℚ. An op added to the registry is checked here without another
/// line.
#[test]
fn registry_ops() {
    thread_local! {
        /// The options for the op being made (its domain, see `Kind::domain`).
        static OPTS: core::cell::RefCell<OpCheck> = core::cell::RefCell::new(opts());
    }
    /// Runs the harness on each op the registry makes; the node it keeps is the op's name.
    struct Check;
    impl Target for Check {
        type Node<C: ShapeList, S: Shape> = String;
        const REAL: bool = true;
        fn op<C: ShapeList, K: AnyOp>(op: OpNode<C, K>) -> String {
            let name = op.op().name().to_owned();
            let o = OPTS.with(|o| o.borrow().clone());
            if let Err(e) = check_op(op.clone(), &o) {
                panic!("{name}: {e}");
            }
            if let Err(e) = check_op_exact(op, &o) {
                panic!("{name} (exact): {e}");
            }
            name
        }
        fn real_op<C: ShapeList, K: RealOp>(op: OpNode<C, K>) -> String {
            let name = op.op().name().to_owned();
            let o = OPTS.with(|o| o.borrow().clone());
            if let Err(e) = check_op(op, &o) {
                panic!("{name}: {e}");
            }
            name
        }
        fn safe_log_eps() -> f64 {
            SAFE_LOG_EPS
        }
    }
    /// The ops producing `S`; the entrywise ones only where `entrywise` (two shapes suffice).
    fn each<S: OutShape>(checked: &mut Vec<Kind>, entrywise: bool) {
        let kinds = kinds_for::<S>(ALL, true);
        for kind in kinds
            .into_iter()
            .filter(|k| entrywise || S::PRODUCED_BY.contains(k))
        {
            OPTS.with(|o| {
                *o.borrow_mut() = match kind.domain() {
                    Some(range) => opts().range(range),
                    None => opts(),
                }
            });
            // With `operands[2] = 0` the square variant of each product comes first, so the
            // aliased case really aliases (`matmul(A, A)`, `linear` with input = bias).
            for (alias, operands) in [(false, [0, 1, 2]), (true, [1, 0, 0])] {
                let ch = Choice {
                    op: 0,
                    operands,
                    alias,
                    konst: -3,
                };
                if S::make::<Check, G>(kind, &ch).is_some() && !checked.contains(&kind) {
                    checked.push(kind);
                }
            }
        }
    }
    let mut checked = Vec::new();
    each::<V3>(&mut checked, true);
    each::<V2>(&mut checked, false);
    each::<M22>(&mut checked, false);
    each::<M23>(&mut checked, true);
    each::<M32>(&mut checked, false);
    each::<Scalar>(&mut checked, false);
    let missing: Vec<Kind> = ALL
        .iter()
        .copied()
        .filter(|k| !checked.contains(k))
        .collect();
    assert!(missing.is_empty(), "never built over G: {missing:?}");
}

#[test]
fn softplus_far_below_zero() {
    let op = ops::softplus(Idx::<G, V>::at::<0>());
    check_op(op, &opts().range(-60.0..-20.0)).unwrap();
}

/// Shapes the registry does not draw: a batch of four rows (linear layer, row-wise softmax and
/// cross-entropy with aliased logits and targets).
#[test]
fn batch_of_four_rows() {
    let (w, xb, y, m) = (
        Idx::<G, M>::at::<2>(),
        Idx::<G, Matrix<4, 3>>::at::<6>(),
        Idx::<G, Vector<2>>::at::<4>(),
        Idx::<G, Matrix<4, 2>>::at::<7>(),
    );
    pass(ops::linear_batch(w, xb, y));
    pass_exact(ops::linear_batch(w, xb, y));
    pass(ops::softmax(m));
    pass(ops::log_softmax(m));
    pass(ops::cross_entropy(m, m));
    pass(ops::sum(m));
    pass_exact(ops::mean(m));
}

#[test]
fn constants() {
    let c = ops::constant::<G, V>(Tensor::new([0.1, -2.0, 3.5])).unwrap();
    pass(c.clone());
    pass_exact(c);
}

/// The harness can fail: an op `y = 2x` with one defect at a time, each caught by its check.
mod broken {
    use super::*;
    use shapetape::autograd::{Op, Operands, Pullback, Slot, SlotBounds};
    use shapetape::smallvec::{SmallVec, smallvec};

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Defect {
        None,
        /// The VJP is `3δ` while the JVP is `2 dx`: not adjoint.
        NotAdjoint,
        /// JVP `3 dx` and VJP `3δ`: adjoint, but not the derivative of `2x`.
        WrongDerivative,
        /// A closed-form bound of 0 although the input carries error.
        BoundTooSmall,
    }

    #[derive(Clone, Copy, Debug)]
    struct Twice {
        x: Slot<V>,
        defect: Defect,
    }

    impl Op for Twice {
        type Out = V;
        fn name(&self) -> &str {
            "twice"
        }
        fn reads(&self) -> SmallVec<[usize; 4]> {
            smallvec![self.x.pos()]
        }
        fn bound<R: shapetape::approx::RuntimeFloat>(
            &self,
            _: SlotBounds<'_>,
            _: Operands<'_, R>,
            _: &[R],
        ) -> Option<f64> {
            (self.defect == Defect::BoundTooSmall).then_some(0.0)
        }
    }

    impl<A: Element, D> Eval<A, D> for Twice {
        fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, V> {
            x.get(self.x).map(|v| v.clone() + v.clone())
        }
        fn jvp(&self, _: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, V> {
            let k = if self.defect == Defect::WrongDerivative {
                3
            } else {
                2
            };
            dx.get(self.x).map(|v| v.clone() * A::from_i64(k))
        }
        fn vjp(&self, _: Operands<'_, A>, _: &D, seed: &Tensor<A, V>) -> Pullback<A> {
            let k = match self.defect {
                Defect::NotAdjoint | Defect::WrongDerivative => 3,
                _ => 2,
            };
            Pullback::single(self.x, seed.map(|v| v.clone() * A::from_i64(k)))
        }
    }

    fn twice(defect: Defect) -> OpNode<G, Twice> {
        OpNode::new(Twice {
            x: Idx::<G, V>::at::<0>().slot(),
            defect,
        })
    }

    #[test]
    fn each_defect_is_caught_by_its_check() {
        assert!(check_op(twice(Defect::None), &opts()).is_ok());
        assert!(check_op_exact(twice(Defect::None), &opts()).is_ok());
        let check = |d| check_op(twice(d), &opts()).unwrap_err().check;
        assert_eq!(check(Defect::NotAdjoint), "adjointness");
        assert_eq!(check(Defect::WrongDerivative), "gradcheck");
        assert_eq!(check(Defect::BoundTooSmall), "bound");
    }
}

/// [`pass`] with input entries in `range` (for ops with a domain).
fn pass_in<K>(op: OpNode<G, K>, range: core::ops::Range<f64>)
where
    K: shapetape::approx::Certifiable<f32, f64> + Clone,
{
    let name = op.op().name().to_owned();
    match check_op(op, &opts().range(range)) {
        Ok(report) => eprintln!("{report}"),
        Err(e) => panic!("{name}: {e}"),
    }
}

/// [`pass_exact`] with input entries in `range`.
fn pass_exact_in<K>(op: OpNode<G, K>, range: core::ops::Range<f64>)
where
    K: shapetape::approx::Certifiable<f32, Rational> + Eval<f64> + Clone,
{
    let name = op.op().name().to_owned();
    if let Err(e) = check_op_exact(op, &opts().range(range)) {
        panic!("{name} (exact): {e}");
    }
}

/// The piecewise-polynomial activations, also exactly over ℚ.
#[test]
fn activations_piecewise_polynomial() {
    let a = Idx::<G, V>::at::<0>();
    let m = Idx::<G, M>::at::<2>();
    pass(ops::abs(a));
    pass_exact(ops::abs(a));
    pass(ops::abs(m));
    pass(ops::square(a));
    pass_exact(ops::square(a));
    pass(ops::square(m));
    for n in [0, 1, 2, 3, 4, 7] {
        pass(ops::powi(a, n));
        pass_exact(ops::powi(a, n));
    }
    for s in [0.01, -0.5, 2.0] {
        pass(ops::leaky_relu(a, s).unwrap());
        pass_exact(ops::leaky_relu(a, s).unwrap());
    }
    pass(ops::leaky_relu(m, 0.2).unwrap());
    pass(ops::clamp(a, -0.5, 1.25).unwrap());
    pass_exact(ops::clamp(a, -0.5, 1.25).unwrap());
    pass_exact(ops::clamp(a, 0.3, 0.3).unwrap()); // a constant
    pass(ops::clamp(m, -1.0, 0.0).unwrap());
}

/// Negative integer powers, away from the pole at 0 (on both sides).
#[test]
fn activations_negative_powers() {
    let a = Idx::<G, V>::at::<0>();
    for n in [-1, -2, -3] {
        pass_in(ops::powi(a, n), 0.5..2.0);
        pass_in(ops::powi(a, n), -2.0..-0.5);
        pass_exact_in(ops::powi(a, n), 0.5..2.0);
    }
}

/// The activations with a domain or transcendental functions.
#[test]
fn activations_real() {
    let a = Idx::<G, V>::at::<0>();
    let m = Idx::<G, M>::at::<2>();
    pass_in(ops::sqrt(a), 0.1..4.0);
    pass_in(ops::sqrt(m), 0.1..4.0);
    pass_in(ops::log(a), 0.1..4.0);
    pass_in(ops::log(m), 0.1..4.0);
    pass(ops::gelu(a));
    pass(ops::gelu(m));
    pass_in(ops::gelu(a), -8.0..8.0);
    pass(ops::silu(a));
    pass_in(ops::silu(m), -8.0..8.0);
    for alpha in [1.0, 0.5, -0.25] {
        pass(ops::elu(a, alpha).unwrap());
    }
    pass_in(ops::elu(m, 1.5).unwrap(), -8.0..1.0);
}

/// Division (away from a zero divisor), maximum and minimum, with aliased operands.
#[test]
fn entrywise_binary_ops_extended() {
    let (a, b) = (Idx::<G, V>::at::<0>(), Idx::<G, V>::at::<1>());
    for op in [ops::div(a, b), ops::div(a, a)] {
        pass_in(op.clone(), 0.5..2.0);
        pass_in(op.clone(), -2.0..-0.5);
        pass_exact_in(op, 0.5..2.0);
    }
    for op in [
        ops::maximum(a, b),
        ops::minimum(a, b),
        ops::maximum(a, a),
        ops::minimum(a, a),
    ] {
        pass(op.clone());
        pass_exact(op);
    }
}

/// The shape ops (linear, so also exact over ℚ), on the registry's context.
#[test]
fn shape_ops() {
    let (a, b, m) = (
        Idx::<G, V>::at::<0>(),
        Idx::<G, V>::at::<1>(),
        Idx::<G, M>::at::<2>(),
    );
    let (sq, xb, y) = (
        Idx::<G, Matrix<2, 2>>::at::<5>(),
        Idx::<G, Matrix<4, 3>>::at::<6>(),
        Idx::<G, Vector<2>>::at::<4>(),
    );
    pass(ops::reshape::<Matrix<3, 2>, _, _>(m));
    pass_exact(ops::reshape::<Matrix<3, 2>, _, _>(m));
    pass(ops::reshape::<Tensor3<2, 2, 3>, _, _>(xb));
    pass_exact(ops::reshape::<Tensor3<2, 2, 3>, _, _>(xb));
    pass(ops::flatten(m));
    pass_exact(ops::flatten(m));
    pass(ops::swapaxes::<0, 1, _, _>(m));
    pass_exact(ops::swapaxes::<0, 1, _, _>(m));
    pass(ops::permute(m, (ops::Ax::<1>, ops::Ax::<0>)));
    pass_exact(ops::permute(m, (ops::Ax::<1>, ops::Ax::<0>)));
    pass(ops::concat::<0, _, _, _>(a, b));
    pass_exact(ops::concat::<0, _, _, _>(a, b));
    pass(ops::concat::<0, _, _, _>(a, a)); // aliased: one slot receives δ₀ + δ₁
    pass_exact(ops::concat::<0, _, _, _>(a, a));
    pass(ops::concat::<1, _, _, _>(m, sq));
    pass_exact(ops::concat::<1, _, _, _>(m, sq));
    pass(ops::concat::<0, _, _, _>(m, xb));
    pass_exact(ops::concat::<0, _, _, _>(m, xb));
    pass(ops::stack(a, b));
    pass_exact(ops::stack(a, b));
    pass(ops::stack(m, m)); // aliased
    pass_exact(ops::stack(m, m));
    pass(ops::narrow::<1, 1, 2, _, _>(m));
    pass_exact(ops::narrow::<1, 1, 2, _, _>(m));
    pass(ops::narrow::<0, 1, 2, _, _>(xb));
    pass_exact(ops::narrow::<0, 1, 2, _, _>(xb));
    pass(ops::broadcast_to::<Matrix<4, 3>, _, _>(a)); // a bias over rows
    pass_exact(ops::broadcast_to::<Matrix<4, 3>, _, _>(a));
    pass(ops::broadcast_to::<Matrix<4, 2>, _, _>(y));
    pass_exact(ops::broadcast_to::<Matrix<4, 2>, _, _>(y));
}

/// A context of rank-3 and length-1 operands for the shape ops.
type G3 = HList![Tensor3<2, 3, 4>, Matrix<3, 1>, Scalar];

fn pass3<K>(op: OpNode<G3, K>)
where
    K: shapetape::approx::Certifiable<f32, f64>
        + shapetape::approx::Certifiable<f32, Rational>
        + Eval<f64>
        + Clone,
{
    let name = op.op().name().to_owned();
    if let Err(e) = check_op(op.clone(), &opts()) {
        panic!("{name}: {e}");
    }
    if let Err(e) = check_op_exact(op, &opts()) {
        panic!("{name} (exact): {e}");
    }
}

/// The shape ops on rank-3 tensors: permutations, slices and broadcasts over several axes.
#[test]
fn shape_ops_rank_3() {
    let (t, c, s) = (
        Idx::<G3, Tensor3<2, 3, 4>>::at::<0>(),
        Idx::<G3, Matrix<3, 1>>::at::<1>(),
        Idx::<G3, Scalar>::at::<2>(),
    );
    pass3(ops::permute(t, (ops::Ax::<2>, ops::Ax::<0>, ops::Ax::<1>)));
    pass3(ops::permute(t, (ops::Ax::<1>, ops::Ax::<2>, ops::Ax::<0>)));
    pass3(ops::swapaxes::<0, 2, _, _>(t));
    pass3(ops::swapaxes::<1, 2, _, _>(t));
    pass3(ops::narrow::<2, 1, 2, _, _>(t));
    pass3(ops::narrow::<1, 2, 1, _, _>(t));
    pass3(ops::concat::<2, _, _, _>(t, t));
    pass3(ops::flatten(t));
    pass3(ops::broadcast_to::<Tensor3<2, 3, 4>, _, _>(c));
    pass3(ops::broadcast_to::<Tensor3<2, 3, 4>, _, _>(s));
    pass3(ops::stack(s, s));
}

#[test]
fn axis_reductions_and_softmax() {
    type A3 = Dim<2, Dim<3, Vector<4>>>;
    type GA = HList![A3, Matrix<3, 4>];
    let (x, m) = (Idx::<GA, A3>::at::<0>(), Idx::<GA, Matrix<3, 4>>::at::<1>());
    let ok = |r: Result<_, _>| {
        if let Err(e) = r {
            panic!("{e}");
        }
    };
    ok(check_op(ops::sum_axis::<1, _, _>(x), &opts()));
    ok(check_op_exact(ops::sum_axis::<1, _, _>(x), &opts()));
    ok(check_op_exact(ops::sum_axis::<0, _, _>(m), &opts()));
    ok(check_op(ops::mean_axis::<2, _, _>(x), &opts()));
    ok(check_op_exact(ops::mean_axis::<0, _, _>(x), &opts()));
    ok(check_op(ops::max_axis::<1, _, _>(x), &opts()));
    ok(check_op_exact(ops::max_axis::<1, _, _>(m), &opts()));
    ok(check_op(ops::var_axis::<1, _, _>(x), &opts()));
    ok(check_op_exact(ops::var_axis::<0, _, _>(m), &opts()));
    ok(check_op(ops::logsumexp_axis::<0, _, _>(x), &opts()));
    ok(check_op(ops::logsumexp_axis::<1, _, _>(m), &opts()));
    ok(check_op(ops::softmax_axis::<0, _, _>(m), &opts()));
    ok(check_op(ops::softmax_axis::<1, _, _>(x), &opts()));
    ok(check_op(ops::log_softmax_axis::<2, _, _>(x), &opts()));
    ok(check_op(ops::log_softmax_axis::<0, _, _>(m), &opts()));
}

#[test]
fn broadcasting_binary_ops() {
    type GB = HList![Matrix<3, 4>, Vector<4>, Matrix<3, 1>, Scalar];
    let m = Idx::<GB, Matrix<3, 4>>::at::<0>();
    let (bias, rows, s) = (
        Idx::<GB, Vector<4>>::at::<1>(),
        Idx::<GB, Matrix<3, 1>>::at::<2>(),
        Idx::<GB, Scalar>::at::<3>(),
    );
    let ok = |r: Result<_, _>| {
        if let Err(e) = r {
            panic!("{e}");
        }
    };
    ok(check_op(ops::add_broadcast(m, bias), &opts()));
    ok(check_op_exact(ops::add_broadcast(m, bias), &opts()));
    ok(check_op(ops::sub_broadcast(m, rows), &opts()));
    ok(check_op_exact(ops::sub_broadcast(m, rows), &opts()));
    ok(check_op(ops::mul_broadcast(m, rows), &opts()));
    ok(check_op_exact(ops::mul_broadcast(m, s), &opts()));
    ok(check_op(ops::mul_broadcast(m, m), &opts())); // aliased, no broadcast
    // Divisors away from 0.
    let away = opts().range(0.5..2.0);
    ok(check_op(ops::div_broadcast(m, bias), &away));
    ok(check_op_exact(ops::div_broadcast(m, s), &away));
}

/// [`check_op`] and [`check_op_exact`] in any context (convolution and pooling are polynomial
/// or piecewise linear, so every one is also checked exactly over ℚ). The exact check runs on a
/// quarter of the points (at least 4): its rational arithmetic costs some fifty times the `f64`
/// check on these windowed sums, and the `f64` check still covers every point.
fn pass_both<GG: ShapeList, K>(op: OpNode<GG, K>)
where
    K: shapetape::approx::Certifiable<f32, f64>
        + shapetape::approx::Certifiable<f32, Rational>
        + Eval<f64>
        + Clone,
{
    let name = op.op().name().to_owned();
    match check_op(op.clone(), &opts()) {
        Ok(report) => eprintln!("{report}"),
        Err(e) => panic!("{name}: {e}"),
    }
    let exact = opts();
    let cases = (exact.cases / 4).max(4);
    if let Err(e) = check_op_exact(op, &exact.cases(cases)) {
        panic!("{name} (exact): {e}");
    }
}

type Nchw<const N: usize, const C: usize, const H: usize, const W: usize> =
    Dim<N, Dim<C, Dim<H, Vector<W>>>>;

/// The context of the `conv2d` checks: an input, a weight, a bias, a weight for two groups and
/// a weight shaped as the input could be (small sizes: the exact check runs over ℚ).
type GC = HList![
    Nchw<1, 2, 4, 3>,
    Nchw<2, 2, 2, 2>,
    Vector<2>,
    Nchw<2, 1, 2, 2>,
    Nchw<2, 2, 2, 2>
];

/// `conv2d` with stride, padding and dilation (per axis).
#[test]
fn conv2d_ops() {
    use shapetape::ops::Conv2dParams;
    let (x, w, b) = (
        Idx::<GC, Nchw<1, 2, 4, 3>>::at::<0>(),
        Idx::<GC, Nchw<2, 2, 2, 2>>::at::<1>(),
        Idx::<GC, Vector<2>>::at::<2>(),
    );
    let p = Conv2dParams::new();
    pass_both(ops::conv2d(x, w, b, p));
    pass_both(ops::conv2d(x, w, b, p.stride::<2>().padding::<1>()));
    pass_both(ops::conv2d(
        x,
        w,
        b,
        p.dilation_hw::<2, 1>().padding_hw::<0, 1>(),
    ));
}

/// `conv2d` with groups, and with the input and the weight in one slot.
#[test]
fn conv2d_grouped_and_aliased() {
    use shapetape::ops::Conv2dParams;
    let (x, b) = (
        Idx::<GC, Nchw<1, 2, 4, 3>>::at::<0>(),
        Idx::<GC, Vector<2>>::at::<2>(),
    );
    let (wg, sq) = (
        Idx::<GC, Nchw<2, 1, 2, 2>>::at::<3>(),
        Idx::<GC, Nchw<2, 2, 2, 2>>::at::<4>(),
    );
    let p = Conv2dParams::new();
    pass_both(ops::conv2d(
        x,
        wg,
        b,
        p.groups::<2>().padding_hw::<1, 0>().stride_hw::<1, 2>(),
    ));
    pass_both(ops::conv2d(
        x,
        wg,
        b,
        p.groups::<2>().dilation::<2>().padding::<1>(),
    ));
    pass_both(ops::conv2d(sq, sq, b, p)); // aliased: one slot receives x̄ + w̄
    pass_both(ops::conv2d(sq, sq, b, p.padding::<1>()));
}

/// `conv1d` with stride, padding, dilation and groups, and an aliased input and weight.
#[test]
fn conv1d_ops() {
    use shapetape::ops::Conv1dParams;
    type G1 = HList![
        Dim<1, Matrix<4, 6>>,
        Dim<2, Matrix<2, 3>>,
        Vector<2>,
        Dim<2, Matrix<4, 2>>,
        Dim<2, Matrix<2, 2>>
    ];
    let x = Idx::<G1, Dim<1, Matrix<4, 6>>>::at::<0>();
    let (wg, b) = (
        Idx::<G1, Dim<2, Matrix<2, 3>>>::at::<1>(),
        Idx::<G1, Vector<2>>::at::<2>(),
    );
    let (w, sq) = (
        Idx::<G1, Dim<2, Matrix<4, 2>>>::at::<3>(),
        Idx::<G1, Dim<2, Matrix<2, 2>>>::at::<4>(),
    );
    let p = Conv1dParams::new();
    pass_both(ops::conv1d(x, w, b, p));
    pass_both(ops::conv1d(x, w, b, p.stride::<3>().padding::<2>()));
    pass_both(ops::conv1d(
        x,
        wg,
        b,
        p.groups::<2>().stride::<2>().padding::<1>().dilation::<2>(),
    ));
    pass_both(ops::conv1d(sq, sq, b, p.padding::<1>())); // aliased input and weight
}

/// The context of the pooling checks.
type GP = HList![Nchw<2, 2, 5, 4>, Nchw<1, 3, 4, 4>];

/// Max pooling (square and rectangular windows, stride, padding).
#[test]
fn max_pooling_ops() {
    let (x, y) = (
        Idx::<GP, Nchw<2, 2, 5, 4>>::at::<0>(),
        Idx::<GP, Nchw<1, 3, 4, 4>>::at::<1>(),
    );
    pass_both(ops::max_pool2d(x, ops::pool_window::<2>()));
    pass_both(ops::max_pool2d(
        x,
        ops::pool_window::<3>().stride::<1>().padding::<1>(),
    ));
    pass_both(ops::max_pool2d(
        y,
        ops::pool_window_hw::<2, 3>()
            .stride_hw::<2, 1>()
            .padding_hw::<1, 1>(),
    ));
}

/// Average, adaptive and global average pooling.
#[test]
fn avg_pooling_ops() {
    use shapetape::ops::AdaptiveSize;
    let (x, y) = (
        Idx::<GP, Nchw<2, 2, 5, 4>>::at::<0>(),
        Idx::<GP, Nchw<1, 3, 4, 4>>::at::<1>(),
    );
    pass_both(ops::avg_pool2d(x, ops::pool_window::<2>()));
    pass_both(ops::avg_pool2d(
        x,
        ops::pool_window::<3>().stride::<2>().padding::<1>(),
    ));
    pass_both(ops::avg_pool2d(
        y,
        ops::pool_window_hw::<2, 3>()
            .stride_hw::<2, 1>()
            .padding_hw::<1, 1>(),
    ));
    pass_both(ops::adaptive_avg_pool2d(x, AdaptiveSize::<3, 3>));
    pass_both(ops::adaptive_avg_pool2d(x, AdaptiveSize::<1, 1>));
    pass_both(ops::adaptive_avg_pool2d(y, AdaptiveSize::<3, 2>));
    pass_both(ops::global_avg_pool2d(x));
    pass_both(ops::global_avg_pool2d(y));
}
