#pragma once
// A DRQN agent for the T-maze (tasks.md): a recurrent Q-network (any cell of the library, a
// SequenceModel whose readout gives one Q value per action at every step) reads
// [one-hot previous action, previous reward, one-hot observation] and is trained from a replay
// of whole episodes with a target network and epsilon-greedy exploration:
//   loss = mean over the valid steps of smooth-L1(Q(x_t, a_t), r_t + gamma (1 - terminal_t)
//                                                max_a Q_target(x_{t+1}, a)),
// the whole episode replayed from the zero state (no burn-in), gradient norm clipped to 10.
// An episode cut by the horizon is not terminal: its last target bootstraps from the
// observation after the last action.
#include <cstdint>
#include <iosfwd>
#include <vector>

#include "analysis/vaa.h"
#include "nn/model.h"
#include "tasks/tmaze.h"
#include "train/trainer.h"

namespace neurocell {

constexpr int64_t kDrqnInputs = kTmazeActions + 1 + kTmazeSymbols;  // 9

struct DrqnOptions {
  int64_t episodes = 3000;
  int64_t batch_episodes = 16;
  int64_t replay_capacity = 5000;   // episodes kept (the oldest are dropped)
  int64_t start_episodes = 64;      // episodes collected before the first update
  int64_t updates_per_episode = 1;
  double learning_rate = 1e-3;
  double epsilon_start = 1.0, epsilon_end = 0.05;
  double epsilon_decay = 0.5;       // fraction of the episodes over which epsilon falls linearly
  int64_t target_every = 50;        // updates between copies into the target network
  int64_t eval_every = 100;         // episodes between greedy evaluations (both cues)
  bool stop_when_solved = false;    // stop at the first evaluation that solves the maze
  uint64_t seed = 1;
  int64_t checkpoint_every = 0;     // resume checkpoint every N episodes (0 = at every evaluation)
  bool progress = false;
  void validate() const;
};

struct TmazeEvaluation {
  double success = 0;      // fraction of the two cues for which the greedy agent reaches the cued goal
  double mean_return = 0;  // undiscounted, over the two episodes
};
// The greedy agent (no exploration) at corridor length `length`, one episode per cue.
TmazeEvaluation evaluate_tmaze(SequenceModel& q_network, int64_t length);

struct DrqnReport {
  int64_t episodes_done = 0, updates = 0;
  int64_t resumed_from = 0;  // the episode a resumed run continued after (0 = not resumed)
  TmazeEvaluation final_evaluation;  // at the training length, with the final weights
  bool solved = false;               // final_evaluation.success == 1
  double wall_seconds = 0;
};

// Input sequences for warmup and VAA (multistability.md) from the T-maze: n episodes of a
// uniformly random policy at corridor length `length`, as the agent would read them,
// zero-padded after an episode's end to the horizon + 1 steps: (3L, n, kDrqnInputs).
analysis::InputSampler tmaze_random_inputs(int64_t length);

// Trains q_network (input kDrqnInputs, output kTmazeActions) at corridor length `length`;
// writes one JSON line per evaluation to output.metrics, and resume checkpoints as the
// supervised loops do (train/resume.h; here an "update" of checkpoint_every is an episode):
// the target network, the replay and the std::mt19937_64 are in them, so a resumed run ends
// bit-identical.
DrqnReport train_drqn(SequenceModel& q_network, int64_t length, const DrqnOptions& options, const TrainOutput& output);
inline DrqnReport train_drqn(SequenceModel& q_network, int64_t length, const DrqnOptions& options, std::ostream* metrics) {
  TrainOutput output;
  output.metrics = metrics;
  return train_drqn(q_network, length, options, output);
}

}  // namespace neurocell
