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

// What every supervised run reports of its loop (train_supervised below).
struct LoopSummary {
  int64_t steps_done = 0;
  int64_t skipped_updates = 0;
  int64_t best_step = 0;
  bool early_stopped = false;
  int64_t resumed_from = 0;  // the update a resumed run continued after (0 = not resumed)
  std::string divergence;    // why the run looks diverged ("" = it does not), see Divergence
};

struct TrainReport : LoopSummary {
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

namespace training {
class DivergenceWatch;  // core/progress.h
}

// ---- The supervised loop, shared by regression (train_model) and the image classifiers
// (train_classifier, train/classify.h): Adam under the --lr schedule, the skip rule for
// non-finite updates, --clip, a validation every eval_every updates with early stopping and
// the best weights kept (and restored at the end), metrics lines, divergence, resumable
// checkpoints. What differs between the two is a SupervisedProblem.
struct SupervisedProblem {
  torch::nn::Module* module = nullptr;  // its parameters are trained
  // The loss of one training batch, the batch drawn with `generator` (the loop's, checkpointed).
  std::function<torch::Tensor(torch::Generator& generator)> loss;
  // The validation score (no gradients), its metrics key and which way is better.
  std::function<double()> validate;
  std::string score = "validation_mse";  // the metrics and checkpoint keys: score and "best_" + score
  bool higher_is_better = false;
  std::string progress_label = "val MSE";
  // At each validation, what the divergence watch sees: the score or the mean training loss
  // (NaN when every update of the period was skipped) against its chance level.
  std::function<void(training::DivergenceWatch& watch, double score, double mean_loss, int64_t step)> watch;
  std::function<void()> after_update;                         // after each optimiser step (SRC: the bias clamp)
  std::function<void(const std::string& path)> save_weights;  // at each new best score
  // Extra fields of a validation's metrics line (epoch, images/s, VAA); training_seconds is
  // the time spent in updates so far, without validations.
  std::function<void(nlohmann::json& line, int64_t step, double training_seconds)> metrics_fields;
  // The batch source's own resumable state (a shuffled order and its cursor).
  std::function<void(TrainingState& state)> save_state;
  std::function<void(const TrainingState& state)> restore_state;
};

struct SupervisedResult : LoopSummary {
  double best_score = 0;
  double training_seconds = 0;  // in updates, over every session of a resumed run
  double earlier_seconds = 0;   // wall time of the sessions before this one (resumed runs)
};

// Trains problem.module until options.steps (or early stopping) and leaves it at its best
// validation score.
SupervisedResult train_supervised(const SupervisedProblem& problem, const TrainOptions& options,
                                  const TrainOutput& output);

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
