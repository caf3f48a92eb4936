#pragma once
// Helpers shared by the autograd wrappers of the fused kernels (kernels/*.cpp).
#include <torch/torch.h>

#include "kernels/cpu/kernels_cpu.h"

namespace neurocell::fused {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Checks what the kernels assume (CPU, float32/float64, matching dtypes, shapes).
void check_inputs(const char* cell, const torch::Tensor& x, const torch::Tensor& h0,
                  const std::vector<torch::Tensor>& weights);

// a (M, K) @ b (K, N) with the rows of the result split across the threads (BLAS runs
// single-threaded, see use_single_threaded_blas).
torch::Tensor parallel_mm(const torch::Tensor& a, const torch::Tensor& b);

// All input projections in one GEMM: x (T, B, I), weight (G, I), bias (G) -> (T, B, G).
torch::Tensor project_inputs(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// [h0; h_seq[0..T-2]]: the state each step started from, (T, B, H).
torch::Tensor previous_states(const torch::Tensor& h0, const torch::Tensor& h_seq);

// Gradients of the input side from d_drive (T, B, G): dx = d_drive W (if wanted),
// dW = d_drive^T x, db = sum over (T, B).
struct InputGradients {
  torch::Tensor x, weight, bias;
};
InputGradients input_gradients(const torch::Tensor& d_drive, const torch::Tensor& x, const torch::Tensor& weight,
                               bool want_x);

// dL/d(output) as a contiguous (T, B, H) tensor, zeros when autograd passes none.
torch::Tensor output_gradient(const torch::Tensor& grad, const torch::Tensor& like);

// The dtype-typed pointer of a tensor, or null for an undefined one.
template <class T>
T* ptr(const torch::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

}  // namespace neurocell::fused
