//! Shape ops: reshape, flatten, transpose/permute, concat, stack, slice, broadcast.
