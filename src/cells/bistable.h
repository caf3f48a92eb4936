#pragma once
// BRC and nBRC, one unit and one time step (cells.md section 1). The two cells differ only
// in how the gates see the previous state: BRC through per-unit weights (w_a*h, w_c*h),
// nBRC through full matrices (W_a h, W_c h, computed by a GEMM outside). Here pre_a and
// pre_c already include that recurrent term.
//
//   a  = 1 + tanh(pre_a)                  pre_a = U_a x + b_a + (w_a*h | W_a h)
//   c  = sigmoid(pre_c)                   pre_c = U_c x + b_c + (w_c*h | W_c h)
//   n  = tanh(drive_h + a*h)              drive_h = U_h x + b_h
//   h' = c*h + (1 - c)*n
#include "cells/pointwise.h"

namespace neurocell::cells {

template <class V>
struct BistableGates {
  V a, c, n;
};

template <class V>
NEUROCELL_CELL_MATH V bistable_forward(V pre_a, V pre_c, V drive_h, V h, BistableGates<V>& g) {
  const V one(1);
  g.a = one + tanh_(pre_a);
  g.c = sigmoid_(pre_c);
  g.n = tanh_(drive_h + g.a * h);
  return g.c * h + (one - g.c) * g.n;
}

// Given dL/dh' (dh), the gradients with respect to pre_a, pre_c, drive_h, and the part of
// dL/dh that does not go through pre_a/pre_c (the caller adds w_a*d_pre_a + w_c*d_pre_c for
// BRC, or [d_pre_a, d_pre_c] W for nBRC).
template <class V>
NEUROCELL_CELL_MATH V bistable_backward(V dh, V h, const BistableGates<V>& g, V& d_pre_a, V& d_pre_c, V& d_drive_h) {
  const V one(1);
  const V a_minus_1 = g.a - one;
  d_drive_h = dh * (one - g.c) * (one - g.n * g.n);
  d_pre_a = d_drive_h * h * (one - a_minus_1 * a_minus_1);
  d_pre_c = dh * (h - g.n) * g.c * (one - g.c);
  return dh * g.c + d_drive_h * g.a;
}

}  // namespace neurocell::cells
