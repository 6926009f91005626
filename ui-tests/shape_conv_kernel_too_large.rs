// A 5-tap kernel over an input of length 4 without padding: no output position.
use shapetape::shape_arith::ConvDim;

fn main() {
    let _: ConvDim<4, 5, 1, 0, 1> = Default::default();
}
