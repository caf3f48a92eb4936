#pragma once
// A DRQN agent for the T-maze (tasks.md): a recurrent Q-network (any cell of the library, a
// SequenceModel whose readout gives one Q value per action at every step) reads
// [one-hot previous action, previous reward, one-hot observation] and is trained with a target
// network and epsilon-greedy exploration, under one of two protocols (DrqnProtocol):
//
// neurocell (the default): a replay of whole episodes,
//   loss = mean over the valid steps of smooth-L1(Q(x_t, a_t), r_t + gamma (1 - terminal_t)
//                                                max_a Q_target(x_{t+1}, a)),
// the whole episode replayed from the zero state (no burn-in), gradient norm clipped to 10,
// epsilon 1 -> 0.05 with uniform random actions, 1 update of 16 episodes per episode.
//
// warmup-paper (Lambrechts et al.'s code, glambrechts/warmup@8d9a33b: agents.py, memory.py,
// reinforcement.py): a replay of 8 192 *transitions* (history prefix, action, reward,
// terminal, next history) filled to capacity by epsilon = 1 episodes before anything else,
// sampled with replacement; epsilon 0.2 constant with the biased exploration policy
// (tmaze_exploration_action); 10 updates of 32 transitions per episode,
//   loss = mean over the 32 of (Q(h_t)[a_t] - (r_t + gamma (1 - terminal) max_a Q_target(h_{t+1})[a]))^2
// on the last step of each history only, no clipping; the target network copied every 20
// episodes; 2 000 episodes; a greedy evaluation every 20 episodes with the paper's criterion
// ("optimal", TmazeEvaluation) and 50 greedy rollouts, VAA and VAA* (200 settling steps) of
// 200 replayed histories.
//
// In both, an episode cut by the horizon is not terminal: its last target bootstraps from the
// observation after the last action.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "analysis/vaa.h"
#include "nn/model.h"
#include "tasks/tmaze.h"
#include "train/trainer.h"

namespace neurocell {

constexpr int64_t kDrqnInputs = kTmazeActions + 1 + kTmazeSymbols;  // 9 (the cue maze)
// The Q-network's input width in a maze: 9 in the cue maze, 10 in the signal maze.
inline int64_t drqn_inputs(TmazeVariant variant) { return kTmazeActions + 1 + tmaze_symbols(variant); }

enum class DrqnProtocol { neurocell, warmup_paper };
std::string drqn_protocol_name(DrqnProtocol protocol);        // "neurocell" | "warmup-paper"
DrqnProtocol drqn_protocol_from_name(const std::string& name);  // refuses any other name

// The warmup paper's constants (reinforcement.py:129-139,147, its argparse defaults).
struct WarmupPaperDrqn {
  static constexpr int64_t episodes = 2000, replay_transitions = 8192, batch_transitions = 32;
  static constexpr int64_t updates_per_episode = 10, target_every_episodes = 20, eval_every = 20;
  static constexpr int64_t rollouts = 50, vaa_samples = 200, vaa_settle_steps = 200;
  static constexpr double epsilon = 0.2, learning_rate = 1e-3;
};

struct DrqnOptions {
  DrqnProtocol protocol = DrqnProtocol::neurocell;
  int64_t episodes = 0;             // 0 = the protocol's: 3000 (neurocell), 2000 (warmup-paper)
  double learning_rate = 1e-3;      // Adam, both protocols (the authors' --learning-rate 1e-3)
  int64_t eval_every = 0;           // episodes between greedy evaluations; 0 = 100 (neurocell), 20 (warmup-paper)
  double stochasticity = 0.0;       // lambda of the maze (tasks/tmaze.h), both protocols
  TmazeVariant maze = TmazeVariant::cue;        // the maze's rules (tasks/tmaze.h), both protocols
  int64_t signal_window = kTmazeSignalWindow;   // W of the signal maze
  bool stop_when_solved = false;    // stop at the first evaluation that solves the maze (warmup-paper: optimal)
  uint64_t seed = 1;
  int64_t checkpoint_every = 0;     // resume checkpoint every N episodes (0 = at every evaluation)
  bool progress = false;
  // --protocol neurocell only (unset = the value after "or"); warmup-paper refuses any that is set.
  std::optional<int64_t> batch_episodes;       // or 16
  std::optional<int64_t> replay_capacity;      // or 5000 episodes kept (the oldest are dropped)
  std::optional<int64_t> start_episodes;       // or 64 episodes collected before the first update
  std::optional<int64_t> updates_per_episode;  // or 1
  std::optional<double> epsilon_start, epsilon_end;  // or 1 and 0.05
  std::optional<double> epsilon_decay;         // or 0.5: fraction of the episodes over which epsilon falls linearly
  std::optional<int64_t> target_every;         // or 50 updates between copies into the target network
  // --protocol warmup-paper only: transitions kept (unset = 8192; a smaller one for quick tests).
  std::optional<int64_t> replay_transitions;

  // The options with every protocol default filled in (episodes, eval_every and the
  // protocol's own optional fields); validate() first.
  DrqnOptions resolved() const;
  void validate() const;  // also refuses an option the protocol cannot honour
  Tmaze maze_of_length(int64_t length) const { return Tmaze(length, stochasticity, maze, signal_window); }
};

// The greedy agent's episodes (one per cue; in the signal maze one per cue and evaluation
// signal cell, Tmaze::evaluation_signal_cells) judged by both criteria.
struct TmazeEvaluation {
  double success = 0;      // = reached_goal (the name neurocell's reports have always used)
  double reached_goal = 0; // fraction of the episodes that end at the goal that pays, any path
  bool optimal = false;    // the warmup paper's (agents.py:82-95): return 4 in exactly L + 1 transitions, every episode
  double mean_return = 0;  // undiscounted, over the episodes
  int64_t steps_up = 0, steps_down = 0;  // transitions of the first up-cue and down-cue episodes
  int64_t episodes = 0;
};
// The greedy agent (no exploration) at corridor length `length` in the maze `like` describes
// (its rules and stochasticity; its length is not used); random: the maze's draws where
// stochasticity > 0 (unused otherwise; null: a fixed seed).
TmazeEvaluation evaluate_tmaze(SequenceModel& q_network, int64_t length, const Tmaze& like,
                               std::mt19937_64* random = nullptr);
inline TmazeEvaluation evaluate_tmaze(SequenceModel& q_network, int64_t length, double stochasticity = 0.0,
                                      std::mt19937_64* random = nullptr) {
  return evaluate_tmaze(q_network, length, Tmaze(length, stochasticity), random);
}

// One played episode: inputs x_0..x_n ((n + 1) rows of `width`, row-major), the n actions
// and rewards, and whether it ended in a goal (false: cut by the horizon).
struct DrqnEpisode {
  int64_t width = kDrqnInputs;  // drqn_inputs of the maze it was played in
  std::vector<float> inputs;
  std::vector<int64_t> actions;
  std::vector<float> rewards;
  bool terminal = false;
  int64_t steps() const { return static_cast<int64_t>(actions.size()); }
  double total_return() const;
};

// Plays one episode in `maze` with the cue `goal_up`: policy(history) gives the action from
// the inputs so far (t + 1 rows of the width); random feeds the maze's stochasticity and, in
// the signal maze with signal_cell < 0, draws the signal cell first (Tmaze::draw_signal_cell).
using TmazePolicy = std::function<TmazeAction(const std::vector<float>& history)>;
DrqnEpisode play_tmaze(Tmaze& maze, bool goal_up, const TmazePolicy& policy, std::mt19937_64& random,
                       int64_t signal_cell = -1);

// Both criteria from greedy episodes at corridor length `length` (the cue maze: one per cue).
TmazeEvaluation judge_tmaze(const std::vector<const DrqnEpisode*>& episodes, int64_t length);
inline TmazeEvaluation judge_tmaze(const DrqnEpisode& up, const DrqnEpisode& down, int64_t length) {
  return judge_tmaze({&up, &down}, length);
}

// One transition of the warmup paper's replay (memory.py:76-98): step t of an episode.
struct DrqnTransition {
  std::vector<float> history;       // x_0..x_t: (t + 1) rows of kDrqnInputs
  int64_t action = 0;
  float reward = 0;
  bool terminal = false;            // the episode's last step ended in a goal
  std::vector<float> next_history;  // x_0..x_{t+1}: (t + 2) rows
};

// The warmup paper's replay: a ring of `capacity` transitions (the oldest is overwritten
// once full, memory.py:122-131), sampled uniformly with replacement (memory.py:141-145). A
// slot keeps its episode alive and the step t, so no history is copied.
class TransitionReplay {
 public:
  explicit TransitionReplay(int64_t capacity);
  void add(const std::shared_ptr<const DrqnEpisode>& episode);  // its steps() transitions, in order
  bool full() const { return size() == capacity_; }
  int64_t size() const { return static_cast<int64_t>(slots_.size()); }
  int64_t capacity() const { return capacity_; }
  struct Slot {
    std::shared_ptr<const DrqnEpisode> episode;
    int64_t step = 0;
  };
  const Slot& slot(int64_t i) const { return slots_.at(static_cast<size_t>(i)); }
  DrqnTransition transition(int64_t i) const;
  std::vector<int64_t> sample(int64_t n, std::mt19937_64& random) const;  // slot indices, with replacement
  // For the resume checkpoint: every slot, in order, and the next slot to overwrite.
  int64_t cursor() const { return cursor_; }
  void restore(std::vector<Slot> slots, int64_t cursor);

 private:
  int64_t capacity_, cursor_ = 0;
  std::vector<Slot> slots_;
};

struct DrqnReport {
  DrqnProtocol protocol = DrqnProtocol::neurocell;
  int64_t episodes_done = 0, updates = 0;
  int64_t resumed_from = 0;  // the episode a resumed run continued after (0 = not resumed)
  TmazeEvaluation final_evaluation;  // at the training length, with the final weights
  bool solved = false;               // final_evaluation.success == 1 (reached_goal)
  // The warmup paper's criterion: the first evaluation (its episode) where `optimal` held, or
  // -1 when none did; episodes are counted as the authors do (evaluation k at episode 20 k).
  int64_t episode_optimality = -1;
  int64_t target_copies = 0;         // times the target network was refreshed
  double wall_seconds = 0;
};

// Input sequences for warmup and VAA (multistability.md) from the T-maze: n episodes of a
// uniformly random policy at corridor length `length`, as the agent would read them,
// zero-padded after an episode's end to the horizon + 1 steps: (3L, n, drqn_inputs). In the
// signal maze each episode's signal cell is drawn as in training (late or early, 1/2 each).
analysis::InputSampler tmaze_random_inputs(int64_t length, TmazeVariant variant = TmazeVariant::cue,
                                           int64_t signal_window = kTmazeSignalWindow);

// Trains q_network (input drqn_inputs(options.maze), output kTmazeActions) at corridor length `length`;
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
