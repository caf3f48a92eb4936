// SRC through the FPGA design's integer arithmetic (ops/src_integer.h) as a
// torch::autograd::Function: the forward runs the runtime's neuron update, the backward the
// surrogate of the header.
#include "ops/src_integer.h"

#include <cmath>

#include "integer_src.h"
#include "core/error.h"
#include "kernels/common.h"
#include "ops/surrogate_relaxation.h"

namespace neurocell::fused {

namespace {

constexpr double kLeak = 1.0 - 1.0 / 16 - 1.0 / 32;  // the integrator's i -= (i >> 4) + (i >> 5)

double fast_sigmoid_slope(double d) { return 1.0 / ((1.0 + std::fabs(d)) * (1.0 + std::fabs(d))); }

struct Quantized {
  torch::Tensor values;  // (H, I) float of the integers
  double scale;
};

Quantized quantize(const torch::Tensor& weight, int bits) {
  const auto w = weight.detach().to(torch::kFloat32).contiguous();
  const std::vector<float> values(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
  const auto q = ncrt::quantize_weights(values, w.size(0), w.size(1), bits);
  auto out = torch::empty({w.size(0), w.size(1)}, torch::kFloat64);
  auto* o = out.data_ptr<double>();
  for (size_t k = 0; k < q.values.size(); ++k) o[k] = q.values[k];
  return {out, q.scale};
}

class IntegerSrcFunction : public torch::autograd::Function<IntegerSrcFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x_in, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& h0, const torch::Tensor& hs0,
                               IntegerSrcTrainingOptions o) {
    const int64_t T = x_in.size(0), B = x_in.size(1), I = x_in.size(2), H = weight.size(0);
    require(o.weight_bits >= 2 && o.weight_bits <= 14, "integer SRC: weight bits must be in 2..14");
    // Integer drives sum_j Wq[j] s_j: (T, B, H). Sums of integers are exact in float32 while
    // they stay below 2^24 (I 2^bits < 2^24: always for MNIST's 784 inputs up to 14 bits), so the
    // sparse float32 projection (only the inputs that spiked) gives the exact integers.
    const bool exact_in_float = static_cast<double>(I) * static_cast<double>(1 << o.weight_bits) < double(1 << 24);
    const auto x = x_in.detach().to(exact_in_float ? torch::kFloat32 : torch::kFloat64).contiguous();
    require(x.eq(0).logical_or(x.eq(1)).all().item<bool>(),
            "integer SRC: the input must be spikes (every value 0 or 1), as the FPGA design reads them");
    const auto q = quantize(weight, o.weight_bits);
    const auto wq = q.values.to(x.scalar_type());
    torch::Tensor drive;
    {
      torch::NoGradGuard no_grad;
      drive = input_projection(x.view({T * B, I}), wq, /*sparse_input=*/true).to(torch::kFloat64).view({T, B, H});
    }
    auto to_int = [](const torch::Tensor& t, double scale, int32_t lo, int32_t hi) {
      const auto d = t.detach().to(torch::kFloat64).contiguous();
      std::vector<int32_t> out(d.numel());
      for (int64_t k = 0; k < d.numel(); ++k)
        out[k] = ncrt::integer_math::clip(std::lround(scale * d.data_ptr<double>()[k]), lo, hi);
      return out;
    };
    // As ncrt::IntegerSrc::from_model loads them
    const auto h_init = to_int(h0, 1000.0, -1024, 1023), hs_init = to_int(hs0, 1000.0, -800, 1023);
    std::vector<int32_t> b(H);
    {
      const auto bf = bias.detach().to(torch::kFloat32).contiguous();
      for (int64_t j = 0; j < H; ++j) b[j] = ncrt::integer_bias(bf.data_ptr<float>()[j]);
    }
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    auto spikes = torch::empty({T, B, H}, f64), i = torch::empty({T, B, H}, f64), h = torch::empty({T, B, H}, f64),
         h_s = torch::empty({T, B, H}, f64), g = torch::empty({T, B, H}, f64);
    const double wh = 1000.0 * o.surrogate_h, wi = o.surrogate_i * static_cast<double>(1 << o.weight_bits);
    const double g_scale = 0.75 / wh * 2047.0 / wi;
    const double* d = drive.data_ptr<double>();
    double *ps = spikes.data_ptr<double>(), *pi = i.data_ptr<double>(), *ph = h.data_ptr<double>(),
           *phs = h_s.data_ptr<double>(), *pg = g.data_ptr<double>();
    at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t bb = b0; bb < b1; ++bb) {
        std::vector<ncrt::IntegerSrcNeuron> n(H);
        for (int64_t j = 0; j < H; ++j) n[j] = {0, h_init[j], hs_init[j]};
        for (int64_t t = 0; t < T; ++t) {
          const int64_t row = (t * B + bb) * H;
          for (int64_t j = 0; j < H; ++j) {
            const int64_t v = ncrt::integer_src_update(n[j], std::llround(d[row + j]), b[j], o.z_max, o.z_min);
            ps[row + j] = n[j].h >= ncrt::kIntegerSrcThreshold ? 1.0 : 0.0;
            pi[row + j] = n[j].i / q.scale;
            ph[row + j] = n[j].h / 1000.0;
            phs[row + j] = n[j].h_s / 1000.0;
            pg[row + j] = g_scale * fast_sigmoid_slope((0.75 * static_cast<double>(v) - 512.0) / wh) *
                          fast_sigmoid_slope(n[j].i / wi);
          }
        }
      }
    });
    ctx->save_for_backward({x, g, wq});
    ctx->saved_data["scale"] = q.scale;
    ctx->saved_data["x_needs_grad"] = x_in.requires_grad();
    const auto dtype = weight.scalar_type();
    auto out = variable_list{spikes.to(dtype), i.to(dtype), h.to(dtype), h_s.to(dtype)};
    ctx->mark_non_differentiable({out[1], out[2], out[3]});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &g = saved[1], &wq = saved[2];
    const int64_t T = x.size(0), B = x.size(1), I = x.size(2), H = wq.size(0);
    const auto dtype = grads[0].defined() ? grads[0].scalar_type() : torch::kFloat64;
    if (!grads[0].defined()) return {torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    // dL/di_t = g_t dL/ds_t, then through i_t = leak i_{t-1} + D_t backwards: dL/dD_t
    auto d_drive = (g * grads[0].to(torch::kFloat64)).contiguous();  // float64 for the filter
    double* dd = d_drive.data_ptr<double>();
    at::parallel_for(0, B * H, 64, [&](int64_t k0, int64_t k1) {
      for (int64_t t = T - 2; t >= 0; --t)
        for (int64_t k = k0; k < k1; ++k) dd[t * B * H + k] += kLeak * dd[(t + 1) * B * H + k];
    });
    const double scale = ctx->saved_data["scale"].toDouble();
    const auto flat = d_drive.view({T * B, H}).to(x.scalar_type());
    const auto d_weight = (parallel_mm(flat.t().contiguous(), x.view({T * B, I})) * scale).to(dtype);
    torch::Tensor d_x;
    if (ctx->saved_data["x_needs_grad"].toBool()) d_x = parallel_mm(flat, wq).view({T, B, I}).to(dtype);
    return {d_x, d_weight, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

SrcSequence integer_src_forward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                const torch::Tensor& h0, const torch::Tensor& hs0,
                                const IntegerSrcTrainingOptions& options) {
  require(x.device().is_cpu(), "integer SRC: the integer arithmetic runs on the CPU");
  require(!surrogate_relaxation(),
          "integer SRC: the FPGA arithmetic has no surrogate relaxation (its backward is checked against the "
          "surrogate recomputed by hand); leave surrogate relaxation off for arithmetic=integer");
  const auto out = IntegerSrcFunction::apply(x, weight, bias, h0, hs0, options);
  return {out[0], out[1], out[2], out[3]};
}

std::pair<double, double> integer_src_rest(double bias, const IntegerSrcTrainingOptions& options) {
  // What the design holds after a long silence (the 20 blank frames of the rate code are its
  // own settling): 2000 steps with no input from h = h_s = 0.
  ncrt::IntegerSrcNeuron n{0, 0, 0};
  const int32_t b = ncrt::integer_bias(static_cast<float>(bias));
  for (int step = 0; step < 2000; ++step) ncrt::integer_src_update(n, 0, b, options.z_max, options.z_min);
  require(n.h < ncrt::kIntegerSrcThreshold,
          "integer SRC: with the bias " + std::to_string(bias) + " a neuron fires with no input (use a bias <= -4)");
  return {n.h / 1000.0, n.h_s / 1000.0};
}

}  // namespace neurocell::fused
