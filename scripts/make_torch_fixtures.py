#!/usr/bin/env python3
"""Writes tests/fixtures/torch_ops.json, the PyTorch oracle replayed by tests/torch_oracle.rs.

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy
    /tmp/torchvenv/bin/python scripts/make_torch_fixtures.py

The tests read the committed file and never run Python. The file was made with torch 2.15.0
(the PyPI wheel, run on the CPU) and numpy 2.4.6; both versions are recorded in the file.

For every op of the library and a few shape configurations (a size-1 axis, odd sizes, and a
case of special values where the op has any: zeros, exact kinks, saturation), the script draws
inputs with a numpy generator seeded by the case's name (so adding a case changes no other),
a tangent for every differentiable input and a cotangent seed for the output, and records, in
float64, PyTorch's forward value, its JVP (`torch.func.jvp`) and its VJP (`torch.func.vjp`)
for every input.

Inputs that hold class or token indices (nll_loss, cross_entropy_with_integer_labels,
embedding) are exact integers written as floats (shapetape reads them from a float slot); the
PyTorch function receives them as a LongTensor. They get a zero tangent, and their VJP is
recorded as zero (shapetape's VJP does not touch an index slot).

Conventions at kinks, compared with PyTorch (the script asserts each one, so a PyTorch release
that changed its convention would stop the script instead of writing a different oracle):

* relu at 0: derivative 0 in both (`threshold_backward` passes the gradient where x > 0).
  Included in the fixture (`relu/special`).
* safe_log `log(max(x, eps))` at x = eps: shapetape's derivative is 0 there (the clamp is
  active at equality); `torch.clamp(x, min=eps)` with a Python number as the bound also gives
  0 (its mask is x > eps). Included (`safe_log/special`). (With a tensor bound, torch.clamp
  splits the gradient in two at the tie, like torch.maximum; not used here.)
* huber_loss at |p - t| = delta: the loss is C^1 there, both sides give +-delta. Included
  (`huber_loss/special`).
* abs at 0 and l1_loss where p = t: subgradient 0 (sign(0) = 0) in both. Included.
* leaky_relu at 0: derivative = the slope, in both; elu at 0: derivative alpha, in both.
  Included (`leaky_relu/special`, `elu/special`).
* clamp at either limit (Python numbers as limits): derivative 0 in both; with equal limits it
  is 0 everywhere. Included (`clamp/special`, `clamp/equal_limits`).
* maximum / minimum at a tie: the gradient is split in two halves in both (so maximum(x, x)
  has derivative 1). Included (`maximum/ties`, `maximum/alias`, and the same for minimum).
* max_axis at a tie (`torch.amax`): the gradient is split evenly among the maximal entries
  of the line, and the JVP is the mean of their tangents, in both (signed zeros tie: -0.0 ==
  0.0). Included (`max_axis/ties`: ties of 3, 5 and 3 entries, the last of signed zeros).
* powi with n = 0: derivative 0 in both. Included.
* max_pool2d at a tie within a window: the whole gradient goes to the first maximal entry of
  the window in row-major order (the index PyTorch returns), and the JVP is that entry's
  tangent, in both. Included (`max_pool2d/ties`: windows with ties of 2, 4, 4 and 4 entries).
* sqrt at 0: derivative +inf in both; left out (`sqrt/special` starts at 1e-300).
* kl_div where the target t is 0: the term is 0 in both, and the gradient for x is -t = 0 in
  both; the gradient for t is -inf in shapetape (log 0 - x + 1, documented) and NaN in PyTorch
  (xlogy's derivative 0/0), and both JVPs are NaN. The case `kl_div/zero_targets` therefore
  lists "jvp" and "vjp1" in "skip": only the forward value and the VJP for x are compared.

Semantic adaptations (the PyTorch call matches shapetape's documented meaning):

* softplus: `F.softplus(x, threshold=100)`. PyTorch's default threshold 20 returns x itself
  for x > 20, which differs from log(1 + e^x) by up to e^-20 (a relative 4e-11, more than the
  test's tolerance); shapetape computes log(1 + e^x) without a threshold.
* cross_entropy (probability targets) and the class axis: shapetape's classes are the last
  axis and the loss is averaged over all other entries (rows); PyTorch's class axis is 1, so a
  3-d input is flattened to rows first: `F.cross_entropy(z.reshape(-1, C), t.reshape(-1, C))`.
  A 1-d input is PyTorch's unbatched form (one row), as in shapetape.
* kl_div (reduction='batchmean'): PyTorch divides by size(0), shapetape by the number of rows
  (entries over the last axis). They agree for matrices; a 1-d input is passed to PyTorch as
  one row, `x[None]`, `t[None]` (PyTorch would divide a 1-d input's sum by its length).
* batch_norm_inference: PyTorch's `F.batch_norm(training=False)` is not differentiable in its
  running statistics, which are inputs in shapetape. The reference is the formula
  `(x - m) / sqrt(v + eps) * g + b` written in torch; the script checks that its value and its
  VJP for x, g and b agree with `F.batch_norm(x, m, v, g, b, training=False, eps=eps)` to 1e-14.
* rms_norm over one feature: y = g x / sqrt(x^2 + eps) has derivative g eps / (x^2 + eps)^(3/2),
  which both libraries compute as a difference of two terms of size g / |x|, with a relative
  rounding error of about (x^2 / eps) 2^-53 (with eps = 1e-6 and x = 0.25, 0.73, both were
  about 1e-11 away from the exact value). The size-1 case uses eps = 0.1, where this is well
  conditioned.
* batch_norm (training): PyTorch refuses a batch of 1 ("Expected more than 1 value per
  channel"), so the size-1 axis is the feature axis.
* scaled_dot_product_attention: run with PyTorch's math backend
  (`sdpa_kernel(SDPBackend.MATH)`; the fused CPU kernel has no forward-mode derivative).
  Shapetape's inputs are `Dim<BT, Matrix<T, D>>` (batch x heads flattened onto one leading
  axis), PyTorch's [BT, T, D]; `is_causal=True` is the top-left aligned mask tril(ones(T, S))
  in both, also for T != S.
* global_avg_pool2d (shapetape's output is the matrix [N, C]) is
  `F.adaptive_avg_pool2d(x, 1).flatten(1)`. The convolutions and pools record their constants
  (stride, padding, dilation, groups, window, output size) in "params" for reading only;
  avg_pool2d is called with `count_include_pad=True` (PyTorch's default) spelled out.
* gelu is the tanh form in shapetape: `F.gelu(x, approximate="tanh")`; gelu_erf is the exact
  form, PyTorch's default `F.gelu(x)`. powi(x, n) is
  `torch.pow(x, n)` with a Python int.

A case named `alias` (or `alias_...`) passes its one input as both operands: `add(x, x)` in
shapetape, `f(x, x)` in PyTorch, so the VJP adds both contributions. The constants of the shape
ops and of the ops along an axis (axes, target shapes) are recorded in "params" for reading
only: the Rust test has them in its types.

Adding an op: add it to OPS below (a name, the PyTorch function of the inputs in shapetape's
slot order and the constants, and its cases), rerun this script, and add one line per case to
the registry of tests/torch_oracle.rs (and the op to one of its families).

Layout (every number is a string holding Python's `repr` of a float64, the shortest decimal
that reads back as the same value; shapes are lists of ints, [] for a scalar; every tensor is
flattened in row-major order):

    {
      "torch_version": "...", "numpy_version": "...",
      "cases": [
        {"op": "relu", "case": "v7",
         "params": {"eps": "0.001", "causal": true, ...},  # the op's constants, if any
         "shapes": [[7]], "out_shape": [7],
         "diff": [true],            # false: an index input (zero tangent, zero VJP)
         "inputs": [[...]], "tangents": [[...]], "cotangent": [...],
         "forward": [...], "jvp": [...], "vjp": [[...], ...],   # one VJP per input
         "skip": [],                # quantities not compared: "jvp", "vjp<i>" (see above)
         "note": "..."}             # why, when "skip" is not empty
      ]
    }
"""

import json
import os
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import jvp, vjp
from torch.nn.attention import SDPBackend, sdpa_kernel

torch.set_default_dtype(torch.float64)

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "torch_ops.json"
)

# ------------------------------------------------------------------------------- input kinds


class Input:
    """One input slot: its shape, how its values are drawn, and whether it is differentiable."""

    def __init__(self, shape, draw, diff=True, index=False):
        self.shape = list(shape)
        self.draw = draw
        self.diff = diff
        self.index = index


def normal(*shape, scale=1.0):
    return Input(shape, lambda rng, s: scale * rng.standard_normal(s))


def uniform(lo, hi, *shape):
    return Input(shape, lambda rng, s: rng.uniform(lo, hi, s))


def prob(*shape):
    """Rows (over the last axis) of a probability distribution, every entry > 0."""

    def draw(rng, s):
        z = rng.standard_normal(s)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    return Input(shape, draw)


def logprob(*shape):
    """Rows of log-probabilities (a log-softmax of normal draws)."""

    def draw(rng, s):
        z = rng.standard_normal(s)
        m = z.max(axis=-1, keepdims=True)
        return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))

    return Input(shape, draw)


def index(n, *shape):
    """Exact integers in 0..n: class or token indices (not differentiable)."""
    return Input(shape, lambda rng, s: rng.integers(0, n, s).astype(np.float64), False, True)


def given(values, shape=None, is_index=False):
    """Fixed values (special values, or indices chosen to repeat)."""
    arr = np.array(values, dtype=np.float64)
    if shape is not None:
        arr = arr.reshape(shape)
    return Input(arr.shape, lambda rng, s: arr.copy(), not is_index, is_index)


def case(name, *inputs, params=None, skip=(), note="", alias=False):
    """One shape configuration; `alias`: the op's two operands are the one input slot."""
    return dict(
        name=name, inputs=list(inputs), params=params or {}, skip=list(skip), note=note, alias=alias
    )


# ------------------------------------------------------------------------------------- ops
# Each op: (name, fn, cases); fn(*tensors, **params) in slot order (index slots as LongTensor).

def UNARY_SHAPES():
    return [case("v7", normal(7)), case("m1x5", normal(1, 5)), case("t2x1x3", normal(2, 1, 3))]


def pair(kind_a, kind_b, shapes):
    return [case(n, kind_a(*s), kind_b(*s)) for n, s in shapes]


def ALIAS():
    return case("alias", normal(5), alias=True)


def special(*values):
    return case("special", given(values))


PAIR_SHAPES = [("v7", (7,)), ("m1x5", (1, 5)), ("t2x1x3", (2, 1, 3))]


def AXIS_CASES():
    """The cases of the ops along an axis: every axis of a matrix and of a rank-3 tensor, and
    a size-1 axis (reduced between an outer and an inner dimension)."""
    return [
        case(f"{name}_ax{axis}", normal(*shape), params={"axis": axis})
        for name, shape, axis in [
            ("m3x5", (3, 5), 0),
            ("m3x5", (3, 5), 1),
            ("t2x3x5", (2, 3, 5), 0),
            ("t2x3x5", (2, 3, 5), 1),
            ("t2x3x5", (2, 3, 5), 2),
            ("t3x1x5", (3, 1, 5), 1),
        ]
    ]


def AXIS_SPECIAL():
    """Large logits along axis 0 (the transpose of the last-axis softmax's special case)."""
    return case(
        "special_ax0", given([[1000.0, 0.0], [999.0, 0.0], [-1000.0, 0.0]]), params={"axis": 0}
    )


# max_axis/ties (axis 1): a tie of 3 (a split that is not a power of two), of 5, and of the
# signed zeros -0.0, 0.0, -0.0
MAX_TIES = [
    [1.0, 3.0, 3.0, -2.0, 3.0],
    [2.0, 2.0, 2.0, 2.0, 2.0],
    [-0.0, 0.0, -1.0, -0.0, -2.0],
]


def softplus_ref(x):
    return F.softplus(x, beta=1.0, threshold=100.0)


def safe_log_ref(x, eps):
    return torch.log(torch.clamp(x, min=eps))


def ce_prob_ref(z, t):
    if z.dim() <= 2:
        return F.cross_entropy(z, t)
    c = z.shape[-1]
    return F.cross_entropy(z.reshape(-1, c), t.reshape(-1, c))


def kl_ref(x, t):
    if x.dim() == 1:
        x, t = x[None], t[None]
    return F.kl_div(x, t, reduction="batchmean")


def sdpa_ref(q, k, v, causal):
    # PyTorch's math backend: the fused CPU kernel has no forward-mode derivative.
    with sdpa_kernel(SDPBackend.MATH):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def bn_inference_ref(x, m, v, g, b, eps):
    return (x - m) / torch.sqrt(v + eps) * g + b



def conv2d_ref(x, w, b, stride, padding, dilation, groups):
    return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)


def conv1d_ref(x, w, b, stride, padding, dilation, groups):
    return F.conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)


def conv_case(name, x_shape, w_shape, stride=None, padding=None, dilation=None, groups=1):
    """An input, a weight and a bias (one per output channel) with the conv's constants; the
    tuples default to PyTorch's (stride and dilation 1, no padding) on every spatial axis."""
    rank = len(x_shape) - 2
    return case(
        name,
        normal(*x_shape),
        normal(*w_shape),
        normal(w_shape[0]),
        params={
            "stride": stride or (1,) * rank,
            "padding": padding or (0,) * rank,
            "dilation": dilation or (1,) * rank,
            "groups": groups,
        },
    )


def max_pool_ref(x, kernel, stride, padding):
    return F.max_pool2d(x, kernel, stride=stride, padding=padding)


def avg_pool_ref(x, kernel, stride, padding):
    # count_include_pad=True is PyTorch's default, spelled out
    return F.avg_pool2d(x, kernel, stride=stride, padding=padding, count_include_pad=True)


def pool_case(name, x_shape, kernel, stride, padding):
    return case(
        name, normal(*x_shape), params={"kernel": kernel, "stride": stride, "padding": padding}
    )


# max_pool2d/ties (2x2 windows, stride 2): a tie of 2 (the 3s at window positions 1 and 2), of 4
# (all 2), of 4 negative values, and of 4 (all 5)
MAX_POOL_TIES = [
    [1.0, 3.0, 2.0, 2.0],
    [3.0, 0.0, 2.0, 2.0],
    [-1.0, -1.0, 5.0, 5.0],
    [-1.0, -1.0, 5.0, 5.0],
]


EPS = 1e-3
HUBER_D = np.array([1.0, -1.0, 0.0, 0.25, 3.0, -2.5, 1.0])  # differences p - t, delta = 1
HUBER_P = np.array([0.5, 1.25, -0.75, 0.0, 2.0, 0.125, -1.5])

OPS = [
    # ------------------------------------------------------------------------ binary
    ("add", lambda a, b: a + b, pair(normal, normal, PAIR_SHAPES) + [ALIAS()]),
    ("sub", lambda a, b: a - b, pair(normal, normal, PAIR_SHAPES) + [ALIAS()]),
    ("mul", lambda a, b: a * b, pair(normal, normal, PAIR_SHAPES) + [ALIAS()]),
    # --------------------------------------------------------------------- entrywise
    ("neg", lambda x: -x, UNARY_SHAPES()),
    (
        "scale",
        lambda x, c: x * c,
        [
            case("v7", normal(7), params={"c": -1.3}),
            case("m1x5", normal(1, 5), params={"c": 0.1}),
            case("t2x1x3", normal(2, 1, 3), params={"c": 2.5}),
        ],
    ),
    (
        "relu",
        torch.relu,
        UNARY_SHAPES()[:2] + [case("special", given([-2.0, -0.0, 0.0, 1e-300, -1e-300, 3.0, 0.5]))],
    ),
    ("exp", torch.exp, UNARY_SHAPES()[:2] + [special(0.0, -30.0, 20.0, 1e-8, -1.0)]),
    ("tanh", torch.tanh, UNARY_SHAPES()[:2] + [special(0.0, 20.0, -20.0, 1e-8, -0.5)]),
    (
        "sigmoid",
        torch.sigmoid,
        UNARY_SHAPES()[:2] + [case("special", given([0.0, 30.0, -30.0, 1e-8, 40.0, -40.0, 2.0]))],
    ),
    (
        "softplus",
        softplus_ref,
        UNARY_SHAPES()[:2] + [case("special", given([0.0, 30.0, -30.0, 15.0, -15.0, 1e-8, 2.0]))],
    ),
    (
        "safe_log",
        safe_log_ref,
        [
            case("v7", uniform(0.05, 3.0, 7), params={"eps": EPS}),
            case("m1x5", uniform(0.05, 3.0, 1, 5), params={"eps": 1e-2}),
            # 0, negative, below eps, exactly eps (the kink), above
            case("special", given([0.0, -1.0, 1e-4, EPS, 2 * EPS, 1.0, 3.0]), params={"eps": EPS}),
        ],
    ),
    # ----------------------------------------------------- entrywise (activations.rs)
    ("abs", torch.abs, UNARY_SHAPES()[:2] + [special(0.0, -0.0, -2.0, 1e-300, -3.0)]),
    ("square", torch.square, UNARY_SHAPES()),
    (
        "powi",
        lambda x, n: torch.pow(x, int(n)),
        [
            case("v7_n3", normal(7), params={"n": 3}),
            # |x| >= 0.5 for the negative power
            case("m1x5_n-2", given([0.5, -1.25, 2.0, -0.75, 1.5], (1, 5)), params={"n": -2}),
            case("t2x1x3_n0", normal(2, 1, 3), params={"n": 0}),
            case("special_n1", given([0.0, -1.0, 2.5]), params={"n": 1}),
        ],
    ),
    (
        "sqrt",
        torch.sqrt,
        [
            case("v7", uniform(0.1, 3.0, 7)),
            case("m1x5", uniform(0.1, 3.0, 1, 5)),
            # sqrt'(0) = +inf in both: 0 itself is left out
            case("special", given([1e-300, 1e-10, 0.25, 1.0, 4.0, 1e300])),
        ],
    ),
    (
        "log",
        torch.log,
        [
            case("v7", uniform(0.1, 3.0, 7)),
            case("m1x5", uniform(0.1, 3.0, 1, 5)),
            case("special", given([1.0, 1e-300, 1e300, 0.5, 2.0])),
        ],
    ),
    (
        "gelu",
        lambda x: F.gelu(x, approximate="tanh"),
        UNARY_SHAPES()[:2] + [case("special", given([0.0, 10.0, -10.0, 1e-8, -1e-8, 3.0, -3.0]))],
    ),
    (
        "gelu_erf",
        F.gelu,
        UNARY_SHAPES()[:2]
        + [case("special", given([0.0, 10.0, -10.0, 1e-8, -1e-8, 3.0, -3.0, 0.5, -6.0]))],
    ),
    (
        "erf",
        torch.erf,
        UNARY_SHAPES()[:2]
        + [case("special", given([0.0, -0.0, 1e-300, 0.7, -0.8, 3.4, 3.6, -5.9, 6.1, 30.0]))],
    ),
    ("silu", F.silu, UNARY_SHAPES()[:2] + [special(0.0, 30.0, -30.0, 1e-8, -1e-8, 2.0)]),
    (
        "leaky_relu",
        lambda x, slope: F.leaky_relu(x, slope),
        [
            case("v7", normal(7), params={"slope": 0.1}),
            case("m1x5", normal(1, 5), params={"slope": -0.3}),
            case("special", given([0.0, -0.0, -2.0, 1e-300, 3.0]), params={"slope": 0.01}),
        ],
    ),
    (
        "elu",
        lambda x, alpha: F.elu(x, alpha),
        [
            case("v7", normal(7), params={"alpha": 1.3}),
            case("m1x5", normal(1, 5), params={"alpha": 1.0}),
            case("special", given([0.0, -0.0, -30.0, 1e-8, -1e-8, 2.0]), params={"alpha": 0.5}),
        ],
    ),
    (
        "clamp",
        lambda x, lo, hi: torch.clamp(x, lo, hi),
        [
            case("v7", normal(7), params={"lo": -0.5, "hi": 0.5}),
            case("m1x5", normal(1, 5), params={"lo": -1.0, "hi": 2.0}),
            # both limits exactly, inside, outside
            case(
                "special",
                given([-0.5, 0.5, 0.0, -1.0, 1.0, 0.25]),
                params={"lo": -0.5, "hi": 0.5},
            ),
            case("equal_limits", normal(4), params={"lo": 0.5, "hi": 0.5}),
        ],
    ),
    # --------------------------------------------------------- binary (binary.rs)
    (
        "div",
        lambda a, b: a / b,
        [
            case("v7", normal(7), given([0.5, -1.25, 2.0, -0.75, 1.5, 3.0, -2.0])),
            case("m1x5", normal(1, 5), uniform(0.5, 2.0, 1, 5)),
            case("alias", uniform(0.5, 2.0, 5), alias=True),
        ],
    ),
    (
        "maximum",
        torch.maximum,
        pair(normal, normal, PAIR_SHAPES[:2])
        + [
            case("ties", given([1.0, 2.0, 3.0, 0.0, -1.0]), given([1.0, 1.0, 4.0, 0.0, -2.0])),
            case("alias", normal(5), alias=True),
        ],
    ),
    (
        "minimum",
        torch.minimum,
        pair(normal, normal, PAIR_SHAPES[:2])
        + [
            case("ties", given([1.0, 2.0, 3.0, 0.0, -1.0]), given([1.0, 1.0, 4.0, 0.0, -2.0])),
            case("alias", normal(5), alias=True),
        ],
    ),
    # ---------------------------------------------------------- shape ops (shape_ops.rs)
    (
        "reshape",
        lambda x, to: x.reshape(to),
        [
            case("m2x3_to_m3x2", normal(2, 3), params={"to": (3, 2)}),
            case("m1x5_to_v5", normal(1, 5), params={"to": (5,)}),
            case("t2x1x3_to_m3x2", normal(2, 1, 3), params={"to": (3, 2)}),
        ],
    ),
    (
        "flatten",
        torch.flatten,
        [case("m2x3", normal(2, 3)), case("t2x1x3", normal(2, 1, 3)), case("v1", normal(1))],
    ),
    (
        "swapaxes",
        lambda x, a, b: x.transpose(a, b),
        [
            case("t2x3x4_0_2", normal(2, 3, 4), params={"a": 0, "b": 2}),
            case("t2x1x3_1_2", normal(2, 1, 3), params={"a": 1, "b": 2}),
            case("m1x4_0_1", normal(1, 4), params={"a": 0, "b": 1}),
        ],
    ),
    (
        "permute",
        lambda x, axes: x.permute(*axes),
        [
            case("t2x3x4_2_0_1", normal(2, 3, 4), params={"axes": (2, 0, 1)}),
            case("t2x1x3_1_2_0", normal(2, 1, 3), params={"axes": (1, 2, 0)}),
            case("m3x5_1_0", normal(3, 5), params={"axes": (1, 0)}),
        ],
    ),
    (
        "concat",
        lambda a, b, axis: torch.cat([a, b], axis),
        [
            case("m2x3_m1x3_ax0", normal(2, 3), normal(1, 3), params={"axis": 0}),
            case("m2x3_m2x1_ax1", normal(2, 3), normal(2, 1), params={"axis": 1}),
            case("t2x1x3_t2x1x2_ax2", normal(2, 1, 3), normal(2, 1, 2), params={"axis": 2}),
            case("alias_v3_ax0", normal(3), params={"axis": 0}, alias=True),
        ],
    ),
    (
        "stack",
        lambda a, b: torch.stack([a, b]),
        [
            case("v3", normal(3), normal(3)),
            case("m1x5", normal(1, 5), normal(1, 5)),
            case("alias_v3", normal(3), alias=True),
        ],
    ),
    (
        "narrow",
        lambda x, axis, start, length: x.narrow(axis, start, length),
        [
            case("m3x5_ax1_1_3", normal(3, 5), params={"axis": 1, "start": 1, "length": 3}),
            case("t2x3x4_ax0_1_1", normal(2, 3, 4), params={"axis": 0, "start": 1, "length": 1}),
            case("v7_ax0_6_1", normal(7), params={"axis": 0, "start": 6, "length": 1}),
        ],
    ),
    (
        "broadcast_to",
        lambda x, to: x.broadcast_to(to),
        [
            case("v3_to_m4x3", normal(3), params={"to": (4, 3)}),
            case("m1x3_to_t2x4x3", normal(1, 3), params={"to": (2, 4, 3)}),
            case("t2x1x3_to_t2x4x3", normal(2, 1, 3), params={"to": (2, 4, 3)}),
            case("scalar_to_v5", normal(), params={"to": (5,)}),
        ],
    ),
    # -------------------------------------------------------------------- reductions
    ("sum", torch.sum, [case("scalar", normal()), case("v1", normal(1))] + UNARY_SHAPES()[::2]),
    ("mean", torch.mean, [case("scalar", normal()), case("v1", normal(1))] + UNARY_SHAPES()[::2]),
    # --------------------------------------------------------- reductions along an axis
    ("sum_axis", lambda x, axis: torch.sum(x, dim=axis), AXIS_CASES()),
    ("mean_axis", lambda x, axis: torch.mean(x, dim=axis), AXIS_CASES()),
    (
        "max_axis",
        lambda x, axis: torch.amax(x, dim=axis),
        AXIS_CASES() + [case("ties", given(MAX_TIES), params={"axis": 1})],
    ),
    ("var_axis", lambda x, axis: torch.var(x, dim=axis, unbiased=False), AXIS_CASES()),
    (
        "logsumexp_axis",
        lambda x, axis: torch.logsumexp(x, dim=axis),
        AXIS_CASES() + [AXIS_SPECIAL()],
    ),
    # ------------------------------------------------------------------------ linalg
    (
        "matvec",
        lambda w, x: w @ x,
        [case(f"m{m}x{n}", normal(m, n), normal(n)) for m, n in [(3, 5), (1, 4), (4, 1)]],
    ),
    (
        "matmul",
        lambda a, b: a @ b,
        [
            case(f"{m}x{k}x{n}", normal(m, k), normal(k, n))
            for m, k, n in [(2, 3, 4), (1, 5, 3), (4, 1, 1)]
        ],
    ),
    (
        "transpose",
        lambda x: x.T,
        [case(f"m{m}x{n}", normal(m, n)) for m, n in [(3, 5), (1, 4), (5, 1)]],
    ),
    (
        "linear",
        lambda w, x, b: F.linear(x, w, b),
        [
            case(f"o{o}_i{i}", normal(o, i), normal(i), normal(o))
            for o, i in [(3, 5), (1, 4), (4, 1)]
        ],
    ),
    (
        "linear_batch",
        lambda w, x, b: F.linear(x, w, b),
        [
            case(f"b{bb}_o{o}_i{i}", normal(o, i), normal(bb, i), normal(o))
            for bb, o, i in [(2, 3, 5), (1, 4, 3), (3, 1, 1)]
        ],
    ),
    # ------------------------------------------------------------------ softmax, loss
    ("mse", F.mse_loss, pair(normal, normal, PAIR_SHAPES)),
    (
        "softmax",
        lambda x: torch.softmax(x, -1),
        [
            case("v7", normal(7)),
            case("m3x1", normal(3, 1)),
            case("t2x1x5", normal(2, 1, 5)),
            case("special", given([[1000.0, 999.0, -1000.0], [0.0, 0.0, 0.0]])),
        ],
    ),
    (
        "log_softmax",
        lambda x: torch.log_softmax(x, -1),
        [
            case("v7", normal(7)),
            case("m3x1", normal(3, 1)),
            case("t2x1x5", normal(2, 1, 5)),
            case("special", given([[1000.0, 999.0, -1000.0], [0.0, 0.0, 0.0]])),
        ],
    ),
    (
        "softmax_axis",
        lambda x, axis: F.softmax(x, dim=axis),
        AXIS_CASES() + [AXIS_SPECIAL()],
    ),
    (
        "log_softmax_axis",
        lambda x, axis: F.log_softmax(x, dim=axis),
        AXIS_CASES() + [AXIS_SPECIAL()],
    ),
    (
        "cross_entropy",
        ce_prob_ref,
        [
            case("v5", normal(5), prob(5)),
            case("m1x4", normal(1, 4), prob(1, 4)),
            case("m3x5", normal(3, 5), prob(3, 5)),
            case("t2x1x3", normal(2, 1, 3), prob(2, 1, 3)),
            case("onehot", normal(3, 4), given(np.eye(4)[[2, 0, 3]])),
        ],
    ),
    (
        "l1_loss",
        F.l1_loss,
        pair(normal, normal, PAIR_SHAPES[:2])
        + [case("special", given([0.5, -1.0, 2.0, 0.0, 3.0]), given([0.5, -1.0, 1.0, 0.0, -3.0]))],
    ),
    (
        "huber_loss",
        lambda p, t, delta: F.huber_loss(p, t, delta=delta),
        [
            case("v7", normal(7, scale=2.0), normal(7), params={"delta": 1.0}),
            case("m1x5", normal(1, 5), normal(1, 5), params={"delta": 0.5}),
            # |p - t| = delta exactly at the first two entries, p = t at the third
            case("special", given(HUBER_P), given(HUBER_P - HUBER_D), params={"delta": 1.0}),
        ],
    ),
    (
        "binary_cross_entropy_with_logits",
        F.binary_cross_entropy_with_logits,
        [
            case("v7", normal(7, scale=2.0), uniform(0.0, 1.0, 7)),
            case("m1x5", normal(1, 5, scale=2.0), uniform(0.0, 1.0, 1, 5)),
            case(
                "special",
                given([0.0, 30.0, -30.0, 5.0, -5.0, 0.1]),
                given([0.0, 1.0, 1.0, 0.0, 0.5, 1.0]),
            ),
        ],
    ),
    (
        "kl_div",
        kl_ref,
        [
            case("v5", logprob(5), prob(5)),
            case("m1x4", logprob(1, 4), prob(1, 4)),
            case("m3x5", logprob(3, 5), prob(3, 5)),
            case(
                "zero_targets",
                logprob(2, 3),
                given([[0.5, 0.5, 0.0], [0.0, 0.25, 0.75]]),
                skip=["jvp", "vjp1"],
                note="targets with zeros: the target's gradient log t - x + 1 is -inf in "
                "shapetape and NaN in PyTorch there, and both JVPs are NaN; only the forward "
                "value and the VJP for x are compared",
            ),
        ],
    ),
    (
        "nll_loss",
        F.nll_loss,
        [case(f"b{b}_c{c}", logprob(b, c), index(c, b)) for b, c in [(3, 5), (1, 4), (4, 1)]],
    ),
    (
        "cross_entropy_with_integer_labels",
        F.cross_entropy,
        [case(f"b{b}_c{c}", normal(b, c), index(c, b)) for b, c in [(3, 5), (1, 4), (4, 1)]],
    ),
    # ------------------------------------------------------------------------ layers
    (
        "bmm",
        torch.bmm,
        [
            case(f"b{bt}_{m}x{k}x{n}", normal(bt, m, k), normal(bt, k, n))
            for bt, m, k, n in [(2, 2, 3, 4), (1, 3, 1, 2), (3, 1, 2, 1)]
        ],
    ),
    (
        "scaled_dot_product_attention",
        sdpa_ref,
        [
            case(
                f"{'causal_' if causal else ''}b{bt}_t{t}_s{s}_d{d}_v{dv}",
                normal(bt, t, d),
                normal(bt, s, d),
                normal(bt, s, dv),
                params={"causal": causal},
            )
            for causal, bt, t, s, d, dv in [
                (False, 2, 3, 4, 5, 2),
                (False, 1, 1, 3, 2, 1),
                (True, 2, 3, 3, 2, 3),
                (True, 1, 4, 2, 3, 2),
                (True, 1, 2, 5, 1, 1),
            ]
        ],
    ),
    (
        "layer_norm",
        lambda x, g, b, eps: F.layer_norm(x, (x.shape[-1],), g, b, eps),
        [
            case(n, normal(*s), normal(s[-1]), normal(s[-1]), params={"eps": 1e-5})
            for n, s in [("m3x5", (3, 5)), ("t2x1x3", (2, 1, 3)), ("m2x1", (2, 1))]
        ],
    ),
    (
        "rms_norm",
        lambda x, g, eps: F.rms_norm(x, (x.shape[-1],), g, eps),
        [
            case("m3x5", normal(3, 5), normal(5), params={"eps": 1e-6}),
            case("t2x1x3", normal(2, 1, 3), normal(3), params={"eps": 1e-6}),
            # one feature: eps of the order of x^2 (see the module docs)
            case("m2x1", normal(2, 1), normal(1), params={"eps": 0.1}),
        ],
    ),
    (
        "batch_norm",
        lambda x, g, b, eps: F.batch_norm(x, None, None, g, b, training=True, eps=eps),
        [
            case(f"m{bb}x{c}", normal(bb, c), normal(c), normal(c), params={"eps": 1e-5})
            for bb, c in [(4, 3), (2, 5), (3, 1)]
        ],
    ),
    (
        "batch_norm_inference",
        bn_inference_ref,
        [
            case(
                f"m{bb}x{c}",
                normal(bb, c),
                normal(c),
                uniform(0.5, 2.0, c),
                normal(c),
                normal(c),
                params={"eps": 1e-5},
            )
            for bb, c in [(1, 3), (4, 1), (3, 5)]
        ],
    ),
    (
        "embedding",
        lambda w, i: F.embedding(i, w),
        [
            case("v5_d3_t4", normal(5, 3), given([1.0, 4.0, 1.0, 0.0], is_index=True)),
            case("v1_d2_t3", normal(1, 2), given([0.0, 0.0, 0.0], is_index=True)),
            case("v4_d1_t1", normal(4, 1), index(4, 1)),
        ],
    ),
    # ------------------------------------------------------------- convolution, pooling
    (
        "conv2d",
        conv2d_ref,
        [
            conv_case("n2_c3_5x5_k3", (2, 3, 5, 5), (4, 3, 3, 3)),
            conv_case("s2_p1", (1, 2, 5, 6), (3, 2, 3, 2), stride=(2, 2), padding=(1, 1)),
            conv_case("d2_p2", (1, 1, 6, 6), (2, 1, 3, 3), padding=(2, 2), dilation=(2, 2)),
            conv_case(
                "g2_s1x2_p1x0", (2, 4, 4, 5), (6, 2, 2, 3), stride=(1, 2), padding=(1, 0), groups=2
            ),
            conv_case(
                "g3_s2x1_p1x2_d1x2",
                (1, 6, 7, 5),
                (3, 2, 3, 2),
                stride=(2, 1),
                padding=(1, 2),
                dilation=(1, 2),
                groups=3,
            ),
            conv_case("depthwise_p1", (1, 3, 4, 4), (3, 1, 3, 3), padding=(1, 1), groups=3),
        ],
    ),
    (
        "conv1d",
        conv1d_ref,
        [
            conv_case("n2_c3_l8_k3", (2, 3, 8), (4, 3, 3)),
            conv_case(
                "s2_p1_d2_g2",
                (1, 4, 9),
                (6, 2, 3),
                stride=(2,),
                padding=(1,),
                dilation=(2,),
                groups=2,
            ),
        ],
    ),
    (
        "max_pool2d",
        max_pool_ref,
        [
            pool_case("k2", (2, 3, 4, 4), (2, 2), (2, 2), (0, 0)),
            pool_case("k3_s2_p1", (1, 2, 5, 6), (3, 3), (2, 2), (1, 1)),
            pool_case("k2x3_s1_p1", (1, 1, 4, 5), (2, 3), (1, 1), (1, 1)),
            case(
                "ties",
                given(MAX_POOL_TIES, (1, 1, 4, 4)),
                params={"kernel": (2, 2), "stride": (2, 2), "padding": (0, 0)},
            ),
        ],
    ),
    (
        "avg_pool2d",
        avg_pool_ref,
        [
            pool_case("k2", (2, 3, 4, 4), (2, 2), (2, 2), (0, 0)),
            pool_case("k3_s2_p1", (1, 2, 5, 6), (3, 3), (2, 2), (1, 1)),
            pool_case("k2x3_s1_p1", (1, 1, 4, 5), (2, 3), (1, 1), (1, 1)),
        ],
    ),
    (
        "adaptive_avg_pool2d",
        lambda x, size: F.adaptive_avg_pool2d(x, size),
        [
            case("5x4_to_3x3", normal(2, 2, 5, 4), params={"size": (3, 3)}),
            case("4x4_to_1x1", normal(1, 3, 4, 4), params={"size": (1, 1)}),
            case("3x7_to_2x3", normal(1, 2, 3, 7), params={"size": (2, 3)}),
        ],
    ),
    (
        "global_avg_pool2d",
        lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1),
        [case("n2_c3_4x5", normal(2, 3, 4, 5)), case("n1_c1_3x3", normal(1, 1, 3, 3))],
    ),
]

# ---------------------------------------------------------------------------------- running


def run_case(op, fn, c):
    rng = np.random.default_rng(zlib.crc32(f"{op}/{c['name']}".encode()))
    inputs = c["inputs"]
    xs = [inp.draw(rng, inp.shape) for inp in inputs]
    xs = [np.asarray(x, dtype=np.float64).reshape(inp.shape) for x, inp in zip(xs, inputs)]
    tensors = [
        torch.tensor(x.astype(np.int64)) if inp.index else torch.tensor(x)
        for x, inp in zip(xs, inputs)
    ]
    diff = [inp.diff for inp in inputs]
    tans = [
        rng.standard_normal(inp.shape) if d else np.zeros(inp.shape)
        for inp, d in zip(inputs, diff)
    ]
    params = c["params"]

    def g(*dv):
        full = list(tensors)
        it = iter(dv)
        for i, d in enumerate(diff):
            if d:
                full[i] = next(it)
        if c["alias"]:
            full = full * 2
        return fn(*full, **params)

    primals = tuple(t for t, d in zip(tensors, diff) if d)
    out = g(*primals)
    cot = rng.standard_normal(tuple(out.shape))
    _, jv = jvp(g, primals, tuple(torch.tensor(t) for t, d in zip(tans, diff) if d))
    out2, pull = vjp(g, *primals)
    grads = iter(pull(torch.tensor(cot)))
    vjps = [
        next(grads).detach().numpy() if d else np.zeros(inp.shape)
        for inp, d in zip(inputs, diff)
    ]
    assert torch.equal(out, out2)
    return xs, tans, cot, out.detach().numpy(), jv.detach().numpy(), vjps


def encode_param(v):
    """A constant: a JSON bool, a list (a shape or axes, as ints), or a number as a string."""
    if isinstance(v, bool):
        return v
    if isinstance(v, tuple):
        return list(v)
    return repr(float(v))


def enc(a):
    return [repr(float(v)) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


def check_conventions(results):
    """The kink conventions listed in the module docs, asserted on the recorded values."""
    relu = results[("relu", "special")]
    x, g = relu["inputs"][0], relu["vjp"][0]
    assert all(float(gi) == 0.0 for xi, gi in zip(x, g) if float(xi) == 0.0), "relu'(0) = 0"
    sl = results[("safe_log", "special")]
    x, g = sl["inputs"][0], sl["vjp"][0]
    clamped = [float(gi) for xi, gi in zip(x, g) if float(xi) <= EPS]
    assert EPS in [float(xi) for xi in x] and all(gi == 0.0 for gi in clamped), "safe_log' at eps"
    l1 = results[("l1_loss", "special")]
    ties = [float(p) == float(t) for p, t in zip(*l1["inputs"])]
    assert any(ties) and all(float(gi) == 0.0 for gi, tie in zip(l1["vjp"][0], ties) if tie)
    for op in ("abs", "leaky_relu", "elu"):
        r = results[(op, "special")]
        slope = {"abs": 0.0, "leaky_relu": float(r["params"].get("slope", "0")),
                 "elu": float(r["params"].get("alpha", "0"))}[op]
        for xi, gi, ci in zip(r["inputs"][0], r["vjp"][0], r["cotangent"]):
            if float(xi) == 0.0:
                assert float(gi) == slope * float(ci), (op, xi, gi)
    cl = results[("clamp", "special")]
    lo, hi = float(cl["params"]["lo"]), float(cl["params"]["hi"])
    for xi, gi in zip(cl["inputs"][0], cl["vjp"][0]):
        if float(xi) in (lo, hi):
            assert float(gi) == 0.0, ("clamp at a limit", xi, gi)
    for op in ("maximum", "minimum"):
        r = results[(op, "ties")]
        for a, b, ga, gb, ci in zip(*r["inputs"], *r["vjp"], r["cotangent"]):
            if float(a) == float(b):
                assert float(ga) == float(gb) == float(ci) / 2, (op, "tie")
    mx = results[("max_axis", "ties")]
    x = np.array([float(v) for v in mx["inputs"][0]]).reshape(mx["shapes"][0])
    t = np.array([float(v) for v in mx["tangents"][0]]).reshape(x.shape)
    g = np.array([float(v) for v in mx["vjp"][0]]).reshape(x.shape)
    jv = [float(v) for v in mx["jvp"]]
    counts = []
    for row, trow, grow, ci, ji in zip(x, t, g, mx["cotangent"], jv):
        tie = row == row.max()
        counts.append(int(tie.sum()))
        for is_max, gi in zip(tie, grow):
            assert gi == (float(ci) / tie.sum() if is_max else 0.0), ("max_axis tie", row, grow)
        assert np.isclose(ji, trow[tie].sum() / tie.sum(), rtol=1e-15, atol=1e-15), "jvp"
    assert counts == [3, 5, 3], counts
    mp = results[("max_pool2d", "ties")]
    x = np.array([float(v) for v in mp["inputs"][0]]).reshape(4, 4)
    t = np.array([float(v) for v in mp["tangents"][0]]).reshape(4, 4)
    g = np.array([float(v) for v in mp["vjp"][0]]).reshape(4, 4)
    cot = np.array([float(v) for v in mp["cotangent"]]).reshape(2, 2)
    jv = np.array([float(v) for v in mp["jvp"]]).reshape(2, 2)
    ties = []
    for i in range(2):
        for j in range(2):
            win = x[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].reshape(-1)
            first = int(np.argmax(win))  # numpy's argmax is the first maximal index
            ties.append(int((win == win.max()).sum()))
            expect = np.zeros(4)
            expect[first] = cot[i, j]
            assert np.array_equal(g[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].reshape(-1), expect)
            assert jv[i, j] == t[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].reshape(-1)[first]
    assert ties == [2, 4, 4, 4], ties
    hub = results[("huber_loss", "special")]
    n = len(HUBER_P)
    expect = [float(hub["cotangent"][0]) * s / n for s in (1.0, -1.0)]
    assert np.allclose([float(v) for v in hub["vjp"][0][:2]], expect, rtol=1e-15, atol=0)


def check_bn_inference():
    """The batch_norm_inference formula against F.batch_norm(training=False)."""
    rng = np.random.default_rng(1)
    x, m, g, b = (torch.tensor(rng.standard_normal(s)) for s in [(3, 4), 4, 4, 4])
    v = torch.tensor(rng.uniform(0.5, 2.0, 4))
    seed = torch.tensor(rng.standard_normal((3, 4)))
    ours = lambda x, g, b: bn_inference_ref(x, m, v, g, b, 1e-5)
    theirs = lambda x, g, b: F.batch_norm(x, m, v, g, b, training=False, eps=1e-5)
    (o1, p1), (o2, p2) = vjp(ours, x, g, b), vjp(theirs, x, g, b)
    for a, c in zip([o1, *p1(seed)], [o2, *p2(seed)]):
        assert torch.allclose(a, c, rtol=1e-14, atol=1e-14)


def main():
    check_bn_inference()
    cases, results = [], {}
    for op, fn, op_cases in OPS:
        for c in op_cases:
            xs, tans, cot, out, jv, vjps = run_case(op, fn, c)
            rec = dict(
                op=op,
                case=c["name"],
                params={k: encode_param(v) for k, v in c["params"].items()},
                shapes=[inp.shape for inp in c["inputs"]],
                out_shape=list(out.shape),
                diff=[inp.diff for inp in c["inputs"]],
                inputs=[enc(x) for x in xs],
                tangents=[enc(t) for t in tans],
                cotangent=enc(cot),
                forward=enc(out),
                jvp=enc(jv),
                vjp=[enc(g) for g in vjps],
                skip=c["skip"],
                note=c["note"],
            )
            compared = {"forward": rec["forward"], "jvp": rec["jvp"]}
            compared.update({f"vjp{i}": g for i, g in enumerate(rec["vjp"])})
            for name, vals in compared.items():
                if name not in c["skip"]:
                    assert all(np.isfinite(float(v)) for v in vals), (op, c["name"], name)
            cases.append(rec)
            results[(op, c["name"])] = rec
    check_conventions(results)
    doc = dict(torch_version=torch.__version__, numpy_version=np.__version__, cases=cases)
    with open(OUT, "w") as f:
        f.write('{"torch_version": %s, "numpy_version": %s, "cases": [\n' % (
            json.dumps(doc["torch_version"]), json.dumps(doc["numpy_version"])))
        f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
        f.write("\n]}\n")
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
