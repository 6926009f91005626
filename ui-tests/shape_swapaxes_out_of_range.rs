// Swapping axes 0 and 2 of a matrix (axes 0 and 1 only).
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Matrix<2, 3>];

fn main() {
    let _ = ops::swapaxes::<0, 2, _, _>(Idx::<G, Matrix<2, 3>>::at::<0>());
}
