//! Unit tests of the tensor API (`Tensor<A, S>`): constructors, checked access, the
//! elementwise operations, `scale`, `sum`/`dot` against independently written folds,
//! formatting, empty dimensions and the big-tensor-on-a-small-stack requirement.

use shapetape::prelude::*;
use shapetape::{IndexError, ShapeError};

fn q(n: i64, d: i64) -> Rational {
    Rational::new(n.into(), d.into())
}

// ---------------------------------------------------------------- constructors

#[test]
fn new_takes_nested_arrays_in_row_major_order() {
    let s = Tensor::<f64, Scalar>::new(2.5);
    assert_eq!(s.as_slice(), &[2.5]);

    let v = Tensor::<f64, Vector<3>>::new([1.0, 2.0, 3.0]);
    assert_eq!(v.as_slice(), &[1.0, 2.0, 3.0]);

    let m = Tensor::<f32, Matrix<2, 3>>::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(m.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(m.dims(), vec![2, 3]);
    assert_eq!(m.len(), 6);
    assert!(!m.is_empty());

    let t = Tensor::<f64, Tensor3<2, 1, 3>>::new([[[1.0, 2.0, 3.0]], [[4.0, 5.0, 6.0]]]);
    assert_eq!(t.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(t.dims(), vec![2, 1, 3]);
    assert_eq!(t.at(&[1, 0, 2]), Ok(&6.0));
}

#[test]
fn fill_and_zeros() {
    let f = Tensor::<f32, Matrix<2, 3>>::fill(7.5);
    assert_eq!(f.as_slice(), &[7.5; 6]);
    let z = Tensor::<f64, Tensor3<2, 2, 2>>::zeros();
    assert_eq!(z.as_slice(), &[0.0; 8]);
    let zq = Tensor::<Rational, Vector<3>>::zeros();
    assert_eq!(zq.as_slice(), &[q(0, 1), q(0, 1), q(0, 1)]);
    let zs = Tensor::<f64, Scalar>::zeros();
    assert_eq!(zs.as_slice(), &[0.0]);
}

#[test]
fn from_fn_passes_the_multi_index_in_row_major_order() {
    let mut seen = Vec::new();
    let t = Tensor::<f64, Tensor3<2, 3, 2>>::from_fn(|ix| {
        seen.push(ix.to_vec());
        (100 * ix[0] + 10 * ix[1] + ix[2]) as f64
    });
    let mut expected_idx = Vec::new();
    for i in 0..2 {
        for j in 0..3 {
            for k in 0..2 {
                expected_idx.push(vec![i, j, k]);
            }
        }
    }
    assert_eq!(seen, expected_idx);
    let expected: Vec<f64> = expected_idx
        .iter()
        .map(|ix| (100 * ix[0] + 10 * ix[1] + ix[2]) as f64)
        .collect();
    assert_eq!(t.as_slice(), expected.as_slice());
    // Every entry is found again at its multi-index.
    for ix in &expected_idx {
        assert_eq!(
            *t.at(ix).unwrap(),
            (100 * ix[0] + 10 * ix[1] + ix[2]) as f64
        );
    }

    // Rank 0: called once with the empty index.
    let mut calls = Vec::new();
    let s = Tensor::<f64, Scalar>::from_fn(|ix| {
        calls.push(ix.to_vec());
        4.0
    });
    assert_eq!(calls, vec![Vec::<usize>::new()]);
    assert_eq!(s.as_slice(), &[4.0]);

    // Identity matrix.
    let eye = Tensor::<f32, Matrix<3, 3>>::from_fn(|ix| if ix[0] == ix[1] { 1.0 } else { 0.0 });
    assert_eq!(
        eye,
        Tensor::new([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    );
}

#[test]
fn from_flat_fn_passes_the_row_major_offset() {
    let t = Tensor::<f64, Matrix<2, 3>>::from_flat_fn(|i| i as f64 * 10.0);
    assert_eq!(t, Tensor::new([[0.0, 10.0, 20.0], [30.0, 40.0, 50.0]]));
    let mut calls = 0;
    let e = Tensor::<f64, Matrix<3, 0>>::from_flat_fn(|_| {
        calls += 1;
        1.0
    });
    assert_eq!(calls, 0);
    assert!(e.is_empty());
}

#[test]
fn try_from_slice_and_vec_accept_the_right_length() {
    let a = Tensor::<f64, Matrix<2, 2>>::try_from_slice(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    let b = Tensor::<f64, Matrix<2, 2>>::try_from_vec(vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    assert_eq!(a, b);
    assert_eq!(a, Tensor::new([[1.0, 2.0], [3.0, 4.0]]));
    assert_eq!(b.into_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    let e = Tensor::<f64, Vector<0>>::try_from_vec(vec![]).unwrap();
    assert!(e.is_empty());
}

#[test]
fn try_from_slice_and_vec_report_shape_expected_and_actual() {
    let err = Tensor::<f32, Matrix<2, 3>>::try_from_slice(&[1.0, 2.0]).unwrap_err();
    assert_eq!(
        err,
        ShapeError {
            dims: vec![2, 3],
            expected: 6,
            actual: 2
        }
    );
    let msg = err.to_string();
    assert!(msg.contains("[2, 3]"), "{msg}");
    assert!(msg.contains('6'), "{msg}");
    assert!(msg.contains('2'), "{msg}");

    let err = Tensor::<f64, Tensor3<2, 1, 3>>::try_from_vec(vec![0.0; 11]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("[2, 1, 3]"), "{msg}");
    assert!(msg.contains(" 6 "), "expected length in {msg}");
    assert!(msg.contains("11"), "actual length in {msg}");
    assert_eq!(
        msg,
        "cannot build a tensor of shape [2, 1, 3] from 11 values: that shape holds exactly 6 entries"
    );

    let err = Tensor::<f64, Scalar>::try_from_vec(vec![]).unwrap_err();
    assert_eq!(
        (err.dims.as_slice(), err.expected, err.actual),
        (&[][..], 1, 0)
    );
    assert!(err.to_string().contains("[]"));

    let err = Tensor::<f64, Vector<0>>::try_from_slice(&[1.0]).unwrap_err();
    assert_eq!((err.expected, err.actual), (0, 1));
    // `ShapeError` is a std error.
    let _: &dyn std::error::Error = &err;
}

// ---------------------------------------------------------------- access

#[test]
fn at_and_at_mut_read_and_write_by_multi_index() {
    let mut m = Tensor::<f64, Matrix<2, 3>>::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(m.at(&[0, 0]), Ok(&1.0));
    assert_eq!(m.at(&[0, 2]), Ok(&3.0));
    assert_eq!(m.at(&[1, 1]), Ok(&5.0));
    *m.at_mut(&[1, 2]).unwrap() = 60.0;
    assert_eq!(m.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 60.0]);
    let mut s = Tensor::<f64, Scalar>::new(3.0);
    assert_eq!(s.at(&[]), Ok(&3.0));
    *s.at_mut(&[]).unwrap() = 4.0;
    assert_eq!(s.as_slice(), &[4.0]);
}

#[test]
fn at_rejects_the_wrong_rank_with_a_clear_error() {
    let mut m = Tensor::<f64, Matrix<2, 3>>::zeros();
    for bad in [&[1][..], &[0, 0, 0][..], &[][..]] {
        let err = m.at(bad).unwrap_err();
        assert_eq!(
            err,
            IndexError {
                dims: vec![2, 3],
                index: bad.to_vec()
            }
        );
        let msg = err.to_string();
        assert!(msg.contains(&format!("{bad:?}")), "{msg}");
        assert!(msg.contains("[2, 3]"), "{msg}");
        let noun = if bad.len() == 1 {
            "component"
        } else {
            "components"
        };
        assert!(msg.contains(&format!("has {} {noun}", bad.len())), "{msg}");
        assert!(msg.contains("needs 2"), "{msg}");
        assert_eq!(m.at_mut(bad).unwrap_err(), err);
    }
    let s = Tensor::<f64, Scalar>::zeros();
    let msg = s.at(&[0]).unwrap_err().to_string();
    assert_eq!(
        msg,
        "index [0] has 1 component, but a tensor of shape [] needs 0"
    );
}

#[test]
fn at_rejects_out_of_bounds_with_a_clear_error() {
    let mut m = Tensor::<f64, Matrix<2, 3>>::zeros();
    for bad in [[2, 0], [0, 3], [5, 5]] {
        let err = m.at(&bad).unwrap_err();
        assert_eq!(err.index, bad.to_vec());
        assert_eq!(err.dims, vec![2, 3]);
        assert_eq!(
            err.to_string(),
            format!("index {bad:?} is out of bounds for a tensor of shape [2, 3]")
        );
        assert_eq!(m.at_mut(&bad).unwrap_err(), err);
    }
    // A row-major offset that would be in range must still be rejected: [0, 3] is not [1, 0].
    assert!(m.at(&[0, 3]).is_err());
    let e = Tensor::<f64, Matrix<3, 0>>::zeros();
    assert!(e.at(&[0, 0]).is_err());
    let _: &dyn std::error::Error = &e.at(&[0, 0]).unwrap_err();
}

// ---------------------------------------------------------------- arithmetic

#[test]
fn elementwise_add_sub_mul_neg() {
    let a = Tensor::<f64, Matrix<2, 2>>::new([[1.0, 2.0], [3.0, 4.0]]);
    let b = Tensor::<f64, Matrix<2, 2>>::new([[10.0, 20.0], [30.0, 40.0]]);
    assert_eq!(a.add(&b), Tensor::new([[11.0, 22.0], [33.0, 44.0]]));
    assert_eq!(a.sub(&b), Tensor::new([[-9.0, -18.0], [-27.0, -36.0]]));
    assert_eq!(a.mul(&b), Tensor::new([[10.0, 40.0], [90.0, 160.0]]));
    assert_eq!(a.neg(), Tensor::new([[-1.0, -2.0], [-3.0, -4.0]]));
    // Views and owned tensors mix.
    assert_eq!(a.view().add(&b), a.add(&b.view()));

    let x = Tensor::<Rational, Vector<3>>::new([q(1, 2), q(-2, 3), q(0, 1)]);
    let y = Tensor::<Rational, Vector<3>>::new([q(1, 3), q(1, 3), q(5, 7)]);
    assert_eq!(x.add(&y).as_slice(), &[q(5, 6), q(-1, 3), q(5, 7)]);
    assert_eq!(x.sub(&y).as_slice(), &[q(1, 6), q(-1, 1), q(-5, 7)]);
    assert_eq!(x.mul(&y).as_slice(), &[q(1, 6), q(-2, 9), q(0, 1)]);

    let s = Tensor::<f32, Scalar>::new(1.5);
    assert_eq!(s.add(&s).as_slice(), &[3.0]);
}

/// `scale t c` multiplies every entry by `c` (values here; the side, `x * c`, is checked
/// symbolically in `scale_puts_the_scalar_on_the_right`).
#[test]
fn scale_multiplies_every_entry() {
    let a = Tensor::<f64, Vector<3>>::new([1.0, -2.0, 0.5]);
    assert_eq!(a.scale(&4.0), Tensor::new([4.0, -8.0, 2.0]));
    let x = Tensor::<Rational, Matrix<1, 2>>::new([[q(3, 4), q(-1, 2)]]);
    assert_eq!(x.scale(&q(2, 3)).as_slice(), &[q(1, 2), q(-1, 3)]);
    let z = Tensor::<f64, Vector<2>>::new([0.0, -0.0]).scale(&-1.0);
    assert_eq!(
        z.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        vec![(-0.0_f64).to_bits(), 0.0_f64.to_bits()]
    );
}

#[test]
fn map_and_zip_with() {
    let a = Tensor::<f64, Matrix<2, 2>>::new([[1.0, 2.0], [3.0, 4.0]]);
    let strings: Tensor<String, Matrix<2, 2>> = a.map(|x| format!("<{x}>"));
    assert_eq!(strings.as_slice(), &["<1>", "<2>", "<3>", "<4>"]);
    let b = Tensor::<f64, Matrix<2, 2>>::new([[5.0, 6.0], [7.0, 8.0]]);
    let pairs = a.zip_with(&b, |x, y| (*x, *y));
    assert_eq!(
        pairs.as_slice(),
        &[(1.0, 5.0), (2.0, 6.0), (3.0, 7.0), (4.0, 8.0)]
    );
    let m = a.zip_with(&b, |x, y| x.max(*y) - x.min(*y));
    assert_eq!(m, Tensor::fill(4.0));
    let q_t: Tensor<Rational, Matrix<2, 2>> = a.map(|x| Rational::from_integer((*x as i64).into()));
    assert_eq!(q_t.sum(), q(10, 1));
}

/// Independent reference: nested left fold from 0, one per dimension, for a matrix.
fn nested_fold_dot_matrix(a: &[f32], b: &[f32], rows: usize, cols: usize) -> f32 {
    let mut acc = 0.0_f32;
    for i in 0..rows {
        let mut row = 0.0_f32;
        for j in 0..cols {
            row += a[i * cols + j] * b[i * cols + j];
        }
        acc += row;
    }
    acc
}

/// The flat left fold over all entries (what `dot` is *not*).
fn flat_fold_dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = 0.0_f32;
    for (x, y) in a.iter().zip(b) {
        acc += x * y;
    }
    acc
}

#[test]
fn sum_is_the_flat_left_fold_from_zero() {
    let q_t = Tensor::<Rational, Matrix<2, 3>>::new([
        [q(1, 2), q(1, 3), q(1, 6)],
        [q(-1, 1), q(0, 1), q(7, 5)],
    ]);
    assert_eq!(q_t.sum(), q(7, 5));
    assert_eq!(Tensor::<f64, Scalar>::new(-2.5).sum(), -2.5);

    // Bit-for-bit: ((((0 + 1e8) + 1) + -1e8) + 1) = 1 in f32, whereas summing per row first
    // would give (0 + (1e8 + 1)) + (-1e8 + 1) = 0.
    let t = Tensor::<f32, Matrix<2, 2>>::new([[1e8, 1.0], [-1e8, 1.0]]);
    let mut flat = 0.0_f32;
    for x in t.iter() {
        flat += *x;
    }
    assert_eq!(t.sum().to_bits(), flat.to_bits());
    assert_eq!(t.sum(), 1.0);

    // -0.0 entries: the fold starts at +0.0 so the sum is +0.0.
    let nz = Tensor::<f64, Vector<2>>::new([-0.0, -0.0]);
    assert_eq!(nz.sum().to_bits(), 0.0_f64.to_bits());
}

#[test]
fn dot_on_rationals_matches_hand_computed_values() {
    let s = Tensor::<Rational, Scalar>::new(q(2, 3));
    let t = Tensor::<Rational, Scalar>::new(q(-3, 5));
    assert_eq!(s.dot(&t), q(-2, 5));

    let x =
        Tensor::<Rational, Tensor3<2, 1, 2>>::new([[[q(1, 2), q(1, 3)]], [[q(2, 1), q(-1, 4)]]]);
    let y = Tensor::<Rational, Tensor3<2, 1, 2>>::new([[[q(2, 1), q(3, 1)]], [[q(1, 2), q(4, 1)]]]);
    // 1/2·2 + 1/3·3 + 2·1/2 + (−1/4)·4 = 1 + 1 + 1 − 1
    assert_eq!(x.dot(&y), q(2, 1));
    assert_eq!(x.dot(&y), y.dot(&x));
    assert_eq!(x.dot(&x), x.mul(&x).sum());
}

#[test]
fn dot_on_f32_is_the_nested_fold_bit_for_bit() {
    // Row-wise the large terms are absorbed, so the nested fold gives
    // 0 + (1e8 + 1 → 1e8) + (−1e8 + 1 → −1e8) = 0, while a single flat fold gives
    // ((1e8 + 1 → 1e8) − 1e8) + 1 = 1.
    let a = Tensor::<f32, Matrix<2, 2>>::new([[1e8, 1.0], [-1e8, 1.0]]);
    let ones = Tensor::<f32, Matrix<2, 2>>::fill(1.0);
    let nested = nested_fold_dot_matrix(a.as_slice(), ones.as_slice(), 2, 2);
    let flat = flat_fold_dot(a.as_slice(), ones.as_slice());
    assert_eq!(nested, 0.0);
    assert_eq!(flat, 1.0);
    assert_eq!(a.dot(&ones).to_bits(), nested.to_bits());
    assert_ne!(a.dot(&ones).to_bits(), flat.to_bits());

    // A less contrived matrix: pseudo-random entries of mixed magnitude.
    let mut state = 0x2545_f491_u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state as f32 / u32::MAX as f32 - 0.5) * 10f32.powi((state % 7) as i32 - 3)
    };
    let x = Tensor::<f32, Matrix<7, 13>>::from_flat_fn(|_| next());
    let y = Tensor::<f32, Matrix<7, 13>>::from_flat_fn(|_| next());
    assert_eq!(
        x.dot(&y).to_bits(),
        nested_fold_dot_matrix(x.as_slice(), y.as_slice(), 7, 13).to_bits()
    );

    // Rank 3: three nested folds.
    let u = Tensor::<f32, Tensor3<2, 2, 2>>::new([
        [[1e8, 1.0], [1.0, 1.0]],
        [[-1e8, 1.0], [0.5, 0.25]],
    ]);
    let v = Tensor::<f32, Tensor3<2, 2, 2>>::fill(1.0);
    let mut outer = 0.0_f32;
    for i in 0..2 {
        let mut mid = 0.0_f32;
        for j in 0..2 {
            let mut inner = 0.0_f32;
            for k in 0..2 {
                let o = i * 4 + j * 2 + k;
                inner += u.as_slice()[o] * v.as_slice()[o];
            }
            mid += inner;
        }
        outer += mid;
    }
    assert_eq!(u.dot(&v).to_bits(), outer.to_bits());

    // Vectors and scalars.
    let p = Tensor::<f32, Vector<3>>::new([0.1, 0.2, 0.3]);
    assert_eq!(
        p.dot(&p).to_bits(),
        (((0.0_f32 + 0.1 * 0.1) + 0.2 * 0.2) + 0.3 * 0.3).to_bits()
    );
    let s = Tensor::<f32, Scalar>::new(-0.0);
    // dot (scalar a) (scalar b) = a * b, no fold from 0: (−0)·(+0) stays −0.
    assert_eq!(
        s.dot(&Tensor::<f32, Scalar>::new(0.0)).to_bits(),
        (-0.0_f32).to_bits()
    );
}

#[test]
fn empty_dimensions_have_zero_sum_and_dot() {
    let v = Tensor::<f64, Vector<0>>::zeros();
    assert_eq!(v.len(), 0);
    assert!(v.is_empty());
    assert_eq!(v.dims(), vec![0]);
    assert_eq!(v.sum(), 0.0);
    assert_eq!(v.dot(&v), 0.0);
    assert_eq!(v.add(&v), v);

    let m = Tensor::<f32, Matrix<3, 0>>::fill(1.0);
    assert_eq!(m.len(), 0);
    assert_eq!(m.dims(), vec![3, 0]);
    assert_eq!(m.sum(), 0.0);
    assert_eq!(m.dot(&m), 0.0);
    assert_eq!(m.map(|x| x * 2.0), m);

    let mq = Tensor::<Rational, Matrix<3, 0>>::zeros();
    assert_eq!(mq.sum(), q(0, 1));
    assert_eq!(mq.dot(&mq), q(0, 1));
    let m0 = Tensor::<Rational, Matrix<0, 3>>::zeros();
    assert_eq!(m0.dot(&m0), q(0, 1));
    let t = Tensor::<f64, Tensor3<2, 0, 3>>::zeros();
    assert_eq!(t.dot(&t), 0.0);
    assert_eq!(t.dims(), vec![2, 0, 3]);

    assert_eq!(format!("{v}"), "Tensor[0] []");
    assert_eq!(format!("{v:?}"), "Tensor[0] []");
    assert_eq!(format!("{m}"), "Tensor[3, 0] [[], [], []]");
    assert_eq!(format!("{m:?}"), "Tensor[3, 0] [[], [], []]");
    assert_eq!(format!("{t:?}"), "Tensor[2, 0, 3] [[], []]");
}

// ---------------------------------------------------------------- formatting, Clone, PartialEq

#[test]
fn display_and_debug_show_shape_and_values() {
    let m = Tensor::<f64, Matrix<2, 2>>::new([[1.0, 2.0], [3.0, 4.5]]);
    assert_eq!(format!("{m:?}"), "Tensor[2, 2] [[1, 2], [3, 4.5]]");
    assert_eq!(format!("{m}"), "Tensor[2, 2] [[1, 2], [3, 4.5]]");
    let s = Tensor::<f32, Scalar>::new(3.0);
    assert_eq!(format!("{s:?}"), "Tensor[] 3");
    assert_eq!(format!("{s}"), "Tensor[] 3");
    let v = Tensor::<Rational, Vector<2>>::new([q(1, 2), q(-3, 1)]);
    assert_eq!(format!("{v:?}"), "Tensor[2] [1/2, -3]");
    let t = Tensor::<f64, Tensor3<2, 1, 2>>::new([[[1.0, 2.0]], [[3.0, 4.0]]]);
    assert_eq!(format!("{t:?}"), "Tensor[2, 1, 2] [[[1, 2]], [[3, 4]]]");
    assert_eq!(format!("{t}"), "Tensor[2, 1, 2] [[[1, 2]], [[3, 4]]]");
    assert_eq!(format!("{:?}", t.view()), format!("{t:?}"));
    // Display distinguishes shapes whose nested brackets alone would look alike.
    let e0 = Tensor::<f64, Vector<0>>::zeros();
    let e1 = Tensor::<f64, Matrix<0, 3>>::zeros();
    assert_eq!(format!("{e0}"), "Tensor[0] []");
    assert_eq!(format!("{e1}"), "Tensor[0, 3] []");
}

#[test]
fn clone_and_partial_eq() {
    let a = Tensor::<f64, Vector<5>>::from_flat_fn(|i| i as f64);
    let mut b = a.clone();
    assert_eq!(a, b);
    *b.at_mut(&[4]).unwrap() = -1.0;
    assert_ne!(a, b);
    assert_eq!(a.at(&[4]), Ok(&4.0));
    assert_eq!(a.view(), a);
    assert_eq!(a.view().to_owned(), a);
    let nan = Tensor::<f64, Scalar>::new(f64::NAN);
    assert_ne!(nan, nan.clone());
}

// ---------------------------------------------------------------- the big tensor

/// The acceptance test: a `Matrix<512, 784>` of f32 is created, cloned, added and
/// dotted inside a thread with the default `cargo test` stack of 2 MiB, in a debug build.
/// (The data is 1.53 MiB, so any copy of it onto the stack would overflow.)
#[test]
fn big_matrix_on_a_two_mib_stack() {
    type Big = Matrix<512, 784>;
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let a = Tensor::<f32, Big>::from_fn(|ix| ((ix[0] + 2 * ix[1]) % 5) as f32 - 2.0);
            let b = Tensor::<f32, Big>::fill(0.5);
            let z = Tensor::<f32, Big>::zeros();
            let v = Tensor::<f32, Big>::try_from_vec(vec![1.0; 512 * 784]).unwrap();
            assert_eq!(a.len(), 512 * 784);

            let c = a.clone();
            assert_eq!(c, a);
            let s = c.add(&b);
            assert_eq!(s.add(&z), s);
            assert_eq!(
                *s.at(&[511, 783]).unwrap(),
                a.at(&[511, 783]).unwrap() + 0.5
            );

            let d = s.dot(&v);
            let expected = nested_fold_dot_matrix(s.as_slice(), v.as_slice(), 512, 784);
            assert_eq!(d.to_bits(), expected.to_bits());
            // Entries are small integers and halves, so every partial sum is exact:
            // Σ (a + 0.5) over all entries.
            let exact: f64 = a.as_slice().iter().map(|x| f64::from(*x) + 0.5).sum();
            assert_eq!(f64::from(d), exact);
            d
        })
        .expect("spawn the 2 MiB thread");
    let d = handle
        .join()
        .expect("no stack overflow in the 2 MiB thread");
    assert!(d.is_finite());
}

// ---------------------------------------------------------------- symbolic evaluation order

/// A free "expression" scalar: every operation builds its own syntax, so the exact evaluation
/// order (association, operand sides, the starting 0 of each fold) of an operation is visible.
#[derive(Clone, PartialEq, PartialOrd, Debug)]
struct Sym(String);

fn sym(s: &str) -> Sym {
    Sym(s.to_owned())
}

impl std::fmt::Display for Sym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! sym_binop {
    ($($tr:ident $m:ident $op:literal),*) => {$(
        impl std::ops::$tr for Sym {
            type Output = Sym;
            fn $m(self, rhs: Sym) -> Sym {
                Sym(format!("({}{}{})", self.0, $op, rhs.0))
            }
        }
    )*};
}
sym_binop!(Add add "+", Sub sub "-", Mul mul "*", Div div "/");

impl std::ops::Neg for Sym {
    type Output = Sym;
    fn neg(self) -> Sym {
        Sym(format!("-{}", self.0))
    }
}

impl Element for Sym {
    fn zero() -> Self {
        sym("0")
    }
    fn one() -> Self {
        sym("1")
    }
    fn from_i64(n: i64) -> Self {
        Sym(n.to_string())
    }
    fn abs(&self) -> Self {
        Sym(format!("|{}|", self.0))
    }
    fn to_f64(&self) -> f64 {
        f64::NAN
    }
}

#[test]
fn scale_puts_the_scalar_on_the_right() {
    let t = Tensor::<Sym, Vector<2>>::new([sym("x"), sym("y")]);
    assert_eq!(t.scale(&sym("c")).as_slice(), &[sym("(x*c)"), sym("(y*c)")]);
}

#[test]
fn elementwise_ops_keep_self_on_the_left() {
    let a = Tensor::<Sym, Vector<2>>::new([sym("a0"), sym("a1")]);
    let b = Tensor::<Sym, Vector<2>>::new([sym("b0"), sym("b1")]);
    assert_eq!(a.add(&b).as_slice(), &[sym("(a0+b0)"), sym("(a1+b1)")]);
    assert_eq!(a.sub(&b).as_slice(), &[sym("(a0-b0)"), sym("(a1-b1)")]);
    assert_eq!(a.mul(&b).as_slice(), &[sym("(a0*b0)"), sym("(a1*b1)")]);
}

#[test]
fn sum_and_dot_have_the_lean_association_exactly() {
    let s = Tensor::<Sym, Scalar>::new(sym("a"));
    let t = Tensor::<Sym, Scalar>::new(sym("b"));
    // dot (scalar a) (scalar b) = a * b: no fold, no 0.
    assert_eq!(s.dot(&t), sym("(a*b)"));
    assert_eq!(s.sum(), sym("(0+a)"));

    let a = Tensor::<Sym, Matrix<2, 2>>::from_fn(|ix| Sym(format!("a{}{}", ix[0], ix[1])));
    let b = Tensor::<Sym, Matrix<2, 2>>::from_fn(|ix| Sym(format!("b{}{}", ix[0], ix[1])));
    // sum: one flat left fold from 0 in row-major order.
    assert_eq!(a.sum(), sym("((((0+a00)+a01)+a10)+a11)"));
    // dot: a left fold from 0 per dimension, nested.
    assert_eq!(
        a.dot(&b),
        sym("((0+((0+(a00*b00))+(a01*b01)))+((0+(a10*b10))+(a11*b11)))")
    );

    let x =
        Tensor::<Sym, Tensor3<2, 1, 2>>::from_fn(|ix| Sym(format!("x{}{}{}", ix[0], ix[1], ix[2])));
    let y = x.map(|e| Sym(e.0.replace('x', "y")));
    let inner = |i: usize| format!("((0+(x{i}00*y{i}00))+(x{i}01*y{i}01))");
    let expected = format!("((0+(0+{}))+(0+{}))", inner(0), inner(1));
    assert_eq!(x.dot(&y), Sym(expected));

    // Empty dimensions: the outer fold is empty, or each inner fold is.
    let e = Tensor::<Sym, Matrix<2, 0>>::zeros();
    assert_eq!(e.dot(&e), sym("((0+0)+0)"));
    let e = Tensor::<Sym, Vector<0>>::zeros();
    assert_eq!(e.dot(&e), sym("0"));
    assert_eq!(e.sum(), sym("0"));
}
