#pragma once
// Run folders. Every `neurocell train --out DIR` writes:
//   DIR/config.json        {"model": ModelConfig, "task": TaskConfig, "train": TrainOptions}
//   DIR/metrics.jsonl      one JSON object per validation
//   DIR/model.safetensors  parameters by name (see README), best validation weights
//   DIR/report.json        final numbers, including "test": {"mse": ...}
#include <nlohmann/json_fwd.hpp>

#include <string>

#include "analysis/vaa.h"
#include "analysis/warmup.h"
#include "nn/model.h"
#include "tasks/synthetic.h"
#include "train/trainer.h"

namespace neurocell {

// Reachable multistability around a training run (multistability.md): warmup before
// training, and VAA measured before/after (and every N steps if asked).
struct MultistabilityConfig {
  analysis::WarmupOptions warmup = no_warmup();  // warmup.steps = 0: no warmup
  analysis::VaaOptions vaa;
  bool measure = false;  // VAA at the start and the end (always on with warmup)
  int64_t every = 0;     // also at every validation step that is a multiple of this (0 = never)
  bool active() const { return measure || every > 0 || warmup.steps > 0; }
  void validate() const;
  static analysis::WarmupOptions no_warmup() {
    analysis::WarmupOptions o;
    o.steps = 0;
    return o;
  }
};
nlohmann::json to_json(const MultistabilityConfig& config);
MultistabilityConfig multistability_config_from_json(const nlohmann::json& json);

struct RunConfig {
  ModelConfig model;
  TaskConfig task;
  TrainOptions train;
  MultistabilityConfig multistability;
  std::string init;  // run folder whose weights training starts from ("" = fresh initialisation)
};
nlohmann::json to_json(const RunConfig& config);
RunConfig run_config_from_json(const nlohmann::json& json);

// "gru 2x100 (warmup 100) on copy-first-input T=100": how result lines name a run.
std::string describe_run(const RunConfig& config);

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
