#pragma once
// Training and evaluation of the spiking classifier (SRC paper) on rate-coded MNIST or
// Fashion-MNIST. The training split's last `validation_size` images are the validation set
// (rate-coded once, with a fixed seed); the test set is the whole 10 000-image test split
// unless test_size asks for fewer. Training images are rate-coded afresh at every batch.
#include <nlohmann/json_fwd.hpp>

#include <string>

#include "nn/spiking.h"
#include "tasks/spiking.h"
#include "train/trainer.h"

namespace neurocell {

// Evaluation sets are rate-coded in batches of this many images from one generator, so the
// spikes an image gets (and the accuracy, to a few 1e-4) depend on it: every evaluation
// (training's validation and test, eval, noise, import) uses this one size, so that
// `eval --checkpoint` reproduces report.json exactly.
constexpr int64_t kEvaluationBatch = 256;

struct SpikingTaskConfig {
  std::string name = "spiking-mnist";  // spiking-mnist | spiking-fashion-mnist
  RateCoding coding;
  std::string dataset() const;         // "mnist" | "fashion-mnist"
  void validate() const;
};
nlohmann::json to_json(const SpikingTaskConfig& config);
SpikingTaskConfig spiking_task_config_from_json(const nlohmann::json& json);
bool is_spiking_task(const std::string& name);

struct ClassifierReport {
  int64_t steps_done = 0, skipped_updates = 0, best_step = 0;
  bool early_stopped = false;
  double best_validation_accuracy = 0, test_accuracy = 0;
  int64_t test_images = 0;
  double wall_seconds = 0, train_images_per_second = 0;
};

// Trains with Adam and cross-entropy on the summed-spike logits; biases clamped after every
// update; NaN/Inf updates skipped; best validation weights restored (and saved in out_dir).
ClassifierReport train_spiking_classifier(SrcClassifier& model, const SpikingTaskConfig& task,
                                          const TrainOptions& options, const std::string& out_dir);

// Accuracy of the model on the first `limit` images of a split (0 = all), rate-coded with
// `seed` (stream 2 for test, as in training).
double evaluate_accuracy(SrcClassifier& model, const SpikingTaskConfig& task, bool train_split, int64_t first,
                         int64_t limit, uint64_t seed, uint64_t stream);

// Run folder files for spiking runs (same names as the regression runs).
void save_src_weights(const std::string& path, SrcClassifier& model);
void load_src_weights(const std::string& path, SrcClassifier& model);

}  // namespace neurocell
