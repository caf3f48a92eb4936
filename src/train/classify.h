#pragma once
// Training and evaluation of the spiking classifier (SRC paper) on rate-coded MNIST or
// Fashion-MNIST. The training split's last `validation_size` images are the validation set
// (rate-coded once, with a fixed seed); the test set is the whole 10 000-image test split
// unless test_size asks for fewer. Training images are rate-coded afresh at every batch.
#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>

#include "nn/model.h"
#include "nn/spiking.h"
#include "tasks/image_sequences.h"
#include "tasks/mnist.h"
#include "tasks/spiking.h"
#include "train/trainer.h"

namespace neurocell {

// Evaluation sets are rate-coded in batches of this many images from one generator, so the
// spikes an image gets (and the accuracy, to a few 1e-4) depend on it: every evaluation
// (training's validation and test, eval, noise, import) uses this one size, so that
// `eval --checkpoint` reproduces report.json exactly.
constexpr int64_t kEvaluationBatch = 256;

struct SpikingTaskConfig {
  std::string name = "spiking-mnist";  // spiking-mnist | spiking-fashion-mnist | spiking-nmnist
  RateCoding coding;                   // the MNIST tasks: how images become spikes
  // spiking-nmnist (io/nmnist.h): the user's N-MNIST folder, binned into `nmnist_steps` frames
  // over the first `nmnist_duration_us` of each recording; inputs 2 x 34 x 34.
  std::string nmnist_dir;
  int64_t nmnist_steps = 100;
  int64_t nmnist_duration_us = 300000;
  bool nmnist() const { return name == "spiking-nmnist"; }
  int64_t input_size() const;          // 784, or 2312 for N-MNIST
  std::string dataset() const;         // "mnist" | "fashion-mnist" | "nmnist"
  void validate() const;
};
nlohmann::json to_json(const SpikingTaskConfig& config);
SpikingTaskConfig spiking_task_config_from_json(const nlohmann::json& json);
bool is_spiking_task(const std::string& name);

struct ClassifierReport : LoopSummary {
  double best_validation_accuracy = 0, test_accuracy = 0;
  int64_t test_images = 0;
  double wall_seconds = 0, train_images_per_second = 0;
};

// What the image-classification loop needs of a model: a batch of images to logits.
struct ImageClassifier {
  torch::nn::Module* module = nullptr;  // its parameters are trained; train()/eval() switched
  // images (B, 784) uint8 -> logits (B, classes); a stochastic input coding draws from generator
  std::function<torch::Tensor(const torch::Tensor& images, torch::Generator& generator)> logits;
  std::function<void()> after_update;                        // e.g. the SRC bias clamp; may be empty
  std::function<void(const std::string& path)> save_weights;  // the run folder's model.safetensors
};

// The report.json fields every classifier run shares: steps done and skipped, early stop, best
// step, validation and test accuracy, throughput and wall time (each command adds its own).
nlohmann::json to_json(const ClassifierReport& report);

// Trains with Adam and cross-entropy on the dataset's training split (its last
// validation_size images validate; with train_size > 0 only the first train_size images
// train), NaN/Inf updates skipped, periodic validation with early stopping; the best
// validation weights are restored (and saved to output.weights_path at every new best), then
// the test split is scored.
ClassifierReport train_image_classifier(const ImageClassifier& classifier, const std::string& dataset,
                                        const TrainOptions& options, const TrainOutput& output, int64_t train_size = 0);
// The same loop on any labelled set held in memory: rows of train_set.images (any shape and
// dtype the classifier's logits read) with train_set.labels (N) int64; its last
// validation_size rows validate; test_split() gives the test set after training.
ClassifierReport train_classifier(const ImageClassifier& classifier, const ImageSet& train_set,
                                  const std::function<ImageSet()>& test_split, const TrainOptions& options,
                                  const TrainOutput& output, int64_t train_size = 0);
// Accuracy over images[first, first + count) in batches of kEvaluationBatch.
double image_accuracy(const ImageClassifier& classifier, const ImageSet& set, int64_t first, int64_t count,
                      torch::Generator generator);

// The SRC: cross-entropy on the summed-spike logits of freshly rate-coded images; biases
// clamped after every update.
ClassifierReport train_spiking_classifier(SrcClassifier& model, const SpikingTaskConfig& task,
                                          const TrainOptions& options, const TrainOutput& output);

// A recurrent sequence model on the MNIST family as sequences (tasks/image_sequences.h):
// the readout of the last step is the logits.
ImageClassifier sequence_image_classifier(SequenceModel& model, const ImageSequenceTaskConfig& task);

// Accuracy of the model on the first `limit` images of a split (0 = all), rate-coded with
// `seed` (stream 2 for test, as in training).
double evaluate_accuracy(SrcClassifier& model, const SpikingTaskConfig& task, bool train_split, int64_t first,
                         int64_t limit, uint64_t seed, uint64_t stream);

// Run folder files for spiking runs (same names as the regression runs).
void save_src_weights(const std::string& path, SrcClassifier& model);
void load_src_weights(const std::string& path, SrcClassifier& model);

}  // namespace neurocell
