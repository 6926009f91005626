#!/usr/bin/env python3
"""The two convolutions of `benches/conv.rs` in PyTorch eager, on one thread.

x: 64 x 1 x 28 x 28 (f32, no gradient), conv2d 1 -> 6 channels 5 x 5 with bias, then conv2d
6 -> 16 channels 5 x 5 with bias (stride 1, no padding, no activation in between); the
backward pass is y.backward(seed) for a dense seed on the 64 x 16 x 20 x 20 output, so each
step computes the output and the gradients of the four parameters (what the bench's
`backprop_prefix::<Params>` returns). With --with-dx the input also requires a gradient (the
bench's `backprop_ctx`). The script prints the median time per step after a warm-up.

    /tmp/torchvenv/bin/python peers/torch_conv.py [--steps N] [--warmup N] [--with-dx]
        [--rust-us US]

--rust-us US   shapetape's time per step in microseconds (the bench prints it): prints the
               ratio shapetape / PyTorch (goal: <= 1, not slower)

Not run by CI (it needs PyTorch).
"""

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

N, H, C1, C2, K = 64, 28, 6, 16, 5


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="timed steps (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first (default 20)")
    parser.add_argument("--with-dx", action="store_true", help="also the gradient of the input")
    parser.add_argument("--rust-us", type=float, help="shapetape's step time, microseconds")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.manual_seed(2025)
    w1 = (torch.rand(C1, 1, K, K) * 2 - 1).mul_(0.4).requires_grad_()
    b1 = (torch.rand(C1) * 0.2 - 0.1).requires_grad_()
    w2 = (torch.rand(C2, C1, K, K) * 2 - 1).mul_(0.14).requires_grad_()
    b2 = (torch.rand(C2) * 0.2 - 0.1).requires_grad_()
    x = torch.rand(N, 1, H, H).requires_grad_(args.with_dx)
    params = [w1, b1, w2, b2]
    seed = torch.rand(N, C2, H - 2 * (K - 1), H - 2 * (K - 1)) * 2 - 1

    def step():
        """Forward and backward; returns the time of each phase."""
        t0 = time.perf_counter()
        for p in params:
            p.grad = None
        x.grad = None
        y = F.conv2d(F.conv2d(x, w1, b1), w2, b2)
        t1 = time.perf_counter()
        y.backward(seed)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, t2 - t0

    for _ in range(args.warmup):
        step()
    times = [step() for _ in range(args.steps)]
    median = [statistics.median(t[i] for t in times) * 1e6 for i in range(3)]
    what = "parameter grads + dx" if args.with_dx else "parameter grads"
    print(
        f"PyTorch {torch.__version__} eager, {torch.get_num_threads()} thread: conv2d "
        f"{N}x1x{H}x{H} -> {C1} -> {C2} channels, {K}x{K}, f32, forward + backward ({what}), "
        f"oneDNN (mkldnn) available: {torch.backends.mkldnn.is_available()}; "
        f"median of {args.steps} steps after {args.warmup} warm-up steps:"
    )
    for name, us in zip(["forward", "backward", "forward + backward"], median):
        print(f"  {name:<24} {us:>10.1f} us")
    if args.rust_us is not None:
        print(f"  shapetape / PyTorch      {args.rust_us / median[2]:>10.3f}  (goal <= 1)")


if __name__ == "__main__":
    main()
