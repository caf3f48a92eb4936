#pragma once
// The library's runs: every kind of run folder (RunKind) trained, evaluated, exported and run
// by functions that return their numbers and result lines (RunResult) and print nothing;
// the command line (src/cli/commands/) prints them.
#include <string>

#include <torch/types.h>

#include "runs/regression.h"
#include "runs/run_folder.h"
#include "runs/sequence_classification.h"
#include "runs/spiking.h"
#include "runs/tmaze.h"

namespace neurocell::runs {

struct EvalOptions {
  int64_t test_size = 0;  // test samples; 0 = the run's own test set
};
// Re-evaluates a run folder of any kind but T-maze on its test set.
RunResult eval(const std::string& dir, const EvalOptions& options = {});

struct ExportOptions {
  bool overwrite = false;        // replace an existing out_path
  IntegerExportOptions integer;  // SRC runs only
};
// Writes the trained model of a run folder as a .ncm file for the dependency-free runtime.
RunResult export_ncm(const std::string& dir, const std::string& out_path, const ExportOptions& options = {});

// Every layer's states (T, B, S) of a regression run's model on x (T, B, I), float32 or
// float64 (the states have x's type); SRC runs are refused. input_name names x in errors.
torch::Tensor run_states(const std::string& dir, const torch::Tensor& x, const std::string& input_name = "input");

}  // namespace neurocell::runs
