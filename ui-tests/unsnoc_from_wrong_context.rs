// `TList::unsnoc_from` on a context that is not `G ++ [S]`.
use shapetape::prelude::*;

type G = HList![Scalar];

fn main() {
    let x: TList<f32, HList![Scalar, Vector<3>]> = TList::zero();
    let _ = TList::<f32, G>::unsnoc_from::<Vector<2>>(x);
}
