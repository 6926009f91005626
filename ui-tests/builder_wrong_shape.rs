// A builder handle used at the wrong shape: adding a `Scalar` handle to a `Vector<2>` handle.
use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Scalar, Vector<2>];

fn main() {
    let _ = GraphData::<f64, (), G, _>::build(|g| {
        let hlist_pat![x, v] = g.inputs();
        let (g, _) = g.push(|c| ops::add(c.idx(x), c.idx(v)));
        g
    });
}
