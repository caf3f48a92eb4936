// LIF as a torch::autograd::Function over the kernels of cpu/lif_cpu.cpp; the input
// projection (dense GEMM or the sparse kernel for spike inputs) is SRC's, chained by autograd.
#include "kernels/common.h"
#include "kernels/fused.h"
#include "ops/surrogate_relaxation.h"

namespace neurocell::fused {

namespace {

class LifFunction : public torch::autograd::Function<LifFunction> {
 public:
  // drive (T, B, H) = W s_in, u0 (B, H), bias (H) -> spikes, u (T, B, H)
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& drive_in, const torch::Tensor& u0_in,
                               const torch::Tensor& bias_in, double beta, double threshold, double slope,
                               bool relaxed) {
    const auto drive = drive_in.contiguous(), u0 = u0_in.contiguous(), bias = bias_in.contiguous();
    auto u_seq = torch::empty_like(drive), s_seq = torch::empty_like(drive);
    run_kernel_with<kernels::LifArgs>(
        drive.scalar_type(),
        [&](auto& a) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(a.drive)>>;
          a.steps = drive.size(0), a.batch = drive.size(1), a.hidden = drive.size(2);
          a.beta = static_cast<T>(beta), a.threshold = static_cast<T>(threshold), a.slope = static_cast<T>(slope);
          a.relaxed = relaxed;
          a.drive = ptr<T>(drive), a.bias = ptr<T>(bias), a.u0 = ptr<T>(u0);
          a.u_seq = ptr<T>(u_seq), a.s_seq = ptr<T>(s_seq);
        },
        [](const auto& a) { NEUROCELL_CPU_DISPATCH(lif_forward, a); });
    ctx->saved_data["beta"] = beta;
    ctx->saved_data["threshold"] = threshold;
    ctx->saved_data["slope"] = slope;
    ctx->save_for_backward({u_seq, bias});
    return {s_seq, u_seq};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto &u_seq = s[0], &bias = s[1];
    const auto d_s_seq = output_gradient(grads[0], u_seq);
    const auto d_u_seq = grads[1].defined() ? grads[1].contiguous() : torch::Tensor();
    auto d_u = torch::empty_like(u_seq), d_u0 = torch::empty({u_seq.size(1), u_seq.size(2)}, u_seq.options());
    run_kernel_with<kernels::LifArgs>(
        u_seq.scalar_type(),
        [&](auto& a) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(a.drive)>>;
          a.steps = u_seq.size(0), a.batch = u_seq.size(1), a.hidden = u_seq.size(2);
          a.beta = static_cast<T>(ctx->saved_data["beta"].toDouble());
          a.threshold = static_cast<T>(ctx->saved_data["threshold"].toDouble());
          a.slope = static_cast<T>(ctx->saved_data["slope"].toDouble());
          a.bias = ptr<T>(bias), a.u_seq = ptr<T>(u_seq), a.d_s_seq = ptr<T>(d_s_seq), a.d_u_seq = ptr<T>(d_u_seq);
          a.d_u = ptr<T>(d_u), a.d_u0 = ptr<T>(d_u0);
        },
        [](const auto& a) { NEUROCELL_CPU_DISPATCH(lif_backward, a); });
    const torch::Tensor none;
    // dL/d drive_t = dL/du_t, and b enters every step as the drive does.
    return {d_u, d_u0, d_u.sum(torch::IntArrayRef{0, 1}), none, none, none, none};
  }
};

}  // namespace

LifSequence lif_forward(const torch::Tensor& x, const torch::Tensor& u0, const LifWeights& w, bool sparse_input) {
  check_inputs("lif", x, u0, {w.weight, w.bias});
  const int64_t T = x.size(0), B = x.size(1), H = w.weight.size(0);
  const auto drive = input_projection(x.reshape({T * B, x.size(2)}), w.weight, sparse_input).view({T, B, H});
  const auto out = LifFunction::apply(drive, u0, w.bias, w.beta, w.threshold, w.slope, surrogate_relaxation());
  return {out[0], out[1]};
}

}  // namespace neurocell::fused
