// Writing an entry through a read-only `TensorView`.
use shapetape::prelude::*;

fn main() {
    let t = Tensor::<f32, Vector<2>>::zeros();
    let mut v = t.view();
    *v.at_mut(&[0]).unwrap() = 1.0;
}
