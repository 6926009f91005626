// The inputs of a graph over Γ must be a TList over Γ.
use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;

fn main() {
    type G = HList![Scalar, Scalar];
    let g = GraphData::<f64, (), G, HNil>::nil().snoc(ops::add(Idx::at::<0>(), Idx::at::<1>()));
    let x: TList<f64, HList![Scalar, Vector<2>]> = TList::zero();
    let _ = g.eval(x, &());
}
