// A non-shape type (`u8`) used as a tensor shape.
use shapetape::prelude::*;

fn main() {
    let _ = Tensor::<f32, u8>::zeros();
}
