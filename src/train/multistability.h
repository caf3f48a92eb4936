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
