// SRC as torch::autograd::Functions: the input projection (dense GEMM or the sparse kernel
// for spike inputs) and the recurrence (cpu/src_cpu.cpp), chained by autograd.
#include "kernels/common.h"
#include "kernels/fused.h"
#include "ops/surrogate_relaxation.h"

namespace neurocell::fused {

namespace {

class ProjectionFunction : public torch::autograd::Function<ProjectionFunction> {
 public:
  // x (R, K), weight (N, K) -> (R, N)
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x_in, const torch::Tensor& weight_in,
                               bool sparse) {
    const auto x = x_in.contiguous(), weight = weight_in.contiguous();
    ctx->saved_data["sparse"] = sparse;
    ctx->saved_data["x_needs_grad"] = x_in.requires_grad();
    ctx->save_for_backward({x, weight});
    if (!sparse) return {parallel_mm(x, weight.t())};
    const auto w_t = weight.t().contiguous();
    auto y = torch::empty({x.size(0), weight.size(0)}, x.options());
    run_kernel_with<kernels::SparseProjectionArgs>(
        x.scalar_type(),
        [&](auto& a) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(a.x)>>;
          a.rows = x.size(0), a.in = x.size(1), a.out = weight.size(0);
          a.x = ptr<T>(x), a.w_t = ptr<T>(w_t), a.y = ptr<T>(y);
        },
        [](const auto& a) { NEUROCELL_CPU_DISPATCH(sparse_projection, a); });
    return {y};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto &x = s[0], &weight = s[1];
    const auto d_y = grads[0].contiguous();
    torch::Tensor d_x, d_weight;
    if (ctx->saved_data["x_needs_grad"].toBool()) d_x = parallel_mm(d_y, weight);
    if (!ctx->saved_data["sparse"].toBool()) {
      d_weight = parallel_mm(d_y.t().contiguous(), x);
    } else {
      auto d_w_t = torch::zeros({at::get_num_threads(), x.size(1), weight.size(0)}, x.options());
      run_kernel_with<kernels::SparseProjectionArgs>(
          x.scalar_type(),
          [&](auto& a) {
            using T = std::remove_const_t<std::remove_pointer_t<decltype(a.x)>>;
            a.rows = x.size(0), a.in = x.size(1), a.out = weight.size(0);
            a.x = ptr<T>(x), a.d_y = ptr<T>(d_y), a.d_w_t = ptr<T>(d_w_t);
          },
          [](const auto& a) { NEUROCELL_CPU_DISPATCH(sparse_projection_backward, a); });
      d_weight = d_w_t.sum(0).t().contiguous();
    }
    return {d_x, d_weight, torch::Tensor()};
  }
};

class SrcFunction : public torch::autograd::Function<SrcFunction> {
 public:
  // drive (T, B, H), i0/h0/hs0 (B, H), bias and constants (H) -> spikes, i, h, h_s (T, B, H)
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& drive_in, const torch::Tensor& i0_in,
                               const torch::Tensor& h0_in, const torch::Tensor& hs0_in, const torch::Tensor& bias,
                               const torch::Tensor& rho, const torch::Tensor& r, const torch::Tensor& r_s,
                               const torch::Tensor& z_hyp, const torch::Tensor& z_dep, double alpha, bool detach,
                               bool relaxed) {
    const auto drive = drive_in.contiguous(), i0 = i0_in.contiguous(), h0 = h0_in.contiguous(),
               hs0 = hs0_in.contiguous();
    std::vector<torch::Tensor> constants = {bias.contiguous(), rho.contiguous(), r.contiguous(),
                                            r_s.contiguous(), z_hyp.contiguous(), z_dep.contiguous()};
    auto i_seq = torch::empty_like(drive), h_seq = torch::empty_like(drive), hs_seq = torch::empty_like(drive);
    run_kernel_with<kernels::SrcArgs>(
        drive.scalar_type(),
        [&](auto& a) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(a.drive)>>;
          a.steps = drive.size(0), a.batch = drive.size(1), a.hidden = drive.size(2);
          a.alpha = static_cast<T>(alpha), a.detach_recurrence = detach;
          a.drive = ptr<T>(drive), a.bias = ptr<T>(constants[0]), a.rho = ptr<T>(constants[1]);
          a.r = ptr<T>(constants[2]), a.r_s = ptr<T>(constants[3]), a.z_hyp = ptr<T>(constants[4]);
          a.z_dep = ptr<T>(constants[5]), a.i0 = ptr<T>(i0), a.h0 = ptr<T>(h0), a.hs0 = ptr<T>(hs0);
          a.i_seq = ptr<T>(i_seq), a.h_seq = ptr<T>(h_seq), a.hs_seq = ptr<T>(hs_seq);
        },
        [](const auto& a) { NEUROCELL_CPU_DISPATCH(src_forward, a); });
    ctx->saved_data["alpha"] = alpha;
    ctx->saved_data["detach"] = detach;
    ctx->save_for_backward({i0, h0, hs0, constants[0], constants[1], constants[2], constants[3], constants[4],
                            constants[5], i_seq, h_seq});
    ctx->mark_non_differentiable({i_seq, hs_seq});
    // Relaxed (ops/surrogate_relaxation.h): the spikes are h itself, whose derivative the
    // straight-through ReLU passes.
    return {relaxed ? h_seq.clone() : torch::relu(h_seq), i_seq, h_seq, hs_seq};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto &i0 = s[0], &h0 = s[1], &hs0 = s[2], &i_seq = s[9], &h_seq = s[10];
    // The surrogate ReLU: dL/dh gets dL/dspikes unchanged, plus any gradient taken on h itself.
    auto d_h_seq = output_gradient(grads[0], h_seq);
    if (grads[2].defined()) d_h_seq = d_h_seq + grads[2];
    d_h_seq = d_h_seq.contiguous();
    const int64_t T = h_seq.size(0), B = h_seq.size(1), H = h_seq.size(2);
    auto d_drive = torch::empty_like(h_seq), d_i0 = torch::empty_like(i0), d_h0 = torch::empty_like(h0),
         d_hs0 = torch::empty_like(hs0);
    auto d_bias = torch::zeros({at::get_num_threads(), H}, h_seq.options());
    const double alpha = ctx->saved_data["alpha"].toDouble();
    const bool detach = ctx->saved_data["detach"].toBool();
    run_kernel_with<kernels::SrcArgs>(
        h_seq.scalar_type(),
        [&](auto& a) {
          using T_ = std::remove_const_t<std::remove_pointer_t<decltype(a.drive)>>;
          a.steps = T, a.batch = B, a.hidden = H, a.alpha = static_cast<T_>(alpha), a.detach_recurrence = detach;
          a.bias = ptr<T_>(s[3]), a.rho = ptr<T_>(s[4]), a.r = ptr<T_>(s[5]), a.r_s = ptr<T_>(s[6]);
          a.z_hyp = ptr<T_>(s[7]), a.z_dep = ptr<T_>(s[8]), a.h0 = ptr<T_>(h0);
          a.i_seq = ptr<T_>(i_seq), a.h_seq = ptr<T_>(h_seq), a.d_h_seq = ptr<T_>(d_h_seq);
          a.d_drive = ptr<T_>(d_drive), a.d_i0 = ptr<T_>(d_i0), a.d_h0 = ptr<T_>(d_h0), a.d_hs0 = ptr<T_>(d_hs0);
          a.d_bias = ptr<T_>(d_bias);
        },
        [](const auto& a) { NEUROCELL_CPU_DISPATCH(src_backward, a); });
    const torch::Tensor none;
    return {d_drive, d_i0, d_h0, d_hs0, d_bias.sum(0), none, none, none, none, none, none, none, none};
  }
};

}  // namespace

torch::Tensor input_projection(const torch::Tensor& x, const torch::Tensor& weight, bool sparse_input) {
  use_single_threaded_blas();
  return ProjectionFunction::apply(x, weight, sparse_input)[0];
}

SrcSequence src_forward(const torch::Tensor& x, const torch::Tensor& i0, const torch::Tensor& h0,
                        const torch::Tensor& hs0, const SrcWeights& w, bool sparse_input) {
  check_inputs("src", x, h0, {i0, hs0, w.weight, w.bias, w.rho, w.r, w.r_s, w.z_hyp, w.z_dep});
  const int64_t T = x.size(0), B = x.size(1), H = w.weight.size(0);
  const auto drive = input_projection(x.reshape({T * B, x.size(2)}), w.weight, sparse_input).view({T, B, H});
  const auto out = SrcFunction::apply(drive, i0, h0, hs0, w.bias, w.rho, w.r, w.r_s, w.z_hyp, w.z_dep, w.alpha,
                                      w.detach_recurrence, surrogate_relaxation());
  return {out[0], out[1], out[2], out[3]};
}

}  // namespace neurocell::fused
