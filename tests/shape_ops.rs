//! The shape ops (`reshape`, `flatten`, `swapaxes`, `permute`, `concat`, `stack`, `narrow`,
//! `broadcast_to`) and the shape arithmetic of `shapetape::shape_arith`, against hand-written
//! values: forward, JVP and VJP of each op on small tensors whose results are written out here,
//! and the computed output shapes checked as types.
//!
//! The laws (adjointness, gradcheck, certified bounds) are run by `tests/harness.rs`.

use shapetape::autograd::{GraphData, Op, OpNode, Var};
use shapetape::ops::{self, Ax};
use shapetape::prelude::*;
use shapetape::shape_arith::{
    Axis, AxisLen, ConcatAlong, ConvDim, ConvLen, Flat, NarrowAlong, PermuteAxes, RemoveAxis,
    SwapAxes, checked_conv_out_len, conv_out_len,
};
use shapetape::typenum::Unsigned;

/// `y = op(x)`, the JVP at `dx` and the VJP of `seed` (dense over the inputs), in f64.
fn run<G: ShapeList, K>(
    op: OpNode<G, K>,
    x: &TList<f64, G>,
    dx: &TList<f64, G>,
    seed: &Tensor<f64, K::Out>,
) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>)
where
    K: shapetape::autograd::Eval<f64>,
{
    let node = op.into_node::<f64, ()>();
    let y = node.data().forward(x, &()).as_slice().to_vec();
    let dy = node.data().jvp(x, dx, &()).as_slice().to_vec();
    let g = node.data().vjp(x, &(), seed).to_dense();
    let g = g.slot_slices().map(<[f64]>::to_vec).collect();
    (y, dy, g)
}

fn t<S: Shape>(v: &[f64]) -> Tensor<f64, S> {
    Tensor::try_from_slice(v).unwrap()
}

/// `[1, 2, …, n]`.
fn iota(n: usize) -> Vec<f64> {
    (1..=n).map(|i| i as f64).collect()
}

/// Checks, as a compile-time fact, that `A` and `B` are the same type.
fn same_type<A, B>()
where
    A: SameAs<B>,
{
}
trait SameAs<B> {}
impl<A> SameAs<A> for A {}

#[test]
fn computed_shapes_are_the_shapes_users_write() {
    same_type::<<Vector<2> as ConcatAlong<Vector<1>, 0>>::Output, Vector<3>>();
    same_type::<<Matrix<2, 3> as ConcatAlong<Matrix<2, 4>, 1>>::Output, Matrix<2, 7>>();
    same_type::<<Matrix<2, 3> as ConcatAlong<Matrix<5, 3>, 0>>::Output, Matrix<7, 3>>();
    same_type::<RemoveAxis<Tensor3<2, 3, 4>, 1>, Matrix<2, 4>>();
    same_type::<RemoveAxis<Vector<5>, 0>, Scalar>();
    assert_eq!(<AxisLen<Tensor3<2, 3, 4>, 2> as Unsigned>::USIZE, 4);
    assert_eq!(<Tensor3<2, 3, 4> as Axis<1>>::LEN, 3);
    assert_eq!(<Vector<0> as Axis<0>>::LEN, 0);
    same_type::<<Vector<0> as ConcatAlong<Vector<4>, 0>>::Output, Vector<4>>();
    same_type::<<Tensor3<2, 3, 4> as NarrowAlong<2, 1, 3>>::Output, Tensor3<2, 3, 3>>();
    same_type::<<Tensor3<2, 3, 4> as NarrowAlong<0, 2, 0>>::Output, Tensor3<0, 3, 4>>();
    same_type::<Flat<Tensor3<2, 3, 4>>, Vector<24>>();
    same_type::<<Tensor3<2, 3, 4> as SwapAxes<0, 2>>::Output, Tensor3<4, 3, 2>>();
    same_type::<<Tensor3<2, 3, 4> as SwapAxes<1, 1>>::Output, Tensor3<2, 3, 4>>();
    same_type::<<Tensor3<2, 3, 4> as PermuteAxes<(Ax<2>, Ax<0>, Ax<1>)>>::Output, Tensor3<4, 2, 3>>(
    );
    same_type::<<Matrix<2, 3> as PermuteAxes<(Ax<1>, Ax<0>)>>::Output, Matrix<3, 2>>();
    same_type::<ConvDim<28, 5, 1, 2, 1>, Vector<28>>();
    same_type::<ConvDim<32, 3, 2, 1, 1, Vector<8>>, Matrix<16, 8>>();
    same_type::<Vector<{ conv_out_len(7, 3, 2, 0, 2) }>, Vector<2>>();
}

#[test]
fn conv_output_lengths() {
    // ⌊(H + 2P − D(K − 1) − 1)/S⌋ + 1, worked by hand:
    // (28 + 4 − 4 − 1)/1 + 1 = 28; (32 + 2 − 2 − 1)/2 + 1 = 16; (7 − 4 − 1)/2 + 1 = 2;
    // (5 − 4 − 1)/1 + 1 = 1 (a kernel exactly as long as the input); (10 − 2 − 1)/3 + 1 = 3.
    assert_eq!(conv_out_len(28, 5, 1, 2, 1), 28);
    assert_eq!(conv_out_len(32, 3, 2, 1, 1), 16);
    assert_eq!(conv_out_len(7, 3, 2, 0, 2), 2);
    assert_eq!(conv_out_len(5, 5, 1, 0, 1), 1);
    assert_eq!(conv_out_len(10, 3, 3, 0, 1), 3);
    assert_eq!(<ConvLen<28, 5, 1, 2, 1> as Unsigned>::USIZE, 28);
    assert_eq!(<ConvLen<32, 3, 2, 1, 1> as Unsigned>::USIZE, 16);
    assert_eq!(<ConvLen<7, 3, 2, 0, 2> as Unsigned>::USIZE, 2);
    assert_eq!(<ConvLen<5, 5, 1, 0, 1> as Unsigned>::USIZE, 1);
    assert_eq!(<ConvLen<10, 3, 3, 0, 1> as Unsigned>::USIZE, 3);
    // A 2×2 max-pool with stride 2 over 1000 entries: (1000 − 2)/2 + 1 = 500.
    assert_eq!(<ConvLen<1000, 2, 2, 0, 1> as Unsigned>::USIZE, 500);
    // Invalid windows.
    assert_eq!(checked_conv_out_len(4, 5, 1, 0, 1), None);
    assert_eq!(checked_conv_out_len(4, 3, 1, 0, 2), None); // span 5 > 4
    assert_eq!(checked_conv_out_len(4, 3, 1, 1, 2), Some(2)); // span 5 ≤ 6
    assert_eq!(checked_conv_out_len(4, 0, 1, 0, 1), None);
    assert_eq!(checked_conv_out_len(4, 1, 0, 0, 1), None);
    assert_eq!(checked_conv_out_len(4, 1, 1, 0, 0), None);
    assert_eq!(checked_conv_out_len(usize::MAX, 1, 1, 1, 1), None);
}

#[test]
#[should_panic(expected = "the kernel is larger than the padded input")]
fn conv_out_len_panics_with_a_message() {
    let _ = conv_out_len(3, 5, 1, 0, 1);
}

#[test]
fn transpose_of_a_2x3_matrix() {
    type G = HList![Matrix<2, 3>];
    let x: TList<f64, G> = tlist![Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])];
    let dx: TList<f64, G> = tlist![Tensor::new([[0.5, 0.0, -1.0], [2.0, 3.0, 4.0]])];
    let seed = t::<Matrix<3, 2>>(&[10.0, 40.0, 20.0, 50.0, 30.0, 60.0]);
    let i = Idx::<G, Matrix<2, 3>>::at::<0>();
    for (y, dy, g) in [
        run(ops::swapaxes::<0, 1, _, _>(i), &x, &dx, &seed),
        run(ops::swapaxes::<1, 0, _, _>(i), &x, &dx, &seed),
        run(ops::permute(i, (Ax::<1>, Ax::<0>)), &x, &dx, &seed),
    ] {
        assert_eq!(y, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(dy, [0.5, 2.0, 0.0, 3.0, -1.0, 4.0]);
        assert_eq!(g, [vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0]]);
    }
}

#[test]
fn permutations_of_a_rank_3_tensor() {
    type S = Tensor3<2, 2, 3>;
    type G = HList![S];
    // x[i][j][k] = 100 i + 10 j + k (+1), so each entry names its own position.
    let x: TList<f64, G> = tlist![Tensor::new([
        [[1.0, 2.0, 3.0], [11.0, 12.0, 13.0]],
        [[101.0, 102.0, 103.0], [111.0, 112.0, 113.0]],
    ])];
    let i = Idx::<G, S>::at::<0>();
    let zero: TList<f64, G> = TList::zero();

    // (2, 0, 1): y[k][i][j] = x[i][j][k], shape 3×2×2.
    let seed = t::<Tensor3<3, 2, 2>>(&iota(12));
    let (y, _, g) = run(
        ops::permute(i, (Ax::<2>, Ax::<0>, Ax::<1>)),
        &x,
        &zero,
        &seed,
    );
    assert_eq!(
        y,
        [
            1.0, 11.0, 101.0, 111.0, 2.0, 12.0, 102.0, 112.0, 3.0, 13.0, 103.0, 113.0
        ]
    );
    // δ[k][i][j] = 1 + 4k + 2i + j goes back to position [i][j][k].
    assert_eq!(
        g,
        [vec![
            1.0, 5.0, 9.0, 2.0, 6.0, 10.0, 3.0, 7.0, 11.0, 4.0, 8.0, 12.0
        ]]
    );

    // swapaxes 0 and 2: y[k][j][i] = x[i][j][k], shape 3×2×2.
    let (y, _, g) = run(ops::swapaxes::<0, 2, _, _>(i), &x, &zero, &seed);
    assert_eq!(
        y,
        [
            1.0, 101.0, 11.0, 111.0, 2.0, 102.0, 12.0, 112.0, 3.0, 103.0, 13.0, 113.0
        ]
    );
    // δ[k][j][i] = 1 + 4k + 2j + i goes back to [i][j][k].
    assert_eq!(
        g,
        [vec![
            1.0, 5.0, 9.0, 3.0, 7.0, 11.0, 2.0, 6.0, 10.0, 4.0, 8.0, 12.0
        ]]
    );

    // The identity permutation.
    let seed = t::<S>(&iota(12));
    let (y, _, g) = run(
        ops::permute(i, (Ax::<0>, Ax::<1>, Ax::<2>)),
        &x,
        &zero,
        &seed,
    );
    assert_eq!(y, x.get(i).as_slice());
    assert_eq!(g, [iota(12)]);
}

#[test]
fn reshape_and_flatten_keep_row_major_order() {
    type G = HList![Matrix<2, 3>];
    let x: TList<f64, G> = tlist![Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])];
    let dx: TList<f64, G> = tlist![Tensor::new([[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0]])];
    let i = Idx::<G, Matrix<2, 3>>::at::<0>();
    let seed = t::<Matrix<3, 2>>(&[7.0, 8.0, 9.0, 10.0, 11.0, 12.0]);
    let (y, dy, g) = run(ops::reshape::<Matrix<3, 2>, _, _>(i), &x, &dx, &seed);
    assert_eq!(y, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(dy, [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0]);
    assert_eq!(g, [vec![7.0, 8.0, 9.0, 10.0, 11.0, 12.0]]);

    let seed = t::<Vector<6>>(&[6.0, 5.0, 4.0, 3.0, 2.0, 1.0]);
    let op = ops::flatten(i);
    assert_eq!(op.op().name(), "flatten");
    let (y, _, g) = run(op, &x, &dx, &seed);
    assert_eq!(y, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(g, [vec![6.0, 5.0, 4.0, 3.0, 2.0, 1.0]]);

    // Reshape to a scalar and back to rank 3.
    type H = HList![Vector<1>];
    let x1: TList<f64, H> = tlist![Tensor::new([4.5])];
    let (y, _, g) = run(
        ops::reshape::<Scalar, _, _>(Idx::<H, Vector<1>>::at::<0>()),
        &x1,
        &x1,
        &Tensor::new(2.5),
    );
    assert_eq!((y, g), (vec![4.5], vec![vec![2.5]]));
}

#[test]
fn concat_of_vectors_and_matrices() {
    type G = HList![Vector<2>, Vector<1>];
    let x: TList<f64, G> = tlist![Tensor::new([1.0, 2.0]), Tensor::new([3.0])];
    let dx: TList<f64, G> = tlist![Tensor::new([0.5, -0.5]), Tensor::new([9.0])];
    let seed = t::<Vector<3>>(&[10.0, 20.0, 30.0]);
    let (a, b) = (
        Idx::<G, Vector<2>>::at::<0>(),
        Idx::<G, Vector<1>>::at::<1>(),
    );
    let (y, dy, g) = run(ops::concat::<0, _, _, _>(a, b), &x, &dx, &seed);
    assert_eq!(y, [1.0, 2.0, 3.0]);
    assert_eq!(dy, [0.5, -0.5, 9.0]);
    assert_eq!(g, [vec![10.0, 20.0], vec![30.0]]);
    // The other order.
    let (y, _, g) = run(ops::concat::<0, _, _, _>(b, a), &x, &dx, &seed);
    assert_eq!(y, [3.0, 1.0, 2.0]);
    assert_eq!(g, [vec![20.0, 30.0], vec![10.0]]);
    // Aliased operands: [a, a], VJP δ₀ + δ₁ into the one slot.
    let seed4 = t::<Vector<4>>(&[1.0, 2.0, 30.0, 40.0]);
    let (y, _, g) = run(ops::concat::<0, _, _, _>(a, a), &x, &dx, &seed4);
    assert_eq!(y, [1.0, 2.0, 1.0, 2.0]);
    assert_eq!(g, [vec![31.0, 42.0], vec![0.0]]);

    type M = HList![Matrix<2, 2>, Matrix<2, 1>, Matrix<1, 2>];
    let x: TList<f64, M> = tlist![
        Tensor::new([[1.0, 2.0], [3.0, 4.0]]),
        Tensor::new([[5.0], [6.0]]),
        Tensor::new([[7.0, 8.0]])
    ];
    let zero: TList<f64, M> = TList::zero();
    let (a, c, r) = (
        Idx::<M, Matrix<2, 2>>::at::<0>(),
        Idx::<M, Matrix<2, 1>>::at::<1>(),
        Idx::<M, Matrix<1, 2>>::at::<2>(),
    );
    // Along the columns: [[1, 2, 5], [3, 4, 6]].
    let seed = t::<Matrix<2, 3>>(&[10.0, 20.0, 50.0, 30.0, 40.0, 60.0]);
    let (y, _, g) = run(ops::concat::<1, _, _, _>(a, c), &x, &zero, &seed);
    assert_eq!(y, [1.0, 2.0, 5.0, 3.0, 4.0, 6.0]);
    assert_eq!(
        g,
        [
            vec![10.0, 20.0, 30.0, 40.0],
            vec![50.0, 60.0],
            vec![0.0, 0.0]
        ]
    );
    // Along the rows: [[1, 2], [3, 4], [7, 8]].
    let seed = t::<Matrix<3, 2>>(&[10.0, 20.0, 30.0, 40.0, 70.0, 80.0]);
    let (y, _, g) = run(ops::concat::<0, _, _, _>(a, r), &x, &zero, &seed);
    assert_eq!(y, [1.0, 2.0, 3.0, 4.0, 7.0, 8.0]);
    assert_eq!(
        g,
        [
            vec![10.0, 20.0, 30.0, 40.0],
            vec![0.0, 0.0],
            vec![70.0, 80.0]
        ]
    );
}

#[test]
fn stack_adds_a_leading_axis() {
    type G = HList![Vector<2>, Vector<2>];
    let x: TList<f64, G> = tlist![Tensor::new([1.0, 2.0]), Tensor::new([3.0, 4.0])];
    let dx: TList<f64, G> = tlist![Tensor::new([-1.0, 0.0]), Tensor::new([0.25, 8.0])];
    let (a, b) = (
        Idx::<G, Vector<2>>::at::<0>(),
        Idx::<G, Vector<2>>::at::<1>(),
    );
    let seed = t::<Matrix<2, 2>>(&[5.0, 6.0, 7.0, 8.0]);
    let (y, dy, g) = run(ops::stack(a, b), &x, &dx, &seed);
    assert_eq!(y, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(dy, [-1.0, 0.0, 0.25, 8.0]);
    assert_eq!(g, [vec![5.0, 6.0], vec![7.0, 8.0]]);
    let (y, _, g) = run(ops::stack(b, b), &x, &dx, &seed);
    assert_eq!(y, [3.0, 4.0, 3.0, 4.0]);
    assert_eq!(g, [vec![0.0, 0.0], vec![12.0, 14.0]]);
}

#[test]
fn narrow_takes_a_slice_and_puts_the_cotangent_back() {
    type G = HList![Matrix<2, 3>];
    let x: TList<f64, G> = tlist![Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])];
    let dx: TList<f64, G> = tlist![Tensor::new([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])];
    let i = Idx::<G, Matrix<2, 3>>::at::<0>();
    // Columns 1 and 2.
    let seed = t::<Matrix<2, 2>>(&[7.0, 8.0, 9.0, 10.0]);
    let (y, dy, g) = run(ops::narrow::<1, 1, 2, _, _>(i), &x, &dx, &seed);
    assert_eq!(y, [2.0, 3.0, 5.0, 6.0]);
    assert_eq!(dy, [0.2, 0.3, 0.5, 0.6]);
    assert_eq!(g, [vec![0.0, 7.0, 8.0, 0.0, 9.0, 10.0]]);
    // Row 1.
    let seed = t::<Matrix<1, 3>>(&[7.0, 8.0, 9.0]);
    let (y, _, g) = run(ops::narrow::<0, 1, 1, _, _>(i), &x, &dx, &seed);
    assert_eq!(y, [4.0, 5.0, 6.0]);
    assert_eq!(g, [vec![0.0, 0.0, 0.0, 7.0, 8.0, 9.0]]);
    // An empty slice at the end.
    let seed = t::<Matrix<2, 0>>(&[]);
    let (y, _, g) = run(ops::narrow::<1, 3, 0, _, _>(i), &x, &dx, &seed);
    assert!(y.is_empty());
    assert_eq!(g, [vec![0.0; 6]]);
}

#[test]
fn broadcast_of_a_bias_over_rows() {
    type G = HList![Vector<3>, Matrix<2, 1>, Scalar, Vector<1>];
    let x: TList<f64, G> = tlist![
        Tensor::new([10.0, 20.0, 30.0]),
        Tensor::new([[1.0], [2.0]]),
        Tensor::new(7.0),
        Tensor::new([5.0])
    ];
    let zero: TList<f64, G> = TList::zero();
    let seed = t::<Matrix<2, 3>>(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);

    // A bias on every row; its cotangent is the column sums [1 + 4, 2 + 5, 3 + 6].
    let bias = Idx::<G, Vector<3>>::at::<0>();
    let (y, dy, g) = run(ops::broadcast_to::<Matrix<2, 3>, _, _>(bias), &x, &x, &seed);
    assert_eq!(y, [10.0, 20.0, 30.0, 10.0, 20.0, 30.0]);
    assert_eq!(dy, y);
    assert_eq!(
        g,
        [vec![5.0, 7.0, 9.0], vec![0.0, 0.0], vec![0.0], vec![0.0]]
    );

    // A column on every column; cotangent = the row sums [1 + 2 + 3, 4 + 5 + 6].
    let col = Idx::<G, Matrix<2, 1>>::at::<1>();
    let (y, _, g) = run(
        ops::broadcast_to::<Matrix<2, 3>, _, _>(col),
        &x,
        &zero,
        &seed,
    );
    assert_eq!(y, [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    assert_eq!(g[1], [6.0, 15.0]);

    // A scalar and a length-1 vector everywhere; cotangent = the total 21.
    let s = Idx::<G, Scalar>::at::<2>();
    let (y, _, g) = run(ops::broadcast_to::<Matrix<2, 3>, _, _>(s), &x, &zero, &seed);
    assert_eq!(y, [7.0; 6]);
    assert_eq!(g[2], [21.0]);
    let v1 = Idx::<G, Vector<1>>::at::<3>();
    let (y, _, g) = run(
        ops::broadcast_to::<Matrix<2, 3>, _, _>(v1),
        &x,
        &zero,
        &seed,
    );
    assert_eq!(y, [5.0; 6]);
    assert_eq!(g[3], [21.0]);

    // To the same shape: the identity.
    let (y, _, g) = run(
        ops::broadcast_to::<Vector<3>, _, _>(bias),
        &x,
        &zero,
        &t::<Vector<3>>(&[1.0, 2.0, 3.0]),
    );
    assert_eq!(y, [10.0, 20.0, 30.0]);
    assert_eq!(g[0], [1.0, 2.0, 3.0]);

    // A new leading axis and a length-1 middle axis: Matrix<2, 1> to 2×2×3,
    // y[b][i][j] = x[i][0].
    let seed = t::<Tensor3<2, 2, 3>>(&iota(12));
    let (y, _, g) = run(
        ops::broadcast_to::<Tensor3<2, 2, 3>, _, _>(col),
        &x,
        &zero,
        &seed,
    );
    assert_eq!(
        y,
        [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    );
    // x̄[0] = (1 + 2 + 3) + (7 + 8 + 9) = 30, x̄[1] = (4 + 5 + 6) + (10 + 11 + 12) = 48.
    assert_eq!(g[1], [30.0, 48.0]);
}

#[test]
fn exact_over_rationals() {
    type G = HList![Vector<2>, Vector<1>];
    let q = |n: i64, d: i64| Rational::new(n.into(), d.into());
    let x: TList<Rational, G> = tlist![Tensor::new([q(1, 3), q(-2, 7)]), Tensor::new([q(5, 11)])];
    let node = ops::concat::<0, _, _, _>(Idx::<G, Vector<2>>::at::<0>(), Idx::at::<1>())
        .into_node::<Rational, ()>();
    let y = node.data().forward(&x, &());
    assert_eq!(y.as_slice(), &[q(1, 3), q(-2, 7), q(5, 11)]);
    let node = ops::broadcast_to::<Matrix<2, 2>, _, _>(Idx::<G, Vector<2>>::at::<0>())
        .into_node::<Rational, ()>();
    let seed = Tensor::new([[q(1, 2), q(1, 3)], [q(1, 4), q(1, 5)]]);
    let g = node.data().vjp(&x, &(), &seed).to_dense();
    assert_eq!(
        g.get(Idx::<G, Vector<2>>::at::<0>()).as_slice(),
        &[q(3, 4), q(8, 15)]
    );
}

#[test]
fn ops_in_a_built_graph_with_inferred_shapes() {
    type G = HList![Matrix<2, 3>, Vector<3>];
    let x: TList<f64, G> = tlist![
        Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        Tensor::new([10.0, 20.0, 30.0])
    ];
    // y = flatten(X + broadcast(b)); z = Σ narrow(y, 2..5).
    let (g, (y, z)) = GraphData::<f64, (), G, _>::build_with(|b| {
        let (xm, bias) = (b.input::<0>(), b.input::<1>());
        let (b, bb) = b.push(|c| ops::broadcast_to::<Matrix<2, 3>, _, _>(c.idx(bias)));
        let (b, s) = b.push(|c| ops::add(c.idx(xm), c.idx(bb)));
        let (b, y) = b.push(|c| ops::flatten(c.idx(s)));
        let (b, n) = b.push(|c| ops::narrow::<0, 2, 3, _, _>(c.idx(y)));
        let (b, z) = b.push(|c| ops::sum(c.idx(n)));
        let handles = (b.idx(y), b.idx(z));
        (b, handles)
    });
    let out = g.eval(x.clone(), &());
    assert_eq!(out.get(y).as_slice(), &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
    assert_eq!(out.get(z).as_slice(), &[33.0 + 14.0 + 25.0]);
    let grad = g.backprop_ctx(x, &(), TList::single(z, Tensor::new(1.0)));
    let grad = grad.into_tensors();
    // dz/dX: 1 at the entries 2, 3, 4 of the flattened matrix; dz/db: their column counts.
    assert_eq!(grad.head.as_slice(), &[0.0, 0.0, 1.0, 1.0, 1.0, 0.0]);
    assert_eq!(grad.tail.head.as_slice(), &[1.0, 1.0, 1.0]);
}

#[test]
fn reshape_and_broadcast_targets_inferred_from_the_expected_shape() {
    type G = HList![Vector<6>, Vector<2>];
    let x: TList<f64, G> = tlist![
        Tensor::new([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        Tensor::new([0.5, -0.5])
    ];
    let (g, (m, bb)) = GraphData::<f64, (), G, _>::build_with(|b| {
        let (v, bias) = (b.input::<0>(), b.input::<1>());
        let (b, m): (_, Var<'_, Matrix<3, 2>>) = b.push(|c| ops::reshape(c.idx(v)));
        let (b, bb): (_, Var<'_, Matrix<3, 2>>) = b.push(|c| ops::broadcast_to(c.idx(bias)));
        let handles = (b.idx(m), b.idx(bb));
        (b, handles)
    });
    let out = g.eval(x, &());
    assert_eq!(out.get(m).as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(out.get(bb).as_slice(), &[0.5, -0.5, 0.5, -0.5, 0.5, -0.5]);
}
