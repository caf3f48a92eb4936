// BRC as a torch::autograd::Function over the kernels of cpu/brc_cpu.cpp, which recompute the
// gates in the backward; narrow inputs are projected inside the time loop (no (T, B, 3H)
// buffer), wide ones by one large GEMM here.
#include "kernels/common.h"
#include "kernels/fused.h"

namespace neurocell::fused {

namespace {

// Inputs at least this wide are projected by one large GEMM over all steps (cpu/brc_cpu.cpp
// says why); narrower ones step by step inside the kernels. At the copy task's I = 1 the
// per-step way keeps no (T, B, 3H) buffer; for a stack's upper layers the large GEMMs are
// faster (bench/results: the wide shape, I = 64, 16.4 -> 15.3 ms).
constexpr int64_t wide_input = 16;

class BrcFunction : public torch::autograd::Function<BrcFunction> {
 public:
  // x (T, B, I), h0 (B, H), weight_ih (3H, I), bias (3H), w_a (H), w_c (H) -> h (T, B, H)
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& h0,
                               const torch::Tensor& weight_ih, const torch::Tensor& bias, const torch::Tensor& w_a,
                               const torch::Tensor& w_c) {
    KernelTensors k;
    k.steps = x.size(0), k.batch = x.size(1), k.hidden = h0.size(1), k.input = x.size(2);
    k.x = x.contiguous(), k.h0 = h0.contiguous(), k.weight_ih = weight_ih.contiguous(), k.bias = bias.contiguous();
    k.w_a = w_a.contiguous(), k.w_c = w_c.contiguous();
    const bool wide = k.input >= wide_input;
    if (wide) k.drive = project_inputs(k.x, k.weight_ih, k.bias);  // (T, B, 3H)
    k.h_seq = torch::empty({k.steps, k.batch, k.hidden}, x.options());
    run_kernel(k, NEUROCELL_KERNEL(brc_forward));
    ctx->saved_data["x_needs_grad"] = x.requires_grad();
    ctx->save_for_backward({k.x, k.h0, k.weight_ih, k.bias, k.w_a, k.w_c, k.h_seq, k.drive});
    return {k.h_seq};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    KernelTensors k;
    k.x = s[0], k.h0 = s[1], k.weight_ih = s[2], k.bias = s[3], k.w_a = s[4], k.w_c = s[5], k.h_seq = s[6];
    k.drive = s[7];
    const int64_t T = k.x.size(0), B = k.x.size(1), I = k.x.size(2), H = k.h0.size(1);
    k.steps = T, k.batch = B, k.hidden = H, k.input = I;
    const auto opts = k.x.options();
    const bool wide = k.drive.defined(), x_needs_grad = ctx->saved_data["x_needs_grad"].toBool();
    const int64_t threads = at::get_num_threads();  // per-thread partial sums, one slot each
    k.d_h_seq = output_gradient(grads[0], k.h_seq);
    k.d_h0 = torch::empty({B, H}, opts);
    k.d_w_a = torch::zeros({threads, H}, opts);
    k.d_w_c = torch::zeros({threads, H}, opts);
    if (wide) {
      k.d_drive = torch::empty({T, B, 3 * H}, opts);
    } else {
      if (x_needs_grad) k.d_x = torch::empty({T, B, I}, opts);
      k.d_weight_ih = torch::zeros({threads, 3 * H, I}, opts);
      k.d_bias = torch::zeros({threads, 3 * H}, opts);
    }
    run_kernel(k, NEUROCELL_KERNEL(brc_backward));
    if (wide) {
      const auto in = input_gradients(k.d_drive, k.x, k.weight_ih, x_needs_grad);
      return {in.x, k.d_h0, in.weight, in.bias, k.d_w_a.sum(0), k.d_w_c.sum(0)};
    }
    return {k.d_x, k.d_h0, k.d_weight_ih.sum(0), k.d_bias.sum(0), k.d_w_a.sum(0), k.d_w_c.sum(0)};
  }
};

}  // namespace

torch::Tensor brc_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                          const torch::Tensor& bias, const torch::Tensor& w_a, const torch::Tensor& w_c) {
  check_inputs("brc", x, h0, {weight_ih, bias, w_a, w_c});
  use_single_threaded_blas();
  return BrcFunction::apply(x, h0, weight_ih, bias, w_a, w_c)[0];
}

}  // namespace neurocell::fused
