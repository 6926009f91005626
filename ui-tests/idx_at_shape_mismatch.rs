// `Idx::at` whose shape (from the annotation) does not match the slot: a `Scalar` is at 0.
use shapetape::prelude::*;

type G = HList![Scalar, Matrix<2, 3>];

fn main() {
    let i: Idx<G, Matrix<2, 3>> = Idx::at::<0>();
    let _ = i.pos();
}
