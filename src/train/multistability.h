#pragma once
// Warmup and VAA around a training run (`neurocell train --warmup/--vaa`, `neurocell warmup`):
// what is measured, and how it is logged in metrics.jsonl (one JSON object per line, with a
// "phase": "warmup" for each warmup step, "vaa" for each VAA measurement).
#include <nlohmann/json.hpp>

#include <functional>
#include <ostream>
#include <string>

#include "analysis/vaa.h"
#include "analysis/warmup.h"
#include "nn/model.h"
#include "tasks/synthetic.h"

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

// The task's training inputs (never its targets), as the analysis layer wants them.
analysis::InputSampler training_inputs(const Task& task);

// Measures VAA (the protocol of multistability.md) on inputs drawn by `inputs`, appends
// {"phase": "vaa", "stage": stage, "step": step, "vaa": ..., "attractors": ...} to metrics
// (when given) and returns that object.
nlohmann::json measure_and_log_vaa(SequenceModel& model, const analysis::InputSampler& inputs,
                                   const analysis::VaaOptions& options, const std::string& stage, int64_t step,
                                   std::ostream* metrics);

// Warmup with a progress bar (VAA* of the last step) and one metrics line per step; returns
// {"steps", "skipped", "loss", "vaa_star" (last step, per layer), "partial", "wall_time_s"}.
nlohmann::json run_warmup(SequenceModel& model, const analysis::InputSampler& inputs,
                          const analysis::WarmupOptions& options, std::ostream* metrics, bool progress);

// The multistability phases of a training run, for every run kind that trains a SequenceModel
// on inputs it can sample (regression tasks, sequence MNIST): VAA before training, warmup and
// VAA after it, VAA at validations every N steps, VAA after training, and what the report and
// the result line say of them. A resumed run takes the phases before training from its
// checkpoint (they ran before it; their metrics lines are kept).
class MultistabilityPhases {
 public:
  // model and inputs must outlive this object.
  MultistabilityPhases(SequenceModel& model, analysis::InputSampler inputs, MultistabilityConfig config,
                       bool progress);
  bool measures() const { return config_.measure || config_.warmup.steps > 0; }
  // Fresh run (resumed == nullptr): VAA "initial", warmup, VAA "after_warmup" into metrics.
  void before_training(const nlohmann::json* resumed_run_state, std::ostream& metrics);
  // What every checkpoint keeps of the phases before training (TrainOutput::run_state).
  const nlohmann::json& run_state() const { return run_state_; }
  // VAA at the validations that are multiples of `every` (null when not asked), as a
  // validation hook's extra metrics fields.
  std::function<nlohmann::json(int64_t step)> validation_hook();
  void after_training(int64_t steps_done, std::ostream& metrics);
  // report.json's "vaa" and "warmup" (when measured / warmed up).
  void add_to_report(nlohmann::json& report) const;
  // " | VAA 0.010 initial, 0.300 after warmup, 0.200 trained" ("" when nothing is measured).
  std::string summary() const;

 private:
  SequenceModel& model_;
  analysis::InputSampler inputs_;
  MultistabilityConfig config_;
  nlohmann::json vaa_ = nlohmann::json::object(), warmup_, run_state_;
};

}  // namespace neurocell
