// `get` with an index that claims shape `Vector<2>` for a slot holding a `Vector<3>`.
use shapetape::prelude::*;

type G = HList![Scalar, Vector<3>];

fn main() {
    let x: TList<f32, G> = TList::zero();
    let _ = x.get(Idx::<G, Vector<2>>::at::<1>());
}
