// GRU as a torch::autograd::Function over the kernels of cpu/gru_cpu.cpp.
#include "kernels/common.h"
#include "kernels/fused.h"

namespace neurocell::fused {

namespace {

class GruFunction : public torch::autograd::Function<GruFunction> {
 public:
  // x (T, B, I), h0 (B, H), weight_ih (3H, I), weight_hh (3H, H), bias_ih, bias_hh (3H) -> (T, B, H)
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& h0,
                               const torch::Tensor& weight_ih, const torch::Tensor& weight_hh,
                               const torch::Tensor& bias_ih, const torch::Tensor& bias_hh) {
    KernelTensors k;
    k.steps = x.size(0), k.batch = x.size(1), k.hidden = h0.size(1);
    k.drive = project_inputs(x, weight_ih, bias_ih);
    k.h0 = h0.contiguous(), k.weight_hh = weight_hh.contiguous(), k.bias_hh = bias_hh.contiguous();
    k.h_seq = torch::empty({k.steps, k.batch, k.hidden}, x.options());
    k.saved = torch::empty({k.steps, k.batch, 4 * k.hidden}, x.options());
    run_kernel(k, NEUROCELL_KERNEL(gru_forward));
    ctx->saved_data["x_needs_grad"] = x.requires_grad();
    ctx->save_for_backward({x, k.h0, weight_ih, k.weight_hh, k.h_seq, k.saved});
    return {k.h_seq};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto &x = s[0], &weight_ih = s[2];
    KernelTensors k;
    k.h0 = s[1], k.weight_hh = s[3], k.h_seq = s[4], k.saved = s[5];
    const int64_t T = x.size(0), B = x.size(1), H = k.h0.size(1);
    k.steps = T, k.batch = B, k.hidden = H;
    k.d_h_seq = output_gradient(grads[0], k.h_seq);
    k.d_drive = torch::empty({T, B, 3 * H}, x.options());      // dL/d(W_ih x + b_ih)
    k.d_recurrent = torch::empty({T, B, 3 * H}, x.options());  // dL/d(W_hh h + b_hh)
    k.d_h0 = torch::empty({B, H}, x.options());
    run_kernel(k, NEUROCELL_KERNEL(gru_backward));
    const auto d_gh = k.d_recurrent.reshape({T * B, 3 * H});
    const auto d_w_hh = parallel_mm(d_gh.t(), previous_states(k.h0, k.h_seq).reshape({T * B, H}));
    const auto in = input_gradients(k.d_drive, x, weight_ih, ctx->saved_data["x_needs_grad"].toBool());
    return {in.x, k.d_h0, in.weight, d_w_hh, in.bias, d_gh.sum(0)};
  }
};

}  // namespace

torch::Tensor gru_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                          const torch::Tensor& weight_hh, const torch::Tensor& bias_ih,
                          const torch::Tensor& bias_hh) {
  check_inputs("gru", x, h0, {weight_ih, weight_hh, bias_ih, bias_hh});
  use_single_threaded_blas();
  return GruFunction::apply(x, h0, weight_ih, weight_hh, bias_ih, bias_hh)[0];
}

}  // namespace neurocell::fused
