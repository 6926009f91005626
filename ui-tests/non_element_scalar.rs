// A non-element scalar type (`String`) as the entries of a tensor.
use shapetape::prelude::*;

fn main() {
    let _ = Tensor::<String, Scalar>::zeros();
}
