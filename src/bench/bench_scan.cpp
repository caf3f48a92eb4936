#include "bench/bench_scan.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>

#include "bench/bench.h"
#include "core/error.h"
#include "kernels/cpu/kernels_cpu.h"
#include "kernels/scan.h"
#include "nn/cell_registry.h"
#include "nn/scan_layers.h"
#include "reference/scan_reference.h"

namespace neurocell {

namespace {

// One cell at one shape: its arrays, kept alive by the closures, and what to time. The kernels
// run on preallocated outputs (chunked or sequential); `api` goes through the autograd
// wrapper (automatic algorithm), which allocates its outputs, as the reference does.
struct CellBench {
  std::vector<torch::Tensor> arrays;  // owns what the kernels' raw pointers point into
  std::function<void(bool chunked)> forward, forward_backward;
  std::function<void(bool with_backward)> api, reference;
};

MruKind mru_kind(const std::string& cell) { return mru_kind_of(parse_cell_kind(cell)); }

// Runs `forward` (returning its outputs) without a graph, or with one and backpropagates d_outputs.
template <class F>
void run_autograd(bool with_backward, F&& forward, const std::vector<torch::Tensor>& leaves,
                  const std::vector<torch::Tensor>& d_outputs) {
  if (!with_backward) {
    torch::NoGradGuard no_grad;
    forward();
    return;
  }
  torch::autograd::grad(forward(), leaves, d_outputs);
}

// Random inputs: drive N(0, 1) (MRU: beta = 0.5, so about 60 % of the steps set the state; LRU:
// |lambda| in [0.9, 0.99]), dL/d(output) uniform. Every array of the forward and the backward
// is allocated once here.
template <class T>
CellBench make_cell_bench(const std::string& cell, const ScanBenchShape& s, torch::ScalarType dtype, int64_t max_threads,
                          bool with_api) {
  const auto opts = torch::TensorOptions().dtype(dtype);
  const int64_t T_ = s.steps, B = s.batch, H = s.hidden;
  // Per-thread partial sums of the parameter gradients, one slot per thread of the largest count.
  auto slots = [&]() -> torch::Tensor { return torch::zeros({max_threads, H}, opts); };
  CellBench bench;
  if (cell == "mingru") {
    const auto drive = torch::randn({T_, B, 2 * H}, opts), h0 = torch::zeros({B, H}, opts);
    const auto h = torch::empty({T_, B, H}, opts), d_h = torch::rand({T_, B, H}, opts);
    const auto d_drive = torch::empty_like(drive), d_h0 = torch::empty_like(h0);
    kernels::MinGruScanArgs<T> a;
    a.steps = T_, a.batch = B, a.hidden = H;
    a.drive = drive.data_ptr<T>(), a.h0 = h0.data_ptr<T>(), a.h_seq = h.data_ptr<T>(), a.d_h_seq = d_h.data_ptr<T>();
    a.d_drive = d_drive.data_ptr<T>(), a.d_h0 = d_h0.data_ptr<T>();
    bench.arrays = {drive, h0, h, d_h, d_drive, d_h0};
    bench.forward = [=](bool chunked) mutable {
      a.schedule.chunked = chunked;
      NEUROCELL_CPU_DISPATCH(mingru_scan_forward, a);
    };
    bench.forward_backward = [=](bool chunked) mutable {
      a.schedule.chunked = chunked;
      NEUROCELL_CPU_DISPATCH(mingru_scan_forward, a);
      NEUROCELL_CPU_DISPATCH(mingru_scan_backward, a);
    };
    if (with_api) {
      const auto x = drive.detach().requires_grad_(true), x0 = h0.detach().requires_grad_(true);
      bench.api = [=](bool backward) {
        run_autograd(backward, [&] { return std::vector<torch::Tensor>{fused::mingru_scan(x, x0)}; }, {x, x0}, {d_h});
      };
      bench.reference = [=](bool backward) {
        run_autograd(backward, [&] { return std::vector<torch::Tensor>{reference::mingru_scan(x, x0)}; }, {x, x0}, {d_h});
      };
    }
  } else if (cell == "lru") {
    const auto g_re = torch::randn({T_, B, H}, opts), g_im = torch::randn({T_, B, H}, opts);
    const auto radius = 0.9 + 0.09 * torch::rand({H}, opts), phase = 3.14 * torch::rand({H}, opts);
    const auto lambda_re = radius * torch::cos(phase), lambda_im = radius * torch::sin(phase);
    const auto s0_re = torch::zeros({B, H}, opts), s0_im = torch::zeros({B, H}, opts);
    const auto s_re = torch::empty_like(g_re), s_im = torch::empty_like(g_im);
    const auto d_s_re = torch::rand({T_, B, H}, opts), d_s_im = torch::rand({T_, B, H}, opts);
    const auto d_g_re = torch::empty_like(g_re), d_g_im = torch::empty_like(g_im);
    const auto d_s0_re = torch::empty_like(s0_re), d_s0_im = torch::empty_like(s0_im);
    const torch::Tensor d_lambda_re = slots(), d_lambda_im = slots();
    kernels::ComplexScanArgs<T> a;
    a.steps = T_, a.batch = B, a.hidden = H;
    a.g_re = g_re.data_ptr<T>(), a.g_im = g_im.data_ptr<T>();
    a.lambda_re = lambda_re.data_ptr<T>(), a.lambda_im = lambda_im.data_ptr<T>();
    a.s0_re = s0_re.data_ptr<T>(), a.s0_im = s0_im.data_ptr<T>(), a.s_re = s_re.data_ptr<T>(), a.s_im = s_im.data_ptr<T>();
    a.d_s_re = d_s_re.data_ptr<T>(), a.d_s_im = d_s_im.data_ptr<T>(), a.d_g_re = d_g_re.data_ptr<T>();
    a.d_g_im = d_g_im.data_ptr<T>(), a.d_s0_re = d_s0_re.data_ptr<T>(), a.d_s0_im = d_s0_im.data_ptr<T>();
    a.d_lambda_re = d_lambda_re.data_ptr<T>(), a.d_lambda_im = d_lambda_im.data_ptr<T>();
    bench.arrays = {g_re, g_im, lambda_re, lambda_im, s0_re, s0_im, s_re, s_im, d_s_re, d_s_im, d_g_re, d_g_im, d_s0_re,
                    d_s0_im, d_lambda_re, d_lambda_im};
    bench.forward = [=](bool chunked) mutable {
      a.schedule.chunked = chunked;
      NEUROCELL_CPU_DISPATCH(complex_scan_forward, a);
    };
    bench.forward_backward = [=](bool chunked) mutable {
      a.schedule.chunked = chunked;
      NEUROCELL_CPU_DISPATCH(complex_scan_forward, a);
      d_lambda_re.zero_(), d_lambda_im.zero_();
      NEUROCELL_CPU_DISPATCH(complex_scan_backward, a);
    };
    if (with_api) {
      std::vector<torch::Tensor> leaves;
      for (const auto& t : {g_re, g_im, lambda_re, lambda_im, s0_re, s0_im}) leaves.push_back(t.detach().requires_grad_(true));
      auto run = [=](bool use_fused, bool backward) {
        const auto& x = leaves;
        auto forward = [&] {
          const auto out = use_fused ? fused::complex_diagonal_scan(x[0], x[1], x[2], x[3], x[4], x[5])
                                     : reference::complex_diagonal_scan(x[0], x[1], x[2], x[3], x[4], x[5]);
          return std::vector<torch::Tensor>{out.first, out.second};
        };
        run_autograd(backward, forward, leaves, {d_s_re, d_s_im});
      };
      bench.api = [=](bool backward) { run(true, backward); };
      bench.reference = [=](bool backward) { run(false, backward); };
    }
  } else {
    const auto kind = mru_kind(cell);
    const bool fq = kind == MruKind::fq_bmru, acmru = kind == MruKind::acmru;
    const auto drive = torch::randn({T_, B, H}, opts), h0 = torch::zeros({B, H}, opts);
    const auto beta = fq ? torch::Tensor() : torch::full({H}, 0.5, opts);
    const auto alpha = acmru ? torch::full({H}, 0.5, opts) : torch::Tensor();
    const auto h = torch::empty_like(drive), d_h = torch::rand({T_, B, H}, opts);
    const auto d_drive = torch::empty_like(drive), d_h0 = torch::empty_like(h0);
    const torch::Tensor d_beta = fq ? torch::Tensor() : slots(), d_alpha = acmru ? slots() : torch::Tensor();
    MruOptions options;
    options.kind = kind;
    kernels::MruScanArgs<T> a;
    a.steps = T_, a.batch = B, a.hidden = H;
    a.kind = static_cast<MruKind>(kind);
    a.tau = static_cast<T>(options.tau), a.delta = static_cast<T>(2.0 / (options.levels - 1));
    a.theta_off = static_cast<T>(options.theta_off), a.theta_on = static_cast<T>(options.theta_on);
    a.drive = drive.data_ptr<T>(), a.h0 = h0.data_ptr<T>(), a.h_seq = h.data_ptr<T>(), a.d_h_seq = d_h.data_ptr<T>();
    a.beta = fq ? nullptr : beta.data_ptr<T>(), a.alpha = acmru ? alpha.data_ptr<T>() : nullptr;
    a.d_drive = d_drive.data_ptr<T>(), a.d_h0 = d_h0.data_ptr<T>();
    a.d_beta = fq ? nullptr : d_beta.data_ptr<T>(), a.d_alpha = acmru ? d_alpha.data_ptr<T>() : nullptr;
    bench.arrays = {drive, h0, beta, alpha, h, d_h, d_drive, d_h0, d_beta, d_alpha};
    bench.forward = [=](bool chunked) mutable {
      a.schedule.chunked = chunked;
      NEUROCELL_CPU_DISPATCH(mru_scan_forward, a);
    };
    bench.forward_backward = [=](bool chunked) mutable {
      a.schedule.chunked = chunked;
      NEUROCELL_CPU_DISPATCH(mru_scan_forward, a);
      if (d_beta.defined()) d_beta.zero_();
      if (d_alpha.defined()) d_alpha.zero_();
      NEUROCELL_CPU_DISPATCH(mru_scan_backward, a);
    };
    if (with_api) {
      std::vector<torch::Tensor> leaves;
      auto leaf = [&](const torch::Tensor& t) {
        if (!t.defined()) return t;
        leaves.push_back(t.detach().requires_grad_(true));
        return leaves.back();
      };
      const auto x = leaf(drive), b = leaf(beta), al = leaf(alpha), x0 = leaf(h0);
      bench.api = [=](bool backward) {
        run_autograd(backward, [&] { return std::vector<torch::Tensor>{fused::mru_scan(x, b, al, x0, options)}; }, leaves,
                     {d_h});
      };
      bench.reference = [=](bool backward) {
        run_autograd(backward, [&] { return std::vector<torch::Tensor>{reference::mru_scan(x, b, al, x0, options)}; },
                     leaves, {d_h});
      };
    }
  }
  return bench;
}

}  // namespace

double scan_bytes_per_element(const std::string& cell, bool with_backward, int64_t value_size) {
  double forward = 2, backward = 4;  // MRU: u, h | u, h, dL/dh, dL/du
  if (cell == "mingru") forward = 3, backward = 6;  // [z_pre | h_tilde], h | drive (2), h, dL/dh, dL/d(drive) (2)
  if (cell == "lru") forward = 4, backward = 6;     // g, s (re, im) | s, dL/ds, dL/dg (re, im)
  return (forward + (with_backward ? backward : 0)) * static_cast<double>(value_size);
}

std::vector<std::string> scan_bench_default_cells() {
  return cell_names_where([](const CellInfo& c) { return c.scan() && c.benchmark_default; });
}

nlohmann::json run_scan_benchmark(const ScanBenchOptions& options) {
  require(options.repetitions >= 1, "--reps must be >= 1");
  require(options.dtype == "float32" || options.dtype == "float64", "--dtype must be float32 or float64");
  require(!options.shapes.empty() && !options.threads.empty(), "bench --scan needs at least one shape and one thread count");
  const auto scan_cells = cell_names_where([](const CellInfo& c) { return c.scan(); });
  const auto cells = options.cells.empty() ? scan_bench_default_cells() : options.cells;
  for (const auto& c : cells)
    require(std::find(scan_cells.begin(), scan_cells.end(), c) != scan_cells.end(),
            "bench --scan times the scan cells (" + join_cell_names(scan_cells) + "), not '" + c + "'");
  for (int64_t n : options.threads) require(n >= 1, "bench --scan: thread counts must be >= 1");
  const auto dtype = options.dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
  const int64_t value_size = dtype == torch::kFloat64 ? 8 : 4;
  const int threads_before = at::get_num_threads();
  // The reference (and the wrapper, for comparison with it) only at the smallest shape, if it
  // has at most kReferenceElements elements: it runs T steps of small LibTorch ops.
  const int64_t kReferenceElements = int64_t{1} << 25;
  int64_t smallest = 0;
  for (size_t i = 1; i < options.shapes.size(); ++i) {
    const auto &a = options.shapes[i], &b = options.shapes[smallest];
    if (a.batch * a.steps * a.hidden < b.batch * b.steps * b.hidden) smallest = static_cast<int64_t>(i);
  }
  nlohmann::json out = {{"dtype", options.dtype},
                        {"repetitions", options.repetitions},
                        {"kernel_copy", kernels::cpu_copy_name(kernels::cpu_copy())},
                        {"bytes_counting",
                         "per element of (T, B, H), each array read or written once (the sequential algorithm's "
                         "minimum): forward MRU 2 values (u, h), minGRU 3, LRU 4; backward adds MRU 4, minGRU 6, "
                         "LRU 6. memcpy: one (T, B, H) array copied by the same threads, reads plus writes"},
                        {"shapes", nlohmann::json::array()},
                        {"results", nlohmann::json::array()}};
  std::printf("scan benchmark, %s, median of %lld, kernels %s; GB/s counts each array read or written once\n",
              options.dtype.c_str(), static_cast<long long>(options.repetitions),
              kernels::cpu_copy_name(kernels::cpu_copy()));
  for (size_t shape_index = 0; shape_index < options.shapes.size(); ++shape_index) {
    const auto& s = options.shapes[shape_index];
    const int64_t elements = s.batch * s.steps * s.hidden;
    std::map<int64_t, double> memcpy_rate;  // GB/s by thread count
    nlohmann::json memcpy_json;
    for (int64_t n : options.threads) {
      at::set_num_threads(static_cast<int>(n));
      memcpy_rate[n] = memcpy_gigabytes_per_second(elements * value_size, options.repetitions);
      memcpy_json[std::to_string(n)] = memcpy_rate[n];
    }
    out["shapes"].push_back({{"name", s.name}, {"B", s.batch}, {"T", s.steps}, {"H", s.hidden}, {"memcpy_gbps", memcpy_json}});
    std::printf("\nshape %s: B=%lld T=%lld H=%lld (%lld lanes); memcpy", s.name.c_str(), static_cast<long long>(s.batch),
                static_cast<long long>(s.steps), static_cast<long long>(s.hidden),
                static_cast<long long>(s.batch * s.hidden));
    for (const auto& [n, rate] : memcpy_rate) std::printf(" %.1f GB/s on %lld thread(s);", rate, static_cast<long long>(n));
    std::printf("\n%-7s %3s %-10s %10s %8s %7s %12s %8s %7s\n", "cell", "thr", "algorithm", "fwd ms", "GB/s",
                "/memcpy", "fwd+bwd ms", "GB/s", "/memcpy");
    for (const auto& cell : cells) {
      torch::manual_seed(0);
      const bool with_reference = static_cast<int64_t>(shape_index) == smallest && elements <= kReferenceElements;
      const int64_t max_threads = *std::max_element(options.threads.begin(), options.threads.end());
      const auto bench = dtype == torch::kFloat64 ? make_cell_bench<double>(cell, s, dtype, max_threads, with_reference)
                                                  : make_cell_bench<float>(cell, s, dtype, max_threads, with_reference);
      const double forward_bytes = scan_bytes_per_element(cell, false, value_size) * elements;
      const double total_bytes = scan_bytes_per_element(cell, true, value_size) * elements;
      for (int64_t n : options.threads) {
        at::set_num_threads(static_cast<int>(n));
        auto report = [&](const std::string& algorithm, double forward_s, double total_s) {
          const double forward_rate = forward_bytes / forward_s / 1e9, total_rate = total_bytes / total_s / 1e9;
          std::printf("%-7s %3lld %-10s %10.2f %8.2f %7.2f %12.2f %8.2f %7.2f\n", cell.c_str(), static_cast<long long>(n),
                      algorithm.c_str(), forward_s * 1e3, forward_rate, forward_rate / memcpy_rate[n], total_s * 1e3,
                      total_rate, total_rate / memcpy_rate[n]);
          std::fflush(stdout);
          out["results"].push_back({{"shape", s.name},
                                    {"B", s.batch},
                                    {"T", s.steps},
                                    {"H", s.hidden},
                                    {"cell", cell},
                                    {"threads", n},
                                    {"algorithm", algorithm},
                                    {"forward_ms", forward_s * 1e3},
                                    {"forward_backward_ms", total_s * 1e3},
                                    {"forward_bytes_per_element", forward_bytes / elements},
                                    {"forward_backward_bytes_per_element", total_bytes / elements},
                                    {"forward_gbps", forward_rate},
                                    {"forward_backward_gbps", total_rate},
                                    {"memcpy_gbps", memcpy_rate[n]},
                                    {"forward_fraction_of_memcpy", forward_rate / memcpy_rate[n]},
                                    {"forward_backward_fraction_of_memcpy", total_rate / memcpy_rate[n]},
                                    {"automatic_picks_chunked", fused::scan_uses_chunks(ScanAlgorithm::automatic, s.steps,
                                                                                        s.batch * s.hidden)}});
        };
        for (bool chunked : {true, false}) {
          const double forward_s = median_seconds(options.repetitions, [&] { bench.forward(chunked); });
          const double total_s = median_seconds(options.repetitions, [&] { bench.forward_backward(chunked); });
          report(chunked ? "chunked" : "sequential", forward_s, total_s);
        }
        if (with_reference) {
          for (const auto& [name, run] : {std::make_pair("api", bench.api), std::make_pair("reference", bench.reference)}) {
            const double forward_s = median_seconds(options.repetitions, [&] { run(false); });
            report(name, forward_s, median_seconds(options.repetitions, [&] { run(true); }));
          }
        }
      }
    }
  }
  at::set_num_threads(threads_before);
  return out;
}

}  // namespace neurocell
