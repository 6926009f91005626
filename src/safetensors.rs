//! Loading and saving tensors and contexts in the [safetensors] format.
//!
//! A safetensors file is an 8-byte little-endian header length, a JSON header that gives every
//! tensor a name, a dtype, a shape and a byte range, and the little-endian data, row-major.
//! PyTorch (`safetensors.torch.save_file`), numpy (`safetensors.numpy.save_file`), JAX and
//! the Hugging Face tools read and write it; parsing is done by the `safetensors` crate.
//!
//! Here every tensor is one named entry:
//!
//! - [`Tensor::from_safetensors`] reads one entry into a `Tensor<A, S>`, and
//!   [`TList::load_safetensors`] reads a whole context, one name per slot;
//! - [`save_tensors`] writes named tensors of any shapes (f32 and f64 may be mixed), and
//!   [`TList::save_safetensors`] writes a context, one name per slot;
//! - [`TensorFile`] parses a file once and reads several entries from it;
//! - every function has a `_file` variant taking a path.
//!
//! Loading checks each entry against the static type: the dtype must be `F32` for `f32` and
//! `F64` for `f64`, and the shape must be exactly the dimensions of `S` (a [`Scalar`] is the
//! shape `[]`; no reshaping, no broadcasting). **There is no implicit conversion**: an `F32`
//! entry loaded as `f64` is a [`LoadError::Mismatch`] naming both dtypes, although widening
//! would be exact, so that a file never silently changes precision; load it as `f32` and
//! widen with `map(|&x| f64::from(x))` when that is what you want. Entries of the file that
//! are not asked for are ignored.
//!
//! Bad input is an error, never a panic: a short file, a header that is not JSON, offsets that
//! overlap or reach past the end, byte ranges that disagree with the shape, a missing name, a
//! wrong dtype or shape ([`LoadError`]). The property tests in `tests/safetensors.rs` feed
//! random, truncated and mutated files to every loader.
//!
//! ```
//! use shapetape::prelude::*;
//! use shapetape::safetensors::{LoadError, TensorFile, save_tensors};
//!
//! let w = Tensor::<f32, Matrix<2, 3>>::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
//! let s = Tensor::<f64, Scalar>::new(0.5);
//! let bytes = save_tensors(&[("w", &w), ("s", &s)]).unwrap();
//!
//! assert_eq!(Tensor::<f32, Matrix<2, 3>>::from_safetensors(&bytes, "w").unwrap(), w);
//! let file = TensorFile::parse(&bytes).unwrap();
//! assert_eq!(file.names(), ["s", "w"]);
//! assert_eq!(file.tensor::<f64, Scalar>("s").unwrap(), s);
//!
//! // The static type is checked against the file, and the error says what differs.
//! let err = file.tensor::<f32, Matrix<3, 2>>("w").unwrap_err();
//! assert_eq!(err.to_string(),
//!     "tensor `w` does not fit: expected F32 of shape [3, 2], found F32 of shape [2, 3]");
//! assert!(matches!(file.tensor::<f32, Scalar>("b"), Err(LoadError::Missing { .. })));
//!
//! // A context, one name per slot.
//! type G = HList![Matrix<2, 3>, Vector<2>];
//! let ctx: TList<f32, G> = tlist![w, Tensor::new([7.0, 8.0])];
//! let bytes = ctx.save_safetensors(&["layer.weight", "layer.bias"]).unwrap();
//! let back = TList::<f32, G>::load_safetensors(&bytes, &["layer.weight", "layer.bias"]).unwrap();
//! assert_eq!(back, ctx);
//! ```
//!
//! [safetensors]: https://huggingface.co/docs/safetensors
//! [`Scalar`]: crate::shape::Scalar

use core::fmt;
use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use ::safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, View};
use serde_json::Value;
use smallvec::SmallVec;

use crate::scalar::Element;
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tensor::{Data, Owned, Tensor, TensorBase};
use crate::tlist::TList;

/// Length of the header-length prefix.
const PREFIX: usize = 8;
/// How many available names a [`LoadError::Missing`] message lists.
const LISTED_NAMES: usize = 8;

mod sealed {
    use ::safetensors::tensor::Dtype;

    /// The encoding of an element type (not nameable outside the crate).
    pub trait Element: Sized {
        const DTYPE: Dtype;
        fn decode(bytes: &[u8]) -> Vec<Self>;
        fn encode(values: &[Self], out: &mut Vec<u8>);
    }

    impl Element for f32 {
        const DTYPE: Dtype = Dtype::F32;
        fn decode(bytes: &[u8]) -> Vec<f32> {
            // `chunks_exact(4)` yields 4-byte chunks only, so the conversion never fails.
            bytes
                .chunks_exact(4)
                .map(|c| c.try_into().map_or(0.0, f32::from_le_bytes))
                .collect()
        }
        fn encode(values: &[f32], out: &mut Vec<u8>) {
            out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        }
    }

    impl Element for f64 {
        const DTYPE: Dtype = Dtype::F64;
        fn decode(bytes: &[u8]) -> Vec<f64> {
            bytes
                .chunks_exact(8)
                .map(|c| c.try_into().map_or(0.0, f64::from_le_bytes))
                .collect()
        }
        fn encode(values: &[f64], out: &mut Vec<u8>) {
            out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        }
    }

    /// The entry a tensor writes (not nameable outside the crate).
    pub trait View {
        fn dtype(&self) -> Dtype;
        fn dims(&self) -> Vec<usize>;
        fn encode(&self, out: &mut Vec<u8>);
    }
}

/// An element type with a safetensors dtype: `f32` (`F32`) and `f64` (`F64`).
///
/// Values are stored little-endian, bit for bit (NaN payloads and `-0.0` included).
pub trait SafetensorsElement: Element + sealed::Element {
    /// The dtype as written in the header, `"F32"` or `"F64"`.
    const DTYPE_NAME: &'static str;
}

impl SafetensorsElement for f32 {
    const DTYPE_NAME: &'static str = "F32";
}

impl SafetensorsElement for f64 {
    const DTYPE_NAME: &'static str = "F64";
}

/// A tensor that [`save_tensors`] can write: any owned tensor or view with `f32` or `f64`
/// entries, used as `&dyn SafetensorsView` so that one call can write tensors of different
/// shapes and element types.
pub trait SafetensorsView: sealed::View {}

impl<D, S> sealed::View for TensorBase<D, S>
where
    D: Data,
    D::Elem: SafetensorsElement,
    S: Shape,
{
    fn dtype(&self) -> Dtype {
        <D::Elem as sealed::Element>::DTYPE
    }
    fn dims(&self) -> Vec<usize> {
        S::dims().to_vec()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        <D::Elem as sealed::Element>::encode(self.as_slice(), out);
    }
}

impl<D, S> SafetensorsView for TensorBase<D, S>
where
    D: Data,
    D::Elem: SafetensorsElement,
    S: Shape,
{
}

/// Why a file could not be loaded into the requested tensors.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// The bytes are not a valid safetensors file: too short, a header length past the end,
    /// a header that is not UTF-8 JSON of the right form, or byte ranges that overlap, leave
    /// gaps, reach past the end of the file or disagree with a tensor's shape and dtype.
    Malformed {
        /// What is wrong, naming the tensor when one is at fault.
        reason: String,
    },
    /// The file has no entry of this name.
    Missing {
        /// The name asked for.
        name: String,
        /// The names the file holds, sorted.
        available: Vec<String>,
    },
    /// The entry exists but its dtype or shape is not that of the requested tensor.
    Mismatch {
        /// The entry's name.
        name: String,
        /// The dtype of the requested element type (`"F32"` or `"F64"`).
        expected_dtype: &'static str,
        /// The dimensions of the requested shape (empty for a scalar).
        expected_dims: Vec<usize>,
        /// The dtype in the file (e.g. `"F64"`, `"BF16"`, `"I64"`).
        found_dtype: String,
        /// The shape in the file.
        found_dims: Vec<usize>,
    },
    /// A context was given a different number of names than it has slots.
    NameCount {
        /// Slots of the context.
        expected: usize,
        /// Names given.
        found: usize,
    },
    /// The file could not be read.
    Io {
        /// The path.
        path: PathBuf,
        /// The kind of I/O error.
        kind: std::io::ErrorKind,
        /// The operating system's message.
        message: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Malformed { reason } => {
                write!(f, "not a valid safetensors file: {reason}")
            }
            LoadError::Missing { name, available } => {
                write!(f, "no tensor named `{name}` in the file")?;
                if available.is_empty() {
                    return write!(f, " (it holds no tensors)");
                }
                write!(f, " (it holds ")?;
                for (i, n) in available.iter().take(LISTED_NAMES).enumerate() {
                    write!(f, "{}`{n}`", if i == 0 { "" } else { ", " })?;
                }
                if available.len() > LISTED_NAMES {
                    write!(f, " and {} more", available.len() - LISTED_NAMES)?;
                }
                write!(f, ")")
            }
            LoadError::Mismatch {
                name,
                expected_dtype,
                expected_dims,
                found_dtype,
                found_dims,
            } => write!(
                f,
                "tensor `{name}` does not fit: expected {expected_dtype} of shape \
                 {expected_dims:?}, found {found_dtype} of shape {found_dims:?}"
            ),
            LoadError::NameCount { expected, found } => write!(
                f,
                "a context with {expected} slot{} needs {expected} name{}, one per slot, but {found} {} given",
                plural(*expected),
                plural(*expected),
                if *found == 1 { "was" } else { "were" }
            ),
            LoadError::Io { path, message, .. } => {
                write!(f, "cannot read `{}`: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// Why tensors could not be saved.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SaveError {
    /// A context was given a different number of names than it has slots.
    NameCount {
        /// Slots of the context.
        expected: usize,
        /// Names given.
        found: usize,
    },
    /// Two entries were given the same name.
    DuplicateName {
        /// The repeated name.
        name: String,
    },
    /// A name the format reserves (`__metadata__`).
    ReservedName {
        /// The name.
        name: String,
    },
    /// The safetensors writer refused the entries (e.g. a header over its 100 MB limit).
    Format {
        /// The writer's message.
        reason: String,
    },
    /// The file could not be written.
    Io {
        /// The path.
        path: PathBuf,
        /// The kind of I/O error.
        kind: std::io::ErrorKind,
        /// The operating system's message.
        message: String,
    },
}

impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveError::NameCount { expected, found } => write!(
                f,
                "a context with {expected} slot{} needs {expected} name{}, one per slot, but {found} {} given",
                plural(*expected),
                plural(*expected),
                if *found == 1 { "was" } else { "were" }
            ),
            SaveError::DuplicateName { name } => {
                write!(f, "the name `{name}` is given to two tensors")
            }
            SaveError::ReservedName { name } => write!(
                f,
                "`{name}` cannot name a tensor: safetensors reserves it for the file's metadata"
            ),
            SaveError::Format { reason } => write!(f, "cannot write a safetensors file: {reason}"),
            SaveError::Io { path, message, .. } => {
                write!(f, "cannot write `{}`: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for SaveError {}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn malformed(reason: impl Into<String>) -> LoadError {
    LoadError::Malformed {
        reason: reason.into(),
    }
}

/// A parsed safetensors file, borrowing its bytes: parse once, then read entries by name.
pub struct TensorFile<'a> {
    inner: SafeTensors<'a>,
}

impl fmt::Debug for TensorFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TensorFile")
            .field("names", &self.names())
            .finish()
    }
}

impl<'a> TensorFile<'a> {
    /// Parses and validates the header of a safetensors file.
    ///
    /// An error unless the whole file is well formed: every entry's byte range must lie in the
    /// data section, match its shape and dtype, and the ranges must cover the data section
    /// without gaps or overlaps.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, LoadError> {
        let Some(prefix) = bytes.first_chunk::<PREFIX>() else {
            return Err(malformed(format!(
                "the file has {} byte{}, fewer than the {PREFIX} of the header length",
                bytes.len(),
                plural(bytes.len())
            )));
        };
        let header_len = u64::from_le_bytes(*prefix);
        let rest = bytes.len() - PREFIX;
        let header_end = usize::try_from(header_len)
            .ok()
            .filter(|&n| n <= rest)
            .ok_or_else(|| {
                malformed(format!(
                    "the header length is {header_len} bytes, but only {rest} byte{} follow it",
                    plural(rest)
                ))
            })?;
        let header = &bytes[PREFIX..PREFIX + header_end];
        let data_len = rest - header_end;
        // Our own look at the header first, for two reasons: precise messages for byte
        // ranges past the end (a truncated file), and safety: safetensors 0.8 computes
        // `end of the last range + 8 + header length` unchecked, which overflows (a panic in
        // debug builds) for ranges near `u64::MAX`. With every range inside the data section
        // that sum is at most the file length.
        let entries = header_entries(header);
        for e in &entries {
            if let Some((start, end)) = e.offsets {
                if start > data_len as u64 || end > data_len as u64 {
                    return Err(malformed(format!(
                        "tensor `{}` occupies bytes {start}..{end} of the data section, but the \
                         data section has only {data_len} byte{} (is the file truncated?)",
                        e.name,
                        plural(data_len)
                    )));
                }
            }
        }
        match SafeTensors::deserialize(bytes) {
            Ok(inner) => Ok(TensorFile { inner }),
            Err(err) => Err(explain(err, &entries, header_len, data_len)),
        }
    }

    /// The names of the file's entries, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names = self.inner.names();
        names.sort_unstable();
        names
    }

    /// The entry `name` as a tensor of shape `S`: an error unless it exists with the dtype of
    /// `A` and exactly the dimensions of `S`.
    pub fn tensor<A: SafetensorsElement, S: Shape>(
        &self,
        name: &str,
    ) -> Result<Tensor<A, S>, LoadError> {
        let values = self.values::<A>(name, &S::dims())?;
        Ok(Tensor::from_vec_unchecked(values))
    }

    /// The entry `name` with dimensions `dims` given at run time, for data whose shape is not a
    /// type (a data set of any length, say): an error unless it exists with the dtype of `A`
    /// and exactly those dimensions. The values are row-major.
    ///
    /// ```
    /// use shapetape::prelude::*;
    /// use shapetape::safetensors::{TensorFile, save_tensors};
    /// let t: Tensor<f32, Matrix<2, 3>> = Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let bytes = save_tensors(&[("x", &t)]).unwrap();
    /// let file = TensorFile::parse(&bytes).unwrap();
    /// assert_eq!(file.values_with_dims::<f32>("x", &[2, 3]).unwrap(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// assert!(file.values_with_dims::<f32>("x", &[3, 2]).is_err());
    /// ```
    pub fn values_with_dims<A: SafetensorsElement>(
        &self,
        name: &str,
        dims: &[usize],
    ) -> Result<Vec<A>, LoadError> {
        self.values(name, dims)
    }

    /// A context read from the entries `names`, one per slot in order: an error if the
    /// number of names is not `G::LEN` or any entry does not fit its slot.
    pub fn context<A: SafetensorsElement, G: ShapeList>(
        &self,
        names: &[&str],
    ) -> Result<TList<A, G>, LoadError> {
        check_load_names::<G>(names)?;
        let items = G::layout()
            .iter()
            .zip(names)
            .map(|(slot, name)| {
                let values = self.values::<A>(name, &slot.dims)?;
                Ok(Owned(SmallVec::from_vec(values)))
            })
            .collect::<Result<Vec<_>, LoadError>>()?;
        Ok(TList::from_items(items))
    }

    /// The decoded entries of `name`, checked against `A` and `dims`.
    fn values<A: SafetensorsElement>(
        &self,
        name: &str,
        dims: &[usize],
    ) -> Result<Vec<A>, LoadError> {
        let view = self.inner.tensor(name).map_err(|_| LoadError::Missing {
            name: name.to_owned(),
            available: self.names().into_iter().map(str::to_owned).collect(),
        })?;
        if view.dtype() != <A as sealed::Element>::DTYPE || view.shape() != dims {
            return Err(LoadError::Mismatch {
                name: name.to_owned(),
                expected_dtype: A::DTYPE_NAME,
                expected_dims: dims.to_vec(),
                found_dtype: view.dtype().to_string(),
                found_dims: view.shape().to_vec(),
            });
        }
        let size: usize = dims.iter().product();
        let bytes = view.data();
        // Validated by the parser; checked again so that a bug there is an error, not a panic.
        if Some(bytes.len()) != size.checked_mul(size_of::<A>()) {
            return Err(malformed(format!(
                "tensor `{name}` has {} bytes of data, but {size} {} entries take {}",
                bytes.len(),
                A::DTYPE_NAME,
                size.saturating_mul(size_of::<A>())
            )));
        }
        Ok(<A as sealed::Element>::decode(bytes))
    }
}

/// What our look at the header found about one entry.
struct HeaderEntry {
    name: String,
    offsets: Option<(u64, u64)>,
    /// Bytes the shape and dtype take, when they are well formed and the product fits.
    needed: Option<u64>,
    dtype: Option<String>,
    dims: Option<Vec<u64>>,
}

/// The entries of a header, as far as they can be read (nothing if it is not a JSON object).
fn header_entries(header: &[u8]) -> Vec<HeaderEntry> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(header) else {
        return Vec::new();
    };
    map.iter()
        .filter(|(name, _)| name.as_str() != "__metadata__")
        .map(|(name, info)| {
            let offsets = info
                .get("data_offsets")
                .and_then(Value::as_array)
                .and_then(|a| match a.as_slice() {
                    [s, e] => Some((s.as_u64()?, e.as_u64()?)),
                    _ => None,
                });
            let dims = info
                .get("shape")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().map(Value::as_u64).collect::<Option<Vec<u64>>>());
            let dtype = info.get("dtype").and_then(Value::as_str).map(str::to_owned);
            let bits = info
                .get("dtype")
                .and_then(|d| serde_json::from_value::<Dtype>(d.clone()).ok())
                .map(|d| d.bitsize() as u64);
            let needed = match (&dims, bits) {
                (Some(dims), Some(bits)) => dims
                    .iter()
                    .try_fold(1u64, |acc, &d| acc.checked_mul(d))
                    .and_then(|n| n.checked_mul(bits))
                    .map(|b| b.div_ceil(8)),
                _ => None,
            };
            HeaderEntry {
                name: name.clone(),
                offsets,
                needed,
                dtype,
                dims,
            }
        })
        .collect()
}

/// A [`LoadError`] for a parser error, with the details our look at the header can add.
fn explain(
    err: SafeTensorError,
    entries: &[HeaderEntry],
    header_len: u64,
    data_len: usize,
) -> LoadError {
    use SafeTensorError as E;
    let reason = match err {
        E::HeaderTooLarge => {
            format!("the header length {header_len} exceeds the format's limit of 100000000 bytes")
        }
        E::HeaderTooSmall | E::InvalidHeaderLength => {
            format!("the header length {header_len} does not fit the file")
        }
        E::InvalidHeader(e) => format!("the header is not UTF-8 ({e})"),
        E::InvalidHeaderDeserialization(e) | E::JsonError(e) => {
            format!("the header is not a JSON object of tensor entries ({e})")
        }
        E::TensorInvalidInfo => {
            let bad = entries.iter().find_map(|e| {
                let (s, end) = e.offsets?;
                let needed = e.needed?;
                (end.checked_sub(s) != Some(needed)).then(|| {
                    format!(
                        "tensor `{}` occupies bytes {s}..{end} of the data section ({} bytes), \
                         but {} entries of shape {:?} take {needed} bytes",
                        e.name,
                        end.saturating_sub(s),
                        e.dtype.as_deref().unwrap_or("?"),
                        e.dims.as_deref().unwrap_or(&[]),
                    )
                })
            });
            bad.unwrap_or_else(|| {
                "a tensor's byte range does not match its shape and dtype".to_owned()
            })
        }
        E::InvalidOffset(name) => {
            let range = entries
                .iter()
                .find(|e| e.name == name)
                .and_then(|e| e.offsets)
                .map(|(s, e)| format!(" {s}..{e}"))
                .unwrap_or_default();
            format!(
                "tensor `{name}` occupies bytes{range}, which do not start where the previous \
                 tensor ends (the byte ranges must cover the data section in order, without \
                 gaps or overlaps)"
            )
        }
        E::MetadataIncompleteBuffer => {
            let end = entries
                .iter()
                .filter_map(|e| e.offsets)
                .map(|(_, e)| e)
                .max();
            match end {
                Some(end) => format!(
                    "the tensors occupy {end} byte{} of data, but the data section has {data_len}",
                    plural(end as usize)
                ),
                None => format!(
                    "the file holds no tensors, but its data section has {data_len} byte{}",
                    plural(data_len)
                ),
            }
        }
        E::ValidationOverflow => {
            "a tensor's shape is so large that its size in bytes overflows".to_owned()
        }
        E::MisalignedSlice => {
            "a tensor of a sub-byte dtype does not end on a byte boundary".to_owned()
        }
        other => other.to_string(),
    };
    malformed(reason)
}

fn check_load_names<G: ShapeList>(names: &[&str]) -> Result<(), LoadError> {
    if names.len() != G::LEN {
        return Err(LoadError::NameCount {
            expected: G::LEN,
            found: names.len(),
        });
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|e| LoadError::Io {
        path: path.to_owned(),
        kind: e.kind(),
        message: e.to_string(),
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SaveError> {
    std::fs::write(path, bytes).map_err(|e| SaveError::Io {
        path: path.to_owned(),
        kind: e.kind(),
        message: e.to_string(),
    })
}

/// One entry to write.
struct Entry {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Entry {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn serialize(entries: Vec<(&str, Entry)>) -> Result<Vec<u8>, SaveError> {
    let mut seen = HashSet::with_capacity(entries.len());
    for (name, _) in &entries {
        if *name == "__metadata__" {
            return Err(SaveError::ReservedName {
                name: (*name).to_owned(),
            });
        }
        if !seen.insert(*name) {
            return Err(SaveError::DuplicateName {
                name: (*name).to_owned(),
            });
        }
    }
    ::safetensors::tensor::serialize(entries.iter().map(|(n, e)| (*n, e)), None).map_err(|e| {
        SaveError::Format {
            reason: e.to_string(),
        }
    })
}

/// Writes named tensors of any shapes, `f32` and `f64` alike, as the bytes of a safetensors
/// file (entries are written in the format's canonical order: by dtype, then by name).
///
/// An error if two tensors share a name or a name is `__metadata__`.
///
/// ```
/// use shapetape::prelude::*;
/// use shapetape::safetensors::save_tensors;
/// let w = Tensor::<f32, Matrix<2, 2>>::fill(1.0);
/// let b = Tensor::<f32, Vector<2>>::zeros();
/// let bytes = save_tensors(&[("w", &w), ("b", &b)]).unwrap();
/// assert!(save_tensors(&[("w", &w), ("w", &b)]).is_err());
/// # assert_eq!(Tensor::<f32, Vector<2>>::from_safetensors(&bytes, "b").unwrap(), b);
/// ```
pub fn save_tensors(tensors: &[(&str, &dyn SafetensorsView)]) -> Result<Vec<u8>, SaveError> {
    let entries = tensors
        .iter()
        .map(|&(name, t)| {
            let mut data = Vec::new();
            sealed::View::encode(t, &mut data);
            (
                name,
                Entry {
                    dtype: sealed::View::dtype(t),
                    shape: sealed::View::dims(t),
                    data,
                },
            )
        })
        .collect();
    serialize(entries)
}

/// [`save_tensors`] into the file at `path` (created or replaced).
pub fn save_tensors_file(
    path: impl AsRef<Path>,
    tensors: &[(&str, &dyn SafetensorsView)],
) -> Result<(), SaveError> {
    write_file(path.as_ref(), &save_tensors(tensors)?)
}

impl<A: SafetensorsElement, S: Shape> Tensor<A, S> {
    /// The entry `name` of the safetensors file `bytes`: an error unless the file is well
    /// formed and the entry exists with the dtype of `A` and exactly the dimensions of `S`
    /// (`[]` for a scalar).
    ///
    /// To read several entries, parse the file once with [`TensorFile::parse`].
    pub fn from_safetensors(bytes: &[u8], name: &str) -> Result<Self, LoadError> {
        TensorFile::parse(bytes)?.tensor(name)
    }

    /// [`Tensor::from_safetensors`] from the file at `path`.
    pub fn from_safetensors_file(path: impl AsRef<Path>, name: &str) -> Result<Self, LoadError> {
        Self::from_safetensors(&read_file(path.as_ref())?, name)
    }
}

impl<A: SafetensorsElement, G: ShapeList> TList<A, G> {
    /// The context whose slot `i` is the entry `names[i]` of the safetensors file `bytes`: an
    /// error unless there is exactly one name per slot, the file is well formed and every
    /// entry has the dtype of `A` and the dimensions of its slot.
    pub fn load_safetensors(bytes: &[u8], names: &[&str]) -> Result<Self, LoadError> {
        check_load_names::<G>(names)?;
        TensorFile::parse(bytes)?.context(names)
    }

    /// [`TList::load_safetensors`] from the file at `path`.
    pub fn load_safetensors_file(
        path: impl AsRef<Path>,
        names: &[&str],
    ) -> Result<Self, LoadError> {
        check_load_names::<G>(names)?;
        Self::load_safetensors(&read_file(path.as_ref())?, names)
    }

    /// The bytes of a safetensors file holding slot `i` under the name `names[i]`: an error
    /// unless there is exactly one name per slot and the names are distinct.
    pub fn save_safetensors(&self, names: &[&str]) -> Result<Vec<u8>, SaveError> {
        if names.len() != G::LEN {
            return Err(SaveError::NameCount {
                expected: G::LEN,
                found: names.len(),
            });
        }
        let entries = G::layout()
            .into_iter()
            .zip(self.slot_slices())
            .zip(names)
            .map(|((slot, values), &name)| {
                let mut data = Vec::with_capacity(size_of_val(values));
                <A as sealed::Element>::encode(values, &mut data);
                (
                    name,
                    Entry {
                        dtype: <A as sealed::Element>::DTYPE,
                        shape: slot.dims,
                        data,
                    },
                )
            })
            .collect();
        serialize(entries)
    }

    /// [`TList::save_safetensors`] into the file at `path` (created or replaced).
    pub fn save_safetensors_file(
        &self,
        path: impl AsRef<Path>,
        names: &[&str],
    ) -> Result<(), SaveError> {
        write_file(path.as_ref(), &self.save_safetensors(names)?)
    }
}
