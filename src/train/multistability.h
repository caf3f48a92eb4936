#pragma once
// Warmup and VAA around a training run (`neurocell train --warmup/--vaa`, `neurocell warmup`):
// what is measured, and how it is logged in metrics.jsonl (one JSON object per line, with a
// "phase": "warmup" for each warmup step, "vaa" for each VAA measurement).
#include <nlohmann/json.hpp>

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

// Measures VAA (the protocol of multistability.md), appends
// {"phase": "vaa", "stage": stage, "step": step, "vaa": ..., "attractors": ...} to metrics
// (when given) and returns that object.
nlohmann::json measure_and_log_vaa(SequenceModel& model, const Task& task, const analysis::VaaOptions& options,
                                   const std::string& stage, int64_t step, std::ostream* metrics);

// Warmup with a progress bar (VAA* of the last step) and one metrics line per step; returns
// {"steps", "skipped", "loss", "vaa_star" (last step, per layer), "partial", "wall_time_s"}.
nlohmann::json run_warmup(SequenceModel& model, const Task& task, const analysis::WarmupOptions& options,
                          std::ostream* metrics, bool progress);

}  // namespace neurocell
