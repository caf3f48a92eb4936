#include "train/ppo.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "core/error.h"
#include "train/resume.h"

namespace neurocell {

void PpoOptions::validate() const {
  require(iterations > 0, "ppo: --iterations must be positive, got " + std::to_string(iterations));
  require(std::isfinite(gamma) && gamma >= 0 && gamma <= 1, "ppo: gamma must be in [0, 1]");
  require(std::isfinite(lambda) && lambda >= 0 && lambda <= 1, "ppo: lambda must be in [0, 1]");
  require(std::isfinite(policy_lr) && policy_lr > 0, "ppo: the policy learning rate must be positive");
  require(std::isfinite(value_lr) && value_lr > 0, "ppo: the value learning rate must be positive");
  require(policy_epochs > 0, "ppo: policy epochs must be positive, got " + std::to_string(policy_epochs));
  require(value_epochs >= 0, "ppo: value epochs must be >= 0, got " + std::to_string(value_epochs));
  require(unroll > 0, "ppo: the unroll (truncated BPTT) must be positive, got " + std::to_string(unroll));
  require(std::isfinite(kl_target) && kl_target > 0, "ppo: the KL target must be positive");
  require(std::isfinite(kl_revert) && kl_revert > 1, "ppo: the KL revert factor must be > 1");
  require(std::isfinite(beta) && beta >= 0, "ppo: the initial KL coefficient beta must be >= 0");
}

nlohmann::json to_json(const PpoOptions& o) {
  return {{"algorithm", "ppo, adaptive KL penalty"},
          {"iterations", o.iterations},
          {"gamma", o.gamma},
          {"lambda", o.lambda},
          {"policy_lr", o.policy_lr},
          {"value_lr", o.value_lr},
          {"policy_epochs", o.policy_epochs},
          {"value_epochs", o.value_epochs},
          {"unroll", o.unroll},
          {"kl_target", o.kl_target},
          {"kl_revert", o.kl_revert},
          {"beta", o.beta},
          {"normalize_advantages", o.normalize_advantages},
          {"seed", o.seed}};
}

torch::Tensor gae(const torch::Tensor& rewards, const torch::Tensor& values, const torch::Tensor& last_value,
                  double gamma, double lambda) {
  require(rewards.dim() == 2 && values.sizes() == rewards.sizes() && last_value.dim() == 1 &&
              last_value.size(0) == rewards.size(1),
          "gae: rewards and values must be (T, B), last_value (B)");
  const int64_t T = rewards.size(0);
  auto advantages = torch::empty_like(rewards);
  auto next_value = last_value;
  auto running = torch::zeros_like(last_value);
  for (int64_t t = T - 1; t >= 0; --t) {
    const auto delta = rewards[t] + gamma * next_value - values[t];
    running = delta + gamma * lambda * running;
    advantages[t] = running;
    next_value = values[t];
  }
  return advantages;
}

KlDecision adaptive_kl(double kl, double beta, double target, double revert_factor) {
  KlDecision d;
  d.revert = !(kl <= revert_factor * target);  // a NaN KL is reverted too
  d.beta = beta;
  if (!(kl <= 1.5 * target))
    d.beta = beta * 2;
  else if (kl < target / 1.5)
    d.beta = beta / 2;
  return d;
}

namespace {

std::vector<RecurrentState> detached(const std::vector<RecurrentState>& state) {
  std::vector<RecurrentState> out;
  for (const auto& s : state)
    out.push_back({s.h.defined() ? s.h.detach() : s.h, s.c.defined() ? s.c.detach() : s.c});
  return out;
}

// Runs net over the rollout in chunks of `unroll` steps, the recurrent state carried from one
// chunk to the next and detached (truncated BPTT): the training's computation. step(s, n, out)
// sees each chunk's output (n, B, .), starting at step s.
template <class Step>
void for_each_chunk(NmdNetwork& net, const MetaRlRollout& r, int64_t unroll, Step step) {
  std::vector<RecurrentState> state;
  const int64_t T = r.observations.size(0);
  for (int64_t s = 0; s < T; s += unroll) {
    const int64_t n = std::min(unroll, T - s);
    auto out = net->forward(r.observations.narrow(0, s, n), r.feedback.narrow(0, s, n), detached(state));
    state = out.state;
    step(s, n, out.out);
  }
}

// The whole sequence's output, no grad.
torch::Tensor whole_pass(NmdNetwork& net, const MetaRlRollout& r, int64_t unroll) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for_each_chunk(net, r, unroll, [&](int64_t, int64_t, const torch::Tensor& out) { parts.push_back(out); });
  return torch::cat(parts, 0);
}

}  // namespace

MetaRlRollout play_meta_rl(MetaRlAgent& agent, MetaRlEnv& env, bool deterministic) {
  torch::NoGradGuard no_grad;
  require(env.observation_size() == agent->observation_size() && env.action_size() == agent->action_size(),
          "meta-RL: the agent's sizes do not match the environment '" + env.name() + "'");
  const int64_t T = env.episode_length(), B = env.batch(), A = env.action_size();
  MetaRlRollout r;
  r.observations = torch::empty({T, B, env.observation_size()});
  r.feedback = torch::zeros({T, B, A + 1});
  r.actions = torch::empty({T, B, A});
  r.rewards = torch::empty({T, B});
  auto o = env.reset();
  auto feedback = torch::zeros({B, A + 1});
  std::vector<RecurrentState> state;
  const auto std = torch::exp(agent->log_std.detach());
  for (int64_t t = 0; t < T; ++t) {
    r.observations[t] = o;
    r.feedback[t] = feedback;
    auto out = agent->policy->forward(o.unsqueeze(0), feedback.unsqueeze(0), state);
    state = out.state;
    auto action = out.out[0];
    if (!deterministic) action = action + std * torch::randn_like(action);
    const auto s = env.step(action);
    r.actions[t] = action;
    r.rewards[t] = s.reward;
    feedback = torch::cat({action, s.reward.unsqueeze(1)}, 1);
    o = s.observation;
  }
  return r;
}

PpoReport train_ppo(MetaRlAgent& agent, MetaRlEnv& env, const PpoOptions& options, const TrainOutput& output) {
  options.validate();
  std::ostream* metrics = output.metrics;
  const auto start = std::chrono::steady_clock::now();
  torch::optim::Adam policy_optimizer(agent->policy_parameters(), torch::optim::AdamOptions(options.policy_lr));
  torch::optim::Adam value_optimizer(agent->value_parameters(), torch::optim::AdamOptions(options.value_lr));
  PpoReport report;
  double beta = options.beta;
  double earlier_seconds = 0;  // a resumed run's time before its checkpoint
  const int64_t unroll = options.unroll;
  Checkpointer checkpoints(output, *agent, {&policy_optimizer, &value_optimizer}, nullptr);
  int64_t first_iteration = 1;
  if (const TrainingState* resumed = checkpoints.restore()) {
    first_iteration = resumed->step + 1;
    report.resumed_from = report.iterations_done = resumed->step;
    report.reverts = resumed->integer("reverts");
    beta = resumed->real("beta");
    report.first_mean_return = resumed->real("first_mean_return");
    report.last_mean_return = resumed->real("last_mean_return");
    earlier_seconds = resumed->real("wall_seconds");
    env.set_generator_state(tensor_text(resumed->extra.at("env_generator")));
  }
  const auto fill = [&](TrainingState& s) {
    s.integers = {{"reverts", report.reverts}};
    s.reals = {{"beta", beta},
               {"first_mean_return", report.first_mean_return},
               {"last_mean_return", report.last_mean_return},
               {"wall_seconds", earlier_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
    s.extra["env_generator"] = text_tensor(env.generator_state());
  };
  for (int64_t it = first_iteration; it <= options.iterations; ++it) {
    agent->train();
    const auto r = play_meta_rl(agent, env, false);
    const int64_t B = r.rewards.size(1);
    PpoIteration log;
    log.iteration = it;
    log.mean_return = r.returns().mean().item<double>();

    // Old policy and values, advantages and value targets.
    const auto old_mean = whole_pass(agent->policy, r, unroll);
    const auto old_log_std = agent->log_std.detach().clone();
    const auto old_log_prob = gaussian_log_prob(r.actions, old_mean, old_log_std);
    const auto old_values = whole_pass(agent->value, r, unroll).squeeze(-1);
    const auto raw_advantages = gae(r.rewards, old_values, torch::zeros({B}), options.gamma, options.lambda);
    const auto targets = raw_advantages + old_values;
    auto advantages = raw_advantages;
    if (options.normalize_advantages) advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8);

    // Policy epochs, then the KL decision.
    std::vector<torch::Tensor> before;
    for (const auto& p : agent->policy_parameters()) before.push_back(p.detach().clone());
    for (int64_t epoch = 0; epoch < options.policy_epochs; ++epoch) {
      double loss_sum = 0;
      int64_t chunks = 0;
      for_each_chunk(agent->policy, r, unroll, [&](int64_t s, int64_t n, const torch::Tensor& mean) {
        const auto log_prob = gaussian_log_prob(r.actions.narrow(0, s, n), mean, agent->log_std);
        const auto ratio = torch::exp(log_prob - old_log_prob.narrow(0, s, n));
        const auto kl = gaussian_kl(old_mean.narrow(0, s, n), old_log_std, mean, agent->log_std).mean();
        const auto loss = -(ratio * advantages.narrow(0, s, n)).mean() + beta * kl;
        policy_optimizer.zero_grad();
        loss.backward();
        policy_optimizer.step();
        loss_sum += loss.item<double>();
        ++chunks;
      });
      log.policy_loss = loss_sum / chunks;
    }
    {
      const auto new_mean = whole_pass(agent->policy, r, unroll);
      torch::NoGradGuard no_grad;
      log.kl = gaussian_kl(old_mean, old_log_std, new_mean, agent->log_std).mean().item<double>();
      const auto decision = adaptive_kl(log.kl, beta, options.kl_target, options.kl_revert);
      if (decision.revert) {
        auto params = agent->policy_parameters();
        for (size_t k = 0; k < params.size(); ++k) params[k].copy_(before[k]);
        ++report.reverts;
      }
      log.reverted = decision.revert;
      beta = log.beta = decision.beta;
    }

    // Value epochs.
    for (int64_t epoch = 0; epoch < options.value_epochs; ++epoch) {
      double loss_sum = 0;
      int64_t chunks = 0;
      for_each_chunk(agent->value, r, unroll, [&](int64_t s, int64_t n, const torch::Tensor& out) {
        const auto loss = (out.squeeze(-1) - targets.narrow(0, s, n)).pow(2).mean();
        value_optimizer.zero_grad();
        loss.backward();
        value_optimizer.step();
        loss_sum += loss.item<double>();
        ++chunks;
      });
      log.value_loss = loss_sum / chunks;
    }
    log.log_std = agent->log_std.mean().item<double>();
    log.wall_seconds = earlier_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.iterations.push_back(log);
    report.iterations_done = it;
    if (it == 1) report.first_mean_return = log.mean_return;
    report.last_mean_return = log.mean_return;
    if (metrics) {
      *metrics << nlohmann::json{{"iteration", log.iteration}, {"mean_return", log.mean_return}, {"kl", log.kl},
                                 {"beta", log.beta},           {"reverted", log.reverted},
                                 {"policy_loss", log.policy_loss}, {"value_loss", log.value_loss},
                                 {"log_std", log.log_std},     {"wall_time_s", log.wall_seconds}}
                      .dump()
               << "\n";
      metrics->flush();
    }
    if (options.progress)
      std::fprintf(stderr, "iteration %lld/%lld: mean return %.2f, kl %.5f%s, beta %.3g, %.1f s\n",
                   static_cast<long long>(it), static_cast<long long>(options.iterations), log.mean_return, log.kl,
                   log.reverted ? " (reverted)" : "", log.beta, log.wall_seconds);
    checkpoints.after_update(it, options.iterations, true, fill);
  }
  report.wall_seconds = earlier_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

MetaRlEvaluation evaluate_meta_rl(MetaRlAgent& agent, MetaRlEnv& env, bool deterministic) {
  agent->eval();
  const auto r = play_meta_rl(agent, env, deterministic);
  MetaRlEvaluation e;
  e.episodes = env.batch();
  e.episode_length = env.episode_length();
  const auto returns = r.returns().to(torch::kFloat64);
  e.mean_return = returns.mean().item<double>();
  e.std_return = e.episodes > 1 ? returns.std().item<double>() : 0.0;
  const int64_t T = e.episode_length, tenth = std::max<int64_t>(1, T / 10);
  e.mean_reward_first_tenth = r.rewards.narrow(0, 0, tenth).to(torch::kFloat64).mean().item<double>();
  e.mean_reward_last_tenth = r.rewards.narrow(0, T - tenth, tenth).to(torch::kFloat64).mean().item<double>();
  return e;
}

}  // namespace neurocell
