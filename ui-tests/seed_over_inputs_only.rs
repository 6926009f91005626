// `backprop_ctx` takes a seed over the inputs followed by every node's output (Γ ++ Ss), not
// over the inputs alone.
use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Vector<2>];

fn main() {
    let g = GraphData::<f64, (), G, _>::build(|b| {
        let x = b.input::<0>();
        let (b, _) = b.push(|c| ops::sum(c.idx(x)));
        b
    });
    let x: TList<f64, G> = tlist![Tensor::new([1.0, 2.0])];
    let seed: TList<f64, G> = tlist![Tensor::new([1.0, 1.0])];
    let _ = g.backprop_ctx(x.clone(), &(), seed);
}
