#pragma once
// The library's runs: every kind of run folder (RunKind) trained, evaluated, exported and run
// by functions that return their numbers and result lines (RunResult) and print nothing;
// the command line (src/cli/commands/) prints them.
#include <string>

#include <torch/types.h>

#include "runs/dataset.h"
#include "runs/regression.h"
#include "runs/run_folder.h"
#include "runs/sequence_classification.h"
#include "runs/spiking.h"
#include "runs/tmaze.h"

namespace neurocell::runs {

// Trains the run a config.json object describes, of any kind `train` writes (its "kind":
// regression when absent, sequence-classification, spiking, dataset), into out_dir: what the
// Python package's neurocell.train and neurocell.resume call. The config is read as its kind's
// loader reads config.json (missing options take their defaults).
RunResult train_config(const nlohmann::json& config, const std::string& out_dir, ExistingRun existing);

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

// Every layer's states (T, B, S) of a run's model on x (T, B, I), float32 or float64 (the
// states have x's type): a SequenceModel's h (and c) of every layer; an SRC classifier's
// spikes, i, h, h_s of every layer. input_name names x in errors.
torch::Tensor run_states(const std::string& dir, const torch::Tensor& x, const std::string& input_name = "input");
// The readout at every step (T, B, O) of a run's model on x: a SequenceModel's readout of the
// last layer's state (its prediction is the last K rows: K = 1, denoising 5; classification:
// logits); an SRC classifier's class scores so far (the last row is its logits).
torch::Tensor run_predictions(const std::string& dir, const torch::Tensor& x, const std::string& input_name = "input");
// The gate traces (T, B, G) of a BRC or nBRC run's model on x (analysis/gates.h): per layer a_t
// (H), then c_t (H), G = sum over layers of 2 H. Other cells are refused.
torch::Tensor run_gates(const std::string& dir, const torch::Tensor& x, const std::string& input_name = "input");

// The trained model of a run folder of any kind, as the Python package's neurocell.load
// returns it: a SequenceModel (regression, sequence-classification and T-maze runs: stack and
// readout) or the SRC classifier (spiking runs), in evaluation mode, with the run's config.json.
struct LoadedModel {
  RunKind kind = RunKind::regression;
  nlohmann::json config;            // config.json as written (with "kind")
  SequenceModel sequence{nullptr};  // all kinds but spiking
  SrcClassifier src{nullptr};       // spiking runs
};
LoadedModel load_model(const std::string& dir);

// Writes a run folder that `eval`, `run` and `export` read, from a model trained elsewhere
// (neurocell.save): config.json (the config is validated as its kind's loader validates it,
// and its "model" must describe `model`), model.safetensors, and report.json marking the run
// as saved rather than trained here ({"saved": true, "parameters": N}). config["kind"] is
// regression (the default) or sequence-classification for a SequenceModel, spiking for an SRC
// classifier. Refuses an existing run unless overwrite.
void save_model(const std::string& dir, nlohmann::json config, SequenceModel& model, bool overwrite);
void save_model(const std::string& dir, nlohmann::json config, SrcClassifier& model, bool overwrite);

}  // namespace neurocell::runs
