// `cast` cannot regroup `(G ++ Ss) ++ T` as `G ++ (Ss ++ T)` for a generic `G`.
use shapetape::prelude::*;

type Ss = HList![Scalar];
type T = HList![Vector<2>];

fn regroup<G: ShapeList>(x: TList<f32, Cat<Cat<G, Ss>, T>>) -> TList<f32, Cat<G, Cat<Ss, T>>> {
    x.cast()
}

fn main() {
    let _ = regroup::<HList![]>(TList::zero());
}
