//! Tensors and typed contexts, top to bottom.
//!
//! Run with `cargo run --release --example contexts`.

use shapetape::prelude::*;

fn main() {
    // A shape is a type; a tensor's length is fixed by it.
    let v = Tensor::<f32, Vector<3>>::new([1.0, 2.0, 3.0]);
    let m = Tensor::<f32, Matrix<2, 3>>::from_fn(|ix| (ix[0] * 3 + ix[1]) as f32);
    println!("v            = {v:?}");
    println!("m            = {m:?}");
    println!("v · v        = {}", v.dot(&v));
    println!("sum m        = {}", m.sum());
    println!("m[1, 2]      = {}", m.at(&[1, 2]).unwrap());

    // Run-time checked construction reports what went wrong instead of panicking.
    match Tensor::<f32, Matrix<2, 3>>::try_from_slice(&[1.0, 2.0]) {
        Ok(_) => unreachable!("two values cannot fill a 2×3 matrix"),
        Err(e) => println!("error        : {e}"),
    }
    if let Err(e) = m.at(&[2, 0]) {
        println!("error        : {e}");
    }

    // A context Γ is a type-level list of shapes; a TList holds one tensor per shape.
    type G = HList![Scalar, Vector<3>, Matrix<2, 3>];
    let x: TList<f32, G> = tlist![Tensor::new(0.5), v.clone(), m.clone()];
    println!("x            = {x:?}");

    // Typed indices: the compiler checks position and shape.
    let iv = Idx::<G, Vector<3>>::at::<1>();
    let im: Idx<G, _> = Idx::at::<2>();
    println!("x[1]         = {:?}", x.get(iv));
    println!("x[2]         = {:?}", x.get(im));

    // Context algebra: dense add/scale, ⟨x, y⟩, single, snoc/unsnoc, append/split.
    let y = x.add(&x).scale(&0.5);
    println!("(x + x)·½    = {y:?}");
    println!("⟨x, x⟩       = {}", x.dot_list(&x));
    println!(
        "single       = {:?}",
        TList::<f32, G>::single(iv, Tensor::fill(7.0))
    );

    let extended = x.clone().snoc(Tensor::<f32, Scalar>::new(9.0));
    println!("snoc         = {extended:?} ({} entries)", extended.len());
    let (back, last) = extended.unsnoc();
    assert_eq!(back, x);
    println!("unsnoc       → last = {last:?}");

    type R = HList![Vector<2>];
    let joined = x.clone().append(TList::<f32, R>::zero());
    let (left, right) = TList::<f32, G>::split::<R>(joined);
    assert_eq!(left, x);
    println!("split right  = {right:?}");

    // Exact arithmetic: the same code over rationals.
    let q: TList<Rational, HList![Vector<2>]> = tlist![Tensor::new([
        Rational::new(1.into(), 3.into()),
        Rational::new(2.into(), 3.into())
    ])];
    println!("⟨q, q⟩ (ℚ)   = {}", q.dot_list(&q));
}
