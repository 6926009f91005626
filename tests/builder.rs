//! The typed graph builder: a builder-built graph is the hand-built one (same `eval`, `jvp_ctx`
//! and `backprop_ctx`, bit for bit), handles stay valid as the graph grows, and sharing and
//! aliasing of handles give the accumulated gradients. A block generic over the graph kind runs
//! alike in an executable and a certified graph; constants are baked in with zero derivative;
//! a failing op constructor is the builder's error.

use frunk::{HCons, HNil};
use proptest::prelude::*;
use shapetape::approx::RevGraph;
use shapetape::autograd::{
    Cotangent, Graph, GraphBuilder, GraphData, LawfulKind, NodeData, Pushed, Supports, Var,
};
use shapetape::ops;
use shapetape::prelude::*;
use shapetape::shape_list::Reverse;

// ---------------------------------------------------------------- one graph, built twice

/// Γ = [a, b, M, v].
type G = HList![Scalar, Scalar, Matrix<2, 2>, Vector<2>];
/// The node outputs [s, p, w, q, r, t].
type Outs = HList![Scalar, Scalar, Vector<2>, Scalar, Scalar, Vector<2>];
/// Γ ++ [s, p, w, q, r, t]: the context the graph evaluates to.
type Full = HList![
    Scalar, Scalar, Matrix<2, 2>, Vector<2>, // a b M v
    Scalar, Scalar, Vector<2>, Scalar, Scalar, Vector<2> // s p w q r t
];

/// `s = a + b`, `p = s · a`, `w = M v`, `q = Σ w`, `r = p · q`, `t = tanh(w) − v`, by hand:
/// every operand names its node's context and a position in it.
fn by_hand() -> GraphData<f64, (), G, Outs> {
    type C1 = Snoc<G, Scalar>;
    type C2 = Snoc<C1, Scalar>;
    type C3 = Snoc<C2, Vector<2>>;
    type C4 = Snoc<C3, Scalar>;
    type C5 = Snoc<C4, Scalar>;
    // t = tanh(w) − v as one hand-written NodeData.
    let tanh_minus = NodeData::<f64, (), C5, Vector<2>>::new(
        |ctx, _| {
            let w = ctx.get(Idx::<C5, Vector<2>>::at::<6>());
            w.map(|x| x.tanh())
                .sub(&ctx.get(Idx::<C5, Vector<2>>::at::<3>()))
        },
        |ctx, dctx, _| {
            let w = ctx.get(Idx::<C5, Vector<2>>::at::<6>());
            let dw = dctx.get(Idx::<C5, Vector<2>>::at::<6>());
            dw.zip_with(&w, |d, x| d * (1.0 - x.tanh() * x.tanh()))
                .sub(&dctx.get(Idx::<C5, Vector<2>>::at::<3>()))
        },
        |ctx, _, seed| {
            let w = ctx.get(Idx::<C5, Vector<2>>::at::<6>());
            Cotangent::single(
                Idx::<C5, Vector<2>>::at::<6>(),
                seed.zip_with(&w, |d, x| d * (1.0 - x.tanh() * x.tanh())),
            )
            .with(Idx::<C5, Vector<2>>::at::<3>(), seed.neg())
        },
    )
    .named("tanh_minus");
    GraphData::<f64, (), G, HNil>::nil()
        .snoc(ops::add(Idx::<G, Scalar>::at::<0>(), Idx::at::<1>()))
        .snoc(ops::mul(Idx::<C1, Scalar>::at::<4>(), Idx::at::<0>()))
        .snoc(ops::matvec(Idx::<C2, _>::at::<2>(), Idx::at::<3>()))
        .snoc(ops::sum(Idx::<C3, Vector<2>>::at::<6>()))
        .snoc(ops::mul(Idx::<C4, Scalar>::at::<5>(), Idx::at::<7>()))
        .snoc(tanh_minus)
}

/// The same graph with the builder, and the indices of `p`, `r` and `t` in its final context.
#[allow(clippy::type_complexity)]
fn built() -> (
    GraphData<f64, (), G, Outs>,
    (Idx<Full, Scalar>, Idx<Full, Scalar>, Idx<Full, Vector<2>>),
) {
    GraphData::<f64, (), G, _>::build_with(|g| {
        let hlist_pat![a, b, m, v] = g.inputs();
        let (g, s) = g.push(|c| ops::add(c.idx(a), c.idx(b)));
        let (g, p) = g.push(|c| ops::mul(c.idx(s), c.idx(a)));
        let (g, w) = g.push(|c| ops::matvec(c.idx(m), c.idx(v)));
        let (g, q) = g.push(|c| ops::sum(c.idx(w)));
        let (g, r) = g.push(|c| ops::mul(c.idx(p), c.idx(q)));
        let (g, t) = g.push(|c| {
            let (w, v) = (c.idx(w), c.idx(v));
            NodeData::<f64, (), _, _>::new(
                move |ctx, _| ctx.get(w).map(|x| x.tanh()).sub(&ctx.get(v)),
                move |ctx, dctx, _| {
                    dctx.get(w)
                        .zip_with(&ctx.get(w), |d, x| d * (1.0 - x.tanh() * x.tanh()))
                        .sub(&dctx.get(v))
                },
                move |ctx, _, seed| {
                    Cotangent::single(
                        w,
                        seed.zip_with(&ctx.get(w), |d, x| d * (1.0 - x.tanh() * x.tanh())),
                    )
                    .with(v, seed.neg())
                },
            )
            .named("tanh_minus")
        });
        let out = (g.idx(p), g.idx(r), g.idx(t));
        (g, out)
    })
}

fn flat<S: Shape>(range: core::ops::Range<f64>) -> impl Strategy<Value = Tensor<f64, S>> {
    proptest::collection::vec(range, S::SIZE).prop_map(|v| Tensor::try_from_vec(v).unwrap())
}

fn context<C: ShapeList>() -> impl Strategy<Value = TList<f64, C>> {
    let total: usize = C::layout().iter().map(|l| l.size).sum();
    proptest::collection::vec(-3.0_f64..3.0, total)
        .prop_map(|v| TList::try_from_flat(v).expect("generated with the context's length"))
}

proptest! {
    #[test]
    fn builder_equals_hand_built(x in context::<G>(), dx in context::<G>(), seed in context::<Full>()) {
        let (hand, (g, _)) = (by_hand(), built());
        prop_assert_eq!(g.node_names().collect::<Vec<_>>(), hand.node_names().collect::<Vec<_>>());
        prop_assert_eq!(g.eval(x.clone(), &()), hand.eval(x.clone(), &()));
        prop_assert_eq!(g.jvp_ctx(x.clone(), dx.clone(), &()), hand.jvp_ctx(x.clone(), dx, &()));
        prop_assert_eq!(
            g.backprop_ctx(x.clone(), &(), seed.clone()),
            hand.backprop_ctx(x, &(), seed)
        );
    }

    #[test]
    fn lawful_builder_equals_data_builder(x in context::<HList![Vector<3>, Vector<3>]>(),
                                          dx in context::<HList![Vector<3>, Vector<3>]>(),
                                          d in flat::<Scalar>(-2.0..2.0)) {
        type H = HList![Vector<3>, Vector<3>];
        let lawful = Graph::<f64, (), H, _>::build(|g| {
            let hlist_pat![x, y] = g.inputs();
            let (g, z) = g.push(|c| ops::mul(c.idx(x), c.idx(y)));
            let (g, _) = g.push(|c| ops::sum(c.idx(z)));
            g
        });
        let data = GraphData::<f64, (), H, _>::build(|g| {
            let hlist_pat![x, y] = g.inputs();
            let (g, z) = g.push(|c| ops::mul(c.idx(x), c.idx(y)));
            let (g, _) = g.push(|c| ops::sum(c.idx(z)));
            g
        });
        let seed = TList::single(Idx::<Snoc<Snoc<H, Vector<3>>, Scalar>, Scalar>::at::<3>(), d);
        prop_assert_eq!(lawful.eval(x.clone(), &()), data.eval(x.clone(), &()));
        prop_assert_eq!(lawful.jvp_ctx(x.clone(), dx.clone(), &()), data.jvp_ctx(x.clone(), dx, &()));
        prop_assert_eq!(
            lawful.backprop_ctx(x.clone(), &(), seed.clone()),
            data.backprop_ctx(x, &(), seed)
        );
    }
}

#[test]
fn documented_example_values() {
    let (g, (p, r, t)) = built();
    let x: TList<f64, G> = tlist![
        Tensor::new(3.0),
        Tensor::new(2.0),
        Tensor::new([[1.0, 2.0], [3.0, 4.0]]),
        Tensor::new([5.0, 6.0])
    ];
    let y = g.eval(x.clone(), &());
    assert_eq!(y.get(p).as_slice(), &[15.0]); // (a + b) a
    assert_eq!(y.get(r).as_slice(), &[15.0 * 56.0]); // p · Σ M v
    assert_eq!(
        y.get(t).as_slice(),
        &[17.0_f64.tanh() - 5.0, 39.0_f64.tanh() - 6.0]
    );
    // p̄ = 1 only: ā = 2a + b, b̄ = a, nothing reaches M and v.
    let grad = g.backprop_ctx(x, &(), TList::single(p, Tensor::new(1.0)));
    assert_eq!(
        grad,
        tlist![
            Tensor::new(8.0),
            Tensor::new(3.0),
            Tensor::new([[0.0, 0.0], [0.0, 0.0]]),
            Tensor::new([0.0, 0.0])
        ]
    );
}

// ---------------------------------------------------------------- handles stay valid

#[test]
fn early_handles_survive_many_pushes() {
    type H = HList![Scalar, Vector<2>];
    let (g, (last, first)) = GraphData::<f64, (), H, _>::build_with(|g| {
        let hlist_pat![c, v] = g.inputs();
        let (g, y0) = g
            .try_push(|s| ops::scale(s.idx(v), 2.0))
            .expect("2 is finite"); // y0 = 2v
        // Twenty more nodes: y_{k+1} = y_k + v.
        let (g, y1) = g.push(|s| ops::add(s.idx(y0), s.idx(v)));
        let (g, y2) = g.push(|s| ops::add(s.idx(y1), s.idx(v)));
        let (g, y3) = g.push(|s| ops::add(s.idx(y2), s.idx(v)));
        let (g, y4) = g.push(|s| ops::add(s.idx(y3), s.idx(v)));
        let (g, y5) = g.push(|s| ops::add(s.idx(y4), s.idx(v)));
        let (g, y6) = g.push(|s| ops::add(s.idx(y5), s.idx(v)));
        let (g, y7) = g.push(|s| ops::add(s.idx(y6), s.idx(v)));
        let (g, y8) = g.push(|s| ops::add(s.idx(y7), s.idx(v)));
        let (g, y9) = g.push(|s| ops::add(s.idx(y8), s.idx(v)));
        let (g, y10) = g.push(|s| ops::add(s.idx(y9), s.idx(v)));
        let (g, y11) = g.push(|s| ops::add(s.idx(y10), s.idx(v)));
        let (g, y12) = g.push(|s| ops::add(s.idx(y11), s.idx(v)));
        let (g, y13) = g.push(|s| ops::add(s.idx(y12), s.idx(v)));
        let (g, y14) = g.push(|s| ops::add(s.idx(y13), s.idx(v)));
        let (g, y15) = g.push(|s| ops::add(s.idx(y14), s.idx(v)));
        let (g, y16) = g.push(|s| ops::add(s.idx(y15), s.idx(v)));
        let (g, y17) = g.push(|s| ops::add(s.idx(y16), s.idx(v)));
        let (g, y18) = g.push(|s| ops::add(s.idx(y17), s.idx(v)));
        let (g, y19) = g.push(|s| ops::add(s.idx(y18), s.idx(v)));
        let (g, y20) = g.push(|s| ops::add(s.idx(y19), s.idx(v)));
        assert_eq!(g.len(), 21);
        // The first node's and the inputs' handles, used after all of that.
        let (g, z) = g.push(|s| ops::mul(s.idx(y20), s.idx(y0))); // (22 v) ⊙ (2 v)
        let (g, e) = g.push(|s| ops::sum(s.idx(z)));
        let (g, out) = g.push(|s| ops::mul(s.idx(e), s.idx(c)));
        assert_eq!(
            (c.pos(), v.pos(), y0.pos(), y20.pos(), out.pos()),
            (0, 1, 2, 22, 25)
        );
        let idx = (g.idx(out), g.idx(y0));
        (g, idx)
    });
    assert_eq!(g.len(), 24);
    let x: TList<f64, H> = tlist![Tensor::new(0.5), Tensor::new([1.0, -2.0])];
    let y = g.eval(x.clone(), &());
    // out = c · Σ 44 v² = 0.5 · 44 · 5
    assert_eq!(y.get(last).as_slice(), &[110.0]);
    assert_eq!(y.get(first).as_slice(), &[2.0, -4.0]);
    // ∂out/∂c = 44 Σ v² = 220, ∂out/∂v = c · 88 v = [44, −88].
    let grad = g.backprop_ctx(x, &(), TList::single(last, Tensor::new(1.0)));
    assert_eq!(grad, tlist![Tensor::new(220.0), Tensor::new([44.0, -88.0])]);
}

#[test]
fn inputs_agree_with_input() {
    type H = HList![Scalar, Matrix<2, 3>, Vector<4>];
    let _ = GraphData::<f32, (), H, _>::build(|g| {
        let hlist_pat![a, m, v] = g.inputs();
        assert_eq!(a, g.input::<0>());
        assert_eq!(m, g.input::<1>());
        assert_eq!(v, g.input::<2>());
        assert_eq!(format!("{m:?}"), "Var(1 : [2, 3])");
        assert!(g.is_empty());
        assert_eq!(g.idx(v), Idx::<H, Vector<4>>::at::<2>());
        let (g, s) = g.push(|c| ops::sum(c.idx(v)));
        assert_eq!(format!("{s:?}"), "Var(3 : [])");
        assert_eq!(g.graph().node_names().collect::<Vec<_>>(), ["sum"]);
        g
    });
}

// ---------------------------------------------------------------- sharing and aliasing

#[test]
fn fan_out_accumulates() {
    // h = x ⊙ y is read by three nodes; f = Σ h + Σ (h ⊙ h) + Σ (h ⊙ x).
    type H = HList![Vector<3>, Vector<3>];
    let (g, f) = GraphData::<f64, (), H, _>::build_with(|g| {
        let hlist_pat![x, y] = g.inputs();
        let (g, h) = g.push(|c| ops::mul(c.idx(x), c.idx(y)));
        let (g, s1) = g.push(|c| ops::sum(c.idx(h)));
        let (g, hh) = g.push(|c| ops::mul(c.idx(h), c.idx(h)));
        let (g, s2) = g.push(|c| ops::sum(c.idx(hh)));
        let (g, hx) = g.push(|c| ops::mul(c.idx(h), c.idx(x)));
        let (g, s3) = g.push(|c| ops::sum(c.idx(hx)));
        let (g, s12) = g.push(|c| ops::add(c.idx(s1), c.idx(s2)));
        let (g, f) = g.push(|c| ops::add(c.idx(s12), c.idx(s3)));
        let f = g.idx(f);
        (g, f)
    });
    let (xv, yv) = ([1.0, 2.0, -1.0], [3.0, -0.5, 2.0]);
    let x: TList<f64, H> = tlist![Tensor::new(xv), Tensor::new(yv)];
    let grad = g.backprop_ctx(x, &(), TList::single(f, Tensor::new(1.0)));
    // f = Σ (x y + x² y² + x² y): ∂f/∂x = y + 2 x y² + 2 x y, ∂f/∂y = x + 2 x² y + x².
    let gx: Vec<f64> = (0..3)
        .map(|i| yv[i] + 2.0 * xv[i] * yv[i] * yv[i] + 2.0 * xv[i] * yv[i])
        .collect();
    let gy: Vec<f64> = (0..3)
        .map(|i| xv[i] + 2.0 * xv[i] * xv[i] * yv[i] + xv[i] * xv[i])
        .collect();
    let (gx_got, gy_got) = {
        let hlist_pat![a, b] = grad.into_tensors();
        (a.into_vec(), b.into_vec())
    };
    for (got, want) in gx_got.iter().zip(&gx).chain(gy_got.iter().zip(&gy)) {
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
}

#[test]
fn aliased_handle_doubles_the_gradient() {
    // y = x ⊙ x with the same handle twice: x̄ = 2 x ⊙ δ, ẏ = 2 x ⊙ ẋ.
    type H = HList![Vector<3>];
    let (g, y) = Graph::<f64, (), H, _>::build_with(|g| {
        let x = g.input::<0>();
        let (g, y) = g.push(|c| ops::mul(c.idx(x), c.idx(x)));
        let y = g.idx(y);
        (g, y)
    });
    let x = || -> TList<f64, H> { tlist![Tensor::new([1.5, -2.0, 0.25])] };
    let delta = Tensor::new([1.0, 3.0, -4.0]);
    let grad = g.backprop_ctx(x(), &(), TList::single(y, delta));
    assert_eq!(grad, tlist![Tensor::new([3.0, -12.0, -2.0])]);
    let dx: TList<f64, H> = tlist![Tensor::new([2.0, 1.0, 4.0])];
    let tangents = g.jvp_ctx(x(), dx, &());
    assert_eq!(tangents.get(y).as_slice(), &[6.0, -4.0, 2.0]);
}

// ---------------------------------------------------------------- composition

/// A reusable layer over any graph state: generic in the outputs `P` pushed so far (newest
/// first), to which it adds two.
#[allow(clippy::type_complexity)]
fn affine_tanh<'id, P: Reverse>(
    g: GraphBuilder<'id, LawfulKind<f64, ()>, Mlp, P>,
    w: Var<'id, Matrix<2, 2>>,
    x: Var<'id, Vector<2>>,
    b: Var<'id, Vector<2>>,
) -> (
    GraphBuilder<'id, LawfulKind<f64, ()>, Mlp, HCons<Vector<2>, HCons<Vector<2>, P>>>,
    Var<'id, Vector<2>>,
) {
    let (g, z) = g.push(|c| ops::linear(c.idx(w), c.idx(x), c.idx(b)));
    g.push(|c| ops::tanh(c.idx(z)))
}

type Mlp = HList![Vector<2>, Matrix<2, 2>, Vector<2>, Matrix<2, 2>, Vector<2>];

#[test]
fn generic_layers_compose() {
    let (g, out) = Graph::<f64, (), Mlp, _>::build_with(|g| {
        let hlist_pat![x, w1, b1, w2, b2] = g.inputs();
        let (g, h) = affine_tanh(g, w1, x, b1);
        let (g, y) = affine_tanh(g, w2, h, b2);
        let (g, l) = g.push(|c| ops::sum(c.idx(y)));
        let l = g.idx(l);
        (g, l)
    });
    assert_eq!(
        g.node_names().collect::<Vec<_>>(),
        ["linear", "tanh", "linear", "tanh", "sum"]
    );
    let x: TList<f64, Mlp> = tlist![
        Tensor::new([0.5, -1.0]),
        Tensor::new([[0.1, 0.2], [-0.3, 0.4]]),
        Tensor::new([0.0, 0.1]),
        Tensor::new([[1.0, -1.0], [0.5, 0.5]]),
        Tensor::new([0.2, -0.2])
    ];
    let y = g.eval(x.clone(), &());
    let h: Vec<f64> = [0.1 * 0.5 - 0.2 + 0.0, -0.3 * 0.5 - 0.4 + 0.1]
        .iter()
        .map(|z: &f64| z.tanh())
        .collect();
    let o = [
        (h[0] - h[1] + 0.2).tanh(),
        (0.5 * h[0] + 0.5 * h[1] - 0.2).tanh(),
    ];
    assert!((y.get(out).as_slice()[0] - (o[0] + o[1])).abs() < 1e-12);
    // Reverse mode reaches every parameter.
    let grad = g.backprop_ctx(x, &(), TList::single(out, Tensor::new(1.0)));
    let hlist_pat![gx, gw1, gb1, gw2, gb2] = grad.into_tensors();
    for t in [
        gx.into_vec(),
        gw1.into_vec(),
        gb1.into_vec(),
        gw2.into_vec(),
        gb2.into_vec(),
    ] {
        assert!(t.iter().any(|v| *v != 0.0));
    }
}

// ---------------------------------------------------------------- the builder's context type

/// A context's layout is read from the tree its type builds in constants: slots in order, the
/// slots of a reversed subtree backwards (also inside another reversed subtree).
#[test]
fn layouts_list_the_slots_in_order() {
    use shapetape::shape_list::LayoutTree;
    let slots = |l: Vec<shapetape::shape_list::SlotLayout>| -> Vec<(Vec<usize>, usize)> {
        l.into_iter().map(|s| (s.dims, s.size)).collect()
    };
    assert_eq!(
        slots(<HList![Matrix<2, 3>, Scalar, Vector<4>] as ShapeList>::layout()),
        [(vec![2, 3], 6), (vec![], 1), (vec![4], 4)]
    );
    assert!(<HNil as ShapeList>::layout().is_empty());

    fn scalar() -> Vec<usize> {
        vec![]
    }
    fn two() -> Vec<usize> {
        vec![2]
    }
    fn three() -> Vec<usize> {
        vec![3]
    }
    static A: LayoutTree = LayoutTree::Slot {
        dims: scalar,
        size: 1,
    };
    static B: LayoutTree = LayoutTree::Slot { dims: two, size: 2 };
    static C: LayoutTree = LayoutTree::Slot {
        dims: three,
        size: 3,
    };
    // Rev(A ++ Rev(B ++ C)) = Rev([A, C, B]) = [B, C, A].
    static TREE: LayoutTree = LayoutTree::Rev(&LayoutTree::Cat(
        &A,
        &LayoutTree::Rev(&LayoutTree::Cat(&B, &C)),
    ));
    assert_eq!(
        slots(TREE.slots(3)),
        [(vec![2], 2), (vec![3], 3), (vec![], 1)]
    );
}

/// Inside `push`, the node's context is `BuildCtx<Γ, P>` (the outputs so far newest first in
/// the type); as a list of shapes it is `Γ ++ Rev<P>`: positions, lookups and the layout agree.
#[test]
fn the_builder_context_is_inputs_then_outputs_in_order() {
    use shapetape::shape_list::{BuildCtx, Rev};
    type H = HList![Scalar, Vector<2>];
    type Pushed = HList![Vector<3>, Scalar]; // a Scalar output, then a Vector<3> output
    let dims: Vec<Vec<usize>> = <BuildCtx<H, Pushed> as ShapeList>::layout()
        .into_iter()
        .map(|l| l.dims)
        .collect();
    assert_eq!(dims, [vec![], vec![2], vec![], vec![3]]);
    assert_eq!(<BuildCtx<H, Pushed> as ShapeList>::LEN, 4);
    let _: core::marker::PhantomData<Cat<H, Rev<Pushed>>> =
        core::marker::PhantomData::<HList![Scalar, Vector<2>, Scalar, Vector<3>]>;

    // `Idx::at` inside a push looks positions up in Γ followed by the outputs so far.
    let g = GraphData::<f64, (), H, _>::build(|g| {
        let (g, _) = g.push(|_| ops::sum::<_, Vector<2>>(Idx::at::<1>()));
        let (g, _) = g.push(|_| ops::mul::<_, Scalar, Scalar>(Idx::at::<2>(), Idx::at::<0>()));
        g
    });
    let x: TList<f64, H> = tlist![Tensor::new(3.0), Tensor::new([1.0, 2.0])];
    let y = g.eval(x, &());
    assert_eq!(y.slot_slices().nth(2), Some(&[3.0][..]));
    assert_eq!(y.slot_slices().nth(3), Some(&[9.0][..]));
}

// ---------------------------------------------------------------- a block over every graph kind

/// `relu(X Wᵀ + 1 bᵀ)`: one dense layer with ReLU on a batch of rows, pushed onto a builder of
/// any graph kind that runs both ops.
fn dense_relu<'id, K, G, P, const B: usize, const O: usize, const I: usize>(
    g: GraphBuilder<'id, K, G, P>,
    w: Var<'id, Matrix<O, I>>,
    x: Var<'id, Matrix<B, I>>,
    b: Var<'id, Vector<O>>,
) -> Pushed<'id, K, G, HCons<Matrix<B, O>, P>, Matrix<B, O>>
where
    K: Supports<ops::LinearBatch<B, O, I>> + Supports<ops::Relu<Matrix<B, O>>>,
    G: ShapeList,
    P: Reverse,
    // Generic dimensions: `Dim<N, S>: Shape` holds only under typenum bounds on `N`, so the
    // four shapes `linear_batch` names are required here too (fixed dimensions need none).
    Matrix<O, I>: Shape,
    Matrix<B, I>: Shape,
    Matrix<B, O>: Shape,
    Vector<O>: Shape,
{
    let (g, z) = g.push(|c| ops::linear_batch(c.idx(w), c.idx(x), c.idx(b)));
    g.push(|c| ops::relu(c.idx(z)))
}

/// Inputs of a two-layer network on a batch of four rows: `X : 4×3`, `W₁ : 3×3`, `b₁ : 3`,
/// `W₂ : 2×3`, `b₂ : 2`.
type Net = HList![Matrix<4, 3>, Matrix<3, 3>, Vector<3>, Matrix<2, 3>, Vector<2>];
/// `Net ++ [z₁, h, z₂, y]`.
type NetFull = HList![
    Matrix<4, 3>, Matrix<3, 3>, Vector<3>, Matrix<2, 3>, Vector<2>,
    Matrix<4, 3>, Matrix<4, 3>, Matrix<4, 2>, Matrix<4, 2>
];

/// `y = relu(relu(X W₁ᵀ + b₁) W₂ᵀ + b₂)` as an executable `f32` graph and as a certified
/// `f32`/`f64` graph, both from the one block `dense_relu`, with the index of `y`.
#[allow(clippy::type_complexity)]
fn two_layers() -> (
    GraphData<f32, (), Net, HList![Matrix<4, 3>, Matrix<4, 3>, Matrix<4, 2>, Matrix<4, 2>]>,
    RevGraph<f32, f64, Net, HList![Matrix<4, 3>, Matrix<4, 3>, Matrix<4, 2>, Matrix<4, 2>]>,
    Idx<NetFull, Matrix<4, 2>>,
) {
    let (data, y) = GraphData::<f32, (), Net, _>::build_with(|g| {
        let hlist_pat![x, w1, b1, w2, b2] = g.inputs();
        let (g, h) = dense_relu(g, w1, x, b1);
        let (g, y) = dense_relu(g, w2, h, b2);
        let y = g.idx(y);
        (g, y)
    });
    let (rev, y_rev) = RevGraph::<f32, f64, Net, _>::build_with(|g| {
        let hlist_pat![x, w1, b1, w2, b2] = g.inputs();
        let (g, h) = dense_relu(g, w1, x, b1);
        let (g, y) = dense_relu(g, w2, h, b2);
        let y = g.idx(y);
        (g, y)
    });
    assert_eq!(y, y_rev);
    (data, rev, y)
}

fn bits<C: ShapeList>(x: &TList<f32, C>) -> Vec<Vec<u32>> {
    x.slot_slices()
        .map(|s| s.iter().map(|v| v.to_bits()).collect())
        .collect()
}

fn context_f32<C: ShapeList>(
    entry: impl Strategy<Value = f32>,
) -> impl Strategy<Value = TList<f32, C>> {
    let total: usize = C::layout().iter().map(|l| l.size).sum();
    proptest::collection::vec(entry, total)
        .prop_map(|v| TList::try_from_flat(v).expect("generated with the context's length"))
}

/// Entries with exact zeros of both signs (where `relu` and the sums decide signs of zeros).
fn entry_f32() -> impl Strategy<Value = f32> {
    prop_oneof![1 => Just(0.0_f32), 1 => Just(-0.0_f32), 8 => -2.0_f32..2.0]
}

/// The reference two-layer network in `f64` loops, and its reverse pass for the output seed
/// `δ` (the ReLU derivative is 1 where the pre-activation is `> 0`, else 0): the gradients
/// of `X, W₁, b₁, W₂, b₂`, and `y`.
#[allow(clippy::type_complexity)]
fn reference(inputs: &[Vec<f64>], delta: &[f64]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let (x, w1, b1, w2, b2) = (&inputs[0], &inputs[1], &inputs[2], &inputs[3], &inputs[4]);
    // z = X Wᵀ + 1 bᵀ for X: rows×i, W: o×i.
    let affine = |x: &[f64], w: &[f64], b: &[f64], rows: usize, i: usize, o: usize| {
        let mut z = vec![0.0; rows * o];
        for r in 0..rows {
            for c in 0..o {
                z[r * o + c] = (0..i).map(|k| x[r * i + k] * w[c * i + k]).sum::<f64>() + b[c];
            }
        }
        z
    };
    let relu = |z: &[f64]| z.iter().map(|v| v.max(0.0)).collect::<Vec<_>>();
    let z1 = affine(x, w1, b1, 4, 3, 3);
    let h = relu(&z1);
    let z2 = affine(&h, w2, b2, 4, 3, 2);
    let y = relu(&z2);
    // Reverse: ḡ = δ ⊙ [z > 0]; W̄ = ḡᵀ X, b̄ = Σ_rows ḡ, X̄ = ḡ W.
    let back = |g: &[f64], x: &[f64], w: &[f64], rows: usize, i: usize, o: usize| {
        let mut dw = vec![0.0; o * i];
        let mut db = vec![0.0; o];
        let mut dx = vec![0.0; rows * i];
        for r in 0..rows {
            for c in 0..o {
                db[c] += g[r * o + c];
                for k in 0..i {
                    dw[c * i + k] += g[r * o + c] * x[r * i + k];
                    dx[r * i + k] += g[r * o + c] * w[c * i + k];
                }
            }
        }
        (dw, db, dx)
    };
    let gate = |d: &[f64], z: &[f64]| {
        d.iter()
            .zip(z)
            .map(|(d, z)| if *z > 0.0 { *d } else { 0.0 })
            .collect::<Vec<_>>()
    };
    let (dw2, db2, dh) = back(&gate(delta, &z2), &h, w2, 4, 3, 2);
    let (dw1, db1, dx) = back(&gate(&dh, &z1), x, w1, 4, 3, 3);
    (vec![dx, dw1, db1, dw2, db2], y)
}

proptest! {
    /// The block run by an executable and by a certified graph: the certified graph's runtime
    /// evaluation and reverse pass are the executable graph's, bit for bit.
    #[test]
    fn generic_block_runs_alike_in_data_and_certified_graphs(
        x in context_f32::<Net>(entry_f32()),
        seed in context_f32::<NetFull>(entry_f32()),
    ) {
        let (g, rg, _) = two_layers();
        let names = ["linear_batch", "relu", "linear_batch", "relu"];
        prop_assert_eq!(g.node_names().collect::<Vec<_>>(), names);
        prop_assert_eq!(rg.node_names().collect::<Vec<_>>(), names);
        prop_assert_eq!(bits(&rg.eval_runtime(x.clone())), bits(&g.eval(x.clone(), &())));
        prop_assert_eq!(
            bits(&rg.backprop_runtime(x.clone(), seed.clone())),
            bits(&g.backprop_ctx(x, &(), seed))
        );
    }

    /// Both graphs of the block against the reference network, on small integers (every value
    /// and gradient is then an integer far below 2²⁴, exact in `f32` and `f64`).
    #[test]
    fn generic_block_matches_the_reference_network(
        x in context_f32::<Net>((-3_i8..=3).prop_map(f32::from)),
        delta in proptest::collection::vec((-3_i8..=3).prop_map(f32::from), 8),
    ) {
        let (g, rg, y) = two_layers();
        let inputs: Vec<Vec<f64>> = x
            .slot_slices()
            .map(|s| s.iter().map(|&v| f64::from(v)).collect())
            .collect();
        let delta_f64: Vec<f64> = delta.iter().map(|&v| f64::from(v)).collect();
        let (grads, out) = reference(&inputs, &delta_f64);
        let as_f64 = |s: &[f32]| s.iter().map(|&v| f64::from(v)).collect::<Vec<_>>();
        let seed = TList::single(y, Tensor::try_from_vec(delta).expect("a 4×2 seed"));
        prop_assert_eq!(as_f64(g.eval(x.clone(), &()).get(y).as_slice()), out.clone());
        prop_assert_eq!(as_f64(rg.eval_runtime(x.clone()).get(y).as_slice()), out);
        for got in [g.backprop_ctx(x.clone(), &(), seed.clone()), rg.backprop_runtime(x, seed)] {
            let got: Vec<Vec<f64>> = got.slot_slices().map(as_f64).collect();
            prop_assert_eq!(&got, &grads);
        }
    }
}

// ---------------------------------------------------------------- constants and failing pushes

/// The error a `build` closure stopped with. The closure must hand back a builder, and a
/// failed `try_push` or `constant` has consumed it, so the closure leaves by unwinding with the
/// error as the payload (`resume_unwind`, which prints no panic message).
fn build_error<E: 'static>(build: impl FnOnce()) -> E {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(build))
        .expect_err("the build stops with an error");
    *payload
        .downcast::<E>()
        .expect("the payload is the builder's error")
}

/// Leaves a `build` closure with the error `e` (see [`build_error`]).
fn stop<E: Send + 'static, T>(e: E) -> T {
    std::panic::resume_unwind(Box::new(e))
}

#[test]
fn constant_is_baked_in_with_zero_derivative() {
    // k = [0.5, −1.5] baked in; y = x ⊙ k; s = Σ y.
    type H = HList![Vector<2>];
    type Full = HList![Vector<2>, Vector<2>, Vector<2>, Scalar];
    let (g, (k, y, s)) = GraphData::<f64, (), H, _>::build_with(|b| {
        let x = b.input::<0>();
        let (b, k) = b.constant(Tensor::new([0.5, -1.5])).unwrap_or_else(stop);
        let (b, y) = b.push(|c| ops::mul(c.idx(x), c.idx(k)));
        let (b, s) = b.push(|c| ops::sum(c.idx(y)));
        let idx = (b.idx(k), b.idx(y), b.idx(s));
        (b, idx)
    });
    assert_eq!(
        g.node_names().collect::<Vec<_>>(),
        ["constant", "mul", "sum"]
    );
    let x = || -> TList<f64, H> { tlist![Tensor::new([2.0, 4.0])] };
    let vals = g.eval(x(), &());
    assert_eq!(vals.get(k).as_slice(), &[0.5, -1.5]);
    assert_eq!(vals.get(y).as_slice(), &[1.0, -6.0]);
    assert_eq!(vals.get(s).as_slice(), &[-5.0]);
    // The constant's tangent is 0 whatever the input tangent.
    let tans = g.jvp_ctx(x(), tlist![Tensor::new([1.0, 1.0])], &());
    assert_eq!(tans.get(k).as_slice(), &[0.0, 0.0]);
    assert_eq!(tans.get(y).as_slice(), &[0.5, -1.5]);
    // A seed on the constant alone reaches no input: x̄ = 0.
    let on_k = TList::<f64, Full>::single(k, Tensor::new([3.0, 7.0]));
    assert_eq!(
        g.backprop_ctx(x(), &(), on_k.clone()),
        tlist![Tensor::new([0.0, 0.0])]
    );
    assert_eq!(
        g.backprop_ctx_literal(x(), &(), on_k),
        tlist![Tensor::new([0.0, 0.0])]
    );
    // With the loss seeded too, x̄ = k (the constant's own seed still adds nothing).
    let both = TList::<f64, Full>::single(k, Tensor::new([3.0, 7.0]))
        .add(&TList::single(s, Tensor::new(1.0)));
    assert_eq!(
        g.backprop_ctx(x(), &(), both),
        tlist![Tensor::new([0.5, -1.5])]
    );

    // At f32 the constant is rounded to nearest: 0.1 becomes 0.1_f32.
    let g32 = GraphData::<f32, (), H, _>::build(|b| {
        let (b, _) = b
            .constant(Tensor::<f64, Vector<2>>::new([0.1, -2.0]))
            .unwrap_or_else(stop);
        b
    });
    let vals = g32.eval(tlist![Tensor::new([0.0, 0.0])], &());
    assert_eq!(vals.slot_slices().nth(1), Some(&[0.1_f32, -2.0][..]));
}

#[test]
fn constant_rejects_non_finite_entries() {
    type H = HList![Vector<2>];
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e: ops::ConstantError = build_error(|| {
            let _ = GraphData::<f64, (), H, _>::build(|b| {
                let (b, _) = b
                    .constant(Tensor::<f64, Vector<2>>::new([1.0, bad]))
                    .unwrap_or_else(stop);
                b
            });
        });
        assert_eq!(e.op, "constant");
        assert_eq!(e.value.to_bits(), bad.to_bits());
        assert_eq!(e.needs, "finite entries");
    }
}

#[test]
fn try_push_returns_the_constant_error() {
    type H = HList![Vector<2>];
    // A finite factor is pushed: y = 2x.
    let g = GraphData::<f64, (), H, _>::build(|b| {
        let x = b.input::<0>();
        let (b, _) = b
            .try_push(|c| ops::scale(c.idx(x), 2.0))
            .unwrap_or_else(stop::<ops::ConstantError, _>);
        b
    });
    let vals = g.eval(tlist![Tensor::new([1.5, -3.0])], &());
    assert_eq!(vals.slot_slices().nth(1), Some(&[3.0, -6.0][..]));
    // A NaN factor is the constructor's error, handed back by `try_push`.
    let e: ops::ConstantError = build_error(|| {
        let _ = GraphData::<f64, (), H, _>::build(|b| {
            let x = b.input::<0>();
            let (b, _) = b
                .try_push(|c| ops::scale(c.idx(x), f64::NAN))
                .unwrap_or_else(stop);
            b
        });
    });
    assert_eq!(e.op, "scale");
    assert!(e.value.is_nan());
    assert_eq!(e.needs, "a finite factor");
    assert_eq!(
        e.to_string(),
        "scale: the constant NaN is not allowed, it needs a finite factor"
    );
}
