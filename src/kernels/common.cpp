#include "kernels/common.h"

#include <dlfcn.h>
#include <malloc.h>

#include <cstdlib>
#include <mutex>

#include "core/error.h"
#include "kernels/fused.h"

namespace neurocell {

namespace kernels {
bool cpu_can_run(CpuCopy copy) {
  static const bool avx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  // The AVX-512 copy is built with the foundation, byte/word, vector-length and dq sets, as
  // ATen's own AVX512 copy; libgcc's check includes the OS saving the 512-bit registers.
  static const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  switch (copy) {
    case CpuCopy::avx512: return avx512;
    case CpuCopy::avx2: return avx2;
    default: return true;
  }
}

CpuCopy cpu_copy() {
  static const CpuCopy copy = [] {
    const char* forced = std::getenv("NEUROCELL_CPU_CAPABILITY");
    if (!forced || !*forced)
      return cpu_can_run(CpuCopy::avx512) ? CpuCopy::avx512
             : cpu_can_run(CpuCopy::avx2) ? CpuCopy::avx2
                                          : CpuCopy::baseline;
    const std::string asked(forced);
    // A throw leaves the static uninitialised, so every later kernel call refuses again.
    auto refuse = [&](const char* why) {
      throw Error("NEUROCELL_CPU_CAPABILITY=" + asked + " " + why);
    };
    if (asked == "default") return CpuCopy::baseline;
    if (asked == "avx2") {
      if (!cpu_can_run(CpuCopy::avx2)) refuse("but this CPU has no AVX2+FMA; use default");
      return CpuCopy::avx2;
    }
    if (asked == "avx512") {
      if (!cpu_can_run(CpuCopy::avx512)) refuse("but this CPU has no AVX-512 (F, BW, VL, DQ); use avx2 or default");
      return CpuCopy::avx512;
    }
    refuse("is not a CPU copy; use default, avx2 or avx512 (or unset it for the best)");
    return CpuCopy::baseline;
  }();
  return copy;
}

VecMath vec_math(CpuCopy copy) {
  using F = void (*)(const float*, float*, int64_t);
  using D = void (*)(const double*, double*, int64_t);
  switch (copy) {
    case CpuCopy::avx512:
      return {static_cast<F>(AVX512::vec_exp), static_cast<D>(AVX512::vec_exp), AVX512::vec_tanh, AVX512::vec_sigmoid,
              AVX512::vec_sleef_exp};
    case CpuCopy::avx2:
      return {static_cast<F>(AVX2::vec_exp), static_cast<D>(AVX2::vec_exp), AVX2::vec_tanh, AVX2::vec_sigmoid,
              AVX2::vec_sleef_exp};
    default:
      return {static_cast<F>(DEFAULT::vec_exp), static_cast<D>(DEFAULT::vec_exp), DEFAULT::vec_tanh,
              DEFAULT::vec_sigmoid, DEFAULT::vec_sleef_exp};
  }
}

const char* cpu_copy_name(CpuCopy copy) {
  switch (copy) {
    case CpuCopy::avx512: return "AVX512";
    case CpuCopy::avx2: return "AVX2";
    default: return "DEFAULT";
  }
}
}  // namespace kernels

namespace fused {

void use_single_threaded_blas() {
  static std::once_flag once;
  std::call_once(once, [] {
    using SetThreads = void (*)(int);
    // Looked up at run time: libblas may be another implementation than OpenBLAS.
    if (auto set = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
  });
}

void keep_freed_memory_in_heap() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_MAX, 0);               // no allocation is served by its own mmap
    mallopt(M_TRIM_THRESHOLD, 1 << 30);   // the heap's top is given back only above 1 GiB free
  });
}

void check_inputs(const char* cell, const torch::Tensor& x, const torch::Tensor& h0,
                  const std::vector<torch::Tensor>& weights) {
  const std::string who = std::string("fused ") + cell + ": ";
  require(x.device().is_cpu(), who + "the fused CPU kernels need CPU tensors (use --impl reference)");
  require(x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kFloat64,
          who + "float32 or float64 tensors only");
  require(x.dim() == 3 && h0.dim() == 2 && h0.size(0) == x.size(1), who + "x must be (T, B, I), h0 (B, H)");
  require(x.size(1) * h0.size(1) < (int64_t{1} << 31), who + "B*H too large for BLAS int indices");
  for (const auto& w : weights)
    require(w.scalar_type() == x.scalar_type() && w.device().is_cpu(),
            who + "parameters and inputs must share one dtype (model.to(dtype))");
  require(h0.scalar_type() == x.scalar_type(), who + "h0 and x must share one dtype");
}

torch::Tensor parallel_mm(const torch::Tensor& a, const torch::Tensor& b) {
  use_single_threaded_blas();
  torch::NoGradGuard no_grad;
  auto out = torch::empty({a.size(0), b.size(1)}, a.options());
  const int64_t rows = a.size(0);
  const int64_t grain = std::max<int64_t>(16, rows / (4 * at::get_num_threads()) + 1);
  at::parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    torch::NoGradGuard no_grad;  // grad mode is per thread; the autograd Function owns the graph
    auto block = out.narrow(0, r0, r1 - r0);
    at::mm_out(block, a.narrow(0, r0, r1 - r0), b);
  });
  return out;
}

torch::Tensor project_inputs(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const int64_t T = x.size(0), B = x.size(1);
  auto out = parallel_mm(x.reshape({T * B, x.size(2)}), weight.t());
  out.add_(bias);
  return out.view({T, B, weight.size(0)});
}

torch::Tensor previous_states(const torch::Tensor& h0, const torch::Tensor& h_seq) {
  return torch::cat({h0.unsqueeze(0), h_seq.narrow(0, 0, h_seq.size(0) - 1)}, 0);
}

InputGradients input_gradients(const torch::Tensor& d_drive, const torch::Tensor& x, const torch::Tensor& weight,
                               bool want_x) {
  const int64_t T = x.size(0), B = x.size(1), G = d_drive.size(2);
  const auto d_flat = d_drive.reshape({T * B, G});
  InputGradients g;
  if (want_x) g.x = parallel_mm(d_flat, weight).view({T, B, x.size(2)});
  g.weight = parallel_mm(d_flat.t(), x.reshape({T * B, x.size(2)}).contiguous());
  g.bias = d_flat.sum(0);
  return g;
}

torch::Tensor output_gradient(const torch::Tensor& grad, const torch::Tensor& like) {
  return grad.defined() ? grad.contiguous() : torch::zeros_like(like);
}

namespace {

class LinearFunction : public torch::autograd::Function<LinearFunction> {
 public:
  // x (R, K), weight (N, K) -> (R, N); the bias is added outside (autograd), so that an
  // absent bias never reaches an autograd Function as an undefined input.
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight) {
    ctx->save_for_backward({x, weight});
    return {parallel_mm(x, weight.t())};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto dy = grads[0].contiguous();
    torch::Tensor dx, dw;
    if (ctx->needs_input_grad(0)) dx = parallel_mm(dy, saved[1]);
    if (ctx->needs_input_grad(1)) dw = parallel_mm(dy.t(), saved[0]);
    return {dx, dw};
  }
};

}  // namespace

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  require(x.size(-1) == weight.size(1), "linear: input width " + std::to_string(x.size(-1)) +
                                            " does not match the weight's " + std::to_string(weight.size(1)));
  auto shape = x.sizes().vec();
  shape.back() = weight.size(0);
  const auto flat = x.reshape({-1, x.size(-1)}).contiguous();
  if (!x.device().is_cpu()) return torch::nn::functional::linear(x, weight, bias);
  auto y = LinearFunction::apply(flat, weight.contiguous())[0].view(shape);
  return bias.defined() ? y + bias : y;
}

}  // namespace fused
}  // namespace neurocell
