//! Graph export (`shapetape::export`): the dataflow of a graph and its DOT text.
//!
//! The edges of an op are the operand slots it records (`Op::reads`), whatever its VJP
//! returns at the point; a node built from closures (`NodeData::new`) records none and is drawn
//! as its VJP describes it. Both are tested here, and [`Gate`], an op whose VJP leaves out a
//! slot it reads, shows where the two differ.

use shapetape::approx::RevGraph;
use shapetape::autograd::{
    Cotangent, Eval, Graph, GraphData, NodeData, Op, OpNode, Operands, Pullback, Slot,
};
use shapetape::export::{Dataflow, DataflowNode};
use shapetape::ops;
use shapetape::prelude::*;
use shapetape::smallvec::{SmallVec, smallvec};

type G = HList![Scalar, Scalar, Matrix<2, 3>, Vector<3>, Vector<4>];
type Ss = HList![Scalar, Scalar, Scalar, Vector<2>, Scalar];

/// Slots: 0 a, 1 b, 2 M, 3 v, 4 u (unused); nodes
/// 0: s = a + b, 1: p = s · a, 2: q = a · a (aliased operands), 3: w = M v, 4: r = b − s.
fn small() -> GraphData<f64, (), G, Ss> {
    GraphData::<f64, (), G, HNil>::nil()
        .snoc(ops::add(Idx::at::<0>(), Idx::at::<1>()))
        .snoc(ops::mul(Idx::at::<5>(), Idx::at::<0>()))
        .snoc(ops::mul(Idx::at::<0>(), Idx::at::<0>()))
        .snoc(ops::matvec(Idx::at::<2>(), Idx::at::<3>()))
        .snoc(ops::sub(Idx::at::<1>(), Idx::at::<5>()))
}

fn point() -> TList<f64, G> {
    tlist![
        Tensor::new(3.0),
        Tensor::new(-2.0),
        Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        Tensor::new([1.0, -1.0, 0.5]),
        Tensor::new([0.0, 1.0, 2.0, 3.0]),
    ]
}

fn node(name: &str, out_dims: &[usize], operands: &[usize]) -> DataflowNode {
    DataflowNode {
        name: name.to_string(),
        out_dims: out_dims.to_vec(),
        operands: operands.to_vec(),
    }
}

#[test]
fn dataflow_of_a_small_graph() {
    let flow = small().dataflow(&point(), &());
    assert_eq!(
        flow,
        Dataflow {
            inputs: vec![vec![], vec![], vec![2, 3], vec![3], vec![4]],
            nodes: vec![
                node("add", &[], &[0, 1]),
                node("mul", &[], &[5, 0]),
                node("mul", &[], &[0]),
                node("matvec", &[2], &[2, 3]),
                node("sub", &[], &[1, 5]),
            ],
        }
    );
    assert_eq!(flow.slot_count(), 10);
    assert_eq!(flow.slot_dims(2), Some(&[2, 3][..]));
    assert_eq!(flow.slot_dims(8), Some(&[2][..]));
    assert_eq!(flow.slot_dims(10), None);
}

#[test]
fn aliased_operands_give_one_edge() {
    let flow = small().dataflow(&point(), &());
    // q = a · a reads slot 0 twice: one edge, as the op records slot 0 once (and its VJP
    // lists it once, 2a·δ).
    assert_eq!(flow.nodes[2].operands, vec![0]);
    let edges_into_q: Vec<_> = flow.edges().into_iter().filter(|&(_, k)| k == 2).collect();
    assert_eq!(edges_into_q, vec![(0, 2)]);
}

#[test]
fn fan_out_gives_one_edge_per_reader() {
    let flow = small().dataflow(&point(), &());
    assert_eq!(flow.readers(0), vec![0, 1, 2]); // a: read by s, p and q
    assert_eq!(flow.readers(5), vec![1, 4]); // s: read by p and r
    assert_eq!(flow.readers(4), Vec::<usize>::new()); // u: read by nobody
    assert_eq!(flow.readers(6), Vec::<usize>::new()); // p: a graph output
    assert_eq!(
        flow.edges(),
        vec![
            (0, 0),
            (1, 0),
            (5, 1),
            (0, 1),
            (0, 2),
            (2, 3),
            (3, 3),
            (1, 4),
            (5, 4)
        ]
    );
}

#[test]
fn dot_text_of_a_small_graph() {
    let dot = small().to_dot(&point(), &());
    let expected = r#"digraph shapetape {
  rankdir=TB;
  node [fontname="Helvetica", fontsize=11];
  edge [fontname="Helvetica", fontsize=9];
  x0 [label="x0: []", shape=box];
  x1 [label="x1: []", shape=box];
  x2 [label="x2: [2, 3]", shape=box];
  x3 [label="x3: [3]", shape=box];
  x4 [label="x4: [4]", shape=box];
  n0 [label="0: add", shape=ellipse, tooltip="output []"];
  n1 [label="1: mul", shape=ellipse, tooltip="output []"];
  n2 [label="2: mul", shape=ellipse, tooltip="output []"];
  n3 [label="3: matvec", shape=ellipse, tooltip="output [2]"];
  n4 [label="4: sub", shape=ellipse, tooltip="output []"];
  x0 -> n0 [label="[]"];
  x1 -> n0 [label="[]"];
  n0 -> n1 [label="[]"];
  x0 -> n1 [label="[]"];
  x0 -> n2 [label="[]"];
  x2 -> n3 [label="[2, 3]"];
  x3 -> n3 [label="[3]"];
  x1 -> n4 [label="[]"];
  n0 -> n4 [label="[]"];
}
"#;
    assert_eq!(dot, expected);
}

#[test]
fn library_ops_give_the_same_edges_at_every_point() {
    let g = small();
    // The edges are the ops' recorded operands: at zero (where every VJP contribution of mul
    // and matvec is zero) and at a NaN point they are the same.
    assert_eq!(g.dataflow(&TList::zero(), &()), g.dataflow(&point(), &()));
    let wild = point().map(|_| f64::NAN);
    assert_eq!(g.dataflow(&wild, &()), g.dataflow(&point(), &()));
}

#[test]
fn lawful_graphs_and_the_builder_export_through_deref() {
    type H = HList![Vector<2>];
    let g = Graph::<f64, (), H, HNil>::nil()
        .snoc(ops::tanh(Idx::at::<0>()))
        .snoc(ops::sum(Idx::at::<1>()));
    let dot = g.to_dot(&TList::zero(), &());
    assert!(dot.contains(r#"x0 -> n0 [label="[2]"];"#));
    assert!(dot.contains(r#"n0 -> n1 [label="[2]"];"#));
    assert!(dot.contains(r#"n1 [label="1: sum""#));

    let (built, _) = GraphData::<f64, (), H, _>::build_with(|b| {
        let hlist_pat![x] = b.inputs();
        let (b, t) = b.push(|c| ops::tanh(c.idx(x)));
        let (b, _) = b.push(|c| ops::sum(c.idx(t)));
        (b, ())
    });
    assert_eq!(built.to_dot(&TList::zero(), &()), dot);
}

#[test]
fn empty_graph_has_only_inputs() {
    let g = GraphData::<f32, (), HList![Vector<2>], HNil>::nil();
    let flow = g.dataflow(&TList::zero(), &());
    assert_eq!(flow.nodes, vec![]);
    assert_eq!(flow.edges(), vec![]);
    let dot = flow.to_dot();
    assert!(dot.contains(r#"x0 [label="x0: [2]", shape=box];"#));
    assert!(!dot.contains("->"));
}

#[test]
fn names_are_escaped() {
    type H = HList![Scalar];
    let x = Idx::<H, Scalar>::at::<0>();
    let node = NodeData::<f64, (), H, Scalar>::new(
        move |c, _| c.get(x).to_owned(),
        move |_, dc, _| dc.get(x).to_owned(),
        move |_, _, d| Cotangent::single(x, d.clone()),
    )
    .named("say \"hi\"\\\nbye");
    let g = GraphData::<f64, (), H, HNil>::nil().snoc(node);
    let dot = g.to_dot(&TList::zero(), &());
    assert!(
        dot.contains(r#"n0 [label="0: say \"hi\"\\\nbye", shape=ellipse"#),
        "{dot}"
    );
}

/// Hand-written nodes are drawn as their VJPs describe them.
#[test]
fn hand_written_nodes_follow_their_vjp() {
    type H = HList![Scalar, Scalar, Scalar];
    let (a, b) = (Idx::<H, Scalar>::at::<0>(), Idx::<H, Scalar>::at::<1>());
    // y = a · b with a dense VJP: lists every slot of the context, including the unread c.
    let dense = NodeData::<f64, (), H, Scalar>::new(
        move |c, _| c.get(a).mul(&c.get(b)),
        move |c, dc, _| dc.get(a).mul(&c.get(b)).add(&c.get(a).mul(&dc.get(b))),
        move |c, _, d| {
            Cotangent::from_dense(tlist![d.mul(&c.get(b)), d.mul(&c.get(a)), Tensor::zeros()])
        },
    )
    .named("dense");
    // y = a · b with a VJP that skips exactly-zero contributions.
    let sparse = NodeData::<f64, (), H, Scalar>::new(
        move |c, _| c.get(a).mul(&c.get(b)),
        move |c, dc, _| dc.get(a).mul(&c.get(b)).add(&c.get(a).mul(&dc.get(b))),
        move |c, _, d| {
            let mut out = Cotangent::zero();
            for (slot, value) in [(a, d.mul(&c.get(b))), (b, d.mul(&c.get(a)))] {
                if value.as_slice()[0] != 0.0 {
                    out.add_at(slot, value);
                }
            }
            out
        },
    )
    .named("sparse");

    let g = GraphData::<f64, (), H, HNil>::nil().snoc(dense);
    assert_eq!(
        g.dataflow(&TList::zero(), &()).nodes[0].operands,
        vec![0, 1, 2]
    );

    let g = GraphData::<f64, (), H, HNil>::nil().snoc(sparse);
    let at = |va: f64, vb: f64| {
        g.dataflow(
            &tlist![Tensor::new(va), Tensor::new(vb), Tensor::new(0.0)],
            &(),
        )
        .nodes[0]
            .operands
            .clone()
    };
    assert_eq!(at(2.0, 3.0), vec![0, 1]);
    assert_eq!(at(2.0, 0.0), vec![1]); // ∂y/∂a = b = 0 here: the edge from a is lost
    assert_eq!(at(0.0, 0.0), Vec::<usize>::new());
}

#[test]
fn rev_graph_exports_its_runtime_dataflow() {
    type H = HList![Matrix<2, 3>, Vector<3>, Vector<2>];
    let g = RevGraph::<f32, f64, H, HNil>::nil()
        .snoc(ops::linear(Idx::at::<0>(), Idx::at::<1>(), Idx::at::<2>()))
        .snoc(ops::tanh(Idx::at::<3>()))
        .snoc(ops::mul(Idx::at::<4>(), Idx::at::<4>()));
    let x = TList::<f32, H>::zero();
    let flow = g.dataflow(&x);
    assert_eq!(flow, g.to_graph_data().dataflow(&x, &()));
    assert_eq!(flow.edges(), vec![(0, 0), (1, 0), (2, 0), (3, 1), (4, 2)]);
    assert_eq!(
        flow.nodes
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>(),
        vec!["linear", "tanh", "mul"]
    );
    let dot = g.to_dot(&x);
    assert_eq!(dot, flow.to_dot());
    assert!(dot.contains(r#"x0 -> n0 [label="[2, 3]"];"#));
    assert!(dot.contains(r#"n1 -> n2 [label="[2]"];"#));
}

/// `y = a ⊙ H(b)`, with `H` the Heaviside step (`H(v) = 1` for `v > 0`, else 0): an op that
/// reads `a` and `b` but whose derivative in `b` is zero wherever it exists, so that its VJP
/// lists `a` only. Its recorded operands and its probed VJP give different edges.
#[derive(Clone, Copy, Debug)]
struct Gate<S> {
    a: Slot<S>,
    b: Slot<S>,
}

impl<S: Shape> Op for Gate<S> {
    type Out = S;
    fn name(&self) -> &str {
        "gate"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        if self.a.pos() == self.b.pos() {
            smallvec![self.a.pos()]
        } else {
            smallvec![self.a.pos(), self.b.pos()]
        }
    }
}

impl<A: Element, D, S: Shape> Eval<A, D> for Gate<S> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        x.get(self.a)
            .zip_with(&x.get(self.b), |u: &A, v: &A| u.clone() * v.heaviside())
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        dx.get(self.a)
            .zip_with(&x.get(self.b), |du: &A, v: &A| du.clone() * v.heaviside())
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, S>) -> Pullback<A> {
        Pullback::single(
            self.a,
            seed.zip_with(&x.get(self.b), |d: &A, v: &A| d.clone() * v.heaviside()),
        )
    }
}

fn gate<G: ShapeList, S: Shape>(a: Idx<G, S>, b: Idx<G, S>) -> OpNode<G, Gate<S>> {
    OpNode::new(Gate {
        a: a.slot(),
        b: b.slot(),
    })
}

type H2 = HList![Vector<2>, Vector<2>];

fn gate_points() -> Vec<TList<f64, H2>> {
    vec![
        TList::zero(),
        tlist![Tensor::new([1.0, -2.0]), Tensor::new([3.0, 0.5])],
        tlist![Tensor::new([1.0, 2.0]), Tensor::new([-3.0, -0.5])],
        tlist![
            Tensor::new([f64::NAN, 2.0]),
            Tensor::new([f64::INFINITY, f64::NAN])
        ],
    ]
}

/// An op is drawn from the slots it records, at every point: the edge from `b` is there
/// although the gate's VJP never lists `b`, in every graph kind that stores the op (executable,
/// lawful, certified and its erasure) and for its typed node.
#[test]
fn ops_are_drawn_from_their_recorded_operands() {
    let gate_sum = |g: &GraphData<f64, (), H2, HList![Vector<2>, Scalar]>| {
        for x in gate_points() {
            let flow = g.dataflow(&x, &());
            assert_eq!(flow.edges(), vec![(0, 0), (1, 0), (2, 1)]);
            assert_eq!(flow.nodes[0].name, "gate");
        }
    };
    // Its VJP lists `a` only (so a probe would lose the edge from `b`).
    let node = gate(Idx::<H2, Vector<2>>::at::<0>(), Idx::at::<1>()).into_node::<f64, ()>();
    let x = &gate_points()[1];
    assert_eq!(
        node.data().vjp(x, &(), &Tensor::new([1.0, 1.0])).touched(),
        1
    );
    assert_eq!(node.data().reads(), Some(&[0, 1][..]));

    gate_sum(
        &GraphData::<f64, (), H2, HNil>::nil()
            .snoc(gate(Idx::at::<0>(), Idx::at::<1>()))
            .snoc(ops::sum(Idx::at::<2>())),
    );
    gate_sum(
        &GraphData::<f64, (), H2, HNil>::nil()
            .snoc(node)
            .snoc(ops::sum(Idx::at::<2>())),
    );
    let lawful = Graph::<f64, (), H2, HNil>::nil()
        .snoc(gate(Idx::at::<0>(), Idx::at::<1>()))
        .snoc(ops::sum(Idx::at::<2>()));
    gate_sum(&lawful);

    let certified = RevGraph::<f32, f64, H2, HNil>::nil()
        .snoc(gate(Idx::at::<0>(), Idx::at::<1>()))
        .snoc(ops::sum(Idx::at::<2>()));
    for x in gate_points() {
        let x = x.map(|v| *v as f32);
        assert_eq!(certified.dataflow(&x).edges(), vec![(0, 0), (1, 0), (2, 1)]);
    }
    let rev = gate(Idx::<H2, Vector<2>>::at::<1>(), Idx::at::<0>()).into_rev_node::<f32, f64>();
    assert_eq!(rev.to_node_data().reads(), Some(&[1, 0][..]));

    // Aliased operands are one edge.
    let g = GraphData::<f64, (), H2, HNil>::nil().snoc(gate(Idx::at::<1>(), Idx::at::<1>()));
    assert_eq!(g.dataflow(&TList::zero(), &()).edges(), vec![(1, 0)]);
}

/// The same maps as closures ([`NodeData::new`], which records no operands) are drawn as the
/// VJP describes them: the gate's VJP never lists `b`, so the edge from `b` is missing at every
/// point (see also [`hand_written_nodes_follow_their_vjp`]).
#[test]
fn closure_nodes_are_drawn_from_their_vjp() {
    let op = gate(Idx::<H2, Vector<2>>::at::<0>(), Idx::at::<1>()).into_node::<f64, ()>();
    let (f, j, v) = (op.clone(), op.clone(), op);
    let closures = NodeData::<f64, (), H2, Vector<2>>::new(
        move |c, d| f.data().forward(c, d),
        move |c, dc, d| j.data().jvp(c, dc, d),
        move |c, d, s| v.data().vjp(c, d, s),
    )
    .named("gate");
    assert_eq!(closures.reads(), None);
    let g = GraphData::<f64, (), H2, HNil>::nil()
        .snoc(closures)
        .snoc(ops::sum(Idx::at::<2>()));
    for x in gate_points() {
        let flow = g.dataflow(&x, &());
        assert_eq!(flow.edges(), vec![(0, 0), (2, 1)]);
        assert_eq!(flow.nodes[0].name, "gate");
    }
}
