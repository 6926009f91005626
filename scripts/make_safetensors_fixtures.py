#!/usr/bin/env python3
"""Writes the safetensors fixtures of tests/safetensors.rs into tests/fixtures/.

    python -m venv /tmp/st && /tmp/st/bin/pip install safetensors numpy torch
    /tmp/st/bin/python scripts/make_safetensors_fixtures.py

The tests read the committed files and never run Python. Every value is given by a formula
that the tests repeat, so the files can be regenerated and compared. The fixtures were made
with safetensors 0.8.0, numpy 2.4.6 and torch 2.15.0 (CPU). Without torch only the numpy
files are written.

Files:

numpy_f64.safetensors  (safetensors.numpy.save_file, float64)
    "w"      [2, 3]     w[i, j] = (3 i + j - 2) / 4
    "b"      [3]        0.1, -0.2, 0.3
    "s"      []         2.5 (a 0-d array: the scalar shape)
    "empty"  [0]
    "cube"   [2, 3, 4]  (12 i + 4 j + k) / 8 - 1
numpy_f32.safetensors  (safetensors.numpy.save_file, float32): the same names and values
torch_mixed.safetensors  (safetensors.torch.save_file)
    "linear.weight"  F32  [3, 2]  the weight of torch.nn.Linear(2, 3) set to (2 o + i - 2) / 4:
                                  row o holds the weights into output o (PyTorch's layout)
    "linear.bias"    F32  [3]     0.1, -0.2, 0.3
    "scale"          F32  []      2.5
    "weight64"       F64  [2, 3]  as "w" above
    "steps"          I64  [3]     1, 2, 3
    "half"           BF16 [2]     1.0, -2.0
torch_mlp.safetensors  (safetensors.torch.save_file)
    "w1" F32 [32, 2], "b1" F32 [32], "w2" F32 [2, 32], "b2" F32 [2]: the parameters of
    torch.nn.Sequential(Linear(2, 32), Tanh(), Linear(32, 2)) with PyTorch's default
    initialisation after torch.manual_seed(0), renamed from "0.weight", "0.bias", "2.weight",
    "2.bias": loadable with `cargo run --example mlp -- --weights tests/fixtures/torch_mlp.safetensors`.
"""

import os
import sys

import numpy as np
from safetensors.numpy import save_file as save_numpy

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def numpy_entries(dtype):
    i, j = np.meshgrid(np.arange(2), np.arange(3), indexing="ij")
    c = np.arange(24).reshape(2, 3, 4)
    return {
        "w": ((3 * i + j - 2) / 4).astype(dtype),
        "b": np.array([0.1, -0.2, 0.3], dtype=dtype),
        "s": np.array(2.5, dtype=dtype),
        "empty": np.zeros((0,), dtype=dtype),
        "cube": (c / 8 - 1).astype(dtype),
    }


def write_numpy():
    for name, dtype in [("numpy_f64", np.float64), ("numpy_f32", np.float32)]:
        path = os.path.join(OUT, name + ".safetensors")
        save_numpy(numpy_entries(dtype), path)
        print("wrote", os.path.relpath(path))


def write_torch():
    try:
        import torch
        from safetensors.torch import save_file as save_torch
    except ImportError:
        print("torch is not installed: the torch fixtures were not written", file=sys.stderr)
        return
    linear = torch.nn.Linear(2, 3)
    with torch.no_grad():
        o, i = torch.meshgrid(torch.arange(3), torch.arange(2), indexing="ij")
        linear.weight.copy_((2 * o + i - 2) / 4)
        linear.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    entries = {f"linear.{k}": v.detach().contiguous() for k, v in linear.state_dict().items()}
    entries["scale"] = torch.tensor(2.5, dtype=torch.float32)
    entries["weight64"] = torch.from_numpy(numpy_entries(np.float64)["w"]).contiguous()
    entries["steps"] = torch.tensor([1, 2, 3], dtype=torch.int64)
    entries["half"] = torch.tensor([1.0, -2.0], dtype=torch.bfloat16)
    path = os.path.join(OUT, "torch_mixed.safetensors")
    save_torch(entries, path)
    print("wrote", os.path.relpath(path))

    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    rename = {"0.weight": "w1", "0.bias": "b1", "2.weight": "w2", "2.bias": "b2"}
    entries = {rename[k]: v.detach().contiguous() for k, v in mlp.state_dict().items()}
    path = os.path.join(OUT, "torch_mlp.safetensors")
    save_torch(entries, path)
    print("wrote", os.path.relpath(path))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write_numpy()
    write_torch()
