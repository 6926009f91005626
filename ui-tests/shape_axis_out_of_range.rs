// Removing axis 2 of a matrix (axes 0 and 1 only), e.g. for a reduction.
use shapetape::prelude::*;
use shapetape::shape_arith::RemoveAxis;

fn main() {
    let _: RemoveAxis<Matrix<2, 3>, 2> = Default::default();
}
