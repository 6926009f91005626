//! Convolution and pooling (NCHW, PyTorch layouts).
