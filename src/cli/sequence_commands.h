#pragma once
// The subcommands' sequence-classification side: a recurrent cell (any but SRC) trained on the
// MNIST family presented as sequences (smnist, psmnist, row-mnist, prow-mnist; tasks.md), and
// the evaluation of such a run folder. The folder holds config.json (kind
// "sequence-classification"), permutation.json (the pixel or row order, fixed by its seed),
// metrics.jsonl, model.safetensors and report.json.
#include <string>

#include "nn/model.h"
#include "tasks/image_sequences.h"
#include "train/trainer.h"

namespace neurocell {

struct SequenceClassificationConfig {
  ModelConfig model;
  ImageSequenceTaskConfig task;
  TrainOptions train;
};

bool is_sequence_classification_run(const std::string& dir);
int command_train_sequence_classification(SequenceClassificationConfig config, const std::string& out_dir,
                                          bool overwrite);
int command_eval_sequence_classification(const std::string& dir, int64_t test_size);

// A T-maze run folder (`neurocell tmaze`).
bool is_tmaze_run(const std::string& dir);
// The trained model of a sequence-classification or T-maze run folder (for export).
SequenceModel load_sequence_model_of_run(const std::string& dir);

// The permutation stored in a run folder, checked against the one its seed gives.
std::vector<int64_t> load_run_permutation(const std::string& dir, const ImageSequenceTaskConfig& task);

}  // namespace neurocell
