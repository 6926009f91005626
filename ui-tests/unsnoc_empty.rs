// `unsnoc` of an empty list.
use shapetape::prelude::*;

fn main() {
    let empty = TList::<f32, HList![]>::new();
    let _ = empty.unsnoc();
}
