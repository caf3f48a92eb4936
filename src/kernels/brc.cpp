// BRC as a torch::autograd::Function over the kernels of cpu/brc_cpu.cpp, which project the
// inputs inside the time loop and recompute the gates in the backward (no (T, B, 3H) buffer).
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
    const auto xs = x.contiguous(), h_init = h0.contiguous(), w_ih = weight_ih.contiguous(), b = bias.contiguous(),
               wa = w_a.contiguous(), wc = w_c.contiguous();
    auto h_seq = torch::empty({T, B, H}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "brc_forward", [&] {
      kernels::KernelArgs<scalar_t> k;
      k.steps = T, k.batch = B, k.hidden = H, k.input = x.size(2);
      k.x = ptr<scalar_t>(xs), k.weight_ih = ptr<scalar_t>(w_ih), k.bias = ptr<scalar_t>(b);
      k.w_a = ptr<scalar_t>(wa), k.w_c = ptr<scalar_t>(wc), k.h0 = ptr<scalar_t>(h_init), k.h_seq = ptr<scalar_t>(h_seq);
      NEUROCELL_CPU_DISPATCH(brc_forward, k);
    });
    ctx->saved_data["x_needs_grad"] = x.requires_grad();
    ctx->save_for_backward({xs, h_init, w_ih, b, wa, wc, h_seq});
    return {h_seq};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto &x = s[0], &h0 = s[1], &w_ih = s[2], &bias = s[3], &w_a = s[4], &w_c = s[5], &h_seq = s[6];
    const int64_t T = x.size(0), B = x.size(1), I = x.size(2), H = h0.size(1);
    const auto d_h_seq = output_gradient(grads[0], h_seq);
    const int64_t threads = at::get_num_threads();
    const auto opts = x.options();
    auto d_x = ctx->saved_data["x_needs_grad"].toBool() ? torch::empty({T, B, I}, opts) : torch::Tensor();
    auto d_h0 = torch::empty({B, H}, opts);
    auto d_w_ih = torch::zeros({threads, 3 * H, I}, opts), d_bias = torch::zeros({threads, 3 * H}, opts);
    auto d_w_a = torch::zeros({threads, H}, opts), d_w_c = torch::zeros({threads, H}, opts);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "brc_backward", [&] {
      kernels::KernelArgs<scalar_t> k;
      k.steps = T, k.batch = B, k.hidden = H, k.input = I;
      k.x = ptr<scalar_t>(x), k.weight_ih = ptr<scalar_t>(w_ih), k.bias = ptr<scalar_t>(bias);
      k.w_a = ptr<scalar_t>(w_a), k.w_c = ptr<scalar_t>(w_c), k.h0 = ptr<scalar_t>(h0);
      k.h_seq = ptr<scalar_t>(h_seq), k.d_h_seq = ptr<scalar_t>(d_h_seq);
      k.d_x = ptr<scalar_t>(d_x), k.d_h0 = ptr<scalar_t>(d_h0), k.d_weight_ih = ptr<scalar_t>(d_w_ih);
      k.d_bias = ptr<scalar_t>(d_bias), k.d_w_a = ptr<scalar_t>(d_w_a), k.d_w_c = ptr<scalar_t>(d_w_c);
      NEUROCELL_CPU_DISPATCH(brc_backward, k);
    });
    return {d_x, d_h0, d_w_ih.sum(0), d_bias.sum(0), d_w_a.sum(0), d_w_c.sum(0)};
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
