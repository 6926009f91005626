// A window with stride 0.
use shapetape::shape_arith::ConvDim;

fn main() {
    let _: ConvDim<8, 3, 0, 0, 1> = Default::default();
}
