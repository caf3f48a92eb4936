#include "bench/bench.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "nn/cell_registry.h"
#include "core/error.h"
#include "kernels/common.h"
#include "kernels/fused.h"
#include "kernels/cpu/kernels_cpu.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "nn/spiking.h"

namespace neurocell {

namespace {

using Clock = std::chrono::steady_clock;

// GEMM FLOPs of one forward+backward of a layer, the input not requiring a gradient (as for
// the first layer in training): input projections (forward, weight gradient) and the
// recurrent products (forward, state gradient, weight gradient).
double gemm_flops(CellKind kind, const BenchShape& s) {
  const double tb = static_cast<double>(s.steps) * s.batch, h = s.hidden, in = s.input;
  const auto& cell = cell_info(kind);
  require(cell.sequential(), "bench: " + cell.name + " is a scan cell, timed by `neurocell bench --scan`");
  const double gates = static_cast<double>(cell.input_gates), recurrent = static_cast<double>(cell.recurrent_gates);
  return 2 * tb * in * gates * h * 2 + 2 * tb * h * recurrent * h * 3;
}

// GEMM throughput on every thread, at the size of the backward's weight-gradient product.
double measure_gemm_flops_per_second(torch::ScalarType dtype) {
  const auto a = torch::randn({512, 6400}, torch::TensorOptions().dtype(dtype));
  const auto b = torch::randn({6400, 512}, torch::TensorOptions().dtype(dtype));
  const double seconds = median_seconds(5, [&] { fused::parallel_mm(a, b); });
  return 2.0 * 512 * 6400 * 512 / seconds;
}

// SRC on rate-coded input (spiking shape: B 64, T 220, I 784, H 100; 3.3 % of the inputs
// spike per step, MNIST's mean pixel value times the gain 0.25): fused with the sparse input
// projection, fused with one dense GEMM, and the reference.
nlohmann::json benchmark_src(const BenchOptions& options, torch::ScalarType dtype) {
  const int64_t B = 64, T = 220, I = 784, H = 100;
  const double density = 0.033;
  torch::manual_seed(0);
  SrcLayer layer(I, H);
  layer->to(dtype);
  const auto x = torch::bernoulli(torch::full({T, B, I}, density, torch::TensorOptions().dtype(dtype)));
  auto time = [&](Impl impl, bool sparse) {
    layer->impl = impl;
    layer->sparse_input = sparse;
    return median_seconds(options.repetitions, [&] {
      layer->zero_grad();
      layer->forward(x).spikes.sum().backward();
    });
  };
  const double sparse_s = time(Impl::fused, true), dense_s = time(Impl::fused, false),
               reference_s = time(Impl::reference, false);
  std::printf("\nSRC layer, forward+backward, B=%lld T=%lld I=%lld H=%lld, input density %.3f\n",
              static_cast<long long>(B), static_cast<long long>(T), static_cast<long long>(I),
              static_cast<long long>(H), density);
  std::printf("%-28s %9.2f ms  (%.0f images/s)\n", "fused, sparse projection", sparse_s * 1e3, B / sparse_s);
  std::printf("%-28s %9.2f ms  (%.0f images/s)\n", "fused, dense GEMM projection", dense_s * 1e3, B / dense_s);
  std::printf("%-28s %9.2f ms  (%.0f images/s)\n", "reference (LibTorch ops)", reference_s * 1e3, B / reference_s);
  std::printf("dense/sparse %.2f, reference/sparse %.1f\n", dense_s / sparse_s, reference_s / sparse_s);
  return {{"B", B},           {"T", T},
          {"I", I},           {"H", H},
          {"input_density", density},
          {"fused_sparse_ms", sparse_s * 1e3},
          {"fused_dense_ms", dense_s * 1e3},
          {"reference_ms", reference_s * 1e3},
          {"dense_over_sparse", dense_s / sparse_s},
          {"reference_over_sparse", reference_s / sparse_s}};
}

// OpenBLAS's kernel set ("Haswell", "SkylakeX", ...), looked up at run time as in
// use_single_threaded_blas: libblas may be another implementation.
std::string blas_core() {
  using CoreName = char* (*)();
  if (auto name = reinterpret_cast<CoreName>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"))) return name();
  return "not OpenBLAS";
}

// Seconds of one forward + backward of a layer of `kind` at `s` by each bound (see bench.h).
struct Bounds {
  double gemm_flops, transcendentals, streamed_bytes;  // the counts
  double gemm_s, transcendental_s, memory_s;           // the counts at the measured rates
  double seconds() const { return std::max({gemm_s, transcendental_s, memory_s}); }
  const char* by() const {
    return seconds() == gemm_s ? "gemm" : seconds() == transcendental_s ? "exp" : "memory";
  }
};

Bounds bounds_of(CellKind kind, const BenchShape& s, size_t value_size, double gemm_rate, double exp_rate,
                 double memcpy_bytes_rate) {
  const auto& cost = cell_info(kind).cost;
  const double units = static_cast<double>(s.steps) * s.batch * s.hidden;
  Bounds b;
  b.gemm_flops = gemm_flops(kind, s);
  b.transcendentals = units * static_cast<double>(cost.transcendentals_forward + cost.transcendentals_backward);
  // The inputs x are read by the forward and by the weight gradient (2 I values per step and row).
  b.streamed_bytes = (units * static_cast<double>(cost.streamed_values) +
                      2.0 * static_cast<double>(s.steps) * s.batch * s.input) * static_cast<double>(value_size);
  b.gemm_s = b.gemm_flops / gemm_rate;
  b.transcendental_s = b.transcendentals / exp_rate;
  b.memory_s = b.streamed_bytes / memcpy_bytes_rate;
  return b;
}

}  // namespace

double memcpy_gigabytes_per_second(int64_t bytes, int64_t repetitions) {
  const auto source = torch::ones({bytes}, torch::kUInt8);
  auto destination = torch::zeros({bytes}, torch::kUInt8);
  const auto* from = source.data_ptr<uint8_t>();
  auto* to = destination.data_ptr<uint8_t>();
  const double seconds = median_seconds(repetitions, [&] {
    at::parallel_for(0, bytes, int64_t{1} << 20, [&](int64_t b0, int64_t b1) { std::memcpy(to + b0, from + b0, b1 - b0); });
  });
  return 2.0 * static_cast<double>(bytes) / seconds / 1e9;
}

double exp_values_per_second(bool float64, int64_t repetitions, bool sleef) {
  // 4096 values per thread (16 or 32 KiB in and out: L1/L2), swept 512 times, inputs spread over
  // [-10, 10] as gate pre-activations are.
  constexpr int64_t n = 4096, sweeps = 512;
  const int64_t threads = at::get_num_threads();
  const auto dtype = float64 ? torch::kFloat64 : torch::kFloat32;
  const auto x = torch::linspace(-10, 10, n, torch::TensorOptions().dtype(dtype)).repeat({threads, 1}).contiguous();
  auto y = torch::empty_like(x);
  const auto math = kernels::vec_math(kernels::cpu_copy());
  const auto float_exp = sleef ? math.sleef_exp : math.exp;
  const auto double_exp = math.exp_f64;
  auto run = [&](int64_t row) {
    if (float64) {
      const double* in = x.data_ptr<double>() + row * n;
      double* out = y.data_ptr<double>() + row * n;
      for (int64_t k = 0; k < sweeps; ++k) double_exp(in, out, n);
    } else {
      const float* in = x.data_ptr<float>() + row * n;
      float* out = y.data_ptr<float>() + row * n;
      for (int64_t k = 0; k < sweeps; ++k) float_exp(in, out, n);
    }
  };
  const double seconds = median_seconds(repetitions, [&] {
    at::parallel_for(0, threads, 1, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) run(r);
    });
  });
  return static_cast<double>(threads * n * sweeps) / seconds;
}

double median_seconds(int64_t repetitions, const std::function<void()>& run) {
  run();  // warm-up: first-touch page faults, thread start-up, caches
  std::vector<double> times;
  for (int64_t i = 0; i < repetitions; ++i) {
    const auto start = Clock::now();
    run();
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  const size_t n = times.size();
  return n == 0 ? 0 : n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
}

std::vector<std::string> bench_default_cells() {
  return cell_names_where([](const CellInfo& c) { return c.sequential() && c.benchmark_default; });
}

nlohmann::json run_benchmark(const BenchOptions& options) {
  require(options.repetitions >= 1, "--reps must be >= 1");
  const auto cells = options.cells.empty() ? bench_default_cells() : options.cells;
  const auto dtype = options.dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
  require(options.dtype == "float32" || options.dtype == "float64", "--dtype must be float32 or float64");
  fused::use_single_threaded_blas();
  const bool float64 = dtype == torch::kFloat64;
  const size_t value_size = float64 ? sizeof(double) : sizeof(float);
  const double gemm_rate = measure_gemm_flops_per_second(dtype);
  const double exp_rate = exp_values_per_second(float64, options.repetitions);
  const double sleef_exp_rate = float64 ? exp_rate : exp_values_per_second(false, options.repetitions, true);
  const double memcpy_rate = memcpy_gigabytes_per_second(int64_t{256} << 20, options.repetitions) * 1e9;
  nlohmann::json out = {{"threads", at::get_num_threads()},
                        {"dtype", options.dtype},
                        {"repetitions", options.repetitions},
                        {"kernel_copy", kernels::cpu_copy_name(kernels::cpu_copy())},
                        {"gemm_gflops", gemm_rate / 1e9},
                        {"exp_gvalues_per_s", exp_rate / 1e9},
                        {"sleef_exp_gvalues_per_s", sleef_exp_rate / 1e9},
                        {"memcpy_gbps", memcpy_rate / 1e9},
                        {"results", nlohmann::json::array()}};
  std::printf("threads %d, %s, median of %lld, kernels %s\n", at::get_num_threads(), options.dtype.c_str(),
              static_cast<long long>(options.repetitions), kernels::cpu_copy_name(kernels::cpu_copy()));
  std::printf("measured: GEMM %.1f GFLOP/s, the kernels' exp %.2f G values/s (Sleef's %.2f), memcpy %.1f GB/s\n",
              gemm_rate / 1e9, exp_rate / 1e9, sleef_exp_rate / 1e9, memcpy_rate / 1e9);
  const std::string core = blas_core();
  const bool avx2_blas_on_avx512 = kernels::cpu_copy() == kernels::CpuCopy::avx512 &&
                                   (core == "Haswell" || core == "Zen");
  std::printf("BLAS: OpenBLAS core %s%s\n", core.c_str(),
              avx2_blas_on_avx512 ? " (AVX2 kernels on an AVX-512 CPU: OPENBLAS_CORETYPE=SkylakeX in the environment "
                                    "selects its AVX-512 ones; scripts/blas_env.sh sets it where unset)"
                                  : "");
  out["blas_core"] = core;
  // The counts behind the three bounds: GEMM GFLOP, millions of exp/tanh/sigmoid, MB streamed.
  std::printf("%-7s %-5s %9s %9s %9s %9s %8s %7s %7s %7s %8s %8s %8s %8s %6s %9s\n", "shape", "cell", "fused ms", "ref ms",
              "nn ms", "ref/fused", "nn/fused", "GFLOP", "M exp", "MB", "gemm ms", "exp ms", "mem ms", "bound ms", "by",
              "fused/bnd");
  for (const auto& s : options.shapes) {
    for (const auto& name : cells) {
      if (name == "src") continue;  // its own table below (spike input, one shape)
      const auto kind = parse_cell_kind(name);
      torch::manual_seed(0);
      auto layer = make_layer(kind, s.input, s.hidden);
      layer->to(dtype);
      const auto x = torch::randn({s.steps, s.batch, s.input}, torch::TensorOptions().dtype(dtype));
      auto step = [&] {
        layer->zero_grad();
        const auto result = layer->forward(x);
        auto loss = result.h.sum();
        loss.backward();
      };
      layer->set_impl(Impl::fused);
      const double fused_s = median_seconds(options.repetitions, step);
      layer->set_impl(Impl::reference);
      const double reference_s = median_seconds(options.repetitions, step);
      double torch_nn_s = 0;
      if (kind == CellKind::gru || kind == CellKind::lstm) {
        torch::nn::GRU gru{nullptr};
        torch::nn::LSTM lstm{nullptr};
        if (kind == CellKind::gru) {
          gru = torch::nn::GRU(torch::nn::GRUOptions(s.input, s.hidden));
          gru->to(dtype);
        } else {
          lstm = torch::nn::LSTM(torch::nn::LSTMOptions(s.input, s.hidden));
          lstm->to(dtype);
        }
        torch_nn_s = median_seconds(options.repetitions, [&] {
          if (gru) {
            gru->zero_grad();
            std::get<0>(gru->forward(x)).sum().backward();
          } else {
            lstm->zero_grad();
            std::get<0>(lstm->forward(x)).sum().backward();
          }
        });
      }
      const auto bound = bounds_of(kind, s, value_size, gemm_rate, exp_rate, memcpy_rate);
      const double bound_s = bound.seconds();
      char nn_ms[32] = "-", nn_ratio[32] = "-";
      if (torch_nn_s > 0) {
        std::snprintf(nn_ms, sizeof nn_ms, "%.2f", torch_nn_s * 1e3);
        std::snprintf(nn_ratio, sizeof nn_ratio, "%.2f", torch_nn_s / fused_s);
      }
      std::printf("%-7s %-5s %9.2f %9.2f %9s %9.1f %8s %7.2f %7.1f %7.0f %8.2f %8.2f %8.2f %8.2f %6s %9.2f\n",
                  s.name.c_str(), name.c_str(), fused_s * 1e3, reference_s * 1e3, nn_ms, reference_s / fused_s, nn_ratio,
                  bound.gemm_flops / 1e9, bound.transcendentals / 1e6, bound.streamed_bytes / 1e6, bound.gemm_s * 1e3, bound.transcendental_s * 1e3, bound.memory_s * 1e3, bound_s * 1e3, bound.by(),
                  fused_s / bound_s);
      std::fflush(stdout);
      nlohmann::json row = {{"shape", s.name},
                            {"B", s.batch},
                            {"T", s.steps},
                            {"I", s.input},
                            {"H", s.hidden},
                            {"cell", name},
                            {"fused_ms", fused_s * 1e3},
                            {"reference_ms", reference_s * 1e3},
                            {"reference_over_fused", reference_s / fused_s},
                            {"gemm_gflop", bound.gemm_flops / 1e9},
                            {"transcendentals", bound.transcendentals},
                            {"streamed_mb", bound.streamed_bytes / 1e6},
                            {"gemm_bound_ms", bound.gemm_s * 1e3},
                            {"transcendental_bound_ms", bound.transcendental_s * 1e3},
                            {"memory_bound_ms", bound.memory_s * 1e3},
                            {"bound_ms", bound_s * 1e3},
                            {"bound_by", bound.by()},
                            {"fused_over_bound", fused_s / bound_s}};
      if (torch_nn_s > 0) {
        row["torch_nn_ms"] = torch_nn_s * 1e3;
        row["torch_nn_over_fused"] = torch_nn_s / fused_s;
      }
      out["results"].push_back(row);
    }
  }
  if (std::find(cells.begin(), cells.end(), "src") != cells.end())
    out["src"] = benchmark_src(options, dtype);
  return out;
}

double time_training_update(const ModelConfig& config, int64_t length, int64_t batch, int64_t repetitions,
                            int64_t warmup) {
  require(length >= 1 && batch >= 1 && repetitions >= 1 && warmup >= 0,
          "time_training_update: length, batch and repetitions must be >= 1, warmup >= 0");
  torch::manual_seed(1);
  SequenceModel model(config);
  model->train();
  const auto x = torch::rand({length, batch, config.input_size}) * 2 - 1;
  const auto y = x[0].narrow(1, 0, config.output_size).unsqueeze(0);  // (1, B, O)
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  std::vector<double> times;
  for (int64_t i = 0; i < warmup + repetitions; ++i) {
    const auto start = std::chrono::steady_clock::now();
    optimizer.zero_grad();
    const auto loss = torch::mse_loss(model->forward(x, 1), y);
    loss.backward();
    optimizer.step();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (i >= warmup) times.push_back(seconds);
  }
  std::nth_element(times.begin(), times.begin() + static_cast<long>(times.size() / 2), times.end());
  return times[times.size() / 2];
}

}  // namespace neurocell
