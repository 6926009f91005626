// A backprop seed must cover Γ ++ Ss; a seed over Γ alone does not compile.
use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;

fn main() {
    type G = HList![Scalar, Scalar];
    let g = GraphData::<f64, (), G, HNil>::nil().snoc(ops::add(Idx::at::<0>(), Idx::at::<1>()));
    let x: TList<f64, G> = TList::zero();
    let seed: TList<f64, G> = TList::zero();
    let _ = g.backprop_ctx(x, &(), seed);
}
