#include "tasks/meta_rl.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"

namespace neurocell {

MetaRlEnv::MetaRlEnv(int64_t batch, int64_t episode_length, uint64_t seed)
    : batch_(batch), episode_length_(episode_length), random_(seed) {
  require(batch > 0, "meta-RL environment: the batch of episodes must be positive, got " + std::to_string(batch));
  require(episode_length > 0,
          "meta-RL environment: the episode length must be positive, got " + std::to_string(episode_length));
}

std::string MetaRlEnv::generator_state() const {
  std::ostringstream out;
  out << random_;
  return out.str();
}

void MetaRlEnv::set_generator_state(const std::string& state) {
  std::istringstream in(state);
  in >> random_;
  require(!in.fail(), "meta-RL environment: the saved generator state is unreadable (corrupt checkpoint?)");
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

void PlaneOptions::validate() const {
  require(std::isfinite(spread) && spread >= 0, "plane task: the spread must be >= 0");
  require(std::isfinite(max_move) && max_move > 0, "plane task: the largest move must be positive");
  require(std::isfinite(wind_max) && wind_max >= 0, "plane task: the largest wind must be >= 0");
  require(std::isfinite(margin) && margin > 0, "plane task: the margin must be positive");
  require(std::isfinite(hit_reward) && std::isfinite(bad_reward), "plane task: rewards must be finite");
  require(std::isfinite(reward_floor) && reward_floor <= 0, "plane task: the reward floor must be <= 0");
}

PlaneReaching::PlaneReaching(Variant variant, int64_t batch, int64_t episode_length, uint64_t seed,
                             const PlaneOptions& options)
    : MetaRlEnv(batch, episode_length, seed), variant_(variant), options_(options) {
  options_.validate();
}

std::string PlaneReaching::name() const {
  return variant_ == Variant::windy_reference ? "windy-reference" : "multiple-references";
}

void PlaneReaching::draw_references(int64_t b) {
  const int n = variant_ == Variant::windy_reference ? 1 : 2;
  for (int j = 0; j < n; ++j)
    for (int k = 0; k < 2; ++k)
      reference_[j][b][k] = agent_[b][k] + uniform(-options_.spread, options_.spread);
}

torch::Tensor PlaneReaching::observation() const {
  auto o = torch::empty({batch_, observation_size()});
  auto a = o.accessor<float, 2>();
  const int n = variant_ == Variant::windy_reference ? 1 : 2;
  for (int64_t b = 0; b < batch_; ++b)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < 2; ++k) a[b][2 * j + k] = static_cast<float>(reference_[j][b][k] - agent_[b][k]);
  return o;
}

torch::Tensor PlaneReaching::reset() {
  agent_.assign(batch_, {0.0, 0.0});
  wind_.assign(batch_, {0.0, 0.0});
  reference_[0].assign(batch_, {0.0, 0.0});
  reference_[1].assign(batch_, {0.0, 0.0});
  good_.assign(batch_, 0);
  for (int64_t b = 0; b < batch_; ++b) {
    if (variant_ == Variant::windy_reference) {
      const double speed = uniform(0.0, options_.wind_max), phi = uniform(0.0, 2 * M_PI);
      wind_[b] = {speed * std::cos(phi), speed * std::sin(phi)};
    } else {
      good_[b] = uniform(0.0, 1.0) < 0.5 ? 0 : 1;
    }
    draw_references(b);
  }
  t_ = 0;
  started_ = true;
  return observation();
}

MetaRlStep PlaneReaching::step(const torch::Tensor& action) {
  require(started_, name() + ": reset() before the first step");
  require(t_ < episode_length_,
          name() + ": the episodes are over (" + std::to_string(episode_length_) + " steps); reset() for new ones");
  require(action.dim() == 2 && action.size(0) == batch_ && action.size(1) == 2,
          name() + ": the action must be (B, 2) with B = " + std::to_string(batch_));
  const auto a = action.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const double* act = a.data_ptr<double>();
  MetaRlStep s;
  s.reward = torch::empty({batch_});
  auto r = s.reward.accessor<float, 1>();
  auto distance = [&](int64_t b, int j) {
    return std::hypot(reference_[j][b][0] - agent_[b][0], reference_[j][b][1] - agent_[b][1]);
  };
  for (int64_t b = 0; b < batch_; ++b) {
    for (int k = 0; k < 2; ++k) {
      require(std::isfinite(act[2 * b + k]), name() + ": the action is not finite");
      agent_[b][k] += std::clamp(act[2 * b + k], -options_.max_move, options_.max_move) + wind_[b][k];
    }
    const int good = good_[b];
    const double d_good = distance(b, good);
    if (d_good < options_.margin) {
      r[b] = static_cast<float>(options_.hit_reward);
      draw_references(b);
    } else if (variant_ == Variant::multiple_references && distance(b, 1 - good) < options_.margin) {
      r[b] = static_cast<float>(options_.bad_reward);
      draw_references(b);
    } else {
      r[b] = static_cast<float>(std::max(-d_good, options_.reward_floor));
    }
  }
  ++t_;
  s.done = t_ == episode_length_;
  s.observation = observation();
  return s;
}

const std::vector<std::string>& meta_rl_env_names() {
  static const std::vector<std::string> names = {"moving-target", "windy-reference", "multiple-references"};
  return names;
}

std::unique_ptr<MetaRlEnv> make_meta_rl_env(const std::string& name, int64_t batch, int64_t episode_length,
                                            uint64_t seed) {
  if (name == "moving-target") return std::make_unique<MovingTarget>(batch, episode_length, seed);
  if (name == "windy-reference")
    return std::make_unique<PlaneReaching>(PlaneReaching::Variant::windy_reference, batch, episode_length, seed);
  if (name == "multiple-references")
    return std::make_unique<PlaneReaching>(PlaneReaching::Variant::multiple_references, batch, episode_length, seed);
  std::string valid;
  for (const auto& n : meta_rl_env_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw Error("unknown meta-RL environment '" + name + "' (valid: " + valid + ")");
}

}  // namespace neurocell
