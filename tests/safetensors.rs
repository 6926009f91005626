//! The safetensors loader and writer: files written by numpy and PyTorch
//! (`scripts/make_safetensors_fixtures.py`, committed under `tests/fixtures/`), round trips,
//! the worded errors, and no panic on random, truncated or mutated input.

use proptest::prelude::*;
use shapetape::prelude::*;
use shapetape::safetensors::{LoadError, SaveError, TensorFile, save_tensors, save_tensors_file};

const NUMPY_F64: &[u8] = include_bytes!("fixtures/numpy_f64.safetensors");
const NUMPY_F32: &[u8] = include_bytes!("fixtures/numpy_f32.safetensors");
const TORCH_MIXED: &[u8] = include_bytes!("fixtures/torch_mixed.safetensors");
const TORCH_MLP: &[u8] = include_bytes!("fixtures/torch_mlp.safetensors");
const FIXTURES: [&[u8]; 4] = [NUMPY_F64, NUMPY_F32, TORCH_MIXED, TORCH_MLP];

type MlpParams = HList![Matrix<32, 2>, Vector<32>, Matrix<2, 32>, Vector<2>];
const MLP_NAMES: [&str; 4] = ["w1", "b1", "w2", "b2"];

/// `reason` of a `Malformed` error (fails the test for any other result).
fn malformed(result: Result<TensorFile<'_>, LoadError>) -> String {
    match result {
        Err(LoadError::Malformed { reason }) => reason,
        other => panic!("expected a Malformed error, got {other:?}"),
    }
}

/// A safetensors file from a header and a data section.
fn file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

#[test]
fn numpy_f64_file_loads_with_its_values() {
    let f = TensorFile::parse(NUMPY_F64).unwrap();
    assert_eq!(f.names(), ["b", "cube", "empty", "s", "w"]);
    let w = f.tensor::<f64, Matrix<2, 3>>("w").unwrap();
    assert_eq!(
        w,
        Tensor::from_fn(|ix| (3 * ix[0] + ix[1]) as f64 / 4.0 - 0.5)
    );
    assert_eq!(w.at(&[1, 0]), Ok(&0.25)); // row-major: w[1][0] = (3 - 2) / 4
    assert_eq!(
        f.tensor::<f64, Vector<3>>("b").unwrap().as_slice(),
        &[0.1, -0.2, 0.3]
    );
    assert_eq!(f.tensor::<f64, Scalar>("s").unwrap().as_slice(), &[2.5]);
    assert!(f.tensor::<f64, Vector<0>>("empty").unwrap().is_empty());
    let cube = f.tensor::<f64, Tensor3<2, 3, 4>>("cube").unwrap();
    assert_eq!(
        cube,
        Tensor::from_fn(|ix| (12 * ix[0] + 4 * ix[1] + ix[2]) as f64 / 8.0 - 1.0)
    );
}

#[test]
fn numpy_f32_file_loads_with_its_values() {
    type G = HList![Matrix<2, 3>, Vector<3>, Scalar, Vector<0>];
    let ctx = TList::<f32, G>::load_safetensors(NUMPY_F32, &["w", "b", "s", "empty"]).unwrap();
    let hlist_pat![w, b, s, e] = ctx.into_tensors();
    assert_eq!(w.as_slice(), &[-0.5, -0.25, 0.0, 0.25, 0.5, 0.75]);
    // numpy rounds the doubles 0.1, -0.2, 0.3 to f32: the nearest f32s, as Rust's literals.
    assert_eq!(b.as_slice(), &[0.1f32, -0.2, 0.3]);
    assert_eq!(s.as_slice(), &[2.5]);
    assert!(e.is_empty());
}

#[test]
fn torch_file_loads_with_pytorch_layout() {
    let f = TensorFile::parse(TORCH_MIXED).unwrap();
    assert_eq!(
        f.names(),
        [
            "half",
            "linear.bias",
            "linear.weight",
            "scale",
            "steps",
            "weight64"
        ]
    );
    // nn.Linear(2, 3).weight is [out, in]: row o holds the weights into output o.
    let w = f.tensor::<f32, Matrix<3, 2>>("linear.weight").unwrap();
    assert_eq!(
        w,
        Tensor::from_fn(|ix| (2 * ix[0] + ix[1]) as f32 / 4.0 - 0.5)
    );
    assert_eq!(w.at(&[2, 0]), Ok(&0.5));
    let b = f.tensor::<f32, Vector<3>>("linear.bias").unwrap();
    assert_eq!(b.as_slice(), &[0.1f32, -0.2, 0.3]);
    assert_eq!(f.tensor::<f32, Scalar>("scale").unwrap().as_slice(), &[2.5]);
    let w64 = f.tensor::<f64, Matrix<2, 3>>("weight64").unwrap();
    assert_eq!(w64.as_slice(), &[-0.5, -0.25, 0.0, 0.25, 0.5, 0.75]);
}

#[test]
fn torch_mlp_parameters_load_as_a_context() {
    let params = TList::<f32, MlpParams>::load_safetensors(TORCH_MLP, &MLP_NAMES).unwrap();
    let hlist_pat![w1, b1, w2, b2] = params.into_tensors();
    // PyTorch's default init for Linear(fan_in, _) is uniform in ±1/√fan_in.
    assert!(w1.iter().all(|v| v.abs() <= 1.0 / 2f32.sqrt()));
    assert!(b1.iter().all(|v| v.abs() <= 1.0 / 2f32.sqrt()));
    assert!(
        w2.iter()
            .chain(b2.iter())
            .all(|v| v.abs() <= 1.0 / 32f32.sqrt())
    );
    assert!(w1.iter().any(|&v| v != 0.0));
}

#[test]
fn wrong_dtype_or_shape_names_tensor_expected_and_found() {
    let f = TensorFile::parse(TORCH_MIXED).unwrap();
    let err = f.tensor::<f64, Matrix<3, 2>>("linear.weight").unwrap_err();
    assert_eq!(
        err,
        LoadError::Mismatch {
            name: "linear.weight".into(),
            expected_dtype: "F64",
            expected_dims: vec![3, 2],
            found_dtype: "F32".into(),
            found_dims: vec![3, 2],
        }
    );
    assert_eq!(
        err.to_string(),
        "tensor `linear.weight` does not fit: expected F64 of shape [3, 2], found F32 of shape [3, 2]"
    );
    assert_eq!(
        f.tensor::<f32, Matrix<2, 3>>("linear.weight")
            .unwrap_err()
            .to_string(),
        "tensor `linear.weight` does not fit: expected F32 of shape [2, 3], found F32 of shape [3, 2]"
    );
    assert_eq!(
        f.tensor::<f32, Vector<3>>("steps").unwrap_err().to_string(),
        "tensor `steps` does not fit: expected F32 of shape [3], found I64 of shape [3]"
    );
    assert_eq!(
        f.tensor::<f32, Vector<2>>("half").unwrap_err().to_string(),
        "tensor `half` does not fit: expected F32 of shape [2], found BF16 of shape [2]"
    );
    // A scalar is the shape []; a one-entry vector is not a scalar.
    assert_eq!(
        f.tensor::<f32, Vector<1>>("scale").unwrap_err().to_string(),
        "tensor `scale` does not fit: expected F32 of shape [1], found F32 of shape []"
    );
    // No implicit widening: an F32 file does not load as f64.
    assert!(matches!(
        Tensor::<f64, Scalar>::from_safetensors(NUMPY_F32, "s"),
        Err(LoadError::Mismatch { found_dtype, .. }) if found_dtype == "F32"
    ));
    // In a context the error names the slot's entry.
    let err = TList::<f32, MlpParams>::load_safetensors(TORCH_MLP, &["w1", "b1", "w1", "b2"])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor `w1` does not fit: expected F32 of shape [2, 32], found F32 of shape [32, 2]"
    );
}

#[test]
fn missing_names_and_name_counts_are_errors() {
    let err = Tensor::<f32, Scalar>::from_safetensors(TORCH_MLP, "w3").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no tensor named `w3` in the file (it holds `b1`, `b2`, `w1`, `w2`)"
    );
    let empty = save_tensors(&[]).unwrap();
    assert_eq!(
        Tensor::<f32, Scalar>::from_safetensors(&empty, "x")
            .unwrap_err()
            .to_string(),
        "no tensor named `x` in the file (it holds no tensors)"
    );
    let err =
        TList::<f32, MlpParams>::load_safetensors(TORCH_MLP, &["w1", "b1", "w2"]).unwrap_err();
    assert_eq!(
        err,
        LoadError::NameCount {
            expected: 4,
            found: 3
        }
    );
    assert_eq!(
        err.to_string(),
        "a context with 4 slots needs 4 names, one per slot, but 3 were given"
    );
    let params = TList::<f32, MlpParams>::zero();
    let err = params
        .save_safetensors(&["a", "b", "c", "d", "e"])
        .unwrap_err();
    assert_eq!(
        err,
        SaveError::NameCount {
            expected: 4,
            found: 5
        }
    );
    assert_eq!(
        params.save_safetensors(&["a", "b", "a", "d"]).unwrap_err(),
        SaveError::DuplicateName { name: "a".into() }
    );
    assert_eq!(
        params
            .save_safetensors(&["a", "b", "__metadata__", "d"])
            .unwrap_err()
            .to_string(),
        "`__metadata__` cannot name a tensor: safetensors reserves it for the file's metadata"
    );
}

#[test]
fn malformed_files_are_worded_errors() {
    assert_eq!(
        malformed(TensorFile::parse(&[1, 2, 3])),
        "the file has 3 bytes, fewer than the 8 of the header length"
    );
    assert_eq!(
        malformed(TensorFile::parse(&file("{}", b"")[..6])),
        "the file has 6 bytes, fewer than the 8 of the header length"
    );
    let mut long = file("{}", b"");
    long[..8].copy_from_slice(&1000u64.to_le_bytes());
    assert_eq!(
        malformed(TensorFile::parse(&long)),
        "the header length is 1000 bytes, but only 2 bytes follow it"
    );
    let mut huge = file("{}", b"");
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(TensorFile::parse(&huge).is_err());
    assert!(
        malformed(TensorFile::parse(&file("[1, 2]", b"")))
            .starts_with("the header is not a JSON object of tensor entries")
    );
    assert!(
        malformed(TensorFile::parse(&file(
            r#"{"a": {"dtype": "F99", "shape": [], "data_offsets": [0, 4]}}"#,
            &[0; 4]
        )))
        .starts_with("the header is not a JSON object of tensor entries")
    );
    assert!(malformed(TensorFile::parse(&file("{\u{0}", b""))).starts_with("the header is not"));

    // Byte ranges: past the end (truncated), disagreeing with the shape, with gaps, too short.
    let truncated = &TORCH_MLP[..TORCH_MLP.len() - 4];
    assert_eq!(
        malformed(TensorFile::parse(truncated)),
        "tensor `w2` occupies bytes 392..648 of the data section, but the data section has \
         only 644 bytes (is the file truncated?)"
    );
    let h = r#"{"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}"#;
    assert_eq!(
        malformed(TensorFile::parse(&file(h, &[0; 20]))),
        "tensor `a` occupies bytes 0..20 of the data section (20 bytes), but F32 entries of \
         shape [2, 3] take 24 bytes"
    );
    let h = r#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}"#;
    assert!(
        malformed(TensorFile::parse(&file(h, &[0; 12]))).starts_with(
            "tensor `b` occupies bytes 8..12, which do not start where the previous tensor ends"
        )
    );
    let h = r#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#;
    assert_eq!(
        malformed(TensorFile::parse(&file(h, &[0; 7]))),
        "the tensors occupy 4 bytes of data, but the data section has 7"
    );
    assert_eq!(
        malformed(TensorFile::parse(&file("{}", &[0; 3]))),
        "the file holds no tensors, but its data section has 3 bytes"
    );
    let err = Tensor::<f32, Scalar>::from_safetensors(&file(h, &[0; 7]), "a").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("not a valid safetensors file: the tensors occupy")
    );
}

/// Byte ranges that add up past `u64::MAX`: safetensors 0.8 alone overflows on this header
/// (a panic in debug builds); here it is an error.
#[test]
fn offsets_near_u64_max_are_an_error_not_a_panic() {
    let size: u64 = (1 << 61) - 1;
    let entries: Vec<String> = (0..8u64)
        .map(|k| {
            format!(
                r#""t{k}": {{"dtype": "U8", "shape": [{size}], "data_offsets": [{}, {}]}}"#,
                k * size,
                (k + 1) * size
            )
        })
        .collect();
    let bytes = file(&format!("{{{}}}", entries.join(", ")), b"");
    let reason = malformed(TensorFile::parse(&bytes));
    assert!(
        reason.starts_with("tensor `t0` occupies bytes 0..2305843009213693951"),
        "{reason}"
    );
}

#[test]
fn contexts_and_mixed_tensors_round_trip() {
    type G = HList![Scalar, Vector<3>, Matrix<2, 2>, Vector<0>];
    let names = ["s", "v", "m", "nothing"];
    let x: TList<f64, G> = tlist![
        Tensor::new(-0.0),
        Tensor::new([f64::INFINITY, f64::MIN_POSITIVE, f64::NAN]),
        Tensor::new([[1.0, 2.0], [3.0, 4.0]]),
        Tensor::new([]),
    ];
    let bytes = x.save_safetensors(&names).unwrap();
    let y = TList::<f64, G>::load_safetensors(&bytes, &names).unwrap();
    let bits = |c: &TList<f64, G>| -> Vec<u64> {
        c.slot_slices().flatten().map(|v| v.to_bits()).collect()
    };
    assert_eq!(bits(&x), bits(&y));

    // One file, f32 and f64 entries, owned tensors and views.
    let a = Tensor::<f32, Matrix<2, 3>>::from_flat_fn(|i| i as f32);
    let ctx: TList<f64, HList![Vector<2>]> = tlist![Tensor::new([5.0, 6.0])];
    let view = ctx.get(Idx::<HList![Vector<2>], Vector<2>>::at::<0>());
    let bytes = save_tensors(&[("a", &a), ("v", &view)]).unwrap();
    let f = TensorFile::parse(&bytes).unwrap();
    assert_eq!(f.tensor::<f32, Matrix<2, 3>>("a").unwrap(), a);
    assert_eq!(
        f.tensor::<f64, Vector<2>>("v").unwrap().as_slice(),
        &[5.0, 6.0]
    );

    // The fixtures read back and rewritten are the same tensors.
    let params = TList::<f32, MlpParams>::load_safetensors(TORCH_MLP, &MLP_NAMES).unwrap();
    let again = params.save_safetensors(&MLP_NAMES).unwrap();
    assert_eq!(
        TList::<f32, MlpParams>::load_safetensors(&again, &MLP_NAMES).unwrap(),
        params
    );
}

#[test]
fn files_on_disk() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("shapetape-safetensors-test.safetensors");
    let w = Tensor::<f32, Matrix<2, 2>>::new([[1.0, 2.0], [3.0, 4.0]]);
    save_tensors_file(&path, &[("w", &w)]).unwrap();
    assert_eq!(
        Tensor::<f32, Matrix<2, 2>>::from_safetensors_file(&path, "w").unwrap(),
        w
    );

    let ctx: TList<f32, HList![Matrix<2, 2>]> = tlist![w];
    let path2 = dir.join("shapetape-safetensors-test-ctx.safetensors");
    ctx.save_safetensors_file(&path2, &["w"]).unwrap();
    assert_eq!(
        TList::<f32, HList![Matrix<2, 2>]>::load_safetensors_file(&path2, &["w"]).unwrap(),
        ctx
    );

    let missing = dir.join("no-such-dir/x.safetensors");
    let err = Tensor::<f32, Scalar>::from_safetensors_file(&missing, "w").unwrap_err();
    assert!(matches!(
        &err,
        LoadError::Io {
            kind: std::io::ErrorKind::NotFound,
            ..
        }
    ));
    assert!(err.to_string().starts_with("cannot read `"), "{err}");
    let err = save_tensors_file(
        &missing,
        &[(
            "w",
            &ctx.get(Idx::<HList![Matrix<2, 2>], Matrix<2, 2>>::at::<0>()),
        )],
    )
    .unwrap_err();
    assert!(matches!(err, SaveError::Io { .. }));
}

/// Runs every loader on `bytes`; `Ok` results are checked to have their static shapes. The
/// point is that none of it panics.
fn load_everything(bytes: &[u8]) -> bool {
    let _ = Tensor::<f32, Scalar>::from_safetensors(bytes, "s");
    let _ = TList::<f32, MlpParams>::load_safetensors(bytes, &MLP_NAMES);
    let _ = TList::<f64, HList![Matrix<2, 3>, Vector<3>]>::load_safetensors(bytes, &["w", "b"]);
    let Ok(f) = TensorFile::parse(bytes) else {
        return false;
    };
    for name in f.names() {
        let _ = f.tensor::<f32, Scalar>(name);
        let _ = f.tensor::<f64, Scalar>(name);
        let _ = f.tensor::<f32, Matrix<3, 2>>(name);
        if let Ok(t) = f.tensor::<f64, Matrix<2, 3>>(name) {
            assert_eq!(t.as_slice().len(), 6);
        }
        if let Ok(t) = f.tensor::<f32, Vector<32>>(name) {
            assert_eq!(t.as_slice().len(), 32);
        }
    }
    true
}

fn fixture() -> impl Strategy<Value = &'static [u8]> {
    prop::sample::select(FIXTURES.to_vec())
}

/// Headers assembled from plausible and implausible pieces, to get past the JSON parser.
fn header_strategy() -> impl Strategy<Value = String> {
    let dtype = prop::sample::select(vec!["F32", "F64", "I64", "BF16", "U8", "F4", "BOOL", "X"]);
    let dim = prop_oneof![
        0u64..5,
        Just(32u64),
        Just(u64::MAX),
        Just(1 << 61),
        Just((1 << 61) - 1),
        any::<u64>()
    ];
    let offset = prop_oneof![0u64..300, Just(u64::MAX), Just(1 << 63), any::<u64>()];
    let name = prop::sample::select(vec![
        "s",
        "w",
        "b",
        "w1",
        "b1",
        "w2",
        "b2",
        "__metadata__",
        "",
    ]);
    let entry = (
        name,
        dtype,
        prop::collection::vec(dim, 0..4),
        offset.clone(),
        offset,
    )
        .prop_map(|(name, dtype, dims, s, e)| {
            let dims: Vec<String> = dims.iter().map(u64::to_string).collect();
            format!(
                r#""{name}": {{"dtype": "{dtype}", "shape": [{}], "data_offsets": [{s}, {e}]}}"#,
                dims.join(", ")
            )
        });
    prop::collection::vec(entry, 0..5).prop_map(|e| format!("{{{}}}", e.join(", ")))
}

/// Headers whose byte ranges follow each other and match their shapes, as the parser
/// demands, with tensors of up to 2⁶¹ bytes, so that the ranges can add up past `u64::MAX`.
fn chained_header_strategy() -> impl Strategy<Value = String> {
    let entry = prop_oneof![
        Just(("U8", (1u64 << 61) - 1, 1u64)),
        Just(("F32", (1 << 59) - 1, 4)),
        Just(("F64", (1 << 58) - 1, 8)),
        Just(("F32", 1, 4)),
        Just(("F64", 0, 8)),
    ];
    prop::collection::vec(entry, 1..12).prop_map(|entries| {
        let mut start = 0u64;
        let fields: Vec<String> = entries
            .iter()
            .enumerate()
            .map(|(i, &(dtype, dim, width))| {
                let end = start.wrapping_add(dim * width);
                let field = format!(
                    r#""t{i}": {{"dtype": "{dtype}", "shape": [{dim}], "data_offsets": [{start}, {end}]}}"#
                );
                start = end;
                field
            })
            .collect();
        format!("{{{}}}", fields.join(", "))
    })
}

proptest! {
    #[test]
    fn chained_headers_never_panic(
        header in chained_header_strategy(),
        data in prop::collection::vec(any::<u8>(), 0..16),
    ) {
        load_everything(&file(&header, &data));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        load_everything(&bytes);
    }

    #[test]
    fn random_bytes_after_a_plausible_length_never_panic(
        len in 0u64..64,
        rest in prop::collection::vec(any::<u8>(), 0..128),
    ) {
        let mut bytes = len.to_le_bytes().to_vec();
        bytes.extend(rest);
        load_everything(&bytes);
    }

    #[test]
    fn random_headers_never_panic(
        header in header_strategy(),
        data in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        load_everything(&file(&header, &data));
    }

    #[test]
    fn truncated_files_are_errors(f in fixture(), cut in any::<prop::sample::Index>()) {
        let cut = cut.index(f.len());
        prop_assert!(!load_everything(&f[..cut]));
    }

    #[test]
    fn mutated_files_never_panic(
        f in fixture(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = f.to_vec();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        load_everything(&bytes);
    }

    #[test]
    fn files_with_bytes_inserted_or_removed_never_panic(
        f in fixture(),
        at in any::<prop::sample::Index>(),
        insert in prop::collection::vec(any::<u8>(), 0..16),
        remove in 0usize..16,
    ) {
        let mut bytes = f.to_vec();
        let i = at.index(bytes.len());
        let end = (i + remove).min(bytes.len());
        bytes.splice(i..end, insert);
        load_everything(&bytes);
    }

    #[test]
    fn saved_contexts_load_back_bit_for_bit(
        values in prop::collection::vec(any::<u32>(), 9),
        wide in prop::collection::vec(any::<u64>(), 4),
    ) {
        type G = HList![Scalar, Matrix<2, 4>];
        let x = TList::<f32, G>::try_from_flat(values.iter().map(|&b| f32::from_bits(b)).collect()).unwrap();
        let bytes = x.save_safetensors(&["a", "b"]).unwrap();
        let y = TList::<f32, G>::load_safetensors(&bytes, &["a", "b"]).unwrap();
        let back: Vec<u32> = y.slot_slices().flatten().map(|v| v.to_bits()).collect();
        prop_assert_eq!(back, values);

        let t = Tensor::<f64, Vector<4>>::try_from_vec(wide.iter().map(|&b| f64::from_bits(b)).collect()).unwrap();
        let bytes = save_tensors(&[("t", &t), ("x", &x.get(Idx::<G, Scalar>::at::<0>()))]).unwrap();
        let u = Tensor::<f64, Vector<4>>::from_safetensors(&bytes, "t").unwrap();
        prop_assert_eq!(u.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), wide);
    }
}
