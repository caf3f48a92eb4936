#pragma once
// LSTM, the tensor-level contract (docs/cells.md section 1, baselines), kept by
// reference::lstm_forward (reference/lstm_reference.cpp) and fused::lstm_forward
// (kernels/lstm.cpp over kernels/cpu/lstm_cpu.cpp). torch::nn::LSTM's layout and values:
//   weight_ih (4H, I), weight_hh (4H, H) rows [i; f; g; o], bias_ih, bias_hh (4H)
//   c' = f*c + i*g, h' = o*tanh(c')
// x (T, B, I), h0, c0 (B, H) -> (h sequence, c sequence), both (T, B, H).
#include <torch/types.h>

#include <utility>

namespace neurocell {
namespace reference {
std::pair<torch::Tensor, torch::Tensor> lstm_forward(const torch::Tensor& x, const torch::Tensor& h0,
                                                     const torch::Tensor& c0, const torch::Tensor& weight_ih,
                                                     const torch::Tensor& weight_hh, const torch::Tensor& bias_ih,
                                                     const torch::Tensor& bias_hh);
}  // namespace reference
namespace fused {
std::pair<torch::Tensor, torch::Tensor> lstm_forward(const torch::Tensor& x, const torch::Tensor& h0,
                                                     const torch::Tensor& c0, const torch::Tensor& weight_ih,
                                                     const torch::Tensor& weight_hh, const torch::Tensor& bias_ih,
                                                     const torch::Tensor& bias_hh);
}  // namespace fused
}  // namespace neurocell
