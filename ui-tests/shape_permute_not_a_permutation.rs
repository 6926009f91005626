// Axis 0 twice and axis 2 missing: not a permutation of the axes of a rank-3 tensor.
use shapetape::ops::{self, Ax};
use shapetape::prelude::*;

type G = HList![Tensor3<2, 3, 4>];

fn main() {
    let x = Idx::<G, Tensor3<2, 3, 4>>::at::<0>();
    let _ = ops::permute(x, (Ax::<0>, Ax::<1>, Ax::<0>));
}
