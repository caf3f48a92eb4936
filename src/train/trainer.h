#pragma once
// Training loop for the regression tasks: Adam, optional gradient-norm clipping, the
// "skip the whole update if any gradient is NaN/Inf" rule of the nBRC paper, periodic
// validation with early stopping, best weights restored at the end, JSONL metrics, and an
// atomically written checkpoint at every new best.
#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <ostream>
#include <string>
#include <torch/optim/optimizer.h>
#include <vector>

#include "nn/model.h"
#include "tasks/synthetic.h"

namespace neurocell {

struct TrainOptions {
  int64_t steps = 1000;
  int64_t batch_size = 64;
  double learning_rate = 1e-3;
  std::string lr_schedule = "constant";  // constant | cosine (to 1 % of --lr at the last step)
  double clip_norm = 0.0;        // 0 = no clipping (the papers' setting)
  bool skip_nonfinite = true;    // skip an update when any gradient is NaN/Inf
  int64_t eval_every = 100;      // validation every N steps (and after the last)
  int64_t validation_size = 1000;
  int64_t test_size = 10000;
  int64_t patience = 0;          // stop after N validations without improvement; 0 = never
  uint64_t seed = 1;
  int64_t threads = 0;           // 0 = every core
  int64_t checkpoint_every = 0;  // resume checkpoint every N updates (0 = at every validation)
  bool progress = true;          // progress bar on stderr
  void validate() const;
};
nlohmann::json to_json(const TrainOptions& options);
TrainOptions train_options_from_json(const nlohmann::json& json);

struct TrainReport {
  int64_t steps_done = 0;
  int64_t skipped_updates = 0;
  int64_t best_step = 0;
  bool early_stopped = false;
  int64_t resumed_from = 0;  // the update a resumed run continued after (0 = not resumed)
  std::string divergence;    // why the run looks diverged ("" = it does not), see Divergence
  double best_validation_mse = 0;
  double test_mse = 0;
  double chance_mse = 0;  // MSE of the best constant prediction on the test set
  double wall_seconds = 0;
};

// Extra fields for the metrics line of a validation step (e.g. VAA), or null for none.
using ValidationHook = std::function<nlohmann::json(int64_t step)>;

struct TrainingState;  // train/resume.h

// Where a training loop writes while it runs (all optional; a run folder's RunWriter gives
// its own, runs/run_folder.h): one JSON line per validation to `metrics`, the weights at
// every new best validation score to `weights_path`, and resume checkpoints to `resume_path`
// (train/resume.h) every `checkpoint_every` updates (0 = at every validation) and on
// SIGINT/SIGTERM. A run continues from `resume_from` when it is given; `run_state` is what the
// run function did before training (warmup, VAA), kept in every checkpoint.
struct TrainOutput {
  std::ostream* metrics = nullptr;
  std::string weights_path;
  std::string resume_path;
  int64_t checkpoint_every = 0;
  const TrainingState* resume_from = nullptr;
  const nlohmann::json* run_state = nullptr;
};

// Trains `model` on `task`, writing the metrics lines and best weights to `output`.
TrainReport train_model(SequenceModel& model, const Task& task, const TrainOptions& options,
                        const TrainOutput& output, const ValidationHook& on_validation = {});

// Sequences per batch of the fixed validation and test sets: at least the training batch and
// 500, fewer for long sequences so that one batch holds about 2^19 steps (T = 5000: 104
// sequences), which keeps evaluation's activations within a few hundred MB. The sets' content
// depends on it, so train, eval and warmup all use this one rule.
int64_t evaluation_batch_size(int64_t training_batch, int64_t length);

// sum over elements of mask * (prediction - targets)^2 / sum of mask: the MSE of the targets
// that count (masks of your own data, io/dataset.h).
torch::Tensor weighted_mse(const torch::Tensor& prediction, const torch::Tensor& targets, const torch::Tensor& mask);

// Mean squared error of the model over a fixed set (no gradients), weighted by the batches'
// masks when they have them.
double evaluate_mse(SequenceModel& model, const std::vector<Batch>& set, int64_t readout_steps);
// Mean squared deviation of the targets around their mean: what a model that ignores its
// input can reach at best (the "chance level"); weighted by the masks when there are.
double chance_mse(const std::vector<Batch>& set);

// The learning rate of step `step` (1-based) under options.lr_schedule.
double scheduled_learning_rate(const TrainOptions& options, int64_t step);

// Sets the learning rate of every parameter group of an Adam optimiser.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

// Sets LibTorch's intra-op threads (0 = every core) and returns the number used.
int64_t configure_threads(int64_t threads);

}  // namespace neurocell
