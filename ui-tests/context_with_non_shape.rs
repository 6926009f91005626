// A context containing a non-shape (`u8`).
use shapetape::prelude::*;

fn main() {
    let _ = TList::<f32, HList![Scalar, u8]>::zero();
}
