// Entrywise `mul` of a vector with a scalar tensor (there is no broadcasting).
use shapetape::prelude::*;

fn main() {
    let v = Tensor::<f32, Vector<4>>::fill(2.0);
    let s = Tensor::<f32, Scalar>::new(3.0);
    let _ = v.mul(&s);
}
