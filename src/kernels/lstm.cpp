// LSTM as a torch::autograd::Function over the kernels of cpu/lstm_cpu.cpp.
#include "kernels/common.h"
#include "kernels/fused.h"

namespace neurocell::fused {

namespace {

class LstmFunction : public torch::autograd::Function<LstmFunction> {
 public:
  // x (T, B, I), h0, c0 (B, H), weight_ih (4H, I), weight_hh (4H, H), biases (4H)
  // -> h (T, B, H), c (T, B, H)
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& h0,
                               const torch::Tensor& c0, const torch::Tensor& weight_ih,
                               const torch::Tensor& weight_hh, const torch::Tensor& bias_ih,
                               const torch::Tensor& bias_hh) {
    KernelTensors k;
    k.steps = x.size(0), k.batch = x.size(1), k.hidden = h0.size(1);
    k.drive = project_inputs(x, weight_ih, bias_ih + bias_hh);  // both biases enter the same sum
    k.h0 = h0.contiguous(), k.c0 = c0.contiguous(), k.weight_hh = weight_hh.contiguous();
    k.h_seq = torch::empty({k.steps, k.batch, k.hidden}, x.options());
    k.c_seq = torch::empty({k.steps, k.batch, k.hidden}, x.options());
    k.saved = torch::empty({k.steps, k.batch, 5 * k.hidden}, x.options());  // [i, f, g, o, tanh c]
    run_kernel(k, NEUROCELL_KERNEL(lstm_forward));
    ctx->saved_data["x_needs_grad"] = x.requires_grad();
    ctx->save_for_backward({x, k.h0, k.c0, weight_ih, k.weight_hh, k.h_seq, k.c_seq, k.saved});
    return {k.h_seq, k.c_seq};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto &x = s[0], &weight_ih = s[3];
    KernelTensors k;
    k.h0 = s[1], k.c0 = s[2], k.weight_hh = s[4], k.h_seq = s[5], k.c_seq = s[6], k.saved = s[7];
    const int64_t T = x.size(0), B = x.size(1), H = k.h0.size(1);
    k.steps = T, k.batch = B, k.hidden = H;
    k.d_h_seq = output_gradient(grads[0], k.h_seq);
    if (grads[1].defined()) k.d_c_seq = grads[1].contiguous();  // a loss may read c too
    k.d_drive = torch::empty({T, B, 4 * H}, x.options());
    k.d_h0 = torch::empty({B, H}, x.options());
    k.d_c0 = torch::empty({B, H}, x.options());
    run_kernel(k, NEUROCELL_KERNEL(lstm_backward));
    const auto d_w_hh =
        parallel_mm(k.d_drive.reshape({T * B, 4 * H}).t(), previous_states(k.h0, k.h_seq).reshape({T * B, H}));
    const auto in = input_gradients(k.d_drive, x, weight_ih, ctx->saved_data["x_needs_grad"].toBool());
    return {in.x, k.d_h0, k.d_c0, in.weight, d_w_hh, in.bias, in.bias.clone()};  // two parameters, two tensors
  }
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> lstm_forward(const torch::Tensor& x, const torch::Tensor& h0,
                                                     const torch::Tensor& c0, const torch::Tensor& weight_ih,
                                                     const torch::Tensor& weight_hh, const torch::Tensor& bias_ih,
                                                     const torch::Tensor& bias_hh) {
  check_inputs("lstm", x, h0, {c0, weight_ih, weight_hh, bias_ih, bias_hh});
  use_single_threaded_blas();
  const auto out = LstmFunction::apply(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh);
  return {out[0], out[1]};
}

}  // namespace neurocell::fused
