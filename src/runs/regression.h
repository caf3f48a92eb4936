#pragma once
// Regression runs (RunKind::regression): a SequenceModel trained on a synthetic task (copy,
// denoising; tasks/synthetic.h), with warmup and VAA around training when asked
// (multistability.md). Their config, RunConfig, is in runs/run_folder.h.
#include <string>

#include "runs/run_folder.h"

namespace neurocell::runs {

// Validates the config, trains (from config.init's weights when given) and writes the run
// folder out_dir: config.json, metrics.jsonl, model.safetensors, report.json.
RunResult train(RunConfig config, const std::string& out_dir, ExistingRun existing);
// The test MSE of a regression run folder on its own test set (test_size 0: the run's size).
RunResult eval_regression(const std::string& dir, int64_t test_size);

}  // namespace neurocell::runs
