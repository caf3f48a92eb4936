#include "tasks/meta_rl.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"

namespace neurocell {

MetaRlEnv::MetaRlEnv(int64_t batch, int64_t episode_length, uint64_t seed)
    : batch_(batch), episode_length_(episode_length), random_(seed) {
  require(batch > 0, "meta-RL environment: the batch of episodes must be positive, got " + std::to_string(batch));
  require(episode_length > 0,
          "meta-RL environment: the episode length must be positive, got " + std::to_string(episode_length));
}

double MetaRlEnv::uniform(double low, double high) {
  const double u = static_cast<double>(random_() >> 11) * 0x1.0p-53;  // [0, 1), 53 random bits
  return low + (high - low) * u;
}

void MovingTargetOptions::validate() const {
  require(std::isfinite(offset_range) && offset_range >= 0, "moving-target: the offset range must be >= 0");
  require(std::isfinite(position_range) && position_range >= 0, "moving-target: the position range must be >= 0");
  require(std::isfinite(margin) && margin > 0, "moving-target: the margin must be positive");
  require(std::isfinite(hit_reward), "moving-target: the hit reward must be finite");
  require(std::isfinite(reward_floor) && reward_floor <= 0, "moving-target: the reward floor must be <= 0");
}

MovingTarget::MovingTarget(int64_t batch, int64_t episode_length, uint64_t seed, const MovingTargetOptions& options)
    : MetaRlEnv(batch, episode_length, seed), options_(options) {
  options_.validate();
}

torch::Tensor MovingTarget::observation() const {
  auto o = torch::empty({batch_, 1});
  auto a = o.accessor<float, 2>();
  for (int64_t b = 0; b < batch_; ++b) a[b][0] = static_cast<float>(position_[b]);
  return o;
}

torch::Tensor MovingTarget::reset() {
  // Draw order: for each episode in turn, its offset, then its first position.
  offset_.assign(batch_, 0.0);
  position_.assign(batch_, 0.0);
  for (int64_t b = 0; b < batch_; ++b) {
    offset_[b] = uniform(-options_.offset_range, options_.offset_range);
    position_[b] = uniform(-options_.position_range, options_.position_range);
  }
  t_ = 0;
  started_ = true;
  return observation();
}

MetaRlStep MovingTarget::step(const torch::Tensor& action) {
  require(started_, "moving-target: reset() before the first step");
  require(t_ < episode_length_, "moving-target: the episodes are over (" + std::to_string(episode_length_) +
                                    " steps); reset() for new ones");
  require(action.dim() == 2 && action.size(0) == batch_ && action.size(1) == 1,
          "moving-target: the action must be (B, 1) with B = " + std::to_string(batch_));
  const auto a = action.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const double* act = a.data_ptr<double>();
  MetaRlStep s;
  s.reward = torch::empty({batch_});
  auto r = s.reward.accessor<float, 1>();
  // Rewards first, then the moved targets, in episode order (one draw per hit).
  for (int64_t b = 0; b < batch_; ++b) {
    require(std::isfinite(act[b]), "moving-target: the action is not finite");
    const double error = std::abs(position_[b] + offset_[b] - act[b]);
    if (error < options_.margin) {
      r[b] = static_cast<float>(options_.hit_reward);
      position_[b] = uniform(-options_.position_range, options_.position_range);
    } else {
      r[b] = static_cast<float>(std::max(-error, options_.reward_floor));
    }
  }
  ++t_;
  s.done = t_ == episode_length_;
  s.observation = observation();
  return s;
}

const std::vector<std::string>& meta_rl_env_names() {
  static const std::vector<std::string> names = {"moving-target"};
  return names;
}

std::unique_ptr<MetaRlEnv> make_meta_rl_env(const std::string& name, int64_t batch, int64_t episode_length,
                                            uint64_t seed) {
  if (name == "moving-target") return std::make_unique<MovingTarget>(batch, episode_length, seed);
  std::string valid;
  for (const auto& n : meta_rl_env_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw Error("unknown meta-RL environment '" + name + "' (valid: " + valid + ")");
}

}  // namespace neurocell
