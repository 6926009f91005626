// Adding an `f64` tensor to an `f32` tensor (entries of different types).
use shapetape::prelude::*;

fn main() {
    let a = Tensor::<f32, Vector<2>>::fill(1.0);
    let b = Tensor::<f64, Vector<2>>::fill(1.0);
    let _ = a.add(&b);
}
