//! Empty: the peer comparisons are the bench `benches/peers.rs`.
