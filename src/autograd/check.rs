//! Checking derivatives: the adjointness law of a node, `backprop_correct` for a graph, and
//! finite-difference gradient checks.
//!
//! Three tools, from exact to numerical:
//!
//! - [`check_adjoint`] evaluates both sides of a node's law
//!   `⟨jvp(x, dx, d), δ⟩ = ⟨dx, vjp(x, d, δ)⟩` (Lean's `Node.correct`) at one point. Over
//!   [`Rational`](crate::Rational) the two sides of a polynomial or piecewise-linear node are
//!   equal exactly ([`AdjointCheck::is_exact`]); over floats they agree up to rounding
//!   ([`AdjointCheck::relative_error`]).
//! - [`check_backprop`] does the same for a whole graph: both sides of Lean's
//!   `backprop_correct`, `⟨jvp_ctx(x, dx, d), seed⟩ = ⟨dx, backprop_ctx(x, d, seed)⟩`.
//! - [`gradcheck`] compares reverse mode and forward mode with a central finite difference
//!   of the graph's evaluation in a random direction (the idea of JAX's `check_grads` and
//!   `torch.autograd.gradcheck`), which tests the VJPs against the forward closures rather
//!   than against the JVPs.

use core::fmt;

use crate::autograd::node::NodeData;
use crate::constraint::Executable;
use crate::rng::SplitMix64;
use crate::scalar::{Element, Real};
use crate::shape::Shape;
use crate::shape_list::{Cat, ShapeList};
use crate::tensor::Tensor;
use crate::tlist::TList;

/// The two sides of an adjointness identity `⟨J dx, δ⟩ = ⟨dx, Jᵀ δ⟩`, evaluated at one
/// point, and the magnitude of its terms.
///
/// Returned by [`check_adjoint`] (one node) and [`check_backprop`] (a whole graph).
///
/// The *magnitude* is the larger of the two sums of absolute values of the terms,
/// `max(⟨|J dx|, |δ|⟩, ⟨|dx|, |Jᵀ δ|⟩)`. It bounds `|jvp_side|` and `|vjp_side|` and is the
/// scale at which floating-point rounding in the two dot products happens, so comparing the
/// difference with it (instead of with the sides themselves) does not penalise cancellation
/// between terms.
#[derive(Clone, Debug, PartialEq)]
pub struct AdjointCheck<A> {
    /// `⟨J dx, δ⟩`: the forward-mode side (`⟨jvp(x, dx, d), δ⟩`).
    pub jvp_side: A,
    /// `⟨dx, Jᵀ δ⟩`: the reverse-mode side (`⟨dx, vjp(x, d, δ)⟩`).
    pub vjp_side: A,
    /// `max(⟨|J dx|, |δ|⟩, ⟨|dx|, |Jᵀ δ|⟩)`, the scale of the terms of both sums.
    pub magnitude: A,
}

impl<A: Element> AdjointCheck<A> {
    /// Whether the two sides are equal (`==`): the law holds exactly at this point. This is
    /// the test to use over [`Rational`](crate::Rational).
    pub fn is_exact(&self) -> bool {
        self.jvp_side == self.vjp_side
    }

    /// `|jvp_side − vjp_side|`.
    pub fn abs_error(&self) -> A {
        (self.jvp_side.clone() - self.vjp_side.clone()).abs()
    }

    /// Whether `|jvp_side − vjp_side| ≤ atol + rtol · magnitude` (false if either side is
    /// NaN).
    pub fn is_close(&self, rtol: A, atol: A) -> bool {
        self.abs_error() <= atol + rtol * self.magnitude.clone()
    }
}

impl<A: Real> AdjointCheck<A> {
    /// `|jvp_side − vjp_side| / magnitude`: the discrepancy relative to the scale of the terms
    /// (0 when the sides are equal, `∞` when they differ although every term is 0, NaN when
    /// a side is NaN).
    ///
    /// For a correct node in `f64` this is typically a small multiple of `f64::EPSILON`
    /// (≈ 2.2·10⁻¹⁶) times the length of the dot products and the depth of the computation.
    /// It can be much larger when the JVP or VJP itself cancels: `softmax` and `log_softmax`
    /// compute `p ⊙ (dx − ⟨p, dx⟩)`, so a tangent with a large common component (to which
    /// softmax is blind) leaves a small result with an error of order `ε ‖dx‖ ‖δ‖`. Compare
    /// with [`AdjointCheck::is_close`] and an `atol` of that order in such cases, and draw
    /// dense seeds for graphs (a sparse seed makes the magnitude blind to the slots it skips).
    pub fn relative_error(&self) -> A {
        let diff = self.abs_error();
        if diff == A::zero() {
            A::zero()
        } else {
            diff / self.magnitude
        }
    }
}

impl<A: fmt::Display> fmt::Display for AdjointCheck<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "⟨J dx, δ⟩ = {}, ⟨dx, Jᵀ δ⟩ = {} (magnitude of the terms {})",
            self.jvp_side, self.vjp_side, self.magnitude
        )
    }
}

/// `⟨|a|, |b|⟩` for tensors.
fn abs_dot<A: Element, S: Shape>(a: &Tensor<A, S>, b: &Tensor<A, S>) -> A {
    a.map(Element::abs).dot(&b.map(Element::abs))
}

/// `⟨|a|, |b|⟩` for contexts.
fn abs_dot_list<A: Element, G: ShapeList>(a: &TList<A, G>, b: &TList<A, G>) -> A {
    a.map(Element::abs).dot_list(&b.map(Element::abs))
}

fn larger<A: Element>(a: A, b: A) -> A {
    if b > a { b } else { a }
}

/// Both sides of a node's adjointness law at one point:
/// `⟨jvp(x, dx, d), δ⟩` and `⟨dx, vjp(x, d, δ)⟩` (Lean's `Node.correct`), computed with
/// [`Tensor::dot`](crate::TensorBase::dot) and [`TList::dot_list`] on the dense cotangent
/// [`to_dense`](crate::autograd::Cotangent::to_dense).
///
/// Use it to test a hand-written node before wrapping it with
/// [`Node::new_unchecked`](crate::autograd::Node::new_unchecked): exactly over
/// [`Rational`](crate::Rational) if the node is polynomial or piecewise linear, otherwise
/// with [`AdjointCheck::relative_error`] in `f64`.
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::autograd::{check_adjoint, Cotangent, NodeData};
/// type G = HList![Vector<2>, Vector<2>];
/// let (a, b) = (Idx::<G, Vector<2>>::at::<0>(), Idx::<G, Vector<2>>::at::<1>());
/// // y = a ⊙ b, with a deliberately wrong VJP for b (δ instead of δ ⊙ a).
/// let bad = NodeData::<Rational, (), G, Vector<2>>::new(
///     move |x, _| x.get(a).mul(&x.get(b)),
///     move |x, dx, _| dx.get(a).mul(&x.get(b)).add(&x.get(a).mul(&dx.get(b))),
///     move |x, _, d| Cotangent::single(a, d.mul(&x.get(b))).with(b, d.clone()),
/// );
/// let q = |n: i64| Rational::from_integer(n.into());
/// let x = tlist![Tensor::new([q(1), q(2)]), Tensor::new([q(3), q(4)])];
/// let dx = tlist![Tensor::new([q(1), q(0)]), Tensor::new([q(0), q(1)])];
/// let seed = Tensor::new([q(1), q(1)]);
/// let check = check_adjoint(&bad, &x, &dx, &(), &seed);
/// assert!(!check.is_exact());
/// assert_eq!((check.jvp_side, check.vjp_side), (q(5), q(4)));
///
/// let good = shapetape::ops::mul(a, b).into_node::<Rational, ()>();
/// assert!(check_adjoint(good.data(), &x, &dx, &(), &seed).is_exact());
/// ```
pub fn check_adjoint<A: Element, D, G: ShapeList, T: Shape>(
    node: &NodeData<A, D, G, T>,
    x: &TList<A, G>,
    dx: &TList<A, G>,
    d: &D,
    seed: &Tensor<A, T>,
) -> AdjointCheck<A> {
    let jvp = node.jvp(x, dx, d);
    let vjp = node.vjp(x, d, seed).to_dense();
    AdjointCheck {
        jvp_side: jvp.dot(seed),
        vjp_side: dx.dot_list(&vjp),
        magnitude: larger(abs_dot(&jvp, seed), abs_dot_list(dx, &vjp)),
    }
}

/// Both sides of Lean's `backprop_correct` at one point:
/// `⟨jvp_ctx(x, dx, d), seed⟩` and `⟨dx, backprop_ctx(x, d, seed)⟩`, with the seed over all
/// slots `Γ ++ Ss` (inputs and node outputs).
///
/// For a graph of lawful nodes ([`Graph`](crate::autograd::Graph)) Lean proves the two equal;
/// over [`Rational`](crate::Rational) a graph of polynomial and piecewise-linear ops passes
/// [`AdjointCheck::is_exact`].
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::autograd::{check_backprop, Graph};
/// use shapetape::ops;
/// type G = HList![Vector<2>];
/// type C1 = HList![Vector<2>, Vector<2>];
/// // y₁ = x ⊙ x, y₂ = y₁ − x
/// let g = Graph::<Rational, (), G, HNil>::nil()
///     .snoc(ops::mul(Idx::<G, _>::at::<0>(), Idx::at::<0>()))
///     .snoc(ops::sub(Idx::<C1, _>::at::<1>(), Idx::at::<0>()));
/// let q = |n: i64| Rational::from_integer(n.into());
/// let x = tlist![Tensor::new([q(3), q(-1)])];
/// let dx = tlist![Tensor::new([q(1), q(2)])];
/// let seed = tlist![Tensor::new([q(1), q(0)]), Tensor::new([q(2), q(5)]), Tensor::new([q(0), q(1)])];
/// let check = check_backprop(&g, &x, &dx, &(), &seed);
/// assert!(check.is_exact());
/// ```
pub fn check_backprop<A: Element, D, G: ShapeList, Ss: ShapeList>(
    graph: &impl Executable<A, D, G, Ss>,
    x: &TList<A, G>,
    dx: &TList<A, G>,
    d: &D,
    seed: &TList<A, Cat<G, Ss>>,
) -> AdjointCheck<A> {
    let graph = graph.graph_data();
    let jvp = graph.jvp_ctx(x.clone(), dx.clone(), d);
    let grad = graph.backprop_ctx(x.clone(), d, seed.clone());
    AdjointCheck {
        jvp_side: jvp.dot_list(seed),
        vjp_side: dx.dot_list(&grad),
        magnitude: larger(abs_dot_list(&jvp, seed), abs_dot_list(dx, &grad)),
    }
}

/// Step and tolerances of [`gradcheck`].
///
/// A comparison of two directional derivatives `a` and `b` passes when
///
/// ```text
/// |a − b| ≤ atol + rtol · scale,    scale = ⟨|w|, |jvp_ctx(x, v)|⟩
/// ```
///
/// where `v` is the input direction and `w` the cotangent. The scale is the sum of the
/// magnitudes of the terms of `⟨w, J v⟩`, so cancellation between slots in the random
/// projection does not make a correct gradient fail.
///
/// The defaults assume `f64` (as `torch.autograd.gradcheck` does):
///
/// - `h = 1e-6`. The central difference `(F(x + h v) − F(x − h v)) / 2h` has truncation
///   error `≈ h² |F‴| / 6 ≈ 2·10⁻¹³ |F‴|` and rounding error `≈ ε |F| / h ≈ 2·10⁻¹⁰ |F|`
///   (`ε = 2.2·10⁻¹⁶`); `h ≈ ε^{1/3}` balances the two for `F` of order 1.
/// - `rtol = 1e-4`: four to five orders of magnitude above both errors for values and third
///   derivatives up to ~100 times the gradient's scale, yet far below the error of any
///   wrong derivative formula (which is of the order of the derivative itself).
/// - `atol = 1e-6`: absorbs the rounding noise `≈ 2·10⁻¹⁰ |F|` when the directional
///   derivative is tiny compared with the values (e.g. saturated `tanh`), for values up to
///   `|F| ≈ 10³`.
///
/// In `f32` (`ε ≈ 1.2·10⁻⁷`) use `h ≈ 1e-2`, `rtol ≈ 1e-2`, `atol ≈ 1e-3`. Finite differences
/// need a function that is smooth between `x − h v` and `x + h v`: an op with a kink (the 0 of
/// `relu`, the clamp point `ε` of `safe_log`) within `h |v|` of an operand entry can fail
/// the check although its derivative is right; so can values much larger than their
/// derivatives (the rounding error grows like `|F| / h`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradcheckOptions {
    /// Finite-difference step `h` (default `1e-6`).
    pub h: f64,
    /// Absolute tolerance (default `1e-6`).
    pub atol: f64,
    /// Tolerance relative to the scale `⟨|w|, |jvp_ctx(x, v)|⟩` (default `1e-4`).
    pub rtol: f64,
    /// Seed of the [`SplitMix64`] generator that draws `v` and `w` (default `0`).
    pub seed: u64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            h: 1e-6,
            atol: 1e-6,
            rtol: 1e-4,
            seed: 0,
        }
    }
}

/// The three estimates of the directional derivative `⟨w, J v⟩` computed by [`gradcheck`].
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckReport<A = f64> {
    /// `(⟨w, eval(x + h v)⟩ − ⟨w, eval(x − h v)⟩) / 2h`.
    pub finite_difference: A,
    /// `⟨v, backprop_ctx(x, d, w)⟩` (reverse mode).
    pub reverse: A,
    /// `⟨jvp_ctx(x, v, d), w⟩` (forward mode).
    pub forward: A,
    /// `⟨|w|, |jvp_ctx(x, v, d)|⟩`, the scale the relative tolerance multiplies.
    pub scale: A,
    /// The tolerance used, `atol + rtol · scale`.
    pub tolerance: A,
}

impl<A: fmt::Display> fmt::Display for GradcheckReport<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "finite difference {}, reverse mode {}, forward mode {} (tolerance {})",
            self.finite_difference, self.reverse, self.forward, self.tolerance
        )
    }
}

/// Which two estimates of a [`gradcheck`] disagreed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradcheckComparison {
    /// The finite difference against reverse mode (`backprop_ctx`).
    FiniteDifferenceVsReverse,
    /// The finite difference against forward mode (`jvp_ctx`).
    FiniteDifferenceVsForward,
    /// Forward mode against reverse mode (`backprop_correct`).
    ForwardVsReverse,
}

impl fmt::Display for GradcheckComparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GradcheckComparison::FiniteDifferenceVsReverse => "finite difference vs reverse mode",
            GradcheckComparison::FiniteDifferenceVsForward => "finite difference vs forward mode",
            GradcheckComparison::ForwardVsReverse => "forward mode vs reverse mode",
        })
    }
}

/// A failed [`gradcheck`]: the first comparison that failed, its two numbers and the whole
/// report.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckError<A = f64> {
    /// The comparison that failed.
    pub comparison: GradcheckComparison,
    /// Its left-hand number (as named by `comparison`).
    pub left: A,
    /// Its right-hand number.
    pub right: A,
    /// All three estimates, the scale and the tolerance.
    pub report: GradcheckReport<A>,
}

impl<A: fmt::Display> fmt::Display for GradcheckError<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradcheck failed, {}: {} vs {} (tolerance {}; {})",
            self.comparison, self.left, self.right, self.report.tolerance, self.report
        )
    }
}

impl<A: fmt::Display + fmt::Debug> std::error::Error for GradcheckError<A> {}

/// A context whose entries are independent uniform samples from `[−1, 1)`.
fn random_context<A: Real, G: ShapeList>(rng: &mut SplitMix64) -> TList<A, G> {
    TList::<A, G>::zero().map(|_| A::from_f64(rng.uniform(-1.0, 1.0)))
}

/// Finite-difference gradient check of a graph at `x`, in a random direction.
///
/// Draws a direction `v` over the inputs `Γ` and a cotangent `w` over all slots `Γ ++ Ss`,
/// entries uniform in `[−1, 1)` from a [`SplitMix64`] seeded with `opts.seed`, and runs
/// [`gradcheck_with`]. Checking one random projection `⟨w, J v⟩` instead of the whole
/// Jacobian costs three evaluations, one forward-mode and one reverse-mode pass, and catches
/// any wrong Jacobian entry with probability 1 (over the random `v`, `w`).
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::autograd::{gradcheck, GradcheckOptions, Graph};
/// use shapetape::ops;
/// type G = HList![Matrix<2, 3>, Vector<3>];
/// type C1 = HList![Matrix<2, 3>, Vector<3>, Vector<2>];
/// // y = tanh(W x)
/// let g = Graph::<f64, (), G, HNil>::nil()
///     .snoc(ops::matvec(Idx::<G, Matrix<2, 3>>::at::<0>(), Idx::at::<1>()))
///     .snoc(ops::tanh(Idx::<C1, Vector<2>>::at::<2>()));
/// let x = tlist![Tensor::new([[0.5, -1.0, 0.25], [1.5, 0.0, -0.5]]), Tensor::new([1.0, 2.0, -1.0])];
/// let report = gradcheck(&g, &x, &(), &GradcheckOptions::default()).unwrap();
/// assert!((report.finite_difference - report.reverse).abs() <= report.tolerance);
/// ```
pub fn gradcheck<A: Real, D, G: ShapeList, Ss: ShapeList>(
    graph: &impl Executable<A, D, G, Ss>,
    x: &TList<A, G>,
    d: &D,
    opts: &GradcheckOptions,
) -> Result<GradcheckReport<A>, GradcheckError<A>> {
    let mut rng = SplitMix64::new(opts.seed);
    let v = random_context::<A, G>(&mut rng);
    let w = random_context::<A, Cat<G, Ss>>(&mut rng);
    gradcheck_with(graph, x, d, &v, &w, opts)
}

/// Finite-difference gradient check of a graph at `x` in the given direction `v` (over the
/// inputs `Γ`) against the given cotangent `w` (over all slots `Γ ++ Ss`).
///
/// Computes three estimates of the directional derivative `⟨w, J v⟩` of
/// `F(x) = ⟨w, eval(x, d)⟩`:
///
/// - the central difference `fd = (F(x + h v) − F(x − h v)) / 2h`,
/// - reverse mode `rev = ⟨v, backprop_ctx(x, d, w)⟩`,
/// - forward mode `fwd = ⟨jvp_ctx(x, v, d), w⟩`,
///
/// and checks, in this order, `fd ≈ rev`, `fd ≈ fwd` and `fwd ≈ rev`, each as
/// `|a − b| ≤ atol + rtol · ⟨|w|, |jvp_ctx(x, v, d)|⟩` (see [`GradcheckOptions`]; `opts.seed`
/// is not used here). A NaN anywhere fails the check.
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::autograd::{gradcheck_with, GradcheckComparison, GradcheckOptions, NodeData, Cotangent, GraphData};
/// type G = HList![Scalar];
/// let x0 = Idx::<G, Scalar>::at::<0>();
/// // y = x³ with a wrong VJP (2x² δ) but the right JVP (3x² dx).
/// let cube = NodeData::<f64, (), G, Scalar>::new(
///     move |x, _| x.get(x0).map(|v| v * v * v),
///     move |x, dx, _| dx.get(x0).zip_with(&x.get(x0), |d, v| 3.0 * v * v * d),
///     move |x, _, s| Cotangent::single(x0, s.zip_with(&x.get(x0), |s, v| 2.0 * v * v * s)),
/// );
/// let g = GraphData::<f64, (), G, HNil>::nil().snoc(cube);
/// let x = tlist![Tensor::new(2.0)];
/// let (v, w) = (tlist![Tensor::new(1.0)], tlist![Tensor::new(0.0), Tensor::new(1.0)]);
/// let err = gradcheck_with(&g, &x, &(), &v, &w, &GradcheckOptions::default()).unwrap_err();
/// assert_eq!(err.comparison, GradcheckComparison::FiniteDifferenceVsReverse);
/// assert!((err.left - 12.0).abs() < 1e-6 && err.right == 8.0);
/// ```
pub fn gradcheck_with<A: Real, D, G: ShapeList, Ss: ShapeList>(
    graph: &impl Executable<A, D, G, Ss>,
    x: &TList<A, G>,
    d: &D,
    v: &TList<A, G>,
    w: &TList<A, Cat<G, Ss>>,
    opts: &GradcheckOptions,
) -> Result<GradcheckReport<A>, GradcheckError<A>> {
    let graph = graph.graph_data();
    let h = A::from_f64(opts.h);
    let hv = v.scale(&h);
    let f_plus = w.dot_list(&graph.eval(x.add(&hv), d));
    let f_minus = w.dot_list(&graph.eval(x.sub(&hv), d));
    let finite_difference = (f_plus - f_minus) / (h + h);
    let jvp = graph.jvp_ctx(x.clone(), v.clone(), d);
    let forward = jvp.dot_list(w);
    let reverse = v.dot_list(&graph.backprop_ctx(x.clone(), d, w.clone()));
    let scale = abs_dot_list(w, &jvp);
    let tolerance = A::from_f64(opts.atol) + A::from_f64(opts.rtol) * scale;
    let report = GradcheckReport {
        finite_difference,
        reverse,
        forward,
        scale,
        tolerance,
    };
    let comparisons = [
        (
            GradcheckComparison::FiniteDifferenceVsReverse,
            report.finite_difference,
            report.reverse,
        ),
        (
            GradcheckComparison::FiniteDifferenceVsForward,
            report.finite_difference,
            report.forward,
        ),
        (
            GradcheckComparison::ForwardVsReverse,
            report.forward,
            report.reverse,
        ),
    ];
    for (comparison, left, right) in comparisons {
        // Written so that a NaN on either side (or in the tolerance) fails.
        let close = (left - right).abs() <= tolerance;
        if !close {
            return Err(GradcheckError {
                comparison,
                left,
                right,
                report,
            });
        }
    }
    Ok(report)
}
