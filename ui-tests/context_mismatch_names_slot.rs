// Two long contexts that differ in one slot print identically once rustc truncates them; the
// error names the slot that differs, counted from the end (`SlotFromEnd<0>` is the last slot):
// slot 29 of 40 is followed by 10 others.
use shapetape::prelude::*;

type G = HList![Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>];
type H = HList![Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<8>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>, Matrix<16, 16>, Vector<16>];

fn main() {
    let x: TList<f32, G> = TList::zero();
    let y: TList<f32, H> = TList::zero();
    let _ = x.add(&y);
}
