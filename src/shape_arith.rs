//! Type-level shape arithmetic on stable Rust (typenum).
