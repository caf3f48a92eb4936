#include "runs/regression.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>

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

  // Warmup and VAA (multistability.md): before, after warmup, during and after training.
  config.multistability.vaa.progress = config.train.progress;  // long measurements show a bar
  const auto& ms = config.multistability;
  const bool measure = ms.measure || ms.warmup.steps > 0;
  nlohmann::json vaa = nlohmann::json::object(), warmup_summary;
  const auto start = std::chrono::steady_clock::now();
  if (const TrainingState* resumed = run.resume_state()) {
    // Warmup and the VAA before training happened before the checkpoint (their metrics lines
    // are kept); the weights they left are in it.
    vaa = resumed->run.value("vaa", nlohmann::json::object());
    warmup_summary = resumed->run.value("warmup", nlohmann::json());
  } else {
    if (measure) vaa["initial"] = measure_and_log_vaa(model, *task, ms.vaa, "initial", 0, &metrics);
    if (ms.warmup.steps > 0) {
      warmup_summary = run_warmup(model, *task, ms.warmup, &metrics, config.train.progress);
      vaa["after_warmup"] = measure_and_log_vaa(model, *task, ms.vaa, "after_warmup", 0, &metrics);
    }
  }
  const nlohmann::json run_state = {{"vaa", vaa}, {"warmup", warmup_summary}};
  ValidationHook hook;
  if (ms.every > 0)
    hook = [&](int64_t step) -> nlohmann::json {
      if (step % ms.every != 0) return nullptr;
      const auto line = measure_and_log_vaa(model, *task, ms.vaa, "training", step, nullptr);
      return {{"vaa", line["vaa"]}, {"attractors", line["attractors"]}};
    };

  const auto report =
      train_model(model, *task, config.train, run.training_output(config.train.checkpoint_every, &run_state), hook);
  save_weights(run.weights_path(), model);  // best validation weights (restored)
  if (measure) vaa["final"] = measure_and_log_vaa(model, *task, ms.vaa, "final", report.steps_done, &metrics);
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
  if (measure) json["vaa"] = vaa;
  if (ms.warmup.steps > 0) json["warmup"] = warmup_summary;
  if (!config.init.empty()) json["init"] = config.init;
  if (!report.divergence.empty()) json["diverged"] = report.divergence;
  run.write_report(json);

  std::string extra = strprintf(", %lld steps (%lld skipped), %.1f s, run in %s",
                                static_cast<long long>(report.steps_done),
                                static_cast<long long>(report.skipped_updates), wall_seconds, out_dir.c_str());
  if (measure) {
    const double before = vaa["initial"]["vaa"].get<double>(), after = vaa["final"]["vaa"].get<double>();
    if (vaa.contains("after_warmup"))
      extra += strprintf(" | VAA %.3f initial, %.3f after warmup, %.3f trained", before,
                         vaa["after_warmup"]["vaa"].get<double>(), after);
    else
      extra += strprintf(" | VAA %.3f initial, %.3f trained", before, after);
  }
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
