// A tensor from an array of the wrong length: two values for a `Vector<3>`.
use shapetape::prelude::*;

fn main() {
    let _ = Tensor::<f32, Vector<3>>::new([1.0, 2.0]);
}
