#pragma once
// SRC runs (RunKind::spiking): the SRC classifier on rate-coded MNIST / Fashion-MNIST. Its
// config and JSON, training into a run folder, evaluation of a run folder and of a model
// saved by the SRC authors' code (--import), and the .ncm export (float or integer).
#include <string>
#include <vector>

#include "nn/spiking.h"
#include "runs/run_folder.h"
#include "train/classify.h"

namespace neurocell {

struct SpikingRunConfig {
  SrcClassifierConfig model;
  SpikingTaskConfig task;
  TrainOptions train;
  bool sparse_input = true;  // fused kernels: sparse input projection for the first layer
};
nlohmann::json to_json(const SpikingRunConfig& config);
SpikingRunConfig load_spiking_config(const std::string& dir);
// The same config from its JSON (throws Error naming what is missing).
SpikingRunConfig spiking_run_config_from_json(const nlohmann::json& json);
// The classifier of a config, freshly initialised (from the current torch seed).
SrcClassifier build_src_classifier(const SpikingRunConfig& config);
// The trained classifier of an SRC run folder, in eval mode.
SrcClassifier load_src_classifier(const std::string& dir, const SpikingRunConfig& config);
// "src 784-100-100-10 on spiking-mnist": how result lines name an SRC run.
std::string describe(const SpikingRunConfig& config);

// The .ncm export of an SRC run: weight_bits > 0 writes the integer (FPGA) network (model
// integer-src, runtime/integer_src.h) instead of the float one (model src-classifier).
struct IntegerExportOptions {
  int64_t weight_bits = 0;  // 0: float export
  bool leaky = false, trained_bias = false;
};

namespace runs {

RunResult train(SpikingRunConfig config, const std::string& out_dir, ExistingRun existing);
// test_size 0: the run's own.
RunResult eval_spiking(const std::string& dir, int64_t test_size);
// Loads the authors' folder/zip, evaluates it on the test split (all of it by default) and,
// with a non-empty out_dir, saves the model as a neurocell run folder.
RunResult eval_import(const std::string& path, const std::string& task_name, int64_t test_size,
                      const std::string& out_dir);
RunResult export_spiking(const std::string& dir, const std::string& out_path, const IntegerExportOptions& integer);

}  // namespace runs

}  // namespace neurocell
