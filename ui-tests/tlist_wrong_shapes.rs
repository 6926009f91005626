// A TList whose tensors don't match Γ: a `Vector<2>` where Γ has a `Vector<3>`.
use shapetape::prelude::*;

fn main() {
    let _: TList<f32, HList![Scalar, Vector<3>]> =
        tlist![Tensor::new(1.0), Tensor::<f32, Vector<2>>::zeros()];
}
