#pragma once
// Fused implementations: the same signatures and results as reference/reference.h, computed
// by the kernels of kernels/cpu/ with a hand-written backward through time, wrapped as
// torch::autograd::Function. Inputs must be float32 or float64 CPU tensors.
#include <torch/types.h>

#include <utility>

namespace neurocell::fused {

torch::Tensor brc_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                          const torch::Tensor& bias, const torch::Tensor& w_a, const torch::Tensor& w_c);
torch::Tensor nbrc_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                           const torch::Tensor& weight_hh, const torch::Tensor& bias);
torch::Tensor gru_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                          const torch::Tensor& weight_hh, const torch::Tensor& bias_ih,
                          const torch::Tensor& bias_hh);
std::pair<torch::Tensor, torch::Tensor> lstm_forward(const torch::Tensor& x, const torch::Tensor& h0,
                                                     const torch::Tensor& c0, const torch::Tensor& weight_ih,
                                                     const torch::Tensor& weight_hh, const torch::Tensor& bias_ih,
                                                     const torch::Tensor& bias_hh);
torch::Tensor mgu_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                          const torch::Tensor& weight_hh, const torch::Tensor& bias);

// OpenBLAS's own threads fight LibTorch's OpenMP workers (measured 7x slower on 2 cores) and
// the kernels call BLAS from every worker: keep OpenBLAS at one thread. Idempotent.
void use_single_threaded_blas();

}  // namespace neurocell::fused
