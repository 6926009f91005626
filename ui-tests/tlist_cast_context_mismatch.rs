// `TList::cast` to a context that is not equal to the original one.
use shapetape::prelude::*;

fn main() {
    let x: TList<f32, HList![Scalar, Vector<3>]> = TList::zero();
    let _ = x.cast::<HList![Scalar, Vector<3>, Scalar]>();
}
