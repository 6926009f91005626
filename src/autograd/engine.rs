//! The evaluation engine shared by every graph type: forward passes, tangent passes and the
//! reverse sweep, over flat slot buffers (`Vec<Owned<A>>`) and erased per-node closures.
//!
//! Keeping one implementation here means `GraphData`, `RevGraph` (runtime and spec sides)
//! and the bound propagation all follow the same, tested recursion.
//!
//! **Mathematics.** `eval` computes `vals ← vals ++ [fₖ(vals)]` for `k = 0, …, n − 1`, and `jvp`
//! appends `Jₖ(vals) · tans` beside it. The reverse sweep unrolls Lean's
//! `backpropCtx (snoc g n) x seed = backpropCtx g x (init seed + vjpₙ(ctx, last seed))`: for
//! `k = n − 1, …, 0` it pops the output seed `δₖ` and adds `vjpₖ(ctxₖ, δₖ)` to the earlier
//! slots. Lean adds a dense contribution, zero on the untouched slots; the sweep applies those
//! zero additions lazily (they matter only for `−0 + 0` and for bounds), so it equals the
//! literal recursion bit for bit at linear cost.

use crate::autograd::op::Contribs;
use crate::scalar::Element;
use crate::tensor::Owned;

/// The slots of a context, flat.
pub(crate) type Slots<A> = Vec<Owned<A>>;

/// `eval`: appends the output of each of the `n` nodes, in order.
pub(crate) fn eval<A>(
    mut vals: Slots<A>,
    n: usize,
    mut forward: impl FnMut(usize, &mut Slots<A>) -> Owned<A>,
) -> Slots<A> {
    vals.reserve(n);
    for k in 0..n {
        let y = forward(k, &mut vals);
        vals.push(y);
    }
    vals
}

/// `jvpCtx`: appends the output tangent of each node, computed at its primal context.
pub(crate) fn jvp<A>(
    mut vals: Slots<A>,
    mut tans: Slots<A>,
    n: usize,
    mut forward: impl FnMut(usize, &mut Slots<A>) -> Owned<A>,
    mut jvp: impl FnMut(usize, &mut Slots<A>, &mut Slots<A>) -> Owned<A>,
) -> Slots<A> {
    for k in 0..n {
        let t = jvp(k, &mut vals, &mut tans);
        let y = forward(k, &mut vals);
        vals.push(y);
        tans.push(t);
    }
    tans
}

/// What the reverse sweep accumulates into: per slot, a seed (and possibly more, e.g. its
/// error bound), with the slots of node `k`'s context plus its output present when node `k`
/// is processed.
pub(crate) trait ReverseAccumulator {
    /// A node's contribution to one slot.
    type Contribution;
    /// A node's contributions to distinct earlier slots.
    type Pulled: IntoIterator<Item = (usize, Self::Contribution)>;
    /// Number of slots currently held.
    fn len(&self) -> usize;
    /// Applies `times` dense additions of an exactly-zero contribution to `slot`.
    fn add_zeros(&mut self, slot: usize, times: usize);
    /// Removes the last slot (the output of node `k`, already brought up to date) and pulls
    /// its seed back through node `k`, returning the contributions to distinct earlier slots.
    fn pop_and_pull(&mut self, k: usize) -> Self::Pulled;
    /// Adds a contribution to `slot` (the existing seed on the left).
    fn add(&mut self, slot: usize, c: Self::Contribution);
}

/// Lean's `backpropCtx` recursion as one backward sweep over `n` nodes.
///
/// In Lean every node adds a *dense* contribution to every slot of its context, zero where it
/// does not touch the slot. Adding zero is the identity except for details such as IEEE's
/// `−0 + 0 = +0` and bound formulas that charge a rounding term, so the sweep does not skip
/// it: it records, per slot, the last node that really touched it and applies the zero
/// additions that happened since, in one call, right before the slot is next read or touched.
/// The result equals the literal recursion bit for bit, at linear cost.
pub(crate) fn reverse_sweep<Acc: ReverseAccumulator>(n: usize, acc: &mut Acc) {
    // last[j]: the node that last added a real contribution to slot j (n: none, only the seed).
    // Every node between then and now has slot j in its context (contexts only grow).
    let mut last = vec![n; acc.len()];
    for k in (0..n).rev() {
        let out = acc.len() - 1;
        acc.add_zeros(out, last[out] - k - 1);
        for (j, c) in acc.pop_and_pull(k) {
            acc.add_zeros(j, last[j] - k - 1);
            acc.add(j, c);
            last[j] = k;
        }
    }
    for (j, &l) in last.iter().enumerate().take(acc.len()) {
        acc.add_zeros(j, l);
    }
}

/// Seeds only: the accumulator of `backprop_ctx`. With `wanted`, only the slots `p` with
/// `wanted[p]` are accumulated and node VJPs whose output is not wanted are skipped.
struct SeedAccumulator<'a, A, F> {
    vals: Slots<A>,
    /// The node outputs popped off `vals`, last first, when the context is handed back
    /// (otherwise each is freed as soon as its node is done).
    popped: Option<Slots<A>>,
    /// The seed of every slot; an empty buffer stands for `+0` everywhere (a slot nobody
    /// seeded: see [`sparse_seed`]). A slot of size 0 is empty either way, and means the same.
    seed: Slots<A>,
    wanted: Option<Vec<bool>>,
    vjp: &'a mut F,
}

impl<A, F> ReverseAccumulator for SeedAccumulator<'_, A, F>
where
    A: Element,
    F: FnMut(usize, &mut Slots<A>, Owned<A>, Option<&[bool]>) -> Contribs<A>,
{
    type Contribution = Owned<A>;
    type Pulled = Contribs<A>;
    fn len(&self) -> usize {
        self.seed.len()
    }
    fn add_zeros(&mut self, slot: usize, times: usize) {
        if times > 0 && self.wants(slot) {
            // `+0 + 0 = +0`: an unseeded (empty) slot stays unseeded.
            self.seed[slot].add_zero();
        }
    }
    fn pop_and_pull(&mut self, k: usize) -> Contribs<A> {
        let y = self.vals.pop().expect("the context holds node k's output");
        let seed_out = self.seed.pop().expect("the seed covers every slot");
        let out = self.seed.len();
        let wanted = self.wants(out);
        let seed_out = if wanted && seed_out.len() != y.len() {
            Owned::zeros(y.len()) // unseeded
        } else {
            seed_out
        };
        if let Some(popped) = self.popped.as_mut() {
            popped.push(y);
        }
        if !wanted {
            return Contribs::new();
        }
        (self.vjp)(k, &mut self.vals, seed_out, self.wanted.as_deref())
    }
    fn add(&mut self, slot: usize, c: Owned<A>) {
        if self.wants(slot) {
            let s = &mut self.seed[slot];
            if s.len() == c.len() {
                s.add_assign(&c);
            } else {
                // unseeded: `+0 + c = c + 0` (`is_positive_zero`), without materialising zeros
                let mut c = c;
                c.add_zero();
                *s = c;
            }
        }
    }
}

impl<A, F> SeedAccumulator<'_, A, F> {
    #[inline]
    fn wants(&self, slot: usize) -> bool {
        self.wanted.as_ref().is_none_or(|w| w[slot])
    }
}

/// Linear-time `backpropCtx`: `vals` is the full evaluated context, `seed` covers it.
/// Returns the cotangent of the inputs and, if `keep_ctx`, the evaluated context, handed back
/// unchanged (else the node outputs are freed during the sweep and the inputs returned).
///
/// With `wanted` (one flag per slot), the result is exact on the wanted slots only; it must
/// be closed under dependence (see [`active_slots`]), so that every contribution to a wanted
/// slot is still computed, in the same order: the wanted slots are then bit-for-bit those of
/// the full sweep.
pub(crate) fn backprop_linear<A: Element>(
    vals: Slots<A>,
    seed: Slots<A>,
    n: usize,
    wanted: Option<Vec<bool>>,
    keep_ctx: bool,
    mut vjp: impl FnMut(usize, &mut Slots<A>, Owned<A>, Option<&[bool]>) -> Contribs<A>,
) -> (Slots<A>, Slots<A>) {
    let mut acc = SeedAccumulator {
        vals,
        popped: keep_ctx.then(|| Vec::with_capacity(n)),
        seed,
        wanted,
        vjp: &mut vjp,
    };
    reverse_sweep(n, &mut acc);
    let SeedAccumulator {
        mut vals,
        popped,
        seed,
        ..
    } = acc;
    let mut seed = seed;
    for (s, v) in seed.iter_mut().zip(&vals) {
        if s.len() != v.len() {
            *s = Owned::zeros(v.len()); // unseeded and never reached: +0 everywhere
        }
    }
    if let Some(popped) = popped {
        vals.extend(popped.into_iter().rev());
    }
    (seed, vals)
}

/// [`backprop_linear`] for the whole context (every slot wanted, node outputs freed during the
/// sweep): Lean's `backpropCtx`, returning the cotangent of the inputs.
pub(crate) fn backprop_all<A: Element>(
    vals: Slots<A>,
    seed: Slots<A>,
    n: usize,
    mut vjp: impl FnMut(usize, &mut Slots<A>, Owned<A>) -> Contribs<A>,
) -> Slots<A> {
    backprop_linear(vals, seed, n, None, false, |k, v, s, _| vjp(k, v, s)).0
}

/// Activity analysis: the slots whose cotangent can reach one of the first `inputs` slots
/// of the context: those inputs, and every node output whose node reads an active slot
/// (`reads(k)` is `None` when node `k` may read anything). Inputs past `inputs` are inactive.
pub(crate) fn active_slots<'a>(
    n_inputs: usize,
    active_inputs: usize,
    n: usize,
    reads: impl Fn(usize) -> Option<&'a [usize]>,
) -> Vec<bool> {
    let mut active: Vec<bool> = (0..n_inputs).map(|j| j < active_inputs).collect();
    active.reserve(n);
    for k in 0..n {
        let a = match reads(k) {
            Some(r) => r.iter().any(|&j| active[j]),
            None => active.iter().any(|&b| b),
        };
        active.push(a);
    }
    active
}

/// A sparse seed over `len` slots: the listed slots, and an empty buffer (`+0` everywhere,
/// not materialised) elsewhere.
pub(crate) fn sparse_seed<A>(
    len: usize,
    entries: impl IntoIterator<Item = (usize, Owned<A>)>,
) -> Slots<A> {
    let mut seed: Slots<A> = (0..len).map(|_| Owned(smallvec::SmallVec::new())).collect();
    for (p, t) in entries {
        seed[p] = t;
    }
    seed
}

/// Dense slot buffers for sparse entries, zero elsewhere.
pub(crate) fn densify<A: Element>(
    sizes: impl Iterator<Item = usize>,
    entries: impl IntoIterator<Item = (usize, Owned<A>)>,
) -> Slots<A> {
    let mut dense: Slots<A> = sizes.map(Owned::zeros).collect();
    for (p, t) in entries {
        dense[p] = t;
    }
    dense
}

/// `backpropCtx` following the Lean recursion literally: at node `k` (last first) split the
/// seed, evaluate the prefix of `k` nodes again, add the dense VJP to the whole seed.
pub(crate) fn backprop_literal<A: Element>(
    x: Slots<A>,
    mut seed: Slots<A>,
    n: usize,
    mut forward: impl FnMut(usize, &mut Slots<A>) -> Owned<A>,
    mut vjp: impl FnMut(usize, &mut Slots<A>, Owned<A>) -> Contribs<A>,
) -> Slots<A> {
    for k in (0..n).rev() {
        let seed_out = seed.pop().expect("the seed covers every slot");
        let mut ctx = eval(x.clone(), k, &mut forward);
        let sizes: Vec<usize> = ctx.iter().map(Owned::len).collect();
        let contrib = densify(sizes.into_iter(), vjp(k, &mut ctx, seed_out));
        for (s, c) in seed.iter_mut().zip(&contrib) {
            s.add_assign(c);
        }
    }
    seed
}
