//! Entrywise activations and scalar functions beyond the core set (issue: the op library).
