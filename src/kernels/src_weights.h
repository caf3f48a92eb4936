#pragma once
// The tensors of one SRC layer (cells.md section 2), shared by the reference and the fused
// implementation. Only weight, bias and the initial states are learned; the per-unit
// constants stay fixed during training (they are stored per unit so that models imported
// from the authors' code, whose constants may differ per unit, run unchanged).
#include <torch/types.h>

namespace neurocell {

struct SrcWeights {
  torch::Tensor weight;                      // (H, I) W, learned
  torch::Tensor bias;                        // (H) b, learned, clamped to b <= bias_max after each update
  torch::Tensor rho, r, r_s, z_hyp, z_dep;   // (H) constants
  double alpha = 0.9;                        // leak of the input integrator
  bool detach_recurrence = false;            // h, h_s of the previous step as constants in the backward
};

// Every state of a sequence, (T, B, H) each; row t is the state after reading input t.
struct SrcSequence {
  torch::Tensor spikes;  // ReLU(h): the layer's output (straight-through gradient)
  torch::Tensor i, h, h_s;
};

}  // namespace neurocell
