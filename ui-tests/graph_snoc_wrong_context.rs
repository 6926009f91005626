// Appending a node built for another context than the graph's Γ ++ Ss does not compile.
use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;

fn main() {
    type G = HList![Scalar, Scalar];
    type Other = HList![Scalar, Scalar, Scalar];
    let node = ops::add(Idx::<Other, Scalar>::at::<0>(), Idx::at::<2>());
    let _g = GraphData::<f64, (), G, HNil>::nil().snoc(node);
}
