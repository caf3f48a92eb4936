#pragma once
// `neurocell bench`: forward+backward time of one recurrent layer, measured in one process
// for the fused kernels, the LibTorch reference and (GRU, LSTM) torch::nn, with ratios and
// the arithmetic bound (GEMM FLOPs / measured GEMM throughput).
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace neurocell {

struct BenchShape {
  std::string name;
  int64_t batch, steps, input, hidden;  // B, T, I, H
};

struct BenchOptions {
  std::vector<std::string> cells = {"brc", "nbrc", "gru", "lstm", "mgu"};
  std::vector<BenchShape> shapes = {{"copy", 100, 600, 1, 100}, {"smnist", 100, 1084, 1, 128}, {"wide", 64, 200, 64, 128}};
  int64_t repetitions = 5;
  std::string dtype = "float32";
};

// Runs the benchmark, prints a table to stdout, returns the results as JSON.
nlohmann::json run_benchmark(const BenchOptions& options);

}  // namespace neurocell
