#!/usr/bin/env python3
"""Checks the gradient written by `examples/mlp.rs --grads-out` against numpy (and PyTorch).

    pip install safetensors numpy          # torch too, for the second check (optional)
    python scripts/check_mlp_grads.py --make-weights /tmp/w0.safetensors
    cargo run --release --example mlp -- --weights /tmp/w0.safetensors --grads-out /tmp/g.safetensors
    python scripts/check_mlp_grads.py /tmp/w0.safetensors /tmp/g.safetensors

The weights file holds the initial parameters w1 [32, 2], b1 [32], w2 [2, 32], b2 [2] (F32,
weights [outputs, inputs] as in torch.nn.Linear); the gradient file holds the gradient of the
loss with respect to them under the same names, the batch x [25, 2] and t [25, 2] (one-hot),
and the loss. The network is h = tanh(x w1^T + b1), z = h w2^T + b2, and the loss the mean over
the 25 rows of the cross-entropy -sum_c t[r, c] log softmax(z[r])_c.

The loss and gradient are recomputed in float64 from the weights and the batch, by hand with
numpy and with torch.autograd if torch is installed, and the largest differences are printed.
The exit status is 1 if a difference exceeds 1e-5 (the Rust run is in float32).
"""

import sys

import numpy as np
from safetensors.numpy import load_file, save_file

NAMES = ["w1", "b1", "w2", "b2"]
TOLERANCE = 1e-5


def make_weights(path, seed=0):
    """Uniform ±1/sqrt(fan_in) initial parameters, as torch.nn.Linear draws them."""
    rng = np.random.default_rng(seed)
    shapes = {"w1": (32, 2), "b1": (32,), "w2": (2, 32), "b2": (2,)}
    fan_in = {"w1": 2, "b1": 2, "w2": 32, "b2": 32}
    params = {
        k: rng.uniform(-1, 1, size=s).astype(np.float32) / np.float32(np.sqrt(fan_in[k]))
        for k, s in shapes.items()
    }
    save_file(params, path)
    print(f"wrote initial parameters to {path}")


def numpy_gradient(p, x, t):
    """Loss and gradient by hand: forward pass, then the chain rule backwards."""
    rows = x.shape[0]
    h = np.tanh(x @ p["w1"].T + p["b1"])
    z = h @ p["w2"].T + p["b2"]
    zs = z - z.max(axis=1, keepdims=True)
    log_softmax = zs - np.log(np.exp(zs).sum(axis=1, keepdims=True))
    loss = -(t * log_softmax).sum() / rows
    dz = (np.exp(log_softmax) * t.sum(axis=1, keepdims=True) - t) / rows
    da = (dz @ p["w2"]) * (1 - h**2)
    grads = {"w2": dz.T @ h, "b2": dz.sum(axis=0), "w1": da.T @ x, "b1": da.sum(axis=0)}
    return loss, grads


def torch_gradient(p, x, t):
    import torch

    params = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    xt, tt = torch.tensor(x), torch.tensor(t)
    h = torch.tanh(xt @ params["w1"].T + params["b1"])
    z = h @ params["w2"].T + params["b2"]
    loss = -(tt * torch.log_softmax(z, dim=1)).sum() / x.shape[0]
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in params.items()}


def compare(label, loss, grads, rust):
    worst = abs(loss - float(rust["loss"]))
    print(f"{label}: loss {loss:.9f} (Rust {float(rust['loss']):.9f}, |diff| {worst:.2e})")
    for k in NAMES:
        diff = np.abs(grads[k] - rust[k].astype(np.float64))
        scale = max(np.abs(grads[k]).max(), 1e-30)
        print(f"  d loss / d {k:2} {str(list(grads[k].shape)):8}  max |diff| {diff.max():.2e}"
              f"  (largest entry {scale:.2e}, relative {diff.max() / scale:.2e})")
        worst = max(worst, diff.max())
    return worst


def main(argv):
    if len(argv) == 2 and argv[0] == "--make-weights":
        make_weights(argv[1])
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    weights = load_file(argv[0])
    rust = load_file(argv[1])
    p = {k: weights[k].astype(np.float64) for k in NAMES}
    x, t = rust["x"].astype(np.float64), rust["t"].astype(np.float64)
    for k in NAMES:
        assert rust[k].shape == weights[k].shape, f"{k}: {rust[k].shape} vs {weights[k].shape}"

    worst = compare("numpy", *numpy_gradient(p, x, t), rust)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch is not installed: skipping the torch.autograd check")
    else:
        worst = max(worst, compare("torch.autograd", *torch_gradient(p, x, t), rust))
    print(f"largest difference {worst:.2e} (tolerance {TOLERANCE:.0e})")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
