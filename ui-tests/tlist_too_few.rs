// Too few tensors in `tlist![...]` for the context.
use shapetape::prelude::*;

fn main() {
    let _: TList<f32, HList![Scalar, Vector<3>]> = tlist![Tensor::new(1.0)];
}
