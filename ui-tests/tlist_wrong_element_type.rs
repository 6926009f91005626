// A TList of `f32` built from an `f64` tensor.
use shapetape::prelude::*;

fn main() {
    let _: TList<f32, HList![Scalar]> = tlist![Tensor::<f64, Scalar>::new(1.0)];
}
