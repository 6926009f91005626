// Broadcasting a vector of length 3 to a 2×4 matrix: the trailing lengths 3 and 4 differ.
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Vector<3>];

fn main() {
    let _ = ops::broadcast_to::<Matrix<2, 4>, _, _>(Idx::<G, Vector<3>>::at::<0>());
}
