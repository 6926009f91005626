//! Convolution and pooling against hand-computed values: forward, JVP and VJP of `conv2d`,
//! `conv1d`, `max_pool2d`, `avg_pool2d`, `adaptive_avg_pool2d` and `global_avg_pool2d` on small
//! tensors whose results are worked out in the comments, a direct-loop reference for convolutions
//! with every parameter at once, and the computed output shapes checked as types.
//!
//! The laws (adjointness, exactly over ℚ; gradcheck; certified bounds) are run by
//! `tests/harness.rs`; PyTorch's values by `tests/torch_oracle.rs`.

use shapetape::autograd::{Eval, Op, OpNode};
use shapetape::ops::{self, AdaptiveSize, Conv1dParams, Conv2dParams, ConvSpec, PoolSpec};
use shapetape::prelude::*;

/// `y = op(x)`, the JVP at `dx` and the VJP of `seed` (dense over the inputs), in f64.
fn run<G: ShapeList, K: Eval<f64>>(
    op: OpNode<G, K>,
    x: &[&[f64]],
    dx: &[&[f64]],
    seed: &[f64],
) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    let x = TList::<f64, G>::try_from_flat(x.concat()).unwrap();
    let dx = TList::<f64, G>::try_from_flat(dx.concat()).unwrap();
    let seed = Tensor::<f64, K::Out>::try_from_slice(seed).unwrap();
    let node = op.into_node::<f64, ()>();
    let y = node.data().forward(&x, &()).as_slice().to_vec();
    let dy = node.data().jvp(&x, &dx, &()).as_slice().to_vec();
    let g = node.data().vjp(&x, &(), &seed).to_dense();
    (y, dy, g.slot_slices().map(<[f64]>::to_vec).collect())
}

/// The output dimensions of an op.
fn out_dims<G, K: Op>(_: &OpNode<G, K>) -> Vec<usize> {
    K::Out::dims().to_vec()
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

type X4<const N: usize, const C: usize, const H: usize, const W: usize> =
    Dim<N, Dim<C, Dim<H, Vector<W>>>>;

#[test]
fn output_shapes_are_the_shapes_users_write() {
    type P = Conv2dParams<2, 2, 1, 1, 1, 1, 1>;
    same_type::<<P as ConvSpec<X4<1, 1, 3, 3>, X4<1, 1, 2, 2>>>::Out, X4<1, 1, 2, 2>>();
    same_type::<<P as ConvSpec<X4<1, 1, 3, 3>, X4<1, 1, 2, 2>>>::Bias, Vector<1>>();
    // 28×28, 5×5, padding 2: LeNet's first layer keeps 28×28.
    type Same = Conv2dParams<1, 1, 2, 2, 1, 1, 1>;
    same_type::<<Same as ConvSpec<X4<64, 1, 28, 28>, X4<6, 1, 5, 5>>>::Out, X4<64, 6, 28, 28>>();
    // Rectangular: (7 + 2·0 − 2·(3 − 1) − 1)/1 + 1 = 3 rows, (9 + 2·2 − 1·(2 − 1) − 1)/3 + 1 = 4.
    type Rect = Conv2dParams<1, 3, 0, 2, 2, 1, 2>;
    same_type::<<Rect as ConvSpec<X4<2, 4, 7, 9>, X4<6, 2, 3, 2>>>::Out, X4<2, 6, 3, 4>>();
    // 1-d: (10 + 2 − 2·2 − 1)/2 + 1 = 4.
    type P1 = Conv1dParams<2, 1, 2, 1>;
    same_type::<
        <P1 as ConvSpec<Dim<3, Matrix<2, 10>>, Dim<5, Matrix<2, 3>>>>::Out,
        Dim<3, Matrix<5, 4>>,
    >();
    // Pooling: 3×3 windows, stride 2, padding 1 over 7×8: (7 + 2 − 3)/2 + 1 = 4, (8 − 1)/2 + 1 = 4.
    type Q = ops::Pool2dParams<3, 3, 2, 2, 1, 1>;
    same_type::<<Q as PoolSpec<X4<1, 2, 7, 8>>>::Out, X4<1, 2, 4, 4>>();
    assert_eq!(
        <Rect as ConvSpec<X4<2, 4, 7, 9>, X4<6, 2, 3, 2>>>::GEOMETRY.out_size,
        [3, 4]
    );
}

/// A 3×3 input, a 2×2 kernel, stride 2, padding 1: the padded input is 5×5 and the four windows
/// start at padded (0, 0), (0, 2), (2, 0), (2, 2).
#[test]
fn conv2d_stride_2_padding_1() {
    type G = HList![X4<1, 1, 3, 3>, X4<1, 1, 2, 2>, Vector<1>];
    let (x, w, b) = (
        Idx::<G, X4<1, 1, 3, 3>>::at::<0>(),
        Idx::<G, X4<1, 1, 2, 2>>::at::<1>(),
        Idx::<G, Vector<1>>::at::<2>(),
    );
    let op = ops::conv2d(x, w, b, Conv2dParams::new().stride::<2>().padding::<1>());
    assert_eq!(out_dims(&op), [1, 1, 2, 2]);
    assert_eq!(op.op().name(), "conv2d");
    let xs = iota(9); // [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    let ws = [1.0, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
    // dx = ones, dw = the unit at tap (1, 1), db = 1.
    let (dxs, dws) = ([1.0; 9], [0.0, 0.0, 0.0, 1.0]);
    let seed = [1.0, -1.0, 2.0, 0.5];
    let (y, dy, g) = run(op, &[&xs, &ws, &[0.5]], &[&dxs, &dws, &[1.0]], &seed);
    // Windows (padding 0): [[0, 0], [0, 1]] → 4·1; [[0, 0], [2, 3]] → 3·2 + 4·3 = 18;
    // [[0, 4], [0, 7]] → 2·4 + 4·7 = 36; [[5, 6], [8, 9]] → 5 + 12 + 24 + 36 = 77; plus 0.5.
    assert_eq!(y, [4.5, 18.5, 36.5, 77.5]);
    // conv(ones, w): the taps inside the input: 4; 3 + 4; 2 + 4; 10. conv(x, dw): the entry at
    // tap (1, 1): 1, 3, 7, 9. Plus db = 1.
    assert_eq!(dy, [6.0, 11.0, 14.0, 20.0]);
    // The windows do not overlap: each input entry gets w[tap]·δ of the one window reading it.
    assert_eq!(g[0], [4.0, -3.0, -4.0, 4.0, 0.5, 1.0, 8.0, 1.5, 2.0]);
    // w̄[tap] = Σ δ · (entry at the tap): (0,0): 5·0.5; (0,1): 4·2 + 6·0.5;
    // (1,0): 2·(−1) + 8·0.5; (1,1): 1·1 + 3·(−1) + 7·2 + 9·0.5.
    assert_eq!(g[1], [2.5, 11.0, 2.0, 16.5]);
    assert_eq!(g[2], [2.5]);
}

/// Two groups: output channels 0, 1 read input channel 0, channels 2, 3 read channel 1.
#[test]
fn conv2d_grouped() {
    type X = X4<1, 2, 1, 3>;
    type W = X4<4, 1, 1, 2>;
    type G = HList![X, W, Vector<4>];
    let (x, w, b) = (
        Idx::<G, X>::at::<0>(),
        Idx::<G, W>::at::<1>(),
        Idx::<G, Vector<4>>::at::<2>(),
    );
    let op = ops::conv2d(x, w, b, Conv2dParams::new().groups::<2>());
    assert_eq!(out_dims(&op), [1, 4, 1, 2]);
    let xs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let ws = [1.0, 1.0, 1.0, -1.0, 2.0, 0.0, 0.0, 3.0];
    let zeros = [0.0; 6];
    let (y, _, g) = run(
        op,
        &[&xs, &ws, &[0.0; 4]],
        &[&zeros, &[0.0; 8], &[0.0; 4]],
        &[1.0; 8],
    );
    // [1+2, 2+3], [1−2, 2−3] on channel 0; [2·4, 2·5], [3·5, 3·6] on channel 1.
    assert_eq!(y, [3.0, 5.0, -1.0, -1.0, 8.0, 10.0, 15.0, 18.0]);
    // x̄ (δ = 1): channel 0 from w0 + w1 = [2, 0] at both windows: [2, 0 + 2, 0];
    // channel 1 from w2 + w3 = [2, 3]: [2, 3 + 2, 3].
    assert_eq!(g[0], [2.0, 2.0, 0.0, 2.0, 5.0, 3.0]);
    // w̄[o, t] = Σ_windows x[ch(o), j + t]: channel 0: [1 + 2, 2 + 3]; channel 1: [4 + 5, 5 + 6].
    assert_eq!(g[1], [3.0, 5.0, 3.0, 5.0, 9.0, 11.0, 9.0, 11.0]);
    assert_eq!(g[2], [2.0; 4]);
}

/// Dilation 2: a 2×2 kernel reads the corners of a 3×3 block.
#[test]
fn conv2d_dilated() {
    type G = HList![X4<1, 1, 4, 4>, X4<1, 1, 2, 2>, Vector<1>];
    let (x, w, b) = (
        Idx::<G, X4<1, 1, 4, 4>>::at::<0>(),
        Idx::<G, X4<1, 1, 2, 2>>::at::<1>(),
        Idx::<G, Vector<1>>::at::<2>(),
    );
    let op = ops::conv2d(x, w, b, Conv2dParams::new().dilation::<2>());
    assert_eq!(out_dims(&op), [1, 1, 2, 2]);
    let xs = iota(16); // x[i][j] = 4i + j + 1
    let ws = [1.0, 2.0, 3.0, 4.0];
    let (y, _, g) = run(
        op,
        &[&xs, &ws, &[0.0]],
        &[&[0.0; 16], &[0.0; 4], &[0.0]],
        &[1.0, 0.0, 0.0, 0.0],
    );
    // (0,0): 1·x00 + 2·x02 + 3·x20 + 4·x22 = 1 + 6 + 27 + 44; each step right adds Σw = 10,
    // each step down 40.
    assert_eq!(y, [78.0, 88.0, 118.0, 128.0]);
    let mut xbar = [0.0; 16];
    (xbar[0], xbar[2], xbar[8], xbar[10]) = (1.0, 2.0, 3.0, 4.0);
    assert_eq!(g[0], xbar);
    assert_eq!(g[1], [1.0, 3.0, 9.0, 11.0]);
}

/// `conv1d` with stride 2 and padding 1: the padded input is `[0, 1, 2, 3, 4, 5, 0]`.
#[test]
fn conv1d_stride_2_padding_1() {
    type X = Dim<1, Matrix<1, 5>>;
    type W = Dim<1, Matrix<1, 3>>;
    type G = HList![X, W, Vector<1>];
    let (x, w, b) = (
        Idx::<G, X>::at::<0>(),
        Idx::<G, W>::at::<1>(),
        Idx::<G, Vector<1>>::at::<2>(),
    );
    let op = ops::conv1d(x, w, b, Conv1dParams::new().stride::<2>().padding::<1>());
    assert_eq!(op.op().name(), "conv1d");
    assert_eq!(out_dims(&op), [1, 1, 3]);
    let (xs, ws) = (iota(5), [1.0, 0.0, -1.0]);
    let (y, dy, g) = run(
        op,
        &[&xs, &ws, &[1.0]],
        &[&[0.0; 5], &[0.0, 1.0, 0.0], &[0.0]],
        &[1.0, 2.0, 3.0],
    );
    // [0, 1, 2] → −2, [2, 3, 4] → −2, [4, 5, 0] → 4; plus 1.
    assert_eq!(y, [-1.0, -1.0, 5.0]);
    // dw picks the middle tap: 1, 3, 5.
    assert_eq!(dy, [1.0, 3.0, 5.0]);
    // x̄: window 0 gives −1·1 to x1; window 1 gives 1·2 to x1 and −1·2 to x3; window 2 gives
    // 1·3 to x3.
    assert_eq!(g[0], [0.0, 1.0, 0.0, 1.0, 0.0]);
    // w̄[t] = Σ_o δ_o · (padded entry): t0: 0·1 + 2·2 + 4·3; t1: 1 + 3·2 + 5·3; t2: 2 + 4·2 + 0.
    assert_eq!(g[1], [16.0, 22.0, 10.0]);
    assert_eq!(g[2], [6.0]);
}

/// `len` small integers in `−m/2 … m/2` from a multiplicative hash of the index (no short
/// period, so that no sum cancels by the structure of the data).
fn hashed_ints(len: usize, m: u64) -> Vec<f64> {
    (0..len)
        .map(|i| ((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as f64 % m as f64)
        .map(|v| v - (m / 2) as f64)
        .collect()
}

/// The sizes of a convolution for [`direct_conv2d`]: input `[n, c, h, w]`, `o` output
/// channels in `groups` groups, kernel `k`, and stride, padding and dilation (height, width).
struct Direct {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    groups: usize,
    k: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
}

/// The convolution as a direct six-fold loop written here (no im2col, no gemm): the output,
/// the JVP at `(dx, dw, db)` and the VJP `(x̄, w̄, b̄)` of `seed`, in this order.
fn direct_conv2d(
    d: &Direct,
    (x, w, b): (&[f64], &[f64], &[f64]),
    (dx, dw, db): (&[f64], &[f64], &[f64]),
    seed: &[f64],
) -> [Vec<f64>; 5] {
    let out_len = |i: usize| {
        ([d.h, d.w][i] + 2 * d.padding[i] - d.dilation[i] * (d.k[i] - 1) - 1) / d.stride[i] + 1
    };
    let (oh, ow, cg) = (out_len(0), out_len(1), d.c / d.groups);
    let mut r = [
        vec![0.0; d.n * d.o * oh * ow],
        vec![0.0; d.n * d.o * oh * ow],
        vec![0.0; x.len()],
        vec![0.0; w.len()],
        vec![0.0; d.o],
    ];
    for n in 0..d.n {
        for o in 0..d.o {
            let grp = o / (d.o / d.groups);
            for i in 0..oh {
                for j in 0..ow {
                    let out = ((n * d.o + o) * oh + i) * ow + j;
                    let (mut s, mut ds) = (b[o], db[o]);
                    for c in 0..cg {
                        for a in 0..d.k[0] {
                            for bb in 0..d.k[1] {
                                let iy = (i * d.stride[0] + a * d.dilation[0]) as isize
                                    - d.padding[0] as isize;
                                let ix = (j * d.stride[1] + bb * d.dilation[1]) as isize
                                    - d.padding[1] as isize;
                                if !((0..d.h as isize).contains(&iy)
                                    && (0..d.w as isize).contains(&ix))
                                {
                                    continue;
                                }
                                let p = ((n * d.c + grp * cg + c) * d.h + iy as usize) * d.w
                                    + ix as usize;
                                let wi = ((o * cg + c) * d.k[0] + a) * d.k[1] + bb;
                                s += w[wi] * x[p];
                                ds += w[wi] * dx[p] + dw[wi] * x[p];
                                r[2][p] += w[wi] * seed[out];
                                r[3][wi] += x[p] * seed[out];
                            }
                        }
                    }
                    r[0][out] = s;
                    r[1][out] = ds;
                    r[4][o] += seed[out];
                }
            }
        }
    }
    r
}

/// Runs `op` (a conv2d of the sizes `d`) on hashed integer data, with biases `b` and a JVP
/// tangent and a seed of hashed integers, and asserts that its output, JVP and VJP equal
/// [`direct_conv2d`]'s exactly (every sum is exact in `f64`, in any order).
fn assert_matches_direct<G: ShapeList, K: Eval<f64>>(op: OpNode<G, K>, d: &Direct, b: &[f64]) {
    let cg = d.c / d.groups;
    let x = hashed_ints(d.n * d.c * d.h * d.w, 9);
    let w = hashed_ints(d.o * cg * d.k[0] * d.k[1], 5);
    let (dx, dw, db) = (
        hashed_ints(x.len(), 4),
        hashed_ints(w.len(), 3),
        hashed_ints(d.o, 6),
    );
    let seed = hashed_ints(out_dims(&op).iter().product(), 7);
    let (y, dy, g) = run(op, &[&x, &w, b], &[&dx, &dw, &db], &seed);
    let [y_ref, dy_ref, xbar, wbar, bbar] = direct_conv2d(d, (&x, &w, b), (&dx, &dw, &db), &seed);
    assert_eq!(y, y_ref);
    assert_eq!(dy, dy_ref);
    assert_eq!(g[0], xbar);
    assert_eq!(g[1], wbar);
    assert_eq!(g[2], bbar);
}

/// The im2col implementation against a direct six-fold loop written here, with stride,
/// padding, dilation and groups at once, on integer data (every sum exact in f64).
#[test]
fn conv2d_matches_a_direct_loop() {
    const N: usize = 2;
    const C: usize = 4;
    const H: usize = 6;
    const W: usize = 7;
    const O: usize = 6;
    const GR: usize = 2;
    const CG: usize = C / GR;
    const KH: usize = 3;
    const KW: usize = 2;
    type X = X4<N, C, H, W>;
    type K = X4<O, CG, KH, KW>;
    type G = HList![X, K, Vector<O>];
    let (x, w, b) = (
        Idx::<G, X>::at::<0>(),
        Idx::<G, K>::at::<1>(),
        Idx::<G, Vector<O>>::at::<2>(),
    );
    // stride (2, 1), padding (1, 2), dilation (1, 2): OH = (6 + 2 − 2 − 1)/2 + 1 = 3,
    // OW = (7 + 4 − 2 − 1)/1 + 1 = 9.
    let params = Conv2dParams::new()
        .stride_hw::<2, 1>()
        .padding_hw::<1, 2>()
        .dilation_hw::<1, 2>()
        .groups::<GR>();
    let op = ops::conv2d(x, w, b, params);
    let (oh, ow) = (3, 9);
    assert_eq!(out_dims(&op), [N, O, oh, ow]);
    let xs = hashed_ints(N * C * H * W, 9);
    let ws = hashed_ints(O * CG * KH * KW, 5);
    let bs: Vec<f64> = (0..O).map(|i| i as f64).collect();
    let seed = hashed_ints(N * O * oh * ow, 7);
    let zeros = (vec![0.0; xs.len()], vec![0.0; ws.len()], [0.0; O]);
    let (y, _, g) = run(op, &[&xs, &ws, &bs], &[&zeros.0, &zeros.1, &zeros.2], &seed);
    let d = Direct {
        n: N,
        c: C,
        h: H,
        w: W,
        o: O,
        groups: GR,
        k: [KH, KW],
        stride: [2, 1],
        padding: [1, 2],
        dilation: [1, 2],
    };
    let [y_ref, _, xbar, wbar, bbar] =
        direct_conv2d(&d, (&xs, &ws, &bs), (&zeros.0, &zeros.1, &zeros.2), &seed);
    assert_eq!(y, y_ref);
    assert_eq!(g[0], xbar);
    assert_eq!(g[1], wbar);
    assert_eq!(g[2], bbar);
}

/// Products large enough for the blocked kernel (`m·k·n ≥ 4096` for every sample and group:
/// `Og·(Cg·kH·kW)·(OH·OW) = 4·18·144`), so that the forward pass, the weight gradient summed
/// over the samples and the input gradient run through the per-sample gemms of the `f64`
/// kernel; on integer data every sum is exact in any order, so the result must equal a direct
/// loop written here (stride 1, padding 1, two groups; `JVP` at `(dx, dw, db)` too).
#[test]
fn conv2d_blocked_kernel_matches_a_direct_loop() {
    const N: usize = 3;
    const C: usize = 4;
    const H: usize = 12;
    const O: usize = 8;
    const GR: usize = 2;
    const CG: usize = C / GR;
    const KS: usize = 3;
    type X = X4<N, C, H, H>;
    type K = X4<O, CG, KS, KS>;
    type G = HList![X, K, Vector<O>];
    let (x, w, b) = (
        Idx::<G, X>::at::<0>(),
        Idx::<G, K>::at::<1>(),
        Idx::<G, Vector<O>>::at::<2>(),
    );
    let op = ops::conv2d(x, w, b, Conv2dParams::new().padding::<1>().groups::<GR>());
    let oh = H; // (12 + 2 − 3)/1 + 1
    assert_eq!(out_dims(&op), [N, O, oh, oh]);
    let bs: Vec<f64> = (0..O).map(|i| i as f64 - 3.0).collect();
    let d = Direct {
        n: N,
        c: C,
        h: H,
        w: H,
        o: O,
        groups: GR,
        k: [KS, KS],
        stride: [1, 1],
        padding: [1, 1],
        dilation: [1, 1],
    };
    assert_matches_direct(op, &d, &bs);
}

/// The unpadded path (no padding, stride 1 along the width: the windows are copied row by
/// row and col2im adds rows back) against a direct loop written here: stride (2, 1),
/// dilation (1, 2), three groups and 15 output channels, on integer data (every sum exact in
/// f64, so any summation order of the bias gradient gives the same value). Gemms
/// below and above the blocked kernel's threshold both occur (`Og·Cg·kH·kW·OH·OW = 5·6·4·16`).
#[test]
fn conv2d_unpadded_matches_a_direct_loop() {
    const N: usize = 2;
    const C: usize = 6;
    const H: usize = 9;
    const W: usize = 7;
    const O: usize = 15;
    const GR: usize = 3;
    const CG: usize = C / GR;
    const KH: usize = 2;
    const KW: usize = 3;
    type X = X4<N, C, H, W>;
    type K = X4<O, CG, KH, KW>;
    type G = HList![X, K, Vector<O>];
    let (x, w, b) = (
        Idx::<G, X>::at::<0>(),
        Idx::<G, K>::at::<1>(),
        Idx::<G, Vector<O>>::at::<2>(),
    );
    // OH = (9 − 1·(2 − 1) − 1)/2 + 1 = 4, OW = (7 − 2·(3 − 1) − 1)/1 + 1 = 3.
    let params = Conv2dParams::new()
        .stride_hw::<2, 1>()
        .dilation_hw::<1, 2>()
        .groups::<GR>();
    let op = ops::conv2d(x, w, b, params);
    let (oh, ow) = (4, 3);
    assert_eq!(out_dims(&op), [N, O, oh, ow]);
    let bs: Vec<f64> = (0..O).map(|i| i as f64 - 7.0).collect();
    let d = Direct {
        n: N,
        c: C,
        h: H,
        w: W,
        o: O,
        groups: GR,
        k: [KH, KW],
        stride: [2, 1],
        padding: [0, 0],
        dilation: [1, 2],
    };
    assert_matches_direct(op, &d, &bs);
}

/// A tie in a window routes the gradient to its first maximal entry (row-major).
#[test]
fn max_pool2d_ties_go_to_the_first_entry() {
    type X = X4<1, 1, 2, 4>;
    type G = HList![X];
    let x = Idx::<G, X>::at::<0>();
    let op = ops::max_pool2d(x, ops::pool_window::<2>());
    assert_eq!(op.op().name(), "max_pool2d");
    assert_eq!(out_dims(&op), [1, 1, 1, 2]);
    // [[1, 3, 2, 2], [3, 0, 2, 2]]: window 0 has 3 at (0, 1) and (1, 0); window 1 is all 2.
    let xs = [1.0, 3.0, 2.0, 2.0, 3.0, 0.0, 2.0, 2.0];
    let (y, dy, g) = run(op, &[&xs], &[&iota(8)], &[1.0, 10.0]);
    assert_eq!(y, [3.0, 2.0]);
    assert_eq!(dy, [2.0, 3.0]); // the tangents at (0, 1) and (0, 2)
    assert_eq!(g[0], [0.0, 1.0, 10.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
}

/// The padding of max pooling never wins, even against negative entries.
#[test]
fn max_pool2d_padding_is_minus_infinity() {
    type X = X4<1, 1, 3, 3>;
    type G = HList![X];
    let x = Idx::<G, X>::at::<0>();
    let op = ops::max_pool2d(x, ops::pool_window::<2>().stride::<1>().padding::<1>());
    assert_eq!(out_dims(&op), [1, 1, 4, 4]);
    let xs: Vec<f64> = iota(9).into_iter().map(|v| -v).collect();
    let seed = vec![1.0; 16];
    let (y, _, g) = run(op, &[&xs], &[&[0.0; 9]], &seed);
    #[rustfmt::skip]
    assert_eq!(y, [
        -1.0, -1.0, -2.0, -3.0,
        -1.0, -1.0, -2.0, -3.0,
        -4.0, -4.0, -5.0, -6.0,
        -7.0, -7.0, -8.0, -9.0,
    ]);
    // Each output's gradient goes to the entry it took: −1 four times, −2, −3, −4 twice each, …
    assert_eq!(g[0], [4.0, 2.0, 2.0, 2.0, 1.0, 1.0, 2.0, 1.0, 1.0]);
}

/// Average pooling counts the padded zeros (`count_include_pad=True`).
#[test]
fn avg_pool2d_counts_the_padding() {
    type X = X4<1, 1, 2, 2>;
    type G = HList![X];
    let x = Idx::<G, X>::at::<0>();
    let op = ops::avg_pool2d(x, ops::pool_window::<2>().padding::<1>());
    assert_eq!(op.op().name(), "avg_pool2d");
    assert_eq!(out_dims(&op), [1, 1, 2, 2]);
    let (y, dy, g) = run(
        op,
        &[&[1.0, 2.0, 3.0, 4.0]],
        &[&[4.0; 4]],
        &[1.0, 2.0, 3.0, 4.0],
    );
    // Each window holds one entry and three zeros of padding.
    assert_eq!(y, [0.25, 0.5, 0.75, 1.0]);
    assert_eq!(dy, [1.0; 4]);
    assert_eq!(g[0], [0.25, 0.5, 0.75, 1.0]);
}

/// Overlapping 3×3 windows with stride 2 and padding 1 over 3×3: (3 + 2 − 3)/2 + 1 = 2.
#[test]
fn avg_pool2d_overlapping_windows() {
    type X = X4<1, 1, 3, 3>;
    type G = HList![X];
    let x = Idx::<G, X>::at::<0>();
    let op = ops::avg_pool2d(x, ops::pool_window::<3>().stride::<2>().padding::<1>());
    let (y, _, g) = run(op, &[&iota(9)], &[&[0.0; 9]], &[9.0, 18.0, 27.0, 36.0]);
    // Windows: rows/cols {0, 1} × {0, 1}: 1 + 2 + 4 + 5 = 12; {0, 1} × {1, 2}: 16;
    // {1, 2} × {0, 1}: 24; {1, 2} × {1, 2}: 28; each over 9.
    assert_eq!(y, [12.0 / 9.0, 16.0 / 9.0, 24.0 / 9.0, 28.0 / 9.0]);
    // x̄ = Σ δ/9 over the windows holding each entry: the centre is in all four.
    assert_eq!(g[0], [1.0, 3.0, 2.0, 4.0, 10.0, 6.0, 3.0, 7.0, 4.0]);
}

/// Adaptive pooling of 5 columns to 3: PyTorch's regions [0, 2), [1, 4), [3, 5) overlap.
#[test]
fn adaptive_avg_pool2d_regions() {
    type X = X4<1, 1, 1, 5>;
    type G = HList![X];
    let x = Idx::<G, X>::at::<0>();
    let op = ops::adaptive_avg_pool2d(x, AdaptiveSize::<1, 3>);
    assert_eq!(op.op().name(), "adaptive_avg_pool2d");
    assert_eq!(out_dims(&op), [1, 1, 1, 3]);
    let (y, _, g) = run(op, &[&iota(5)], &[&[0.0; 5]], &[6.0, 6.0, 6.0]);
    assert_eq!(y, [1.5, 3.0, 4.5]);
    // δ/2, δ/2 + δ/3, δ/3, δ/3 + δ/2, δ/2 with δ = 6.
    assert_eq!(g[0], [3.0, 5.0, 2.0, 5.0, 3.0]);
}

#[test]
fn global_avg_pool2d_is_a_matrix_of_channel_means() {
    type X = X4<2, 3, 2, 2>;
    type G = HList![X];
    let x = Idx::<G, X>::at::<0>();
    let op = ops::global_avg_pool2d(x);
    assert_eq!(op.op().name(), "global_avg_pool2d");
    let _: &ops::AdaptiveAvgPool2d<X, Matrix<2, 3>> = op.op();
    let (y, dy, g) = run(
        op,
        &[&iota(24)],
        &[&[2.0; 24]],
        &[4.0, 8.0, 0.0, 0.0, 0.0, -4.0],
    );
    // Channel k of the 6 holds 4k + 1 … 4k + 4: mean 4k + 2.5.
    assert_eq!(y, [2.5, 6.5, 10.5, 14.5, 18.5, 22.5]);
    assert_eq!(dy, [2.0; 6]);
    let mut expect = vec![0.0; 24];
    expect[..4].fill(1.0);
    expect[4..8].fill(2.0);
    expect[20..].fill(-1.0);
    assert_eq!(g[0], expect);
}

/// A certified LeNet-like block (conv → relu → max pool → global average) in a `RevGraph`:
/// the spec values and gradients at a point inside the input boxes lie within the certified
/// bounds, and the conv layer's closed-form bounds are finite and compared with the interval
/// enclosure of the same op.
#[test]
fn a_certified_conv_block() {
    use shapetape::approx::{EList, Interval, RevGraph, approx_ctx};
    use shapetape::autograd::GraphData;
    type X = X4<2, 2, 6, 6>;
    type W = X4<4, 1, 3, 3>;
    type G = HList![X, W, Vector<4>];
    let params = Conv2dParams::new().padding::<1>().groups::<2>();
    let cert = RevGraph::<f32, f64, G, _>::build(|b| {
        let hlist_pat![x, w, bias] = b.inputs();
        let (b, y) = b.push(|c| ops::conv2d(c.idx(x), c.idx(w), c.idx(bias), params));
        let (b, r) = b.push(|c| ops::relu(c.idx(y)));
        let (b, p) = b.push(|c| ops::max_pool2d(c.idx(r), ops::pool_window::<2>()));
        let (b, _) = b.push(|c| ops::global_avg_pool2d(c.idx(p)));
        b
    });
    let mut rng = shapetape::rng::SplitMix64::new(11);
    let x32: TList<f32, G> = TList::zero().map(|_: &f32| rng.uniform(-1.0, 1.0) as f32);
    let e_in = vec![1e-4, 1e-5, 0.0];
    let (y, eps) = cert.eval_certified(EList::try_from_vec(e_in.clone()).unwrap(), x32.clone());
    assert!(eps.as_slice().iter().all(|e| e.is_finite()));
    // A spec point inside the boxes: every input moved by a fraction of its bound.
    let xs = x32.clone().map(|&v| f64::from(v));
    let mut k = 0usize;
    let mut moved = Vec::new();
    for (slot, &e) in xs.slot_slices().zip(&e_in) {
        moved.extend(slot.iter().map(|&v| {
            k += 1;
            v + e * ((k % 5) as f64 - 2.0) / 4.0 // within e/2, whatever the rounding
        }));
    }
    let xs = TList::<f64, G>::try_from_flat(moved).unwrap();
    let spec = cert.eval_spec(xs.clone());
    assert!(approx_ctx(&spec, &y, &eps));
    // A seed on the last node only (its 8 entries).
    let total: usize = y.slot_slices().map(<[f32]>::len).sum();
    let mut k = 0usize;
    let seed32 = y.clone().map(|_| {
        k += 1;
        if k > total - 8 {
            (k as f32 - total as f32 + 4.5) / 4.0
        } else {
            0.0
        }
    });
    let e_seed = EList::try_from_vec(vec![0.0; eps.as_slice().len()]).unwrap();
    let (grad, g_eps) = cert.backprop_certified(
        EList::try_from_vec(e_in.clone()).unwrap(),
        x32.clone(),
        e_seed,
        seed32.clone(),
    );
    let spec_grad = cert.backprop_spec(xs, seed32.map(|&v| f64::from(v)));
    assert!(approx_ctx(&spec_grad, &grad, &g_eps));
    assert!(g_eps.as_slice().iter().all(|e| e.is_finite()));

    // The conv layer alone: closed form against the enclosure of the same op on the boxes.
    let conv = RevGraph::<f32, f64, G, _>::build(|b| {
        let hlist_pat![x, w, bias] = b.inputs();
        b.push(|c| ops::conv2d(c.idx(x), c.idx(w), c.idx(bias), params))
            .0
    });
    let (y, eps) = conv.eval_certified(EList::try_from_vec(e_in.clone()).unwrap(), x32.clone());
    let bound = *eps.as_slice().last().unwrap();
    let enc = GraphData::<Interval, (), G, _>::build(|b| {
        let hlist_pat![x, w, bias] = b.inputs();
        b.push(|c| ops::conv2d(c.idx(x), c.idx(w), c.idx(bias), params))
            .0
    });
    let boxes: Vec<Interval> = x32
        .slot_slices()
        .zip(&e_in)
        .flat_map(|(s, &e)| s.iter().map(move |&v| Interval::around(f64::from(v), e)))
        .collect();
    let boxes = TList::<Interval, G>::try_from_flat(boxes).unwrap();
    let out = enc.eval(boxes, &());
    let lifted = out
        .slot_slices()
        .last()
        .unwrap()
        .iter()
        .zip(y.slot_slices().last().unwrap())
        .fold(0.0f64, |m, (iv, &v)| {
            m.max(iv.max_distance_from(f64::from(v)))
        });
    eprintln!("conv2d: closed-form bound {bound:.3e}, enclosure {lifted:.3e}");
    // Sound (it covers the input error 1e-4 times Σ|w| ≥ …) and as tight as the enclosure up
    // to a few percent (measured: within 0.5%).
    assert!(bound.is_finite() && bound >= 1e-4);
    assert!(bound <= 1.05 * lifted, "{bound} vs {lifted}");
}

/// A NaN or infinite operand gives `+∞` bounds, never a false finite one: the closed forms of
/// the convolution and the enclosures of the pools.
#[test]
fn non_finite_operands_give_infinite_bounds() {
    use shapetape::approx::{EList, RevGraph};
    type X = X4<1, 1, 4, 4>;
    type W = X4<2, 1, 2, 2>;
    type G = HList![X, W, Vector<2>];
    let cert = RevGraph::<f32, f64, G, _>::build(|b| {
        let hlist_pat![x, w, bias] = b.inputs();
        let (b, _) = b.push(|c| ops::conv2d(c.idx(x), c.idx(w), c.idx(bias), Conv2dParams::new()));
        let (b, _) = b.push(|c| ops::max_pool2d(c.idx(x), ops::pool_window::<2>()));
        let (b, _) = b.push(|c| ops::avg_pool2d(c.idx(x), ops::pool_window::<2>()));
        b
    });
    for bad in [f32::NAN, f32::INFINITY] {
        let mut k = 0;
        let x32: TList<f32, G> = TList::zero().map(|_: &f32| {
            k += 1;
            if k == 6 { bad } else { 0.25 * k as f32 }
        });
        let e_in = EList::try_from_vec(vec![1e-6, 0.0, 0.0]).unwrap();
        let (_, eps) = cert.eval_certified(e_in.clone(), x32.clone());
        assert!(
            eps.as_slice()[3..].iter().all(|&e| e == f64::INFINITY),
            "{bad}: {:?}",
            eps.as_slice()
        );
        let seed = cert.eval_runtime(x32.clone()).map(|_| 1.0f32);
        let e_seed = EList::try_from_vec(vec![0.0; 6]).unwrap();
        let (_, g_eps) = cert.backprop_certified(e_in, x32, e_seed, seed);
        assert!(
            g_eps.as_slice()[..3].iter().all(|&e| e == f64::INFINITY),
            "{bad}: {:?}",
            g_eps.as_slice()
        );
    }
}
