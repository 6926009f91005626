//! The enclosure certification mode: per-entry enclosures of the exact values through the
//! whole graph.
//!
//! **Mathematics.** Start from the boxes `[x̂ᵢ − ε, x̂ᵢ + ε]` around every input entry (points
//! when `ε = 0`) and run every node on [`Interval`]s, in order: node `k`'s enclosure is its op
//! evaluated on the enclosures of the slots it reads. By inclusion (each interval operation
//! contains the exact result for every choice of operands in its operand intervals), every
//! enclosure contains the exact real value of its slot for every spec input inside the input
//! boxes. Reverse mode runs the VJPs on intervals in the same way, from the seed boxes
//! `[δ̂ ± εδ]`, so the enclosures of the input cotangents contain the exact cotangents.
//!
//! The bound of a slot is then `ε = maxᵢ sup |runtimeᵢ − encᵢ|`, rounded up: a context of
//! bounds that satisfies Lean's `approx_ctx` for every admissible spec, so the conclusions of
//! `eval_approx` and `backprop_approx` hold for it (by inclusion rather than by composition).
//! Unlike the Lean-composed bounds ([`RevGraph::eval_bounds`](crate::approx::RevGraph::eval_bounds)),
//! nothing is re-centred on the runtime value at each node, so per-entry information and the
//! correlation between entries survive: with exact inputs, the bound is the runtime's actual
//! error plus the (`f64`-sized) width of the enclosure.
//!
//! **With `ε > 0`.** Wide boxes suffer the dependency problem of interval arithmetic, where the
//! composed bounds (and an op's closed form, [`Op::bound`](crate::autograd::Op::bound)) may be
//! tighter. When any input or seed bound is positive, the mode also computes the composed
//! bounds, intersects every node's enclosure with the box `[ŷ ± β]` of its composed bound and
//! with that of its closed form at the current enclosure distances (each box contains the exact
//! value, so their intersection does), and reports per slot the smaller of the two bounds: it
//! is never looser than the composed one (see TRUST.md).
//!
//! **Deep models.** `f64` interval widths start near `10⁻¹⁶` relative and grow by the
//! absolute-value norm of every layer; on a deep model they can reach the runtime's own error.
//! [`Ball`] (a double-double midpoint with an `f64` radius) starts 16 digits narrower:
//! `eval_enclosed_in::<Ball, _>` / `backprop_enclosed_in::<Ball, _, _>`.
//!
//! **Cost.** Matrix products run in midpoint-radius form (one `f64` product for the midpoint
//! and `f32` products for the radius; none when both operands are point matrices, whose
//! product's rounding term is bounded from row and column statistics), every other op at the
//! price of its interval code.
//!
//! ```
//! use shapetape::prelude::*;
//! use shapetape::approx::{Ball, EList, RevGraph};
//! use shapetape::ops;
//!
//! type G = HList![Matrix<2, 3>, Vector<3>];
//! let g = RevGraph::<f32, f64, G, _>::build(|b| {
//!     let hlist_pat![w, x] = b.inputs();
//!     let (b, y) = b.push(|c| ops::matvec(c.idx(w), c.idx(x)));
//!     b.push(|c| ops::tanh(c.idx(y))).0
//! });
//! let x: TList<f32, G> = tlist![
//!     Tensor::new([[0.1, 0.2, 0.3], [-1.0, 0.5, 0.25]]),
//!     Tensor::new([3.0, -2.0, 1.0]),
//! ];
//! // Per-entry enclosures of the exact values; per-slot and per-entry bounds.
//! let enc = g.eval_enclosed(EList::zero(), x.clone());
//! let (y_lo, y_hi) = (enc.enclosures().slot_slices().nth(3).unwrap()[0].lo(),
//!                     enc.enclosures().slot_slices().nth(3).unwrap()[0].hi());
//! assert!(y_lo <= y_hi);
//! assert_eq!(enc.entry_bounds().slot_slices().nth(3).unwrap().len(), 2);
//! // The same on double-double balls, for deep models (the same runtime values).
//! let ball = g.eval_enclosed_in::<Ball, _>(EList::zero(), x);
//! assert_eq!(ball.runtime(), enc.runtime());
//! assert!((ball.bounds().as_slice()[3] - enc.bounds().as_slice()[3]).abs() < 1e-12);
//! ```

use crate::approx::add_bound::CtxAddBound;
use crate::approx::ball::Ball;
use crate::approx::elist::EList;
use crate::approx::graph::{backprop_bounds_raw, infinite_where_not_finite};
use crate::approx::interval::Interval;
use crate::approx::midrad::with_runtime_unit;
use crate::approx::node::CertNode;
use crate::approx::round::RuntimeFloat;
use crate::autograd::engine::{self, Slots};
use crate::autograd::op::{Contribs, Operands, Pullback};
use crate::scalar::Real;
use crate::shape_list::ShapeList;
use crate::tensor::Owned;
use crate::tlist::TList;

/// A scalar whose values are sets of real numbers, each containing the exact value it stands
/// for: what the enclosure mode runs the ops on. Every operation of its [`Real`] arithmetic
/// must contain the exact result for every choice of operands in its operand sets.
///
/// [`Interval`] (`f64` endpoints) is fast and enough for shallow models; a ball with a
/// double-double midpoint starts about 16 digits narrower, for deep ones, where interval
/// widths grow by the norm of every layer.
pub trait Enclosure: Real + core::fmt::Display {
    /// The set `[x − e, x + e]` (or a superset; the whole line when `x` or `e` is not finite).
    fn around(x: f64, e: f64) -> Self;
    /// `[x, x]`, the set `{x}` (the whole line when `x` is not finite): `around(x, 0)`, for the
    /// boxes of exact inputs (the caller's loop vectorises with it).
    fn point(x: f64) -> Self;
    /// `sup { |y − x| : y ∈ self }` rounded up; `+∞` if `x` is not finite or the set is
    /// unbounded.
    fn max_distance_from(self, x: f64) -> f64;
    /// A set containing `self ∩ [x − b, x + b]` (both are known to contain the same number).
    fn clip(self, x: f64, b: f64) -> Self;
    /// `(lo, hi)` with the set inside `[lo, hi]` (rounded outward).
    fn endpoints(self) -> (f64, f64);
    /// The op of a certified node on this scalar (crate-internal dispatch).
    #[doc(hidden)]
    fn node_forward<R, P>(node: &CertNode<R, P>, x: Operands<'_, Self>) -> Owned<Self>;
    /// The VJP of a certified node on this scalar (crate-internal dispatch).
    #[doc(hidden)]
    fn node_vjp<R, P>(
        node: &CertNode<R, P>,
        x: Operands<'_, Self>,
        seed: Owned<Self>,
    ) -> Pullback<Self>;
}

/// [`Enclosure`] for a type whose inherent methods have the trait's meaning.
macro_rules! enclosure_scalars {
    ($($t:ty),*) => {$(
        impl Enclosure for $t {
            fn around(x: f64, e: f64) -> Self {
                <$t>::around(x, e)
            }
            #[inline]
            fn point(x: f64) -> Self {
                <$t>::point_box(x)
            }
            fn max_distance_from(self, x: f64) -> f64 {
                <$t>::max_distance_from(self, x)
            }
            fn clip(self, x: f64, b: f64) -> Self {
                self.intersect(Interval::around(x, b))
            }
            fn endpoints(self) -> (f64, f64) {
                (self.lo(), self.hi())
            }
            fn node_forward<R, P>(node: &CertNode<R, P>, x: Operands<'_, Self>) -> Owned<Self> {
                node.forward(x)
            }
            fn node_vjp<R, P>(
                node: &CertNode<R, P>,
                x: Operands<'_, Self>,
                seed: Owned<Self>,
            ) -> Pullback<Self> {
                Pullback(node.vjp(x, seed))
            }
        }
    )*};
}
enclosure_scalars!(Interval, Ball);

/// `max(0, maxᵢ sup |encᵢ − rtᵢ|)`: how far the runtime values can be from values in the
/// enclosures.
fn distance<R: RuntimeFloat, E: Enclosure>(enc: &[E], rt: &[R]) -> f64 {
    crate::approx::round::norm_max(
        enc.iter()
            .zip(rt)
            .map(|(e, &r)| e.max_distance_from(r.to_f64_exact())),
    )
}

/// Runtime values with per-entry enclosures of the exact values they approximate: the result
/// of the enclosure certification mode ([`RevGraph::eval_enclosed`],
/// [`RevGraph::backprop_enclosed`]).
///
/// Every entry of [`Enclosed::enclosures`] contains the exact real value of the entry (for
/// every spec input within the given input bounds); [`Enclosed::bounds`] turns them into one
/// Lean-style bound per slot and [`Enclosed::entry_bounds`] into one bound per entry.
///
/// [`RevGraph::eval_enclosed`]: crate::approx::RevGraph::eval_enclosed
/// [`RevGraph::backprop_enclosed`]: crate::approx::RevGraph::backprop_enclosed
#[derive(Clone)]
pub struct Enclosed<R, G, E = Interval> {
    runtime: TList<R, G>,
    enclosures: TList<E, G>,
    /// Per slot, a bound known without the enclosure (the caller's bound of an input slot, or
    /// of a seed no node adds to), used when it is smaller: the box `[x̂ ± ε]` is rounded
    /// outward, so its distance can exceed `ε` by an ulp of `x̂`.
    caps: Vec<f64>,
}

impl<R: RuntimeFloat, G: ShapeList, E: Enclosure> core::fmt::Debug for Enclosed<R, G, E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Enclosed")
            .field("bounds", &self.bounds().as_slice())
            .finish_non_exhaustive()
    }
}

impl<R: RuntimeFloat, G: ShapeList, E: Enclosure> Enclosed<R, G, E> {
    /// The runtime values (what `eval_runtime` or `backprop_runtime` returns, bit for bit).
    pub fn runtime(&self) -> &TList<R, G> {
        &self.runtime
    }

    /// The enclosures of the exact values, entry by entry.
    pub fn enclosures(&self) -> &TList<E, G> {
        &self.enclosures
    }

    /// The runtime values and the enclosures.
    pub fn into_parts(self) -> (TList<R, G>, TList<E, G>) {
        (self.runtime, self.enclosures)
    }

    /// One bound per slot, `ε = maxᵢ sup |runtimeᵢ − encᵢ|` rounded up (`+∞` where a runtime
    /// value is NaN or ±∞ or an enclosure is unbounded): `approx_ctx spec runtime ε` holds for
    /// every admissible spec.
    pub fn bounds(&self) -> EList<G> {
        EList::from_vec_unchecked(
            self.enclosures
                .items()
                .iter()
                .zip(self.runtime.items())
                .zip(&self.caps)
                .map(|((enc, rt), &cap)| capped(distance(&enc.0, &rt.0), rt, cap))
                .collect(),
        )
    }

    /// One bound per entry, `sup |runtimeᵢ − encᵢ|` rounded up, as a context of `f64` tensors.
    pub fn entry_bounds(&self) -> TList<f64, G> {
        TList::from_items(
            self.enclosures
                .items()
                .iter()
                .zip(self.runtime.items())
                .zip(&self.caps)
                .map(|((enc, rt), &cap)| {
                    Owned(
                        enc.0
                            .iter()
                            .zip(&rt.0)
                            .map(|(iv, &r)| {
                                let d = iv.max_distance_from(r.to_f64_exact());
                                if r.is_finite() { d.min(cap) } else { d }
                            })
                            .collect(),
                    )
                })
                .collect(),
        )
    }
}

/// `min(d, cap)` for a slot of finite runtime values, `d` (which is `+∞`) otherwise.
fn capped<R: RuntimeFloat>(d: f64, rt: &Owned<R>, cap: f64) -> f64 {
    if R::all_finite(&rt.0) { d.min(cap) } else { d }
}

/// Boxes `[x̂ ± ε]` around every slot (unbounded where `x̂` is not finite).
fn boxes<R: RuntimeFloat, E: Enclosure>(vals: &[Owned<R>], eps: &[f64]) -> Slots<E> {
    vals.iter()
        .zip(eps)
        .map(|(v, &e)| slot_box(&v.0, e))
        .collect()
}

/// Boxes `[x̂ ± ε]` around the entries of one slot, collected through a `Vec` (whose exact-size
/// collection is much faster than a small vector's `extend`; a long `Vec` becomes the slot's
/// buffer without a copy).
fn slot_box<R: RuntimeFloat, E: Enclosure>(v: &[R], e: f64) -> Owned<E> {
    let b: Vec<E> = if e == 0.0 {
        v.iter().map(|x| E::point(x.to_f64_exact())).collect()
    } else {
        v.iter().map(|x| E::around(x.to_f64_exact(), e)).collect()
    };
    Owned(smallvec::SmallVec::from_vec(b))
}

/// Intersects every entry of `enc` with `[rtᵢ ± b]` (a slot of `rt` may be absent: zero).
fn clip<R: RuntimeFloat, E: Enclosure>(enc: &mut [E], rt: Option<&[R]>, b: f64) {
    if b.is_nan() || b == f64::INFINITY {
        return;
    }
    for (i, iv) in enc.iter_mut().enumerate() {
        let r = rt.map_or(0.0, |rt| rt[i].to_f64_exact());
        *iv = iv.clip(r, b);
    }
}

/// The forward pass of the enclosure mode.
pub(crate) struct Forward<R, E> {
    vals: Slots<R>,
    enc: Slots<E>,
    /// With `ε > 0` only: per slot, the enclosure's distance (capped by the next field) and
    /// the Lean-composed bound (`eval_bounds`).
    composed: Option<(Vec<f64>, Vec<f64>)>,
}

/// The forward pass: the runtime context and the enclosures; with `composed`, also the
/// Lean-composed bounds, each node's enclosure being intersected with the boxes of its
/// composed bound and of its closed form at the enclosure distances.
pub(crate) fn eval_enclosed_raw<R: RuntimeFloat, P, E: Enclosure>(
    nodes: &[CertNode<R, P>],
    mut vals: Slots<R>,
    eps_in: &[f64],
    composed: bool,
) -> Forward<R, E> {
    let mut enc = boxes(&vals, eps_in);
    let mut composed = composed.then(|| {
        let mut lean = eps_in.to_vec();
        infinite_where_not_finite(&vals, &mut lean);
        let dist: Vec<f64> = enc
            .iter()
            .zip(&vals)
            .zip(&lean)
            .map(|((e, v), &cap)| capped(distance(&e.0, &v.0), v, cap))
            .collect();
        (dist, lean)
    });
    vals.reserve(nodes.len());
    enc.reserve(nodes.len());
    for node in nodes {
        let y = node.forward(Operands::dense(&vals));
        let mut e = E::node_forward(node, Operands::dense(&enc));
        if let Some((dist, lean)) = composed.as_mut() {
            let l = node.fns.bound(lean, &vals, &y.0);
            clip(&mut e.0, Some(&y.0), l);
            if let Some(b) = node.fns.closed_bound(dist, &vals, &y.0) {
                clip(&mut e.0, Some(&y.0), b);
            }
            dist.push(capped(distance(&e.0, &y.0), &y, l));
            lean.push(l);
        }
        vals.push(y);
        enc.push(e);
    }
    Forward {
        vals,
        enc,
        composed,
    }
}

/// What the runtime reverse sweep saw at a node: its seed and its contributions (recorded
/// only when intersecting with closed forms).
type Seen<R> = Option<(Owned<R>, Contribs<R>)>;

/// The reverse pass: the runtime input cotangents (the sweep of `backprop_runtime`,
/// unchanged), their enclosures and, with the composed bounds, the Lean-composed bounds of the
/// cotangents (`backprop_bounds`); each VJP contribution's enclosure is intersected with the
/// box of the op's closed form at the enclosure distances.
pub(crate) fn backprop_enclosed_raw<R: RuntimeFloat, P, E: Enclosure>(
    nodes: &[CertNode<R, P>],
    fwd: Forward<R, E>,
    seed: Slots<R>,
    eps_seed: &[f64],
) -> (Slots<R>, Slots<E>, Option<Vec<f64>>) {
    let n = nodes.len();
    let Forward {
        vals,
        enc,
        composed,
    } = fwd;
    // A seed slot that is exactly zero (runtime zeros, bound 0) is left unseeded, which the
    // sweep reads as an exact zero without materialising it.
    let seed_enc: Slots<E> = seed
        .iter()
        .zip(eps_seed)
        .map(|(v, &e)| {
            if e == 0.0 && R::all_zero(&v.0) {
                Owned(smallvec::SmallVec::new())
            } else {
                slot_box(&v.0, e)
            }
        })
        .collect();
    let mut seen: Vec<Seen<R>> = (0..n).map(|_| None).collect();
    let kept = composed.as_ref().map(|_| (vals.clone(), seed.clone()));
    let grads = engine::backprop_all(vals, seed, n, |k, v, s| {
        if kept.is_some() {
            let c = nodes[k].vjp(Operands::dense(v), s.clone());
            seen[k] = Some((s, c.clone()));
            c
        } else {
            nodes[k].vjp(Operands::dense(v), s)
        }
    });
    let grads_enc = engine::backprop_all(enc, seed_enc, n, |k, v, s| {
        let (Some((s_rt, c_rt)), Some((vals, _)), Some((dist, _))) =
            (seen[k].take(), kept.as_ref(), composed.as_ref())
        else {
            return E::node_vjp(&nodes[k], Operands::dense(v), s).0;
        };
        let e_seed = distance(&s.0, &s_rt.0);
        let mut c_enc = E::node_vjp(&nodes[k], Operands::dense(v), s).0;
        let c_rt = Pullback(c_rt);
        let at = v.len();
        if let Some(b) =
            nodes[k]
                .fns
                .closed_vjp_bound(&dist[..at], &vals[..at], e_seed, &s_rt.0, &c_rt)
        {
            for (p, e) in &mut c_enc {
                let bp = b.0.iter().find(|(q, _)| q == p).map_or(0.0, |(_, e)| *e);
                let rt = c_rt.0.iter().find(|(q, _)| q == p).map(|(_, t)| &t.0[..]);
                clip(&mut e.0, rt, bp);
            }
        }
        c_enc
    });
    let lean = match (kept, composed) {
        (Some((vals, seed)), Some((_, lean))) => {
            let (rt, mut e) =
                backprop_bounds_raw(nodes, vals, lean, seed, eps_seed.to_vec(), &CtxAddBound);
            infinite_where_not_finite(&rt, &mut e);
            Some(e)
        }
        _ => None,
    };
    (grads, grads_enc, lean)
}

/// Whether any bound is positive (or NaN): then the composed bounds are computed beside the
/// enclosures.
fn any_positive(eps: &[f64]) -> bool {
    eps.iter().any(|&e| e.is_nan() || e > 0.0)
}

macro_rules! enclosure_semantics {
    ($ty:ident) => {
        impl<R, P, G: ShapeList, Ss: ShapeList> crate::approx::$ty<R, P, G, Ss>
        where
            R: RuntimeFloat,
            P: crate::approx::SpecScalar,
        {
            /// The enclosure certification mode, forward: the runtime context (`eval_runtime`,
            /// bit for bit) with per-entry enclosures of the exact value of every slot, for
            /// every spec input within `eps_in` of `x` (points when `eps_in` is zero).
            /// `.bounds()` is a context of bounds satisfying `eval_approx`'s conclusion; see
            /// [`Enclosed`] and the [module docs](crate::approx::enclosure). Runs on
            /// [`Interval`]s; [`Self::eval_enclosed_in`] takes another [`Enclosure`].
            pub fn eval_enclosed<G1>(
                &self,
                eps_in: EList<G>,
                x: TList<R, G1>,
            ) -> Enclosed<R, crate::shape_list::Cat<G, Ss>>
            where
                G: crate::shape_list::ExpectsContext<G1>,
            {
                self.eval_enclosed_in::<Interval, G1>(eps_in, x)
            }

            /// [`Self::eval_enclosed`] on the enclosure scalar `E` (e.g.
            /// [`Ball`](crate::approx::Ball), for deep models).
            pub fn eval_enclosed_in<E: Enclosure, G1>(
                &self,
                eps_in: EList<G>,
                x: TList<R, G1>,
            ) -> Enclosed<R, crate::shape_list::Cat<G, Ss>, E>
            where
                G: crate::shape_list::ExpectsContext<G1>,
            {
                let eps = eps_in.into_vec();
                let fwd: Forward<R, E> = with_runtime_unit(R::FORMAT.unit_roundoff(), || {
                    eval_enclosed_raw(&self.nodes, x.into_items(), &eps, any_positive(&eps))
                });
                let caps = match fwd.composed {
                    Some((_, lean)) => lean,
                    None => {
                        let mut caps = eps;
                        caps.resize(fwd.vals.len(), f64::INFINITY);
                        caps
                    }
                };
                Enclosed {
                    runtime: TList::from_items(fwd.vals),
                    enclosures: TList::from_items(fwd.enc),
                    caps,
                }
            }
        }
    };
}

enclosure_semantics!(FwdGraph);
enclosure_semantics!(RevGraph);

impl<R, P, G: ShapeList, Ss: ShapeList> crate::approx::RevGraph<R, P, G, Ss>
where
    R: RuntimeFloat,
    P: crate::approx::SpecScalar,
{
    /// The enclosure certification mode, reverse: the input cotangents of `backprop_runtime`
    /// (bit for bit) with per-entry enclosures of the exact cotangents `backprop_spec`
    /// computes in exact arithmetic, for every spec input within `eps_in` of `x` and every
    /// spec seed within `eps_seed` of `seed`. `.bounds()` satisfies `backprop_approx`'s
    /// conclusion.
    pub fn backprop_enclosed<G1, G2>(
        &self,
        eps_in: EList<G>,
        x: TList<R, G1>,
        eps_seed: EList<crate::shape_list::Cat<G, Ss>>,
        seed: TList<R, G2>,
    ) -> Enclosed<R, G>
    where
        G: crate::shape_list::ExpectsContext<G1>,
        crate::shape_list::Cat<G, Ss>: crate::shape_list::SeedContext<G2>,
    {
        self.backprop_enclosed_in::<Interval, G1, G2>(eps_in, x, eps_seed, seed)
    }

    /// [`Self::backprop_enclosed`] on the enclosure scalar `E` (e.g.
    /// [`Ball`](crate::approx::Ball), for deep models).
    pub fn backprop_enclosed_in<E: Enclosure, G1, G2>(
        &self,
        eps_in: EList<G>,
        x: TList<R, G1>,
        eps_seed: EList<crate::shape_list::Cat<G, Ss>>,
        seed: TList<R, G2>,
    ) -> Enclosed<R, G, E>
    where
        G: crate::shape_list::ExpectsContext<G1>,
        crate::shape_list::Cat<G, Ss>: crate::shape_list::SeedContext<G2>,
    {
        let (eps_in, eps_seed) = (eps_in.into_vec(), eps_seed.into_vec());
        let intersect = any_positive(&eps_in) || any_positive(&eps_seed);
        let (grads, enc, lean) = with_runtime_unit(R::FORMAT.unit_roundoff(), || {
            let fwd: Forward<R, E> =
                eval_enclosed_raw(&self.nodes, x.into_items(), &eps_in, intersect);
            backprop_enclosed_raw(&self.nodes, fwd, seed.into_items(), &eps_seed)
        });
        // An input slot no node reads keeps its seed: its caller's bound holds.
        let mut caps = lean.unwrap_or_else(|| vec![f64::INFINITY; G::LEN]);
        for (j, cap) in caps.iter_mut().enumerate() {
            if !self.nodes.iter().any(|n| n.reads.contains(&j)) {
                *cap = cap.min(eps_seed[j]);
            }
        }
        Enclosed {
            runtime: TList::from_items(grads),
            enclosures: TList::from_items(enc),
            caps,
        }
    }
}
