// An index past the end: position 5 of a two-entry context.
use shapetape::prelude::*;

type G = HList![Scalar, Vector<3>];

fn main() {
    let x: TList<f32, G> = TList::zero();
    let _ = x.get(Idx::<G, Scalar>::at::<5>());
}
