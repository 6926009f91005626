// A handle of one builder used in another: the outer graph's input given to a nested builder.
use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Scalar, Vector<2>];

fn main() {
    let _ = GraphData::<f64, (), G, _>::build(|outer| {
        let x = outer.input::<0>();
        let _inner = GraphData::<f64, (), G, _>::build(|g| {
            let (g, _) = g.push(|c| ops::neg(c.idx(x)));
            g
        });
        outer
    });
}
