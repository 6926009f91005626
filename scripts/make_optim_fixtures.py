#!/usr/bin/env python3
"""Writes tests/fixtures/optim_torch.json, the PyTorch reference runs replayed by tests/optim.rs.

    python -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy
    /tmp/torchvenv/bin/python scripts/make_optim_fixtures.py

The tests read the committed file and never run Python. The file was made with torch 2.15.0
(the PyPI wheel, run on the CPU) and numpy 2.4.6.

A parameter context of three tensors (shapes [2, 3], [3] and [], as `HList![Matrix<2, 3>,
Vector<3>, Scalar]` on the Rust side) starts from fixed values, and five fixed gradients are
fed to each optimizer in turn (the gradients do not depend on the parameters: each step sets
`p.grad` by hand and calls `opt.step()`). Some gradient entries are zero, so Adam's `eps` and
the decay of its moment estimates are exercised. For every optimizer setting and for float64
and float32 the file records the parameters after each of the five steps. The optimizers run
with `foreach=False` (PyTorch's single-tensor loop, which is also its CPU default).

Layout (every number is written as a string holding Python's `repr` of the value, the shortest
decimal that reads back as the same float64; a float32 value is written as its exact float64
value):

    {
      "torch_version": "...",
      "shapes": [[2, 3], [3], []],
      "initial": [[...6 values], [...3 values], [1 value]],
      "grads": [step 1 context, ..., step 5 context],  # each context as "initial"
      "cases": [
        {"name": "...", "optimizer": "sgd" | "adam" | "adamw",
         "config": {"lr": "...", ...},   # SGD: lr, momentum, dampening, weight_decay,
                                         # nesterov (a JSON bool); Adam(W): lr, beta1, beta2,
                                         # eps, weight_decay
         "dtype": "f64" | "f32",
         "params": [context after step 1, ..., after step 5]}
      ]
    }
"""

import json
import os

import numpy as np
import torch

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "optim_torch.json"
)

SHAPES = [[2, 3], [3], []]
STEPS = 5


def initial_values():
    rng = np.random.default_rng(20240614)
    ctx = []
    for shape in SHAPES:
        n = int(np.prod(shape)) if shape else 1
        # magnitudes in [1, 2], random signs: the parameters stay well away from 0 over the
        # five steps, so a relative comparison is meaningful
        mag = rng.uniform(1.0, 2.0, n)
        sign = rng.choice([-1.0, 1.0], n)
        ctx.append(list(mag * sign))
    return ctx


def gradient_values():
    rng = np.random.default_rng(7)
    steps = []
    for _ in range(STEPS):
        steps.append([list(rng.uniform(-1.5, 1.5, int(np.prod(s)) if s else 1)) for s in SHAPES])
    steps[0][2][0] = 0.0  # the scalar gets no gradient at step 1
    steps[2][1][0] = 0.0  # one vector entry gets none at step 3
    steps[3][0] = [0.0] * 6  # the matrix gets none at step 4
    return steps


SGD_CASES = [
    ("sgd_plain", dict(lr=0.1)),
    ("sgd_weight_decay", dict(lr=0.1, weight_decay=0.1)),
    ("sgd_momentum", dict(lr=0.05, momentum=0.9)),
    ("sgd_momentum_dampening", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("sgd_nesterov", dict(lr=0.05, momentum=0.8, nesterov=True)),
    (
        "sgd_nesterov_weight_decay",
        dict(lr=0.05, momentum=0.9, weight_decay=0.05, nesterov=True),
    ),
    ("sgd_momentum_dampening_weight_decay", dict(lr=0.03, momentum=0.5, dampening=0.5, weight_decay=0.2)),
]

ADAM_CASES = [
    ("adam_default_betas", dict(lr=0.05)),
    # 1 - beta1 >= 0.5: PyTorch's lerp takes its other branch
    ("adam_small_betas", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-6)),
    ("adam_zero_betas", dict(lr=0.02, betas=(0.0, 0.0), eps=1e-3)),
    ("adam_weight_decay", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    ("adam_large_eps", dict(lr=0.1, betas=(0.9, 0.999), eps=0.5)),
]

ADAMW_CASES = [
    ("adamw_default_decay", dict(lr=0.05)),
    ("adamw_weight_decay", dict(lr=0.05, betas=(0.8, 0.95), eps=1e-5, weight_decay=0.3)),
    ("adamw_no_decay", dict(lr=0.05, weight_decay=0.0)),
]


def run(make_opt, init, grads, dtype):
    params = [torch.tensor(v, dtype=dtype).reshape(s) for v, s in zip(init, SHAPES)]
    for p in params:
        p.requires_grad_(True)
    opt = make_opt(params)
    trace = []
    for step in grads:
        for p, g, s in zip(params, step, SHAPES):
            p.grad = torch.tensor(g, dtype=dtype).reshape(s)
        opt.step()
        trace.append([p.detach().reshape(-1).tolist() for p in params])
    return trace


def full_sgd_config(cfg):
    out = dict(lr=cfg["lr"], momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)
    out.update(cfg)
    return out


def full_adam_config(cfg, default_wd):
    out = dict(lr=cfg["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=default_wd)
    out.update(cfg)
    beta1, beta2 = out.pop("betas")
    out["beta1"], out["beta2"] = beta1, beta2
    return out


def enc(x):
    if isinstance(x, bool):
        return x
    if isinstance(x, list):
        return [enc(v) for v in x]
    return repr(float(x))


def layout(doc):
    """The JSON text of `doc`, one parameter context (all its slots) per line."""
    compact = lambda v: json.dumps(v, separators=(", ", ": "))
    lines = ["{"]
    lines.append(f' "torch_version": {compact(doc["torch_version"])},')
    lines.append(f' "shapes": {compact(doc["shapes"])},')
    lines.append(f' "initial": {compact(doc["initial"])},')
    lines.append(' "grads": [')
    lines.append(",\n".join(f"  {compact(ctx)}" for ctx in doc["grads"]))
    lines.append(" ],")
    lines.append(' "cases": [')
    cases = []
    for c in doc["cases"]:
        head = ", ".join(
            f"{compact(k)}: {compact(c[k])}" for k in ["name", "optimizer", "config", "dtype"]
        )
        params = ",\n".join(f"    {compact(ctx)}" for ctx in c["params"])
        cases.append(f'  {{{head}, "params": [\n{params}\n  ]}}')
    lines.append(",\n".join(cases))
    lines.append(" ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == doc
    return text


def main():
    init = initial_values()
    grads = gradient_values()
    cases = []
    for dtype_name, dtype in [("f64", torch.float64), ("f32", torch.float32)]:
        # float32 runs start from the float32 roundings of the same values
        for name, cfg in SGD_CASES:
            full = full_sgd_config(cfg)
            trace = run(
                lambda ps: torch.optim.SGD(ps, foreach=False, **cfg), init, grads, dtype
            )
            cases.append(dict(name=name, optimizer="sgd", config=full, dtype=dtype_name, params=trace))
        for kind, table, cls, wd in [
            ("adam", ADAM_CASES, torch.optim.Adam, 0.0),
            ("adamw", ADAMW_CASES, torch.optim.AdamW, 0.01),
        ]:
            for name, cfg in table:
                full = full_adam_config(cfg, wd)
                trace = run(lambda ps: cls(ps, foreach=False, **cfg), init, grads, dtype)
                cases.append(dict(name=name, optimizer=kind, config=full, dtype=dtype_name, params=trace))

    # the relative comparison of the tests needs parameters away from 0
    smallest = min(abs(v) for c in cases for ctx in c["params"] for slot in ctx for v in slot)
    assert smallest > 0.1, smallest

    doc = {
        "torch_version": torch.__version__,
        "shapes": SHAPES,
        "initial": enc(init),
        "grads": enc(grads),
        "cases": [
            dict(
                name=c["name"],
                optimizer=c["optimizer"],
                config={k: enc(v) for k, v in c["config"].items()},
                dtype=c["dtype"],
                params=enc(c["params"]),
            )
            for c in cases
        ],
    }
    with open(OUT, "w") as f:
        f.write(layout(doc))
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)} (smallest |p| = {smallest:.3f})")


if __name__ == "__main__":
    main()
