#include "runs/tmaze.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "runs/config_json.h"
#include "train/resume.h"
#include "train/trainer.h"

namespace neurocell {

namespace {

// The maze: name, length, stochasticity, and for the signal maze its rules (the cue maze's
// task is written as before the signal maze existed, so that its runs still resume).
nlohmann::json task_json(const TmazeRunConfig& config) {
  nlohmann::json task = {{"name", "tmaze"}, {"length", config.length}, {"stochasticity", config.drqn.stochasticity}};
  if (config.drqn.maze == TmazeVariant::signal)
    task.update({{"maze", tmaze_variant_name(config.drqn.maze)}, {"signal_window", config.drqn.signal_window}});
  return task;
}

}  // namespace

TmazeOfRun tmaze_of_run(const std::string& dir) {
  const auto task = read_run_config_json(dir).at("task");
  TmazeOfRun out;
  out.length = task.at("length").get<int64_t>();
  out.maze = tmaze_variant_from_name(task.value("maze", tmaze_variant_name(TmazeVariant::cue)));
  out.signal_window = task.value("signal_window", kTmazeSignalWindow);
  return out;
}

nlohmann::json to_json(const TmazeRunConfig& config) {
  // The protocol's options as it runs them (resolved); a protocol's config names only its own.
  const DrqnOptions o = config.drqn.resolved();
  nlohmann::json drqn = {{"protocol", drqn_protocol_name(o.protocol)},
                         {"episodes", o.episodes},
                         {"learning_rate", o.learning_rate},
                         {"eval_every", o.eval_every},
                         {"stochasticity", o.stochasticity},
                         {"stop_when_solved", o.stop_when_solved},
                         {"seed", o.seed},
                         {"checkpoint_every", o.checkpoint_every},
                         {"discount", kTmazeDiscount}};
  if (o.protocol == DrqnProtocol::warmup_paper) {
    using P = WarmupPaperDrqn;
    drqn.update({{"replay", "transitions"},
                 {"replay_transitions", *o.replay_transitions},
                 {"prefill", "to capacity, epsilon 1"},
                 {"batch_transitions", P::batch_transitions},
                 {"updates_per_episode", P::updates_per_episode},
                 {"epsilon", P::epsilon},
                 {"exploration", "right 1/2, up 1/6, left 1/6, down 1/6"},
                 {"loss", "mse, last step of each history"},
                 {"gradient_clip", nullptr},
                 {"target_every_episodes", P::target_every_episodes},
                 {"rollouts", P::rollouts},
                 {"vaa_samples", P::vaa_samples},
                 {"vaa_settle_steps", P::vaa_settle_steps}});
  } else {
    drqn.update({{"replay", "episodes"},
                 {"batch_episodes", *o.batch_episodes},
                 {"replay_capacity", *o.replay_capacity},
                 {"start_episodes", *o.start_episodes},
                 {"updates_per_episode", *o.updates_per_episode},
                 {"epsilon_start", *o.epsilon_start},
                 {"epsilon_end", *o.epsilon_end},
                 {"epsilon_decay", *o.epsilon_decay},
                 {"exploration", "uniform"},
                 {"loss", "smooth-l1, every step"},
                 {"gradient_clip", 10.0},
                 {"target_every", *o.target_every}});
  }
  nlohmann::json json = {{"kind", run_kind_name(RunKind::tmaze)},
                         {"model", to_json(config.model)},
                         {"task", task_json(config)},
                         {"eval_lengths", config.eval_lengths},
                         {"warmup", analysis::to_json(config.warmup)},
                         {"drqn", drqn}};
  // Written only where measured, so that the configs of runs made before it still resume.
  if (config.vaa.batches > 0)
    json["vaa"] = {{"samples", config.vaa.samples}, {"settle_steps", config.vaa.settle_steps},
                   {"batches", config.vaa.batches}, {"seed", config.vaa.seed}, {"eps", config.vaa.eps}};
  return json;
}

namespace runs {

RunResult train(TmazeRunConfig config, const std::string& out_dir, ExistingRun existing) {
  config.model.input_size = drqn_inputs(config.drqn.maze);
  config.model.output_size = kTmazeActions;
  config.model.validate();
  require(config.model.cell != "src", "the T-maze agent needs a regression cell (not src)");
  config.drqn.validate();
  config.drqn = config.drqn.resolved();
  const Tmaze maze = config.drqn.maze_of_length(config.length);  // validates the length and the maze
  for (auto l : config.eval_lengths) config.drqn.maze_of_length(l);
  if (config.vaa.batches > 0) config.vaa.validate();
  require(config.vaa.batches >= 0, "--vaa-batches must be >= 0 (0 = no VAA of the trained agent)");
  const auto random_inputs = tmaze_random_inputs(config.length, config.drqn.maze, config.drqn.signal_window);
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
    analysis::warmup(q, random_inputs, config.warmup, [&](const analysis::WarmupStep& s) {
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
  std::mt19937_64 maze_draws(config.drqn.seed);  // the mazes' own draws where stochasticity > 0
  for (auto l : config.eval_lengths) {
    const auto e = evaluate_tmaze(q, l, maze, &maze_draws);
    generalisation.push_back({{"length", l},
                              {"success", e.success},
                              {"reached_goal", e.reached_goal},
                              {"optimal", e.optimal},
                              {"return", e.mean_return}});
    char part[64];
    std::snprintf(part, sizeof part, "%sL=%lld %.1f", summary.empty() ? "" : ", ", static_cast<long long>(l), e.success);
    summary += part;
  }
  // The trained agent's reachable multistability on the maze's random-agent inputs (the
  // training length's), as `neurocell vaa` measures a model on its task's inputs.
  nlohmann::json vaa_json;
  if (config.vaa.batches > 0) {
    const auto start = std::chrono::steady_clock::now();
    const auto v = analysis::measure_vaa(q, random_inputs, config.vaa);
    vaa_json = {{"vaa", v.vaa}, {"attractors", v.attractors}, {"samples", config.vaa.samples},
                {"settle_steps", config.vaa.settle_steps}, {"batches", config.vaa.batches},
                {"wall_time_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
    char part[64];
    std::snprintf(part, sizeof part, " | VAA %.3f (%.1f attractors)", v.vaa, v.attractors);
    summary += part;
  }
  double wall = report.wall_seconds;
  if (!warmup_summary.is_null()) wall += warmup_summary.at("wall_time_s").get<double>();
  nlohmann::json report_json = {{"kind", run_kind_name(RunKind::tmaze)},
                                           {"cell", config.model.cell},
                                           {"model", to_json(config.model)},
                                           {"task", task_json(config)},
                                           {"parameters", parameter_count(*q)},
                                           {"episodes_done", report.episodes_done},
                                           {"updates", report.updates},
                                           {"resumed_from", report.resumed_from},
                                           {"protocol", drqn_protocol_name(report.protocol)},
                                           {"stochasticity", config.drqn.stochasticity},
                                           // the warmup paper's criterion (null: never optimal)
                                           {"episode_optimality", report.episode_optimality >= 0
                                                                      ? nlohmann::json(report.episode_optimality)
                                                                      : nlohmann::json(nullptr)},
                                           {"target_copies", report.target_copies},
                                           {"test", {{"success", report.final_evaluation.success},
                                                     {"reached_goal", report.final_evaluation.reached_goal},
                                                     {"optimal", report.final_evaluation.optimal},
                                                     {"return", report.final_evaluation.mean_return},
                                                     {"generalisation", generalisation}}},
                                           {"wall_time_s", wall},
                                           {"threads", threads},
                                           {"seed", config.drqn.seed}};
  if (!warmup_summary.is_null()) report_json["warmup"] = warmup_summary;
  if (!vaa_json.is_null()) report_json["vaa"] = vaa_json;
  run.write_report(report_json);
  RunResult result;
  result.value = report.final_evaluation.success;
  result.report = report_json;
  result.text = strprintf(
      "result: %s L=%lld greedy reached_goal %.1f, optimal %s (episode_optimality %s; return %.2f) | "
      "generalisation %s | %s %lldx%lld DRQN (protocol %s), %lld episodes, %lld updates, %.1f s, run in %s\n",
      config.drqn.maze == TmazeVariant::signal ? "signal T-maze" : "T-maze", static_cast<long long>(config.length),
      report.final_evaluation.reached_goal,
      report.final_evaluation.optimal ? "yes" : "no",
      report.episode_optimality >= 0 ? std::to_string(report.episode_optimality).c_str() : "never",
      report.final_evaluation.mean_return,
      summary.c_str(), config.model.cell.c_str(), static_cast<long long>(config.model.layers),
      static_cast<long long>(config.model.hidden_size), drqn_protocol_name(report.protocol).c_str(),
      static_cast<long long>(report.episodes_done),
      static_cast<long long>(report.updates), report.wall_seconds, out_dir.c_str());
  return result;
}

}  // namespace runs

}  // namespace neurocell
