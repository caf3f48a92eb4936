#pragma once
// Fused implementations: the same signatures and results as reference/reference.h, computed
// by the kernels of kernels/cpu/ with a hand-written backward through time, wrapped as
// torch::autograd::Function. Inputs must be float32 or float64 CPU tensors.
#include <torch/types.h>

#include <utility>

#include "kernels/src_weights.h"

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

// SRC layer: x (T, B, I), initial states (B, H) each. `sparse_input` computes W x from the
// nonzero entries of x only (spike trains), otherwise one dense GEMM; same results.
SrcSequence src_forward(const torch::Tensor& x, const torch::Tensor& i0, const torch::Tensor& h0,
                        const torch::Tensor& hs0, const SrcWeights& weights, bool sparse_input);

// x (R, K) @ weight^T, weight (N, K), with autograd; sparse_input reads only the nonzeros of x.
torch::Tensor input_projection(const torch::Tensor& x, const torch::Tensor& weight, bool sparse_input);

// y = x W^T + b over the last axis of x (..., K), weight (N, K), bias (N) or undefined, with
// autograd; the GEMMs (forward, dx, dW) are split across LibTorch's threads (BLAS itself runs
// single-threaded, see below). The scan blocks' projections use it.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias = {});

// OpenBLAS's own threads fight LibTorch's OpenMP workers (measured 7x slower on 2 cores) and
// the kernels call BLAS from every worker: keep OpenBLAS at one thread. Idempotent.
void use_single_threaded_blas();

}  // namespace neurocell::fused
