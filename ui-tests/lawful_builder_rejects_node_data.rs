// A lawful graph's builder takes only ops and `Node`s: a `NodeData` (no adjointness law) is
// refused, and the message points to `Node::new_unchecked` and the law to check.
use shapetape::autograd::{Cotangent, Graph, NodeData};
use shapetape::prelude::*;

type G = HList![Vector<2>];

fn main() {
    let _ = Graph::<f64, (), G, _>::build(|g| {
        let x = g.input::<0>();
        let (g, _) = g.push(|c| {
            let x = c.idx(x);
            NodeData::<f64, (), _, _>::new(
                move |ctx, _| ctx.get(x).neg(),
                move |_, dctx, _| dctx.get(x).neg(),
                move |_, _, seed| Cotangent::single(x, seed.neg()),
            )
        });
        g
    });
}
