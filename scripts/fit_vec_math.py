#!/usr/bin/python3
"""Fits the polynomials of the kernels' float32 exp and tanh (src/cells/vec_exp.h,
src/cells/pointwise.h) and prints their coefficients and truncation errors.

Each is a near-minimax fit of the relative error on its interval, by Lawson's iteratively
reweighted least squares in float64 (numpy):
  exp(r) = 1 + r + r^2 q(r),      q of degree 4, r in [-ln2/2, ln2/2]
  tanh(x) = x + x^3 q(x^2),       q of degree 4, x in [0, 0.55]
It also prints the truncation at 0.55 of the Taylor series of tanh to x^13, which the kernels
used before. Run: /usr/bin/python3 scripts/fit_vec_math.py
"""
import math

import numpy as np


def lawson(basis, target, weight, iterations=300):
    """Coefficients c minimising max |basis @ c - target| / weight (near-minimax)."""
    w = np.ones_like(target)
    for _ in range(iterations):
        scale = np.sqrt(w) / weight
        c, *_ = np.linalg.lstsq(basis * scale[:, None], target * scale, rcond=None)
        err = np.abs((basis @ c - target) / weight)
        w = w * err
        w /= w.sum()
    return c, err.max()


def main():
    half_ln2 = math.log(2) / 2
    r = np.cos(np.linspace(0, np.pi, 4001)) * half_ln2
    c, err = lawson(np.stack([r ** (k + 2) for k in range(5)], 1), np.exp(r) - 1 - r, np.exp(r))
    print("exp:  q coefficients (r^0 .. r^4):", ", ".join(f"{v:.8g}" for v in c))
    print(f"      relative truncation {err:.2e} (float's half ulp 5.96e-08)")

    x = np.cos(np.linspace(0, np.pi / 2, 6001)) * 0.55
    x = x[x > 1e-4]
    t = np.tanh(x)
    c, err = lawson(np.stack([x ** (2 * k + 3) for k in range(5)], 1), t - x, t)
    print("tanh: q coefficients (x^0 .. x^8):", ", ".join(f"{v:.9g}" for v in c))
    print(f"      relative truncation {err:.2e}")
    taylor = [1, -1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925, 21844 / 6081075]
    series = sum(a * 0.55 ** (2 * k + 1) for k, a in enumerate(taylor))
    print(f"      Taylor series to x^13 at 0.55: off by {abs(series - math.tanh(0.55)):.2e}")


if __name__ == "__main__":
    main()
