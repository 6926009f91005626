// Slicing axis 2 of a matrix.
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Matrix<2, 3>];

fn main() {
    let _ = ops::narrow::<2, 0, 1, _, _>(Idx::<G, Matrix<2, 3>>::at::<0>());
}
