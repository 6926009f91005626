//! Checks shared by the soundness properties of every runtime (`tests/approx.rs` for f32 and
//! f64, `tests/half.rs` for bf16 and f16): `approx_ctx` exactly and with slack, `+∞` for
//! non-finite values, and the exact-rational helpers they use.
//!
//! Include it with `#[path = "common/checks.rs"] mod checks;` and `use checks::*;`.
#![allow(dead_code)] // each test file uses part of it

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shapetape::approx::{EList, RuntimeFloat, SpecScalar, ToSpec, approx_ctx, ctx_distances};
use shapetape::{Element, Rational, ShapeList, TList};

/// A property's outcome.
pub type Law = Result<(), TestCaseError>;

/// `PROPTEST_CASES` if set, otherwise `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Relative slack of the `f64`-spec properties.
pub const SLACK_REL: f64 = 1e-12;

/// The finite `f64` `x` as an exact rational.
pub fn q(x: f64) -> Rational {
    Rational::from_f64_exact(x).expect("a finite number")
}

/// The smallest `f64` that is ≥ the nonnegative rational `r` (`+∞` beyond the range).
pub fn up_f64(r: &Rational) -> f64 {
    let f = Element::to_f64(r);
    if !f.is_finite() {
        return f64::INFINITY;
    }
    if q(f) >= *r { f } else { f.next_up() }
}

/// `approx_ctx`, exactly (`P = Rational`), with a report of every slot on failure.
pub fn exact_approx<R: RuntimeFloat + ToSpec<Rational>, C: ShapeList>(
    what: &str,
    spec: &TList<Rational, C>,
    rt: &TList<R, C>,
    eps: &EList<C>,
    names: &[String],
) -> Law {
    if approx_ctx(spec, rt, eps) {
        return Ok(());
    }
    let d = ctx_distances(spec, rt);
    let rows: Vec<String> = d
        .iter()
        .zip(eps.as_slice())
        .zip(spec.slot_slices().zip(rt.slot_slices()))
        .enumerate()
        .map(|(j, ((d, e), (s, r)))| {
            let bad = d.as_ref().is_none_or(|d| *e != f64::INFINITY && *d > q(*e));
            format!(
                "{} slot {j}: distance {:e}, bound {e:e}; spec {:?} rt {:?}",
                if bad { "FAIL" } else { "    " },
                d.as_ref().map_or(f64::NAN, Element::to_f64),
                s.iter().map(Element::to_f64).collect::<Vec<_>>(),
                r.iter().map(|v| v.to_f64_exact()).collect::<Vec<_>>(),
            )
        })
        .collect();
    Err(TestCaseError::fail(format!(
        "{what}: approx_ctx fails for nodes {names:?}\n{}",
        rows.join("\n")
    )))
}

/// `approx_ctx` against an `f64` spec with the slack `SLACK_REL · max(1, scale)`, in exact
/// arithmetic; a finite bound also requires a finite runtime value, and, if `strict`, a finite
/// spec value.
///
/// Not `strict` (some input bound is `+∞`, so spec inputs are far from the runtime ones), a slot
/// whose `f64` spec overflowed is not checked: the `f64` spec is then no reference for the
/// exact one (e.g. `exp(10¹⁰) · 0` is NaN in `f64` but exactly 0, and the bound 0 is right).
pub fn slack_approx<R: RuntimeFloat, C: ShapeList>(
    what: &str,
    spec: &TList<f64, C>,
    rt: &TList<R, C>,
    eps: &EList<C>,
    scale: f64,
    strict: bool,
    names: &[String],
) -> Law {
    let slack = q(SLACK_REL) * q(scale.max(1.0));
    for (j, ((s, r), &e)) in spec
        .slot_slices()
        .zip(rt.slot_slices())
        .zip(eps.as_slice())
        .enumerate()
    {
        if e == f64::INFINITY {
            continue;
        }
        let rs: Vec<f64> = r.iter().map(|v| v.to_f64_exact()).collect();
        prop_assert!(
            rs.iter().all(|v| v.is_finite()),
            "{}: slot {} has runtime {:?} but the finite bound {:e} (nodes {:?})",
            what,
            j,
            rs,
            e,
            names
        );
        if !strict && !s.iter().all(|v| v.is_finite()) {
            continue;
        }
        prop_assert!(
            s.iter().all(|v| v.is_finite()),
            "{}: slot {} has spec {:?} but the finite bound {:e} (nodes {:?})",
            what,
            j,
            s,
            e,
            names
        );
        let d = s
            .iter()
            .zip(&rs)
            .map(|(a, b)| Element::abs(&(q(*a) - q(*b))))
            .fold(
                <Rational as Element>::zero(),
                |m, v| if v > m { v } else { m },
            );
        prop_assert!(
            d <= q(e) + slack.clone(),
            "{}: slot {}: distance {:e} > bound {:e} + slack {:e}; spec {:?} rt {:?} (nodes {:?})",
            what,
            j,
            Element::to_f64(&d),
            e,
            Element::to_f64(&slack),
            s,
            rs,
            names
        );
    }
    Ok(())
}

/// Every slot whose runtime value has a NaN or ±∞ entry has the bound `+∞` (input slots
/// included, whatever bound the caller gave them).
pub fn non_finite_is_unbounded<R: RuntimeFloat, C: ShapeList>(
    what: &str,
    rt: &TList<R, C>,
    eps: &EList<C>,
    names: &[String],
) -> Law {
    for (j, (r, &e)) in rt.slot_slices().zip(eps.as_slice()).enumerate() {
        if r.iter().any(|v| !v.to_f64_exact().is_finite()) {
            prop_assert!(
                e == f64::INFINITY,
                "{}: slot {} is {:?} but has the finite bound {:e} (nodes {:?})",
                what,
                j,
                r.iter().map(|v| v.to_f64_exact()).collect::<Vec<_>>(),
                e,
                names
            );
        }
    }
    Ok(())
}

/// The largest magnitude of a finite entry.
pub fn magnitude<R: RuntimeFloat, C>(x: &TList<R, C>) -> f64 {
    x.slot_slices()
        .flatten()
        .map(|v| v.to_f64_exact().abs())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}
