// `backprop_prefix::<P>` asks for the cotangent of the leading inputs `P`; a list that is not
// how the inputs begin does not compile.
use shapetape::autograd::{Cotangent, GraphData};
use shapetape::ops;
use shapetape::prelude::*;

fn main() {
    type G = HList![Scalar, Vector<2>];
    let (g, y) = GraphData::<f64, (), G, _>::build_with(|b| {
        let hlist_pat![s, v] = b.inputs();
        let (b, t) = b.push(|c| ops::sum(c.idx(v)));
        let (b, y) = b.push(|c| ops::mul(c.idx(t), c.idx(s)));
        let y = b.idx(y);
        (b, y)
    });
    let x: TList<f64, G> = TList::zero();
    let _ = g.backprop_prefix::<HList![Vector<2>]>(x, &(), Cotangent::single(y, Tensor::new(1.0)));
}
