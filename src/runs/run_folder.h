#pragma once
// Run folders: what a training writes, how its kind is told, and the regression run's config.
// Every run folder holds
//   DIR/config.json        the run's config, with "kind" (run_kind_name; folders written before
//                          it was added have none: regression runs, and SRC runs by model.cell)
//   DIR/metrics.jsonl      one JSON object per line: warmup steps, VAA, validations, episodes
//   DIR/model.safetensors  parameters by name (see docs/formats.md), best validation weights
//   DIR/report.json        final numbers, e.g. "test": {"mse": ...} or {"accuracy": ...}
// and sequence-classification runs also permutation.json (runs/sequence_classification.h).
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "nn/model.h"
#include "tasks/synthetic.h"
#include "train/checkpoint.h"
#include "train/classify.h"
#include "train/multistability.h"
#include "train/trainer.h"

namespace neurocell {

// The four kinds of run folder, each with its config type, trainer and evaluation.
enum class RunKind {
  regression,               // RunConfig: a SequenceModel on a synthetic task (train --task copy-...)
  sequence_classification,  // SequenceClassificationConfig: smnist, psmnist, row-mnist, prow-mnist
  spiking,                  // SpikingRunConfig: the SRC classifier on spiking (Fashion-)MNIST
  tmaze,                    // TmazeRunConfig: a DRQN agent (`neurocell tmaze`)
  dataset,                  // DatasetRunConfig: a SequenceModel on your own .npz (train --data)
};
// "regression" | "sequence-classification" | "spiking" | "tmaze" | "dataset": config.json's "kind".
std::string run_kind_name(RunKind kind);

// The kind of the run in `dir`, from one reading of its config.json. A folder without a
// config.json, or with one that is not valid JSON, counts as a regression run: its loader
// (load_run) then reports what is missing or corrupt. An unknown "kind" is an error.
RunKind detect_run_kind(const std::string& dir);

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

void save_run_config(const std::string& dir, const RunConfig& config);
RunConfig load_run_config(const std::string& dir);

struct LoadedRun {
  RunConfig config;
  SequenceModel model{nullptr};
};
// config.json + model.safetensors of a regression run folder, with clear errors for
// missing/corrupt files; a run of another kind is refused with a message naming its kind
// (what `vaa`, `warmup`, `attractors`, `analog-noise` need is a regression run).
LoadedRun load_run(const std::string& dir);

// The one writer of a run folder for the whole run. The constructor only checks: a folder
// name is given, and no run is there (config.json) unless overwrite. The folder is created at
// the first write; metrics.jsonl is opened (truncated) once, at the first call of metrics(),
// and stays open until the report is written.
class RunWriter {
 public:
  RunWriter(std::string dir, bool overwrite);
  const std::string& dir() const { return dir_; }

  void write_config(const nlohmann::json& config);
  // Another JSON file of the folder (e.g. "permutation.json").
  void write_json(const std::string& name, const nlohmann::json& json);
  std::ostream& metrics();
  // The metrics stream and the weights file, for the training loops (train/trainer.h).
  TrainOutput training_output();
  std::string weights_path() const;
  // Closes metrics.jsonl and writes report.json.
  void write_report(const nlohmann::json& report);

 private:
  void create();
  std::string dir_;
  bool created_ = false;
  std::ofstream metrics_;
};

// What a run function (runs/runs.h) hands back to its caller: the headline number and the
// lines the command line prints.
struct RunResult {
  double value = 0;        // test MSE, test accuracy or greedy success
  nlohmann::json report;   // training: report.json as written; otherwise null
  std::string text;        // whole lines for stdout, the "result: ..." line (if any) last
};

// The result of a finished classifier training (sequence classification, SRC): the report as
// written and its line "result: test accuracy ... run in DIR".
RunResult classifier_run_result(const ClassifierReport& report, const nlohmann::json& report_json,
                                const std::string& description, const std::string& out_dir);

// printf into a std::string (the result lines).
std::string strprintf(const char* format, ...) __attribute__((format(printf, 1, 2)));

// The parameter count of a module (report.json's "parameters").
int64_t parameter_count(const torch::nn::Module& module);

}  // namespace neurocell
