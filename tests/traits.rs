//! Compile-time checks: nodes, graphs and contexts are `Clone + Send + Sync`, so they can be
//! shared between threads (the closures are `Arc<dyn Fn + Send + Sync>`, and ops are
//! `Send + Sync` by the `Op` trait).

use shapetape::approx::{EList, FwdGraph, FwdNode, RevGraph, RevNode};
use shapetape::autograd::{Cotangent, Graph, GraphData, Node, NodeData, OpNode};
use shapetape::ops;
use shapetape::prelude::*;

fn shareable<T: Clone + Send + Sync + 'static>() {}

type G = HList![Scalar, Vector<3>];
type Ss = HList![Vector<3>];

#[test]
fn nodes_graphs_and_contexts_are_clone_send_sync() {
    shareable::<Tensor<f32, Matrix<2, 3>>>();
    shareable::<TList<f64, G>>();
    shareable::<TList<Rational, G>>();
    shareable::<Cotangent<f32, G>>();
    shareable::<NodeData<f32, (), G, Vector<3>>>();
    shareable::<Node<f64, u8, G, Scalar>>();
    shareable::<GraphData<f32, (), G, Ss>>();
    shareable::<Graph<f64, (), G, Ss>>();
    shareable::<EList<G>>();
    shareable::<FwdNode<f32, f64, G, Scalar>>();
    shareable::<RevNode<f32, Rational, G, Scalar>>();
    shareable::<FwdGraph<f32, f64, G, Ss>>();
    shareable::<RevGraph<f32, f64, G, Ss>>();
    shareable::<OpNode<G, ops::Relu<Vector<2>>>>();
}

#[test]
fn a_graph_can_be_evaluated_on_another_thread() {
    let g = GraphData::<f64, (), G, HNil>::nil().snoc(ops::scale(Idx::at::<1>(), 2.0).unwrap());
    let x: TList<f64, G> = tlist![Tensor::new(1.0), Tensor::new([1.0, 2.0, 3.0])];
    let handle = std::thread::spawn(move || g.eval(x, &()));
    let y = handle.join().expect("the thread finished");
    assert_eq!(
        y.get(Idx::<Cat<G, Ss>, Vector<3>>::at::<2>()).as_slice(),
        &[2.0, 4.0, 6.0]
    );
}
