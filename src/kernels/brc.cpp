// BRC as a torch::autograd::Function over the kernels of cpu/brc_cpu.cpp.
#include "kernels/common.h"
#include "kernels/fused.h"

namespace neurocell::fused {

namespace {

class BrcFunction : public torch::autograd::Function<BrcFunction> {
 public:
  // x (T, B, I), h0 (B, H), weight_ih (3H, I), bias (3H), w_a (H), w_c (H) -> h (T, B, H)
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& h0,
                               const torch::Tensor& weight_ih, const torch::Tensor& bias, const torch::Tensor& w_a,
                               const torch::Tensor& w_c) {
    const int64_t T = x.size(0), B = x.size(1), H = h0.size(1);
    const auto drive = project_inputs(x, weight_ih, bias);  // (T, B, 3H)
    const auto h_init = h0.contiguous(), wa = w_a.contiguous(), wc = w_c.contiguous();
    auto h_seq = torch::empty({T, B, H}, x.options());
    auto saved = torch::empty({T, B, 3 * H}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "brc_forward", [&] {
      kernels::KernelArgs<scalar_t> k;
      k.steps = T, k.batch = B, k.hidden = H;
      k.drive = ptr<scalar_t>(drive), k.w_a = ptr<scalar_t>(wa), k.w_c = ptr<scalar_t>(wc);
      k.h0 = ptr<scalar_t>(h_init), k.h_seq = ptr<scalar_t>(h_seq), k.saved = ptr<scalar_t>(saved);
      NEUROCELL_CPU_DISPATCH(brc_forward, k);
    });
    ctx->saved_data["x_needs_grad"] = x.requires_grad();
    ctx->save_for_backward({x, h_init, weight_ih, wa, wc, h_seq, saved});
    return {h_seq};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto &x = s[0], &h0 = s[1], &weight_ih = s[2], &w_a = s[3], &w_c = s[4], &h_seq = s[5], &saved = s[6];
    const int64_t T = x.size(0), B = x.size(1), H = h0.size(1);
    const auto d_h_seq = output_gradient(grads[0], h_seq);
    auto d_drive = torch::empty({T, B, 3 * H}, x.options());
    auto d_h0 = torch::empty({B, H}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "brc_backward", [&] {
      kernels::KernelArgs<scalar_t> k;
      k.steps = T, k.batch = B, k.hidden = H;
      k.w_a = ptr<scalar_t>(w_a), k.w_c = ptr<scalar_t>(w_c), k.h0 = ptr<scalar_t>(h0);
      k.h_seq = ptr<scalar_t>(h_seq), k.saved = ptr<scalar_t>(saved), k.d_h_seq = ptr<scalar_t>(d_h_seq);
      k.d_drive = ptr<scalar_t>(d_drive), k.d_h0 = ptr<scalar_t>(d_h0);
      NEUROCELL_CPU_DISPATCH(brc_backward, k);
    });
    const auto h_prev = previous_states(h0, h_seq);
    const auto d_w_a = (d_drive.narrow(2, 0, H) * h_prev).sum(std::vector<int64_t>{0, 1});
    const auto d_w_c = (d_drive.narrow(2, H, H) * h_prev).sum(std::vector<int64_t>{0, 1});
    const auto in = input_gradients(d_drive, x, weight_ih, ctx->saved_data["x_needs_grad"].toBool());
    return {in.x, d_h0, in.weight, in.bias, d_w_a, d_w_c};
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
