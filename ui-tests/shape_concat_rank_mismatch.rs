// Concatenating a matrix and a vector along axis 0: the ranks differ.
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Matrix<2, 3>, Vector<3>];

fn main() {
    let _ = ops::concat::<0, _, _, _>(
        Idx::<G, Matrix<2, 3>>::at::<0>(),
        Idx::<G, Vector<3>>::at::<1>(),
    );
}
