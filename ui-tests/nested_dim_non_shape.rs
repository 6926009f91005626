// A `Dim` whose inner shape is not a shape: `Dim<2, bool>`.
use shapetape::prelude::*;

fn main() {
    let _ = Tensor::<f32, Dim<2, bool>>::zeros();
}
