//! The `proptest` feature: strategies for tensors, contexts, rationals and bounds.
//!
//! Run with `cargo test --all-features` (or `--features proptest`).
#![cfg(feature = "proptest")]

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use shapetape::autograd::{Cotangent, Graph, NodeData, check_adjoint, check_backprop};
use shapetape::ops;
use shapetape::prelude::*;
use shapetape::strategies::{
    elist, f64_tensor, f64_tlist, rational, small_rational, tensor, tlist,
};

type G = HList![Scalar, Matrix<2, 3>, Vector<0>, Vector<5>];

fn q(n: i64, d: i64) -> Rational {
    Rational::new(n.into(), d.into())
}

proptest! {
    #[test]
    fn tensors_have_entries_from_the_element_strategy(t in f64_tensor::<Matrix<2, 3>>(-1.0..1.0)) {
        prop_assert_eq!(t.len(), 6);
        prop_assert!(t.iter().all(|v| (-1.0..1.0).contains(v)));
    }

    #[test]
    fn contexts_have_the_layout_of_their_type(x in f64_tlist::<G>(2.0..3.0)) {
        let lens: Vec<usize> = x.slot_slices().map(<[f64]>::len).collect();
        prop_assert_eq!(lens, vec![1, 6, 0, 5]);
        prop_assert!(x.slot_slices().flatten().all(|v| (2.0..3.0).contains(v)));
    }

    #[test]
    fn rationals_stay_in_their_range(r in rational(3, 5)) {
        prop_assert!(r >= q(-3, 1) && r <= q(3, 1));
        prop_assert!(*r.denom() >= 1.into() && *r.denom() <= 5.into());
    }

    #[test]
    fn small_rationals_stay_small(r in small_rational()) {
        prop_assert!(r >= q(-6, 1) && r <= q(6, 1));
        prop_assert!(*r.denom() <= 4.into());
    }

    #[test]
    fn bounds_are_nonnegative_and_below_the_maximum(e in elist::<G>(0.25)) {
        prop_assert_eq!(e.len(), 4);
        prop_assert!(e.as_slice().iter().all(|&b| (0.0..=0.25).contains(&b)));
    }

    #[test]
    fn generic_strategies_compose(
        t in tensor::<Rational, Vector<3>>(small_rational()),
        x in tlist::<f32, G>(-1.0_f32..1.0),
    ) {
        prop_assert_eq!(t.len(), 3);
        prop_assert_eq!(x.slot_slices().map(<[f32]>::len).sum::<usize>(), 12);
    }

    /// A user's hand-written node, checked exactly over ℚ at every sampled point.
    #[test]
    fn a_user_node_is_adjoint(
        x in tlist::<Rational, HList![Vector<2>, Vector<2>]>(small_rational()),
        dx in tlist::<Rational, HList![Vector<2>, Vector<2>]>(small_rational()),
        seed in tensor::<Rational, Vector<2>>(small_rational()),
    ) {
        type H = HList![Vector<2>, Vector<2>];
        let (a, b) = (Idx::<H, Vector<2>>::at::<0>(), Idx::<H, Vector<2>>::at::<1>());
        // y = a ⊙ b − b.
        let node = NodeData::<Rational, (), H, Vector<2>>::new(
            move |c, _| c.get(a).mul(&c.get(b)).sub(&c.get(b)),
            move |c, dc, _| {
                dc.get(a).mul(&c.get(b)).add(&c.get(a).mul(&dc.get(b))).sub(&dc.get(b))
            },
            move |c, _, d| {
                Cotangent::single(a, d.mul(&c.get(b))).with(b, d.mul(&c.get(a)).sub(d))
            },
        );
        let check = check_adjoint(&node, &x, &dx, &(), &seed);
        prop_assert!(check.is_exact(), "{}", check);
    }

    /// A graph of library ops satisfies `backprop_correct` exactly at every sampled point.
    #[test]
    fn a_graph_satisfies_backprop_correct(
        x in tlist::<Rational, HList![Vector<3>]>(small_rational()),
        dx in tlist::<Rational, HList![Vector<3>]>(small_rational()),
        seed in tlist::<Rational, HList![Vector<3>, Vector<3>, Scalar]>(small_rational()),
    ) {
        let g = Graph::<Rational, (), HList![Vector<3>], HNil>::nil()
            .snoc(ops::mul(Idx::at::<0>(), Idx::at::<0>()))
            .snoc(ops::sum(Idx::at::<1>()));
        prop_assert!(check_backprop(&g, &x, &dx, &(), &seed).is_exact());
    }
}

/// A wrong VJP is found, and the counterexample shrinks without changing shape.
#[test]
fn a_wrong_node_is_caught_and_shrunk() {
    type H = HList![Vector<3>];
    let a = Idx::<H, Vector<3>>::at::<0>();
    // y = a ⊙ a with the VJP δ ⊙ a (the factor 2 forgotten).
    let bad = NodeData::<Rational, (), H, Vector<3>>::new(
        move |c, _| c.get(a).mul(&c.get(a)),
        move |c, dc, _| c.get(a).mul(&dc.get(a)).scale(&q(2, 1)),
        move |c, _, d| Cotangent::single(a, d.mul(&c.get(a))),
    );
    let strategy = (
        tlist::<Rational, H>(small_rational()),
        tlist::<Rational, H>(small_rational()),
        tensor::<Rational, Vector<3>>(small_rational()),
    );
    let mut runner = TestRunner::deterministic();
    let result = runner.run(&strategy, |(x, dx, seed)| {
        prop_assert!(check_adjoint(&bad, &x, &dx, &(), &seed).is_exact());
        Ok(())
    });
    let err = result.expect_err("the forgotten factor 2 is found");
    let message = err.to_string();
    assert!(message.contains("Test failed"), "{message}");

    // Shrinking keeps the shape: simplify a tree to the end and check the length.
    let mut tree = tensor::<Rational, Vector<3>>(small_rational())
        .new_tree(&mut runner)
        .unwrap();
    while tree.simplify() {}
    assert_eq!(tree.current().len(), 3);
}
