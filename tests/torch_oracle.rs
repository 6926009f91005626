//! PyTorch as an external oracle for the op library: every op's forward value, JVP and VJP in
//! `f64`, against `tests/fixtures/torch_ops.json` (written by `scripts/make_torch_fixtures.py`
//! with `torch.func.jvp` / `torch.func.vjp`; read its header for the conventions at kinks and
//! the few places where the PyTorch call is adapted to shapetape's documented meaning).
//!
//! **Comparison.** For each quantity (the output, the JVP, and the VJP of every input slot),
//! the normwise error `‖ours − torch‖₂ / max(‖torch‖₂, 10⁻²)` must be at most `1e-12`: a
//! relative error, with an absolute floor for references that are (numerically) zero. The
//! fixture's inputs, tangents and seeds are of order 1, and its references of 2-norm below
//! `10⁻²` are: exact zeros (an index slot's VJP, `sub(x, x)`, `x⁰`, a clamp with equal limits,
//! a softmax or log-softmax over one class, along any axis, a variance of one entry); values
//! that are zero in exact arithmetic, where PyTorch returns rounding noise of at most 4e-15
//! (layer_norm's gradients over one feature, `div(x, x)`'s); and four VJPs of norm 3e-3 to
//! 8e-3 (attention with one query row, `mean` of 7 entries),
//! which are thus held to an absolute `1e-14`, at most 3.5 times looser than the relative
//! test. A NaN, an infinity or a length mismatch always fails. Quantities listed in a case's
//! `skip` (only kl_div's zero targets, where the target's gradient is −∞ in shapetape and NaN
//! in PyTorch) are not compared.
//!
//! **Adding an op.** Add it to `OPS` in the script, regenerate the fixture, add one `entry!`
//! line per case to [`registry`] and the op's name to a family in `families!`. The test
//! `fixture_and_registry_agree` fails until every fixture case has an entry and every entry a
//! fixture case.

use std::collections::BTreeSet;

use serde_json::Value;
use shapetape::autograd::{Eval, OpNode};
use shapetape::ops::{self, AdaptiveSize, Conv1dParams, Conv2dParams};
use shapetape::prelude::*;

const FIXTURE: &str = include_str!("fixtures/torch_ops.json");

/// The largest normwise error allowed.
const TOL: f64 = 1e-12;
/// The floor of the denominator: references of smaller 2-norm are compared absolutely.
const FLOOR: f64 = 1e-2;

// ----------------------------------------------------------------------------- the fixture

/// A number of the fixture: a string holding Python's `repr` of a float64 (`str::parse` is
/// correctly rounded, so the value is the one PyTorch used, bit for bit).
fn num(v: &Value) -> f64 {
    v.as_str()
        .expect("fixture numbers are strings")
        .parse()
        .expect("a decimal float")
}

/// A flattened tensor of the fixture.
fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("a list of numbers")
        .iter()
        .map(num)
        .collect()
}

/// A list of flattened tensors of the fixture (one per input slot).
fn slots(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("a list of slots")
        .iter()
        .map(nums)
        .collect()
}

fn dims(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("a shape")
        .iter()
        .map(|d| d.as_u64().expect("a dimension") as usize)
        .collect()
}

/// One case of the fixture.
struct Case<'a>(&'a Value);

impl<'a> Case<'a> {
    fn op(&self) -> &'a str {
        self.0["op"].as_str().expect("op name")
    }

    fn name(&self) -> &'a str {
        self.0["case"].as_str().expect("case name")
    }

    /// The numeric constant `key` of the op (a scale factor, an `ε`, a `δ`).
    fn param(&self, key: &str) -> f64 {
        num(&self.0["params"][key])
    }

    /// The boolean constant `key` of the op.
    fn flag(&self, key: &str) -> bool {
        self.0["params"][key]
            .as_bool()
            .expect("a boolean parameter")
    }

    fn skips(&self, quantity: &str) -> bool {
        self.0["skip"]
            .as_array()
            .expect("skip list")
            .iter()
            .any(|s| s.as_str() == Some(quantity))
    }
}

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("the fixture is valid JSON")
}

fn cases(doc: &Value) -> &[Value] {
    doc["cases"].as_array().expect("a list of cases")
}

// ------------------------------------------------------------------------------ comparison

/// The 2-norm, scaled by the largest entry so that entries near `1e300` do not overflow.
fn norm2(v: impl Iterator<Item = f64> + Clone) -> f64 {
    let m = v.clone().fold(0.0_f64, |m, x| m.max(x.abs()));
    if m == 0.0 {
        return 0.0;
    }
    m * v.map(|x| (x / m) * (x / m)).sum::<f64>().sqrt()
}

/// `‖ours − reference‖₂ / max(‖reference‖₂, FLOOR)`; NaN if the lengths differ or anything
/// is NaN or infinite (every compared reference of the fixture is finite).
fn normwise_error(ours: &[f64], reference: &[f64]) -> f64 {
    if ours.len() != reference.len() || ours.iter().chain(reference).any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    let diff = norm2(ours.iter().zip(reference).map(|(a, b)| a - b));
    diff / norm2(reference.iter().copied()).max(FLOOR)
}

/// Whether an error from [`normwise_error`] passes (false for NaN).
fn passes(err: f64) -> bool {
    err <= TOL
}

/// Runs the op on the case's inputs and compares forward, JVP and every VJP slot with
/// PyTorch's; the largest error seen, or a message naming every quantity that failed.
fn check<G: ShapeList, K: Eval<f64, ()>>(c: &Case<'_>, node: OpNode<G, K>) -> Result<f64, String> {
    let v = c.0;
    let layout = G::layout();
    let ours: Vec<Vec<usize>> = layout.iter().map(|l| l.dims.clone()).collect();
    let theirs: Vec<Vec<usize>> = v["shapes"].as_array().unwrap().iter().map(dims).collect();
    if ours != theirs {
        return Err(format!("input shapes {ours:?}, fixture {theirs:?}"));
    }
    let out = K::Out::dims().to_vec();
    if out != dims(&v["out_shape"]) {
        return Err(format!(
            "output shape {out:?}, fixture {:?}",
            dims(&v["out_shape"])
        ));
    }
    let flat = |key: &str| slots(&v[key]).concat();
    let x = TList::<f64, G>::try_from_flat(flat("inputs")).map_err(|e| e.to_string())?;
    let dx = TList::<f64, G>::try_from_flat(flat("tangents")).map_err(|e| e.to_string())?;
    let seed =
        Tensor::<f64, K::Out>::try_from_vec(nums(&v["cotangent"])).map_err(|e| e.to_string())?;

    let node = node.into_node::<f64, ()>();
    let y = node.forward(&x, &());
    let jy = node.jvp(&x, &dx, &());
    let grads = node.vjp(&x, &(), &seed).to_dense();

    let mut compared: Vec<(String, Vec<f64>, Vec<f64>)> = vec![
        ("forward".into(), y.as_slice().to_vec(), nums(&v["forward"])),
        ("jvp".into(), jy.as_slice().to_vec(), nums(&v["jvp"])),
    ];
    for (i, (g, r)) in grads.slot_slices().zip(slots(&v["vjp"])).enumerate() {
        compared.push((format!("vjp{i}"), g.to_vec(), r));
    }
    let mut worst = 0.0_f64;
    let mut failures = Vec::new();
    for (name, ours, reference) in compared {
        if c.skips(&name) {
            continue;
        }
        let err = normwise_error(&ours, &reference);
        if passes(err) {
            worst = worst.max(err);
        } else {
            failures.push(format!(
                "{name}: normwise error {err:e}\n      ours  {ours:?}\n      torch {reference:?}"
            ));
        }
    }
    if failures.is_empty() {
        Ok(worst)
    } else {
        Err(failures.join("\n    "))
    }
}

// -------------------------------------------------------------------------------- registry

/// Checks one case: the largest error seen, or a message naming what disagreed.
type Runner = dyn Fn(&Case<'_>) -> Result<f64, String>;

/// The Rust side of one fixture case: builds the op at the case's static shapes and checks it.
struct Entry {
    op: &'static str,
    case: &'static str,
    run: Box<Runner>,
}

/// Binds each name to the index of its position in the context `$g`.
macro_rules! bind {
    ($g:ty; $n:expr;) => {};
    ($g:ty; $n:expr; $x:ident : $s:ty $(, $rest:ident : $rs:ty)*) => {
        let $x = Idx::<$g, $s>::at::<{ $n }>();
        bind!($g; $n + 1; $($rest : $rs),*);
    };
}

/// `entry!("op" / "case", [x: Shape, ..] => |c| node)`: the op `node` built from the inputs
/// `x, ..` (indices into the context of those shapes, in order) and the case `c` (for the
/// op's constants).
macro_rules! entry {
    ($op:literal / $case:literal, [$($x:ident : $s:ty),+ $(,)?] => |$c:pat_param| $node:expr) => {
        Entry {
            op: $op,
            case: $case,
            run: Box::new(|case: &Case<'_>| {
                bind!(HList![$($s),+]; 0; $($x : $s),+);
                let $c = case;
                check(case, $node)
            }),
        }
    };
}

type V<const N: usize> = Vector<N>;
type M<const R: usize, const C: usize> = Matrix<R, C>;
type T3<const A: usize, const B: usize, const C: usize> = Tensor3<A, B, C>;
/// `[N, C, H, W]`.
type T4<const N: usize, const C: usize, const H: usize, const W: usize> =
    Dim<N, Dim<C, Dim<H, Vector<W>>>>;

/// Every case of the fixture, as Rust code.
fn registry() -> Vec<Entry> {
    vec![
        // binary
        entry!("add" / "v7", [a: V<7>, b: V<7>] => |_| ops::add(a, b)),
        entry!("add" / "m1x5", [a: M<1, 5>, b: M<1, 5>] => |_| ops::add(a, b)),
        entry!("add" / "t2x1x3", [a: T3<2, 1, 3>, b: T3<2, 1, 3>] => |_| ops::add(a, b)),
        entry!("add" / "alias", [x: V<5>] => |_| ops::add(x, x)),
        entry!("sub" / "v7", [a: V<7>, b: V<7>] => |_| ops::sub(a, b)),
        entry!("sub" / "m1x5", [a: M<1, 5>, b: M<1, 5>] => |_| ops::sub(a, b)),
        entry!("sub" / "t2x1x3", [a: T3<2, 1, 3>, b: T3<2, 1, 3>] => |_| ops::sub(a, b)),
        entry!("sub" / "alias", [x: V<5>] => |_| ops::sub(x, x)),
        entry!("mul" / "v7", [a: V<7>, b: V<7>] => |_| ops::mul(a, b)),
        entry!("mul" / "m1x5", [a: M<1, 5>, b: M<1, 5>] => |_| ops::mul(a, b)),
        entry!("mul" / "t2x1x3", [a: T3<2, 1, 3>, b: T3<2, 1, 3>] => |_| ops::mul(a, b)),
        entry!("mul" / "alias", [x: V<5>] => |_| ops::mul(x, x)),
        // entrywise
        entry!("neg" / "v7", [x: V<7>] => |_| ops::neg(x)),
        entry!("neg" / "m1x5", [x: M<1, 5>] => |_| ops::neg(x)),
        entry!("neg" / "t2x1x3", [x: T3<2, 1, 3>] => |_| ops::neg(x)),
        entry!("scale" / "v7", [x: V<7>] => |c| ops::scale(x, c.param("c")).unwrap()),
        entry!("scale" / "m1x5", [x: M<1, 5>] => |c| ops::scale(x, c.param("c")).unwrap()),
        entry!("scale" / "t2x1x3", [x: T3<2, 1, 3>] => |c| ops::scale(x, c.param("c")).unwrap()),
        entry!("relu" / "v7", [x: V<7>] => |_| ops::relu(x)),
        entry!("relu" / "m1x5", [x: M<1, 5>] => |_| ops::relu(x)),
        entry!("relu" / "special", [x: V<7>] => |_| ops::relu(x)),
        entry!("exp" / "v7", [x: V<7>] => |_| ops::exp(x)),
        entry!("exp" / "m1x5", [x: M<1, 5>] => |_| ops::exp(x)),
        entry!("exp" / "special", [x: V<5>] => |_| ops::exp(x)),
        entry!("tanh" / "v7", [x: V<7>] => |_| ops::tanh(x)),
        entry!("tanh" / "m1x5", [x: M<1, 5>] => |_| ops::tanh(x)),
        entry!("tanh" / "special", [x: V<5>] => |_| ops::tanh(x)),
        entry!("sigmoid" / "v7", [x: V<7>] => |_| ops::sigmoid(x)),
        entry!("sigmoid" / "m1x5", [x: M<1, 5>] => |_| ops::sigmoid(x)),
        entry!("sigmoid" / "special", [x: V<7>] => |_| ops::sigmoid(x)),
        entry!("softplus" / "v7", [x: V<7>] => |_| ops::softplus(x)),
        entry!("softplus" / "m1x5", [x: M<1, 5>] => |_| ops::softplus(x)),
        entry!("softplus" / "special", [x: V<7>] => |_| ops::softplus(x)),
        entry!("safe_log" / "v7", [x: V<7>] => |c| ops::safe_log(x, c.param("eps")).unwrap()),
        entry!("safe_log" / "m1x5", [x: M<1, 5>] => |c| ops::safe_log(x, c.param("eps")).unwrap()),
        entry!("safe_log" / "special", [x: V<7>] => |c| ops::safe_log(x, c.param("eps")).unwrap()),
        // entrywise (activations)
        entry!("abs" / "v7", [x: V<7>] => |_| ops::abs(x)),
        entry!("abs" / "m1x5", [x: M<1, 5>] => |_| ops::abs(x)),
        entry!("abs" / "special", [x: V<5>] => |_| ops::abs(x)),
        entry!("square" / "v7", [x: V<7>] => |_| ops::square(x)),
        entry!("square" / "m1x5", [x: M<1, 5>] => |_| ops::square(x)),
        entry!("square" / "t2x1x3", [x: T3<2, 1, 3>] => |_| ops::square(x)),
        entry!("powi" / "v7_n3", [x: V<7>] => |c| ops::powi(x, c.param("n") as i32)),
        entry!("powi" / "m1x5_n-2", [x: M<1, 5>] => |c| ops::powi(x, c.param("n") as i32)),
        entry!("powi" / "t2x1x3_n0", [x: T3<2, 1, 3>] => |c| ops::powi(x, c.param("n") as i32)),
        entry!("powi" / "special_n1", [x: V<3>] => |c| ops::powi(x, c.param("n") as i32)),
        entry!("sqrt" / "v7", [x: V<7>] => |_| ops::sqrt(x)),
        entry!("sqrt" / "m1x5", [x: M<1, 5>] => |_| ops::sqrt(x)),
        entry!("sqrt" / "special", [x: V<6>] => |_| ops::sqrt(x)),
        entry!("log" / "v7", [x: V<7>] => |_| ops::log(x)),
        entry!("log" / "m1x5", [x: M<1, 5>] => |_| ops::log(x)),
        entry!("log" / "special", [x: V<5>] => |_| ops::log(x)),
        entry!("gelu" / "v7", [x: V<7>] => |_| ops::gelu(x)),
        entry!("gelu" / "m1x5", [x: M<1, 5>] => |_| ops::gelu(x)),
        entry!("gelu" / "special", [x: V<7>] => |_| ops::gelu(x)),
        entry!("gelu_erf" / "v7", [x: V<7>] => |_| ops::gelu_erf(x)),
        entry!("gelu_erf" / "m1x5", [x: M<1, 5>] => |_| ops::gelu_erf(x)),
        entry!("gelu_erf" / "special", [x: V<9>] => |_| ops::gelu_erf(x)),
        entry!("erf" / "v7", [x: V<7>] => |_| ops::erf(x)),
        entry!("erf" / "m1x5", [x: M<1, 5>] => |_| ops::erf(x)),
        entry!("erf" / "special", [x: V<10>] => |_| ops::erf(x)),
        entry!("silu" / "v7", [x: V<7>] => |_| ops::silu(x)),
        entry!("silu" / "m1x5", [x: M<1, 5>] => |_| ops::silu(x)),
        entry!("silu" / "special", [x: V<6>] => |_| ops::silu(x)),
        entry!("leaky_relu" / "v7", [x: V<7>] => |c| ops::leaky_relu(x, c.param("slope")).unwrap()),
        entry!("leaky_relu" / "m1x5", [x: M<1, 5>]
            => |c| ops::leaky_relu(x, c.param("slope")).unwrap()),
        entry!("leaky_relu" / "special", [x: V<5>]
            => |c| ops::leaky_relu(x, c.param("slope")).unwrap()),
        entry!("elu" / "v7", [x: V<7>] => |c| ops::elu(x, c.param("alpha")).unwrap()),
        entry!("elu" / "m1x5", [x: M<1, 5>] => |c| ops::elu(x, c.param("alpha")).unwrap()),
        entry!("elu" / "special", [x: V<6>] => |c| ops::elu(x, c.param("alpha")).unwrap()),
        entry!("clamp" / "v7", [x: V<7>]
            => |c| ops::clamp(x, c.param("lo"), c.param("hi")).unwrap()),
        entry!("clamp" / "m1x5", [x: M<1, 5>]
            => |c| ops::clamp(x, c.param("lo"), c.param("hi")).unwrap()),
        entry!("clamp" / "special", [x: V<6>]
            => |c| ops::clamp(x, c.param("lo"), c.param("hi")).unwrap()),
        entry!("clamp" / "equal_limits", [x: V<4>]
            => |c| ops::clamp(x, c.param("lo"), c.param("hi")).unwrap()),
        // binary (division, maximum, minimum)
        entry!("div" / "v7", [a: V<7>, b: V<7>] => |_| ops::div(a, b)),
        entry!("div" / "m1x5", [a: M<1, 5>, b: M<1, 5>] => |_| ops::div(a, b)),
        entry!("div" / "alias", [x: V<5>] => |_| ops::div(x, x)),
        entry!("maximum" / "v7", [a: V<7>, b: V<7>] => |_| ops::maximum(a, b)),
        entry!("maximum" / "m1x5", [a: M<1, 5>, b: M<1, 5>] => |_| ops::maximum(a, b)),
        entry!("maximum" / "ties", [a: V<5>, b: V<5>] => |_| ops::maximum(a, b)),
        entry!("maximum" / "alias", [x: V<5>] => |_| ops::maximum(x, x)),
        entry!("minimum" / "v7", [a: V<7>, b: V<7>] => |_| ops::minimum(a, b)),
        entry!("minimum" / "m1x5", [a: M<1, 5>, b: M<1, 5>] => |_| ops::minimum(a, b)),
        entry!("minimum" / "ties", [a: V<5>, b: V<5>] => |_| ops::minimum(a, b)),
        entry!("minimum" / "alias", [x: V<5>] => |_| ops::minimum(x, x)),
        // shape ops (the axes and shapes are in the types; the fixture's params name them)
        entry!("reshape" / "m2x3_to_m3x2", [x: M<2, 3>] => |_| ops::reshape::<M<3, 2>, _, _>(x)),
        entry!("reshape" / "m1x5_to_v5", [x: M<1, 5>] => |_| ops::reshape::<V<5>, _, _>(x)),
        entry!("reshape" / "t2x1x3_to_m3x2", [x: T3<2, 1, 3>]
            => |_| ops::reshape::<M<3, 2>, _, _>(x)),
        entry!("flatten" / "m2x3", [x: M<2, 3>] => |_| ops::flatten(x)),
        entry!("flatten" / "t2x1x3", [x: T3<2, 1, 3>] => |_| ops::flatten(x)),
        entry!("flatten" / "v1", [x: V<1>] => |_| ops::flatten(x)),
        entry!("swapaxes" / "t2x3x4_0_2", [x: T3<2, 3, 4>] => |_| ops::swapaxes::<0, 2, _, _>(x)),
        entry!("swapaxes" / "t2x1x3_1_2", [x: T3<2, 1, 3>] => |_| ops::swapaxes::<1, 2, _, _>(x)),
        entry!("swapaxes" / "m1x4_0_1", [x: M<1, 4>] => |_| ops::swapaxes::<0, 1, _, _>(x)),
        entry!("permute" / "t2x3x4_2_0_1", [x: T3<2, 3, 4>]
            => |_| ops::permute(x, (ops::Ax::<2>, ops::Ax::<0>, ops::Ax::<1>))),
        entry!("permute" / "t2x1x3_1_2_0", [x: T3<2, 1, 3>]
            => |_| ops::permute(x, (ops::Ax::<1>, ops::Ax::<2>, ops::Ax::<0>))),
        entry!("permute" / "m3x5_1_0", [x: M<3, 5>]
            => |_| ops::permute(x, (ops::Ax::<1>, ops::Ax::<0>))),
        entry!("concat" / "m2x3_m1x3_ax0", [a: M<2, 3>, b: M<1, 3>]
            => |_| ops::concat::<0, _, _, _>(a, b)),
        entry!("concat" / "m2x3_m2x1_ax1", [a: M<2, 3>, b: M<2, 1>]
            => |_| ops::concat::<1, _, _, _>(a, b)),
        entry!("concat" / "t2x1x3_t2x1x2_ax2", [a: T3<2, 1, 3>, b: T3<2, 1, 2>]
            => |_| ops::concat::<2, _, _, _>(a, b)),
        entry!("concat" / "alias_v3_ax0", [x: V<3>] => |_| ops::concat::<0, _, _, _>(x, x)),
        entry!("stack" / "v3", [a: V<3>, b: V<3>] => |_| ops::stack(a, b)),
        entry!("stack" / "m1x5", [a: M<1, 5>, b: M<1, 5>] => |_| ops::stack(a, b)),
        entry!("stack" / "alias_v3", [x: V<3>] => |_| ops::stack(x, x)),
        entry!("narrow" / "m3x5_ax1_1_3", [x: M<3, 5>] => |_| ops::narrow::<1, 1, 3, _, _>(x)),
        entry!("narrow" / "t2x3x4_ax0_1_1", [x: T3<2, 3, 4>]
            => |_| ops::narrow::<0, 1, 1, _, _>(x)),
        entry!("narrow" / "v7_ax0_6_1", [x: V<7>] => |_| ops::narrow::<0, 6, 1, _, _>(x)),
        entry!("broadcast_to" / "v3_to_m4x3", [x: V<3>]
            => |_| ops::broadcast_to::<M<4, 3>, _, _>(x)),
        entry!("broadcast_to" / "m1x3_to_t2x4x3", [x: M<1, 3>]
            => |_| ops::broadcast_to::<T3<2, 4, 3>, _, _>(x)),
        entry!("broadcast_to" / "t2x1x3_to_t2x4x3", [x: T3<2, 1, 3>]
            => |_| ops::broadcast_to::<T3<2, 4, 3>, _, _>(x)),
        entry!("broadcast_to" / "scalar_to_v5", [x: Scalar]
            => |_| ops::broadcast_to::<V<5>, _, _>(x)),
        // reductions
        entry!("sum" / "scalar", [x: Scalar] => |_| ops::sum(x)),
        entry!("sum" / "v1", [x: V<1>] => |_| ops::sum(x)),
        entry!("sum" / "v7", [x: V<7>] => |_| ops::sum(x)),
        entry!("sum" / "t2x1x3", [x: T3<2, 1, 3>] => |_| ops::sum(x)),
        entry!("mean" / "scalar", [x: Scalar] => |_| ops::mean(x)),
        entry!("mean" / "v1", [x: V<1>] => |_| ops::mean(x)),
        entry!("mean" / "v7", [x: V<7>] => |_| ops::mean(x)),
        entry!("mean" / "t2x1x3", [x: T3<2, 1, 3>] => |_| ops::mean(x)),
        // reductions along an axis
        entry!("sum_axis" / "m3x5_ax0", [x: M<3, 5>] => |_| ops::sum_axis::<0, _, _>(x)),
        entry!("sum_axis" / "m3x5_ax1", [x: M<3, 5>] => |_| ops::sum_axis::<1, _, _>(x)),
        entry!("sum_axis" / "t2x3x5_ax0", [x: T3<2, 3, 5>] => |_| ops::sum_axis::<0, _, _>(x)),
        entry!("sum_axis" / "t2x3x5_ax1", [x: T3<2, 3, 5>] => |_| ops::sum_axis::<1, _, _>(x)),
        entry!("sum_axis" / "t2x3x5_ax2", [x: T3<2, 3, 5>] => |_| ops::sum_axis::<2, _, _>(x)),
        entry!("sum_axis" / "t3x1x5_ax1", [x: T3<3, 1, 5>] => |_| ops::sum_axis::<1, _, _>(x)),
        entry!("mean_axis" / "m3x5_ax0", [x: M<3, 5>] => |_| ops::mean_axis::<0, _, _>(x)),
        entry!("mean_axis" / "m3x5_ax1", [x: M<3, 5>] => |_| ops::mean_axis::<1, _, _>(x)),
        entry!("mean_axis" / "t2x3x5_ax0", [x: T3<2, 3, 5>] => |_| ops::mean_axis::<0, _, _>(x)),
        entry!("mean_axis" / "t2x3x5_ax1", [x: T3<2, 3, 5>] => |_| ops::mean_axis::<1, _, _>(x)),
        entry!("mean_axis" / "t2x3x5_ax2", [x: T3<2, 3, 5>] => |_| ops::mean_axis::<2, _, _>(x)),
        entry!("mean_axis" / "t3x1x5_ax1", [x: T3<3, 1, 5>] => |_| ops::mean_axis::<1, _, _>(x)),
        entry!("max_axis" / "m3x5_ax0", [x: M<3, 5>] => |_| ops::max_axis::<0, _, _>(x)),
        entry!("max_axis" / "m3x5_ax1", [x: M<3, 5>] => |_| ops::max_axis::<1, _, _>(x)),
        entry!("max_axis" / "t2x3x5_ax0", [x: T3<2, 3, 5>] => |_| ops::max_axis::<0, _, _>(x)),
        entry!("max_axis" / "t2x3x5_ax1", [x: T3<2, 3, 5>] => |_| ops::max_axis::<1, _, _>(x)),
        entry!("max_axis" / "t2x3x5_ax2", [x: T3<2, 3, 5>] => |_| ops::max_axis::<2, _, _>(x)),
        entry!("max_axis" / "t3x1x5_ax1", [x: T3<3, 1, 5>] => |_| ops::max_axis::<1, _, _>(x)),
        entry!("max_axis" / "ties", [x: M<3, 5>] => |_| ops::max_axis::<1, _, _>(x)),
        entry!("var_axis" / "m3x5_ax0", [x: M<3, 5>] => |_| ops::var_axis::<0, _, _>(x)),
        entry!("var_axis" / "m3x5_ax1", [x: M<3, 5>] => |_| ops::var_axis::<1, _, _>(x)),
        entry!("var_axis" / "t2x3x5_ax0", [x: T3<2, 3, 5>] => |_| ops::var_axis::<0, _, _>(x)),
        entry!("var_axis" / "t2x3x5_ax1", [x: T3<2, 3, 5>] => |_| ops::var_axis::<1, _, _>(x)),
        entry!("var_axis" / "t2x3x5_ax2", [x: T3<2, 3, 5>] => |_| ops::var_axis::<2, _, _>(x)),
        entry!("var_axis" / "t3x1x5_ax1", [x: T3<3, 1, 5>] => |_| ops::var_axis::<1, _, _>(x)),
        entry!("logsumexp_axis" / "m3x5_ax0", [x: M<3, 5>]
            => |_| ops::logsumexp_axis::<0, _, _>(x)),
        entry!("logsumexp_axis" / "m3x5_ax1", [x: M<3, 5>]
            => |_| ops::logsumexp_axis::<1, _, _>(x)),
        entry!("logsumexp_axis" / "t2x3x5_ax0", [x: T3<2, 3, 5>]
            => |_| ops::logsumexp_axis::<0, _, _>(x)),
        entry!("logsumexp_axis" / "t2x3x5_ax1", [x: T3<2, 3, 5>]
            => |_| ops::logsumexp_axis::<1, _, _>(x)),
        entry!("logsumexp_axis" / "t2x3x5_ax2", [x: T3<2, 3, 5>]
            => |_| ops::logsumexp_axis::<2, _, _>(x)),
        entry!("logsumexp_axis" / "t3x1x5_ax1", [x: T3<3, 1, 5>]
            => |_| ops::logsumexp_axis::<1, _, _>(x)),
        entry!("logsumexp_axis" / "special_ax0", [x: M<3, 2>]
            => |_| ops::logsumexp_axis::<0, _, _>(x)),
        // linear algebra
        entry!("matvec" / "m3x5", [w: M<3, 5>, x: V<5>] => |_| ops::matvec(w, x)),
        entry!("matvec" / "m1x4", [w: M<1, 4>, x: V<4>] => |_| ops::matvec(w, x)),
        entry!("matvec" / "m4x1", [w: M<4, 1>, x: V<1>] => |_| ops::matvec(w, x)),
        entry!("matmul" / "2x3x4", [a: M<2, 3>, b: M<3, 4>] => |_| ops::matmul(a, b)),
        entry!("matmul" / "1x5x3", [a: M<1, 5>, b: M<5, 3>] => |_| ops::matmul(a, b)),
        entry!("matmul" / "4x1x1", [a: M<4, 1>, b: M<1, 1>] => |_| ops::matmul(a, b)),
        entry!("transpose" / "m3x5", [x: M<3, 5>] => |_| ops::transpose(x)),
        entry!("transpose" / "m1x4", [x: M<1, 4>] => |_| ops::transpose(x)),
        entry!("transpose" / "m5x1", [x: M<5, 1>] => |_| ops::transpose(x)),
        entry!("linear" / "o3_i5", [w: M<3, 5>, x: V<5>, b: V<3>] => |_| ops::linear(w, x, b)),
        entry!("linear" / "o1_i4", [w: M<1, 4>, x: V<4>, b: V<1>] => |_| ops::linear(w, x, b)),
        entry!("linear" / "o4_i1", [w: M<4, 1>, x: V<1>, b: V<4>] => |_| ops::linear(w, x, b)),
        entry!("linear_batch" / "b2_o3_i5", [w: M<3, 5>, x: M<2, 5>, b: V<3>]
            => |_| ops::linear_batch(w, x, b)),
        entry!("linear_batch" / "b1_o4_i3", [w: M<4, 3>, x: M<1, 3>, b: V<4>]
            => |_| ops::linear_batch(w, x, b)),
        entry!("linear_batch" / "b3_o1_i1", [w: M<1, 1>, x: M<3, 1>, b: V<1>]
            => |_| ops::linear_batch(w, x, b)),
        // softmax
        entry!("softmax" / "v7", [x: V<7>] => |_| ops::softmax(x)),
        entry!("softmax" / "m3x1", [x: M<3, 1>] => |_| ops::softmax(x)),
        entry!("softmax" / "t2x1x5", [x: T3<2, 1, 5>] => |_| ops::softmax(x)),
        entry!("softmax" / "special", [x: M<2, 3>] => |_| ops::softmax(x)),
        entry!("log_softmax" / "v7", [x: V<7>] => |_| ops::log_softmax(x)),
        entry!("log_softmax" / "m3x1", [x: M<3, 1>] => |_| ops::log_softmax(x)),
        entry!("log_softmax" / "t2x1x5", [x: T3<2, 1, 5>] => |_| ops::log_softmax(x)),
        entry!("log_softmax" / "special", [x: M<2, 3>] => |_| ops::log_softmax(x)),
        // softmax along an axis
        entry!("softmax_axis" / "m3x5_ax0", [x: M<3, 5>] => |_| ops::softmax_axis::<0, _, _>(x)),
        entry!("softmax_axis" / "m3x5_ax1", [x: M<3, 5>] => |_| ops::softmax_axis::<1, _, _>(x)),
        entry!("softmax_axis" / "t2x3x5_ax0", [x: T3<2, 3, 5>]
            => |_| ops::softmax_axis::<0, _, _>(x)),
        entry!("softmax_axis" / "t2x3x5_ax1", [x: T3<2, 3, 5>]
            => |_| ops::softmax_axis::<1, _, _>(x)),
        entry!("softmax_axis" / "t2x3x5_ax2", [x: T3<2, 3, 5>]
            => |_| ops::softmax_axis::<2, _, _>(x)),
        entry!("softmax_axis" / "t3x1x5_ax1", [x: T3<3, 1, 5>]
            => |_| ops::softmax_axis::<1, _, _>(x)),
        entry!("softmax_axis" / "special_ax0", [x: M<3, 2>] => |_| ops::softmax_axis::<0, _, _>(x)),
        entry!("log_softmax_axis" / "m3x5_ax0", [x: M<3, 5>]
            => |_| ops::log_softmax_axis::<0, _, _>(x)),
        entry!("log_softmax_axis" / "m3x5_ax1", [x: M<3, 5>]
            => |_| ops::log_softmax_axis::<1, _, _>(x)),
        entry!("log_softmax_axis" / "t2x3x5_ax0", [x: T3<2, 3, 5>]
            => |_| ops::log_softmax_axis::<0, _, _>(x)),
        entry!("log_softmax_axis" / "t2x3x5_ax1", [x: T3<2, 3, 5>]
            => |_| ops::log_softmax_axis::<1, _, _>(x)),
        entry!("log_softmax_axis" / "t2x3x5_ax2", [x: T3<2, 3, 5>]
            => |_| ops::log_softmax_axis::<2, _, _>(x)),
        entry!("log_softmax_axis" / "t3x1x5_ax1", [x: T3<3, 1, 5>]
            => |_| ops::log_softmax_axis::<1, _, _>(x)),
        entry!("log_softmax_axis" / "special_ax0", [x: M<3, 2>]
            => |_| ops::log_softmax_axis::<0, _, _>(x)),
        // losses
        entry!("mse" / "v7", [p: V<7>, t: V<7>] => |_| ops::mse(p, t)),
        entry!("mse" / "m1x5", [p: M<1, 5>, t: M<1, 5>] => |_| ops::mse(p, t)),
        entry!("mse" / "t2x1x3", [p: T3<2, 1, 3>, t: T3<2, 1, 3>] => |_| ops::mse(p, t)),
        entry!("cross_entropy" / "v5", [z: V<5>, t: V<5>] => |_| ops::cross_entropy(z, t)),
        entry!("cross_entropy" / "m1x4", [z: M<1, 4>, t: M<1, 4>] => |_| ops::cross_entropy(z, t)),
        entry!("cross_entropy" / "m3x5", [z: M<3, 5>, t: M<3, 5>] => |_| ops::cross_entropy(z, t)),
        entry!("cross_entropy" / "t2x1x3", [z: T3<2, 1, 3>, t: T3<2, 1, 3>]
            => |_| ops::cross_entropy(z, t)),
        entry!("cross_entropy" / "onehot", [z: M<3, 4>, t: M<3, 4>]
            => |_| ops::cross_entropy(z, t)),
        entry!("l1_loss" / "v7", [p: V<7>, t: V<7>] => |_| ops::l1_loss(p, t)),
        entry!("l1_loss" / "m1x5", [p: M<1, 5>, t: M<1, 5>] => |_| ops::l1_loss(p, t)),
        entry!("l1_loss" / "special", [p: V<5>, t: V<5>] => |_| ops::l1_loss(p, t)),
        entry!("huber_loss" / "v7", [p: V<7>, t: V<7>]
            => |c| ops::huber_loss(p, t, c.param("delta")).unwrap()),
        entry!("huber_loss" / "m1x5", [p: M<1, 5>, t: M<1, 5>]
            => |c| ops::huber_loss(p, t, c.param("delta")).unwrap()),
        entry!("huber_loss" / "special", [p: V<7>, t: V<7>]
            => |c| ops::huber_loss(p, t, c.param("delta")).unwrap()),
        entry!("binary_cross_entropy_with_logits" / "v7", [z: V<7>, y: V<7>]
            => |_| ops::binary_cross_entropy_with_logits(z, y)),
        entry!("binary_cross_entropy_with_logits" / "m1x5", [z: M<1, 5>, y: M<1, 5>]
            => |_| ops::binary_cross_entropy_with_logits(z, y)),
        entry!("binary_cross_entropy_with_logits" / "special", [z: V<6>, y: V<6>]
            => |_| ops::binary_cross_entropy_with_logits(z, y)),
        entry!("kl_div" / "v5", [x: V<5>, t: V<5>] => |_| ops::kl_div(x, t)),
        entry!("kl_div" / "m1x4", [x: M<1, 4>, t: M<1, 4>] => |_| ops::kl_div(x, t)),
        entry!("kl_div" / "m3x5", [x: M<3, 5>, t: M<3, 5>] => |_| ops::kl_div(x, t)),
        entry!("kl_div" / "zero_targets", [x: M<2, 3>, t: M<2, 3>] => |_| ops::kl_div(x, t)),
        entry!("nll_loss" / "b3_c5", [x: M<3, 5>, i: V<3>] => |_| ops::nll_loss(x, i)),
        entry!("nll_loss" / "b1_c4", [x: M<1, 4>, i: V<1>] => |_| ops::nll_loss(x, i)),
        entry!("nll_loss" / "b4_c1", [x: M<4, 1>, i: V<4>] => |_| ops::nll_loss(x, i)),
        entry!("cross_entropy_with_integer_labels" / "b3_c5", [z: M<3, 5>, i: V<3>]
            => |_| ops::cross_entropy_with_integer_labels(z, i)),
        entry!("cross_entropy_with_integer_labels" / "b1_c4", [z: M<1, 4>, i: V<1>]
            => |_| ops::cross_entropy_with_integer_labels(z, i)),
        entry!("cross_entropy_with_integer_labels" / "b4_c1", [z: M<4, 1>, i: V<4>]
            => |_| ops::cross_entropy_with_integer_labels(z, i)),
        // batched products and attention
        entry!("bmm" / "b2_2x3x4", [a: T3<2, 2, 3>, b: T3<2, 3, 4>] => |_| ops::bmm(a, b)),
        entry!("bmm" / "b1_3x1x2", [a: T3<1, 3, 1>, b: T3<1, 1, 2>] => |_| ops::bmm(a, b)),
        entry!("bmm" / "b3_1x2x1", [a: T3<3, 1, 2>, b: T3<3, 2, 1>] => |_| ops::bmm(a, b)),
        entry!("scaled_dot_product_attention" / "b2_t3_s4_d5_v2",
            [q: T3<2, 3, 5>, k: T3<2, 4, 5>, v: T3<2, 4, 2>]
            => |c| ops::scaled_dot_product_attention(q, k, v, c.flag("causal"))),
        entry!("scaled_dot_product_attention" / "b1_t1_s3_d2_v1",
            [q: T3<1, 1, 2>, k: T3<1, 3, 2>, v: T3<1, 3, 1>]
            => |c| ops::scaled_dot_product_attention(q, k, v, c.flag("causal"))),
        entry!("scaled_dot_product_attention" / "causal_b2_t3_s3_d2_v3",
            [q: T3<2, 3, 2>, k: T3<2, 3, 2>, v: T3<2, 3, 3>]
            => |c| ops::scaled_dot_product_attention(q, k, v, c.flag("causal"))),
        entry!("scaled_dot_product_attention" / "causal_b1_t4_s2_d3_v2",
            [q: T3<1, 4, 3>, k: T3<1, 2, 3>, v: T3<1, 2, 2>]
            => |c| ops::scaled_dot_product_attention(q, k, v, c.flag("causal"))),
        entry!("scaled_dot_product_attention" / "causal_b1_t2_s5_d1_v1",
            [q: T3<1, 2, 1>, k: T3<1, 5, 1>, v: T3<1, 5, 1>]
            => |c| ops::scaled_dot_product_attention(q, k, v, c.flag("causal"))),
        // normalisation
        entry!("layer_norm" / "m3x5", [x: M<3, 5>, g: V<5>, b: V<5>]
            => |c| ops::layer_norm(x, g, b, c.param("eps")).unwrap()),
        entry!("layer_norm" / "t2x1x3", [x: T3<2, 1, 3>, g: V<3>, b: V<3>]
            => |c| ops::layer_norm(x, g, b, c.param("eps")).unwrap()),
        entry!("layer_norm" / "m2x1", [x: M<2, 1>, g: V<1>, b: V<1>]
            => |c| ops::layer_norm(x, g, b, c.param("eps")).unwrap()),
        entry!("rms_norm" / "m3x5", [x: M<3, 5>, g: V<5>]
            => |c| ops::rms_norm(x, g, c.param("eps")).unwrap()),
        entry!("rms_norm" / "t2x1x3", [x: T3<2, 1, 3>, g: V<3>]
            => |c| ops::rms_norm(x, g, c.param("eps")).unwrap()),
        entry!("rms_norm" / "m2x1", [x: M<2, 1>, g: V<1>]
            => |c| ops::rms_norm(x, g, c.param("eps")).unwrap()),
        entry!("batch_norm" / "m4x3", [x: M<4, 3>, g: V<3>, b: V<3>]
            => |c| ops::batch_norm(x, g, b, c.param("eps")).unwrap()),
        entry!("batch_norm" / "m2x5", [x: M<2, 5>, g: V<5>, b: V<5>]
            => |c| ops::batch_norm(x, g, b, c.param("eps")).unwrap()),
        entry!("batch_norm" / "m3x1", [x: M<3, 1>, g: V<1>, b: V<1>]
            => |c| ops::batch_norm(x, g, b, c.param("eps")).unwrap()),
        entry!("batch_norm_inference" / "m1x3", [x: M<1, 3>, m: V<3>, v: V<3>, g: V<3>, b: V<3>]
            => |c| ops::batch_norm_inference(x, m, v, g, b, c.param("eps")).unwrap()),
        entry!("batch_norm_inference" / "m4x1", [x: M<4, 1>, m: V<1>, v: V<1>, g: V<1>, b: V<1>]
            => |c| ops::batch_norm_inference(x, m, v, g, b, c.param("eps")).unwrap()),
        entry!("batch_norm_inference" / "m3x5", [x: M<3, 5>, m: V<5>, v: V<5>, g: V<5>, b: V<5>]
            => |c| ops::batch_norm_inference(x, m, v, g, b, c.param("eps")).unwrap()),
        // embedding
        entry!("embedding" / "v5_d3_t4", [w: M<5, 3>, i: V<4>] => |_| ops::embedding(w, i)),
        entry!("embedding" / "v1_d2_t3", [w: M<1, 2>, i: V<3>] => |_| ops::embedding(w, i)),
        entry!("embedding" / "v4_d1_t1", [w: M<4, 1>, i: V<1>] => |_| ops::embedding(w, i)),
        // convolution (the constants of "params" are in the types)
        entry!("conv2d" / "n2_c3_5x5_k3", [x: T4<2, 3, 5, 5>, w: T4<4, 3, 3, 3>, b: V<4>]
            => |_| ops::conv2d(x, w, b, Conv2dParams::new())),
        entry!("conv2d" / "s2_p1", [x: T4<1, 2, 5, 6>, w: T4<3, 2, 3, 2>, b: V<3>]
            => |_| ops::conv2d(x, w, b, Conv2dParams::new().stride::<2>().padding::<1>())),
        entry!("conv2d" / "d2_p2", [x: T4<1, 1, 6, 6>, w: T4<2, 1, 3, 3>, b: V<2>]
            => |_| ops::conv2d(x, w, b, Conv2dParams::new().padding::<2>().dilation::<2>())),
        entry!("conv2d" / "g2_s1x2_p1x0", [x: T4<2, 4, 4, 5>, w: T4<6, 2, 2, 3>, b: V<6>]
            => |_| ops::conv2d(x, w, b, Conv2dParams::new()
                .stride_hw::<1, 2>().padding_hw::<1, 0>().groups::<2>())),
        entry!("conv2d" / "g3_s2x1_p1x2_d1x2", [x: T4<1, 6, 7, 5>, w: T4<3, 2, 3, 2>, b: V<3>]
            => |_| ops::conv2d(x, w, b, Conv2dParams::new()
                .stride_hw::<2, 1>().padding_hw::<1, 2>().dilation_hw::<1, 2>().groups::<3>())),
        entry!("conv2d" / "depthwise_p1", [x: T4<1, 3, 4, 4>, w: T4<3, 1, 3, 3>, b: V<3>]
            => |_| ops::conv2d(x, w, b, Conv2dParams::new().padding::<1>().groups::<3>())),
        entry!("conv1d" / "n2_c3_l8_k3", [x: T3<2, 3, 8>, w: T3<4, 3, 3>, b: V<4>]
            => |_| ops::conv1d(x, w, b, Conv1dParams::new())),
        entry!("conv1d" / "s2_p1_d2_g2", [x: T3<1, 4, 9>, w: T3<6, 2, 3>, b: V<6>]
            => |_| ops::conv1d(x, w, b, Conv1dParams::new()
                .stride::<2>().padding::<1>().dilation::<2>().groups::<2>())),
        // pooling
        entry!("max_pool2d" / "k2", [x: T4<2, 3, 4, 4>]
            => |_| ops::max_pool2d(x, ops::pool_window::<2>())),
        entry!("max_pool2d" / "k3_s2_p1", [x: T4<1, 2, 5, 6>]
            => |_| ops::max_pool2d(x, ops::pool_window::<3>().stride::<2>().padding::<1>())),
        entry!("max_pool2d" / "k2x3_s1_p1", [x: T4<1, 1, 4, 5>]
            => |_| ops::max_pool2d(x, ops::pool_window_hw::<2, 3>().stride::<1>().padding::<1>())),
        entry!("max_pool2d" / "ties", [x: T4<1, 1, 4, 4>]
            => |_| ops::max_pool2d(x, ops::pool_window::<2>())),
        entry!("avg_pool2d" / "k2", [x: T4<2, 3, 4, 4>]
            => |_| ops::avg_pool2d(x, ops::pool_window::<2>())),
        entry!("avg_pool2d" / "k3_s2_p1", [x: T4<1, 2, 5, 6>]
            => |_| ops::avg_pool2d(x, ops::pool_window::<3>().stride::<2>().padding::<1>())),
        entry!("avg_pool2d" / "k2x3_s1_p1", [x: T4<1, 1, 4, 5>]
            => |_| ops::avg_pool2d(x, ops::pool_window_hw::<2, 3>().stride::<1>().padding::<1>())),
        entry!("adaptive_avg_pool2d" / "5x4_to_3x3", [x: T4<2, 2, 5, 4>]
            => |_| ops::adaptive_avg_pool2d(x, AdaptiveSize::<3, 3>)),
        entry!("adaptive_avg_pool2d" / "4x4_to_1x1", [x: T4<1, 3, 4, 4>]
            => |_| ops::adaptive_avg_pool2d(x, AdaptiveSize::<1, 1>)),
        entry!("adaptive_avg_pool2d" / "3x7_to_2x3", [x: T4<1, 2, 3, 7>]
            => |_| ops::adaptive_avg_pool2d(x, AdaptiveSize::<2, 3>)),
        entry!("global_avg_pool2d" / "n2_c3_4x5", [x: T4<2, 3, 4, 5>]
            => |_| ops::global_avg_pool2d(x)),
        entry!("global_avg_pool2d" / "n1_c1_3x3", [x: T4<1, 1, 3, 3>]
            => |_| ops::global_avg_pool2d(x)),
    ]
}

// --------------------------------------------------------------------------------- running

/// Runs every fixture case of the ops `names` and panics with every failure (each naming its
/// op, case and quantity); also fails if one of the ops has no case.
fn run_ops(names: &[&str]) {
    let doc = fixture();
    let registry = registry();
    let mut failures = Vec::new();
    for &op in names {
        let mut seen = 0;
        let mut worst = 0.0_f64;
        for v in cases(&doc).iter().filter(|v| v["op"] == op) {
            let case = Case(v);
            seen += 1;
            let Some(entry) = registry
                .iter()
                .find(|e| e.op == op && e.case == case.name())
            else {
                failures.push(format!("{op}/{}: no registry entry", case.name()));
                continue;
            };
            match (entry.run)(&case) {
                Ok(err) => worst = worst.max(err),
                Err(msg) => failures.push(format!("{op}/{}:\n    {msg}", case.name())),
            }
        }
        assert!(seen > 0, "op `{op}` has no case in the fixture");
        eprintln!("{op}: {seen} cases, largest normwise error {worst:.2e}");
    }
    assert!(
        failures.is_empty(),
        "disagreements with PyTorch:\n{}",
        failures.join("\n")
    );
}

/// One `#[test]` per family of ops, and the list of all families (for the coverage test).
macro_rules! families {
    ($($test:ident: [$($op:literal),+ $(,)?];)+) => {
        const FAMILIES: &[&[&str]] = &[$(&[$($op),+]),+];
        $(
            #[test]
            fn $test() {
                run_ops(&[$($op),+]);
            }
        )+
    };
}

families! {
    binary: ["add", "sub", "mul", "div", "maximum", "minimum"];
    entrywise: ["neg", "scale", "relu", "exp", "tanh", "sigmoid", "softplus", "safe_log"];
    activations: [
        "abs", "square", "powi", "sqrt", "log", "gelu", "gelu_erf", "erf", "silu", "leaky_relu",
        "elu", "clamp",
    ];
    shape_ops: [
        "reshape", "flatten", "swapaxes", "permute", "concat", "stack", "narrow", "broadcast_to",
    ];
    reductions: ["sum", "mean"];
    axis_reductions: ["sum_axis", "mean_axis", "max_axis", "var_axis", "logsumexp_axis"];
    linalg: ["matvec", "matmul", "transpose", "linear", "linear_batch"];
    softmax: ["softmax", "log_softmax"];
    axis_softmax: ["softmax_axis", "log_softmax_axis"];
    losses: [
        "mse", "cross_entropy", "l1_loss", "huber_loss", "binary_cross_entropy_with_logits",
        "kl_div",
    ];
    index_losses: ["nll_loss", "cross_entropy_with_integer_labels"];
    attention: ["bmm", "scaled_dot_product_attention"];
    norms: ["layer_norm", "rms_norm", "batch_norm", "batch_norm_inference"];
    embedding: ["embedding"];
    convolution: ["conv2d", "conv1d"];
    pooling: ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "global_avg_pool2d"];
}

/// Every fixture case has a registry entry and every entry a fixture case; every op of the
/// fixture is in exactly one family; the skipped quantities are only the documented ones.
#[test]
fn fixture_and_registry_agree() {
    let doc = fixture();
    let fixture_cases: BTreeSet<(String, String)> = cases(&doc)
        .iter()
        .map(|v| {
            let c = Case(v);
            (c.op().to_owned(), c.name().to_owned())
        })
        .collect();
    assert_eq!(
        fixture_cases.len(),
        cases(&doc).len(),
        "duplicate case names in the fixture"
    );
    let entries: Vec<(String, String)> = registry()
        .iter()
        .map(|e| (e.op.to_owned(), e.case.to_owned()))
        .collect();
    let entry_set: BTreeSet<_> = entries.iter().cloned().collect();
    assert_eq!(entry_set.len(), entries.len(), "duplicate registry entries");
    let missing: Vec<_> = fixture_cases.difference(&entry_set).collect();
    let stale: Vec<_> = entry_set.difference(&fixture_cases).collect();
    assert!(
        missing.is_empty(),
        "fixture cases without an entry: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "entries without a fixture case: {stale:?}"
    );

    let fixture_ops: BTreeSet<&str> = cases(&doc).iter().map(|v| Case(v).op()).collect();
    let family_ops: Vec<&str> = FAMILIES.iter().flat_map(|f| f.iter().copied()).collect();
    let family_set: BTreeSet<&str> = family_ops.iter().copied().collect();
    assert_eq!(family_set.len(), family_ops.len(), "an op in two families");
    assert_eq!(
        fixture_ops, family_set,
        "fixture ops and test families differ"
    );

    for v in cases(&doc) {
        let c = Case(v);
        if !v["skip"].as_array().unwrap().is_empty() {
            assert_eq!(
                (c.op(), c.name()),
                ("kl_div", "zero_targets"),
                "undocumented skip"
            );
        }
    }
}

/// The comparison is sharp: a relative perturbation of `1e-10` of the largest entry of any
/// compared quantity of a case makes it fail (so a passing test is not a vacuous one).
#[test]
fn a_perturbed_reference_fails() {
    let doc = fixture();
    let registry = registry();
    let v = cases(&doc)
        .iter()
        .find(|v| v["op"] == "linear_batch" && v["case"] == "b2_o3_i5")
        .expect("the case exists");
    let entry = registry
        .iter()
        .find(|e| e.op == "linear_batch" && e.case == "b2_o3_i5")
        .unwrap();
    assert!((entry.run)(&Case(v)).is_ok());
    let targets: [&[&str]; 5] = [
        &["forward"],
        &["jvp"],
        &["vjp", "0"],
        &["vjp", "1"],
        &["vjp", "2"],
    ];
    for path in targets {
        let mut bad = v.clone();
        let mut slot = &mut bad[path[0]];
        if let Some(i) = path.get(1) {
            slot = &mut slot[i.parse::<usize>().unwrap()];
        }
        let values = nums(slot);
        let (i, x) = values
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap();
        slot[i] = Value::String(format!("{:?}", x * (1.0 + 1e-10)));
        let err = (entry.run)(&Case(&bad)).expect_err("a perturbed reference must fail");
        assert!(err.contains(path[0]), "{path:?}: {err}");
    }
    // an all-zero reference: an index slot's VJP must be exactly zero up to the floor
    let v = cases(&doc)
        .iter()
        .find(|v| v["op"] == "nll_loss" && v["case"] == "b3_c5")
        .unwrap();
    let entry = registry
        .iter()
        .find(|e| e.op == "nll_loss" && e.case == "b3_c5")
        .unwrap();
    let mut bad = v.clone();
    bad["vjp"][1][0] = Value::String("1e-13".into());
    assert!((entry.run)(&Case(&bad)).unwrap_err().contains("vjp1"));
}

#[test]
fn normwise_error_and_floor() {
    // relative above the floor
    assert!(passes(normwise_error(&[1.0 + 0.9e-12], &[1.0])));
    assert!(!passes(normwise_error(&[1.0 + 1.1e-12], &[1.0])));
    assert!(!passes(normwise_error(&[3.0, 4.0 + 1e-11], &[3.0, 4.0])));
    // absolute (1e-14) below it, and at an exact zero
    assert!(passes(normwise_error(&[0.9e-14], &[0.0])));
    assert!(!passes(normwise_error(&[1.1e-14], &[0.0])));
    assert!(!passes(normwise_error(&[1e-3 + 1.1e-14], &[1e-3])));
    // no overflow near the top of the range
    assert!(passes(normwise_error(&[1e300, -1e300], &[1e300, -1e300])));
    assert!(!passes(normwise_error(
        &[1e300, 1.0001e300],
        &[1e300, 1e300]
    )));
    // NaN, infinities and length mismatches fail
    assert!(!passes(normwise_error(&[f64::NAN], &[1.0])));
    assert!(!passes(normwise_error(&[f64::INFINITY], &[f64::INFINITY])));
    assert!(!passes(normwise_error(&[1.0], &[1.0, 2.0])));
}
