// Broadcasting a 2×3 matrix to a vector: broadcasting never removes an axis.
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Matrix<2, 3>];

fn main() {
    let _ = ops::broadcast_to::<Vector<3>, _, _>(Idx::<G, Matrix<2, 3>>::at::<0>());
}
