//! Errors for run-time checked operations (tensor construction, element access).
//!
//! **Mathematics.** A tensor of shape `[d₀, …, d_{r−1}]` holds exactly `d₀ ⋯ d_{r−1}` entries
//! (one for a scalar), and a multi-index `(i₀, …, i_{r−1})` addresses one of them iff it has
//! `r` components and `0 ≤ iₖ < dₖ` for every `k`, namely the entry at the row-major offset
//! `Σₖ iₖ · dₖ₊₁ ⋯ d_{r−1}`; a context holds the sum of the sizes of its slots. These errors
//! report a violation found at run time: [`ShapeError`] and [`ContextError`] a buffer of the
//! wrong length, [`IndexError`] a multi-index outside the box `Πₖ [0, dₖ)`.

use core::fmt;

/// A flat buffer of the wrong length was offered for a tensor shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// Dimensions of the requested shape.
    pub dims: Vec<usize>,
    /// Entries the shape holds.
    pub expected: usize,
    /// Entries that were supplied.
    pub actual: usize,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot build a tensor of shape {:?} from {} values: that shape holds exactly {} entries",
            self.dims, self.actual, self.expected
        )
    }
}

impl std::error::Error for ShapeError {}

/// A multi-index that does not address an entry of a tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexError {
    /// Dimensions of the tensor.
    pub dims: Vec<usize>,
    /// The offending multi-index.
    pub index: Vec<usize>,
}

impl fmt::Display for IndexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.index.len() != self.dims.len() {
            write!(
                f,
                "index {:?} has {} component{}, but a tensor of shape {:?} needs {}",
                self.index,
                self.index.len(),
                if self.index.len() == 1 { "" } else { "s" },
                self.dims,
                self.dims.len()
            )
        } else {
            write!(
                f,
                "index {:?} is out of bounds for a tensor of shape {:?}",
                self.index, self.dims
            )
        }
    }
}

impl std::error::Error for IndexError {}

/// A flat buffer of the wrong length was offered for a whole context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextError {
    /// Dimensions of every slot of the context, in order.
    pub slots: Vec<Vec<usize>>,
    /// Entries the context holds (all slots together).
    pub expected: usize,
    /// Entries that were supplied.
    pub actual: usize,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot build a context with slots of shapes {:?} from {} values: it holds exactly {} entries",
            self.slots, self.actual, self.expected
        )
    }
}

impl std::error::Error for ContextError {}
