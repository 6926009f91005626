//! The bridge `RevGraph → GraphData` (src/link.rs) as property tests on random graphs.
//!
//! Lean's `LinkAutogradAlgebra` proves two theorems by unfolding definitions; here they are
//! checked bit for bit (`to_bits()` on every entry), for runtime scalars `f32` and `f64`:
//!
//! - `evalRuntime_of_toGraphData`: `g.to_graph_data().eval(x, &()) == g.eval_runtime(x)`;
//! - `backpropRuntime_of_toGraphData`:
//!   `g.to_graph_data().backprop_ctx(x, &(), seed) == g.backprop_runtime(x, seed)`, with
//!   random seeds on *every* slot (inputs and intermediate nodes, with exact `+0.0`/`−0.0`
//!   entries), and the literal recursions agree with both:
//!   `backprop_ctx_literal == backprop_runtime_literal == backprop_runtime`.
//!
//! Beyond Lean (whose erased `jvp` is a placeholder), erasure keeps the runtime JVP, so the
//! erased graph satisfies `backprop_correct`: `⟨jvp_ctx(x, dx), seed⟩ ≈ ⟨dx, backprop_ctx(x,
//! seed)⟩`, checked in f64 within a relative tolerance [`F64_ADJOINT_RTOL`] of the magnitude of
//! the terms. The erased types are named exactly in [`erased_types_are_named_exactly`]; that
//! erasing into another environment, input context or output list does not compile is shown by
//! `ui-tests/link_wrong_*.rs`.
//!
//! Random graphs are *templates* (see tests/approx.rs, which uses the same generator): a fixed
//! input context Γ and node output shapes Ss, with every node's op chosen at run time among the
//! ops of `approx::ops` that produce its shape, and its operands among all earlier slots of the
//! right shape (`Idx::try_at`), aliased a quarter of the time. Case counts: proptest's default
//! (256) or `PROPTEST_CASES`; the properties on 16×16 products run [`BLOCKED_CASES`] by default
//! (also overridden by `PROPTEST_CASES`).

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shapetape::approx::{self, RevGraph, RevNode, RuntimeFloat, SpecScalar, ToSpec};
use shapetape::autograd::{GraphData, NodeData, check_backprop};
use shapetape::prelude::*;
use typenum::NonZero;

type Law = Result<(), TestCaseError>;

/// `backprop_correct` in f64 on an erased graph: `|lhs − rhs| ≤ F64_ADJOINT_RTOL · magnitude`,
/// where the magnitude is `max(⟨|jvp_ctx|, |seed|⟩, ⟨|dx|, |backprop_ctx|⟩)` (the scale at
/// which both dot products round). A graph of ≤ 9 nodes does a few hundred roundings of
/// relative size 2⁻⁵³ ≈ 1.1·10⁻¹⁶ per path; 10⁻¹⁰ leaves four orders of magnitude for
/// cancellation inside the graph and is still far below the error of a wrong derivative.
const F64_ADJOINT_RTOL: f64 = 1e-10;

/// Default number of cases of the properties on 16×16 products (the blocked GEMM kernel, slow
/// in a debug build; the literal recursions evaluate the prefix again per node).
const BLOCKED_CASES: u32 = 64;

include!("common/rev_graphs.rs");
// ================================================================ 1. eval

fn erased_eval<R: Rt, G: ShapeList, Ss: ShapeList>(
    b: &Built<R, f64, G, Ss>,
    x: TList<R, G>,
) -> Law {
    let gd: GraphData<R, (), G, Ss> = b.graph.to_graph_data();
    prop_assert_eq!(
        gd.node_names().collect::<Vec<_>>(),
        b.graph.node_names().collect::<Vec<_>>()
    );
    prop_assert_eq!(
        bits_of(&gd.eval(x.clone(), &())),
        bits_of(&b.graph.eval_runtime(x)),
        "nodes {:?}",
        names(b)
    );
    Ok(())
}

proptest! {
    #[test]
    fn erased_eval_is_eval_runtime_uniform_f32(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f32, UniformG>(rt(input_f64())),
    ) {
        erased_eval(&uniform::<f32, f64>(&ch, OpSet::All), x)?;
    }

    #[test]
    fn erased_eval_is_eval_runtime_mixed_f32(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(input_f64())),
    ) {
        erased_eval(&mixed::<f32, f64>(&ch, OpSet::All), x)?;
    }

    #[test]
    fn erased_eval_is_eval_runtime_mixed_f64(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
    ) {
        erased_eval(&mixed::<f64, f64>(&ch, OpSet::All), x)?;
    }

    #[test]
    fn erased_eval_is_eval_runtime_with_non_finite_inputs(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(wild_f64())),
    ) {
        erased_eval(&mixed::<f32, f64>(&ch, OpSet::All), x)?;
    }
}

// ================================================================ 2. backprop (linear and literal)

/// `backprop_ctx` of the erased graph = `backprop_runtime`, and the literal recursions
/// (`backprop_ctx_literal`, `backprop_runtime_literal`) give the same bits.
fn erased_backprop<R: Rt, G: ShapeList, Ss: ShapeList>(
    b: &Built<R, f64, G, Ss>,
    x: TList<R, G>,
    seed: TList<R, Cat<G, Ss>>,
) -> Law {
    let gd: GraphData<R, (), G, Ss> = b.graph.to_graph_data();
    let runtime = bits_of(&b.graph.backprop_runtime(x.clone(), seed.clone()));
    let erased = bits_of(&gd.backprop_ctx(x.clone(), &(), seed.clone()));
    prop_assert_eq!(&erased, &runtime, "backprop_ctx, nodes {:?}", names(b));
    let runtime_literal = bits_of(&b.graph.backprop_runtime_literal(x.clone(), seed.clone()));
    prop_assert_eq!(
        &runtime_literal,
        &runtime,
        "backprop_runtime_literal, nodes {:?}",
        names(b)
    );
    let erased_literal = bits_of(&gd.backprop_ctx_literal(x, &(), seed));
    prop_assert_eq!(
        &erased_literal,
        &runtime,
        "backprop_ctx_literal, nodes {:?}",
        names(b)
    );
    Ok(())
}

proptest! {
    #[test]
    fn erased_backprop_is_backprop_runtime_uniform_f32(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f32, UniformG>(rt(input_f64())),
        seed in tlist_of::<f32, Cat<UniformG, UniformSs>>(rt(seed_f64())),
    ) {
        erased_backprop(&uniform::<f32, f64>(&ch, OpSet::All), x, seed)?;
    }

    #[test]
    fn erased_backprop_is_backprop_runtime_uniform_f64(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f64, UniformG>(input_f64()),
        seed in tlist_of::<f64, Cat<UniformG, UniformSs>>(seed_f64()),
    ) {
        erased_backprop(&uniform::<f64, f64>(&ch, OpSet::All), x, seed)?;
    }

    #[test]
    fn erased_backprop_is_backprop_runtime_mixed_f32(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(input_f64())),
        seed in tlist_of::<f32, Cat<MixedG, MixedSs>>(rt(seed_f64())),
    ) {
        erased_backprop(&mixed::<f32, f64>(&ch, OpSet::All), x, seed)?;
    }

    #[test]
    fn erased_backprop_is_backprop_runtime_mixed_f64(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(seed_f64()),
    ) {
        erased_backprop(&mixed::<f64, f64>(&ch, OpSet::All), x, seed)?;
    }

    #[test]
    fn erased_backprop_is_backprop_runtime_with_non_finite_values(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(wild_f64())),
        seed in tlist_of::<f32, Cat<MixedG, MixedSs>>(rt(wild_f64())),
    ) {
        erased_backprop(&mixed::<f32, f64>(&ch, OpSet::All), x, seed)?;
    }
}

// ================================================================ 3. adjointness of erased graphs

fn all_finite<C>(x: &TList<f64, C>) -> bool {
    x.slot_slices().flatten().all(|v| v.is_finite())
}

/// `backprop_correct` for the erased graph in f64: its `jvp_ctx` is a real tangent (with Lean's
/// placeholder, which returns the primal outputs, the two sides would not agree).
fn erased_adjoint<G: ShapeList, Ss: ShapeList>(
    b: &Built<f64, f64, G, Ss>,
    x: TList<f64, G>,
    dx: TList<f64, G>,
    seed: TList<f64, Cat<G, Ss>>,
) -> Law {
    let gd: GraphData<f64, (), G, Ss> = b.graph.to_graph_data();
    let vals = gd.eval(x.clone(), &());
    let tans = gd.jvp_ctx(x.clone(), dx.clone(), &());
    let grad = gd.backprop_ctx(x.clone(), &(), seed.clone());
    // Overflow (exp ∘ exp ∘ …) makes both sides ∞ or NaN; such cases say nothing.
    prop_assume!(all_finite(&vals) && all_finite(&tans) && all_finite(&grad));
    let check = check_backprop(&gd, &x, &dx, &(), &seed);
    prop_assume!(check.magnitude.is_finite());
    prop_assert!(
        check.relative_error() <= F64_ADJOINT_RTOL,
        "{} (relative error {:e}) for nodes {:?}",
        check,
        check.relative_error(),
        names(b)
    );
    Ok(())
}

proptest! {
    #[test]
    fn erased_graph_is_adjoint_uniform(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f64, UniformG>(input_f64()),
        dx in tlist_of::<f64, UniformG>(-1.0_f64..1.0),
        seed in tlist_of::<f64, Cat<UniformG, UniformSs>>(seed_f64()),
    ) {
        erased_adjoint(&uniform::<f64, f64>(&ch, OpSet::All), x, dx, seed)?;
    }

    #[test]
    fn erased_graph_is_adjoint_mixed(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        dx in tlist_of::<f64, MixedG>(-1.0_f64..1.0),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(seed_f64()),
    ) {
        erased_adjoint(&mixed::<f64, f64>(&ch, OpSet::All), x, dx, seed)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(BLOCKED_CASES), ..ProptestConfig::default() })]

    /// 16×16 products (matmul, linear_batch) take the blocked GEMM kernel: erasure still keeps
    /// the runtime semantics bit for bit, and the erased graph is adjoint.
    #[test]
    fn erased_graph_with_blocked_gemm_f32(
        ch in blocked_choices(),
        x in tlist_of::<f32, BlockedG>(rt(input_f64())),
        seed in tlist_of::<f32, Cat<BlockedG, BlockedSs>>(rt(seed_f64())),
    ) {
        let b = blocked::<f32, f64>(&ch, OpSet::All);
        erased_eval(&b, x.clone())?;
        erased_backprop(&b, x, seed)?;
    }

    #[test]
    fn erased_graph_with_blocked_gemm_f64(
        ch in blocked_choices(),
        x in tlist_of::<f64, BlockedG>(input_f64()),
        dx in tlist_of::<f64, BlockedG>(-1.0_f64..1.0),
        seed in tlist_of::<f64, Cat<BlockedG, BlockedSs>>(seed_f64()),
    ) {
        let b = blocked::<f64, f64>(&ch, OpSet::All);
        erased_eval(&b, x.clone())?;
        erased_backprop(&b, x.clone(), seed.clone())?;
        erased_adjoint(&b, x, dx, seed)?;
    }
}

// ================================================================ 4. nodes and named types

/// `to_node_data` keeps the runtime closures: forward, JVP and VJP of the erased node are
/// bit-identical to the reverse node's `forward_runtime`, `jvp_runtime` and `vjp_runtime`.
fn erased_node<R: Rt>(x: TList<R, MixedG>, dx: TList<R, MixedG>, s: [R; 4]) -> Law {
    fn check<R: Rt, T: Shape>(
        node: RevNode<R, f64, MixedG, T>,
        x: &TList<R, MixedG>,
        dx: &TList<R, MixedG>,
        seed: &Tensor<R, T>,
    ) -> Law {
        let nd: NodeData<R, (), MixedG, T> = node.to_node_data();
        prop_assert_eq!(nd.name(), node.name());
        let bits = |t: &[R]| t.iter().map(|v| v.bits()).collect::<Vec<_>>();
        prop_assert_eq!(
            bits(nd.forward(x, &()).as_slice()),
            bits(node.fwd().forward_runtime(x).as_slice())
        );
        prop_assert_eq!(
            bits(nd.jvp(x, dx, &()).as_slice()),
            bits(node.jvp_runtime(x, dx).as_slice())
        );
        prop_assert_eq!(
            bits_of(&nd.vjp(x, &(), seed).to_dense()),
            bits_of(&node.vjp_runtime(x, seed).to_dense())
        );
        Ok(())
    }
    let [s0, s1, s2, s3] = s;
    let v2 = Tensor::<R, V2>::new([s0, s1]);
    let m22 = Tensor::<R, M22>::new([[s0, s1], [s2, s3]]);
    let sc = Tensor::<R, Scalar>::new(s2);
    type G = MixedG;
    check(
        approx::ops::mul::<R, f64, G, _, _>(Idx::at::<1>(), Idx::at::<1>()),
        &x,
        &dx,
        &v2,
    )?;
    check(
        approx::ops::matmul::<R, f64, G, 2, 2, 2>(Idx::at::<2>(), Idx::at::<2>()),
        &x,
        &dx,
        &m22,
    )?;
    check(
        approx::ops::linear::<R, f64, G, 2, 3>(Idx::at::<4>(), Idx::at::<3>(), Idx::at::<1>()),
        &x,
        &dx,
        &v2,
    )?;
    check(
        approx::ops::cross_entropy::<R, f64, G, V2, V2>(Idx::at::<1>(), Idx::at::<1>()),
        &x,
        &dx,
        &sc,
    )?;
    check(
        approx::ops::softmax::<R, f64, G, M22>(Idx::at::<2>()),
        &x,
        &dx,
        &m22,
    )?;
    Ok(())
}

proptest! {
    #[test]
    fn erased_nodes_keep_the_runtime_closures_f32(
        x in tlist_of::<f32, MixedG>(rt(input_f64())),
        dx in tlist_of::<f32, MixedG>(rt(seed_f64())),
        s in [rt::<f32>(seed_f64()), rt(seed_f64()), rt(seed_f64()), rt(seed_f64())],
    ) {
        erased_node(x, dx, s)?;
    }

    #[test]
    fn erased_nodes_keep_the_runtime_closures_f64(
        x in tlist_of::<f64, MixedG>(input_f64()),
        dx in tlist_of::<f64, MixedG>(seed_f64()),
        s in [seed_f64(), seed_f64(), seed_f64(), seed_f64()],
    ) {
        erased_node(x, dx, s)?;
    }
}

/// The erased types, named exactly: a `RevGraph<R, P, Γ, Ss>` becomes a
/// `GraphData<R, (), Γ, Ss>` and a `RevNode<R, P, Γ, τ>` a `NodeData<R, (), Γ, τ>` (the spec
/// scalar `P` disappears, Δ is `()`, Γ, Ss and τ are kept). Changing any of them in the
/// annotations below does not compile (`ui-tests/link_wrong_*.rs`).
#[test]
fn erased_types_are_named_exactly() {
    type G = HList![Vector<2>, Matrix<2, 3>, Vector<3>];
    type Ss = HList![Vector<2>, Vector<2>, Scalar];
    let w = Idx::<G, Matrix<2, 3>>::at::<1>();
    let v = Idx::<G, Vector<3>>::at::<2>();
    let n0: RevNode<f32, Rational, G, Vector<2>> = approx::ops::matvec(w, v);
    let nd0: NodeData<f32, (), G, Vector<2>> = n0.to_node_data();
    type C1 = HList![Vector<2>, Matrix<2, 3>, Vector<3>, Vector<2>];
    let n1: RevNode<f32, Rational, C1, Vector<2>> =
        approx::ops::mul(Idx::at::<0>(), Idx::at::<3>());
    let nd1: NodeData<f32, (), C1, Vector<2>> = n1.to_node_data();
    let g: RevGraph<f32, Rational, G, Ss> = RevGraph::<f32, Rational, G, HNil>::nil()
        .snoc(n0)
        .snoc(n1)
        .snoc(approx::ops::sum(Idx::at::<4>()));
    let gd: GraphData<f32, (), G, Ss> = g.to_graph_data();
    assert_eq!(gd.len(), 3);
    assert_eq!(
        gd.node_names().collect::<Vec<_>>(),
        ["matvec", "mul", "sum"]
    );
    let x: TList<f32, G> = tlist![
        Tensor::new([1.0, -2.0]),
        Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        Tensor::new([0.5, 0.25, -1.0])
    ];
    let vals = gd.eval(x.clone(), &());
    assert_eq!(vals, g.eval_runtime(x.clone()));
    // matvec: [0.5 + 0.5 − 3, 2 + 1.25 − 6] = [−2, −2.75]; mul: [−2, 5.5]; sum: 3.5.
    let out: Vec<Vec<f32>> = vals.slot_slices().map(<[f32]>::to_vec).collect();
    assert_eq!(out[3], [-2.0, -2.75]);
    assert_eq!(out[4], [-2.0, 5.5]);
    assert_eq!(out[5], [3.5]);
    // The erased nodes, run on their contexts, give the same slots.
    let c1 =
        TList::<f32, C1>::try_from_flat(vals.slot_slices().take(4).flatten().copied().collect())
            .expect("the first four slots");
    assert_eq!(nd0.forward(&x, &()).as_slice(), &out[3][..]);
    assert_eq!(nd1.forward(&c1, &()).as_slice(), &out[4][..]);
    // The f64 runtime erases to f64, with the same structure.
    let g64 = RevGraph::<f64, f64, G, HNil>::nil().snoc(approx::ops::matvec(w, v));
    let _: GraphData<f64, (), G, HList![Vector<2>]> = g64.to_graph_data();
}

/// Erasure keeps the runtime JVP: on `y = x ⊙ x` the erased `jvp_ctx` is `2 x dx` (Lean's
/// placeholder would return the primal `x²`), and the seed contract of `backprop_ctx` holds:
/// input seeds flow into the result, intermediate seeds are pulled back.
#[test]
fn erased_jvp_is_a_real_tangent() {
    type G = HList![Vector<2>];
    let g = RevGraph::<f64, f64, G, HNil>::nil()
        .snoc(approx::ops::mul(Idx::at::<0>(), Idx::at::<0>()))
        .snoc(approx::ops::sum(Idx::at::<1>()));
    let gd = g.to_graph_data();
    let x: TList<f64, G> = tlist![Tensor::new([3.0, -2.0])];
    let dx: TList<f64, G> = tlist![Tensor::new([1.0, 0.5])];
    let tans = gd.jvp_ctx(x.clone(), dx, &());
    let t: Vec<Vec<f64>> = tans.slot_slices().map(<[f64]>::to_vec).collect();
    assert_eq!(t, vec![vec![1.0, 0.5], vec![6.0, -2.0], vec![4.0]]);
    type C = HList![Vector<2>, Vector<2>, Scalar];
    let seed: TList<f64, C> = tlist![
        Tensor::new([10.0, 20.0]),
        Tensor::new([1.0, 0.0]),
        Tensor::new(1.0)
    ];
    // x̄ = seed₀ + 2x ⊙ (seed₁ + seed₂) = [10 + 6·2, 20 − 4·1]
    let grad = gd.backprop_ctx(x.clone(), &(), seed.clone());
    assert_eq!(grad.slot_slices().next().unwrap(), &[22.0, 16.0]);
    assert_eq!(bits_of(&grad), bits_of(&g.backprop_runtime(x, seed)));
}

/// The empty graph erases to the empty graph: `eval` is the identity and `backprop_ctx`
/// returns the seed unchanged, `−0.0` included (no node adds anything).
#[test]
fn empty_graph_erases_to_the_empty_graph() {
    type G = HList![Scalar, Vector<2>];
    let g = RevGraph::<f32, f64, G, HNil>::nil();
    let gd: GraphData<f32, (), G, HNil> = g.to_graph_data();
    assert!(gd.is_empty());
    let x: TList<f32, G> = tlist![Tensor::new(1.5), Tensor::new([2.0, -3.0])];
    assert_eq!(bits_of(&gd.eval(x.clone(), &())), bits_of(&x));
    let seed: TList<f32, G> = tlist![Tensor::new(-0.0), Tensor::new([4.0, -0.0])];
    let seed = seed.cast::<Cat<G, HNil>>();
    let grad = gd.backprop_ctx(x.clone(), &(), seed.clone());
    assert_eq!(bits_of(&grad), bits_of(&seed));
    assert_eq!(bits_of(&grad), bits_of(&g.backprop_runtime(x, seed)));
}
