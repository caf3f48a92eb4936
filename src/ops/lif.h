#pragma once
// LIF, the leaky integrate-and-fire baseline of the spiking cells (docs/cells.md section 2,
// "LIF baseline": snnTorch's Leaky, reset by subtraction): the tensors of one layer and the
// tensor-level contract kept by reference::lif_forward (reference/lif_reference.cpp) and
// fused::lif_forward (kernels/lif.cpp over kernels/cpu/lif_cpu.cpp). W, b and the initial
// membrane are learned; beta, the threshold and the surrogate's slope are fixed.
#include <torch/types.h>

namespace neurocell {

struct LifWeights {
  torch::Tensor weight;    // (H, I) W, learned
  torch::Tensor bias;      // (H) b, learned
  double beta = 0.9;       // leak of the membrane, one value per layer
  double threshold = 1.0;  // theta
  double slope = 25.0;     // k of the fast-sigmoid surrogate 1 / (1 + k |u - theta|)^2
};

// Every state of a sequence, (T, B, H) each; row t is the state after reading input t.
struct LifSequence {
  torch::Tensor spikes;  // H(u - theta), 0/1: the layer's output (surrogate gradient)
  torch::Tensor u;       // membrane
};

namespace reference {
// x (T, B, I) input spikes, u0 (B, H) initial membrane. The reset theta * H(u_{t-1} - theta)
// passes no gradient.
LifSequence lif_forward(const torch::Tensor& x, const torch::Tensor& u0, const LifWeights& weights);
}  // namespace reference

namespace fused {
// The same, with `sparse_input`: W x from the nonzero entries of x only (spike trains).
LifSequence lif_forward(const torch::Tensor& x, const torch::Tensor& u0, const LifWeights& weights,
                        bool sparse_input);
}  // namespace fused

}  // namespace neurocell
