#pragma once
// Run folders. Every `neurocell train --out DIR` writes:
//   DIR/config.json        {"model": ModelConfig, "task": TaskConfig, "train": TrainOptions}
//   DIR/metrics.jsonl      one JSON object per validation
//   DIR/model.safetensors  parameters by name (see README), best validation weights
//   DIR/report.json        final numbers, including "test": {"mse": ...}
#include <nlohmann/json_fwd.hpp>

#include <string>

#include "nn/model.h"
#include "tasks/synthetic.h"
#include "train/trainer.h"

namespace neurocell {

struct RunConfig {
  ModelConfig model;
  TaskConfig task;
  TrainOptions train;
};
nlohmann::json to_json(const RunConfig& config);
RunConfig run_config_from_json(const nlohmann::json& json);

std::string config_path(const std::string& dir);
std::string metrics_path(const std::string& dir);
std::string weights_path(const std::string& dir);
std::string report_path(const std::string& dir);

void save_run_config(const std::string& dir, const RunConfig& config);
RunConfig load_run_config(const std::string& dir);
void write_json_atomic(const std::string& path, const nlohmann::json& json);

// Parameters by their module path ("stack.layer0.weight_ih", "readout.weight", ...).
void save_weights(const std::string& path, SequenceModel& model);
// Loads weights into a model of the right architecture; names, shapes and finiteness checked.
void load_weights(const std::string& path, SequenceModel& model);

struct LoadedRun {
  RunConfig config;
  SequenceModel model{nullptr};
};
// config.json + model.safetensors of a run folder, with clear errors for missing/corrupt files.
LoadedRun load_run(const std::string& dir);

}  // namespace neurocell
