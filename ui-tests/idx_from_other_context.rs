// A typed index built for another context used with `get`.
use shapetape::prelude::*;

type G = HList![Scalar, Vector<3>];
type H = HList![Scalar, Vector<2>];

fn main() {
    let x: TList<f32, G> = TList::zero();
    let _ = x.get(Idx::<H, Scalar>::at::<0>());
}
