#!/usr/bin/env python3
"""Writes tests/fixtures/dd_reference.json, the reference values read by tests/reference_scalar.rs.

    python3 scripts/make_dd_reference.py

Standard library only (`decimal`, `random`, `json`, `math`); the tests read the committed file
and never run Python. The output is deterministic (fixed seed).

Each case is a function name, an argument given as a double-double `hi + lo` (two float64
values written as Python's `repr`, the shortest decimal that reads back as the same float64; `lo`
is often 0) and the exact value of the function at the exact real `hi + lo`, rounded to 40
significant digits and written in scientific notation ("0" for an exact zero). The function
values come from `decimal` at 60 significant digits: `Decimal.exp`, `Decimal.ln` and
`Decimal.sqrt` are correctly rounded; `exp_m1`, `ln_1p` and `tanh` are formed from them with
enough extra digits that the subtraction `eˣ − 1` (for small `x`) loses nothing of the 60:

    exp_m1(x) = eˣ − 1            (eˣ at 60 + max(0, −log₁₀|x|) + 5 digits)
    ln_1p(x)  = ln(1 + x)         (1 + x formed exactly, ln correctly rounded at 60 digits)
    tanh(x)   = m / (m + 2) with m = exp_m1(2x)

Layout:

    {"digits": 40,
     "cases": [{"f": "exp" | "exp_m1" | "ln" | "ln_1p" | "tanh" | "sqrt",
                "hi": "...", "lo": "...", "value": "d.ddd…e±N" | "0"}, ...]}
"""

import json
import math
import os
import random
from decimal import Decimal, localcontext

WORK_DIGITS = 60
OUT_DIGITS = 40
# Enough digits to hold the sum of two float64 values exactly (their exponents differ by at most
# 2098 bits, and every float64 is a decimal of at most 767 significant digits).
EXACT_DIGITS = 3000


def exact(hi, lo):
    """The exact real hi + lo."""
    with localcontext() as ctx:
        ctx.prec = EXACT_DIGITS
        return Decimal(hi) + Decimal(lo)


def extra_digits(x):
    """Digits lost to cancellation when forming e^x - 1 at a small |x|."""
    if x == 0:
        return 0
    return max(0, -x.adjusted()) + 5


def f_exp(x):
    with localcontext() as ctx:
        ctx.prec = WORK_DIGITS
        return x.exp()


def f_exp_m1(x):
    if x == 0:
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = WORK_DIGITS + extra_digits(x)
        return x.exp() - 1


def f_ln(x):
    with localcontext() as ctx:
        ctx.prec = WORK_DIGITS
        return x.ln()


def f_ln_1p(x):
    with localcontext() as ctx:
        ctx.prec = EXACT_DIGITS
        y = 1 + x  # exact
    if y == 1:
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = WORK_DIGITS
        return y.ln()


def f_tanh(x):
    if x == 0:
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = WORK_DIGITS + extra_digits(2 * x)
        m = (2 * x).exp() - 1
        return m / (m + 2)


def f_sqrt(x):
    with localcontext() as ctx:
        ctx.prec = WORK_DIGITS
        return x.sqrt()


FUNCTIONS = {
    "exp": f_exp,
    "exp_m1": f_exp_m1,
    "ln": f_ln,
    "ln_1p": f_ln_1p,
    "tanh": f_tanh,
    "sqrt": f_sqrt,
}


def fmt(v):
    """v rounded to OUT_DIGITS significant digits, in scientific notation."""
    if v == 0:
        return "0"
    with localcontext() as ctx:
        ctx.prec = OUT_DIGITS
        r = +v
    return format(r, ".%de" % (OUT_DIGITS - 1))


def with_lo(rng, hi):
    """A low part for hi: 0, or a random value below half an ulp of hi."""
    if hi == 0 or rng.random() < 0.3:
        return 0.0
    lo = hi * rng.uniform(-1.0, 1.0) * 2.0**-54
    lo *= 2.0 ** -rng.randrange(0, 30)
    return lo


def log_uniform(rng, lo_exp, hi_exp):
    return 10.0 ** rng.uniform(lo_exp, hi_exp)


def signed(rng, v):
    return v if rng.random() < 0.5 else -v


def inputs(rng):
    """(function, hi, lo) triples."""
    cases = []

    def add(f, hi, lo=0.0):
        cases.append((f, float(hi), float(lo)))

    tiny = [1e-300, 1e-100, 1e-30, 1e-20, 1e-16, 1e-10, 1e-5, 1e-3]
    # exp: |x| <= 80 densely, a few larger arguments (results stay above 2^-969, where a
    # double-double still has full precision).
    for x in [0.0, 0.5, 1.0, 0.34657359027997264, 0.35, 2.0, 10.0, 50.0, 79.9, 80.0] + tiny:
        add("exp", x)
        add("exp", -x)
    for x in [300.0, 700.0, 709.0, -300.0, -600.0, -650.0]:
        add("exp", x)
    for _ in range(40):
        hi = rng.uniform(-80.0, 80.0)
        add("exp", hi, with_lo(rng, hi))
    for _ in range(10):
        hi = signed(rng, log_uniform(rng, -25, 0))
        add("exp", hi, with_lo(rng, hi))

    # exp_m1: tiny arguments (where it differs from exp − 1), the switch at |x| = 1, large.
    for x in [0.0, 0.5, 0.999999, 1.0, 1.000001, 2.0, 10.0, 80.0] + tiny:
        add("exp_m1", x)
        add("exp_m1", -x)
    add("exp_m1", 1e-20, 3e-40)
    add("exp_m1", -1e-10, 1e-28)
    for _ in range(25):
        hi = signed(rng, log_uniform(rng, -30, 0))
        add("exp_m1", hi, with_lo(rng, hi))
    for _ in range(25):
        hi = rng.uniform(-80.0, 80.0)
        add("exp_m1", hi, with_lo(rng, hi))

    # ln: x in [1e-30, 1e30], near 1 (the ln_1p path), the switches at 0.5 and 2, extremes.
    for x in [1.0, 0.5, 0.49999999, 2.0, 2.0000001, 3.0, 10.0, 1e-30, 1e30, 1e-300, 1e300,
              1.0 + 2.0**-52, 1.0 - 2.0**-53, 0.9, 1.1]:
        add("ln", x)
    add("ln", 1.0, 1e-20)
    add("ln", 1.0, -1e-25)
    add("ln", 1.0, 2.0**-80)
    add("ln", 1.0 + 2.0**-30, 2.0**-90)
    for _ in range(40):
        hi = log_uniform(rng, -30, 30)
        add("ln", hi, with_lo(rng, hi))
    for _ in range(15):
        hi = 1.0 + signed(rng, log_uniform(rng, -15, -0.5))
        add("ln", hi, with_lo(rng, hi))

    # ln_1p: tiny arguments, the switches at −0.5 and 1, near −1, large.
    for x in [0.0, 0.5, 1.0, 1.0000001, 2.0, 1e10, 1e30] + tiny:
        add("ln_1p", x)
    for x in tiny + [0.5, 0.49999999, 0.50000001, 0.9, 0.999999, 0.9999999999]:
        add("ln_1p", -x)
    add("ln_1p", 1e-20, 3e-40)
    add("ln_1p", -1e-10, 1e-28)
    for _ in range(25):
        hi = signed(rng, log_uniform(rng, -30, -0.4))
        add("ln_1p", hi, with_lo(rng, hi))
    for _ in range(10):
        hi = log_uniform(rng, 0, 30)
        add("ln_1p", hi, with_lo(rng, hi))

    # tanh: tiny arguments, |x| <= 80, the cut-off at 50.
    for x in [0.0, 0.25, 0.5, 1.0, 2.0, 19.0, 20.0, 40.0, 49.9, 50.0, 80.0] + tiny:
        add("tanh", x)
        add("tanh", -x)
    for _ in range(30):
        hi = rng.uniform(-80.0, 80.0)
        add("tanh", hi, with_lo(rng, hi))
    for _ in range(20):
        hi = signed(rng, log_uniform(rng, -25, 1))
        add("tanh", hi, with_lo(rng, hi))

    # sqrt: exact squares, near 1, the whole range.
    for x in [0.0, 1.0, 2.0, 4.0, 0.25, 1e-300, 1e300, 1e-30, 1e30, 1.0 + 2.0**-52]:
        add("sqrt", x)
    add("sqrt", 1.0, 2.0**-80)
    add("sqrt", 2.0, -1e-20)
    for _ in range(25):
        hi = log_uniform(rng, -300, 300)
        add("sqrt", hi, with_lo(rng, hi))
    return cases


def main():
    rng = random.Random(20240611)
    cases = []
    for f, hi, lo in inputs(rng):
        # Every low part is below half an ulp of its high part (the canonical double-double).
        assert lo == 0.0 or abs(lo) <= math.ulp(hi) / 2, (f, hi, lo)
        value = FUNCTIONS[f](exact(hi, lo))
        cases.append({"f": f, "hi": repr(hi), "lo": repr(lo), "value": fmt(value)})
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                       "dd_reference.json")
    with open(out, "w") as fh:
        fh.write('{"digits": %d,\n "cases": [\n' % OUT_DIGITS)
        fh.write(",\n".join("  " + json.dumps(c) for c in cases))
        fh.write("\n]}\n")
    print("wrote %d cases to %s" % (len(cases), os.path.normpath(out)))


if __name__ == "__main__":
    main()
