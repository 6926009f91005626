// Two groups over 3 input channels: the groups must divide the channels.
use shapetape::ops::{self, Conv2dParams};
use shapetape::prelude::*;

type X = Dim<1, Dim<3, Dim<8, Vector<8>>>>;
type W = Dim<4, Dim<1, Dim<3, Vector<3>>>>;
type G = HList![X, W, Vector<4>];

fn main() {
    let _ = ops::conv2d(
        Idx::<G, X>::at::<0>(),
        Idx::<G, W>::at::<1>(),
        Idx::<G, Vector<4>>::at::<2>(),
        Conv2dParams::new().groups::<2>(),
    );
}
