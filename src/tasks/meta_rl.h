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
// The agent also reads its previous action and previous reward (zeros at t = 0): the trainer
// (train/ppo.h) feeds them, the environment only gives o_t.
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

// The environments by name (--env): "moving-target".
const std::vector<std::string>& meta_rl_env_names();
std::unique_ptr<MetaRlEnv> make_meta_rl_env(const std::string& name, int64_t batch, int64_t episode_length,
                                            uint64_t seed);

}  // namespace neurocell
