//! The entrywise ops run their loops through a second compilation for AVX2 chosen at run time
//! (`src/simd.rs`), and `f32` has the crate's own `exp`. Neither may change a value: every
//! entry of an op's forward and VJP on `f32` must equal, bit for bit, the op's scalar function
//! (`Pointwise::f` / `df`) called entry by entry from this test crate, which is compiled for the
//! target's baseline (no run-time dispatch). On a CPU without AVX2 both sides run the baseline
//! code and the test checks the loops only.

use shapetape::autograd::Graph;
use shapetape::ops::{self, Pointwise};
use shapetape::prelude::*;

/// Odd, above the inline buffer and not a multiple of any vector width.
const N: usize = 1023;
type V = Vector<N>;
type G = HList![V];
type Ctx = HList![V, V];

/// Deterministic arguments: special values, subnormals, the overflow and underflow ranges of
/// `exp`, and a spread of ordinary values of both signs.
fn arguments() -> Vec<f32> {
    let mut xs = vec![
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.0,
        -0.0,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::MAX,
        f32::MIN,
        88.72283,
        88.72284,
        -87.5,
        -103.9,
        -104.5,
        1e-30,
        -1e-30,
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    while xs.len() < N {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (state >> 40) as f32 / (1u64 << 24) as f32; // [0, 1)
        let scale = [1.0f32, 4.0, 20.0, 110.0][(state >> 20) as usize % 4];
        xs.push((2.0 * u - 1.0) * scale);
    }
    xs
}

/// Equal as IEEE values, with every NaN equal to every NaN (±0 are equal: the engine may add a
/// zero seed).
fn same(a: f32, b: f32) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Forward and VJP of the one-node graph `y = op(x)` against `f` and `δ·f′` entry by entry.
fn check<F: Pointwise<f32>>(name: &str, f: F, g: Graph<f32, (), G, HList![V]>) {
    let xs = arguments();
    let ds: Vec<f32> = xs.iter().map(|x| 0.75 - x * 0.5).collect();
    let x: TList<f32, G> = tlist![Tensor::try_from_vec(xs.clone()).expect("N entries")];
    let ctx = g.eval(x.clone(), &());
    let y = ctx.get(Idx::<Ctx, V>::at::<1>()).as_slice().to_vec();
    let seed: TList<f32, Ctx> = tlist![
        Tensor::fill(0.0),
        Tensor::try_from_vec(ds.clone()).expect("N entries")
    ];
    let grad = g.backprop_ctx(x, &(), seed);
    let gx = grad.get(Idx::<G, V>::at::<0>()).as_slice().to_vec();
    for (i, &xi) in xs.iter().enumerate() {
        let (want_y, want_g) = (f.f(xi), ds[i] * f.df(xi));
        assert!(
            same(y[i], want_y),
            "{name}({xi:e}): op {:e}, scalar {want_y:e}",
            y[i]
        );
        assert!(
            same(gx[i], want_g),
            "{name}'s VJP at {xi:e}: op {:e}, scalar {want_g:e}",
            gx[i]
        );
    }
}

macro_rules! one_node {
    ($op:expr) => {
        Graph::<f32, (), G, HNil>::nil().snoc($op(Idx::<G, V>::at::<0>()))
    };
}

#[test]
fn entrywise_ops_equal_their_scalar_functions_bit_for_bit() {
    check("exp", ops::ExpFn, one_node!(ops::exp));
    check("sigmoid", ops::SigmoidFn, one_node!(ops::sigmoid));
    check("tanh", ops::TanhFn, one_node!(ops::tanh));
    check("softplus", ops::SoftplusFn, one_node!(ops::softplus));
    check("gelu", ops::GeluFn, one_node!(ops::gelu));
    check("silu", ops::SiluFn, one_node!(ops::silu));
}

/// The crate's `f32` `exp` against the platform's on ordinary arguments: at most one ulp apart
/// (each is within about an ulp of `eˣ`), so a broken reduction or polynomial cannot pass.
#[test]
fn f32_exp_stays_within_an_ulp_of_the_platform() {
    for x in arguments().into_iter().filter(|x| x.abs() < 80.0) {
        let (a, b) = (<f32 as Real>::exp(x), x.exp());
        let ulps = (a.to_bits() as i64 - b.to_bits() as i64).abs();
        assert!(ulps <= 1, "exp({x:e}): {a:e} vs platform {b:e}");
    }
}
