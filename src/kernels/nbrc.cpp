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
    KernelTensors k;
    k.steps = x.size(0), k.batch = x.size(1), k.hidden = h0.size(1);
    k.drive = project_inputs(x, weight_ih, bias);
    k.h0 = h0.contiguous(), k.weight_hh = weight_hh.contiguous();
    k.h_seq = torch::empty({k.steps, k.batch, k.hidden}, x.options());
    k.saved = torch::empty({k.steps, k.batch, 3 * k.hidden}, x.options());
    run_kernel(k, NEUROCELL_KERNEL(nbrc_forward));
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
    k.d_drive = torch::empty({T, B, 3 * H}, x.options());
    k.d_h0 = torch::empty({B, H}, x.options());
    run_kernel(k, NEUROCELL_KERNEL(nbrc_backward));
    // dW_hh = [d_a | d_c]^T h_prev over every (t, b): one GEMM.
    const auto h_prev = previous_states(k.h0, k.h_seq).reshape({T * B, H});
    const auto d_w_hh = parallel_mm(k.d_drive.reshape({T * B, 3 * H}).narrow(1, 0, 2 * H).t(), h_prev);
    const auto in = input_gradients(k.d_drive, x, weight_ih, ctx->saved_data["x_needs_grad"].toBool());
    return {in.x, k.d_h0, in.weight, d_w_hh, in.bias};
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
