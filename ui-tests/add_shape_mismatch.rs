// Adding tensors of different shapes: `Vector<3> + Vector<2>`.
use shapetape::prelude::*;

fn main() {
    let a = Tensor::<f32, Vector<3>>::new([1.0, 2.0, 3.0]);
    let b = Tensor::<f32, Vector<2>>::new([1.0, 2.0]);
    let _ = a.add(&b);
}
