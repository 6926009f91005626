// Reshaping a 2×3 matrix (6 entries) to a 2×2 matrix (4 entries).
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Matrix<2, 3>];

fn main() {
    let _ = ops::reshape::<Matrix<2, 2>, _, _>(Idx::<G, Matrix<2, 3>>::at::<0>());
}
