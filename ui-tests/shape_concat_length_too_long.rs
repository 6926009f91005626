// Concatenating two vectors of length 1000: no axis can have length 2000 (typenum's table of
// const-generic lengths stops at 1024, then has only 2ᵏ − 1, 2ᵏ, 10ᵏ and 3600).
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Vector<1000>];

fn main() {
    let x = Idx::<G, Vector<1000>>::at::<0>();
    let _ = ops::concat::<0, _, _, _>(x, x);
}
