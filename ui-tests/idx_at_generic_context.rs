// `Idx::at` in a context that is a generic parameter, not a list written out.
use shapetape::prelude::*;

fn first<G: ShapeList>() -> Idx<G, Scalar> {
    Idx::at::<0>()
}

fn main() {
    let _ = first::<HList![Scalar]>();
}
