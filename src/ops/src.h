#pragma once
// SRC, the spiking recurrent cell: the tensors of one layer and the tensor-level contract
// (docs/cells.md section 2) kept by reference::src_forward (reference/src_reference.cpp) and
// fused::src_forward (kernels/src.cpp over kernels/cpu/src_cpu.cpp). Only weight, bias and the
// initial states are learned; the per-unit constants stay fixed during training (they are
// stored per unit so that models imported from the authors' code, whose constants may differ
// per unit, run unchanged).
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

namespace reference {
// x (T, B, I) input spikes, i0/h0/hs0 (B, H). The ReLU's derivative is 1 (straight through),
// the Heaviside gate passes no gradient.
SrcSequence src_forward(const torch::Tensor& x, const torch::Tensor& i0, const torch::Tensor& h0,
                        const torch::Tensor& hs0, const SrcWeights& weights);
}  // namespace reference

namespace fused {
// The same, with `sparse_input`: W x from the nonzero entries of x only (spike trains),
// otherwise one dense GEMM; same results.
SrcSequence src_forward(const torch::Tensor& x, const torch::Tensor& i0, const torch::Tensor& h0,
                        const torch::Tensor& hs0, const SrcWeights& weights, bool sparse_input);
// x (R, K) @ weight^T, weight (N, K), with autograd; sparse_input reads only the nonzeros of x.
torch::Tensor input_projection(const torch::Tensor& x, const torch::Tensor& weight, bool sparse_input);
}  // namespace fused

}  // namespace neurocell
