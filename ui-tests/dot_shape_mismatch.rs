// `dot` of a 2×3 matrix with a 3×2 matrix (same size, different shape).
use shapetape::prelude::*;

fn main() {
    let a = Tensor::<f64, Matrix<2, 3>>::fill(1.0);
    let b = Tensor::<f64, Matrix<3, 2>>::fill(1.0);
    let _ = a.dot(&b);
}
