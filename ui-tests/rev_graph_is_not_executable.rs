// The derivative checks run executable graphs: a certified `RevGraph` is refused with a pointer
// to `to_graph_data`, which erases it into one.
use shapetape::approx::RevGraph;
use shapetape::autograd::{GradcheckOptions, gradcheck};
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Vector<2>];

fn main() {
    let g = RevGraph::<f64, f64, G, _>::build(|b| {
        let x = b.input::<0>();
        let (b, _) = b.push(|c| ops::tanh(c.idx(x)));
        b
    });
    let x: TList<f64, G> = tlist![Tensor::new([0.5, -1.0])];
    let _ = gradcheck(&g, &x, &(), &GradcheckOptions::default());
}
