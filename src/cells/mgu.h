#pragma once
// MGU, one unit and one step, in two halves because the candidate reads f*h through a
// matrix (a GEMM between the halves):
//   f = sigmoid(pre_f)                pre_f = U_f x + b_f + W_f h
//   n = tanh(pre_n)                   pre_n = U_h x + b_h + W_h (f*h)
//   h' = (1 - f)*h + f*n
#include "cells/pointwise.h"

namespace neurocell::cells {

template <class V>
NEUROCELL_CELL_MATH V mgu_forget(V pre_f) {
  return sigmoid_(pre_f);
}

template <class V>
NEUROCELL_CELL_MATH V mgu_forward(V f, V pre_n, V h, V& n) {
  const V one(1);
  n = tanh_(pre_n);
  return (one - f) * h + f * n;
}

// First half of the backward: dL/dpre_n from dL/dh'.
template <class V>
NEUROCELL_CELL_MATH V mgu_backward_candidate(V dh, V f, V n) {
  const V one(1);
  return dh * f * (one - n * n);
}

// Second half, once d_fh = d_pre_n W_h is known: dL/dpre_f, and the direct part of dL/dh
// (the caller adds d_pre_f W_f).
template <class V>
NEUROCELL_CELL_MATH V mgu_backward_forget(V dh, V d_fh, V f, V n, V h, V& d_pre_f) {
  const V one(1);
  const V df = dh * (n - h) + d_fh * h;
  d_pre_f = df * f * (one - f);
  return dh * (one - f) + d_fh * f;
}

}  // namespace neurocell::cells
