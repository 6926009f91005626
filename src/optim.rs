//! Optimizers that update a parameter context in place.
