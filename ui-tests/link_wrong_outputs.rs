// Erasing a RevGraph keeps its node output shapes Ss: annotating other outputs does not compile.
use shapetape::approx::RevGraph;
use shapetape::ops;
use shapetape::autograd::GraphData;
use shapetape::prelude::*;

type G = HList![Vector<2>, Vector<2>];

fn main() {
    let g = RevGraph::<f32, f64, G, HNil>::nil()
        .snoc(ops::mul(Idx::at::<0>(), Idx::at::<1>()))
        .snoc(ops::sum(Idx::at::<2>()));
    let _erased: GraphData<f32, (), G, HList![Vector<2>, Vector<2>]> = g.to_graph_data();
}
