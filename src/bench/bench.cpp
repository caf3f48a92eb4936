#include "bench/bench.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

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

}  // namespace

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
  const double gemm_rate = measure_gemm_flops_per_second(dtype);
  nlohmann::json out = {{"threads", at::get_num_threads()},
                        {"dtype", options.dtype},
                        {"repetitions", options.repetitions},
                        {"kernel_copy", kernels::cpu_has_avx2() ? "AVX2" : "DEFAULT"},
                        {"gemm_gflops", gemm_rate / 1e9},
                        {"results", nlohmann::json::array()}};
  std::printf("threads %d, %s, median of %lld, kernels %s, GEMM throughput %.1f GFLOP/s\n",
              at::get_num_threads(), options.dtype.c_str(), static_cast<long long>(options.repetitions),
              kernels::cpu_has_avx2() ? "AVX2" : "baseline", gemm_rate / 1e9);
  std::printf("%-7s %-5s %11s %11s %11s %9s %9s %11s %9s\n", "shape", "cell", "fused ms", "reference ms",
              "torch::nn ms", "ref/fused", "nn/fused", "bound ms", "fused/bnd");
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
      const double bound_s = gemm_flops(kind, s) / gemm_rate;
      std::printf("%-7s %-5s %11.2f %11.2f %11s %9.1f %9s %11.2f %9.1f\n", s.name.c_str(), name.c_str(), fused_s * 1e3,
                  reference_s * 1e3, torch_nn_s > 0 ? std::to_string(torch_nn_s * 1e3).substr(0, 8).c_str() : "-",
                  reference_s / fused_s, torch_nn_s > 0 ? std::to_string(torch_nn_s / fused_s).substr(0, 5).c_str() : "-",
                  bound_s * 1e3, fused_s / bound_s);
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
                            {"gemm_gflop", gemm_flops(kind, s) / 1e9},
                            {"gemm_bound_ms", bound_s * 1e3},
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
