// The scans of cpu/mru.cpp, mingru.cpp, lru.cpp (MRU family, minGRU, LRU core) as torch::autograd::Functions:
// checks with one-line errors naming the argument, the choice of algorithm, and the backward
// (a reverse scan in the same kernels; per-unit parameter gradients summed over the threads'
// partial sums, as for BRC).
#include "kernels/scan.h"

#include <sstream>

#include "core/error.h"
#include "kernels/common.h"
#include "kernels/fused.h"
#include "ops/surrogate_relaxation.h"

namespace neurocell::fused {

namespace {

// Work (steps x lanes) each thread must get before `automatic` cuts time into chunks: ATen's
// grain size; below it the sequential scan runs on one thread anyway.
constexpr int64_t kScanMinElementsPerThread = 32768;

std::string shape_text(at::IntArrayRef sizes) {
  std::ostringstream out;
  out << "(";
  for (size_t i = 0; i < sizes.size(); ++i) out << (i ? ", " : "") << sizes[i];
  out << ")";
  return out.str();
}

// The leading argument of a scan (drive, g_re): CPU, float32/float64, 3-d, non-empty.
void check_sequence(const std::string& who, const char* name, const torch::Tensor& x, const char* shape_names) {
  require(x.defined(), who + name + " is required");
  require(x.device().is_cpu(), who + name + " must be a CPU tensor (the fused scans run on the CPU; use the reference)");
  require(x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kFloat64,
          who + name + " must be float32 or float64, got " + std::string(c10::toString(x.scalar_type())));
  require(x.dim() == 3, who + name + " must be " + shape_names + ", got " + shape_text(x.sizes()));
  require(x.numel() > 0, who + name + " must not be empty, got " + shape_text(x.sizes()));
}

// Any other argument: defined, on the CPU, of the leading argument's dtype, of shape `shape`.
void check_argument(const std::string& who, const char* name, const torch::Tensor& t, const torch::Tensor& like,
                    const char* like_name, std::vector<int64_t> shape, const char* shape_names) {
  require(t.defined(), who + name + " is required, " + shape_names + " = " + shape_text(shape));
  require(t.device().is_cpu(), who + name + " must be a CPU tensor");
  require(t.scalar_type() == like.scalar_type(), who + name + " must have the dtype of " + like_name + " (" +
                                                     c10::toString(like.scalar_type()) + "), got " +
                                                     c10::toString(t.scalar_type()));
  require(t.sizes() == at::IntArrayRef(shape),
          who + name + " must be " + shape_names + " = " + shape_text(shape) + ", got " + shape_text(t.sizes()));
}

kernels::ScanSchedule schedule_for(ScanAlgorithm algorithm, int64_t chunk, int64_t steps, int64_t lanes) {
  kernels::ScanSchedule s;
  s.chunked = scan_uses_chunks(algorithm, steps, lanes);
  s.chunk = chunk;
  return s;
}

// autograd::Function inputs must be defined tensors: an unused beta/alpha travels as an empty
// placeholder, turned back into an undefined tensor (a null pointer for the kernel) inside.
torch::Tensor placeholder_if_undefined(const torch::Tensor& t, const torch::Tensor& like) {
  return t.defined() ? t : torch::empty({0}, like.options());
}
torch::Tensor unless_placeholder(const torch::Tensor& t) { return t.numel() ? t.contiguous() : torch::Tensor(); }

// The element type of an args struct, from one of its pointers.
template <class Args>
using ElementOf = std::remove_const_t<std::remove_pointer_t<decltype(Args::h0)>>;

// ---- MRU

struct MruSettings {
  MruKind kind;
  double tau, delta, theta_off, theta_on;
  kernels::ScanSchedule schedule;
  bool relaxed = false;  // forward only: the backward is the same either way
};

template <class T>
void fill_mru(kernels::MruScanArgs<T>& a, const MruSettings& s, const torch::Tensor& drive) {
  a.steps = drive.size(0), a.batch = drive.size(1), a.hidden = drive.size(2);
  a.kind = s.kind, a.schedule = s.schedule;
  a.tau = static_cast<T>(s.tau), a.delta = static_cast<T>(s.delta);
  a.theta_off = static_cast<T>(s.theta_off), a.theta_on = static_cast<T>(s.theta_on);
  a.relaxed = s.relaxed;
}

class MruScanFunction : public torch::autograd::Function<MruScanFunction> {
 public:
  // drive (T, B, H), beta (H) or undefined, alpha (H) or undefined, h0 (B, H) -> h (T, B, H)
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& drive_in, const torch::Tensor& beta_in,
                               const torch::Tensor& alpha_in, const torch::Tensor& h0_in, int64_t kind, double tau,
                               double delta, double theta_off, double theta_on, bool chunked, int64_t chunk,
                               bool relaxed) {
    const auto drive = drive_in.contiguous(), h0 = h0_in.contiguous();
    const auto beta = unless_placeholder(beta_in), alpha = unless_placeholder(alpha_in);
    const MruSettings settings{static_cast<MruKind>(kind), tau, delta, theta_off, theta_on, {chunked, chunk}, relaxed};
    auto h = torch::empty_like(drive);
    run_kernel_with<kernels::MruScanArgs>(
        drive.scalar_type(),
        [&](auto& a) {
          using T = ElementOf<std::decay_t<decltype(a)>>;
          fill_mru(a, settings, drive);
          a.drive = ptr<T>(drive), a.beta = ptr<T>(beta), a.alpha = ptr<T>(alpha), a.h0 = ptr<T>(h0);
          a.h_seq = ptr<T>(h);
        },
        [](const auto& a) { NEUROCELL_CPU_DISPATCH(mru_scan_forward, a); });
    ctx->saved_data["kind"] = kind;
    ctx->saved_data["tau"] = tau;
    ctx->saved_data["delta"] = delta;
    ctx->saved_data["theta_off"] = theta_off;
    ctx->saved_data["theta_on"] = theta_on;
    ctx->saved_data["chunked"] = chunked;
    ctx->saved_data["chunk"] = chunk;
    ctx->save_for_backward({drive, beta_in, alpha_in, h0, h});
    return {h};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto &drive = s[0], &h0 = s[3], &h = s[4];
    const auto beta = unless_placeholder(s[1]), alpha = unless_placeholder(s[2]);
    const MruSettings settings{static_cast<MruKind>(ctx->saved_data["kind"].toInt()),
                               ctx->saved_data["tau"].toDouble(),
                               ctx->saved_data["delta"].toDouble(),
                               ctx->saved_data["theta_off"].toDouble(),
                               ctx->saved_data["theta_on"].toDouble(),
                               {ctx->saved_data["chunked"].toBool(), ctx->saved_data["chunk"].toInt()}};
    const int64_t threads = at::get_num_threads(), H = drive.size(2);
    const auto d_h = output_gradient(grads[0], h);
    auto d_drive = torch::empty_like(drive), d_h0 = torch::empty_like(h0);
    torch::Tensor d_beta, d_alpha;  // (threads, H) partial sums, or undefined when not wanted
    if (beta.defined() && ctx->needs_input_grad(1)) d_beta = torch::zeros({threads, H}, drive.options());
    if (alpha.defined() && ctx->needs_input_grad(2)) d_alpha = torch::zeros({threads, H}, drive.options());
    run_kernel_with<kernels::MruScanArgs>(
        drive.scalar_type(),
        [&](auto& a) {
          using T = ElementOf<std::decay_t<decltype(a)>>;
          fill_mru(a, settings, drive);
          a.drive = ptr<T>(drive), a.beta = ptr<T>(beta), a.alpha = ptr<T>(alpha), a.h0 = ptr<T>(h0);
          a.h_seq = ptr<T>(h), a.d_h_seq = ptr<T>(d_h), a.d_drive = ptr<T>(d_drive), a.d_h0 = ptr<T>(d_h0);
          a.d_beta = ptr<T>(d_beta), a.d_alpha = ptr<T>(d_alpha);
        },
        [](const auto& a) { NEUROCELL_CPU_DISPATCH(mru_scan_backward, a); });
    const torch::Tensor none;
    return {d_drive, d_beta.defined() ? d_beta.sum(0) : none, d_alpha.defined() ? d_alpha.sum(0) : none, d_h0,
            none, none, none, none, none, none, none, none};
  }
};

// ---- minGRU

template <class T>
void fill_mingru(kernels::MinGruScanArgs<T>& a, const torch::Tensor& drive, const torch::Tensor& h0,
                 const kernels::ScanSchedule& schedule) {
  a.steps = drive.size(0), a.batch = drive.size(1), a.hidden = h0.size(1), a.schedule = schedule;
  a.drive = ptr<T>(drive), a.h0 = ptr<T>(h0);
}

class MinGruScanFunction : public torch::autograd::Function<MinGruScanFunction> {
 public:
  // drive (T, B, 2H) [z_pre | h_tilde], h0 (B, H) -> h (T, B, H)
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& drive_in, const torch::Tensor& h0_in,
                               bool chunked, int64_t chunk) {
    const auto drive = drive_in.contiguous(), h0 = h0_in.contiguous();
    auto h = torch::empty({drive.size(0), drive.size(1), h0.size(1)}, drive.options());
    run_kernel_with<kernels::MinGruScanArgs>(
        drive.scalar_type(),
        [&](auto& a) {
          using T = ElementOf<std::decay_t<decltype(a)>>;
          fill_mingru(a, drive, h0, {chunked, chunk});
          a.h_seq = ptr<T>(h);
        },
        [](const auto& a) { NEUROCELL_CPU_DISPATCH(mingru_scan_forward, a); });
    ctx->saved_data["chunked"] = chunked;
    ctx->saved_data["chunk"] = chunk;
    ctx->save_for_backward({drive, h0, h});
    return {h};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto &drive = s[0], &h0 = s[1], &h = s[2];
    const kernels::ScanSchedule schedule{ctx->saved_data["chunked"].toBool(), ctx->saved_data["chunk"].toInt()};
    const auto d_h = output_gradient(grads[0], h);
    auto d_drive = torch::empty_like(drive), d_h0 = torch::empty_like(h0);
    run_kernel_with<kernels::MinGruScanArgs>(
        drive.scalar_type(),
        [&](auto& a) {
          using T = ElementOf<std::decay_t<decltype(a)>>;
          fill_mingru(a, drive, h0, schedule);
          a.h_seq = ptr<T>(h), a.d_h_seq = ptr<T>(d_h), a.d_drive = ptr<T>(d_drive), a.d_h0 = ptr<T>(d_h0);
        },
        [](const auto& a) { NEUROCELL_CPU_DISPATCH(mingru_scan_backward, a); });
    const torch::Tensor none;
    return {d_drive, d_h0, none, none};
  }
};

// ---- LRU core

class ComplexScanFunction : public torch::autograd::Function<ComplexScanFunction> {
 public:
  // g_re, g_im (T, B, N), lambda_re, lambda_im (N), s0_re, s0_im (B, N) -> s_re, s_im (T, B, N)
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& g_re_in, const torch::Tensor& g_im_in,
                               const torch::Tensor& lambda_re_in, const torch::Tensor& lambda_im_in,
                               const torch::Tensor& s0_re_in, const torch::Tensor& s0_im_in, bool chunked,
                               int64_t chunk) {
    const auto g_re = g_re_in.contiguous(), g_im = g_im_in.contiguous();
    const auto lambda_re = lambda_re_in.contiguous(), lambda_im = lambda_im_in.contiguous();
    const auto s0_re = s0_re_in.contiguous(), s0_im = s0_im_in.contiguous();
    auto s_re = torch::empty_like(g_re), s_im = torch::empty_like(g_im);
    run_kernel_with<kernels::ComplexScanArgs>(
        g_re.scalar_type(),
        [&](auto& a) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(a.g_re)>>;
          a.steps = g_re.size(0), a.batch = g_re.size(1), a.hidden = g_re.size(2), a.schedule = {chunked, chunk};
          a.g_re = ptr<T>(g_re), a.g_im = ptr<T>(g_im), a.lambda_re = ptr<T>(lambda_re), a.lambda_im = ptr<T>(lambda_im);
          a.s0_re = ptr<T>(s0_re), a.s0_im = ptr<T>(s0_im), a.s_re = ptr<T>(s_re), a.s_im = ptr<T>(s_im);
        },
        [](const auto& a) { NEUROCELL_CPU_DISPATCH(complex_scan_forward, a); });
    ctx->saved_data["chunked"] = chunked;
    ctx->saved_data["chunk"] = chunk;
    ctx->save_for_backward({lambda_re, lambda_im, s0_re, s0_im, s_re, s_im});
    return {s_re, s_im};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto &lambda_re = s[0], &lambda_im = s[1], &s0_re = s[2], &s0_im = s[3], &s_re = s[4], &s_im = s[5];
    const kernels::ScanSchedule schedule{ctx->saved_data["chunked"].toBool(), ctx->saved_data["chunk"].toInt()};
    const auto d_s_re = output_gradient(grads[0], s_re), d_s_im = output_gradient(grads[1], s_im);
    const int64_t threads = at::get_num_threads(), N = s_re.size(2);
    auto d_g_re = torch::empty_like(s_re), d_g_im = torch::empty_like(s_im);
    auto d_s0_re = torch::empty_like(s0_re), d_s0_im = torch::empty_like(s0_im);
    auto d_lambda_re = torch::zeros({threads, N}, s_re.options()), d_lambda_im = torch::zeros({threads, N}, s_re.options());
    run_kernel_with<kernels::ComplexScanArgs>(
        s_re.scalar_type(),
        [&](auto& a) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(a.g_re)>>;
          a.steps = s_re.size(0), a.batch = s_re.size(1), a.hidden = N, a.schedule = schedule;
          a.lambda_re = ptr<T>(lambda_re), a.lambda_im = ptr<T>(lambda_im);
          a.s0_re = ptr<T>(s0_re), a.s0_im = ptr<T>(s0_im), a.s_re = ptr<T>(s_re), a.s_im = ptr<T>(s_im);
          a.d_s_re = ptr<T>(d_s_re), a.d_s_im = ptr<T>(d_s_im), a.d_g_re = ptr<T>(d_g_re), a.d_g_im = ptr<T>(d_g_im);
          a.d_s0_re = ptr<T>(d_s0_re), a.d_s0_im = ptr<T>(d_s0_im);
          a.d_lambda_re = ptr<T>(d_lambda_re), a.d_lambda_im = ptr<T>(d_lambda_im);
        },
        [](const auto& a) { NEUROCELL_CPU_DISPATCH(complex_scan_backward, a); });
    const torch::Tensor none;
    return {d_g_re, d_g_im, d_lambda_re.sum(0), d_lambda_im.sum(0), d_s0_re, d_s0_im, none, none};
  }
};

}  // namespace

bool scan_uses_chunks(ScanAlgorithm algorithm, int64_t steps, int64_t lanes) {
  if (algorithm != ScanAlgorithm::automatic) return algorithm == ScanAlgorithm::chunked;
  const int64_t threads = at::get_num_threads();
  return threads > 1 && lanes < threads * kScanLanesPerThread && steps * lanes >= threads * kScanMinElementsPerThread;
}

torch::Tensor mru_scan(const torch::Tensor& drive, const torch::Tensor& beta, const torch::Tensor& alpha,
                       const torch::Tensor& h0, const MruOptions& options) {
  const std::string who = "fused mru_scan: ";
  check_sequence(who, "drive", drive, "(T, B, H)");
  const int64_t B = drive.size(1), H = drive.size(2);
  check_argument(who, "h0", h0, drive, "drive", {B, H}, "(B, H)");
  const bool fq = options.kind == MruKind::fq_bmru, acmru = options.kind == MruKind::acmru;
  if (!fq || beta.defined()) check_argument(who, "beta", beta, drive, "drive", {H}, "(H)");
  if (acmru) {
    check_argument(who, "alpha", alpha, drive, "drive", {H}, "(H)");
  } else {
    require(!alpha.defined(), who + "alpha is used by acmru only; pass an undefined tensor");
  }
  require(options.tau > 0, who + "tau must be > 0, got " + std::to_string(options.tau));
  require(options.levels >= 2, who + "levels must be >= 2, got " + std::to_string(options.levels));
  require(options.theta_off < options.theta_on, who + "theta_off must be < theta_on, got " +
                                                     std::to_string(options.theta_off) + " and " +
                                                     std::to_string(options.theta_on));
  require(options.chunk >= 0, who + "chunk must be >= 0 (0 = automatic), got " + std::to_string(options.chunk));
  const auto schedule = schedule_for(options.algorithm, options.chunk, drive.size(0), B * H);
  const double delta = 2.0 / static_cast<double>(options.levels - 1);
  return MruScanFunction::apply(drive, placeholder_if_undefined(fq ? torch::Tensor() : beta, drive),
                                placeholder_if_undefined(acmru ? alpha : torch::Tensor(), drive), h0,
                                static_cast<int64_t>(options.kind), options.tau, delta, options.theta_off,
                                options.theta_on, schedule.chunked, schedule.chunk, surrogate_relaxation())[0];
}

torch::Tensor mingru_scan(const torch::Tensor& drive, const torch::Tensor& h0, ScanAlgorithm algorithm, int64_t chunk) {
  const std::string who = "fused mingru_scan: ";
  check_sequence(who, "drive", drive, "(T, B, 2H)");
  require(drive.size(2) % 2 == 0, who + "drive must be (T, B, 2H) [z_pre | h_tilde], got an odd last size in " +
                                      shape_text(drive.sizes()));
  const int64_t B = drive.size(1), H = drive.size(2) / 2;
  check_argument(who, "h0", h0, drive, "drive", {B, H}, "(B, H)");
  require(chunk >= 0, who + "chunk must be >= 0 (0 = automatic), got " + std::to_string(chunk));
  const auto schedule = schedule_for(algorithm, chunk, drive.size(0), B * H);
  return MinGruScanFunction::apply(drive, h0, schedule.chunked, schedule.chunk)[0];
}

std::pair<torch::Tensor, torch::Tensor> complex_diagonal_scan(const torch::Tensor& g_re, const torch::Tensor& g_im,
                                                              const torch::Tensor& lambda_re,
                                                              const torch::Tensor& lambda_im,
                                                              const torch::Tensor& s0_re, const torch::Tensor& s0_im,
                                                              ScanAlgorithm algorithm, int64_t chunk) {
  const std::string who = "fused complex_diagonal_scan: ";
  check_sequence(who, "g_re", g_re, "(T, B, N)");
  const int64_t T = g_re.size(0), B = g_re.size(1), N = g_re.size(2);
  check_argument(who, "g_im", g_im, g_re, "g_re", {T, B, N}, "(T, B, N)");
  check_argument(who, "lambda_re", lambda_re, g_re, "g_re", {N}, "(N)");
  check_argument(who, "lambda_im", lambda_im, g_re, "g_re", {N}, "(N)");
  check_argument(who, "s0_re", s0_re, g_re, "g_re", {B, N}, "(B, N)");
  check_argument(who, "s0_im", s0_im, g_re, "g_re", {B, N}, "(B, N)");
  require(chunk >= 0, who + "chunk must be >= 0 (0 = automatic), got " + std::to_string(chunk));
  const auto schedule = schedule_for(algorithm, chunk, T, B * N);
  const auto s = ComplexScanFunction::apply(g_re, g_im, lambda_re, lambda_im, s0_re, s0_im, schedule.chunked,
                                            schedule.chunk);
  return {s[0], s[1]};
}

}  // namespace neurocell::fused
