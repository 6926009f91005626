//! Every op of `shapetape::ops`, one by one.
//!
//! For each op:
//!
//! - **forward** against values computed independently here (plain loops and closed forms,
//!   never the op itself), in f64, plus a few hand-computed examples;
//! - **adjointness** `⟨jvp(x, dx), δ⟩ = ⟨dx, vjp(x, δ)⟩` with `check_adjoint`: exactly (`==`)
//!   over `Rational` for the polynomial and piecewise-linear ops, and in f64 within
//!   [`F64_ADJOINT_RTOL`] for the others;
//! - **gradcheck** in f64 (central differences in a random direction, default tolerances) as
//!   a property over random inputs, drawn away from the kinks of `relu` and `safe_log`;
//! - **aliasing**: binary ops with both operands the same slot (`mul(a, a)` has VJP
//!   `2 x ⊙ δ`, `matmul(A, A)` has VJP `δ Aᵀ + Aᵀ δ`, …), checked exactly;
//! - **NaN**: a NaN in any entry an op reads makes its output contain a NaN, and no closure
//!   panics.
//!
//! Every context has an extra `Vector<2>` slot at position 0 that no op reads: the adjointness
//! checks (which draw `dx` on every slot) fail if a VJP writes to a slot its op does not read.
//!
//! Every property runs proptest's default number of cases (256), or `PROPTEST_CASES`.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shapetape::autograd::{GradcheckOptions, Graph, Node, check_adjoint, gradcheck};
use shapetape::ops;
use shapetape::prelude::*;
use shapetape::shape_list::ExpectsContext;

type Law = Result<(), TestCaseError>;

type V2 = Vector<2>;
type V3 = Vector<3>;
type M23 = Matrix<2, 3>;
type M32 = Matrix<3, 2>;
type M33 = Matrix<3, 3>;
type M34 = Matrix<3, 4>;
type M24 = Matrix<2, 4>;
type M43 = Matrix<4, 3>;
type M42 = Matrix<4, 2>;

/// One operand (slot 1) after the unread slot 0.
type Un = HList![V2, M23];
/// Two operands of the same shape (slots 1, 2).
type Bin = HList![V2, M23, M23];
/// `matvec(W, x)`: `W: 2×3` at 1, `x: 3` at 2.
type Mv = HList![V2, M23, V3];
/// `matmul(A, B)`: `A: 2×3` at 1, `B: 3×4` at 2.
type Mm = HList![V2, M23, M34];
/// `linear(W, x, b)`: `W: 2×3` at 1, `x: 3` at 2, `b: 2` at 3.
type Lin = HList![V2, M23, V3, V2];
/// `linear_batch(W, X, b)`: `W: 2×3` at 1, `X: 4×3` at 2, `b: 2` at 3.
type Lb = HList![V2, M23, M43, V2];
/// Square operands for aliasing: `x: 3` at 1, `A: 3×3` at 2.
type Sq = HList![V2, V3, M33];

/// Adjointness in f64: `|lhs − rhs| ≤ F64_ADJOINT_RTOL · scale`, where the scale is the larger
/// of `check_adjoint`'s magnitude `max(⟨|jvp|, |δ|⟩, ⟨|dx|, |vjp|⟩)` and `‖dx‖_∞ ‖δ‖₁` (softmax
/// and log-softmax subtract `⟨p, dx⟩` from `dx`, so their rounding error is relative to `dx`
/// rather than to the result). A single op rounds a handful of times per entry, so the
/// discrepancy is a few `ε = 2.2·10⁻¹⁶`; 10⁻¹³ leaves a margin of about 100.
const F64_ADJOINT_RTOL: f64 = 1e-13;

/// The clamp point of `safe_log` in these tests.
const EPS: f64 = 1e-2;

// ---------------------------------------------------------------- strategies and helpers

fn q(n: i64, d: i64) -> Rational {
    Rational::new(n.into(), d.into())
}

/// Small rationals `n/d`, `|n| ≤ 9`, `1 ≤ d ≤ 5`, zero often.
fn rational() -> impl Strategy<Value = Rational> {
    prop_oneof![
        1 => Just(q(0, 1)),
        6 => (-9_i64..=9, 1_i64..=5).prop_map(|(n, d)| q(n, d)),
    ]
}

/// Moderate f64 inputs.
fn val() -> impl Strategy<Value = f64> {
    -2.0_f64..2.0
}

/// Tangents and cotangents.
fn unit() -> impl Strategy<Value = f64> {
    -1.0_f64..1.0
}

/// Inputs at distance ≥ 0.1 from relu's kink at 0.
fn off_kink() -> impl Strategy<Value = f64> {
    prop_oneof![0.1_f64..2.0, -2.0_f64..-0.1]
}

/// Inputs of `safe_log` away from its clamp point `EPS`: well above it, or at or below 0
/// (where the clamp is active and the derivative is 0 on both sides).
fn log_input() -> impl Strategy<Value = f64> {
    prop_oneof![0.1_f64..3.0, -2.0_f64..=0.0]
}

fn total_len<G: ShapeList>() -> usize {
    G::layout().iter().map(|l| l.size).sum()
}

fn ctx<A: Element, G: ShapeList>(
    entry: impl Strategy<Value = A>,
) -> impl Strategy<Value = TList<A, G>> {
    proptest::collection::vec(entry, total_len::<G>())
        .prop_map(|flat| TList::try_from_flat(flat).expect("generated with the context's length"))
}

fn tensor<A: Element, S: Shape>(
    entry: impl Strategy<Value = A>,
) -> impl Strategy<Value = Tensor<A, S>> {
    proptest::collection::vec(entry, S::SIZE)
        .prop_map(|flat| Tensor::try_from_vec(flat).expect("generated with the shape's length"))
}

/// The entries of slot `I` of `x`, of shape `S`.
fn slot<A: Element, G: ShapeList, S: Shape>(x: &TList<A, G>, i: Idx<G, S>) -> Vec<A> {
    x.get(i).as_slice().to_vec()
}

fn at<G: ShapeList, S: Shape>(pos: usize) -> Idx<G, S> {
    Idx::try_at(pos).expect("a slot of that shape")
}

fn forward<A: Element, G: ShapeList, T: Shape>(
    node: &Node<A, (), G, T>,
    x: &TList<A, G>,
) -> Vec<A> {
    node.data().forward(x, &()).as_slice().to_vec()
}

/// The dense VJP of `node` at `x` for the cotangent `seed`, slot `pos` (of shape `S`).
fn vjp_at<A: Element, G: ShapeList, T: Shape, S: Shape>(
    node: &Node<A, (), G, T>,
    x: &TList<A, G>,
    seed: &Tensor<A, T>,
    pos: usize,
) -> Vec<A> {
    slot(&node.data().vjp(x, &(), seed).to_dense(), at::<G, S>(pos))
}

/// `|a − b| ≤ tol · (1 + |b|)` entrywise.
fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
}

/// `‖x‖_∞` over every slot.
fn max_abs<G: ShapeList>(x: &TList<f64, G>) -> f64 {
    let mut m = 0.0_f64;
    x.map(|v| m = m.max(v.abs()));
    m
}

/// Both sides of the adjointness law are equal, over `Rational`.
fn law_exact<G: ShapeList, T: Shape>(
    node: &Node<Rational, (), G, T>,
    x: &TList<Rational, G>,
    dx: &TList<Rational, G>,
    seed: &Tensor<Rational, T>,
) -> Law {
    let c = check_adjoint(node.data(), x, dx, &(), seed);
    prop_assert!(c.is_exact(), "{}: {}", node.data().name(), c);
    Ok(())
}

/// The adjointness law within [`F64_ADJOINT_RTOL`], in f64.
fn law_f64<G: ShapeList, T: Shape>(
    node: &Node<f64, (), G, T>,
    x: &TList<f64, G>,
    dx: &TList<f64, G>,
    seed: &Tensor<f64, T>,
) -> Law {
    let c = check_adjoint(node.data(), x, dx, &(), seed);
    let seed_1: f64 = seed.iter().map(|v| v.abs()).sum();
    let scale = c.magnitude.max(max_abs(dx) * seed_1);
    prop_assert!(
        c.abs_error() <= F64_ADJOINT_RTOL * scale,
        "{}: {} (scale {:e})",
        node.data().name(),
        c,
        scale
    );
    Ok(())
}

/// `gradcheck` with default tolerances on the one-node graph of `node`.
fn grad_ok<G: ShapeList, T: Shape>(
    node: Node<f64, (), Cat<G, HNil>, T>,
    x: &TList<f64, G>,
    seed: u64,
) -> Law
where
    Cat<G, HNil>: ExpectsContext<G>,
{
    let name = node.data().name().to_string();
    let g = Graph::<f64, (), G, HNil>::nil().snoc(node);
    let opts = GradcheckOptions {
        seed,
        ..GradcheckOptions::default()
    };
    if let Err(e) = gradcheck(&g, x, &(), &opts) {
        prop_assert!(false, "{}: {}", name, e);
    }
    Ok(())
}

/// The adjointness and gradcheck properties of one op, in a module named after it.
///
/// `laws!(name, G, T, |A| node, f64 inputs, exact)` where `node` builds the op for the scalar
/// type `A`; with `exact`, the law is also checked over `Rational`.
macro_rules! laws {
    ($name:ident, $G:ty, $T:ty, |$A:ident| $node:expr, $input:expr $(, $exact:ident)?) => {
        mod $name {
            use super::*;
            proptest! {
                #[test]
                fn adjoint_f64(
                    x in ctx::<f64, $G>($input),
                    dx in ctx::<f64, $G>(unit()),
                    seed in tensor::<f64, $T>(unit()),
                ) {
                    type $A = f64;
                    law_f64(&$node, &x, &dx, &seed)?;
                }

                #[test]
                fn gradcheck_f64(x in ctx::<f64, $G>($input), s in any::<u64>()) {
                    type $A = f64;
                    grad_ok($node, &x, s)?;
                }
            }
            $(laws!(@$exact $G, $T, |$A| $node);)?
        }
    };
    (@exact $G:ty, $T:ty, |$A:ident| $node:expr) => {
        proptest! {
            #[test]
            fn adjoint_exact(
                x in ctx::<Rational, $G>(rational()),
                dx in ctx::<Rational, $G>(rational()),
                seed in tensor::<Rational, $T>(rational()),
            ) {
                type $A = Rational;
                law_exact(&$node, &x, &dx, &seed)?;
            }
        }
    };
}

fn two<A: Element>() -> A {
    A::from_i64(2)
}

/// `x³`, for `ops::elementwise`.
fn cube<A: Element>(x: A) -> A {
    x.clone() * x.clone() * x
}

/// `3x²`, the derivative of [`cube`].
fn dcube<A: Element>(x: A) -> A {
    A::from_i64(3) * x.clone() * x
}

// ---------------------------------------------------------------- adjointness and gradcheck

laws!(
    add,
    Bin,
    M23,
    |A| ops::add(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    sub,
    Bin,
    M23,
    |A| ops::sub(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    mul,
    Bin,
    M23,
    |A| ops::mul(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    add_aliased,
    Un,
    M23,
    |A| ops::add(at::<Un, M23>(1), at::<Un, M23>(1)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    sub_aliased,
    Un,
    M23,
    |A| ops::sub(at::<Un, M23>(1), at::<Un, M23>(1)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    mul_aliased,
    Un,
    M23,
    |A| ops::mul(at::<Un, M23>(1), at::<Un, M23>(1)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    elementwise_cube,
    Un,
    M23,
    |A| ops::elementwise(at::<Un, M23>(1), "cube", cube::<A>, dcube::<A>).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    neg,
    Un,
    M23,
    |A| ops::neg(at::<Un, M23>(1)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    scale,
    Un,
    M23,
    |A| ops::scale(at::<Un, M23>(1), A::from_i64(-3) / two::<A>())
        .unwrap()
        .into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    relu,
    Un,
    M23,
    |A| ops::relu(at::<Un, M23>(1)).into_node::<A, ()>(),
    off_kink(),
    exact
);
laws!(
    exp,
    Un,
    M23,
    |A| ops::exp(at::<Un, M23>(1)).into_node::<A, ()>(),
    val()
);
laws!(
    tanh,
    Un,
    M23,
    |A| ops::tanh(at::<Un, M23>(1)).into_node::<A, ()>(),
    val()
);
laws!(
    sigmoid,
    Un,
    M23,
    |A| ops::sigmoid(at::<Un, M23>(1)).into_node::<A, ()>(),
    -6.0_f64..6.0
);
laws!(
    softplus,
    Un,
    M23,
    |A| ops::softplus(at::<Un, M23>(1)).into_node::<A, ()>(),
    -6.0_f64..6.0
);
laws!(
    safe_log,
    Un,
    M23,
    |A| ops::safe_log(at::<Un, M23>(1), EPS)
        .unwrap()
        .into_node::<A, ()>(),
    log_input()
);
laws!(
    sum,
    Un,
    Scalar,
    |A| ops::sum(at::<Un, M23>(1)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    mean,
    Un,
    Scalar,
    |A| ops::mean(at::<Un, M23>(1)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    matvec,
    Mv,
    V2,
    |A| ops::matvec(at::<Mv, M23>(1), at::<Mv, V3>(2)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    matmul,
    Mm,
    M24,
    |A| ops::matmul(at::<Mm, M23>(1), at::<Mm, M34>(2)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    matmul_aliased,
    Sq,
    M33,
    |A| ops::matmul(at::<Sq, M33>(2), at::<Sq, M33>(2)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    transpose,
    Un,
    M32,
    |A| ops::transpose(at::<Un, M23>(1)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    linear,
    Lin,
    V2,
    |A| ops::linear(at::<Lin, M23>(1), at::<Lin, V3>(2), at::<Lin, V2>(3)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    linear_aliased,
    Sq,
    V3,
    |A| ops::linear(at::<Sq, M33>(2), at::<Sq, V3>(1), at::<Sq, V3>(1)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    linear_batch,
    Lb,
    M42,
    |A| ops::linear_batch(at::<Lb, M23>(1), at::<Lb, M43>(2), at::<Lb, V2>(3)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    linear_batch_aliased,
    Sq,
    M33,
    |A| ops::linear_batch(at::<Sq, M33>(2), at::<Sq, M33>(2), at::<Sq, V3>(1)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    mse,
    Bin,
    Scalar,
    |A| ops::mse(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    mse_aliased,
    Un,
    Scalar,
    |A| ops::mse(at::<Un, M23>(1), at::<Un, M23>(1)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    softmax,
    Un,
    M23,
    |A| ops::softmax(at::<Un, M23>(1)).into_node::<A, ()>(),
    val()
);
laws!(
    softmax_vector,
    Sq,
    V3,
    |A| ops::softmax(at::<Sq, V3>(1)).into_node::<A, ()>(),
    val()
);
laws!(
    log_softmax,
    Un,
    M23,
    |A| ops::log_softmax(at::<Un, M23>(1)).into_node::<A, ()>(),
    val()
);
laws!(
    cross_entropy,
    Bin,
    Scalar,
    |A| ops::cross_entropy(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<A, ()>(),
    val()
);
laws!(
    cross_entropy_aliased,
    Un,
    Scalar,
    |A| ops::cross_entropy(at::<Un, M23>(1), at::<Un, M23>(1)).into_node::<A, ()>(),
    val()
);

// ---------------------------------------------------------------- forward

/// Applies `f` to the entries of slot 1 of a `Un` context.
fn unary_expected(x: &TList<f64, Un>, f: impl Fn(f64) -> f64) -> Vec<f64> {
    slot(x, at::<Un, M23>(1)).into_iter().map(f).collect()
}

fn row_softmax(row: &[f64]) -> Vec<f64> {
    let z: f64 = row.iter().map(|v| v.exp()).sum();
    row.iter().map(|v| v.exp() / z).collect()
}

fn row_log_softmax(row: &[f64]) -> Vec<f64> {
    let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
    row.iter().map(|v| v - lse).collect()
}

proptest! {
    #[test]
    fn forward_binary(x in ctx::<f64, Bin>(val())) {
        let (a, b) = (slot(&x, at::<Bin, M23>(1)), slot(&x, at::<Bin, M23>(2)));
        let zip = |f: fn(f64, f64) -> f64| a.iter().zip(&b).map(|(&p, &q)| f(p, q)).collect::<Vec<_>>();
        prop_assert_eq!(forward(&ops::add(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<f64, ()>(), &x), zip(|p, q| p + q));
        prop_assert_eq!(forward(&ops::sub(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<f64, ()>(), &x), zip(|p, q| p - q));
        prop_assert_eq!(forward(&ops::mul(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<f64, ()>(), &x), zip(|p, q| p * q));
    }

    #[test]
    fn forward_entrywise(x in ctx::<f64, Un>(-6.0_f64..6.0)) {
        let i = at::<Un, M23>(1);
        let f = |n: Node<f64, (), Un, M23>| forward(&n, &x);
        prop_assert_eq!(f(ops::neg(i).into_node()), unary_expected(&x, |v| -v));
        prop_assert_eq!(f(ops::scale(i, -1.5).unwrap().into_node()), unary_expected(&x, |v| v * -1.5));
        prop_assert_eq!(f(ops::relu(i).into_node()), unary_expected(&x, |v| if v > 0.0 { v } else { 0.0 }));
        prop_assert_eq!(
            f(ops::elementwise(i, "cube", |v: f64| v * v * v, |v| 3.0 * v * v).into_node()),
            unary_expected(&x, |v| v * v * v)
        );
        prop_assert_eq!(f(ops::exp(i).into_node()), unary_expected(&x, f64::exp));
        // Closed forms other than the ones the ops use.
        let tanh = |v: f64| (2.0 * v).exp_m1() / ((2.0 * v).exp() + 1.0);
        prop_assert!(close(&f(ops::tanh(i).into_node()), &unary_expected(&x, tanh), 1e-14));
        let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
        prop_assert!(close(&f(ops::sigmoid(i).into_node()), &unary_expected(&x, sigmoid), 1e-15));
        let softplus = |v: f64| v.exp().ln_1p();
        prop_assert!(close(&f(ops::softplus(i).into_node()), &unary_expected(&x, softplus), 1e-15));
        let safe_log = |v: f64| if v > EPS { v.ln() } else { EPS.ln() };
        prop_assert_eq!(f(ops::safe_log(i, EPS).unwrap().into_node()), unary_expected(&x, safe_log));
    }

    #[test]
    fn forward_reductions(x in ctx::<f64, Un>(val())) {
        let a = slot(&x, at::<Un, M23>(1));
        let mut s = 0.0;
        for v in &a {
            s += v;
        }
        prop_assert_eq!(forward(&ops::sum(at::<Un, M23>(1)).into_node::<f64, ()>(), &x), vec![s]);
        prop_assert_eq!(forward(&ops::mean(at::<Un, M23>(1)).into_node::<f64, ()>(), &x), vec![s / 6.0]);
    }

    #[test]
    fn forward_matrix_ops(mv in ctx::<f64, Mv>(val()), mm in ctx::<f64, Mm>(val())) {
        // y_i = Σ_j W_ij x_j
        let (w, v) = (slot(&mv, at::<Mv, M23>(1)), slot(&mv, at::<Mv, V3>(2)));
        let mut y = vec![0.0; 2];
        for (i, yi) in y.iter_mut().enumerate() {
            for (j, vj) in v.iter().enumerate() {
                *yi += w[i * 3 + j] * vj;
            }
        }
        prop_assert_eq!(forward(&ops::matvec(at::<Mv, M23>(1), at::<Mv, V3>(2)).into_node::<f64, ()>(), &mv), y);
        // C_ij = Σ_l A_il B_lj
        let (a, b) = (slot(&mm, at::<Mm, M23>(1)), slot(&mm, at::<Mm, M34>(2)));
        let mut c = vec![0.0; 8];
        for i in 0..2 {
            for j in 0..4 {
                for l in 0..3 {
                    c[i * 4 + j] += a[i * 3 + l] * b[l * 4 + j];
                }
            }
        }
        prop_assert_eq!(forward(&ops::matmul(at::<Mm, M23>(1), at::<Mm, M34>(2)).into_node::<f64, ()>(), &mm), c);
        // (Aᵀ)_ji = A_ij
        let t: Vec<f64> = (0..3).flat_map(|j| (0..2).map(move |i| (i, j))).map(|(i, j)| a[i * 3 + j]).collect();
        prop_assert_eq!(forward(&ops::transpose(at::<Mm, M23>(1)).into_node::<f64, ()>(), &mm), t);
    }

    #[test]
    fn forward_affine(lin in ctx::<f64, Lin>(val()), lb in ctx::<f64, Lb>(val())) {
        // y_i = (Σ_j W_ij x_j) + b_i
        let (w, x, b) = (slot(&lin, at::<Lin, M23>(1)), slot(&lin, at::<Lin, V3>(2)), slot(&lin, at::<Lin, V2>(3)));
        let y: Vec<f64> = (0..2).map(|i| (0..3).fold(0.0, |s, j| s + w[i * 3 + j] * x[j]) + b[i]).collect();
        prop_assert_eq!(forward(&ops::linear(at::<Lin, M23>(1), at::<Lin, V3>(2), at::<Lin, V2>(3)).into_node::<f64, ()>(), &lin), y);
        // Y_ro = (Σ_i X_ri W_oi) + b_o
        let (w, xs, b) = (slot(&lb, at::<Lb, M23>(1)), slot(&lb, at::<Lb, M43>(2)), slot(&lb, at::<Lb, V2>(3)));
        let mut ys = Vec::new();
        for r in 0..4 {
            for o in 0..2 {
                ys.push((0..3).fold(0.0, |s, i| s + xs[r * 3 + i] * w[o * 3 + i]) + b[o]);
            }
        }
        prop_assert_eq!(forward(&ops::linear_batch(at::<Lb, M23>(1), at::<Lb, M43>(2), at::<Lb, V2>(3)).into_node::<f64, ()>(), &lb), ys);
    }

    #[test]
    fn forward_losses(x in ctx::<f64, Bin>(val()), t in ctx::<f64, Bin>(0.0_f64..1.0)) {
        let (p, q) = (slot(&x, at::<Bin, M23>(1)), slot(&x, at::<Bin, M23>(2)));
        let mse = p.iter().zip(&q).fold(0.0, |s, (a, b)| s + (a - b) * (a - b)) / 6.0;
        prop_assert_eq!(forward(&ops::mse(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<f64, ()>(), &x), vec![mse]);
        // softmax and log-softmax of each row of a 2×3 matrix, without the max shift.
        let sm: Vec<f64> = p.chunks(3).flat_map(row_softmax).collect();
        let lsm: Vec<f64> = p.chunks(3).flat_map(row_log_softmax).collect();
        prop_assert!(close(&forward(&ops::softmax(at::<Bin, M23>(1)).into_node::<f64, ()>(), &x), &sm, 1e-14));
        prop_assert!(close(&forward(&ops::log_softmax(at::<Bin, M23>(1)).into_node::<f64, ()>(), &x), &lsm, 1e-14));
        // cross-entropy against soft targets: −(1/2) Σ_r Σ_c t_rc log softmax(z_r)_c
        let tgt = slot(&t, at::<Bin, M23>(2));
        let z = TList::<f64, Bin>::try_from_flat([slot(&x, at::<Bin, V2>(0)), p.clone(), tgt.clone()].concat()).unwrap();
        let ce = -lsm.iter().zip(&tgt).map(|(l, t)| l * t).sum::<f64>() / 2.0;
        let got = forward(&ops::cross_entropy(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<f64, ()>(), &z);
        prop_assert!(close(&got, &[ce], 1e-14), "{:?} vs {}", got, ce);
    }
}

/// Hand-computed values.
#[test]
fn forward_examples() {
    type G = HList![Matrix<2, 2>, Matrix<2, 2>, V2];
    let x: TList<f64, G> = tlist![
        Tensor::new([[1.0, 2.0], [3.0, 4.0]]),
        Tensor::new([[5.0, 6.0], [7.0, 8.0]]),
        Tensor::new([1.0, -1.0]),
    ];
    assert_eq!(
        forward(
            &ops::matmul(at::<G, Matrix<2, 2>>(0), at::<G, Matrix<2, 2>>(1)).into_node::<f64, ()>(),
            &x
        ),
        vec![19.0, 22.0, 43.0, 50.0]
    );
    assert_eq!(
        forward(
            &ops::matvec(at::<G, Matrix<2, 2>>(0), at::<G, V2>(2)).into_node::<f64, ()>(),
            &x
        ),
        vec![-1.0, -1.0]
    );
    assert_eq!(
        forward(
            &ops::linear(at::<G, Matrix<2, 2>>(0), at::<G, V2>(2), at::<G, V2>(2))
                .into_node::<f64, ()>(),
            &x
        ),
        vec![0.0, -2.0]
    );
    // rows [5, 6] and [7, 8] through W = [[1, 2], [3, 4]], plus b = [1, −1]
    assert_eq!(
        forward(
            &ops::linear_batch(
                at::<G, Matrix<2, 2>>(0),
                at::<G, Matrix<2, 2>>(1),
                at::<G, V2>(2)
            )
            .into_node::<f64, ()>(),
            &x
        ),
        vec![18.0, 38.0, 24.0, 52.0]
    );
    assert_eq!(
        forward(
            &ops::transpose(at::<G, Matrix<2, 2>>(0)).into_node::<f64, ()>(),
            &x
        ),
        vec![1.0, 3.0, 2.0, 4.0]
    );
    // ((1−5)² + (2−6)² + (3−7)² + (4−8)²) / 4 = 16
    assert_eq!(
        forward(
            &ops::mse(at::<G, Matrix<2, 2>>(0), at::<G, Matrix<2, 2>>(1)).into_node::<f64, ()>(),
            &x
        ),
        vec![16.0]
    );
    assert_eq!(
        forward(
            &ops::sum(at::<G, Matrix<2, 2>>(0)).into_node::<f64, ()>(),
            &x
        ),
        vec![10.0]
    );
    assert_eq!(
        forward(
            &ops::mean(at::<G, Matrix<2, 2>>(1)).into_node::<f64, ()>(),
            &x
        ),
        vec![6.5]
    );

    // softmax([0, ln 3]) = [1/4, 3/4]; cross-entropy of equal logits against a one-hot row is ln 2.
    type H = HList![V2, V2];
    let y: TList<f64, H> = tlist![Tensor::new([0.0, 3.0_f64.ln()]), Tensor::new([1.0, 0.0])];
    assert!(close(
        &forward(&ops::softmax(at::<H, V2>(0)).into_node::<f64, ()>(), &y),
        &[0.25, 0.75],
        1e-15
    ));
    let z: TList<f64, H> = tlist![Tensor::new([0.5, 0.5]), Tensor::new([0.0, 1.0])];
    let ce = forward(
        &ops::cross_entropy(at::<H, V2>(0), at::<H, V2>(1)).into_node::<f64, ()>(),
        &z,
    );
    assert!(close(&ce, &[2.0_f64.ln()], 1e-15));
    assert!(close(
        &forward(&ops::log_softmax(at::<H, V2>(0)).into_node::<f64, ()>(), &z),
        &[-(2.0_f64.ln()); 2],
        1e-15
    ));
    // sigmoid(0) = 1/2, softplus(0) = ln 2, tanh(0) = 0, exp(0) = 1, safe_log(0) = ln ε.
    let s: TList<f64, H> = tlist![Tensor::new([0.0, 1.0]), Tensor::new([0.0, 0.0])];
    assert_eq!(
        forward(&ops::sigmoid(at::<H, V2>(0)).into_node::<f64, ()>(), &s)[0],
        0.5
    );
    assert_eq!(
        forward(&ops::softplus(at::<H, V2>(0)).into_node::<f64, ()>(), &s)[0],
        2.0_f64.ln()
    );
    assert_eq!(
        forward(&ops::tanh(at::<H, V2>(0)).into_node::<f64, ()>(), &s),
        vec![0.0, 1.0_f64.tanh()]
    );
    assert_eq!(
        forward(&ops::exp(at::<H, V2>(0)).into_node::<f64, ()>(), &s),
        vec![1.0, core::f64::consts::E]
    );
    assert_eq!(
        forward(
            &ops::safe_log(at::<H, V2>(0), EPS)
                .unwrap()
                .into_node::<f64, ()>(),
            &s
        ),
        vec![EPS.ln(), 0.0]
    );
}

/// The polynomial ops evaluate exactly over `Rational`.
#[test]
fn forward_rational() {
    type G = HList![Matrix<2, 2>, V2];
    let x: TList<Rational, G> = tlist![
        Tensor::new([[q(1, 2), q(-1, 3)], [q(2, 1), q(0, 1)]]),
        Tensor::new([q(3, 4), q(-6, 5)]),
    ];
    let mv = forward(
        &ops::matvec(at::<G, Matrix<2, 2>>(0), at::<G, V2>(1)).into_node::<Rational, ()>(),
        &x,
    );
    // [1/2·3/4 + (−1/3)(−6/5), 2·3/4] = [3/8 + 2/5, 3/2] = [31/40, 3/2]
    assert_eq!(mv, vec![q(31, 40), q(3, 2)]);
    let mse = forward(
        &ops::mse(at::<G, V2>(1), at::<G, V2>(1)).into_node::<Rational, ()>(),
        &x,
    );
    assert_eq!(mse, vec![q(0, 1)]);
    let mean = forward(
        &ops::mean(at::<G, Matrix<2, 2>>(0)).into_node::<Rational, ()>(),
        &x,
    );
    assert_eq!(mean, vec![q(13, 24)]);
    let relu = forward(&ops::relu(at::<G, V2>(1)).into_node::<Rational, ()>(), &x);
    assert_eq!(relu, vec![q(3, 4), q(0, 1)]);
}

// ---------------------------------------------------------------- aliasing, exactly

proptest! {
    #[test]
    fn aliased_vjps(
        x in ctx::<Rational, Sq>(rational()),
        d3 in tensor::<Rational, V3>(rational()),
        d33 in tensor::<Rational, M33>(rational()),
        d in rational(),
    ) {
        let v = slot(&x, at::<Sq, V3>(1));
        let a = slot(&x, at::<Sq, M33>(2));
        let dv = d3.as_slice();
        let dm = d33.as_slice();
        // mul(a, a): 2 x ⊙ δ
        let got = vjp_at::<_, _, _, V3>(&ops::mul(at::<Sq, V3>(1), at::<Sq, V3>(1)).into_node::<Rational, ()>(), &x, &d3, 1);
        let want: Vec<Rational> = v.iter().zip(dv).map(|(x, d)| q(2, 1) * x * d).collect();
        prop_assert_eq!(got, want);
        // add(a, a): 2 δ;  sub(a, a): 0
        let got = vjp_at::<_, _, _, V3>(&ops::add(at::<Sq, V3>(1), at::<Sq, V3>(1)).into_node::<Rational, ()>(), &x, &d3, 1);
        prop_assert_eq!(got, dv.iter().map(|d| d + d).collect::<Vec<_>>());
        let got = vjp_at::<_, _, _, V3>(&ops::sub(at::<Sq, V3>(1), at::<Sq, V3>(1)).into_node::<Rational, ()>(), &x, &d3, 1);
        prop_assert_eq!(got, vec![q(0, 1); 3]);
        // matmul(A, A): δ Aᵀ + Aᵀ δ
        let mut want = vec![q(0, 1); 9];
        for i in 0..3 {
            for j in 0..3 {
                for l in 0..3 {
                    want[i * 3 + j] += &dm[i * 3 + l] * &a[j * 3 + l] + &a[l * 3 + i] * &dm[l * 3 + j];
                }
            }
        }
        let got = vjp_at::<_, _, _, M33>(&ops::matmul(at::<Sq, M33>(2), at::<Sq, M33>(2)).into_node::<Rational, ()>(), &x, &d33, 2);
        prop_assert_eq!(got, want);
        // linear(W, x, x): x ↦ Wᵀ δ + δ, W ↦ δ xᵀ
        let lin = ops::linear(at::<Sq, M33>(2), at::<Sq, V3>(1), at::<Sq, V3>(1)).into_node::<Rational, ()>();
        let want: Vec<Rational> = (0..3)
            .map(|j| (0..3).fold(q(0, 1), |s, i| s + &a[i * 3 + j] * &dv[i]) + &dv[j])
            .collect();
        prop_assert_eq!(vjp_at::<_, _, _, V3>(&lin, &x, &d3, 1), want);
        let want: Vec<Rational> = (0..9).map(|k| &dv[k / 3] * &v[k % 3]).collect();
        prop_assert_eq!(vjp_at::<_, _, _, M33>(&lin, &x, &d3, 2), want);
        // linear_batch(W, W, b): W ↦ δᵀ W + δ W (the W and X roles both at one slot)
        let lb = ops::linear_batch(at::<Sq, M33>(2), at::<Sq, M33>(2), at::<Sq, V3>(1)).into_node::<Rational, ()>();
        let mut want = vec![q(0, 1); 9];
        for o in 0..3 {
            for i in 0..3 {
                for r in 0..3 {
                    // ∂/∂W_oi through the weight role: Σ_r δ_ro X_ri; through the batch role
                    // (row o of X): Σ_r δ_or W_ri.
                    want[o * 3 + i] += &dm[r * 3 + o] * &a[r * 3 + i] + &dm[o * 3 + r] * &a[r * 3 + i];
                }
            }
        }
        prop_assert_eq!(vjp_at::<_, _, _, M33>(&lb, &x, &d33, 2), want);
        // mse(a, a): zero loss, zero cotangent
        let mse = ops::mse(at::<Sq, V3>(1), at::<Sq, V3>(1)).into_node::<Rational, ()>();
        prop_assert_eq!(forward(&mse, &x), vec![q(0, 1)]);
        prop_assert_eq!(vjp_at::<_, _, _, V3>(&mse, &x, &Tensor::new(d), 1), vec![q(0, 1); 3]);
    }

    /// cross_entropy(z, z): the two roles' gradients add,
    /// `(1/R)(p Σ_c z − z) − (1/R) log softmax(z)` per row.
    #[test]
    fn aliased_cross_entropy(x in ctx::<f64, Un>(val()), d in unit()) {
        let z = slot(&x, at::<Un, M23>(1));
        let ce = ops::cross_entropy(at::<Un, M23>(1), at::<Un, M23>(1)).into_node::<f64, ()>();
        let got = vjp_at::<_, _, _, M23>(&ce, &x, &Tensor::new(d), 1);
        let mut want = Vec::new();
        for row in z.chunks(3) {
            let (p, l) = (row_softmax(row), row_log_softmax(row));
            let mass: f64 = row.iter().sum();
            for c in 0..3 {
                want.push(d * ((p[c] * mass - row[c]) / 2.0 - l[c] / 2.0));
            }
        }
        prop_assert!(close(&got, &want, 1e-13), "{:?} vs {:?}", got, want);
    }
}

// ---------------------------------------------------------------- NaN

/// For every entry of every slot of `x`: with a NaN there, the output contains a NaN if `node`
/// reads the slot and is unchanged otherwise; JVP and VJP run.
fn nan_in_each_entry<G: ShapeList, T: Shape>(
    node: &Node<f64, (), G, T>,
    x: &[f64],
    reads: &[usize],
) {
    let layout = G::layout();
    let clean = TList::<f64, G>::try_from_flat(x.to_vec()).unwrap();
    let clean_out = forward(node, &clean);
    let mut offset = 0;
    for (s, l) in layout.iter().enumerate() {
        for e in 0..l.size {
            let mut flat = x.to_vec();
            flat[offset + e] = f64::NAN;
            let bad = TList::<f64, G>::try_from_flat(flat).unwrap();
            let out = forward(node, &bad);
            if reads.contains(&s) {
                assert!(
                    out.iter().any(|v| v.is_nan()),
                    "{}: NaN in slot {s} entry {e} lost: {out:?}",
                    node.data().name()
                );
            } else {
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&out), bits(&clean_out), "{}", node.data().name());
            }
            let ones = TList::<f64, G>::zero().map(|_| 1.0);
            let _ = node.data().jvp(&bad, &ones, &());
            let _ = node.data().vjp(&bad, &(), &Tensor::fill(1.0)).to_dense();
        }
        offset += l.size;
    }
}

#[test]
fn nan_inputs_propagate() {
    let vals = |n: usize| {
        (0..n)
            .map(|i| (i as f64 * 0.7).sin() * 2.0)
            .collect::<Vec<f64>>()
    };
    let un = vals(total_len::<Un>());
    let bin = vals(total_len::<Bin>());
    let i = at::<Un, M23>(1);
    nan_in_each_entry(&ops::neg(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(
        &ops::scale(i, 0.0).unwrap().into_node::<f64, ()>(),
        &un,
        &[1],
    );
    nan_in_each_entry(&ops::relu(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::exp(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::tanh(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::sigmoid(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::softplus(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(
        &ops::safe_log(i, EPS).unwrap().into_node::<f64, ()>(),
        &un,
        &[1],
    );
    nan_in_each_entry(&ops::sum(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::mean(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::transpose(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::softmax(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::log_softmax(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(
        &ops::elementwise(i, "cube", |v: f64| v * v * v, |v| 3.0 * v * v).into_node::<f64, ()>(),
        &un,
        &[1],
    );
    let (a, b) = (at::<Bin, M23>(1), at::<Bin, M23>(2));
    nan_in_each_entry(&ops::add(a, b).into_node::<f64, ()>(), &bin, &[1, 2]);
    nan_in_each_entry(&ops::sub(a, b).into_node::<f64, ()>(), &bin, &[1, 2]);
    nan_in_each_entry(&ops::mul(a, b).into_node::<f64, ()>(), &bin, &[1, 2]);
    nan_in_each_entry(&ops::mse(a, b).into_node::<f64, ()>(), &bin, &[1, 2]);
    nan_in_each_entry(
        &ops::cross_entropy(a, b).into_node::<f64, ()>(),
        &bin,
        &[1, 2],
    );
    nan_in_each_entry(
        &ops::matvec(at::<Mv, M23>(1), at::<Mv, V3>(2)).into_node::<f64, ()>(),
        &vals(total_len::<Mv>()),
        &[1, 2],
    );
    nan_in_each_entry(
        &ops::matmul(at::<Mm, M23>(1), at::<Mm, M34>(2)).into_node::<f64, ()>(),
        &vals(total_len::<Mm>()),
        &[1, 2],
    );
    nan_in_each_entry(
        &ops::linear(at::<Lin, M23>(1), at::<Lin, V3>(2), at::<Lin, V2>(3)).into_node::<f64, ()>(),
        &vals(total_len::<Lin>()),
        &[1, 2, 3],
    );
    nan_in_each_entry(
        &ops::linear_batch(at::<Lb, M23>(1), at::<Lb, M43>(2), at::<Lb, V2>(3))
            .into_node::<f64, ()>(),
        &vals(total_len::<Lb>()),
        &[1, 2, 3],
    );
}

/// ±∞: IEEE semantics, no panic.
#[test]
fn infinite_inputs() {
    type H = HList![V2];
    let x: TList<f64, H> = tlist![Tensor::new([f64::INFINITY, f64::NEG_INFINITY])];
    let i = at::<H, V2>(0);
    assert_eq!(
        forward(&ops::exp(i).into_node::<f64, ()>(), &x),
        vec![f64::INFINITY, 0.0]
    );
    assert_eq!(
        forward(&ops::tanh(i).into_node::<f64, ()>(), &x),
        vec![1.0, -1.0]
    );
    assert_eq!(
        forward(&ops::sigmoid(i).into_node::<f64, ()>(), &x),
        vec![1.0, 0.0]
    );
    assert_eq!(
        forward(&ops::relu(i).into_node::<f64, ()>(), &x),
        vec![f64::INFINITY, 0.0]
    );
    assert_eq!(
        forward(&ops::safe_log(i, EPS).unwrap().into_node::<f64, ()>(), &x),
        vec![f64::INFINITY, EPS.ln()]
    );
    // softplus(−∞) = lim ln(1 + eˣ) = 0.
    assert_eq!(
        forward(&ops::softplus(i).into_node::<f64, ()>(), &x),
        vec![f64::INFINITY, 0.0]
    );
    assert!(forward(&ops::sum(i).into_node::<f64, ()>(), &x)[0].is_nan());
    let _ = ops::softmax(i)
        .into_node::<f64, ()>()
        .data()
        .vjp(&x, &(), &Tensor::fill(1.0));
}

/// `softplus(x) = ln(1 + eˣ)` far from 0. For `x ≪ 0` it is `eˣ − e²ˣ/2 + …`, so `eˣ` up to a
/// relative `eˣ/2` (below `10⁻¹⁷` here); for `x ≫ 0` it is `x + ln(1 + e⁻ˣ)`, where the second
/// term (`< 10⁻¹⁷`) is far below half an ulp of `x`, so the rounded result is `x` exactly.
#[test]
fn softplus_far_from_zero() {
    type H = HList![Vector<4>];
    let x: TList<f64, H> = tlist![Tensor::new([-40.0, -100.0, -700.0, 40.0])];
    let got = forward(
        &ops::softplus(at::<H, Vector<4>>(0)).into_node::<f64, ()>(),
        &x,
    );
    for (g, v) in got[..3].iter().zip([-40.0_f64, -100.0, -700.0]) {
        let want = v.exp();
        assert!(
            (g - want).abs() <= 4.0 * f64::EPSILON * want,
            "softplus({v}) = {g:e}, want {want:e}"
        );
    }
    assert_eq!(got[3], 40.0);
    // In f32 (the old formula returned 0 below about −17): e⁻²⁰ ≈ 2.1·10⁻⁹, e⁻⁸⁰ ≈ 1.8·10⁻³⁵
    // (still a normal f32), compared with the f64 exponential rounded once to f32.
    let x: TList<f32, H> = tlist![Tensor::new([-20.0_f32, -80.0, 0.0, 800.0])];
    let got = ops::softplus(at::<H, Vector<4>>(0))
        .into_node::<f32, ()>()
        .data()
        .forward(&x, &())
        .as_slice()
        .to_vec();
    for (g, v) in got[..2].iter().zip([-20.0_f64, -80.0]) {
        let want = v.exp() as f32;
        assert!(
            (g - want).abs() <= 4.0 * f32::EPSILON * want,
            "softplus({v}) = {g:e}, want {want:e}"
        );
    }
    assert!((got[2] - 2.0_f32.ln()).abs() <= f32::EPSILON);
    assert_eq!(got[3], 800.0);
}

/// `scale` and `safe_log` refuse a constant that is not a real number (and `safe_log` an
/// `ε ≤ 0`) when the op is built, whatever graph it is meant for.
#[test]
fn constants_are_checked() {
    let i = at::<Un, M23>(1);
    for c in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = ops::scale(i, c).unwrap_err();
        assert_eq!((e.op, e.needs), ("scale", "a finite factor"));
        assert!(e.value.is_nan() == c.is_nan() && (c.is_nan() || e.value == c));
    }
    assert_eq!(
        ops::scale(i, f32::INFINITY).unwrap_err().value,
        f64::INFINITY
    );
    for c in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, -1e-3] {
        let e = ops::safe_log(i, c).unwrap_err();
        assert_eq!((e.op, e.needs), ("safe_log", "a finite ε > 0"));
        assert!(e.value.is_nan() == c.is_nan() && (c.is_nan() || e.value == c));
    }
    let e: ops::ConstantError = ops::safe_log(i, q(-1, 2)).unwrap_err();
    assert_eq!(e.value, -0.5);
    assert!(ops::safe_log(i, q(0, 1)).is_err());
    assert_eq!(
        e.to_string(),
        "safe_log: the constant -0.5 is not allowed, it needs a finite ε > 0"
    );
    // Valid constants, down to the smallest positive f64 for ε.
    assert!(ops::scale(i, 0.0).is_ok());
    assert!(ops::scale(i, f64::MAX).is_ok());
    assert!(ops::scale(i, q(-3, 7)).is_ok());
    assert!(ops::safe_log(i, f64::from_bits(1)).is_ok());
    assert!(ops::safe_log(i, 1e-3_f32).is_ok());
    assert!(ops::safe_log(i, q(1, 3)).is_ok());
}

/// Far below 0, where softplus is about `eˣ` (tiny, but far from 0 relative to itself), the
/// op passes every check of the harness, certified bounds included.
#[cfg(feature = "proptest")]
#[test]
fn softplus_checks_far_below_zero() {
    use shapetape::strategies::{OpCheck, check_op};
    let opts = OpCheck::default().range(-60.0..-20.0);
    if let Err(e) = check_op(ops::softplus(at::<Un, M23>(1)), &opts) {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------- activations and div/max/min

/// Inputs at distance ≥ 0.1 from the kinks of `clamp(x, −0.5, 1.25)`.
fn off_clamp_kinks() -> impl Strategy<Value = f64> {
    prop_oneof![-2.0_f64..-0.6, -0.4_f64..1.15, 1.35_f64..2.0]
}

/// Inputs at distance ≥ 0.5 from 0 (divisors, negative powers).
fn off_zero() -> impl Strategy<Value = f64> {
    prop_oneof![0.5_f64..2.0, -2.0_f64..-0.5]
}

laws!(
    abs,
    Un,
    M23,
    |A| ops::abs(at::<Un, M23>(1)).into_node::<A, ()>(),
    off_kink(),
    exact
);
laws!(
    square,
    Un,
    M23,
    |A| ops::square(at::<Un, M23>(1)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    powi_3,
    Un,
    M23,
    |A| ops::powi(at::<Un, M23>(1), 3).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    powi_0,
    Un,
    M23,
    |A| ops::powi(at::<Un, M23>(1), 0).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    powi_neg_2,
    Un,
    M23,
    |A| ops::powi(at::<Un, M23>(1), -2).into_node::<A, ()>(),
    off_zero(),
    exact
);
laws!(
    leaky_relu,
    Un,
    M23,
    |A| ops::leaky_relu(at::<Un, M23>(1), A::from_i64(1) / A::from_i64(8))
        .unwrap()
        .into_node::<A, ()>(),
    off_kink(),
    exact
);
laws!(
    clamp,
    Un,
    M23,
    |A| ops::clamp(
        at::<Un, M23>(1),
        A::from_i64(-1) / two::<A>(),
        A::from_i64(5) / A::from_i64(4)
    )
    .unwrap()
    .into_node::<A, ()>(),
    off_clamp_kinks(),
    exact
);
laws!(
    maximum,
    Bin,
    M23,
    |A| ops::maximum(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    minimum,
    Bin,
    M23,
    |A| ops::minimum(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    maximum_aliased,
    Un,
    M23,
    |A| ops::maximum(at::<Un, M23>(1), at::<Un, M23>(1)).into_node::<A, ()>(),
    val(),
    exact
);
laws!(
    div,
    Bin,
    M23,
    |A| ops::div(at::<Bin, M23>(1), at::<Bin, M23>(2)).into_node::<A, ()>(),
    off_zero(),
    exact
);
laws!(
    div_aliased,
    Un,
    M23,
    |A| ops::div(at::<Un, M23>(1), at::<Un, M23>(1)).into_node::<A, ()>(),
    off_zero(),
    exact
);
laws!(
    sqrt,
    Un,
    M23,
    |A| ops::sqrt(at::<Un, M23>(1)).into_node::<A, ()>(),
    0.1_f64..4.0
);
laws!(
    log,
    Un,
    M23,
    |A| ops::log(at::<Un, M23>(1)).into_node::<A, ()>(),
    0.1_f64..4.0
);
laws!(
    gelu,
    Un,
    M23,
    |A| ops::gelu(at::<Un, M23>(1)).into_node::<A, ()>(),
    -6.0_f64..6.0
);
laws!(
    silu,
    Un,
    M23,
    |A| ops::silu(at::<Un, M23>(1)).into_node::<A, ()>(),
    -6.0_f64..6.0
);
laws!(
    elu,
    Un,
    M23,
    |A| ops::elu(at::<Un, M23>(1), 0.7)
        .unwrap()
        .into_node::<A, ()>(),
    off_kink()
);

proptest! {
    /// The activations against their definitions written out here (`x.abs()`, `x * x`,
    /// `x.sqrt()`, `if`-branches), bit for bit where the op computes the same IEEE operation.
    #[test]
    fn forward_activations(x in ctx::<f64, Un>(-6.0_f64..6.0)) {
        let i = at::<Un, M23>(1);
        let f = |n: Node<f64, (), Un, M23>| forward(&n, &x);
        prop_assert_eq!(f(ops::abs(i).into_node()), unary_expected(&x, f64::abs));
        prop_assert_eq!(f(ops::square(i).into_node()), unary_expected(&x, |v| v * v));
        prop_assert_eq!(f(ops::powi(i, 1).into_node()), unary_expected(&x, |v| v));
        prop_assert_eq!(f(ops::powi(i, 2).into_node()), unary_expected(&x, |v| v * v));
        prop_assert!(close(&f(ops::powi(i, 5).into_node()), &unary_expected(&x, |v| v.powi(5)), 1e-15));
        let (got, want) = (f(ops::powi(i, -3).into_node()), unary_expected(&x, |v| 1.0 / (v * v * v)));
        // ±∞ at 0 on both sides; elsewhere the products may round in another order.
        prop_assert!(got.iter().zip(&want).all(|(g, w)| g == w || (g - w).abs() <= 1e-15 * w.abs()), "{:?} vs {:?}", got, want);
        let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
        // (NaN below 0, compared bit for bit.)
        prop_assert_eq!(bits(f(ops::sqrt(i).into_node())), bits(unary_expected(&x, f64::sqrt)));
        prop_assert_eq!(bits(f(ops::log(i).into_node())), bits(unary_expected(&x, f64::ln)));
        prop_assert_eq!(
            f(ops::leaky_relu(i, 0.1).unwrap().into_node()),
            unary_expected(&x, |v| if v > 0.0 { v } else { 0.1 * v })
        );
        prop_assert_eq!(
            f(ops::clamp(i, -1.5, 2.5).unwrap().into_node()),
            unary_expected(&x, |v| v.clamp(-1.5, 2.5))
        );
        prop_assert_eq!(
            f(ops::elu(i, 0.5).unwrap().into_node()),
            unary_expected(&x, |v| if v > 0.0 { v } else { 0.5 * v.exp_m1() })
        );
        prop_assert!(close(
            &f(ops::silu(i).into_node()),
            &unary_expected(&x, |v| v / (1.0 + (-v).exp())),
            1e-15
        ));
        let c = (2.0 / core::f64::consts::PI).sqrt();
        prop_assert!(close(
            &f(ops::gelu(i).into_node()),
            &unary_expected(&x, |v| 0.5 * v * (1.0 + (c * (v + 0.044715 * v * v * v)).tanh())),
            1e-15
        ));
    }

    #[test]
    fn forward_div_max_min(x in ctx::<f64, Bin>(val())) {
        let (a, b) = (slot(&x, at::<Bin, M23>(1)), slot(&x, at::<Bin, M23>(2)));
        let zip = |f: fn(f64, f64) -> f64| a.iter().zip(&b).map(|(&p, &q)| f(p, q)).collect::<Vec<_>>();
        let (i, j) = (at::<Bin, M23>(1), at::<Bin, M23>(2));
        prop_assert_eq!(forward(&ops::div(i, j).into_node::<f64, ()>(), &x), zip(|p, q| p / q));
        prop_assert_eq!(forward(&ops::maximum(i, j).into_node::<f64, ()>(), &x), zip(f64::max));
        prop_assert_eq!(forward(&ops::minimum(i, j).into_node::<f64, ()>(), &x), zip(f64::min));
    }
}

/// Hand-computed values of the activations.
#[test]
fn activation_examples() {
    type H = HList![Vector<4>];
    let i = at::<H, Vector<4>>(0);
    let x = |v: [f64; 4]| -> TList<f64, H> { tlist![Tensor::new(v)] };
    let run = |n: Node<f64, (), H, Vector<4>>, v: [f64; 4]| forward(&n, &x(v));

    assert_eq!(
        run(ops::sqrt(i).into_node(), [4.0, 0.0, 2.25, 1e-300 * 1e-300]),
        vec![2.0, 0.0, 1.5, 0.0]
    );
    let neg = run(ops::sqrt(i).into_node(), [-1.0, -0.0, 9.0, f64::INFINITY]);
    assert!(neg[0].is_nan());
    assert_eq!(neg[1..], [-0.0, 3.0, f64::INFINITY]);
    // d√x/dx at 4 is 1/4; at 0 it is +∞.
    let d = vjp_at::<f64, H, Vector<4>, Vector<4>>(
        &ops::sqrt(i).into_node(),
        &x([4.0, 0.0, 0.25, 1.0]),
        &Tensor::new([1.0, 1.0, 1.0, 2.0]),
        0,
    );
    assert_eq!(d, vec![0.25, f64::INFINITY, 1.0, 1.0]);

    let l = run(
        ops::log(i).into_node(),
        [1.0, 0.0, -1.0, core::f64::consts::E],
    );
    assert_eq!(l[..2], [0.0, f64::NEG_INFINITY]);
    assert!(l[2].is_nan());
    assert!((l[3] - 1.0).abs() <= f64::EPSILON);

    assert_eq!(
        run(ops::powi(i, 3).into_node(), [-2.0, 0.5, 0.0, 3.0]),
        vec![-8.0, 0.125, 0.0, 27.0]
    );
    assert_eq!(
        run(ops::powi(i, -2).into_node(), [2.0, -0.5, 0.0, -0.0]),
        vec![0.25, 4.0, f64::INFINITY, f64::INFINITY]
    );
    assert_eq!(
        run(
            ops::powi(i, -1).into_node(),
            [4.0, 0.0, -0.0, f64::INFINITY]
        ),
        vec![0.25, f64::INFINITY, f64::NEG_INFINITY, 0.0]
    );
    // x⁰ = 1 everywhere, also at 0 and at NaN (as IEEE `pown`), with derivative 0.
    assert_eq!(
        run(
            ops::powi(i, 0).into_node(),
            [0.0, -3.0, f64::NAN, f64::INFINITY]
        ),
        vec![1.0; 4]
    );
    // d(x³)/dx = 3x²: 12 at −2.
    let d = vjp_at::<f64, H, Vector<4>, Vector<4>>(
        &ops::powi(i, 3).into_node(),
        &x([-2.0, 1.0, 0.0, 0.5]),
        &Tensor::new([1.0; 4]),
        0,
    );
    assert_eq!(d, vec![12.0, 3.0, 0.0, 0.75]);
    // d(x⁻²)/dx = −2x⁻³: −1/4 at 2.
    let d = vjp_at::<f64, H, Vector<4>, Vector<4>>(
        &ops::powi(i, -2).into_node(),
        &x([2.0, -1.0, 0.5, 1.0]),
        &Tensor::new([1.0; 4]),
        0,
    );
    assert_eq!(d, vec![-0.25, 2.0, -16.0, -2.0]);

    // |x|, with the subgradient 0 at 0.
    assert_eq!(
        run(ops::abs(i).into_node(), [-3.0, 0.0, 2.5, -0.0]),
        vec![3.0, 0.0, 2.5, 0.0]
    );
    let d = vjp_at::<f64, H, Vector<4>, Vector<4>>(
        &ops::abs(i).into_node(),
        &x([-3.0, 0.0, 2.5, -0.0]),
        &Tensor::new([2.0; 4]),
        0,
    );
    assert_eq!(d, vec![-2.0, 0.0, 2.0, 0.0]);

    // leaky_relu: the slope also at 0.
    let lr = ops::leaky_relu(i, 0.01).unwrap();
    assert_eq!(
        run(lr.clone().into_node(), [-2.0, 0.0, 3.0, -100.0]),
        vec![-0.02, 0.0, 3.0, -1.0]
    );
    let d = vjp_at::<f64, H, Vector<4>, Vector<4>>(
        &lr.into_node(),
        &x([-2.0, 0.0, 3.0, -100.0]),
        &Tensor::new([1.0; 4]),
        0,
    );
    assert_eq!(d, vec![0.01, 0.01, 1.0, 0.01]);

    // clamp to [−1, 1]: derivative 1 strictly inside, 0 outside and at the limits.
    let cl = ops::clamp(i, -1.0, 1.0).unwrap();
    assert_eq!(
        run(cl.clone().into_node(), [-3.0, -1.0, 0.5, 7.0]),
        vec![-1.0, -1.0, 0.5, 1.0]
    );
    let d = vjp_at::<f64, H, Vector<4>, Vector<4>>(
        &cl.into_node(),
        &x([-3.0, -1.0, 0.5, 1.0]),
        &Tensor::new([1.0; 4]),
        0,
    );
    assert_eq!(d, vec![0.0, 0.0, 1.0, 0.0]);
    assert!(
        run(
            ops::clamp(i, -1.0, 1.0).unwrap().into_node(),
            [f64::NAN, 0.0, 0.0, 0.0]
        )[0]
        .is_nan()
    );

    // gelu (tanh form): with c = √(2/π) = 0.7978845608028654, u(1) = c · 1.044715 and
    // gelu(1) = (1 + tanh u)/2 = 0.8411919906082768, gelu(−1) = −0.15880800939172324 (the
    // values of PyTorch's `gelu(x, approximate="tanh")` in float64), gelu(0) = 0.
    let g = run(ops::gelu(i).into_node(), [1.0, -1.0, 0.0, 10.0]);
    assert!(
        (g[0] - 0.841_191_990_608_276_8).abs() <= 4.0 * f64::EPSILON,
        "{g:?}"
    );
    assert!(
        (g[1] + 0.158_808_009_391_723_24).abs() <= 4.0 * f64::EPSILON,
        "{g:?}"
    );
    assert_eq!(g[2], 0.0);
    assert_eq!(g[3], 10.0); // tanh u rounds to 1
    // gelu′(0) = 1/2.
    let d = vjp_at::<f64, H, Vector<4>, Vector<4>>(
        &ops::gelu(i).into_node(),
        &x([0.0; 4]),
        &Tensor::new([1.0; 4]),
        0,
    );
    assert_eq!(d, vec![0.5; 4]);

    // silu(1) = σ(1) = 1/(1 + e⁻¹) = 0.7310585786300049, silu(−2) = −2σ(−2) = −0.2384058440442351.
    let s = run(ops::silu(i).into_node(), [1.0, -2.0, 0.0, -800.0]);
    assert!(
        (s[0] - 0.731_058_578_630_004_9).abs() <= 2.0 * f64::EPSILON,
        "{s:?}"
    );
    assert!(
        (s[1] + 0.238_405_844_044_235_1).abs() <= 2.0 * f64::EPSILON,
        "{s:?}"
    );
    assert_eq!(s[2..], [0.0, -0.0]);

    // elu with α = 1: e⁻¹ − 1 = −0.6321205588285577 at −1; α·(−1) far below 0; x above 0.
    let e = run(
        ops::elu(i, 1.0).unwrap().into_node(),
        [-1.0, 2.0, -800.0, 0.0],
    );
    assert!(
        (e[0] + 0.632_120_558_828_557_7).abs() <= f64::EPSILON,
        "{e:?}"
    );
    assert_eq!(e[1..], [2.0, -1.0, 0.0]);
    // elu′ = α eˣ for x ≤ 0 (α at 0), 1 above.
    let d = vjp_at::<f64, H, Vector<4>, Vector<4>>(
        &ops::elu(i, 0.5).unwrap().into_node(),
        &x([0.0, 3.0, -800.0, -1.0]),
        &Tensor::new([1.0; 4]),
        0,
    );
    assert_eq!(d[..3], [0.5, 1.0, 0.0]);
    assert!((d[3] - 0.5 * (-1.0_f64).exp()).abs() <= f64::EPSILON);
}

/// Division by zero is IEEE at `f64` and Lean's `x/0 = 0` over ℚ; `maximum`/`minimum` split
/// the gradient at a tie and propagate NaN from either side.
#[test]
fn div_max_min_examples() {
    type H = HList![Vector<4>, Vector<4>];
    let (i, j) = (at::<H, Vector<4>>(0), at::<H, Vector<4>>(1));
    let x: TList<f64, H> = tlist![
        Tensor::new([7.0, 1.0, -1.0, 0.0]),
        Tensor::new([2.0, 0.0, 0.0, 0.0])
    ];
    let quot = forward(&ops::div(i, j).into_node::<f64, ()>(), &x);
    assert_eq!(quot[..3], [3.5, f64::INFINITY, f64::NEG_INFINITY]);
    assert!(quot[3].is_nan());
    // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²: at (7, 2), 1/2 and −7/4.
    let node = ops::div(i, j).into_node::<f64, ()>();
    let seed = Tensor::new([1.0, 0.0, 0.0, 0.0]);
    assert_eq!(
        vjp_at::<f64, H, Vector<4>, Vector<4>>(&node, &x, &seed, 0)[0],
        0.5
    );
    assert_eq!(
        vjp_at::<f64, H, Vector<4>, Vector<4>>(&node, &x, &seed, 1)[0],
        -1.75
    );

    let xq: TList<Rational, H> = tlist![
        Tensor::new([q(7, 1), q(1, 1), q(-1, 3), q(0, 1)]),
        Tensor::new([q(2, 1), q(0, 1), q(2, 5), q(0, 1)])
    ];
    assert_eq!(
        forward(&ops::div(i, j).into_node::<Rational, ()>(), &xq),
        vec![q(7, 2), q(0, 1), q(-5, 6), q(0, 1)]
    );
    assert_eq!(
        forward(&ops::powi(i, -2).into_node::<Rational, ()>(), &xq),
        vec![q(1, 49), q(1, 1), q(9, 1), q(0, 1)]
    );
    assert_eq!(
        forward(&ops::square(j).into_node::<Rational, ()>(), &xq),
        vec![q(4, 1), q(0, 1), q(4, 25), q(0, 1)]
    );

    let y: TList<f64, H> = tlist![
        Tensor::new([1.0, 2.0, 3.0, f64::NAN]),
        Tensor::new([2.0, 2.0, -3.0, 0.0])
    ];
    assert!(forward(&ops::maximum(i, j).into_node::<f64, ()>(), &y)[..3] == [2.0, 2.0, 3.0]);
    assert!(forward(&ops::minimum(i, j).into_node::<f64, ()>(), &y)[..3] == [1.0, 2.0, -3.0]);
    for n in [
        ops::maximum(i, j),
        ops::minimum(i, j),
        ops::maximum(j, i),
        ops::minimum(j, i),
    ] {
        assert!(forward(&n.into_node::<f64, ()>(), &y)[3].is_nan());
    }
    // The gradient goes to the larger operand, half to each at the tie (entry 1).
    let seed = Tensor::new([4.0, 4.0, 4.0, 0.0]);
    let node = ops::maximum(i, j).into_node::<f64, ()>();
    assert_eq!(
        vjp_at::<f64, H, Vector<4>, Vector<4>>(&node, &y, &seed, 0)[..3],
        [0.0, 2.0, 4.0]
    );
    assert_eq!(
        vjp_at::<f64, H, Vector<4>, Vector<4>>(&node, &y, &seed, 1)[..3],
        [4.0, 2.0, 0.0]
    );
    let node = ops::minimum(i, j).into_node::<f64, ()>();
    assert_eq!(
        vjp_at::<f64, H, Vector<4>, Vector<4>>(&node, &y, &seed, 0)[..3],
        [4.0, 2.0, 0.0]
    );
    assert_eq!(
        vjp_at::<f64, H, Vector<4>, Vector<4>>(&node, &y, &seed, 1)[..3],
        [0.0, 2.0, 4.0]
    );
}

/// The new ops with constants refuse NaN and ±∞ (and `clamp` a lower limit above the upper,
/// compared exactly).
#[test]
fn activation_constants_are_checked() {
    let i = at::<Un, M23>(1);
    for c in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = ops::leaky_relu(i, c).unwrap_err();
        assert_eq!((e.op, e.needs), ("leaky_relu", "a finite slope"));
        assert!(e.value.is_nan() == c.is_nan() && (c.is_nan() || e.value == c));
        let e = ops::elu(i, c).unwrap_err();
        assert_eq!((e.op, e.needs), ("elu", "a finite α"));
        for (lo, hi) in [(c, 1.0), (-1.0, c), (c, c)] {
            let e = ops::clamp(i, lo, hi).unwrap_err();
            assert_eq!((e.op, e.needs), ("clamp", "finite limits"));
        }
    }
    assert!(ops::elu(i, f32::NAN).is_err());
    let e = ops::clamp(i, 2.0, 1.0).unwrap_err();
    assert_eq!(
        (e.op, e.value, e.needs),
        ("clamp", 2.0, "a lower limit ≤ the upper limit")
    );
    assert_eq!(
        e.to_string(),
        "clamp: the constant 2 is not allowed, it needs a lower limit ≤ the upper limit"
    );
    // Two rationals that round to the same f64 are still ordered exactly.
    let third = q(1, 3);
    let above = third.clone() + Rational::new(1.into(), num_bigint::BigInt::from(10).pow(40));
    assert!(ops::clamp(i, above.clone(), third.clone()).is_err());
    assert!(ops::clamp(i, third, above).is_ok());
    // Valid constants: any finite slope or α, equal limits.
    assert!(ops::leaky_relu(i, -3.0).is_ok());
    assert!(ops::leaky_relu(i, 0.0_f32).is_ok());
    assert!(ops::elu(i, q(-1, 2)).is_ok());
    assert!(ops::clamp(i, 0.5, 0.5).is_ok());
    assert!(ops::clamp(i, -f64::MAX, f64::MAX).is_ok());
}

#[test]
fn activation_nan_inputs_propagate() {
    let un: Vec<f64> = (0..total_len::<Un>())
        .map(|k| (k as f64 * 0.7).sin() * 2.0)
        .collect();
    let bin: Vec<f64> = (0..total_len::<Bin>())
        .map(|k| (k as f64 * 0.7).sin() * 2.0)
        .collect();
    let i = at::<Un, M23>(1);
    nan_in_each_entry(&ops::abs(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::square(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::powi(i, 3).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::powi(i, -2).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::sqrt(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::log(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::gelu(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(&ops::silu(i).into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(
        &ops::leaky_relu(i, 0.1).unwrap().into_node::<f64, ()>(),
        &un,
        &[1],
    );
    nan_in_each_entry(&ops::elu(i, 1.0).unwrap().into_node::<f64, ()>(), &un, &[1]);
    nan_in_each_entry(
        &ops::clamp(i, -0.5, 0.5).unwrap().into_node::<f64, ()>(),
        &un,
        &[1],
    );
    let (a, b) = (at::<Bin, M23>(1), at::<Bin, M23>(2));
    nan_in_each_entry(&ops::div(a, b).into_node::<f64, ()>(), &bin, &[1, 2]);
    nan_in_each_entry(&ops::maximum(a, b).into_node::<f64, ()>(), &bin, &[1, 2]);
    nan_in_each_entry(&ops::minimum(a, b).into_node::<f64, ()>(), &bin, &[1, 2]);
}

/// Outside the domain of `sqrt` and `log` the certified bound is `+∞`: when the runtime value
/// is NaN or `−∞`, and for `sqrt` also when the error box of a valid input reaches below 0.
#[test]
fn sqrt_and_log_bounds_outside_the_domain() {
    use shapetape::approx::{EList, RevGraph};
    type H = HList![Vector<1>];
    let bound = |g: &RevGraph<f32, f64, H, HList![Vector<1>]>, x: f32, e: f64| {
        let (_, eps) = g.eval_certified(EList::uniform(e), tlist![Tensor::new([x])]);
        eps.as_slice()[1]
    };
    let sqrt = RevGraph::<f32, f64, H, HNil>::nil().snoc(ops::sqrt(Idx::<H, _>::at::<0>()));
    let log = RevGraph::<f32, f64, H, HNil>::nil().snoc(ops::log(Idx::<H, _>::at::<0>()));
    for g in [&sqrt, &log] {
        assert_eq!(bound(g, -1.0, 0.0), f64::INFINITY);
        assert_eq!(bound(g, -1.0, 1e-3), f64::INFINITY);
        assert_eq!(bound(g, 0.0, 1e-3), f64::INFINITY);
        let inside = bound(g, 4.0, 1e-3);
        // 1e-3 times the slope (1/4 for both at 4) plus the rounding of an f32 result.
        assert!(inside > 2.4e-4 && inside < 2.6e-4 + 1e-6, "{inside}");
    }
    assert_eq!(bound(&log, 0.0, 0.0), f64::INFINITY); // ln 0 = −∞
    assert!(bound(&sqrt, 0.0, 0.0) < 1e-300); // √0 = 0 exactly
    assert_eq!(bound(&sqrt, 1e-3, 1e-3), bound(&sqrt, 1e-3, 1e-3)); // on the edge: finite
    assert!(bound(&sqrt, 1e-3, 1e-3) < 1.0);
    assert_eq!(bound(&sqrt, 1e-3, 2e-3), f64::INFINITY);
}

/// `Interval::exp_m1` encloses `eˣ − 1`: around the platform's `expm1` (trusted to an ulp only
/// for this check), over an interval, and tight also near 0 (where `eˣ − 1` computed from
/// `exp` alone would cancel): at most a relative 10⁻¹¹ wide, far below `f32` rounding.
#[test]
fn interval_exp_m1_encloses() {
    use shapetape::approx::Interval;
    let mut xs = vec![
        0.0, -0.0, 1e-300, -1e-300, 1e-10, -1e-10, 0.5, -0.5, 1.0, -1.0, 30.0, -30.0, 700.0, -800.0,
    ];
    xs.extend((0..2000).map(|k| (k as f64 * 0.37).sin() * 10.0_f64.powi(k % 7 - 5)));
    for &x in &xs {
        let r = Real::exp_m1(Interval::point(x));
        let m = x.exp_m1();
        assert!(
            r.lo() <= m.next_up() && m.next_down() <= r.hi(),
            "{x}: {r} misses {m}"
        );
        assert!(r.lo() >= -1.0 && r.lo() <= r.hi());
        // A few ulps wide, relative to the value (or absolutely near −1).
        assert!(
            r.hi() - r.lo() <= 1e-11 * m.abs() || (m < -0.5 && r.hi() - r.lo() < 1e-15) || m == 0.0,
            "{x}: {r} is loose"
        );
    }
    let r = Real::exp_m1(Interval::new(-1.0, 2.0));
    assert!(r.contains((-1.0_f64).exp_m1()) && r.contains(2.0_f64.exp_m1()));
    assert_eq!(Real::exp_m1(Interval::ENTIRE).lo(), -1.0);
    assert_eq!(Real::exp_m1(Interval::ENTIRE).hi(), f64::INFINITY);
}
