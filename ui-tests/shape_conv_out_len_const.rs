// The const fn sizing a shape with literal arguments: a 5-tap kernel over 4 entries is rejected
// when the constant is evaluated, with the function's message.
use shapetape::prelude::*;
use shapetape::shape_arith::conv_out_len;

fn main() {
    let _: Vector<{ conv_out_len(4, 5, 1, 0, 1) }> = Default::default();
}
