#!/usr/bin/env python3
"""Writes tests/fixtures/erf_reference.json, the error-function values read by tests/erf.rs.

    python3 scripts/make_erf_reference.py

Standard library only (`decimal`, `random`, `json`); the tests read the committed file and never
run Python. The output is deterministic (fixed seed).

Each case is an argument `x` (a float64, written as Python's `repr`) and the exact value of
erf x = 2/sqrt(pi) * integral_0^x exp(-t^2) dt at the exact real x, rounded to 40 significant
digits ("0" for x = 0). The values come from the series of positive terms

    erf x = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*5*...*(2n+1))

summed in `decimal` at 120 significant digits until a term is below 10^-130 of the sum (no
cancellation: every term is positive), with pi to 110 digits; for |x| >= 27, erf x = 1 - erfc x
with 0 < erfc x < 10^-317, which is 1 to 40 digits.

Layout:

    {"digits": 40, "cases": [{"x": "...", "value": "d.ddd...e+N" | "0"}, ...]}
"""

import json
import os
import random
from decimal import Decimal, localcontext

PI = Decimal(
    "3.14159265358979323846264338327950288419716939937510582097494459230781640628620899862803"
    "482534211706798214808651"
)
WORK_DIGITS = 120
OUT_DIGITS = 40


def erf(x):
    """erf of the float64 x, to WORK_DIGITS digits."""
    if x == 0.0:
        return Decimal(0)
    a = abs(x)
    if a >= 27.0:
        v = Decimal(1)
    else:
        with localcontext() as ctx:
            ctx.prec = WORK_DIGITS
            d = Decimal(a)  # exact
            d2 = d * d
            term = d
            total = d
            n = 0
            while term > total * Decimal(10) ** -130:
                n += 1
                term = term * 2 * d2 / (2 * n + 1)
                total += term
            v = 2 / PI.sqrt() * (-d2).exp() * total
    return v.copy_negate() if x < 0 else v


def fmt(v):
    if v == 0:
        return "0"
    with localcontext() as ctx:
        ctx.prec = OUT_DIGITS
        return "{:.39e}".format(+v)


def arguments():
    rng = random.Random(20261207)
    xs = [0.0, 5e-324, 1e-310, 1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 1e-3, 0.1, 0.25, 0.5, 1.0, 1.5,
          2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 8.0, 10.0, 26.0, 30.0, 1e10, 1e300]
    # Both sides of the switch points of the f64 and the double-double algorithms.
    for t in [0.75, 3.5, 6.0, 9.0]:
        xs += [t, t - 2.0 ** -50, t + 2.0 ** -49, t * (1 - 1e-9), t * (1 + 1e-9)]
    xs += [rng.uniform(0.0, 1.0) for _ in range(60)]
    xs += [rng.uniform(1.0, 4.0) for _ in range(80)]
    xs += [rng.uniform(4.0, 10.0) for _ in range(60)]
    xs += [10.0 ** rng.uniform(-300, -1) for _ in range(20)]
    out = []
    for x in xs:
        out += [x, -x]
    return out


def main():
    cases = [{"x": repr(x), "value": fmt(erf(x))} for x in arguments()]
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "erf_reference.json")
    with open(path, "w") as f:
        f.write('{"digits": 40,\n "cases": [\n')
        f.write(",\n".join("  " + json.dumps(c) for c in cases))
        f.write("\n ]}\n")
    print(f"wrote {len(cases)} cases to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
