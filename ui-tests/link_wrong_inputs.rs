// Erasing a RevGraph keeps its input context Γ: annotating another Γ does not compile.
use shapetape::approx::RevGraph;
use shapetape::ops;
use shapetape::autograd::GraphData;
use shapetape::prelude::*;

type G = HList![Vector<2>, Vector<2>];
type H = HList![Vector<2>, Vector<3>];

fn main() {
    let g =
        RevGraph::<f32, f64, G, HNil>::nil().snoc(ops::mul(Idx::at::<0>(), Idx::at::<1>()));
    let _erased: GraphData<f32, (), H, HList![Vector<2>]> = g.to_graph_data();
}
