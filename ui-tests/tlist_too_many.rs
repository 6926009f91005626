// Too many tensors in `tlist![...]` for the context.
use shapetape::prelude::*;

fn main() {
    let _: TList<f32, HList![Scalar]> = tlist![Tensor::new(1.0), Tensor::new(2.0)];
}
