#include "runs/meta_rl.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "train/trainer.h"

namespace neurocell {

namespace {
// The evaluation's tasks come from their own stream, never one of training's.
constexpr uint64_t kEvalSeedOffset = 0x9E3779B97F4A7C15ull;
}  // namespace

void MetaRlRunConfig::validate() const {
  bool known = false;
  std::string valid;
  for (const auto& n : meta_rl_env_names()) {
    known |= n == env;
    valid += (valid.empty() ? "" : ", ") + n;
  }
  require(known, "unknown --env '" + env + "' (valid: " + valid + ")");
  model.validate();
  ppo.validate();
  require(episodes > 0, "--episodes must be positive, got " + std::to_string(episodes));
  require(episode_length > 0, "--episode-length must be positive, got " + std::to_string(episode_length));
  require(eval_episodes > 0, "--eval-episodes must be positive, got " + std::to_string(eval_episodes));
  require(checkpoint_every >= 0, "--checkpoint-every must be >= 0 (0 = every iteration), got " +
                                     std::to_string(checkpoint_every));
}

nlohmann::json to_json(const MetaRlRunConfig& c) {
  return {{"kind", "meta-rl"},
          {"env", {{"name", c.env}, {"episode_length", c.episode_length}}},
          {"model", to_json(c.model)},
          {"ppo", to_json(c.ppo)},
          {"episodes", c.episodes},
          {"eval_episodes", c.eval_episodes},
          {"eval_seed", "seed + 0x9E3779B97F4A7C15"}};
}

namespace runs {

RunResult train(MetaRlRunConfig config, const std::string& out_dir, ExistingRun existing) {
  config.validate();
  RunWriter run(out_dir, existing);
  const int64_t threads = configure_threads(config.threads);
  torch::manual_seed(config.ppo.seed);
  auto env = make_meta_rl_env(config.env, config.episodes, config.episode_length, config.ppo.seed);
  MetaRlAgent agent(config.model, env->observation_size(), env->action_size());
  run.write_config(to_json(config));
  const auto report = train_ppo(agent, *env, config.ppo, run.training_output(config.checkpoint_every, nullptr));
  NamedTensors weights;
  for (const auto& p : agent->named_parameters()) weights.emplace_back(p.key(), p.value().detach());
  write_safetensors(run.weights_path(), weights);
  // The same new tasks twice: with the policy's mean actions ("test"), then with actions
  // sampled from it ("test_sampled", the policy as trained).
  auto eval_env = make_meta_rl_env(config.env, config.eval_episodes, config.episode_length,
                                   config.ppo.seed + kEvalSeedOffset);
  const auto e = evaluate_meta_rl(agent, *eval_env, true);
  eval_env = make_meta_rl_env(config.env, config.eval_episodes, config.episode_length, config.ppo.seed + kEvalSeedOffset);
  const auto sampled = evaluate_meta_rl(agent, *eval_env, false);
  const nlohmann::json report_json = {
      {"kind", "meta-rl"},
      {"env", config.env},
      {"model", nmd_architecture_name(config.model.architecture)},
      {"cell", config.model.cell},
      {"parameters", parameter_count(*agent)},
      {"iterations", report.iterations_done},
      {"resumed_from", report.resumed_from},
      {"reverts", report.reverts},
      {"train", {{"first_mean_return", report.first_mean_return}, {"last_mean_return", report.last_mean_return}}},
      {"test",
       {{"episodes", e.episodes},
        {"episode_length", e.episode_length},
        {"mean_return", e.mean_return},
        {"std_return", e.std_return},
        {"mean_reward_first_tenth", e.mean_reward_first_tenth},
        {"mean_reward_last_tenth", e.mean_reward_last_tenth},
        {"actions", "mean"}}},
      {"test_sampled",
       {{"mean_return", sampled.mean_return},
        {"std_return", sampled.std_return},
        {"mean_reward_first_tenth", sampled.mean_reward_first_tenth},
        {"mean_reward_last_tenth", sampled.mean_reward_last_tenth},
        {"actions", "sampled"}}},
      {"wall_time_s", report.wall_seconds},
      {"threads", threads},
      {"seed", config.ppo.seed}};
  run.write_report(report_json);
  RunResult result;
  result.value = e.mean_return;
  result.report = report_json;
  result.text = strprintf(
      "result: %s test mean return %.2f (std %.2f, %lld new tasks of %lld steps, mean actions; reward per step "
      "%.3f in the first tenth, %.3f in the last; sampled actions: %.2f) | train mean return %.2f -> %.2f | %s (%s) agent, PPO %lld iterations x %lld "
      "episodes (%lld reverted), %.1f s, run in %s\n",
      config.env.c_str(), e.mean_return, e.std_return, static_cast<long long>(e.episodes),
      static_cast<long long>(e.episode_length), e.mean_reward_first_tenth, e.mean_reward_last_tenth,
      sampled.mean_return, report.first_mean_return, report.last_mean_return,
      nmd_architecture_name(config.model.architecture).c_str(), config.model.cell.c_str(),
      static_cast<long long>(report.iterations_done),
      static_cast<long long>(config.episodes), static_cast<long long>(report.reverts), report.wall_seconds,
      out_dir.c_str());
  return result;
}

}  // namespace runs

}  // namespace neurocell
