// Taking 2 columns from column 2 of a 2×3 matrix: columns 2 and 3, but there is no column 3.
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Matrix<2, 3>];

fn main() {
    let _ = ops::narrow::<1, 2, 2, _, _>(Idx::<G, Matrix<2, 3>>::at::<0>());
}
