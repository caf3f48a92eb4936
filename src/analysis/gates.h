#pragma once
// Gate traces of the bistable cells (cells.md section 1), "for analysis", as the authors' cells
// return them (nvecoven/BRC cells/cells.py:51,85 return [output, z, r]):
//   a_t = 1 + tanh(U_a x_t + w_a ⊙ h_{t-1} + b_a)   (nBRC: W_a h_{t-1})   the feedback: a unit
//         is bistable at step t when a_t > 1
//   c_t = σ(U_c x_t + w_c ⊙ h_{t-1} + b_c)          (nBRC: W_c h_{t-1})   the update gate
// recomputed from the layer's own weights and its states (the fused kernels do not keep them),
// in the input's dtype, without gradient.
#include <torch/types.h>

#include <vector>

#include "nn/model.h"

namespace neurocell::analysis {

struct GateTraces {
  std::vector<torch::Tensor> a, c;  // per layer (T, B, H); a double layer's two halves side by side
};

// True when every layer of the model is a BRC or nBRC layer (double layers included).
bool has_bistable_gates(SequenceModel& model);

// a_t and c_t of every layer for x (T, B, I) from the zero state. Throws Error naming the cell
// when the model is not made of BRC / nBRC layers.
GateTraces bistable_gates(SequenceModel& model, const torch::Tensor& x);

// The fraction of (step, sample, unit) triples with a_t > 1 over every layer: the share of
// bistable units, a standard BRC analysis.
double bistable_fraction(const GateTraces& gates);

}  // namespace neurocell::analysis
