//! Type-level shape arithmetic on stable Rust: the shapes of reshapes, axis choices,
//! concatenations, broadcasts, permutations, slices and convolution windows, computed by the
//! compiler, with every impossible request rejected by an error that says what is wrong.
//!
//! Users write shapes with const generics (`Matrix<2, 3>`, `Dim<N, S>`); the arithmetic is done
//! on typenum numbers ([`Shape::Size`], [`Shape::Rank`]) inside the library, and [`Length`]
//! maps a typenum result back to the const-generic `Dim<N, S>`. So a computed shape *is* the
//! type users write: the concatenation of a `Vector<2>` and a `Vector<3>` is `Vector<5>`.
//!
//! | trait | holds when | gives |
//! |---|---|---|
//! | [`SameSize<T>`] | `size S = size T` | (reshape, flatten) |
//! | [`Axis<A>`] | `A < rank S` | [`AxisLen<S, A>`], [`RemoveAxis<S, A>`] |
//! | [`ConcatAlong<T, A>`] | same rank, equal lengths except on axis `A` | the shape with `nₐ + mₐ` on axis `A` |
//! | [`BroadcastTo<T>`] | NumPy rules: trailing axes equal or 1 in `S` | (broadcast) |
//! | [`SwapAxes<A, B>`] | `A, B < rank S` | `S` with axes `A` and `B` exchanged |
//! | [`PermuteAxes<P>`] | `P` is a permutation of `0..rank S` | axis `k` of the result is axis `P[k]` of `S` |
//! | [`NarrowAlong<A, START, LEN>`] | `START + LEN ≤` length of axis `A` | `S` with length `LEN` on axis `A` |
//! | [`ConvOutput<H, K, S, P, D>`] | `D(K − 1) + 1 ≤ H + 2P`, `K, S, D ≥ 1` | `⌊(H + 2P − D(K − 1) − 1)/S⌋ + 1` ([`ConvLen`], [`ConvDim`]) |
//!
//! ```
//! use shapetape::prelude::*;
//! use shapetape::shape_arith::{AxisLen, ConcatAlong, ConvDim, RemoveAxis, conv_out_len};
//! use shapetape::typenum::{U3, Unsigned};
//!
//! type M = Matrix<2, 3>;
//! // The concatenation of a 2×3 and a 2×4 matrix along axis 1 is 2×7.
//! let _: <M as ConcatAlong<Matrix<2, 4>, 1>>::Output = Dim::<2, Vector<7>>::default();
//! // A reduction over axis 0 of a 2×3 matrix leaves a vector of length 3.
//! let _: RemoveAxis<M, 0> = Vector::<3>::default();
//! assert_eq!(<AxisLen<M, 1> as Unsigned>::USIZE, 3);
//! // A 5-tap convolution with padding 2 keeps 28 positions: the output shape is `Vector<28>`,
//! // written with the alias (also in generic code) or with the const fn (concrete sizes).
//! let _: ConvDim<28, 5, 1, 2, 1> = Vector::<28>::default();
//! let _: Vector<{ conv_out_len(28, 5, 1, 2, 1) }> = ConvDim::<28, 5, 1, 2, 1>::default();
//! ```
//!
//! **What stable Rust cannot do, and what is done instead.** A const-generic result such as
//! `Dim<{N + M}, S>` for generic `N`, `M` needs the unstable `generic_const_exprs`. Here the
//! sums, comparisons and quotients are typenum computations, and their results come back as
//! `Dim<N, S>` through [`Length`], a table with one entry per length a [`Dim`] can have at all:
//! the `N` with `typenum::Const<N>: ToUInt` (0 to 1024, 3600, 2ᵏ − 1 and 2ᵏ for k ≥ 11, 10ᵏ for
//! k ≥ 4; `Dim<N, S>` is a [`Shape`] for exactly these `N`). A result outside the table
//! (concatenating two vectors of length 1000) has no shape and is rejected by [`Length`]'s
//! error. With concrete sizes, the const fn [`conv_out_len`] also works inside a type
//! (`Vector<{ conv_out_len(28, 5, 1, 2, 1) }>`); with generic sizes only the typenum alias does.
//!
//! **How errors are reported.** Each check is computed as a typenum bit (`B1` true, `B0`
//! false) and required to be `B1` by a trait implemented for `B1` only, whose message says in
//! words what is wrong (`axis 2 is out of range for the shape …`). The computations themselves
//! are total (an out-of-range axis has length 0), so an impossible request gives that one error.
//! The `typenum::Const<N>: ToUInt` bounds stay inside the library's impls: with concrete sizes
//! users never write them.

use core::ops::{Add, Div, Mul, Sub};

use frunk::{HCons, HNil};
use smallvec::SmallVec;
use typenum::consts::*;
use typenum::{
    Add1, B0, B1, Bit, Const, Diff, IsEqual, IsGreater, IsLess, IsLessOrEqual, Max, Maximum, Min,
    Minimum, Prod, Quot, Sub1, Sum, ToUInt, U, UInt, UTerm, Unsigned,
};

use crate::shape::{Dim, Scalar, Shape};

// ---------------------------------------------------------------------------------------------
// From typenum back to const generics.

/// A typenum number `N` that is the length of some axis: `Dim<N, S>` as a type
/// ([`DimOf<N, S>`]).
///
/// Implemented for every `N` with `typenum::Const<N>: ToUInt`, the lengths for which
/// `Dim<N, S>` is a [`Shape`] (see the [module docs](self)).
#[diagnostic::on_unimplemented(
    message = "a computed axis length is not a length a shape can have: the lengths are 0 to 1024, 3600, 2ᵏ − 1 and 2ᵏ for k ≥ 11, and 10ᵏ for k ≥ 4",
    label = "no `Dim<N, _>` has this length",
    note = "the lengths of shapes are the `N` with `typenum::Const<N>: ToUInt`; the computed length is a typenum number, shown in binary"
)]
pub trait Length: Unsigned {
    /// `Dim<N, S>`, `N` being this number.
    type Dim<S>;
}

/// `Dim<N, S>` for the typenum number `N`: the way back from type-level arithmetic to shapes.
pub type DimOf<N, S> = <N as Length>::Dim<S>;

macro_rules! lengths {
    ($($u:ident)*) => {
        $(impl Length for $u {
            type Dim<S> = Dim<{ <$u as Unsigned>::USIZE }, S>;
        })*
    };
}

lengths! {
    U0 U1 U2 U3 U4 U5 U6 U7 U8 U9 U10 U11 U12 U13 U14 U15 U16 U17 U18 U19 U20 U21 U22 U23 U24
    U25 U26 U27 U28 U29 U30 U31 U32 U33 U34 U35 U36 U37 U38 U39 U40 U41 U42 U43 U44 U45 U46 U47
    U48 U49 U50 U51 U52 U53 U54 U55 U56 U57 U58 U59 U60 U61 U62 U63 U64 U65 U66 U67 U68 U69 U70
    U71 U72 U73 U74 U75 U76 U77 U78 U79 U80 U81 U82 U83 U84 U85 U86 U87 U88 U89 U90 U91 U92 U93
    U94 U95 U96 U97 U98 U99 U100 U101 U102 U103 U104 U105 U106 U107 U108 U109 U110 U111 U112
    U113 U114 U115 U116 U117 U118 U119 U120 U121 U122 U123 U124 U125 U126 U127 U128 U129 U130
    U131 U132 U133 U134 U135 U136 U137 U138 U139 U140 U141 U142 U143 U144 U145 U146 U147 U148
    U149 U150 U151 U152 U153 U154 U155 U156 U157 U158 U159 U160 U161 U162 U163 U164 U165 U166
    U167 U168 U169 U170 U171 U172 U173 U174 U175 U176 U177 U178 U179 U180 U181 U182 U183 U184
    U185 U186 U187 U188 U189 U190 U191 U192 U193 U194 U195 U196 U197 U198 U199 U200 U201 U202
    U203 U204 U205 U206 U207 U208 U209 U210 U211 U212 U213 U214 U215 U216 U217 U218 U219 U220
    U221 U222 U223 U224 U225 U226 U227 U228 U229 U230 U231 U232 U233 U234 U235 U236 U237 U238
    U239 U240 U241 U242 U243 U244 U245 U246 U247 U248 U249 U250 U251 U252 U253 U254 U255 U256
    U257 U258 U259 U260 U261 U262 U263 U264 U265 U266 U267 U268 U269 U270 U271 U272 U273 U274
    U275 U276 U277 U278 U279 U280 U281 U282 U283 U284 U285 U286 U287 U288 U289 U290 U291 U292
    U293 U294 U295 U296 U297 U298 U299 U300 U301 U302 U303 U304 U305 U306 U307 U308 U309 U310
    U311 U312 U313 U314 U315 U316 U317 U318 U319 U320 U321 U322 U323 U324 U325 U326 U327 U328
    U329 U330 U331 U332 U333 U334 U335 U336 U337 U338 U339 U340 U341 U342 U343 U344 U345 U346
    U347 U348 U349 U350 U351 U352 U353 U354 U355 U356 U357 U358 U359 U360 U361 U362 U363 U364
    U365 U366 U367 U368 U369 U370 U371 U372 U373 U374 U375 U376 U377 U378 U379 U380 U381 U382
    U383 U384 U385 U386 U387 U388 U389 U390 U391 U392 U393 U394 U395 U396 U397 U398 U399 U400
    U401 U402 U403 U404 U405 U406 U407 U408 U409 U410 U411 U412 U413 U414 U415 U416 U417 U418
    U419 U420 U421 U422 U423 U424 U425 U426 U427 U428 U429 U430 U431 U432 U433 U434 U435 U436
    U437 U438 U439 U440 U441 U442 U443 U444 U445 U446 U447 U448 U449 U450 U451 U452 U453 U454
    U455 U456 U457 U458 U459 U460 U461 U462 U463 U464 U465 U466 U467 U468 U469 U470 U471 U472
    U473 U474 U475 U476 U477 U478 U479 U480 U481 U482 U483 U484 U485 U486 U487 U488 U489 U490
    U491 U492 U493 U494 U495 U496 U497 U498 U499 U500 U501 U502 U503 U504 U505 U506 U507 U508
    U509 U510 U511 U512 U513 U514 U515 U516 U517 U518 U519 U520 U521 U522 U523 U524 U525 U526
    U527 U528 U529 U530 U531 U532 U533 U534 U535 U536 U537 U538 U539 U540 U541 U542 U543 U544
    U545 U546 U547 U548 U549 U550 U551 U552 U553 U554 U555 U556 U557 U558 U559 U560 U561 U562
    U563 U564 U565 U566 U567 U568 U569 U570 U571 U572 U573 U574 U575 U576 U577 U578 U579 U580
    U581 U582 U583 U584 U585 U586 U587 U588 U589 U590 U591 U592 U593 U594 U595 U596 U597 U598
    U599 U600 U601 U602 U603 U604 U605 U606 U607 U608 U609 U610 U611 U612 U613 U614 U615 U616
    U617 U618 U619 U620 U621 U622 U623 U624 U625 U626 U627 U628 U629 U630 U631 U632 U633 U634
    U635 U636 U637 U638 U639 U640 U641 U642 U643 U644 U645 U646 U647 U648 U649 U650 U651 U652
    U653 U654 U655 U656 U657 U658 U659 U660 U661 U662 U663 U664 U665 U666 U667 U668 U669 U670
    U671 U672 U673 U674 U675 U676 U677 U678 U679 U680 U681 U682 U683 U684 U685 U686 U687 U688
    U689 U690 U691 U692 U693 U694 U695 U696 U697 U698 U699 U700 U701 U702 U703 U704 U705 U706
    U707 U708 U709 U710 U711 U712 U713 U714 U715 U716 U717 U718 U719 U720 U721 U722 U723 U724
    U725 U726 U727 U728 U729 U730 U731 U732 U733 U734 U735 U736 U737 U738 U739 U740 U741 U742
    U743 U744 U745 U746 U747 U748 U749 U750 U751 U752 U753 U754 U755 U756 U757 U758 U759 U760
    U761 U762 U763 U764 U765 U766 U767 U768 U769 U770 U771 U772 U773 U774 U775 U776 U777 U778
    U779 U780 U781 U782 U783 U784 U785 U786 U787 U788 U789 U790 U791 U792 U793 U794 U795 U796
    U797 U798 U799 U800 U801 U802 U803 U804 U805 U806 U807 U808 U809 U810 U811 U812 U813 U814
    U815 U816 U817 U818 U819 U820 U821 U822 U823 U824 U825 U826 U827 U828 U829 U830 U831 U832
    U833 U834 U835 U836 U837 U838 U839 U840 U841 U842 U843 U844 U845 U846 U847 U848 U849 U850
    U851 U852 U853 U854 U855 U856 U857 U858 U859 U860 U861 U862 U863 U864 U865 U866 U867 U868
    U869 U870 U871 U872 U873 U874 U875 U876 U877 U878 U879 U880 U881 U882 U883 U884 U885 U886
    U887 U888 U889 U890 U891 U892 U893 U894 U895 U896 U897 U898 U899 U900 U901 U902 U903 U904
    U905 U906 U907 U908 U909 U910 U911 U912 U913 U914 U915 U916 U917 U918 U919 U920 U921 U922
    U923 U924 U925 U926 U927 U928 U929 U930 U931 U932 U933 U934 U935 U936 U937 U938 U939 U940
    U941 U942 U943 U944 U945 U946 U947 U948 U949 U950 U951 U952 U953 U954 U955 U956 U957 U958
    U959 U960 U961 U962 U963 U964 U965 U966 U967 U968 U969 U970 U971 U972 U973 U974 U975 U976
    U977 U978 U979 U980 U981 U982 U983 U984 U985 U986 U987 U988 U989 U990 U991 U992 U993 U994
    U995 U996 U997 U998 U999 U1000 U1001 U1002 U1003 U1004 U1005 U1006 U1007 U1008 U1009 U1010
    U1011 U1012 U1013 U1014 U1015 U1016 U1017 U1018 U1019 U1020 U1021 U1022 U1023 U1024 U2047
    U2048 U3600 U4095 U4096 U8191 U8192 U10000 U16383 U16384 U32767 U32768 U65535
}
#[cfg(any(target_pointer_width = "32", target_pointer_width = "64"))]
lengths! {
    U65536 U100000 U131071 U131072 U262143 U262144 U524287 U524288 U1000000 U1048575 U1048576
    U2097151 U2097152 U4194303 U4194304 U8388607 U8388608 U10000000 U16777215 U16777216
    U33554431 U33554432 U67108863 U67108864 U100000000 U134217727 U134217728 U268435455
    U268435456 U536870911 U536870912 U1000000000 U1073741823 U1073741824 U2147483647 U2147483648
    U4294967295
}
#[cfg(target_pointer_width = "64")]
lengths! {
    U4294967296 U8589934591 U8589934592 U10000000000 U17179869183 U17179869184 U34359738367
    U34359738368 U68719476735 U68719476736 U100000000000 U137438953471 U137438953472
    U274877906943 U274877906944 U549755813887 U549755813888 U1000000000000 U1099511627775
    U1099511627776 U2199023255551 U2199023255552 U4398046511103 U4398046511104 U8796093022207
    U8796093022208 U10000000000000 U17592186044415 U17592186044416 U35184372088831
    U35184372088832 U70368744177663 U70368744177664 U100000000000000 U140737488355327
    U140737488355328 U281474976710655 U281474976710656 U562949953421311 U562949953421312
    U1000000000000000 U1125899906842623 U1125899906842624 U2251799813685247 U2251799813685248
    U4503599627370495 U4503599627370496 U9007199254740991 U9007199254740992 U10000000000000000
    U18014398509481983 U18014398509481984 U36028797018963967 U36028797018963968
    U72057594037927935 U72057594037927936 U100000000000000000 U144115188075855871
    U144115188075855872 U288230376151711743 U288230376151711744 U576460752303423487
    U576460752303423488 U1000000000000000000 U1152921504606846975 U1152921504606846976
    U2305843009213693951 U2305843009213693952 U4611686018427387903 U4611686018427387904
    U9223372036854775807 U9223372036854775808 U10000000000000000000
}

// ---------------------------------------------------------------------------------------------
// Booleans and comparisons (internal).

/// A type-level boolean (`B0` false, `B1` true) with its connectives.
#[doc(hidden)]
pub trait Truth: Bit {
    /// `Self ∧ B`.
    type And<B: Truth>: Truth;
    /// `Self ∨ B`.
    type Or<B: Truth>: Truth;
    /// `¬Self`.
    type Not: Truth;
}
impl Truth for B0 {
    type And<B: Truth> = B0;
    type Or<B: Truth> = B;
    type Not = B1;
}
impl Truth for B1 {
    type And<B: Truth> = B;
    type Or<B: Truth> = B1;
    type Not = B0;
}

/// `Self = R` for typenum numbers, as a [`Truth`].
#[doc(hidden)]
pub trait EqT<R> {
    /// The answer.
    type Output: Truth;
}
impl<L: IsEqual<R>, R> EqT<R> for L
where
    <L as IsEqual<R>>::Output: Truth,
{
    type Output = <L as IsEqual<R>>::Output;
}

/// `Self ≤ R` for typenum numbers, as a [`Truth`].
#[doc(hidden)]
pub trait LeT<R> {
    /// The answer.
    type Output: Truth;
}
impl<L: IsLessOrEqual<R>, R> LeT<R> for L
where
    <L as IsLessOrEqual<R>>::Output: Truth,
{
    type Output = <L as IsLessOrEqual<R>>::Output;
}

/// `Self < R` for typenum numbers, as a [`Truth`].
#[doc(hidden)]
pub trait LtT<R> {
    /// The answer.
    type Output: Truth;
}
impl<L: IsLess<R>, R> LtT<R> for L
where
    <L as IsLess<R>>::Output: Truth,
{
    type Output = <L as IsLess<R>>::Output;
}

/// `Self > 0` for a typenum number, as a [`Truth`].
#[doc(hidden)]
pub trait PositiveT {
    /// The answer.
    type Output: Truth;
}
impl<L: IsGreater<U0>> PositiveT for L
where
    <L as IsGreater<U0>>::Output: Truth,
{
    type Output = <L as IsGreater<U0>>::Output;
}

// ---------------------------------------------------------------------------------------------
// Walking the axes of a shape (internal, total: a missing axis has length 0).

/// Axis `I` (a typenum number) of the shape `Self`: whether it exists, its length, the shape
/// without it, and the shape with its length replaced. Total: past the rank, `Exists` is false,
/// the length 0 and the shapes `Self`.
#[doc(hidden)]
pub trait AxisAt<I> {
    /// `I < rank Self`.
    type Exists: Truth;
    /// The length of axis `I` (0 if there is none).
    type Len: Length;
    /// `Self` without axis `I`.
    type Removed;
    /// `Self` with length `L` on axis `I`.
    type WithLen<L: Length>;
}

impl<I> AxisAt<I> for Scalar {
    type Exists = B0;
    type Len = U0;
    type Removed = Scalar;
    type WithLen<L: Length> = Scalar;
}

impl<const N: usize, R> AxisAt<UTerm> for Dim<N, R>
where
    Const<N>: ToUInt,
    U<N>: Length,
{
    type Exists = B1;
    type Len = U<N>;
    type Removed = R;
    type WithLen<L: Length> = L::Dim<R>;
}

impl<const N: usize, R, Hi: Unsigned, Lo: Bit> AxisAt<UInt<Hi, Lo>> for Dim<N, R>
where
    UInt<Hi, Lo>: Sub<B1>,
    R: AxisAt<Sub1<UInt<Hi, Lo>>>,
{
    type Exists = <R as AxisAt<Sub1<UInt<Hi, Lo>>>>::Exists;
    type Len = <R as AxisAt<Sub1<UInt<Hi, Lo>>>>::Len;
    type Removed = Dim<N, <R as AxisAt<Sub1<UInt<Hi, Lo>>>>::Removed>;
    type WithLen<L: Length> = Dim<N, <R as AxisAt<Sub1<UInt<Hi, Lo>>>>::WithLen<L>>;
}

/// `Self` and `T` are the same shape, as a [`Truth`].
#[doc(hidden)]
pub trait ShapeEq<T> {
    /// The answer.
    type Output: Truth;
}
impl ShapeEq<Scalar> for Scalar {
    type Output = B1;
}
impl<const M: usize, R> ShapeEq<Dim<M, R>> for Scalar {
    type Output = B0;
}
impl<const N: usize, R> ShapeEq<Scalar> for Dim<N, R> {
    type Output = B0;
}
impl<const N: usize, const M: usize, R, R2> ShapeEq<Dim<M, R2>> for Dim<N, R>
where
    Const<N>: ToUInt,
    Const<M>: ToUInt,
    U<N>: EqT<U<M>>,
    R: ShapeEq<R2>,
{
    type Output = <<U<N> as EqT<U<M>>>::Output as Truth>::And<<R as ShapeEq<R2>>::Output>;
}

/// `Self` broadcasts onto `T` of the same rank (every length of `Self` equals that of `T` or
/// is 1), as a [`Truth`]; false if the ranks differ.
#[doc(hidden)]
pub trait BroadcastsOnto<T> {
    /// The answer.
    type Output: Truth;
}
impl BroadcastsOnto<Scalar> for Scalar {
    type Output = B1;
}
impl<const M: usize, R> BroadcastsOnto<Dim<M, R>> for Scalar {
    type Output = B0;
}
impl<const N: usize, R> BroadcastsOnto<Scalar> for Dim<N, R> {
    type Output = B0;
}
impl<const N: usize, const M: usize, R, R2> BroadcastsOnto<Dim<M, R2>> for Dim<N, R>
where
    Const<N>: ToUInt,
    Const<M>: ToUInt,
    U<N>: EqT<U<M>> + EqT<U1>,
    R: BroadcastsOnto<R2>,
{
    type Output =
        <<<U<N> as EqT<U<M>>>::Output as Truth>::Or<<U<N> as EqT<U1>>::Output> as Truth>::And<
            <R as BroadcastsOnto<R2>>::Output,
        >;
}

/// `Self` without its first `D` axes (a typenum number; `Scalar` once none is left).
#[doc(hidden)]
pub trait DropLeading<D> {
    /// The remaining shape.
    type Output;
}
impl<S> DropLeading<UTerm> for S {
    type Output = S;
}
impl<Hi: Unsigned, Lo: Bit> DropLeading<UInt<Hi, Lo>> for Scalar {
    type Output = Scalar;
}
impl<const N: usize, R, Hi: Unsigned, Lo: Bit> DropLeading<UInt<Hi, Lo>> for Dim<N, R>
where
    UInt<Hi, Lo>: Sub<B1>,
    R: DropLeading<Sub1<UInt<Hi, Lo>>>,
{
    type Output = <R as DropLeading<Sub1<UInt<Hi, Lo>>>>::Output;
}

// ---------------------------------------------------------------------------------------------
// The checks: each implemented for `B1` only, with the message of its failure.

/// Check: reshaping `S` to `T` keeps the number of entries.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "cannot reshape `{S}` to `{T}`: they have different numbers of entries",
    label = "not the same number of entries",
    note = "a reshape or a flatten keeps every entry: the products of the lengths must be equal"
)]
pub trait SizesMatch<S, T> {}
impl<S, T> SizesMatch<S, T> for B1 {}

/// Check: axis `A` of `S` exists.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "axis {A} is out of range for the shape `{S}`",
    label = "no axis {A}",
    note = "axes count from 0, outermost first: a shape of rank r has the axes 0 to r − 1"
)]
pub trait AxisExists<S, const A: usize> {}
impl<S, const A: usize> AxisExists<S, A> for B1 {}

/// Check: `S` and `T` agree on every axis but `A`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "cannot concatenate `{S}` and `{T}` along axis {A}: they must have the same rank and equal lengths on every other axis",
    label = "the other axes do not match",
    note = "a concatenation adds up the lengths on axis A; every other axis is shared by the two tensors and the result"
)]
pub trait ConcatMatches<S, T, const A: usize> {}
impl<S, T, const A: usize> ConcatMatches<S, T, A> for B1 {}

/// Check: `S` broadcasts to `T`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "cannot broadcast `{S}` to `{T}`",
    label = "not broadcastable",
    note = "broadcasting (NumPy's rule) aligns the trailing axes: the rank of the source must not exceed the target's, and each of its lengths must equal the target's or be 1"
)]
pub trait Broadcastable<S, T> {}
impl<S, T> Broadcastable<S, T> for B1 {}

/// Check: `P` is a permutation of the axes of `S`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{P}` is not a permutation of the axes of `{S}`",
    label = "not a permutation of the axes",
    note = "a permutation of a rank-r shape lists each of the axes 0 to r − 1 exactly once"
)]
pub trait IsPermutation<S, P> {}
impl<S, P> IsPermutation<S, P> for B1 {}

/// Check: entries `START..START + LEN` of axis `A` of `S` exist.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the slice of {LEN} entries from {START} is out of range on axis {A} of `{S}`",
    label = "slice out of range",
    note = "`narrow::<A, START, LEN>` needs START + LEN ≤ the length of axis A"
)]
pub trait SliceInRange<S, const A: usize, const START: usize, const LEN: usize> {}
impl<S, const A: usize, const START: usize, const LEN: usize> SliceInRange<S, A, START, LEN>
    for B1
{
}

/// Check: kernel size, stride and dilation are at least 1.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the kernel size, stride and dilation of a window must be at least 1 (got kernel size {K}, stride {S}, dilation {D})",
    label = "a zero window parameter",
    note = "the output length ⌊(H + 2P − D(K − 1) − 1)/S⌋ + 1 is defined for K, S, D ≥ 1"
)]
pub trait WindowParamsPositive<const K: usize, const S: usize, const D: usize> {}
impl<const K: usize, const S: usize, const D: usize> WindowParamsPositive<K, S, D> for B1 {}

/// Check: the dilated kernel fits in the padded input.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the kernel is larger than the padded input: a kernel of size {K} with dilation {D} does not fit in an input of length {H} padded by {P} on each side",
    label = "kernel larger than the padded input",
    note = "a kernel of size K with dilation D spans D·(K − 1) + 1 entries, which must be at most H + 2P"
)]
pub trait KernelFits<const H: usize, const K: usize, const P: usize, const D: usize> {}
impl<const H: usize, const K: usize, const P: usize, const D: usize> KernelFits<H, K, P, D> for B1 {}

// ---------------------------------------------------------------------------------------------
// (a) Reshape.

/// `Self` and `T` have the same number of entries (`size Self = size T`): a tensor of shape
/// `Self` can be reshaped to `T`.
#[diagnostic::on_unimplemented(
    message = "cannot reshape `{Self}` to `{T}`: they have different numbers of entries",
    label = "not the same number of entries",
    note = "a reshape or a flatten keeps every entry: the products of the lengths must be equal"
)]
pub trait SameSize<T: Shape>: Shape {}

impl<S: Shape, T: Shape> SameSize<T> for S
where
    S::Size: EqT<T::Size>,
    <S::Size as EqT<T::Size>>::Output: SizesMatch<S, T>,
{
}

/// The vector of all the entries of `S`, `Vector<{size S}>` (the shape of a flatten).
pub type Flat<S> = DimOf<<S as Shape>::Size, Scalar>;

// ---------------------------------------------------------------------------------------------
// (b) Axes.

/// Axis `A` of the shape `Self` exists (`A < rank Self`): its length and the shape without it.
#[diagnostic::on_unimplemented(
    message = "axis {A} is out of range for the shape `{Self}`",
    label = "no axis {A}",
    note = "axes count from 0, outermost first: a shape of rank r has the axes 0 to r − 1"
)]
pub trait Axis<const A: usize>: Shape {
    /// The length of axis `A`, as a typenum number.
    type Len: Length;
    /// `Self` without axis `A` (the shape of a reduction over `A`).
    type Removed: Shape;
    /// The length of axis `A`.
    const LEN: usize;
}

impl<S: Shape, const A: usize> Axis<A> for S
where
    Const<A>: ToUInt,
    S: AxisAt<U<A>>,
    <S as AxisAt<U<A>>>::Exists: AxisExists<S, A>,
    <S as AxisAt<U<A>>>::Removed: Shape,
{
    type Len = <S as AxisAt<U<A>>>::Len;
    type Removed = <S as AxisAt<U<A>>>::Removed;
    const LEN: usize = <Self::Len as Unsigned>::USIZE;
}

/// The length of axis `A` of `S`, as a typenum number (`<S as Axis<A>>::LEN` as a value).
pub type AxisLen<S, const A: usize> = <S as Axis<A>>::Len;
/// `S` without axis `A`: `RemoveAxis<Matrix<2, 3>, 0> = Vector<3>`.
pub type RemoveAxis<S, const A: usize> = <S as Axis<A>>::Removed;

// ---------------------------------------------------------------------------------------------
// (c) Concatenation.

/// `Self` and `T` can be concatenated along axis `A` (same rank, equal lengths on every other
/// axis); `Output` is `Self` with the two lengths of axis `A` added.
#[diagnostic::on_unimplemented(
    message = "cannot concatenate `{Self}` and `{T}` along axis {A}",
    label = "not concatenable along axis {A}",
    note = "a concatenation along axis A needs two tensors of the same rank with equal lengths on every axis except A"
)]
pub trait ConcatAlong<T, const A: usize>: Shape {
    /// The shape of the concatenation.
    type Output: Shape;
}

type AxisOf<S, const A: usize> = <S as AxisAt<U<A>>>::Exists;
type LenOf<S, const A: usize> = <S as AxisAt<U<A>>>::Len;
type RemovedOf<S, const A: usize> = <S as AxisAt<U<A>>>::Removed;
/// `¬(axis A of S exists) ∨ (axis A of T exists ∧ S, T agree elsewhere)`: vacuous when the axis
/// is missing, so that only [`AxisExists`] reports that.
type ConcatOk<S, T, const A: usize> = <<AxisOf<S, A> as Truth>::Not as Truth>::Or<
    <AxisOf<T, A> as Truth>::And<<RemovedOf<S, A> as ShapeEq<RemovedOf<T, A>>>::Output>,
>;
type ConcatLen<S, T, const A: usize> = Sum<LenOf<S, A>, LenOf<T, A>>;

impl<S: Shape, T: Shape, const A: usize> ConcatAlong<T, A> for S
where
    Const<A>: ToUInt,
    S: AxisAt<U<A>>,
    T: AxisAt<U<A>>,
    AxisOf<S, A>: AxisExists<S, A>,
    RemovedOf<S, A>: ShapeEq<RemovedOf<T, A>>,
    ConcatOk<S, T, A>: ConcatMatches<S, T, A>,
    LenOf<S, A>: Add<LenOf<T, A>>,
    ConcatLen<S, T, A>: Length,
    <S as AxisAt<U<A>>>::WithLen<ConcatLen<S, T, A>>: Shape,
{
    type Output = <S as AxisAt<U<A>>>::WithLen<ConcatLen<S, T, A>>;
}

// ---------------------------------------------------------------------------------------------
// (d) Broadcasting.

/// `Self` broadcasts to `T` (NumPy's rule): aligned on the trailing axes, `rank Self ≤ rank T`
/// and every length of `Self` equals the corresponding length of `T` or is 1.
#[diagnostic::on_unimplemented(
    message = "cannot broadcast `{Self}` to `{T}`",
    label = "not broadcastable",
    note = "broadcasting (NumPy's rule) aligns the trailing axes: the rank of the source must not exceed the target's, and each of its lengths must equal the target's or be 1"
)]
pub trait BroadcastTo<T: Shape>: Shape {}

type MinRank<S, T> = Minimum<<S as Shape>::Rank, <T as Shape>::Rank>;
type ExtraAxes<S, T> = Diff<<T as Shape>::Rank, MinRank<S, T>>;
type TrailingOf<S, T> = <T as DropLeading<ExtraAxes<S, T>>>::Output;

impl<S: Shape, T: Shape> BroadcastTo<T> for S
where
    S::Rank: Min<T::Rank>,
    T::Rank: Sub<MinRank<S, T>>,
    T: DropLeading<ExtraAxes<S, T>>,
    S: BroadcastsOnto<TrailingOf<S, T>>,
    <S as BroadcastsOnto<TrailingOf<S, T>>>::Output: Broadcastable<S, T>,
{
}

// ---------------------------------------------------------------------------------------------
// Transposition and permutation.

/// `Self` with axes `A` and `B` exchanged (PyTorch's `transpose(x, A, B)`, NumPy's `swapaxes`);
/// both axes must exist.
#[diagnostic::on_unimplemented(
    message = "cannot swap the axes {A} and {B} of `{Self}`",
    label = "an axis is out of range",
    note = "axes count from 0, outermost first: a shape of rank r has the axes 0 to r − 1"
)]
pub trait SwapAxes<const A: usize, const B: usize>: Shape {
    /// The shape with the lengths of axes `A` and `B` exchanged.
    type Output: Shape;
}

type Swapped<S, const A: usize, const B: usize> =
    <<S as AxisAt<U<A>>>::WithLen<LenOf<S, B>> as AxisAt<U<B>>>::WithLen<LenOf<S, A>>;

impl<S: Shape, const A: usize, const B: usize> SwapAxes<A, B> for S
where
    Const<A>: ToUInt,
    Const<B>: ToUInt,
    S: AxisAt<U<A>> + AxisAt<U<B>>,
    AxisOf<S, A>: AxisExists<S, A>,
    AxisOf<S, B>: AxisExists<S, B>,
    <S as AxisAt<U<A>>>::WithLen<LenOf<S, B>>: AxisAt<U<B>>,
    Swapped<S, A, B>: Shape,
{
    type Output = Swapped<S, A, B>;
}

/// Axis number `I`, as a value: the entries of a permutation `(Ax::<2>, Ax::<0>, Ax::<1>)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ax<const I: usize>;

mod sealed {
    /// Implemented by the tuples of [`Ax`](super::Ax) only.
    pub trait Sealed {}
}

/// A list of axes written as a tuple of [`Ax`] (`(Ax<2>, Ax<0>, Ax<1>)`, up to 8 axes): the
/// argument of a permutation. Sealed: implemented for these tuples only.
pub trait AxisList: sealed::Sealed + Copy + Send + Sync + 'static {
    /// The axes as a type-level list of typenum numbers.
    #[doc(hidden)]
    type List;
    /// The axes, in order.
    fn axes() -> SmallVec<[usize; 8]>;
}

macro_rules! axis_lists {
    ($(($($a:ident)+))+) => {$(
        impl<$(const $a: usize),+> sealed::Sealed for ($(Ax<$a>,)+) {}
        impl<$(const $a: usize),+> AxisList for ($(Ax<$a>,)+)
        where
            $(Const<$a>: ToUInt,)+
        {
            type List = axis_lists!(@list $($a)+);
            fn axes() -> SmallVec<[usize; 8]> {
                SmallVec::from_slice(&[$($a),+])
            }
        }
    )+};
    (@list $a:ident $($rest:ident)*) => { HCons<U<$a>, axis_lists!(@list $($rest)*)> };
    (@list) => { HNil };
}

axis_lists! {
    (A0)
    (A0 A1)
    (A0 A1 A2)
    (A0 A1 A2 A3)
    (A0 A1 A2 A3 A4)
    (A0 A1 A2 A3 A4 A5)
    (A0 A1 A2 A3 A4 A5 A6)
    (A0 A1 A2 A3 A4 A5 A6 A7)
}

/// The number of entries of a type-level list.
#[doc(hidden)]
pub trait ListLen {
    /// The length.
    type Len: Unsigned;
}
impl ListLen for HNil {
    type Len = U0;
}
impl<H, T: ListLen> ListLen for HCons<H, T>
where
    T::Len: Add<B1>,
    Add1<T::Len>: Unsigned,
{
    type Len = Add1<T::Len>;
}

/// Every entry of the list is `< R`, as a [`Truth`].
#[doc(hidden)]
pub trait AllBelow<R> {
    /// The answer.
    type Output: Truth;
}
impl<R> AllBelow<R> for HNil {
    type Output = B1;
}
impl<R, H: LtT<R>, T: AllBelow<R>> AllBelow<R> for HCons<H, T> {
    type Output = <<H as LtT<R>>::Output as Truth>::And<<T as AllBelow<R>>::Output>;
}

/// `X` is an entry of the list, as a [`Truth`].
#[doc(hidden)]
pub trait Contains<X> {
    /// The answer.
    type Output: Truth;
}
impl<X> Contains<X> for HNil {
    type Output = B0;
}
impl<X, H: EqT<X>, T: Contains<X>> Contains<X> for HCons<H, T> {
    type Output = <<H as EqT<X>>::Output as Truth>::Or<<T as Contains<X>>::Output>;
}

/// The entries of the list are pairwise distinct, as a [`Truth`].
#[doc(hidden)]
pub trait Distinct {
    /// The answer.
    type Output: Truth;
}
impl Distinct for HNil {
    type Output = B1;
}
impl<H, T: Contains<H> + Distinct> Distinct for HCons<H, T> {
    type Output =
        <<<T as Contains<H>>::Output as Truth>::Not as Truth>::And<<T as Distinct>::Output>;
}

/// The shape whose axis `k` is axis `list[k]` of `S` (length 0 for a missing axis).
#[doc(hidden)]
pub trait PermutedShape<S> {
    /// The shape.
    type Output;
}
impl<S> PermutedShape<S> for HNil {
    type Output = Scalar;
}
impl<S: AxisAt<H>, H, T: PermutedShape<S>> PermutedShape<S> for HCons<H, T> {
    type Output = DimOf<<S as AxisAt<H>>::Len, <T as PermutedShape<S>>::Output>;
}

/// `P` (a tuple of [`Ax`]) is a permutation of the axes of `Self`; `Output` has as axis `k` the
/// axis `P[k]` of `Self` (PyTorch's `permute`, NumPy's `transpose(x, axes)`).
#[diagnostic::on_unimplemented(
    message = "`{P}` is not a permutation of the axes of `{Self}`",
    label = "not a permutation of the axes",
    note = "a permutation of a rank-r shape lists each of the axes 0 to r − 1 exactly once, as a tuple `(Ax<i>, …)` of at most 8 axes"
)]
pub trait PermuteAxes<P>: Shape {
    /// The permuted shape.
    type Output: Shape;
}

type PermOk<S, L> = <<<L as ListLen>::Len as EqT<<S as Shape>::Rank>>::Output as Truth>::And<
    <<L as AllBelow<<S as Shape>::Rank>>::Output as Truth>::And<<L as Distinct>::Output>,
>;

impl<S: Shape, P: AxisList> PermuteAxes<P> for S
where
    P::List: ListLen + AllBelow<S::Rank> + Distinct + PermutedShape<S>,
    <P::List as ListLen>::Len: EqT<S::Rank>,
    PermOk<S, P::List>: IsPermutation<S, P>,
    <P::List as PermutedShape<S>>::Output: Shape,
{
    type Output = <P::List as PermutedShape<S>>::Output;
}

// ---------------------------------------------------------------------------------------------
// Slicing.

/// Entries `START..START + LEN` of axis `A` of `Self` exist; `Output` is `Self` with length
/// `LEN` on axis `A` (PyTorch's `narrow(x, A, START, LEN)`).
#[diagnostic::on_unimplemented(
    message = "cannot take {LEN} entries from {START} on axis {A} of `{Self}`",
    label = "slice out of range",
    note = "`narrow::<A, START, LEN>` needs axis A to exist and START + LEN ≤ its length"
)]
pub trait NarrowAlong<const A: usize, const START: usize, const LEN: usize>: Shape {
    /// The shape of the slice.
    type Output: Shape;
}

/// `¬(axis A exists) ∨ START + LEN ≤ length of axis A` (vacuous when the axis is missing).
type SliceOk<S, const A: usize, const START: usize, const LEN: usize> =
    <<AxisOf<S, A> as Truth>::Not as Truth>::Or<
        <Sum<U<START>, U<LEN>> as LeT<LenOf<S, A>>>::Output,
    >;

impl<S: Shape, const A: usize, const START: usize, const LEN: usize> NarrowAlong<A, START, LEN>
    for S
where
    Const<A>: ToUInt,
    Const<START>: ToUInt,
    Const<LEN>: ToUInt,
    U<LEN>: Length,
    S: AxisAt<U<A>>,
    AxisOf<S, A>: AxisExists<S, A>,
    U<START>: Add<U<LEN>>,
    Sum<U<START>, U<LEN>>: LeT<LenOf<S, A>>,
    SliceOk<S, A, START, LEN>: SliceInRange<S, A, START, LEN>,
    <S as AxisAt<U<A>>>::WithLen<U<LEN>>: Shape,
{
    type Output = <S as AxisAt<U<A>>>::WithLen<U<LEN>>;
}

// ---------------------------------------------------------------------------------------------
// (e) Convolution and pooling windows.

/// The marker type on which [`ConvOutput`] is implemented.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Conv;

/// The output length of a convolution or pooling window over one axis: input length `H`,
/// kernel size `K`, stride `S`, padding `P` on each side, dilation `D`:
/// `⌊(H + 2P − D(K − 1) − 1)/S⌋ + 1` (PyTorch's `Conv1d`/`MaxPool1d` formula). Implemented for
/// [`Conv`] when `K, S, D ≥ 1` and the dilated kernel `D(K − 1) + 1` fits in `H + 2P`.
#[diagnostic::on_unimplemented(
    message = "no output length for a window of size {K} (stride {S}, padding {P}, dilation {D}) over an input of length {H}",
    label = "invalid window",
    note = "the window needs K, S, D ≥ 1 and a dilated kernel D·(K − 1) + 1 of at most H + 2P entries"
)]
pub trait ConvOutput<const H: usize, const K: usize, const S: usize, const P: usize, const D: usize>
{
    /// The output length, as a typenum number.
    type Len: Length;
    /// The output length.
    const LEN: usize;
}

/// `max(x, 1)`: the parameters in the formula, kept ≥ 1 so that the computation is total.
type AtLeast1<const X: usize> = Maximum<U<X>, U1>;
/// `D(K − 1) + 1`.
type Span<const K: usize, const D: usize> = Add1<Prod<AtLeast1<D>, Sub1<AtLeast1<K>>>>;
/// `H + 2P`.
type Padded<const H: usize, const P: usize> = Sum<Sum<U<H>, U<P>>, U<P>>;
/// `K ≥ 1 ∧ S ≥ 1 ∧ D ≥ 1`.
type ParamsOk<const K: usize, const S: usize, const D: usize> =
    <<<U<K> as PositiveT>::Output as Truth>::And<<U<S> as PositiveT>::Output> as Truth>::And<
        <U<D> as PositiveT>::Output,
    >;
/// `¬ParamsOk ∨ span ≤ padded` (vacuous when a parameter is 0).
type FitsOk<const H: usize, const K: usize, const S: usize, const P: usize, const D: usize> =
    <<ParamsOk<K, S, D> as Truth>::Not as Truth>::Or<<Span<K, D> as LeT<Padded<H, P>>>::Output>;
/// `⌊(max(padded, span) − span) / max(S, 1)⌋ + 1`: the formula when the kernel fits.
type OutLen<const H: usize, const K: usize, const S: usize, const P: usize, const D: usize> =
    Add1<Quot<Diff<Maximum<Padded<H, P>, Span<K, D>>, Span<K, D>>, AtLeast1<S>>>;

impl<const H: usize, const K: usize, const S: usize, const P: usize, const D: usize>
    ConvOutput<H, K, S, P, D> for Conv
where
    Const<H>: ToUInt,
    Const<K>: ToUInt,
    Const<S>: ToUInt,
    Const<P>: ToUInt,
    Const<D>: ToUInt,
    U<K>: Max<U1> + PositiveT,
    U<S>: Max<U1> + PositiveT,
    U<D>: Max<U1> + PositiveT,
    AtLeast1<K>: Sub<B1>,
    AtLeast1<D>: Mul<Sub1<AtLeast1<K>>>,
    Prod<AtLeast1<D>, Sub1<AtLeast1<K>>>: Add<B1>,
    U<H>: Add<U<P>>,
    Sum<U<H>, U<P>>: Add<U<P>>,
    Span<K, D>: LeT<Padded<H, P>>,
    Padded<H, P>: Max<Span<K, D>>,
    Maximum<Padded<H, P>, Span<K, D>>: Sub<Span<K, D>>,
    Diff<Maximum<Padded<H, P>, Span<K, D>>, Span<K, D>>: Div<AtLeast1<S>>,
    Quot<Diff<Maximum<Padded<H, P>, Span<K, D>>, Span<K, D>>, AtLeast1<S>>: Add<B1>,
    ParamsOk<K, S, D>: WindowParamsPositive<K, S, D>,
    FitsOk<H, K, S, P, D>: KernelFits<H, K, P, D>,
    OutLen<H, K, S, P, D>: Length,
{
    type Len = OutLen<H, K, S, P, D>;
    const LEN: usize = <OutLen<H, K, S, P, D> as Unsigned>::USIZE;
}

/// The output length `⌊(H + 2P − D(K − 1) − 1)/S⌋ + 1` of a window, as a typenum number.
pub type ConvLen<const H: usize, const K: usize, const S: usize, const P: usize, const D: usize> =
    <Conv as ConvOutput<H, K, S, P, D>>::Len;

/// The shape `Dim<⌊(H + 2P − D(K − 1) − 1)/S⌋ + 1, Rest>`: one axis of a convolution or pooling
/// output, `Rest` the axes after it (`ConvDim<28, 5, 1, 2, 1>` is `Vector<28>`).
///
/// What users write: with concrete sizes, the alias alone (or, for a length as a value or a
/// const argument, [`conv_out_len`]); in code generic over a size, the bound
/// `Conv: ConvOutput<H, K, S, P, D>` (stable Rust cannot write `Dim<{(H − K) / S + 1}, _>`
/// for a generic `H`).
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::shape_arith::{Conv, ConvDim, ConvOutput, conv_out_len};
///
/// // Concrete sizes: a 3-tap kernel, stride 2, padding 1 over 32 positions of 8 channels.
/// let _: ConvDim<32, 3, 2, 1, 1, Vector<8>> = Matrix::<16, 8>::default();
/// let _: Vector<{ conv_out_len(32, 3, 2, 1, 1) }> = Vector::<16>::default();
///
/// // Generic over the input length.
/// fn out_len<const H: usize>() -> usize
/// where
///     Conv: ConvOutput<H, 3, 1, 0, 1>,
/// {
///     <Conv as ConvOutput<H, 3, 1, 0, 1>>::LEN
/// }
/// assert_eq!(out_len::<10>(), 8);
/// ```
pub type ConvDim<
    const H: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const D: usize,
    Rest = Scalar,
> = DimOf<ConvLen<H, K, S, P, D>, Rest>;

/// `⌊(h + 2p − d(k − 1) − 1)/s⌋ + 1`, or `None` when a parameter `k`, `s`, `d` is 0, the
/// dilated kernel `d(k − 1) + 1` is longer than `h + 2p`, or the arithmetic overflows.
pub const fn checked_conv_out_len(
    h: usize,
    k: usize,
    s: usize,
    p: usize,
    d: usize,
) -> Option<usize> {
    if k == 0 || s == 0 || d == 0 {
        return None;
    }
    let Some(span) = d.checked_mul(k - 1) else {
        return None;
    };
    let Some(span) = span.checked_add(1) else {
        return None;
    };
    let Some(pad) = p.checked_mul(2) else {
        return None;
    };
    let Some(padded) = h.checked_add(pad) else {
        return None;
    };
    if span > padded {
        return None;
    }
    Some((padded - span) / s + 1)
}

/// `⌊(h + 2p − d(k − 1) − 1)/s⌋ + 1`, the output length of a window (input `h`, kernel `k`,
/// stride `s`, padding `p`, dilation `d`); with literal arguments it can size a shape:
/// `Vector<{ conv_out_len(28, 5, 1, 2, 1) }>` is `Vector<28>`.
///
/// # Panics
/// When [`checked_conv_out_len`] gives `None` (in a type, that is a compile error carrying the
/// message).
pub const fn conv_out_len(h: usize, k: usize, s: usize, p: usize, d: usize) -> usize {
    match checked_conv_out_len(h, k, s, p, d) {
        Some(n) => n,
        None => panic!(
            "conv_out_len: the kernel is larger than the padded input, or the kernel size, stride or dilation is 0"
        ),
    }
}
