#pragma once
// MGU, the tensor-level contract (docs/cells.md section 1, baselines), kept by
// reference::mgu_forward (reference/mgu_reference.cpp) and fused::mgu_forward (kernels/mgu.cpp
// over kernels/cpu/mgu_cpu.cpp).
//   weight_ih (2H, I) rows [U_f; U_h], weight_hh (2H, H) rows [W_f; W_h], bias (2H)
//   f = sigmoid(U_f x + W_f h + b_f), n = tanh(U_h x + W_h (f*h) + b_h), h' = (1-f)*h + f*n
// x (T, B, I), h0 (B, H) -> every state (T, B, H).
#include <torch/types.h>

namespace neurocell {
namespace reference {
torch::Tensor mgu_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                          const torch::Tensor& weight_hh, const torch::Tensor& bias);
}  // namespace reference
namespace fused {
torch::Tensor mgu_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                          const torch::Tensor& weight_hh, const torch::Tensor& bias);
}  // namespace fused
}  // namespace neurocell
