// Concatenating a 2×3 and a 3×3 matrix along axis 1: their row counts differ.
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Matrix<2, 3>, Matrix<3, 3>];

fn main() {
    let _ = ops::concat::<1, _, _, _>(
        Idx::<G, Matrix<2, 3>>::at::<0>(),
        Idx::<G, Matrix<3, 3>>::at::<1>(),
    );
}
