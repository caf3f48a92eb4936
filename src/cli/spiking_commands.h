#pragma once
// The subcommands' spiking side (SRC on rate-coded MNIST / Fashion-MNIST): train, eval of a
// run folder, and eval of a model saved by the SRC authors' code (--import).
#include <string>
#include <vector>

#include "nn/spiking.h"
#include "train/classify.h"

namespace neurocell {

struct SpikingRunConfig {
  SrcClassifierConfig model;
  SpikingTaskConfig task;
  TrainOptions train;
  bool sparse_input = true;  // fused kernels: sparse input projection for the first layer
};

// config.json of a run folder names its cell: true for an SRC run.
bool is_spiking_run(const std::string& dir);

int command_train_spiking(SpikingRunConfig config, const std::string& out_dir, bool overwrite);
int command_eval_spiking(const std::string& dir, int64_t test_size);
// Loads the authors' folder/zip, prints `accuracy: 0.xxxx` on the test split (all of it by
// default) and, with a non-empty out_dir, saves the model as a neurocell run folder.
int command_eval_import(const std::string& path, const std::string& task_name, int64_t test_size,
                        const std::string& out_dir);

// Writes an SRC run as a .ncm file for the dependency-free runtime: the float network (model
// src-classifier), or with weight_bits > 0 the integer one (model integer-src, quantised tensors
// and scales, runtime/integer_src.h).
struct IntegerExportOptions {
  int64_t weight_bits = 0;  // 0: float export
  bool leaky = false, trained_bias = false;
};
int command_export_spiking(const std::string& dir, const std::string& out_path, const IntegerExportOptions& integer);

// MNIST test accuracy of an SRC run computed as on the FPGA (runtime/integer_src.h): for every
// trace length and weight bit width, one markdown row, after the float network's own accuracy
// on the same spikes.
struct IntegerSrcEvalOptions {
  std::vector<int64_t> trace_steps = {220, 110, 55, 44, 22};
  std::vector<int64_t> weight_bits = {8, 5, 4};
  bool leaky = false, trained_bias = false, rising_edges = false;
  int64_t test_size = 0;  // 0 = the whole test split
};
int command_integer_src(const std::string& dir, const IntegerSrcEvalOptions& options);

// Test accuracy with r and r_s of every neuron perturbed by N(0, sigma^2) (fresh draws per
// repeat), one markdown row per sigma: the SRC paper's robustness-to-noise experiment.
int command_noise(const std::string& dir, const std::vector<double>& sigmas, int64_t repeats, int64_t test_size);

// A spike raster of one test image (input spikes and every SRC layer's spikes over time),
// drawn with gnuplot into a .png or .svg file.
int command_plot_raster(const std::string& dir, int64_t image_index, const std::string& out_path);

}  // namespace neurocell
