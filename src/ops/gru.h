#pragma once
// GRU, the tensor-level contract (docs/cells.md section 1, baselines), kept by
// reference::gru_forward (reference/gru_reference.cpp) and fused::gru_forward (kernels/gru.cpp
// over kernels/cpu/gru_cpu.cpp, hand-written backward). torch::nn::GRU's layout and values:
//   weight_ih (3H, I), weight_hh (3H, H) rows [r; z; n], bias_ih, bias_hh (3H)
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h
// x (T, B, I), h0 (B, H) -> every state (T, B, H).
#include <torch/types.h>

namespace neurocell {
namespace reference {
torch::Tensor gru_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                          const torch::Tensor& weight_hh, const torch::Tensor& bias_ih, const torch::Tensor& bias_hh);
}  // namespace reference
namespace fused {
torch::Tensor gru_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                          const torch::Tensor& weight_hh, const torch::Tensor& bias_ih, const torch::Tensor& bias_hh);
}  // namespace fused
}  // namespace neurocell
