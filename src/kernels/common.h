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

// The tensors behind kernels::KernelArgs (same names and shapes); undefined = null pointer.
struct KernelTensors {
  int64_t steps = 0, batch = 0, hidden = 0, input = 0;
  torch::Tensor x, weight_ih, bias, drive, weight_hh, bias_hh, w_a, w_c, h0, c0;
  torch::Tensor h_seq, c_seq, saved;
  torch::Tensor d_h_seq, d_c_seq, d_drive, d_recurrent, d_h0, d_c0;
  torch::Tensor d_x, d_weight_ih, d_bias, d_w_a, d_w_c;
};

template <class T>
kernels::KernelArgs<T> kernel_args(const KernelTensors& t) {
  kernels::KernelArgs<T> k;
  k.steps = t.steps, k.batch = t.batch, k.hidden = t.hidden, k.input = t.input;
  k.x = ptr<T>(t.x), k.weight_ih = ptr<T>(t.weight_ih), k.bias = ptr<T>(t.bias), k.drive = ptr<T>(t.drive);
  k.weight_hh = ptr<T>(t.weight_hh), k.bias_hh = ptr<T>(t.bias_hh), k.w_a = ptr<T>(t.w_a), k.w_c = ptr<T>(t.w_c);
  k.h0 = ptr<T>(t.h0), k.c0 = ptr<T>(t.c0), k.h_seq = ptr<T>(t.h_seq), k.c_seq = ptr<T>(t.c_seq);
  k.saved = ptr<T>(t.saved), k.d_h_seq = ptr<T>(t.d_h_seq), k.d_c_seq = ptr<T>(t.d_c_seq);
  k.d_drive = ptr<T>(t.d_drive), k.d_recurrent = ptr<T>(t.d_recurrent), k.d_h0 = ptr<T>(t.d_h0);
  k.d_c0 = ptr<T>(t.d_c0), k.d_x = ptr<T>(t.d_x), k.d_weight_ih = ptr<T>(t.d_weight_ih);
  k.d_bias = ptr<T>(t.d_bias), k.d_w_a = ptr<T>(t.d_w_a), k.d_w_c = ptr<T>(t.d_w_c);
  return k;
}

// Runs `kernel` (a generic lambda over KernelArgs<float|double>) for the dtype of h_seq.
template <class Kernel>
void run_kernel(const KernelTensors& t, Kernel&& kernel) {
  AT_DISPATCH_FLOATING_TYPES(t.h_seq.scalar_type(), "neurocell_kernel", [&] { kernel(kernel_args<scalar_t>(t)); });
}

// The same for kernels with their own argument struct (SRC, the scans): fill(args) sets up an
// Args<float|double> for `dtype`, then kernel(args) runs.
template <template <class> class Args, class Fill, class Kernel>
void run_kernel_with(torch::ScalarType dtype, Fill&& fill, Kernel&& kernel) {
  AT_DISPATCH_FLOATING_TYPES(dtype, "neurocell_kernel", [&] {
    Args<scalar_t> args;
    fill(args);
    kernel(args);
  });
}

// Shorthand: run_kernel(t, NEUROCELL_KERNEL(nbrc_forward)).
#define NEUROCELL_KERNEL(name) [](const auto& args) { NEUROCELL_CPU_DISPATCH(name, args); }

}  // namespace neurocell::fused
