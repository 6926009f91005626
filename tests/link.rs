//! The bridge `RevGraph → GraphData` (src/link.rs) as property tests on random graphs.
//!
//! Lean's `LinkAutogradAlgebra` proves two theorems by unfolding definitions; here they are
//! checked bit for bit (`to_bits()` on every entry), for runtime scalars `f32` and `f64`:
//!
//! - `evalRuntime_of_toGraphData`: `g.to_graph_data().eval(x, &()) == g.eval_runtime(x)`;
//! - `backpropRuntime_of_toGraphData`:
//!   `g.to_graph_data().backprop_ctx(x, &(), seed) == g.backprop_runtime(x, seed)`, with
//!   random seeds on *every* slot (inputs and intermediate nodes, with exact `+0.0`/`−0.0`
//!   entries), and the literal recursions agree with both:
//!   `backprop_ctx_literal == backprop_runtime_literal == backprop_runtime`.
//!
//! Both sides of those equalities run the op that the certified graph stores, through the
//! library's shared evaluation engine, so on their own they could not show a bug of erasure or
//! of the engine. Every random graph is therefore also run by an **independent reference**
//! (section 0): each node's maps taken from the op value itself (`OpNode::into_node`, not the
//! certified graph's stored node or its erasure), run by a test-local transcription of Lean's
//! recursions `eval`, `jvpCtx` and `backpropCtx` over plain vectors. Runtime, erased and
//! literal results must all equal it bit for bit; so must the erased JVP (`jvp_ctx`), the
//! restricted reverse mode `backprop_prefix` (which relies on the operand slots the erasure
//! records), and the erased graph's operand slots must be the ones the generator chose.
//!
//! Beyond Lean (whose erased `jvp` is a placeholder), erasure keeps the runtime JVP, so the
//! erased graph satisfies `backprop_correct`: `⟨jvp_ctx(x, dx), seed⟩ ≈ ⟨dx, backprop_ctx(x,
//! seed)⟩`, checked in f64 within a relative tolerance [`F64_ADJOINT_RTOL`] of the magnitude of
//! the terms. The erased types are named exactly in [`erased_types_are_named_exactly`]; that
//! erasing into another environment, input context or output list does not compile is shown by
//! `ui-tests/link_wrong_*.rs`.
//!
//! Random graphs are *templates*: a fixed input context Γ and node output shapes Ss, with every
//! node's op chosen at run time among the ops of `ops` that produce its shape, and its operands
//! among all earlier slots of the right shape (`Idx::try_at`), aliased a quarter of the time.
//! (The generator is local to this file, not the one of tests/approx.rs: it builds each node's
//! reference from the same op value as the certified node.) Case counts: proptest's default
//! (256) or `PROPTEST_CASES`; the properties on 16×16 products run [`BLOCKED_CASES`] by default
//! (also overridden by `PROPTEST_CASES`).

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shapetape::approx::{Certifiable, Interval, RevGraph, RevNode, RuntimeFloat, ToSpec};
use shapetape::autograd::{Cotangent, GraphData, Node, NodeData, OpNode, check_backprop};
use shapetape::ops;
use shapetape::prelude::*;
use shapetape::shape_list::SplitAt;
use std::marker::PhantomData;
#[path = "common/registry.rs"]
mod registry;
use registry::*;

type Law = Result<(), TestCaseError>;

/// `backprop_correct` in f64 on an erased graph: `|lhs − rhs| ≤ F64_ADJOINT_RTOL · magnitude`,
/// where the magnitude is `max(⟨|jvp_ctx|, |seed|⟩, ⟨|dx|, |backprop_ctx|⟩)` (the scale at
/// which both dot products round). A graph of ≤ 9 nodes does a few hundred roundings of
/// relative size 2⁻⁵³ ≈ 1.1·10⁻¹⁶ per path; 10⁻¹⁰ leaves four orders of magnitude for
/// cancellation inside the graph and is still far below the error of a wrong derivative.
const F64_ADJOINT_RTOL: f64 = 1e-10;

/// Default number of cases of the properties on 16×16 products (the blocked GEMM kernel, slow
/// in a debug build; the literal recursions evaluate the prefix again per node).
const BLOCKED_CASES: u32 = 64;

/// `PROPTEST_CASES` if set, otherwise `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A runtime scalar of the templates: `f32` or `f64`.
/// A `safe_log` clamp point in it is a constant that every certified graph over it runs (at the
/// runtime scalar, the `f64` spec, on intervals and on balls).
trait Rt:
    RevRuntime
    + ExecScalar
    + RuntimeFloat
    + ToSpec<f64>
    + Copy
    + ops::Constant<Self>
    + ops::Constant<f64>
    + ops::Constant<Interval>
    + ops::Constant<shapetape::approx::Ball>
{
    /// The bit pattern (widened for `f32`).
    fn bits(self) -> u64;
}
impl Rt for f32 {
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
}
impl Rt for f64 {
    fn bits(self) -> u64 {
        self.to_bits()
    }
}

// ================================================================ 0. the independent reference
//
// Why it is independent of what the bridge theorems compare:
//
// - Its maps come from the op *value* (`OpNode::into_node::<R, ()>()`, the executable node of
//   the op), called on a typed copy of the node's context. The certified graph instead stores
//   the op as a certified node (`into_rev_node`), and `to_graph_data` erases that node into an
//   executable one (its name, output shape, operand slots and runtime kernel); neither that
//   stored node nor the erasure is used here. What is shared is only the op's own definition
//   (`Eval<R>`: the semantics that erasure must preserve, reached through the executable
//   node's typed `forward`/`jvp`/`vjp`) and `Cotangent::to_dense`.
// - It is run by a transcription of Lean's recursions over `Vec<Vec<R>>`, written below
//   (`eval (snoc g n) x = snoc ctx (n.forward ctx)`; `jvpCtx`; `backpropCtx (snoc g n) x seed =
//   backpropCtx g x (init seed + n.vjp ctx (last seed))` with the dense addition, seed on the
//   left), not by the library's engine, which `GraphData` (linear and literal) and `RevGraph`
//   share.
//
// A bug in erasure (a wrong kernel, slot, or recorded operand) or in the shared engine thus
// makes the two sides of a theorem differ from the reference, even where they agree with each
// other.

/// The slots of a context, as plain vectors.
type Slots<R> = Vec<Vec<R>>;

fn slots_of<R: Rt, C>(x: &TList<R, C>) -> Slots<R> {
    x.slot_slices().map(<[R]>::to_vec).collect()
}

/// `forward ctx` of a reference node.
type RefForward<R> = Box<dyn Fn(&[Vec<R>]) -> Vec<R>>;
/// `jvp ctx dctx` of a reference node.
type RefJvp<R> = Box<dyn Fn(&[Vec<R>], &[Vec<R>]) -> Vec<R>>;
/// `vjp ctx δ` of a reference node: the dense cotangent of its context (Lean's `vjp` result).
type RefVjp<R> = Box<dyn Fn(&[Vec<R>], &[R]) -> Slots<R>>;

/// A node of the reference: name, operand slots (as the generator chose them) and maps over
/// plain vectors.
struct RefNode<R> {
    name: String,
    reads: Vec<usize>,
    forward: RefForward<R>,
    jvp: RefJvp<R>,
    vjp: RefVjp<R>,
}

/// The typed context `C` holding `slots` (checked slot by slot against the layout of `C`).
fn typed<R: Rt, C: ShapeList>(slots: &[Vec<R>]) -> TList<R, C> {
    let sizes: Vec<usize> = C::layout().iter().map(|l| l.size).collect();
    assert_eq!(
        slots.iter().map(Vec::len).collect::<Vec<_>>(),
        sizes,
        "the reference runs a node on its own context"
    );
    TList::try_from_flat(slots.concat()).expect("the layout was checked")
}

impl<R: Rt> RefNode<R> {
    fn new<C: ShapeList, T: Shape>(node: Node<R, (), C, T>, reads: Vec<usize>) -> Self {
        let name = node.data().name().to_owned();
        let (f, j, v) = (node.clone(), node.clone(), node);
        RefNode {
            name,
            reads,
            forward: Box::new(move |x| f.data().forward(&typed::<R, C>(x), &()).into_vec()),
            jvp: Box::new(move |x, dx| {
                j.data()
                    .jvp(&typed::<R, C>(x), &typed::<R, C>(dx), &())
                    .into_vec()
            }),
            vjp: Box::new(move |x, seed| {
                let seed = Tensor::<R, T>::try_from_slice(seed).expect("a seed of the output");
                slots_of(&v.data().vjp(&typed::<R, C>(x), &(), &seed).to_dense())
            }),
        }
    }
}

/// Lean's `eval`: `eval (snoc g n) x = snoc ctx (n.forward ctx)` with `ctx = eval g x`.
fn ref_eval<R: Rt>(nodes: &[RefNode<R>], x: Slots<R>) -> Slots<R> {
    match nodes.split_last() {
        None => x,
        Some((n, init)) => {
            let mut ctx = ref_eval(init, x);
            let y = (n.forward)(&ctx);
            ctx.push(y);
            ctx
        }
    }
}

/// Lean's `jvpCtx`: `jvpCtx (snoc g n) x dx = snoc dctx (n.jvp ctx dctx)` with
/// `ctx = eval g x` and `dctx = jvpCtx g x dx`.
fn ref_jvp_ctx<R: Rt>(nodes: &[RefNode<R>], x: Slots<R>, dx: Slots<R>) -> Slots<R> {
    match nodes.split_last() {
        None => dx,
        Some((n, init)) => {
            let ctx = ref_eval(init, x.clone());
            let mut dctx = ref_jvp_ctx(init, x, dx);
            let t = (n.jvp)(&ctx, &dctx);
            dctx.push(t);
            dctx
        }
    }
}

/// Lean's `backpropCtx`: `backpropCtx (snoc g n) x seed = backpropCtx g x (init seed +
/// n.vjp ctx (last seed))` with `ctx = eval g x`, the dense cotangent added entry by entry to
/// the seed, the seed on the left.
fn ref_backprop<R: Rt>(nodes: &[RefNode<R>], x: Slots<R>, mut seed: Slots<R>) -> Slots<R> {
    match nodes.split_last() {
        None => seed,
        Some((n, init)) => {
            let ctx = ref_eval(init, x.clone());
            let out = seed.pop().expect("a seed on every slot");
            let c = (n.vjp)(&ctx, &out);
            assert_eq!(c.len(), seed.len(), "a dense cotangent of the context");
            for (s, c) in seed.iter_mut().zip(&c) {
                assert_eq!(s.len(), c.len());
                for (a, b) in s.iter_mut().zip(c) {
                    *a = *a + *b;
                }
            }
            ref_backprop(init, x, seed)
        }
    }
}

// ================================================================ random typed graph templates

/// The bridge's graph kind: each registry op as the certified node that goes into the graph
/// and, for the reference, the executable node of the same op value.
struct Linked<R>(PhantomData<R>);

/// The two nodes [`Linked`] makes of one op.
struct Pair<R, C, S> {
    rev: RevNode<R, f64, C, S>,
    exec: Node<R, (), C, S>,
}

impl<R: Rt> Target for Linked<R> {
    type Node<C: ShapeList, S: Shape> = Pair<R, C, S>;
    const REAL: bool = true;
    fn op<C: ShapeList, K: AnyOp>(op: OpNode<C, K>) -> Pair<R, C, K::Out> {
        Pair {
            rev: <R as Certify<f64>>::rev_node(op.clone()),
            exec: <R as ExecScalar>::node(op),
        }
    }
    fn real_op<C: ShapeList, K: RealOp>(op: OpNode<C, K>) -> Pair<R, C, K::Out> {
        Pair {
            rev: <R as Certify<f64>>::real_rev_node(op.clone()),
            exec: <R as ExecScalar>::real_node(op),
        }
    }
    fn safe_log_eps() -> f64 {
        <R as ExecScalar>::eps()
    }
}

/// A random certified graph and its reference.
struct Built<R, G, Ss> {
    graph: RevGraph<R, f64, G, Ss>,
    reference: Vec<RefNode<R>>,
}

impl<R: Rt, G: ShapeList> Built<R, G, HNil> {
    fn new() -> Self {
        Built {
            graph: RevGraph::nil(),
            reference: Vec::new(),
        }
    }
}

impl<R, G, Ss> Built<R, G, Ss> {
    /// The node names the generator made (those of the reference nodes).
    fn names(&self) -> Vec<String> {
        self.reference.iter().map(|n| n.name.clone()).collect()
    }
}

/// Appends the node drawn by `ch`, of output shape `S`, reading `G ++ Ss`.
fn push<R: Rt, G: ShapeList, Ss: ShapeList, S: OutShape>(
    b: Built<R, G, Ss>,
    ch: &Choice,
) -> Built<R, G, Snoc<Ss, S>> {
    let Made { node, reads, .. } = make_node::<Linked<R>, Cat<G, Ss>, S>(ch, LIBRARY);
    let mut distinct = Vec::new();
    for p in reads {
        if !distinct.contains(&p) {
            distinct.push(p);
        }
    }
    let mut all = b.reference;
    all.push(RefNode::new(node.exec, distinct));
    Built {
        graph: b.graph.snoc(node.rev),
        reference: all,
    }
}

/// Builds a template: `template!(R, G, [S₀, S₁, …], choices)`.
macro_rules! template {
    ($R:ty, $G:ty, [$($S:ty),* $(,)?], $choices:expr) => {{
        let mut it = $choices.iter();
        let b = Built::<$R, $G, HNil>::new();
        $( let b = push::<$R, _, _, $S>(b, it.next().expect("one choice per node")); )*
        b
    }};
}

/// Γ = [V3, V3, V3], eight nodes of shape V3: every slot is an operand candidate of every node
/// (much aliasing, long chains).
type UniformG = HList![V3, V3, V3];
type UniformSs = HList![V3, V3, V3, V3, V3, V3, V3, V3];
/// The leading inputs of [`UniformG`] for `backprop_prefix`.
type UniformP = HList![V3];
const UNIFORM_NODES: usize = 8;

fn uniform<R: Rt>(ch: &[Choice]) -> Built<R, UniformG, UniformSs> {
    template!(R, UniformG, [V3, V3, V3, V3, V3, V3, V3, V3], ch)
}

/// Γ = [Scalar, V2, M22, V3, M23], nine nodes of six shapes: matrix–vector and matrix–matrix
/// products (square and rectangular), transposes, affine layers, reductions and losses.
type MixedG = HList![Scalar, V2, M22, V3, M23];
type MixedSs = HList![V2, M22, Scalar, V3, M32, M23, Scalar, V2, M22];
/// The leading inputs of [`MixedG`] for `backprop_prefix`.
type MixedP = HList![Scalar, V2, M22];
const MIXED_NODES: usize = 9;

fn mixed<R: Rt>(ch: &[Choice]) -> Built<R, MixedG, MixedSs> {
    template!(
        R,
        MixedG,
        [V2, M22, Scalar, V3, M32, M23, Scalar, V2, M22],
        ch
    )
}

/// Γ = [M16, M16, V16], nodes M16, M16, Scalar: 16×16 products go to the blocked GEMM kernel
/// of f32/f64 (which sums in another order than Lean's left fold). The first node is always a
/// blocked product (see [`blocked_choices`]).
type BlockedG = HList![M16, M16, V16];
type BlockedSs = HList![M16, M16, Scalar];
/// The leading inputs of [`BlockedG`] for `backprop_prefix`.
type BlockedP = HList![M16];
const BLOCKED_NODES: usize = 3;

fn blocked<R: Rt>(ch: &[Choice]) -> Built<R, BlockedG, BlockedSs> {
    template!(R, BlockedG, [M16, M16, Scalar], ch)
}

/// Choices for [`blocked`]: the first node is `matmul` or `linear_batch`.
fn blocked_choices() -> impl Strategy<Value = Vec<Choice>> {
    let at = |k: Kind| op_index::<M16>(LIBRARY, true, k);
    (
        prop::sample::select(vec![at(Kind::Matmul), at(Kind::LinearBatch)]),
        choices(BLOCKED_NODES),
    )
        .prop_map(|(op, mut ch)| {
            ch[0].op = op;
            ch
        })
}

fn total_len<G: ShapeList>() -> usize {
    G::layout().iter().map(|l| l.size).sum()
}

fn tlist_of<A: Element, G: ShapeList>(
    entry: impl Strategy<Value = A>,
) -> impl Strategy<Value = TList<A, G>> {
    proptest::collection::vec(entry, total_len::<G>())
        .prop_map(|flat| TList::try_from_flat(flat).expect("generated with the context's length"))
}

// ================================================================ values

/// Inputs: moderate values, with exact `+0.0` and `−0.0`.
fn input_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(0.0),
        1 => Just(-0.0),
        8 => -2.0_f64..2.0,
    ]
}

/// Seeds: moderate values with many exact `+0.0` and `−0.0` (the dense zero additions of
/// Lean's recursion turn a `−0.0` into `+0.0` or not, depending on the graph).
fn seed_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => Just(0.0),
        2 => Just(-0.0),
        6 => -2.0_f64..2.0,
    ]
}

/// Inputs with non-finite entries.
fn wild_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -2.0_f64..2.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
    ]
}

fn rt<R: Rt>(s: impl Strategy<Value = f64>) -> impl Strategy<Value = R> {
    s.prop_map(R::from_f64)
}

fn bits_of<R: Rt, C>(x: &TList<R, C>) -> Vec<Vec<u64>> {
    x.slot_slices()
        .map(|s| s.iter().map(|v| v.bits()).collect())
        .collect()
}

fn bits_of_slots<R: Rt>(x: &[Vec<R>]) -> Vec<Vec<u64>> {
    x.iter()
        .map(|s| s.iter().map(|v| v.bits()).collect())
        .collect()
}

// ================================================================ 1. eval (and the erased JVP)

/// `to_graph_data().eval == eval_runtime` (Lean's theorem), both equal to the reference; the
/// erased nodes keep the names and the operand slots; the erased `jvp_ctx` is the reference
/// `jvpCtx`.
fn erased_eval<R: Rt, G: ShapeList, Ss: ShapeList>(
    b: &Built<R, G, Ss>,
    x: TList<R, G>,
    dx: TList<R, G>,
) -> Law {
    let gd: GraphData<R, (), G, Ss> = b.graph.to_graph_data();
    let names = b.names();
    prop_assert_eq!(b.graph.node_names().collect::<Vec<_>>(), names.clone());
    prop_assert_eq!(gd.node_names().collect::<Vec<_>>(), names.clone());
    let operands: Vec<Vec<usize>> = gd
        .dataflow(&x, &())
        .nodes
        .into_iter()
        .map(|n| n.operands)
        .collect();
    let reads: Vec<Vec<usize>> = b.reference.iter().map(|n| n.reads.clone()).collect();
    prop_assert_eq!(operands, reads, "operand slots, nodes {:?}", names);

    let runtime = bits_of(&b.graph.eval_runtime(x.clone()));
    prop_assert_eq!(
        &bits_of(&gd.eval(x.clone(), &())),
        &runtime,
        "to_graph_data().eval ≠ eval_runtime, nodes {:?}",
        names
    );
    let reference = bits_of_slots(&ref_eval(&b.reference, slots_of(&x)));
    prop_assert_eq!(
        &runtime,
        &reference,
        "eval_runtime ≠ the reference, nodes {:?}",
        names
    );

    let tangents = bits_of(&gd.jvp_ctx(x.clone(), dx.clone(), &()));
    let reference = bits_of_slots(&ref_jvp_ctx(&b.reference, slots_of(&x), slots_of(&dx)));
    prop_assert_eq!(
        tangents,
        reference,
        "jvp_ctx of the erasure ≠ the reference, nodes {:?}",
        names
    );
    Ok(())
}

proptest! {
    #[test]
    fn erased_eval_is_eval_runtime_uniform_f32(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f32, UniformG>(rt(input_f64())),
        dx in tlist_of::<f32, UniformG>(rt(seed_f64())),
    ) {
        erased_eval(&uniform::<f32>(&ch), x, dx)?;
    }

    #[test]
    fn erased_eval_is_eval_runtime_mixed_f32(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(input_f64())),
        dx in tlist_of::<f32, MixedG>(rt(seed_f64())),
    ) {
        erased_eval(&mixed::<f32>(&ch), x, dx)?;
    }

    #[test]
    fn erased_eval_is_eval_runtime_mixed_f64(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        dx in tlist_of::<f64, MixedG>(seed_f64()),
    ) {
        erased_eval(&mixed::<f64>(&ch), x, dx)?;
    }

    #[test]
    fn erased_eval_is_eval_runtime_with_non_finite_inputs(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(wild_f64())),
        dx in tlist_of::<f32, MixedG>(rt(wild_f64())),
    ) {
        erased_eval(&mixed::<f32>(&ch), x, dx)?;
    }
}

// ================================================================ 2. backprop (linear and literal)

/// `backprop_ctx` of the erased graph = `backprop_runtime` (Lean's theorem), and the literal
/// recursions (`backprop_ctx_literal`, `backprop_runtime_literal`) give the same bits, all
/// equal to the reference `backpropCtx`. The erased graph's `backprop_prefix` for the leading
/// inputs `P` (which skips the nodes that the recorded operand slots say cannot reach `P`)
/// gives the reference context and the `P`-part of the reference cotangent.
fn erased_backprop<R: Rt, G: ShapeList + SplitAt<P>, Ss: ShapeList, P: ShapeList>(
    b: &Built<R, G, Ss>,
    x: TList<R, G>,
    seed: TList<R, Cat<G, Ss>>,
) -> Law {
    let names = b.names();
    let gd: GraphData<R, (), G, Ss> = b.graph.to_graph_data();
    let runtime = bits_of(&b.graph.backprop_runtime(x.clone(), seed.clone()));
    let erased = bits_of(&gd.backprop_ctx(x.clone(), &(), seed.clone()));
    prop_assert_eq!(
        &erased,
        &runtime,
        "backprop_ctx of the erasure ≠ backprop_runtime, nodes {:?}",
        names
    );
    let reference = bits_of_slots(&ref_backprop(&b.reference, slots_of(&x), slots_of(&seed)));
    prop_assert_eq!(
        &runtime,
        &reference,
        "backprop_runtime ≠ the reference, nodes {:?}",
        names
    );
    let runtime_literal = bits_of(&b.graph.backprop_runtime_literal(x.clone(), seed.clone()));
    prop_assert_eq!(
        &runtime_literal,
        &reference,
        "backprop_runtime_literal, nodes {:?}",
        names
    );
    let erased_literal = bits_of(&gd.backprop_ctx_literal(x.clone(), &(), seed.clone()));
    prop_assert_eq!(
        &erased_literal,
        &reference,
        "backprop_ctx_literal, nodes {:?}",
        names
    );

    let (ctx, grad) = gd.backprop_prefix::<P>(x.clone(), &(), Cotangent::from_dense(seed));
    prop_assert_eq!(
        bits_of(&ctx),
        bits_of_slots(&ref_eval(&b.reference, slots_of(&x))),
        "backprop_prefix context, nodes {:?}",
        names
    );
    prop_assert_eq!(
        bits_of(&grad),
        reference[..P::LEN].to_vec(),
        "backprop_prefix cotangent, nodes {:?}",
        names
    );
    Ok(())
}

proptest! {
    #[test]
    fn erased_backprop_is_backprop_runtime_uniform_f32(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f32, UniformG>(rt(input_f64())),
        seed in tlist_of::<f32, Cat<UniformG, UniformSs>>(rt(seed_f64())),
    ) {
        erased_backprop::<_, _, _, UniformP>(&uniform::<f32>(&ch), x, seed)?;
    }

    #[test]
    fn erased_backprop_is_backprop_runtime_uniform_f64(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f64, UniformG>(input_f64()),
        seed in tlist_of::<f64, Cat<UniformG, UniformSs>>(seed_f64()),
    ) {
        erased_backprop::<_, _, _, UniformP>(&uniform::<f64>(&ch), x, seed)?;
    }

    #[test]
    fn erased_backprop_is_backprop_runtime_mixed_f32(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(input_f64())),
        seed in tlist_of::<f32, Cat<MixedG, MixedSs>>(rt(seed_f64())),
    ) {
        erased_backprop::<_, _, _, MixedP>(&mixed::<f32>(&ch), x, seed)?;
    }

    #[test]
    fn erased_backprop_is_backprop_runtime_mixed_f64(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(seed_f64()),
    ) {
        erased_backprop::<_, _, _, MixedP>(&mixed::<f64>(&ch), x, seed)?;
    }

    #[test]
    fn erased_backprop_is_backprop_runtime_with_non_finite_values(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f32, MixedG>(rt(wild_f64())),
        seed in tlist_of::<f32, Cat<MixedG, MixedSs>>(rt(wild_f64())),
    ) {
        erased_backprop::<_, _, _, MixedP>(&mixed::<f32>(&ch), x, seed)?;
    }
}

// ================================================================ 3. adjointness of erased graphs

fn all_finite<C>(x: &TList<f64, C>) -> bool {
    x.slot_slices().flatten().all(|v| v.is_finite())
}

/// `backprop_correct` for the erased graph in f64: its `jvp_ctx` is a real tangent (with Lean's
/// placeholder, which returns the primal outputs, the two sides would not agree).
fn erased_adjoint<G: ShapeList, Ss: ShapeList>(
    b: &Built<f64, G, Ss>,
    x: TList<f64, G>,
    dx: TList<f64, G>,
    seed: TList<f64, Cat<G, Ss>>,
) -> Law {
    let gd: GraphData<f64, (), G, Ss> = b.graph.to_graph_data();
    let vals = gd.eval(x.clone(), &());
    let tans = gd.jvp_ctx(x.clone(), dx.clone(), &());
    let grad = gd.backprop_ctx(x.clone(), &(), seed.clone());
    // Overflow (exp ∘ exp ∘ …) makes both sides ∞ or NaN; such cases say nothing.
    prop_assume!(all_finite(&vals) && all_finite(&tans) && all_finite(&grad));
    let check = check_backprop(&gd, &x, &dx, &(), &seed);
    prop_assume!(check.magnitude.is_finite());
    prop_assert!(
        check.relative_error() <= F64_ADJOINT_RTOL,
        "{} (relative error {:e}) for nodes {:?}",
        check,
        check.relative_error(),
        b.names()
    );
    Ok(())
}

proptest! {
    #[test]
    fn erased_graph_is_adjoint_uniform(
        ch in choices(UNIFORM_NODES),
        x in tlist_of::<f64, UniformG>(input_f64()),
        dx in tlist_of::<f64, UniformG>(-1.0_f64..1.0),
        seed in tlist_of::<f64, Cat<UniformG, UniformSs>>(seed_f64()),
    ) {
        erased_adjoint(&uniform::<f64>(&ch), x, dx, seed)?;
    }

    #[test]
    fn erased_graph_is_adjoint_mixed(
        ch in choices(MIXED_NODES),
        x in tlist_of::<f64, MixedG>(input_f64()),
        dx in tlist_of::<f64, MixedG>(-1.0_f64..1.0),
        seed in tlist_of::<f64, Cat<MixedG, MixedSs>>(seed_f64()),
    ) {
        erased_adjoint(&mixed::<f64>(&ch), x, dx, seed)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(BLOCKED_CASES), ..ProptestConfig::default() })]

    /// 16×16 products (matmul, linear_batch) take the blocked GEMM kernel: erasure still keeps
    /// the runtime semantics bit for bit (against the reference too), and the erased graph is
    /// adjoint.
    #[test]
    fn erased_graph_with_blocked_gemm_f32(
        ch in blocked_choices(),
        x in tlist_of::<f32, BlockedG>(rt(input_f64())),
        dx in tlist_of::<f32, BlockedG>(rt(seed_f64())),
        seed in tlist_of::<f32, Cat<BlockedG, BlockedSs>>(rt(seed_f64())),
    ) {
        let b = blocked::<f32>(&ch);
        erased_eval(&b, x.clone(), dx)?;
        erased_backprop::<_, _, _, BlockedP>(&b, x, seed)?;
    }

    #[test]
    fn erased_graph_with_blocked_gemm_f64(
        ch in blocked_choices(),
        x in tlist_of::<f64, BlockedG>(input_f64()),
        dx in tlist_of::<f64, BlockedG>(-1.0_f64..1.0),
        seed in tlist_of::<f64, Cat<BlockedG, BlockedSs>>(seed_f64()),
    ) {
        let b = blocked::<f64>(&ch);
        erased_eval(&b, x.clone(), dx.clone())?;
        erased_backprop::<_, _, _, BlockedP>(&b, x.clone(), seed.clone())?;
        erased_adjoint(&b, x, dx, seed)?;
    }
}

// ================================================================ 4. nodes and named types

/// `to_node_data` keeps the runtime maps: forward, JVP and VJP of the erased node are
/// bit-identical to the certified node's `forward_runtime`, `jvp_runtime` and `vjp_runtime`,
/// and to the executable node of the same op (`into_node`, which does not go through the
/// certified node); the erased node keeps the name and records the operand slots.
fn erased_node<R: Rt>(x: TList<R, MixedG>, dx: TList<R, MixedG>, s: [R; 6]) -> Law {
    fn check<R: Rt, K>(
        op: impl Fn() -> OpNode<MixedG, K>,
        reads: &[usize],
        x: &TList<R, MixedG>,
        dx: &TList<R, MixedG>,
        s: &[R; 6],
    ) -> Law
    where
        K: Certifiable<R, f64>,
    {
        let seed = Tensor::<R, K::Out>::from_flat_fn(|i| s[i % s.len()]);
        let reference = op().into_node::<R, ()>();
        let reference = reference.data();
        let node: RevNode<R, f64, MixedG, K::Out> = op().into_rev_node();
        let nd: NodeData<R, (), MixedG, K::Out> = node.to_node_data();
        prop_assert_eq!(nd.name(), node.name());
        prop_assert_eq!(nd.name(), reference.name());
        prop_assert_eq!(nd.reads(), Some(reads));
        let bits = |t: &[R]| t.iter().map(|v| v.bits()).collect::<Vec<_>>();
        let (fwd, fwd_rt) = (nd.forward(x, &()), node.fwd().forward_runtime(x));
        prop_assert_eq!(bits(fwd.as_slice()), bits(fwd_rt.as_slice()));
        prop_assert_eq!(
            bits(fwd.as_slice()),
            bits(reference.forward(x, &()).as_slice())
        );
        let (jvp, jvp_rt) = (nd.jvp(x, dx, &()), node.jvp_runtime(x, dx));
        prop_assert_eq!(bits(jvp.as_slice()), bits(jvp_rt.as_slice()));
        prop_assert_eq!(
            bits(jvp.as_slice()),
            bits(reference.jvp(x, dx, &()).as_slice())
        );
        let vjp = bits_of(&nd.vjp(x, &(), &seed).to_dense());
        prop_assert_eq!(&vjp, &bits_of(&node.vjp_runtime(x, &seed).to_dense()));
        prop_assert_eq!(&vjp, &bits_of(&reference.vjp(x, &(), &seed).to_dense()));
        Ok(())
    }
    type G = MixedG;
    let (x, dx) = (&x, &dx);
    let s = &s;
    // Slots: 0 Scalar, 1 V2, 2 M22, 3 V3, 4 M23.
    check(
        || ops::mul(Idx::<G, V2>::at::<1>(), Idx::at::<1>()),
        &[1],
        x,
        dx,
        s,
    )?;
    check(
        || ops::sub(Idx::<G, V2>::at::<1>(), Idx::at::<1>()),
        &[1],
        x,
        dx,
        s,
    )?;
    check(
        || ops::add(Idx::<G, Scalar>::at::<0>(), Idx::at::<0>()),
        &[0],
        x,
        dx,
        s,
    )?;
    check(
        || ops::matmul(Idx::<G, M22>::at::<2>(), Idx::at::<2>()),
        &[2],
        x,
        dx,
        s,
    )?;
    check(
        || ops::matvec(Idx::<G, M23>::at::<4>(), Idx::at::<3>()),
        &[4, 3],
        x,
        dx,
        s,
    )?;
    check(
        || ops::linear(Idx::<G, M23>::at::<4>(), Idx::at::<3>(), Idx::at::<1>()),
        &[4, 3, 1],
        x,
        dx,
        s,
    )?;
    check(
        || ops::linear_batch(Idx::<G, M22>::at::<2>(), Idx::at::<2>(), Idx::at::<1>()),
        &[2, 1],
        x,
        dx,
        s,
    )?;
    check(|| ops::transpose(Idx::<G, M23>::at::<4>()), &[4], x, dx, s)?;
    check(
        || ops::cross_entropy(Idx::<G, V2>::at::<1>(), Idx::at::<1>()),
        &[1],
        x,
        dx,
        s,
    )?;
    check(
        || ops::mse(Idx::<G, M22>::at::<2>(), Idx::at::<2>()),
        &[2],
        x,
        dx,
        s,
    )?;
    check(|| ops::softmax(Idx::<G, M22>::at::<2>()), &[2], x, dx, s)?;
    check(
        || ops::log_softmax(Idx::<G, M23>::at::<4>()),
        &[4],
        x,
        dx,
        s,
    )?;
    check(|| ops::mean(Idx::<G, M23>::at::<4>()), &[4], x, dx, s)?;
    check(
        || ops::scale(Idx::<G, V3>::at::<3>(), R::from_f64(-1.25)).expect("a finite factor"),
        &[3],
        x,
        dx,
        s,
    )?;
    check(
        || {
            ops::safe_log(Idx::<G, V3>::at::<3>(), R::from_f64(SAFE_LOG_EPS))
                .expect("ε > 0 is finite")
        },
        &[3],
        x,
        dx,
        s,
    )?;
    check(
        || ops::softplus(Idx::<G, Scalar>::at::<0>()),
        &[0],
        x,
        dx,
        s,
    )?;
    Ok(())
}

proptest! {
    #[test]
    fn erased_nodes_keep_the_runtime_maps_f32(
        x in tlist_of::<f32, MixedG>(rt(input_f64())),
        dx in tlist_of::<f32, MixedG>(rt(seed_f64())),
        s in prop::array::uniform6(rt::<f32>(seed_f64())),
    ) {
        erased_node(x, dx, s)?;
    }

    #[test]
    fn erased_nodes_keep_the_runtime_maps_f64(
        x in tlist_of::<f64, MixedG>(input_f64()),
        dx in tlist_of::<f64, MixedG>(seed_f64()),
        s in prop::array::uniform6(seed_f64()),
    ) {
        erased_node(x, dx, s)?;
    }
}

/// The erased types, named exactly: a `RevGraph<R, P, Γ, Ss>` becomes a
/// `GraphData<R, (), Γ, Ss>` and a `RevNode<R, P, Γ, τ>` a `NodeData<R, (), Γ, τ>` (the spec
/// scalar `P` disappears, Δ is `()`, Γ, Ss and τ are kept). Changing any of them in the
/// annotations below does not compile (`ui-tests/link_wrong_*.rs`).
#[test]
fn erased_types_are_named_exactly() {
    type G = HList![Vector<2>, Matrix<2, 3>, Vector<3>];
    type Ss = HList![Vector<2>, Vector<2>, Scalar];
    let w = Idx::<G, Matrix<2, 3>>::at::<1>();
    let v = Idx::<G, Vector<3>>::at::<2>();
    let n0: RevNode<f32, Rational, G, Vector<2>> = ops::matvec(w, v).into_rev_node();
    let nd0: NodeData<f32, (), G, Vector<2>> = n0.to_node_data();
    type C1 = HList![Vector<2>, Matrix<2, 3>, Vector<3>, Vector<2>];
    let n1: RevNode<f32, Rational, C1, Vector<2>> =
        ops::mul(Idx::at::<0>(), Idx::at::<3>()).into_rev_node();
    let nd1: NodeData<f32, (), C1, Vector<2>> = n1.to_node_data();
    let g: RevGraph<f32, Rational, G, Ss> = RevGraph::<f32, Rational, G, HNil>::nil()
        .snoc(n0)
        .snoc(n1)
        .snoc(ops::sum(Idx::at::<4>()));
    let gd: GraphData<f32, (), G, Ss> = g.to_graph_data();
    assert_eq!(gd.len(), 3);
    assert_eq!(
        gd.node_names().collect::<Vec<_>>(),
        ["matvec", "mul", "sum"]
    );
    let x: TList<f32, G> = tlist![
        Tensor::new([1.0, -2.0]),
        Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        Tensor::new([0.5, 0.25, -1.0])
    ];
    let vals = gd.eval(x.clone(), &());
    assert_eq!(vals, g.eval_runtime(x.clone()));
    // matvec: [0.5 + 0.5 − 3, 2 + 1.25 − 6] = [−2, −2.75]; mul: [−2, 5.5]; sum: 3.5.
    let out: Vec<Vec<f32>> = vals.slot_slices().map(<[f32]>::to_vec).collect();
    assert_eq!(out[3], [-2.0, -2.75]);
    assert_eq!(out[4], [-2.0, 5.5]);
    assert_eq!(out[5], [3.5]);
    // The erased nodes, run on their contexts, give the same slots.
    let c1 =
        TList::<f32, C1>::try_from_flat(vals.slot_slices().take(4).flatten().copied().collect())
            .expect("the first four slots");
    assert_eq!(nd0.forward(&x, &()).as_slice(), &out[3][..]);
    assert_eq!(nd1.forward(&c1, &()).as_slice(), &out[4][..]);
    // The f64 runtime erases to f64, with the same structure.
    let g64 = RevGraph::<f64, f64, G, HNil>::nil().snoc(ops::matvec(w, v));
    let _: GraphData<f64, (), G, HList![Vector<2>]> = g64.to_graph_data();
}

/// Erasure keeps the runtime JVP: on `y = x ⊙ x` the erased `jvp_ctx` is `2 x dx` (Lean's
/// placeholder would return the primal `x²`), and the seed contract of `backprop_ctx` holds:
/// input seeds flow into the result, intermediate seeds are pulled back.
#[test]
fn erased_jvp_is_a_real_tangent() {
    type G = HList![Vector<2>];
    let g = RevGraph::<f64, f64, G, HNil>::nil()
        .snoc(ops::mul(Idx::at::<0>(), Idx::at::<0>()))
        .snoc(ops::sum(Idx::at::<1>()));
    let gd = g.to_graph_data();
    let x: TList<f64, G> = tlist![Tensor::new([3.0, -2.0])];
    let dx: TList<f64, G> = tlist![Tensor::new([1.0, 0.5])];
    let tans = gd.jvp_ctx(x.clone(), dx, &());
    let t: Vec<Vec<f64>> = tans.slot_slices().map(<[f64]>::to_vec).collect();
    assert_eq!(t, vec![vec![1.0, 0.5], vec![6.0, -2.0], vec![4.0]]);
    type C = HList![Vector<2>, Vector<2>, Scalar];
    let seed: TList<f64, C> = tlist![
        Tensor::new([10.0, 20.0]),
        Tensor::new([1.0, 0.0]),
        Tensor::new(1.0)
    ];
    // x̄ = seed₀ + 2x ⊙ (seed₁ + seed₂) = [10 + 6·2, 20 − 4·1]
    let grad = gd.backprop_ctx(x.clone(), &(), seed.clone());
    assert_eq!(grad.slot_slices().next().unwrap(), &[22.0, 16.0]);
    assert_eq!(bits_of(&grad), bits_of(&g.backprop_runtime(x, seed)));
}

/// The empty graph erases to the empty graph: `eval` is the identity and `backprop_ctx`
/// returns the seed unchanged, `−0.0` included (no node adds anything).
#[test]
fn empty_graph_erases_to_the_empty_graph() {
    type G = HList![Scalar, Vector<2>];
    let g = RevGraph::<f32, f64, G, HNil>::nil();
    let gd: GraphData<f32, (), G, HNil> = g.to_graph_data();
    assert!(gd.is_empty());
    let x: TList<f32, G> = tlist![Tensor::new(1.5), Tensor::new([2.0, -3.0])];
    assert_eq!(bits_of(&gd.eval(x.clone(), &())), bits_of(&x));
    let seed: TList<f32, G> = tlist![Tensor::new(-0.0), Tensor::new([4.0, -0.0])];
    let seed = seed.cast::<Cat<G, HNil>>();
    let grad = gd.backprop_ctx(x.clone(), &(), seed.clone());
    assert_eq!(bits_of(&grad), bits_of(&seed));
    assert_eq!(bits_of(&grad), bits_of(&g.backprop_runtime(x, seed)));
}
