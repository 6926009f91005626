// Concatenating two vectors along axis 1 (a vector has axis 0 only).
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Vector<2>, Vector<3>];

fn main() {
    let (a, b) = (
        Idx::<G, Vector<2>>::at::<0>(),
        Idx::<G, Vector<3>>::at::<1>(),
    );
    let _ = ops::concat::<1, _, _, _>(a, b);
}
