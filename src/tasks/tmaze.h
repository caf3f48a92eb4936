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
#include <cstdint>
#include <random>

namespace neurocell {

enum class TmazeAction : int { up = 0, down = 1, left = 2, right = 3 };
enum class TmazeSymbol : int { up_cue = 0, down_cue = 1, corridor = 2, junction = 3 };
constexpr int kTmazeActions = 4, kTmazeSymbols = 4;
constexpr double kTmazeGoalReward = 4.0, kTmazePenalty = -0.1, kTmazeDiscount = 0.98;

class Tmaze {
 public:
  explicit Tmaze(int64_t length, double stochasticity = 0.0);  // L >= 1, lambda in [0, 1]
  // A new episode with the goal up (true) or down (false); returns the first observation.
  TmazeSymbol reset(bool goal_up);
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
  int64_t horizon() const { return 3 * length_ - 1; }
  int64_t position() const { return position_; }
  int64_t steps_taken() const { return steps_; }
  bool goal_up() const { return goal_up_; }
  TmazeSymbol observation() const;

 private:
  Step move(TmazeAction action, TmazeAction executed);
  int64_t length_, position_ = 0, steps_ = 0;
  double stochasticity_ = 0.0;
  bool goal_up_ = true, over_ = true;
};

// The warmup paper's exploration policy (environments.py:60-65): right with probability 1/2,
// up, left and down 1/6 each, so that random episodes reach the junction of long corridors.
// Draws one uniform integer in 0..5 (exact probabilities, the same on every platform).
TmazeAction tmaze_exploration_action(std::mt19937_64& random);

}  // namespace neurocell
