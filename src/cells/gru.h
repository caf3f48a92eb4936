#pragma once
// GRU, one unit and one step, torch::nn::GRU's equations (gate order r, z, n):
//   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r*gh_n)
//   h' = (1 - z)*n + z*h
// gi = W_ih x + b_ih and gh = W_hh h + b_hh come from GEMMs outside.
#include "cells/pointwise.h"

namespace neurocell::cells {

template <class V>
struct GruGates {
  V r, z, n;
};

template <class V>
NEUROCELL_CELL_MATH V gru_forward(V gi_r, V gi_z, V gi_n, V gh_r, V gh_z, V gh_n, V h, GruGates<V>& g) {
  const V one(1);
  g.r = sigmoid_(gi_r + gh_r);
  g.z = sigmoid_(gi_z + gh_z);
  g.n = tanh_(gi_n + g.r * gh_n);
  return (one - g.z) * g.n + g.z * h;
}

// Gradients w.r.t. the pre-activations: d_r and d_z feed both gi and gh; d_n feeds gi_n and
// (times r) gh_n. Returns the direct part of dL/dh (z*dh); the caller adds d_gh W_hh.
template <class V>
NEUROCELL_CELL_MATH V gru_backward(V dh, V h, V gh_n, const GruGates<V>& g, V& d_r, V& d_z, V& d_n) {
  const V one(1);
  d_n = dh * (one - g.z) * (one - g.n * g.n);
  d_r = d_n * gh_n * g.r * (one - g.r);
  d_z = dh * (h - g.n) * g.z * (one - g.z);
  return dh * g.z;
}

}  // namespace neurocell::cells
