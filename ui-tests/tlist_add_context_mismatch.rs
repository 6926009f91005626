// `TList::add` of two different contexts.
use shapetape::prelude::*;

fn main() {
    let x: TList<f32, HList![Scalar, Vector<3>]> = TList::zero();
    let y: TList<f32, HList![Vector<3>, Scalar]> = TList::zero();
    let _ = x.add(&y);
}
