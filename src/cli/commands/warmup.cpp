// `neurocell warmup`: warms up the model of a run folder and writes a new run folder (the
// original is never modified): config.json, model.safetensors, metrics.jsonl (warmup steps,
// VAA before and after) and report.json (VAA before/after, test MSE after warmup).
#include "cli/commands/commands.h"

#include <chrono>
#include <filesystem>

#include "runs/runs.h"
#include "core/progress.h"

namespace neurocell::cli {

namespace {

struct WarmupCommand {
  std::string checkpoint, out_dir;
  analysis::WarmupOptions warmup;
  analysis::VaaOptions vaa;
  bool overwrite = false, quiet = false;
  int64_t threads = 0;
};

bool same_folder(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec);
}

void command_warmup(const std::string& dir, const std::string& out_dir, bool overwrite,
                   const analysis::WarmupOptions& warmup, const analysis::VaaOptions& vaa_options, bool progress) {
  warmup.validate();
  vaa_options.validate();
  require(warmup.steps >= 1, "--steps must be >= 1");
  require(!out_dir.empty(), "--out DIR is required: the new run folder (the original is never modified)");
  auto run = load_run(dir);
  require(!same_folder(dir, out_dir), "--out must be another folder than --checkpoint: warmup writes a new run");
  RunWriter writer(out_dir, overwrite);
  const auto task = make_task(run.config.task);
  const auto start = std::chrono::steady_clock::now();
  auto& metrics = writer.metrics();

  run.model->train();
  const auto before = measure_and_log_vaa(run.model, training_inputs(*task), vaa_options, "initial", 0, &metrics);
  const auto summary = run_warmup(run.model, training_inputs(*task), warmup, &metrics, progress);
  const auto after = measure_and_log_vaa(run.model, training_inputs(*task), vaa_options, "after_warmup", 0, &metrics);
  const auto test = make_fixed_set(*task, run.config.train.test_size,
                                   evaluation_batch_size(run.config.train.batch_size, run.config.task.length),
                                   run.config.train.seed, 2);
  const double mse = evaluate_mse(run.model, test, task->readout_steps), chance = chance_mse(test);

  RunConfig config = run.config;
  config.init = dir;
  config.multistability.warmup = warmup;
  config.multistability.vaa = vaa_options;
  config.multistability.measure = true;
  writer.write_config(to_json(config));
  save_weights(writer.weights_path(), run.model);
  const nlohmann::json report = {{"kind", run_kind_name(RunKind::regression)},
                                 {"task", to_json(config.task)},
                                 {"cell", config.model.cell},
                                 {"model", to_json(config.model)},
                                 {"warmed_from", dir},
                                 {"steps_done", 0},
                                 {"warmup", summary},
                                 {"vaa", {{"initial", before}, {"after_warmup", after}}},
                                 {"test", {{"mse", mse}, {"chance_mse", chance}, {"samples", config.train.test_size}}},
                                 {"wall_time_s", training::seconds_since(start)},
                                 {"seed", config.train.seed}};
  writer.write_report(report);
  std::printf("result: test MSE %.6g (chance %.4g) after warmup | %s | VAA %.3f -> %.3f, %.1f s, run in %s\n", mse,
              chance, describe_run(config).c_str(), before["vaa"].get<double>(), after["vaa"].get<double>(),
              training::seconds_since(start), out_dir.c_str());
}

}  // namespace

void register_warmup(CLI::App& app) {
  auto options = std::make_shared<WarmupCommand>();
  auto& o = *options;
  auto* warmup = app.add_subcommand("warmup", "Warm up a trained (or freshly initialised) run's model into a new run folder");
  warmup->add_option("--checkpoint", o.checkpoint, "Run folder to start from (never modified)")->required();
  warmup->add_option("--out", o.out_dir, "New run folder")->required();
  warmup->add_option("--steps", o.warmup.steps, "Warmup steps K")->capture_default_str();
  warmup->add_option("--lr", o.warmup.learning_rate, "Adam learning rate")->capture_default_str();
  warmup->add_option("--batch", o.warmup.batch_size, "Input sequences per step")->capture_default_str();
  warmup->add_option("--target", o.warmup.target, "VAA* target of every layer")->capture_default_str();
  warmup->add_option("--max-settle", o.warmup.max_settle, "Longest settling horizon")->capture_default_str();
  warmup->add_option("--seed", o.warmup.seed, "Seed of the warmup's draws")->capture_default_str();
  add_vaa_options(warmup, o.vaa);
  warmup->add_flag("--overwrite", o.overwrite, "Replace a run already in --out");
  warmup->add_flag("--quiet", o.quiet, "No progress bar");
  add_threads_option(warmup, o.threads);
  warmup->callback([options] {
    const auto& o = *options;
    configure_threads(o.threads);
    command_warmup(o.checkpoint, o.out_dir, o.overwrite, o.warmup, o.vaa, !o.quiet);
  });
}

}  // namespace neurocell::cli
