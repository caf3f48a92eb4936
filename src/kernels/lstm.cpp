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
    const int64_t T = x.size(0), B = x.size(1), H = h0.size(1);
    const auto drive = project_inputs(x, weight_ih, bias_ih + bias_hh);  // both biases enter the same sum
    const auto h_init = h0.contiguous(), c_init = c0.contiguous(), w_hh = weight_hh.contiguous();
    auto h_seq = torch::empty({T, B, H}, x.options());
    auto c_seq = torch::empty({T, B, H}, x.options());
    auto saved = torch::empty({T, B, 5 * H}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstm_forward", [&] {
      kernels::KernelArgs<scalar_t> k;
      k.steps = T, k.batch = B, k.hidden = H;
      k.drive = ptr<scalar_t>(drive), k.weight_hh = ptr<scalar_t>(w_hh);
      k.h0 = ptr<scalar_t>(h_init), k.c0 = ptr<scalar_t>(c_init);
      k.h_seq = ptr<scalar_t>(h_seq), k.c_seq = ptr<scalar_t>(c_seq), k.saved = ptr<scalar_t>(saved);
      NEUROCELL_CPU_DISPATCH(lstm_forward, k);
    });
    ctx->saved_data["x_needs_grad"] = x.requires_grad();
    ctx->save_for_backward({x, h_init, c_init, weight_ih, w_hh, h_seq, c_seq, saved});
    return {h_seq, c_seq};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto &x = s[0], &h0 = s[1], &c0 = s[2], &weight_ih = s[3], &w_hh = s[4], &h_seq = s[5], &c_seq = s[6],
               &saved = s[7];
    const int64_t T = x.size(0), B = x.size(1), H = h0.size(1);
    const auto d_h_seq = output_gradient(grads[0], h_seq);
    const auto d_c_seq = grads[1].defined() ? grads[1].contiguous() : torch::Tensor();
    auto d_pre = torch::empty({T, B, 4 * H}, x.options());
    auto d_h0 = torch::empty({B, H}, x.options()), d_c0 = torch::empty({B, H}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstm_backward", [&] {
      kernels::KernelArgs<scalar_t> k;
      k.steps = T, k.batch = B, k.hidden = H;
      k.weight_hh = ptr<scalar_t>(w_hh), k.h0 = ptr<scalar_t>(h0), k.c0 = ptr<scalar_t>(c0);
      k.h_seq = ptr<scalar_t>(h_seq), k.c_seq = ptr<scalar_t>(c_seq), k.saved = ptr<scalar_t>(saved);
      k.d_h_seq = ptr<scalar_t>(d_h_seq), k.d_c_seq = ptr<scalar_t>(d_c_seq);
      k.d_drive = ptr<scalar_t>(d_pre), k.d_h0 = ptr<scalar_t>(d_h0), k.d_c0 = ptr<scalar_t>(d_c0);
      NEUROCELL_CPU_DISPATCH(lstm_backward, k);
    });
    const auto d_w_hh =
        parallel_mm(d_pre.reshape({T * B, 4 * H}).t(), previous_states(h0, h_seq).reshape({T * B, H}));
    const auto in = input_gradients(d_pre, x, weight_ih, ctx->saved_data["x_needs_grad"].toBool());
    return {in.x, d_h0, d_c0, in.weight, d_w_hh, in.bias, in.bias.clone()};  // two parameters, two tensors
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
