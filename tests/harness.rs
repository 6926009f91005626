//! The registry of the op library: every op, at representative shapes and with its operands
//! aliased where that changes the VJP, through the one public harness
//! (`strategies::check_op`): adjointness, finite differences, literal = linear reverse mode,
//! the two bridge theorems against an independent reference, and bound soundness. Ops that are
//! polynomial or piecewise linear are also checked exactly over ℚ (`check_op_exact`).
//!
//! `PROPTEST_CASES` sets the number of points per op.
#![cfg(feature = "proptest")]

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

#[test]
fn entrywise_binary_ops() {
    let (a, b) = (Idx::<G, V>::at::<0>(), Idx::<G, V>::at::<1>());
    for op in [
        ops::add(a, b),
        ops::sub(a, b),
        ops::mul(a, b),
        ops::mul(a, a),
        ops::sub(a, a),
    ] {
        pass(op.clone());
        pass_exact(op);
    }
}

#[test]
fn entrywise_unary_ops() {
    let a = Idx::<G, V>::at::<0>();
    let m = Idx::<G, M>::at::<2>();
    pass(ops::neg(a));
    pass_exact(ops::neg(a));
    pass(ops::relu(a));
    pass_exact(ops::relu(a));
    pass(ops::relu(m));
    pass(ops::scale(a, 0.75).unwrap());
    pass_exact(ops::scale(a, -1.5).unwrap());
    pass(ops::exp(a));
    pass(ops::tanh(a));
    pass(ops::tanh(m));
    pass(ops::sigmoid(a));
    pass(ops::softplus(a));
    pass(ops::safe_log(a, 1e-3).unwrap());
}

#[test]
fn softplus_far_below_zero() {
    let op = ops::softplus(Idx::<G, V>::at::<0>());
    check_op(op, &opts().range(-60.0..-20.0)).unwrap();
}

#[test]
fn reductions() {
    let (a, m) = (Idx::<G, V>::at::<0>(), Idx::<G, M>::at::<2>());
    pass(ops::sum(a));
    pass_exact(ops::sum(a));
    pass(ops::mean(a));
    pass_exact(ops::mean(a));
    pass(ops::sum(m));
    pass_exact(ops::mean(m));
}

#[test]
fn matrix_ops() {
    let (m, x, mt, y, sq) = (
        Idx::<G, M>::at::<2>(),
        Idx::<G, V>::at::<0>(),
        Idx::<G, Matrix<3, 2>>::at::<3>(),
        Idx::<G, Vector<2>>::at::<4>(),
        Idx::<G, Matrix<2, 2>>::at::<5>(),
    );
    pass(ops::matvec(m, x));
    pass_exact(ops::matvec(m, x));
    pass(ops::matmul(m, mt));
    pass_exact(ops::matmul(m, mt));
    pass(ops::matmul(sq, sq)); // aliased: one slot receives δBᵀ + Aᵀδ
    pass_exact(ops::matmul(sq, sq));
    pass(ops::transpose(m));
    pass_exact(ops::transpose(m));
    pass(ops::linear(m, x, y));
    pass_exact(ops::linear(m, x, y));
    pass(ops::linear(sq, y, y)); // aliased input and bias
    pass_exact(ops::linear(sq, y, y));
    let (xb, w) = (Idx::<G, Matrix<4, 3>>::at::<6>(), m);
    pass(ops::linear_batch(w, xb, y));
    pass_exact(ops::linear_batch(w, xb, y));
    pass(ops::linear_batch(sq, sq, y)); // aliased weight and batch
    pass_exact(ops::linear_batch(sq, sq, y));
}

#[test]
fn losses_and_softmax() {
    let (a, b, m, t) = (
        Idx::<G, V>::at::<0>(),
        Idx::<G, V>::at::<1>(),
        Idx::<G, Matrix<4, 2>>::at::<7>(),
        Idx::<G, Matrix<4, 2>>::at::<7>(),
    );
    pass(ops::mse(a, b));
    pass_exact(ops::mse(a, b));
    pass(ops::mse(a, a));
    pass(ops::softmax(a));
    pass(ops::softmax(m));
    pass(ops::log_softmax(a));
    pass(ops::log_softmax(m));
    pass(ops::cross_entropy(a, b));
    pass(ops::cross_entropy(m, t)); // aliased logits and targets
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
