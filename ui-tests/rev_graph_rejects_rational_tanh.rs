// A certified graph runs each op at the runtime scalar, at the spec scalar and on intervals:
// `tanh` has no exact rational semantics, so a `RevGraph` with a `Rational` spec refuses it, in
// words.
use shapetape::approx::RevGraph;
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Vector<2>];

fn main() {
    let _ = RevGraph::<f32, Rational, G, _>::build(|b| {
        let x = b.input::<0>();
        let (b, _) = b.push(|c| ops::tanh(c.idx(x)));
        b
    });
}
