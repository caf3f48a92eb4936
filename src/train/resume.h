#pragma once
// Resumable training. A training loop with a resume path (TrainOutput::resume_path, given by
// the run folder's writer: DIR/resume.safetensors) saves, every checkpoint_every updates (0 =
// at every validation) and when SIGINT/SIGTERM arrive (core/interrupt.h), everything its next
// update depends on: the parameters, Adam's moments and step counts, the best weights so far,
// the data generator and LibTorch's default generator, the loop's counters (as exact float64
// and int64 values, so that a best MSE of +inf or a NaN loss survive), the run function's own
// pre-training results (warmup, VAA) and the length of metrics.jsonl. A run continued from it
// ends bit-identical to one that was never interrupted: same weights, same report numbers.
//
// The file is a safetensors file (io/safetensors.h) any tool can read:
//   param.<i>, best.<i>           the parameters in module.parameters() order, now and at best
//                                 (best.<i> only for loops that keep a best)
//   adam.exp_avg.<i>, adam.exp_avg_sq.<i>   Adam's moments (absent before a parameter's first update)
//   rng.loop, rng.default         generator states (uint8; rng.loop for loops with a torch generator)
//   reals                         float64 counters, named in the metadata's "state".reals
//   extra.<name>                  tensors of the loop's own (the classifier's epoch order, the DRQN's
//                                 replay, target network and std::mt19937_64)
//   __metadata__: {"format": "neurocell-resume-1", "state": JSON with step, names, adam steps,
//                  integer counters, run, metrics_bytes}
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "train/trainer.h"

namespace neurocell {

struct TrainingState {
  int64_t step = 0;  // updates done
  std::vector<std::string> names;  // the parameters' names, to refuse another model's state
  std::vector<torch::Tensor> params, best_params;  // best_params empty: a loop without "best" (DRQN)
  std::vector<torch::Tensor> exp_avg, exp_avg_sq;  // undefined where Adam holds no state yet
  std::vector<int64_t> adam_steps;                 // -1 where Adam holds no state yet
  torch::Tensor loop_generator, default_generator;  // loop_generator undefined: the loop has none
  std::map<std::string, double> reals;
  std::map<std::string, int64_t> integers;
  std::map<std::string, torch::Tensor> extra;
  std::string divergence;                          // DivergenceWatch's reason so far
  nlohmann::json run = nlohmann::json::object();  // TrainOutput::run_state
  uint64_t metrics_bytes = 0;                      // metrics.jsonl's length at the checkpoint

  double real(const std::string& name) const;
  int64_t integer(const std::string& name) const;
};

void save_training_state(const std::string& path, const TrainingState& state);  // atomic
TrainingState load_training_state(const std::string& path);

// A text (a std::mt19937_64's stream form) as a uint8 tensor for TrainingState::extra, and back.
torch::Tensor text_tensor(const std::string& text);
std::string tensor_text(const torch::Tensor& t);

// What a training loop does with its checkpoints: restores from one, decides when to write
// the next, writes it and, on a stop signal, throws Interrupted once it is on disk.
class Checkpointer {
 public:
  // generator: the loop's torch generator, or null for a loop with its own (the DRQN's
  // std::mt19937_64, kept in TrainingState::extra).
  Checkpointer(const TrainOutput& output, torch::nn::Module& module, torch::optim::Adam& optimizer,
               torch::Generator* generator);
  // A loop with several Adam optimisers over disjoint parameters of `module` (PPO's policy and
  // value): each parameter's moments are saved and restored in the optimiser that owns it.
  Checkpointer(const TrainOutput& output, torch::nn::Module& module, std::vector<torch::optim::Adam*> optimizers,
               torch::Generator* generator);

  // The state to continue from, with the parameters, Adam and both generators already
  // restored (the loop takes its counters and best weights from it), or null for a fresh run.
  const TrainingState* restore();

  // After update `step` of `steps` (`validated`: it ran a validation): writes a checkpoint
  // when one is due or a stop signal came; for a signal, then throws Interrupted. `fill`
  // adds the loop's counters, best weights and extras to the state being written.
  void after_update(int64_t step, int64_t steps, bool validated, const std::function<void(TrainingState&)>& fill);

 private:
  void write(int64_t step, const std::function<void(TrainingState&)>& fill);
  const TrainOutput& output_;
  torch::nn::Module& module_;
  std::vector<torch::optim::Adam*> optimizers_;
  torch::Generator* generator_;
};

}  // namespace neurocell
