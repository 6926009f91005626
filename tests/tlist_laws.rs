//! The laws of the context algebra (TorchLean's `TList` lemmas) as property tests.
//!
//! Each law is written once, as a generic function, and instantiated by `context_laws!` for
//! several concrete contexts of length ≥ 4 mixing ranks 0–3 (and one with empty dimensions).
//! The algebraic laws are checked exactly (`==`) on [`Rational`]; the structural ones (snoc /
//! unsnoc, append / split, the casts) on both `Rational` and `f64`.
//!
//! The number of cases per law is proptest's default (256), overridable with `PROPTEST_CASES`.

use frunk::{HCons, HNil};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shapetape::prelude::*;
use shapetape::shape_list::{Init, Last, NonEmpty, SameContext};

type Law = Result<(), TestCaseError>;

// ---------------------------------------------------------------- strategies

fn q(n: i64, d: i64) -> Rational {
    Rational::new(n.into(), d.into())
}

/// Small rationals n/d with |n| ≤ 12, 1 ≤ d ≤ 7: zero (often), negatives, non-integers.
fn rational() -> impl Strategy<Value = Rational> {
    prop_oneof![
        1 => Just(q(0, 1)),
        6 => (-12_i64..=12, 1_i64..=7).prop_map(|(n, d)| q(n, d)),
    ]
}

/// Any finite `f64` (for the structural laws, which do no arithmetic).
fn finite_f64() -> impl Strategy<Value = f64> {
    use proptest::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
    NORMAL | SUBNORMAL | ZERO | NEGATIVE | POSITIVE
}

/// Moderate `f64` values, for which sums of products stay finite (no NaN).
fn moderate_f64() -> impl Strategy<Value = f64> {
    -1.0e3_f64..1.0e3
}

fn total_len<G: ShapeList>() -> usize {
    G::layout().iter().map(|l| l.size).sum()
}

/// A context over `G` built with `TList::try_from_flat` from a vector of the right length.
fn tlist<A: Element, G: ShapeList>(
    entry: impl Strategy<Value = A>,
) -> impl Strategy<Value = TList<A, G>> {
    proptest::collection::vec(entry, total_len::<G>())
        .prop_map(|flat| TList::try_from_flat(flat).expect("generated with the context's length"))
}

/// A tensor of shape `S` built with `Tensor::try_from_vec`.
fn tensor<A: Element, S: Shape>(
    entry: impl Strategy<Value = A>,
) -> impl Strategy<Value = Tensor<A, S>> {
    proptest::collection::vec(entry, S::SIZE)
        .prop_map(|flat| Tensor::try_from_vec(flat).expect("generated with the shape's length"))
}

// ---------------------------------------------------------------- structural laws

/// `unsnoc (snoc xs t) = (xs, t)`, both through `unsnoc_from` (for a generic `G`) and through
/// `unsnoc` (whose `Init`/`Last` must compute back to `G` and `S`).
fn unsnoc_snoc<A: Element, G: ShapeList, S: Shape>(xs: TList<A, G>, t: Tensor<A, S>) -> Law
where
    Snoc<G, S>: NonEmpty<Init = G, Last = S>,
{
    let (ys, u) = TList::<A, G>::unsnoc_from(xs.clone().snoc(t.clone()));
    prop_assert_eq!(&ys, &xs);
    prop_assert_eq!(&u, &t);
    let (ys, u) = xs.clone().snoc(t.clone()).unsnoc();
    prop_assert_eq!(ys, xs);
    prop_assert_eq!(u, t);
    Ok(())
}

/// `snoc (unsnoc xs) = xs` (the snoc'd context is `Init<G> ++ [Last<G>]`, cast back to `G`).
fn snoc_unsnoc<A: Element, G: NonEmpty>(xs: TList<A, G>) -> Law
where
    Snoc<Init<G>, Last<G>>: SameContext<G>,
{
    let (init, last) = xs.clone().unsnoc();
    prop_assert_eq!(init.len() + 1, xs.len());
    prop_assert_eq!(init.snoc(last).cast::<G>(), xs);
    Ok(())
}

/// `assoc ((x ++ y) ++ z) = x ++ (y ++ z)`, `unassoc` is its inverse on both sides.
fn assoc_round_trip<A: Element, G: ShapeList, Ss: ShapeList, T: ShapeList>(
    x: TList<A, G>,
    y: TList<A, Ss>,
    z: TList<A, T>,
) -> Law {
    let left = x.clone().append(y.clone()).append(z.clone());
    let right = x.append(y.append(z));
    let assoc = TList::<A, G>::assoc::<Ss, T>(left.clone());
    prop_assert_eq!(&assoc, &right);
    prop_assert_eq!(TList::<A, G>::unassoc::<Ss, T>(assoc), left.clone());
    let unassoc = TList::<A, G>::unassoc::<Ss, T>(right.clone());
    prop_assert_eq!(&unassoc, &left);
    prop_assert_eq!(TList::<A, G>::assoc::<Ss, T>(unassoc), right);
    Ok(())
}

/// `drop_nil (append_nil x) = x`, and `append_nil x = x ++ []`.
fn nil_round_trip<A: Element, G: ShapeList>(x: TList<A, G>) -> Law {
    let with_nil = x.clone().append_nil();
    prop_assert_eq!(&with_nil, &x.clone().append(TList::<A, HNil>::new()));
    prop_assert_eq!(TList::<A, G>::drop_nil(with_nil), x);
    Ok(())
}

/// `cast` to an equal context `H` spelled differently, and back, is the identity; so is the
/// cast along `Snoc<Init<G>, Last<G>> = G`.
fn cast_round_trip<A: Element, G, H: ShapeList + SameContext<G>>(x: TList<A, G>) -> Law
where
    G: NonEmpty + SameContext<H> + SameContext<Snoc<Init<G>, Last<G>>>,
    Snoc<Init<G>, Last<G>>: SameContext<G>,
{
    let h: TList<A, H> = x.clone().cast::<H>();
    prop_assert_eq!(h.len(), x.len());
    prop_assert_eq!(h.cast::<G>(), x.clone());
    let s = x.clone().cast::<Snoc<Init<G>, Last<G>>>();
    prop_assert_eq!(s.cast::<G>(), x.clone());
    prop_assert_eq!(x.clone().cast::<G>(), x);
    Ok(())
}

/// `split (append x y) = (x, y)` and `append (split w) = w`.
fn split_append<A: Element, G: ShapeList, R: ShapeList>(x: TList<A, G>, y: TList<A, R>) -> Law {
    let joined = x.clone().append(y.clone());
    prop_assert_eq!(joined.len(), x.len() + y.len());
    let (a, b) = TList::<A, G>::split::<R>(joined.clone());
    prop_assert_eq!(&a, &x);
    prop_assert_eq!(&b, &y);
    prop_assert_eq!(a.append(b), joined);
    Ok(())
}

// ---------------------------------------------------------------- algebraic laws

/// `⟨x, y + z⟩ = ⟨x, y⟩ + ⟨x, z⟩`.
fn dot_list_add_right<A: Element, G: ShapeList>(
    x: TList<A, G>,
    y: TList<A, G>,
    z: TList<A, G>,
) -> Law {
    prop_assert_eq!(x.dot_list(&y.add(&z)), x.dot_list(&y) + x.dot_list(&z));
    Ok(())
}

/// `⟨snoc x a, snoc y b⟩ = ⟨x, y⟩ + dot a b`.
fn dot_list_snoc<A: Element, G: ShapeList, S: Shape>(
    x: TList<A, G>,
    y: TList<A, G>,
    a: Tensor<A, S>,
    b: Tensor<A, S>,
) -> Law {
    let lhs = x
        .clone()
        .snoc(a.clone())
        .dot_list(&y.clone().snoc(b.clone()));
    prop_assert_eq!(lhs, x.dot_list(&y) + a.dot(&b));
    Ok(())
}

/// `⟨x, 0⟩ = 0`.
fn dot_list_zero_right<A: Element, G: ShapeList>(x: TList<A, G>) -> Law {
    prop_assert_eq!(x.dot_list(&TList::<A, G>::zero()), A::zero());
    Ok(())
}

/// `⟨dx, single idx v⟩ = dot (get dx idx) v`.
fn dot_list_single<A: Element, G: ShapeList, S: Shape>(
    dx: &TList<A, G>,
    idx: Idx<G, S>,
    v: Tensor<A, S>,
) -> Law {
    let single = TList::<A, G>::single(idx, v.clone());
    prop_assert_eq!(single.get(idx), v.view());
    prop_assert_eq!(dx.dot_list(&single), dx.get(idx).dot(&v));
    Ok(())
}

/// `dotList x y = dot x₀ y₀ + (dot x₁ y₁ + (… + 0))`: the right-nested sum of the per-slot dots
/// (given in slot order), checked bit for bit on floats.
fn dot_list_is_right_nested<A: Element, G: ShapeList>(
    x: &TList<A, G>,
    y: &TList<A, G>,
    slot_dots: Vec<A>,
) -> Law {
    prop_assert_eq!(slot_dots.len(), G::LEN);
    let expected = slot_dots
        .into_iter()
        .rev()
        .fold(A::zero(), |acc, d| d + acc);
    prop_assert_eq!(x.dot_list(y), expected);
    Ok(())
}

// ---------------------------------------------------------------- instantiation

/// Instantiates every law for one context `G`:
/// - `idx`: every position of `G` with its shape (checked by `Idx::at` at compile time);
/// - `extra`: a shape to snoc;
/// - `rest`: two contexts `R`, `T` to append (`split`, `assoc`);
/// - `respelled`: `G` written another way, for `cast`.
macro_rules! context_laws {
    (
        $name:ident: $G:ty,
        idx [$($i:literal : $S:ty),+ $(,)?],
        extra $X:ty,
        rest $R:ty, $T:ty,
        respelled $H:ty $(,)?
    ) => {
        mod $name {
            use super::*;

            type G = $G;

            #[test]
            fn index_list_covers_the_context() {
                assert!(G::LEN >= 4);
                assert_eq!([$($i),+], core::array::from_fn(|k| k));
                assert_eq!([$($i),+].len(), G::LEN);
            }

            proptest! {
                #[test]
                fn unsnoc_snoc_rational(
                    xs in tlist::<Rational, G>(rational()),
                    t in tensor::<Rational, $X>(rational()),
                ) {
                    unsnoc_snoc(xs, t)?;
                }

                #[test]
                fn unsnoc_snoc_f64(
                    xs in tlist::<f64, G>(finite_f64()),
                    t in tensor::<f64, $X>(finite_f64()),
                ) {
                    unsnoc_snoc(xs, t)?;
                }

                #[test]
                fn snoc_unsnoc_rational(xs in tlist::<Rational, G>(rational())) {
                    snoc_unsnoc(xs)?;
                }

                #[test]
                fn snoc_unsnoc_f64(xs in tlist::<f64, G>(finite_f64())) {
                    snoc_unsnoc(xs)?;
                }

                #[test]
                fn casts_round_trip_rational(
                    x in tlist::<Rational, G>(rational()),
                    y in tlist::<Rational, $R>(rational()),
                    z in tlist::<Rational, $T>(rational()),
                ) {
                    assoc_round_trip(x.clone(), y, z)?;
                    nil_round_trip(x.clone())?;
                    cast_round_trip::<_, G, $H>(x)?;
                }

                #[test]
                fn casts_round_trip_f64(
                    x in tlist::<f64, G>(finite_f64()),
                    y in tlist::<f64, $R>(finite_f64()),
                    z in tlist::<f64, $T>(finite_f64()),
                ) {
                    assoc_round_trip(x.clone(), y, z)?;
                    nil_round_trip(x.clone())?;
                    cast_round_trip::<_, G, $H>(x)?;
                }

                #[test]
                fn split_append_rational(
                    x in tlist::<Rational, G>(rational()),
                    y in tlist::<Rational, $R>(rational()),
                ) {
                    split_append(x, y)?;
                }

                #[test]
                fn split_append_f64(
                    x in tlist::<f64, G>(finite_f64()),
                    y in tlist::<f64, $R>(finite_f64()),
                ) {
                    split_append(x, y)?;
                }

                #[test]
                fn dot_list_add_right_rational(
                    x in tlist::<Rational, G>(rational()),
                    y in tlist::<Rational, G>(rational()),
                    z in tlist::<Rational, G>(rational()),
                ) {
                    dot_list_add_right(x, y, z)?;
                }

                #[test]
                fn dot_list_snoc_rational(
                    x in tlist::<Rational, G>(rational()),
                    y in tlist::<Rational, G>(rational()),
                    a in tensor::<Rational, $X>(rational()),
                    b in tensor::<Rational, $X>(rational()),
                ) {
                    dot_list_snoc(x, y, a, b)?;
                }

                #[test]
                fn dot_list_zero_right_rational(x in tlist::<Rational, G>(rational())) {
                    dot_list_zero_right(x)?;
                }

                #[test]
                fn dot_list_single_rational(
                    dx in tlist::<Rational, G>(rational()),
                    vs in tlist::<Rational, G>(rational()),
                ) {
                    $(
                        let idx = Idx::<G, $S>::at::<$i>();
                        dot_list_single(&dx, idx, vs.get(idx).to_owned())?;
                    )+
                }

                #[test]
                fn dot_list_is_right_nested_f64(
                    x in tlist::<f64, G>(moderate_f64()),
                    y in tlist::<f64, G>(moderate_f64()),
                ) {
                    let dots = vec![$({
                        let idx = Idx::<G, $S>::at::<$i>();
                        x.get(idx).dot(&y.get(idx))
                    }),+];
                    dot_list_is_right_nested(&x, &y, dots)?;
                }

                #[test]
                fn dot_list_is_right_nested_rational(
                    x in tlist::<Rational, G>(rational()),
                    y in tlist::<Rational, G>(rational()),
                ) {
                    let dots = vec![$({
                        let idx = Idx::<G, $S>::at::<$i>();
                        x.get(idx).dot(&y.get(idx))
                    }),+];
                    dot_list_is_right_nested(&x, &y, dots)?;
                }
            }
        }
    };
}

context_laws! {
    ctx_a: HList![Scalar, Vector<3>, Matrix<2, 2>, Tensor3<2, 1, 3>],
    idx [0: Scalar, 1: Vector<3>, 2: Matrix<2, 2>, 3: Tensor3<2, 1, 3>],
    extra Matrix<2, 3>,
    rest HList![Vector<2>, Scalar], HList![Tensor3<1, 2, 1>],
    respelled Cat<HList![Scalar, Vector<3>], HList![Matrix<2, 2>, Tensor3<2, 1, 3>]>,
}

context_laws! {
    ctx_b: HList![Matrix<3, 1>, Scalar, Scalar, Vector<2>, Tensor3<1, 2, 2>],
    idx [0: Matrix<3, 1>, 1: Scalar, 2: Scalar, 3: Vector<2>, 4: Tensor3<1, 2, 2>],
    extra Scalar,
    rest HList![Matrix<1, 2>], HList![Scalar, Vector<1>],
    respelled Snoc<HList![Matrix<3, 1>, Scalar, Scalar, Vector<2>], Tensor3<1, 2, 2>>,
}

context_laws! {
    ctx_c: HList![Vector<4>, Tensor3<2, 2, 2>, Scalar, Matrix<1, 3>],
    idx [0: Vector<4>, 1: Tensor3<2, 2, 2>, 2: Scalar, 3: Matrix<1, 3>],
    extra Tensor3<2, 1, 2>,
    rest HList![Scalar], HNil,
    respelled HCons<Vector<4>, Cat<HList![Tensor3<2, 2, 2>, Scalar], HList![Matrix<1, 3>]>>,
}

// Empty dimensions: slots with no entries still take part in every law.
context_laws! {
    ctx_empty_dims: HList![Vector<0>, Scalar, Matrix<2, 0>, Tensor3<1, 1, 1>, Vector<1>],
    idx [0: Vector<0>, 1: Scalar, 2: Matrix<2, 0>, 3: Tensor3<1, 1, 1>, 4: Vector<1>],
    extra Vector<0>,
    rest HNil, HList![Matrix<0, 2>],
    respelled Cat<HList![Vector<0>, Scalar, Matrix<2, 0>, Tensor3<1, 1, 1>, Vector<1>], HNil>,
}

// ---------------------------------------------------------------- fixed examples

#[test]
fn dot_list_on_a_fixed_example() {
    type G = HList![Scalar, Vector<2>, Matrix<1, 2>, Tensor3<1, 1, 1>];
    let x = TList::<Rational, G>::try_from_flat((1..=6).map(|n| q(n, 2)).collect()).unwrap();
    let y = TList::<Rational, G>::try_from_flat((1..=6).map(|n| q(-1, n)).collect()).unwrap();
    // Every product (n/2)·(−1/n) is −1/2, six entries.
    assert_eq!(x.dot_list(&y), q(-3, 1));
    assert_eq!(x.dot_list(&TList::<Rational, G>::zero()), q(0, 1));
}

#[test]
fn try_from_flat_rejects_the_wrong_total_length() {
    type G = HList![Scalar, Vector<3>, Matrix<2, 2>, Tensor3<2, 1, 3>];
    assert_eq!(total_len::<G>(), 14);
    let err = TList::<f64, G>::try_from_flat(vec![0.0; 13]).unwrap_err();
    assert_eq!((err.expected, err.actual), (14, 13));
    assert_eq!(err.slots, vec![vec![], vec![3], vec![2, 2], vec![2, 1, 3]]);
    assert_eq!(
        err.to_string(),
        "cannot build a context with slots of shapes [[], [3], [2, 2], [2, 1, 3]] from 13 values: \
         it holds exactly 14 entries"
    );
    assert!(TList::<f64, G>::try_from_flat(vec![0.0; 15]).is_err());
}

#[test]
fn laws_at_the_empty_context() {
    type G = HList![Scalar, Vector<2>];
    let x = TList::<Rational, G>::try_from_flat(vec![q(1, 2), q(-1, 3), q(2, 1)]).unwrap();
    let e = TList::<Rational, HNil>::new();
    // [] ++ x splits back into ([], x); x ++ [] into (x, []).
    let (a, b) = TList::<Rational, HNil>::split::<G>(e.clone().append(x.clone()));
    assert_eq!((a, b), (e.clone(), x.clone()));
    let (a, b) = TList::<Rational, G>::split::<HNil>(x.clone().append(e.clone()));
    assert_eq!((a, b), (x, e.clone()));
    assert_eq!(e.dot_list(&e), q(0, 1));
    // snoc onto the empty context and back.
    let t = Tensor::<Rational, Scalar>::new(q(5, 7));
    let (init, last) = e.clone().snoc(t.clone()).unsnoc();
    assert_eq!((init, last), (e, t));
}
