//! Export a small MLP graph to Graphviz DOT.
//!
//! Run with `cargo run --example export_dot [path]`. Writes the DOT text to `path`
//! (default `target/mlp.dot` in the crate directory), prints the path and the text. Render it
//! with Graphviz, if installed: `dot -Tpng target/mlp.dot -o target/mlp.png`.
//!
//! The graph is a 2 → 4 → 2 perceptron on a batch of 3 points with a cross-entropy loss:
//! inputs `x0 = W₁`, `x1 = b₁`, `x2 = W₂`, `x3 = b₂`, `x4 = X`, `x5 = T` (one-hot targets), and
//! nodes `0: h = X W₁ᵀ + 1b₁ᵀ`, `1: a = tanh h`, `2: z = a W₂ᵀ + 1b₂ᵀ`,
//! `3: L = cross_entropy(z, T)`. The edges are read off each node's VJP (see
//! `shapetape::export`); every edge is labelled with the shape of the tensor it carries.

use std::path::PathBuf;

use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;

type Inputs = HList![
    Matrix<4, 2>,
    Vector<4>,
    Matrix<2, 4>,
    Vector<2>,
    Matrix<3, 2>,
    Matrix<3, 2>
];

fn main() -> std::io::Result<()> {
    let (graph, ()) = GraphData::<f32, (), Inputs, _>::build_with(|b| {
        let hlist_pat![w1, b1, w2, b2, x, t] = b.inputs();
        let (b, h) = b.push(|c| ops::linear_batch(c.idx(w1), c.idx(x), c.idx(b1)));
        let (b, a) = b.push(|c| ops::tanh(c.idx(h)));
        let (b, z) = b.push(|c| ops::linear_batch(c.idx(w2), c.idx(a), c.idx(b2)));
        let (b, _) = b.push(|c| ops::cross_entropy(c.idx(z), c.idx(t)));
        (b, ())
    });

    // The library ops list every operand whatever the values, so any point will do.
    let dot = graph.to_dot(&TList::zero(), &());

    let path = match std::env::args_os().nth(1) {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/mlp.dot"),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, &dot)?;
    println!("wrote {}", path.display());
    println!();
    print!("{dot}");
    Ok(())
}
