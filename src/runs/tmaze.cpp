#include "runs/tmaze.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "train/resume.h"
#include "train/trainer.h"

namespace neurocell {

nlohmann::json to_json(const TmazeRunConfig& config) {
  const nlohmann::json drqn = {{"episodes", config.drqn.episodes},
                               {"batch_episodes", config.drqn.batch_episodes},
                               {"replay_capacity", config.drqn.replay_capacity},
                               {"start_episodes", config.drqn.start_episodes},
                               {"updates_per_episode", config.drqn.updates_per_episode},
                               {"learning_rate", config.drqn.learning_rate},
                               {"epsilon_start", config.drqn.epsilon_start},
                               {"epsilon_end", config.drqn.epsilon_end},
                               {"epsilon_decay", config.drqn.epsilon_decay},
                               {"target_every", config.drqn.target_every},
                               {"eval_every", config.drqn.eval_every},
                               {"stop_when_solved", config.drqn.stop_when_solved},
                               {"seed", config.drqn.seed},
                               {"checkpoint_every", config.drqn.checkpoint_every},
                               {"discount", kTmazeDiscount}};
  return {{"kind", run_kind_name(RunKind::tmaze)},
          {"model", to_json(config.model)},
          {"task", {{"name", "tmaze"}, {"length", config.length}}},
          {"eval_lengths", config.eval_lengths},
          {"warmup", analysis::to_json(config.warmup)},
          {"drqn", drqn}};
}

namespace runs {

RunResult train(TmazeRunConfig config, const std::string& out_dir, ExistingRun existing) {
  config.model.input_size = kDrqnInputs;
  config.model.output_size = kTmazeActions;
  config.model.validate();
  require(config.model.cell != "src", "the T-maze agent needs a regression cell (not src)");
  config.drqn.validate();
  Tmaze check(config.length);  // validates the length
  for (auto l : config.eval_lengths) Tmaze check_eval(l);
  RunWriter run(out_dir, existing);
  const int64_t threads = configure_threads(config.threads);
  torch::manual_seed(config.drqn.seed);
  SequenceModel q(config.model);
  run.write_config(to_json(config));
  auto& metrics = run.metrics();
  // Warmup (multistability.md) on the inputs a random agent reads in the maze, before training.
  nlohmann::json warmup_summary;
  if (const TrainingState* resumed = run.resume_state()) {
    warmup_summary = resumed->run.value("warmup", nlohmann::json());  // done before the checkpoint
  } else if (config.warmup.steps > 0) {
    const auto start = std::chrono::steady_clock::now();
    analysis::WarmupStep last;
    analysis::warmup(q, tmaze_random_inputs(config.length), config.warmup, [&](const analysis::WarmupStep& s) {
      last = s;
      metrics << nlohmann::json{{"phase", "warmup"}, {"step", s.step}, {"loss", s.loss}, {"vaa_star", s.vaa_star},
                                {"settle_steps", s.settle_steps}}
                     .dump()
              << "\n";
    });
    warmup_summary = {{"steps", config.warmup.steps}, {"vaa_star", last.vaa_star},
                      {"partial", analysis::warmup_is_partial(q)},
                      {"wall_time_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
  }
  const nlohmann::json run_state = {{"warmup", warmup_summary}};
  const auto report =
      train_drqn(q, config.length, config.drqn, run.training_output(config.drqn.checkpoint_every, &run_state));
  save_weights(run.weights_path(), q);
  nlohmann::json generalisation = nlohmann::json::array();
  std::string summary;
  for (auto l : config.eval_lengths) {
    const auto e = evaluate_tmaze(q, l);
    generalisation.push_back({{"length", l}, {"success", e.success}, {"return", e.mean_return}});
    char part[64];
    std::snprintf(part, sizeof part, "%sL=%lld %.1f", summary.empty() ? "" : ", ", static_cast<long long>(l), e.success);
    summary += part;
  }
  double wall = report.wall_seconds;
  if (!warmup_summary.is_null()) wall += warmup_summary.at("wall_time_s").get<double>();
  nlohmann::json report_json = {{"kind", run_kind_name(RunKind::tmaze)},
                                           {"cell", config.model.cell},
                                           {"model", to_json(config.model)},
                                           {"task", {{"name", "tmaze"}, {"length", config.length}}},
                                           {"parameters", parameter_count(*q)},
                                           {"episodes_done", report.episodes_done},
                                           {"updates", report.updates},
                                           {"resumed_from", report.resumed_from},
                                           {"test", {{"success", report.final_evaluation.success},
                                                     {"return", report.final_evaluation.mean_return},
                                                     {"generalisation", generalisation}}},
                                           {"wall_time_s", wall},
                                           {"threads", threads},
                                           {"seed", config.drqn.seed}};
  if (!warmup_summary.is_null()) report_json["warmup"] = warmup_summary;
  run.write_report(report_json);
  RunResult result;
  result.value = report.final_evaluation.success;
  result.report = report_json;
  result.text = strprintf(
      "result: T-maze L=%lld greedy success %.1f (return %.2f) | generalisation %s | %s %lldx%lld DRQN, "
      "%lld episodes, %lld updates, %.1f s, run in %s\n",
      static_cast<long long>(config.length), report.final_evaluation.success, report.final_evaluation.mean_return,
      summary.c_str(), config.model.cell.c_str(), static_cast<long long>(config.model.layers),
      static_cast<long long>(config.model.hidden_size), static_cast<long long>(report.episodes_done),
      static_cast<long long>(report.updates), report.wall_seconds, out_dir.c_str());
  return result;
}

}  // namespace runs

}  // namespace neurocell
