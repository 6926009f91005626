#!/usr/bin/env python3
"""The training step of `benches/transformer.rs` in PyTorch eager, on one thread.

The model of `examples/support/transformer_model.rs`: token embedding plus learned positions,
two pre-norm blocks (layer_norm, a QKV linear split into 4 causal heads of width 8,
scaled_dot_product_attention, an output linear, residual; layer_norm, 32 -> 128 GELU (tanh
form) -> 32, residual), a final layer_norm and the logits; the loss is the mean cross-entropy of
the 8 answer rows of each of 32 sequences of 16 tokens; f32; Adam (lr 3e-3, betas (0.9, 0.98),
eps 1e-8). One step is zero_grad, forward, backward and the Adam step; the script prints the
median time per step after a warm-up, with a breakdown by phase.

    /tmp/torchvenv/bin/python peers/torch_transformer.py [--steps N] [--warmup N]
        [--batch FILE] [--rust-us US]

--batch FILE   initial parameters and batch written by `SAVE_BATCH=FILE cargo bench --bench
               transformer` (safetensors): the losses of the first 5 steps are printed, to
               compare with the bench's line
--rust-us US   shapetape's step time in microseconds (the bench prints it): prints the ratio

Not run by CI (it needs PyTorch).
"""

import argparse
import json
import statistics
import struct
import time

import torch
import torch.nn.functional as F
from torch import nn

VOCAB, SEP, DIGITS = 11, 10, 8
SEQ = 2 * DIGITS
MODEL, HEADS, HIDDEN = 32, 4, 128
HEAD_DIM = MODEL // HEADS
BATCH = 32
LN_EPS = 1e-5


class Block(nn.Module):
    """x + attn(ln1 x), then . + fc2 gelu(fc1 ln2 .)."""

    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(MODEL, eps=LN_EPS)
        self.attn = nn.Module()
        self.attn.qkv = nn.Linear(MODEL, 3 * MODEL)
        self.attn.out = nn.Linear(MODEL, MODEL)
        self.ln2 = nn.LayerNorm(MODEL, eps=LN_EPS)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(MODEL, HIDDEN)
        self.mlp.fc2 = nn.Linear(HIDDEN, MODEL)

    def forward(self, x):
        b = x.shape[0]
        # [B, SEQ, 3D] -> [B, SEQ, 3H, Dh] -> [B, 3H, SEQ, Dh]: heads 0..H are the queries,
        # H..2H the keys, 2H..3H the values (the layout of the shapetape model).
        qkv = self.attn.qkv(self.ln1(x)).view(b, SEQ, 3 * HEADS, HEAD_DIM).transpose(1, 2)
        q, k, v = qkv[:, :HEADS], qkv[:, HEADS : 2 * HEADS], qkv[:, 2 * HEADS :]
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        a = a.transpose(1, 2).reshape(b, SEQ, MODEL)
        x = x + self.attn.out(a)
        h = self.mlp.fc2(F.gelu(self.mlp.fc1(self.ln2(x)), approximate="tanh"))
        return x + h


class Transformer(nn.Module):
    """The parameters carry the names of the shapetape model's `PARAM_NAMES`."""

    def __init__(self):
        super().__init__()
        self.tok_emb = nn.Embedding(VOCAB, MODEL)
        self.pos_emb = nn.Parameter(torch.randn(SEQ, MODEL))
        self.blocks = nn.ModuleList([Block(), Block()])
        self.ln_f = nn.LayerNorm(MODEL, eps=LN_EPS)
        self.unembed = nn.Linear(MODEL, VOCAB)

    def forward(self, tokens, targets):
        x = self.tok_emb(tokens) + self.pos_emb
        for block in self.blocks:
            x = block(x)
        z = self.unembed(self.ln_f(x))
        answer = z[:, DIGITS:].reshape(-1, VOCAB)
        return F.cross_entropy(answer, targets)


def load_safetensors(path):
    """The f32 tensors of a safetensors file, by name."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} is {entry['dtype']}, not F32")
        lo, hi = entry["data_offsets"]
        data = bytearray(raw[8 + n + lo : 8 + n + hi])
        out[name] = torch.frombuffer(data, dtype=torch.float32).reshape(entry["shape"])
    return out


def random_batch(gen):
    """Random questions: tokens q0..q7 SEP r0..r6, targets r0..r7 (r the digits reversed)."""
    q = torch.randint(0, 10, (BATCH, DIGITS), generator=gen)
    r = q.flip(1)
    sep = torch.full((BATCH, 1), SEP)
    tokens = torch.cat([q, sep, r[:, : DIGITS - 1]], dim=1)
    return tokens, r.reshape(-1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="timed steps (default 300)")
    parser.add_argument("--warmup", type=int, default=30, help="untimed steps first (default 30)")
    parser.add_argument("--batch", help="safetensors file of `SAVE_BATCH=FILE cargo bench`")
    parser.add_argument("--rust-us", type=float, help="shapetape's step time, microseconds")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.manual_seed(2025)
    model = Transformer()
    if args.batch:
        tensors = load_safetensors(args.batch)
        tokens = tensors.pop("tokens").long().reshape(BATCH, SEQ)
        targets = tensors.pop("targets").long()
        model.load_state_dict(tensors, strict=True)
    else:
        tokens, targets = random_batch(torch.Generator().manual_seed(2025))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, betas=(0.9, 0.98), eps=1e-8)
    count = sum(p.numel() for p in model.parameters())

    def step():
        """One training step; returns the loss and the times of its phases."""
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(tokens, targets)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        return loss, (t1 - t0, t2 - t1, t3 - t2, t3 - t0)

    losses = [f"{step()[0].item():.6f}" for _ in range(5)]
    print(
        f"PyTorch {torch.__version__} eager, {torch.get_num_threads()} thread: transformer "
        f"training step, batch {BATCH}x{SEQ} tokens, {count} parameters, f32, Adam; "
        f"losses of steps 1-5 on one batch: {' '.join(losses)}"
    )
    for _ in range(args.warmup):
        step()
    times = [step()[1] for _ in range(args.steps)]
    median = [statistics.median(t[i] for t in times) * 1e6 for i in range(4)]
    print(f"median of {args.steps} steps after {args.warmup + 5} warm-up steps:")
    for name, us in zip(
        ["zero_grad + forward", "backward", "Adam step", "training step"], median
    ):
        print(f"  {name:<24} {us:>10.1f} us")
    if args.rust_us is not None:
        print(f"  shapetape / PyTorch      {args.rust_us / median[3]:>10.3f}  (goal <= 1)")


if __name__ == "__main__":
    main()
