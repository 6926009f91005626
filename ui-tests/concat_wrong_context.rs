// A concatenation Γ ++ R split as if it were R ++ Γ (the order of a concat matters).
use shapetape::prelude::*;

type G = HList![Scalar];
type R = HList![Vector<2>];

fn main() {
    let joined = TList::<f32, G>::zero().append(TList::<f32, R>::zero());
    let _ = TList::<f32, R>::split::<G>(joined);
}
