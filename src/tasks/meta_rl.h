#pragma once
// Meta-reinforcement-learning environments of the NMD paper (Vecoven et al., PLoS ONE 2020;
// docs/tasks.md, "Meta-RL"): every episode is a new task drawn from a family, and the agent has
// to infer it from its rewards within the episode. Each environment runs B episodes side by
// side (a batch, all of the same length, in lockstep) and draws everything from its own seeded
// generator (std::mt19937_64 turned into doubles by hand, so a seed gives the same tasks on
// every platform).
//
// moving-target (1-D), this project's reading of benchmark 1:
//   at reset, per episode: offset ~ U(-offset_range, offset_range) (10: the paper's), fixed for
//   the episode, and a target position p ~ U(-position_range, position_range) (5);
//   observation o_t = [p_t]; the agent's action a_t (1-D) is its guess of the goal g_t = p_t + offset;
//   reward r_t = hit_reward (10) if |g_t - a_t| < margin (1), and then the target moves: a new
//   p ~ U(-position_range, position_range), the same offset; otherwise
//   r_t = max(-|g_t - a_t|, reward_floor) with reward_floor -20 (a wild action costs no more than
//   an error of 20, twice the largest offset), and the target stays;
//   the episode lasts `episode_length` steps (1400 in the paper; no other end).
//
// windy-reference (2-D), this project's definition of benchmark 2 (the paper's name; its exact
// constants are not in the issue):
//   at reset, per episode: a wind w = s (cos phi, sin phi), s ~ U(0, wind_max) (2), phi ~ U(0, 2 pi),
//   fixed for the episode; the agent starts at x_0 = (0, 0) and the reference is
//   r = x_0 + (U(-spread, spread), U(-spread, spread)) (spread 5);
//   observation o_t = r - x_t (the reference as the agent sees it, 2-D);
//   action a_t (2-D), each component clipped to [-max_move, max_move] (3); the agent moves to
//   x_{t+1} = x_t + clip(a_t) + w: it must infer the wind from its own moves to land on r;
//   d = |r - x_{t+1}|: reward hit_reward (10) if d < margin (1), and then a new reference
//   r = x_{t+1} + (U(-spread, spread), U(-spread, spread)); otherwise max(-d, reward_floor) (-20);
//   the paper's episodes last 4000 steps.
//
// multiple-references (2-D), this project's definition of benchmark 3:
//   at reset, per episode: which of two references rewards, k ~ {0, 1} with probability 1/2 each,
//   fixed for the episode; x_0 = (0, 0); references r_j = x_0 + (U(-spread, spread), U(-spread, spread)),
//   j = 0 then 1;
//   observation o_t = [r_0 - x_t, r_1 - x_t] (4-D);
//   action a_t (2-D), clipped as above; x_{t+1} = x_t + clip(a_t) (no wind);
//   d_j = |r_j - x_{t+1}|: reward hit_reward (10) if d_k < margin, bad_reward (-50) if the other
//   reference is within the margin (and the good one is not), and then both references are
//   drawn anew around x_{t+1} (r_0 then r_1); otherwise max(-d_k, reward_floor): the distance to
//   the good reference, as moving-target's miss; the paper's episodes last 5000 steps.
//
// Draw order of the plane tasks, per episode in turn at reset: windy-reference s, phi, then r
// (x, y); multiple-references u ~ U(0, 1) (k = 0 if u < 1/2, else 1), then r_0 (x, y), r_1 (x, y);
// at each step, the new reference(s) of each episode that reached one, in episode order.
//
// The agent also reads its previous action and previous reward (zeros at t = 0): the trainer
// (train/ppo.h) feeds them, the environment only gives o_t.
#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <torch/types.h>

namespace neurocell {

struct MetaRlStep {
  torch::Tensor observation;  // (B, O): o_{t+1}
  torch::Tensor reward;       // (B): r_t
  bool done = false;          // the episodes (all of them) ended with this step
};

class MetaRlEnv {
 public:
  virtual ~MetaRlEnv() = default;
  virtual std::string name() const = 0;
  virtual int64_t observation_size() const = 0;
  virtual int64_t action_size() const = 0;
  int64_t batch() const { return batch_; }
  int64_t episode_length() const { return episode_length_; }
  int64_t steps_done() const { return t_; }
  // New tasks for the B episodes; returns o_0 (B, O), float32.
  virtual torch::Tensor reset() = 0;
  // action (B, A), any floating type; refused after the episode's end (reset first).
  virtual MetaRlStep step(const torch::Tensor& action) = 0;
  // The generator's state (std::mt19937_64's text form), for resume checkpoints: every draw
  // happens in reset() and step(), and reset() draws the whole task anew, so this state and
  // the next reset() decide everything that follows.
  std::string generator_state() const;
  void set_generator_state(const std::string& state);

 protected:
  MetaRlEnv(int64_t batch, int64_t episode_length, uint64_t seed);
  double uniform(double low, double high);  // from the environment's own generator
  int64_t batch_, episode_length_, t_ = 0;
  bool started_ = false;
  std::mt19937_64 random_;
};

struct MovingTargetOptions {
  double offset_range = 10.0;    // offset ~ U(-offset_range, offset_range)
  double position_range = 5.0;   // target position ~ U(-position_range, position_range)
  double margin = 1.0;           // a hit: |goal - action| < margin
  double hit_reward = 10.0;
  double reward_floor = -20.0;   // a miss: max(-|goal - action|, reward_floor)
  void validate() const;
};

class MovingTarget : public MetaRlEnv {
 public:
  MovingTarget(int64_t batch, int64_t episode_length, uint64_t seed, const MovingTargetOptions& options = {});
  std::string name() const override { return "moving-target"; }
  int64_t observation_size() const override { return 1; }
  int64_t action_size() const override { return 1; }
  torch::Tensor reset() override;
  MetaRlStep step(const torch::Tensor& action) override;
  // The hidden task, for tests and analysis.
  const std::vector<double>& offsets() const { return offset_; }
  const std::vector<double>& positions() const { return position_; }
  const MovingTargetOptions& options() const { return options_; }

 private:
  torch::Tensor observation() const;
  MovingTargetOptions options_;
  std::vector<double> offset_, position_;
};

struct PlaneOptions {
  double spread = 5.0;          // references ~ agent + U(-spread, spread)^2
  double max_move = 3.0;        // each action component clipped to [-max_move, max_move]
  double wind_max = 2.0;        // windy-reference: wind speed ~ U(0, wind_max)
  double margin = 1.0;
  double hit_reward = 10.0;
  double bad_reward = -50.0;    // multiple-references: reaching the other reference
  double reward_floor = -20.0;
  void validate() const;
};

// windy-reference and multiple-references: a point agent on the plane.
class PlaneReaching : public MetaRlEnv {
 public:
  enum class Variant { windy_reference, multiple_references };
  PlaneReaching(Variant variant, int64_t batch, int64_t episode_length, uint64_t seed, const PlaneOptions& options = {});
  std::string name() const override;
  int64_t observation_size() const override { return variant_ == Variant::windy_reference ? 2 : 4; }
  int64_t action_size() const override { return 2; }
  torch::Tensor reset() override;
  MetaRlStep step(const torch::Tensor& action) override;
  // The hidden state, for tests: per episode {x, y} of the agent, of the references (one or
  // two), the wind, and the good reference's index (multiple-references).
  const std::vector<std::array<double, 2>>& agent() const { return agent_; }
  const std::vector<std::array<double, 2>>& reference(int j = 0) const { return reference_[j]; }
  const std::vector<std::array<double, 2>>& wind() const { return wind_; }
  const std::vector<int>& good() const { return good_; }

 private:
  torch::Tensor observation() const;
  void draw_references(int64_t b);
  Variant variant_;
  PlaneOptions options_;
  std::vector<std::array<double, 2>> agent_, wind_, reference_[2];
  std::vector<int> good_;
};

// The environments by name (--env): "moving-target", "windy-reference", "multiple-references".
const std::vector<std::string>& meta_rl_env_names();
std::unique_ptr<MetaRlEnv> make_meta_rl_env(const std::string& name, int64_t batch, int64_t episode_length,
                                            uint64_t seed);

}  // namespace neurocell
