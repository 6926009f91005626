// A 2×2 pooling window with padding 2: every window of the first row lies in the padding.
use shapetape::ops;
use shapetape::prelude::*;

type X = Dim<1, Dim<1, Dim<4, Vector<4>>>>;
type G = HList![X];

fn main() {
    let _ = ops::max_pool2d(
        Idx::<G, X>::at::<0>(),
        ops::pool_window::<2>().padding::<2>(),
    );
}
