#pragma once
// `neurocell bench`: forward+backward time of one recurrent layer, measured in one process
// for the fused kernels, the LibTorch reference and (GRU, LSTM) torch::nn, with ratios and a
// bound: the largest of the GEMM time (FLOPs / measured GEMM throughput), the transcendental
// time (exp/tanh/sigmoid count / measured throughput of the kernels' own vector exp) and the
// memory time (streamed bytes / measured memcpy throughput), all measured in the same run.
#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <vector>

namespace neurocell {

struct BenchShape {
  std::string name;
  int64_t batch, steps, input, hidden;  // B, T, I, H
};

struct BenchOptions {
  // Cells to time; empty = the registry's default sequential cells and SRC (bench_default_cells()).
  std::vector<std::string> cells;
  std::vector<BenchShape> shapes = {{"copy", 100, 600, 1, 100}, {"smnist", 100, 1084, 1, 128}, {"wide", 64, 200, 64, 128}};
  int64_t repetitions = 5;
  std::string dtype = "float32";
};

// The cells `neurocell bench` times when none are named: the registry's benchmark defaults
// among the sequential cells, then SRC (its own table).
std::vector<std::string> bench_default_cells();

// Median wall seconds of `run` over `repetitions` calls, after one warm-up call (both benchmarks).
double median_seconds(int64_t repetitions, const std::function<void()>& run);

// GB/s (reads plus writes) of std::memcpy of `bytes` bytes split across the current threads.
double memcpy_gigabytes_per_second(int64_t bytes, int64_t repetitions);

// Values per second of the kernels' own vector exp (float32: cells/vec_exp.h, float64: Sleef)
// in the CPU copy this process runs, every thread mapping its own cache-resident array; with
// sleef = true, Sleef's float32 exp instead (what the kernels called before).
double exp_values_per_second(bool float64, int64_t repetitions, bool sleef = false);

// Median seconds of one training update of a SequenceModel, all in C++: forward of the stack
// and the readout of the last state, MSE against the first input, backward, Adam step: the
// update of `neurocell train` (without its data generation). x is uniform in [-1, 1],
// (length, batch, input). The Python benchmark (python3 -m neurocell.bench) times the same
// update through the Python package against it.
struct ModelConfig;
double time_training_update(const ModelConfig& model, int64_t length, int64_t batch, int64_t repetitions,
                            int64_t warmup);

// Runs the benchmark, prints a table to stdout, returns the results as JSON.
nlohmann::json run_benchmark(const BenchOptions& options);

}  // namespace neurocell
