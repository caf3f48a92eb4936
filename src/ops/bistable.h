#pragma once
// BRC and nBRC, the tensor-level contract (docs/cells.md section 1) that both implementations
// keep: reference::  plain LibTorch ops, one step at a time, autograd backward
// (reference/brc_reference.cpp, nbrc_reference.cpp), and fused:: the CPU kernels with a
// hand-written backward through time (kernels/brc.cpp, nbrc.cpp over kernels/cpu/). Same
// values and gradients: float64 to 1e-10 (tests/test_cell_conformance.cpp).
//
// Shapes: x (T, B, I), h0 (B, H); returns every state (T, B, H), row t = h after reading x_t.
//   a = 1 + tanh(U_a x + w_a*h + b_a),  c = sigmoid(U_c x + w_c*h + b_c)
//   h' = c*h + (1-c)*tanh(U_h x + a*h + b_h)
// BRC:  weight_ih (3H, I) rows [U_a; U_c; U_h], bias (3H) [b_a; b_c; b_h], w_a, w_c (H): the
//       feedback is cellular (one weight per unit).
// nBRC: weight_ih (3H, I) as BRC, weight_hh (2H, H) rows [W_a; W_c], bias (3H): w_a*h and
//       w_c*h become W_a h and W_c h (the recurrent GEMM runs inside the time loop).
#include <torch/types.h>

namespace neurocell {
namespace reference {
torch::Tensor brc_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                          const torch::Tensor& bias, const torch::Tensor& w_a, const torch::Tensor& w_c);
torch::Tensor nbrc_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                           const torch::Tensor& weight_hh, const torch::Tensor& bias);
}  // namespace reference
namespace fused {
torch::Tensor brc_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                          const torch::Tensor& bias, const torch::Tensor& w_a, const torch::Tensor& w_c);
torch::Tensor nbrc_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                           const torch::Tensor& weight_hh, const torch::Tensor& bias);
}  // namespace fused
}  // namespace neurocell
