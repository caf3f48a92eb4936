#pragma once
// PPO with the adaptive-KL penalty (Schulman et al. 2017, "Proximal policy optimization
// algorithms", section 4) for the meta-RL agents (nn/neuromodulation.h) on the meta-RL
// environments (tasks/meta_rl.h), with the NMD paper's settings as defaults (Vecoven et al.,
// PLoS ONE 2020): KL target 0.003, an update reverted when its KL exceeds 4x the target, GAE
// with gamma 0.998 and lambda 0.98, Adam for the policy (lr 2e-4) and for the value (lr 6e-3),
// 20 policy and 10 value epochs, 200-step truncated BPTT, 50 episodes per iteration.
//
// One iteration:
//  1. rollout: the B episodes of the environment (B = its batch) played by the current policy,
//     a_t ~ N(mean_t, exp(log_std)^2), one step at a time; the networks read o_t and the
//     feedback [a_{t-1}, r_{t-1}] (zeros at t = 0). The old means, log-probabilities and values
//     are then recomputed by whole-sequence passes (the same numbers, in the training's form).
//  2. advantages: GAE (gae below) with V = 0 after the last step (the episode, i.e. the task,
//     ends there); value targets = advantages + old values; the advantages are then normalised
//     to mean 0, std 1 over the batch (normalize_advantages, on by default: not in the paper).
//  3. policy epochs: each epoch walks the episodes in chunks of `unroll` steps, in order, the
//     recurrent state carried from chunk to chunk (detached: truncated BPTT); one Adam step per
//     chunk on  loss = -mean(ratio * A) + beta * mean(KL(old || new)),  ratio = pi/pi_old.
//  4. KL decision (adaptive_kl): the mean KL(old || new) over every step after the epochs;
//     above kl_revert x target the policy (network and log_std) goes back to its parameters
//     before the epochs (Adam's moments are kept); beta is doubled above 1.5 x target and
//     halved below target / 1.5 (Schulman et al.'s rule, also when reverting).
//  5. value epochs: the same chunks, one Adam step per chunk on mean((V - target)^2).
//
// Resumable (train/resume.h): with a run folder's TrainOutput a checkpoint is written after
// every `checkpoint_every` iterations (0: every iteration) and on SIGINT/SIGTERM. It holds the
// agent, both optimisers' moments, beta, the counters, LibTorch's generator (the action noise)
// and the environment's generator, so a resumed run ends bit-identical.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include "nn/neuromodulation.h"
#include "tasks/meta_rl.h"
#include "train/trainer.h"

namespace neurocell {

struct PpoOptions {
  int64_t iterations = 100;
  double gamma = 0.998, lambda = 0.98;
  double policy_lr = 2e-4, value_lr = 6e-3;
  int64_t policy_epochs = 20, value_epochs = 10;
  int64_t unroll = 200;            // truncated BPTT: steps per chunk
  double kl_target = 0.003;
  double kl_revert = 4.0;          // revert an update whose KL exceeds kl_revert * kl_target
  double beta = 1.0;               // initial KL penalty coefficient
  bool normalize_advantages = true;
  uint64_t seed = 1;               // action noise (torch's generator, seeded by the caller's run)
  bool progress = false;           // one line per iteration on stderr
  void validate() const;           // throws Error naming the bad option
};
nlohmann::json to_json(const PpoOptions& options);

// Generalised advantage estimation: rewards (T, B), values (T, B) = V(s_t), last_value (B) =
// V(s_T) (zeros when the episode ends after step T - 1):
//   delta_t = r_t + gamma V_{t+1} - V_t,   A_t = delta_t + gamma lambda A_{t+1},   A_T = 0.
torch::Tensor gae(const torch::Tensor& rewards, const torch::Tensor& values, const torch::Tensor& last_value,
                  double gamma, double lambda);

// The adaptive-KL rule after an update whose mean KL is `kl`: revert it when kl > revert_factor
// * target; the next beta is 2 beta when kl > 1.5 target, beta / 2 when kl < target / 1.5.
struct KlDecision {
  bool revert = false;
  double beta = 1.0;
};
KlDecision adaptive_kl(double kl, double beta, double target, double revert_factor = 4.0);

// One batch of played episodes, time-major.
struct MetaRlRollout {
  torch::Tensor observations;  // (T, B, O)
  torch::Tensor feedback;      // (T, B, A + 1): [a_{t-1}, r_{t-1}], zeros at t = 0
  torch::Tensor actions;       // (T, B, A)
  torch::Tensor rewards;       // (T, B)
  torch::Tensor returns() const { return rewards.sum(0); }  // (B), undiscounted
};
// Plays env's B episodes (after a reset) with the agent's policy; deterministic: the mean
// action (evaluation), otherwise sampled with torch's generator.
MetaRlRollout play_meta_rl(MetaRlAgent& agent, MetaRlEnv& env, bool deterministic);

struct PpoIteration {
  int64_t iteration = 0;
  double mean_return = 0;  // over the iteration's episodes (before its update)
  double kl = 0, beta = 0;  // the update's mean KL; beta after the rule
  bool reverted = false;
  double policy_loss = 0, value_loss = 0;  // last epoch's mean over chunks
  double log_std = 0;                      // mean over action dimensions, after the update
  double wall_seconds = 0;                 // since training started
};
struct PpoReport {
  std::vector<PpoIteration> iterations;  // those run by this call (after resumed_from)
  int64_t iterations_done = 0;           // all of them, a resumed run's earlier ones included
  int64_t resumed_from = 0;              // the iteration a resumed run continued after (0: none)
  double first_mean_return = 0, last_mean_return = 0;  // of iteration 1 and of the last one
  int64_t reverts = 0;                   // all iterations'
  double wall_seconds = 0;               // all iterations' (a resumed run adds its earlier time)
};

// Trains the agent on env (B = env.batch() episodes per iteration); one JSON line per
// iteration to output.metrics (if given), resume checkpoints as the header says.
PpoReport train_ppo(MetaRlAgent& agent, MetaRlEnv& env, const PpoOptions& options, const TrainOutput& output);
inline PpoReport train_ppo(MetaRlAgent& agent, MetaRlEnv& env, const PpoOptions& options,
                           std::ostream* metrics = nullptr) {
  TrainOutput output;
  output.metrics = metrics;
  return train_ppo(agent, env, options, output);
}

// The agent on env's next B tasks: mean return per episode and more; deterministic: the mean
// actions, otherwise actions sampled from the policy (torch's generator).
struct MetaRlEvaluation {
  int64_t episodes = 0, episode_length = 0;
  double mean_return = 0, std_return = 0;
  double mean_reward_first_tenth = 0, mean_reward_last_tenth = 0;  // per step: adaptation within episodes
};
MetaRlEvaluation evaluate_meta_rl(MetaRlAgent& agent, MetaRlEnv& env, bool deterministic = true);

}  // namespace neurocell
