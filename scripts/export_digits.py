#!/usr/bin/env python3
"""Writes examples/data/digits.safetensors, the data set of `examples/cnn.rs`.

    /tmp/torchvenv/bin/pip install scikit-learn safetensors numpy
    /tmp/torchvenv/bin/python scripts/export_digits.py

Source: the "Optical Recognition of Handwritten Digits" data set of the UCI Machine Learning
Repository (E. Alpaydin, C. Kaynak, 1998; https://doi.org/10.24432/C50P49), licensed CC BY 4.0,
in the copy shipped with scikit-learn (`sklearn.datasets.load_digits`, BSD-3-Clause): 1797
images of 8x8 pixels with 17 grey levels (0..=16), labels 0..=9. This script only converts the
numbers; the committed file is a redistribution of that data under CC BY 4.0.

The file holds two F32 entries, in the order of scikit-learn:

- `images` [1797, 1, 8, 8]: the pixel values divided by 16 (in [0, 1]; NCHW, one channel);
- `labels` [1797]: the digit of every image as a float (an exact small integer).
"""

import pathlib
import sys

import numpy as np
from safetensors.numpy import save_file
from sklearn.datasets import load_digits


def main():
    out = pathlib.Path(__file__).resolve().parent.parent / "examples" / "data" / "digits.safetensors"
    if len(sys.argv) > 1:
        out = pathlib.Path(sys.argv[1])
    digits = load_digits()
    images = digits.images.astype(np.float64)
    assert images.shape == (1797, 8, 8) and images.min() >= 0 and images.max() <= 16
    assert set(np.unique(digits.target)) == set(range(10))
    tensors = {
        "images": (images / 16.0).astype(np.float32).reshape(1797, 1, 8, 8),
        "labels": digits.target.astype(np.float32),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out))
    print(f"wrote {out}: images {tensors['images'].shape}, labels {tensors['labels'].shape}")


if __name__ == "__main__":
    main()
