#pragma once
// The T-maze of the warmup paper (tasks.md, "Reinforcement learning memory task"): a corridor
// of cells 0..L, the junction at cell L. The agent starts at cell 0, where the observation is
// the cue (up-goal or down-goal); cells 1..L-1 show "corridor", cell L "junction". Actions:
// up, down, left, right. Right and left move along the corridor; up or down at the junction
// enter that goal and end the episode (+4 at the cued goal, -0.1 at the other one); any other
// move runs into a wall (-0.1, the agent stays). Every other step rewards 0; an episode also
// ends after the horizon of 3L - 1 steps. The shortest successful episode takes L + 1 steps,
// so the cue must be kept for L steps.
//
// Stochasticity lambda (the warmup paper's, glambrechts/warmup@8d9a33b:environments.py:138-145):
// in the corridor (cells 0..L-1) the maze replaces the agent's action, with probability lambda,
// by one drawn uniformly from the four; the reward is still the one of the agent's own action
// (the authors compute it before the replacement, in TMaze.step of environments.py). lambda = 0 (the
// default) draws no random number, so a deterministic maze stays bit-identical.
//
// The signal maze (TmazeVariant::signal, the horizon paper's second regime: the cue must be
// combined with a later signal whose relevance decays; the rules are this project's, written in
// docs/tasks.md): the same corridor, cue and actions, plus one signal. Each episode has a signal
// cell p in 1..L-1; the first time the agent enters it, the observation is `signal` instead of
// `corridor`. A late signal (p >= L - W, within the W cells before the junction; W the signal
// window, default 3) swaps the goal that pays; an early one (p < L - W) does not. So the cue
// must be kept for the whole corridor (persistent memory) while the signal matters only for W
// steps and must then be forgotten (transient memory): at any L, the rewarded goal is the cue's
// unless the signal came within the last W cells. Episodes draw late and early signals with
// probability 1/2 each, the cell uniformly within its range; so L >= W + 2.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace neurocell {

enum class TmazeAction : int { up = 0, down = 1, left = 2, right = 3 };
enum class TmazeSymbol : int { up_cue = 0, down_cue = 1, corridor = 2, junction = 3, signal = 4 };
constexpr int kTmazeActions = 4, kTmazeSymbols = 4;  // symbols of the cue maze (the signal maze adds one)
constexpr double kTmazeGoalReward = 4.0, kTmazePenalty = -0.1, kTmazeDiscount = 0.98;
constexpr int64_t kTmazeSignalWindow = 3;  // W: a signal within W cells of the junction swaps the goal

enum class TmazeVariant : int { cue = 0, signal = 1 };
std::string tmaze_variant_name(TmazeVariant variant);           // "cue" | "signal"
TmazeVariant tmaze_variant_from_name(const std::string& name);  // refuses any other name
int tmaze_symbols(TmazeVariant variant);                        // 4 | 5

class Tmaze {
 public:
  // L >= 1 (signal maze: L >= W + 2, W >= 1), lambda in [0, 1].
  explicit Tmaze(int64_t length, double stochasticity = 0.0, TmazeVariant variant = TmazeVariant::cue,
                 int64_t signal_window = kTmazeSignalWindow);
  // A new episode with the cue up (true) or down (false); returns the first observation.
  // The signal maze needs the signal cell: the overload below, or draw_signal_cell.
  TmazeSymbol reset(bool goal_up);
  TmazeSymbol reset(bool goal_up, int64_t signal_cell);  // signal maze: 1 <= signal_cell <= L - 1
  // Signal maze: late (L-W..L-1) or early (1..L-W-1) with probability 1/2, then uniform; the
  // cue maze draws nothing and returns 0.
  int64_t draw_signal_cell(std::mt19937_64& random) const;
  // The signal cells a greedy evaluation plays (each with both cues): the early cells 1, the
  // middle one and L-W-1, and every late cell; {0} (no signal) for the cue maze.
  std::vector<int64_t> evaluation_signal_cells() const;
  struct Step {
    TmazeSymbol observation;
    double reward;
    bool terminal;   // a goal was entered
    bool timed_out;  // the horizon was reached without a goal
  };
  Step step(TmazeAction action);  // only for lambda = 0 (else: the overload with a generator)
  // random: the draws of the corridor's replacement (used only where lambda > 0).
  Step step(TmazeAction action, std::mt19937_64& random);

  int64_t length() const { return length_; }
  double stochasticity() const { return stochasticity_; }
  TmazeVariant variant() const { return variant_; }
  int64_t signal_window() const { return signal_window_; }
  int symbols() const { return tmaze_symbols(variant_); }
  int64_t signal_cell() const { return signal_cell_; }  // 0: none (the cue maze)
  // The goal that pays +4: the cue's, swapped by a late signal.
  bool rewarded_up() const { return goal_up_ != (signal_cell_ > 0 && signal_cell_ >= length_ - signal_window_); }
  int64_t horizon() const { return 3 * length_ - 1; }
  int64_t position() const { return position_; }
  int64_t steps_taken() const { return steps_; }
  bool goal_up() const { return goal_up_; }
  TmazeSymbol observation() const;

 private:
  Step move(TmazeAction action, TmazeAction executed);
  int64_t length_, position_ = 0, steps_ = 0;
  double stochasticity_ = 0.0;
  TmazeVariant variant_ = TmazeVariant::cue;
  int64_t signal_window_ = kTmazeSignalWindow, signal_cell_ = 0;
  bool goal_up_ = true, over_ = true;
  bool signal_shown_ = false, signal_now_ = false;  // entered the signal cell before / at this step
};

// The warmup paper's exploration policy (environments.py:60-65): right with probability 1/2,
// up, left and down 1/6 each, so that random episodes reach the junction of long corridors.
// Draws one uniform integer in 0..5 (exact probabilities, the same on every platform).
TmazeAction tmaze_exploration_action(std::mt19937_64& random);

}  // namespace neurocell
