// Stacking a vector of length 2 and a vector of length 3.
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Vector<2>, Vector<3>];

fn main() {
    let _ = ops::stack(
        Idx::<G, Vector<2>>::at::<0>(),
        Idx::<G, Vector<3>>::at::<1>(),
    );
}
