#pragma once
// Sequence-classification runs (RunKind::sequence_classification): a recurrent cell (any but
// SRC) trained on the MNIST family presented as sequences (smnist, psmnist, row-mnist,
// prow-mnist, psmnist-rows; tasks.md), with warmup and VAA as the regression runs (the warmup
// paper warms up on these tasks), and the evaluation of such a run folder. The folder holds config.json (kind
// "sequence-classification"), permutation.json (the pixel or row order, fixed by its seed),
// metrics.jsonl, model.safetensors and report.json.
#include <string>

#include "nn/model.h"
#include "runs/run_folder.h"
#include "tasks/image_sequences.h"
#include "train/multistability.h"
#include "train/trainer.h"

namespace neurocell {

struct SequenceClassificationConfig {
  ModelConfig model;
  ImageSequenceTaskConfig task;
  TrainOptions train;
  MultistabilityConfig multistability;  // warmup on the training images; VAA before / after
};

nlohmann::json to_json(const SequenceClassificationConfig& config);
SequenceClassificationConfig load_sequence_classification_config(const std::string& dir);
// The same config from its JSON (throws Error naming what is missing).
SequenceClassificationConfig sequence_classification_config_from_json(const nlohmann::json& json);
// "gru 1x64 on psmnist T=784": how result lines name a sequence-classification run.
std::string describe(const SequenceClassificationConfig& config);

// The trained model of a sequence-classification or T-maze run folder (for export).
SequenceModel load_sequence_model_of_run(const std::string& dir);

// The permutation stored in a run folder, checked against the one its seed gives.
std::vector<int64_t> load_run_permutation(const std::string& dir, const ImageSequenceTaskConfig& task);

namespace runs {

RunResult train(SequenceClassificationConfig config, const std::string& out_dir, ExistingRun existing);
// test_size 0: the run's own.
RunResult eval_sequence_classification(const std::string& dir, int64_t test_size);

}  // namespace runs

}  // namespace neurocell
