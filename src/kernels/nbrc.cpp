// nBRC as a torch::autograd::Function over the kernels of cpu/nbrc_cpu.cpp.
#include "kernels/common.h"
#include "kernels/fused.h"

namespace neurocell::fused {

namespace {

class NbrcFunction : public torch::autograd::Function<NbrcFunction> {
 public:
  // x (T, B, I), h0 (B, H), weight_ih (3H, I), weight_hh (2H, H), bias (3H) -> h (T, B, H)
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& h0,
                               const torch::Tensor& weight_ih, const torch::Tensor& weight_hh,
                               const torch::Tensor& bias) {
    const int64_t T = x.size(0), B = x.size(1), H = h0.size(1);
    const auto drive = project_inputs(x, weight_ih, bias);
    const auto h_init = h0.contiguous(), w_hh = weight_hh.contiguous();
    auto h_seq = torch::empty({T, B, H}, x.options());
    auto saved = torch::empty({T, B, 3 * H}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "nbrc_forward", [&] {
      kernels::KernelArgs<scalar_t> k;
      k.steps = T, k.batch = B, k.hidden = H;
      k.drive = ptr<scalar_t>(drive), k.weight_hh = ptr<scalar_t>(w_hh);
      k.h0 = ptr<scalar_t>(h_init), k.h_seq = ptr<scalar_t>(h_seq), k.saved = ptr<scalar_t>(saved);
      NEUROCELL_CPU_DISPATCH(nbrc_forward, k);
    });
    ctx->saved_data["x_needs_grad"] = x.requires_grad();
    ctx->save_for_backward({x, h_init, weight_ih, w_hh, h_seq, saved});
    return {h_seq};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto &x = s[0], &h0 = s[1], &weight_ih = s[2], &w_hh = s[3], &h_seq = s[4], &saved = s[5];
    const int64_t T = x.size(0), B = x.size(1), H = h0.size(1);
    const auto d_h_seq = output_gradient(grads[0], h_seq);
    auto d_drive = torch::empty({T, B, 3 * H}, x.options());
    auto d_h0 = torch::empty({B, H}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "nbrc_backward", [&] {
      kernels::KernelArgs<scalar_t> k;
      k.steps = T, k.batch = B, k.hidden = H;
      k.weight_hh = ptr<scalar_t>(w_hh), k.h0 = ptr<scalar_t>(h0), k.h_seq = ptr<scalar_t>(h_seq);
      k.saved = ptr<scalar_t>(saved), k.d_h_seq = ptr<scalar_t>(d_h_seq);
      k.d_drive = ptr<scalar_t>(d_drive), k.d_h0 = ptr<scalar_t>(d_h0);
      NEUROCELL_CPU_DISPATCH(nbrc_backward, k);
    });
    // dW_hh = [d_a | d_c]^T h_prev over every (t, b): one GEMM.
    const auto h_prev = previous_states(h0, h_seq).reshape({T * B, H});
    const auto d_w_hh = parallel_mm(d_drive.reshape({T * B, 3 * H}).narrow(1, 0, 2 * H).t(), h_prev);
    const auto in = input_gradients(d_drive, x, weight_ih, ctx->saved_data["x_needs_grad"].toBool());
    return {in.x, d_h0, in.weight, d_w_hh, in.bias};
  }
};

}  // namespace

torch::Tensor nbrc_forward(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& weight_ih,
                           const torch::Tensor& weight_hh, const torch::Tensor& bias) {
  check_inputs("nbrc", x, h0, {weight_ih, weight_hh, bias});
  use_single_threaded_blas();
  return NbrcFunction::apply(x, h0, weight_ih, weight_hh, bias)[0];
}

}  // namespace neurocell::fused
