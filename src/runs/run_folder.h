#pragma once
// Run folders: what a training writes, how its kind is told, and the regression run's config.
// Every run folder holds
//   DIR/config.json        the run's config, with "kind" (run_kind_name; folders written before
//                          it was added have none: regression runs, and SRC runs by model.cell)
//   DIR/metrics.jsonl      one JSON object per line: warmup steps, VAA, validations, episodes
//   DIR/model.safetensors  parameters by name (see docs/formats.md), best validation weights
//   DIR/report.json        final numbers, e.g. "test": {"mse": ...} or {"accuracy": ...}; a run
//                          without one did not finish (killed, or still training)
//   DIR/resume.safetensors while training: the state a resumed run continues from (train/resume.h)
//   DIR/.lock              held (flock) by the one process writing the run
// and sequence-classification runs also permutation.json (runs/sequence_classification.h).
#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

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

// What a new training does with a run already in its folder (config.json there).
enum class ExistingRun {
  refuse,     // an error: choose another --out, --overwrite or --resume
  overwrite,  // the old run's files are removed before anything new is written
  resume,     // continue it from DIR/resume.safetensors (the same config), or start afresh when
              // it has no checkpoint yet; a finished run (report.json) is refused
};

// The files a run folder's runs write (and --overwrite removes): config.json, metrics.jsonl,
// model.safetensors, report.json, resume.safetensors, permutation.json.
std::vector<std::string> run_file_names();

// The one writer of a run folder for the whole run. It holds DIR/.lock (an advisory flock,
// released by the kernel however the process ends) from the constructor (folder already
// there) or its first write (new folder), so a second writer is refused at once with a message
// naming the first one's process. The constructor only checks: a folder name is given, no
// other process writes there, and no run is there unless overwrite/resume. The first write
// (write_config) removes the old run's files (overwrite, or a resume without a checkpoint), or
// checks that a resumed run's config.json is the one given and loads its resume state;
// metrics.jsonl is opened once (truncated, or cut back to the checkpoint's length when
// resuming) and stays open until the report is written, which also removes the resume state.
class RunWriter {
 public:
  RunWriter(std::string dir, ExistingRun existing);
  RunWriter(std::string dir, bool overwrite)
      : RunWriter(std::move(dir), overwrite ? ExistingRun::overwrite : ExistingRun::refuse) {}
  ~RunWriter();
  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;
  const std::string& dir() const { return dir_; }

  void write_config(const nlohmann::json& config);
  // The state a resumed run continues from (after write_config), or null: a fresh start.
  const TrainingState* resume_state() const { return resume_.get(); }
  // Another JSON file of the folder (e.g. "permutation.json").
  void write_json(const std::string& name, const nlohmann::json& json);
  std::ostream& metrics();
  // The metrics stream, the weights file and the resume checkpoints (every checkpoint_every
  // updates, 0 = at every validation; with the resume state when there is one), for the
  // training loops (train/trainer.h). run_state: the run function's own results before
  // training, kept in every checkpoint (must outlive the training).
  TrainOutput training_output(int64_t checkpoint_every = 0, const nlohmann::json* run_state = nullptr);
  std::string weights_path() const;
  // Closes metrics.jsonl, writes report.json and removes the resume checkpoint.
  void write_report(const nlohmann::json& report);

 private:
  void create();
  void lock();
  void remove_run_files();
  std::string dir_;
  ExistingRun existing_;
  bool created_ = false;
  int lock_fd_ = -1;
  std::ofstream metrics_;
  std::unique_ptr<TrainingState> resume_;
};

// What a run function (runs/runs.h) hands back to its caller: the headline number and the
// lines the command line prints.
struct RunResult {
  double value = 0;        // test MSE, test accuracy or greedy success
  nlohmann::json report;   // training: report.json as written; otherwise null
  std::string text;        // whole lines for stdout, the "result: ..." line (if any) last
  std::vector<std::string> warnings;  // for stderr (the CLI prefixes "neurocell: warning: ")
  bool unfinished = false;  // eval/export of a run whose training did not finish (no report.json)
};

// Marks a result on a run folder without report.json (training killed, or still running):
// a warning, unfinished = true and "(unfinished run)" at the end of its last line.
void mark_if_unfinished(const std::string& dir, RunResult& result);

// The result of a finished classifier training (sequence classification, SRC): the report as
// written and its line "result: test accuracy ... run in DIR".
RunResult classifier_run_result(const ClassifierReport& report, const nlohmann::json& report_json,
                                const std::string& description, const std::string& out_dir);

// printf into a std::string (the result lines).
std::string strprintf(const char* format, ...) __attribute__((format(printf, 1, 2)));

// The parameter count of a module (report.json's "parameters").
int64_t parameter_count(const torch::nn::Module& module);

}  // namespace neurocell
