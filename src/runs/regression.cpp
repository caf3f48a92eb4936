#include "runs/regression.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "analysis/gates.h"
#include "core/error.h"
#include "io/files.h"
#include "train/multistability.h"
#include "train/resume.h"
#include "core/progress.h"

namespace neurocell::runs {

namespace {

std::string result_line(const RunConfig& c, double test_mse, double chance, int64_t samples, const std::string& extra) {
  return strprintf("result: test MSE %.6g (chance %.4g, %lld samples) | %s%s\n", test_mse, chance,
                   static_cast<long long>(samples), describe_run(c).c_str(), extra.c_str());
}

}  // namespace

RunResult train(RunConfig config, const std::string& out_dir, ExistingRun existing) {
  config.model.validate();
  config.task.validate();
  config.train.validate();
  config.multistability.validate();
  RunWriter run(out_dir, existing);
  const auto task = make_task(config.task);
  config.model.input_size = task->input_size;
  config.model.output_size = task->output_size;
  const int64_t threads = configure_threads(config.train.threads);

  torch::manual_seed(config.train.seed);  // parameter initialisation
  SequenceModel model(config.model);
  if (!config.init.empty()) {
    const auto init = load_run_config(config.init);
    require(to_json(init.model) == to_json(config.model),
            "--init '" + config.init + "' holds a different model (" + init.model.cell + " " +
                std::to_string(init.model.layers) + "x" + std::to_string(init.model.hidden_size) +
                "): give the same --cell, --layers, --hidden, --double as that run");
    load_weights(weights_path(config.init), model);
  }
  run.write_config(to_json(config));
  auto& metrics = run.metrics();

  // Warmup and VAA (multistability.md): before, after warmup, during and after training. The
  // weights warmup left are in a resumed run's checkpoint.
  MultistabilityPhases phases(model, training_inputs(*task), config.multistability, config.train.progress);
  const auto start = std::chrono::steady_clock::now();
  phases.before_training(run.resume_state() ? &run.resume_state()->run : nullptr, metrics);
  const auto report = train_model(model, *task, config.train,
                                  run.training_output(config.train.checkpoint_every, &phases.run_state()),
                                  phases.validation_hook());
  save_weights(run.weights_path(), model);  // best validation weights (restored)
  phases.after_training(report.steps_done, metrics);
  const double wall_seconds = training::seconds_since(start);

  nlohmann::json json = {
      {"kind", run_kind_name(RunKind::regression)},
      {"task", to_json(config.task)},
      {"cell", config.model.cell},
      {"model", to_json(config.model)},
      {"parameters", parameter_count(*model)},
      {"steps_planned", config.train.steps},
      {"steps_done", report.steps_done},
      {"skipped_updates", report.skipped_updates},
      {"early_stopped", report.early_stopped},
      {"best_step", report.best_step},
      {"resumed_from", report.resumed_from},
      {"validation", {{"mse", report.best_validation_mse}}},
      {"test", {{"mse", report.test_mse}, {"chance_mse", report.chance_mse},
                {"samples", config.train.test_size}}},
      {"wall_time_s", wall_seconds},
      {"training_time_s", report.wall_seconds},
      {"threads", threads},
      {"seed", config.train.seed}};
  phases.add_to_report(json);
  if (analysis::has_bistable_gates(model)) {
    // The share of bistable units (a_t > 1) of the trained BRC / nBRC network, on test inputs.
    const int64_t n = std::min<int64_t>(256, config.train.test_size);
    const auto inputs = make_fixed_set(*task, n, n, config.train.seed, 2).front().inputs;
    json["bistable_fraction"] = {{"value", analysis::bistable_fraction(analysis::bistable_gates(model, inputs))},
                                 {"inputs", std::to_string(n) + " test-stream sequences"}};
  }
  if (!config.init.empty()) json["init"] = config.init;
  if (!report.divergence.empty()) json["diverged"] = report.divergence;
  run.write_report(json);

  std::string extra = strprintf(", %lld steps (%lld skipped), %.1f s, run in %s",
                                static_cast<long long>(report.steps_done),
                                static_cast<long long>(report.skipped_updates), wall_seconds, out_dir.c_str());
  extra += phases.summary();
  RunResult result;
  result.value = report.test_mse;
  result.report = json;
  result.text = result_line(config, report.test_mse, report.chance_mse, config.train.test_size, extra);
  return result;
}

RunResult eval_regression(const std::string& dir, int64_t test_size) {
  auto run = load_run(dir);
  if (test_size > 0) run.config.train.test_size = test_size;
  const auto task = make_task(run.config.task);
  const auto start = std::chrono::steady_clock::now();
  const auto test = make_fixed_set(*task, run.config.train.test_size,
                                   evaluation_batch_size(run.config.train.batch_size, run.config.task.length),
                                   run.config.train.seed, 2);
  RunResult result;
  result.value = evaluate_mse(run.model, test, task->readout_steps);
  result.text = result_line(run.config, result.value, chance_mse(test), run.config.train.test_size,
                            strprintf(", %.1f s", training::seconds_since(start)));
  return result;
}

}  // namespace neurocell::runs
