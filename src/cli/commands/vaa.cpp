// `neurocell vaa`: VAA (reachable multistability, multistability.md) of a run's model on its
// task's inputs (or another task of the same input width), printed as one line "VAA 0.xxxx (...)".
#include "cli/commands/commands.h"

#include <chrono>

#include "runs/runs.h"
#include "core/progress.h"

namespace neurocell::cli {

namespace {

struct VaaCommand {
  std::string checkpoint;
  TaskConfig task;
  CLI::Option* task_option = nullptr;
  analysis::VaaOptions vaa;
  int64_t threads = 0;
  bool quiet = false;
};

// A T-maze agent: its Q-network on the random-agent inputs of its own maze (train/drqn.h), as
// `neurocell tmaze` measures it at the end of training.
void command_vaa_tmaze(const std::string& dir, const analysis::VaaOptions& options) {
  const auto maze = tmaze_of_run(dir);
  auto model = load_sequence_model_of_run(dir);
  const auto start = std::chrono::steady_clock::now();
  const auto result =
      analysis::measure_vaa(model, tmaze_random_inputs(maze.length, maze.maze, maze.signal_window), options);
  std::printf("VAA %.4f (%.1f distinct attractors among %lld samples per batch; %lld batches, %lld settling steps, "
              "%.1f s) | %s %lldx%lld T-maze agent (%s maze, L = %lld), inputs of a random agent\n",
              result.vaa, result.attractors, static_cast<long long>(options.samples),
              static_cast<long long>(options.batches), static_cast<long long>(options.settle_steps),
              training::seconds_since(start), model->config.cell.c_str(), static_cast<long long>(model->config.layers),
              static_cast<long long>(model->config.hidden_size), tmaze_variant_name(maze.maze).c_str(),
              static_cast<long long>(maze.length));
}

void command_vaa(const std::string& dir, const TaskConfig* task_override, const analysis::VaaOptions& options) {
  if (detect_run_kind(dir) == RunKind::tmaze) {
    require(!task_override, "--task: a T-maze run is measured on its own maze's inputs");
    return command_vaa_tmaze(dir, options);
  }
  auto run = load_run(dir);
  const auto task_config = task_override ? *task_override : run.config.task;
  const auto task = make_task(task_config);
  require(task->input_size == run.config.model.input_size,
          "task " + task_config.name + " has inputs of width " + std::to_string(task->input_size) +
              " but the model reads " + std::to_string(run.config.model.input_size));
  const auto start = std::chrono::steady_clock::now();
  const auto result = analysis::measure_vaa(run.model, training_inputs(*task), options);
  RunConfig described = run.config;
  described.task = task_config;
  std::printf("VAA %.4f (%.1f distinct attractors among %lld samples per batch; %lld batches, %lld settling steps, "
              "%.1f s) | %s\n",
              result.vaa, result.attractors, static_cast<long long>(options.samples),
              static_cast<long long>(options.batches), static_cast<long long>(options.settle_steps),
              training::seconds_since(start), describe_run(described).c_str());
}

}  // namespace

void register_vaa(CLI::App& app) {
  auto options = std::make_shared<VaaCommand>();
  auto& o = *options;
  auto* vaa = app.add_subcommand("vaa", "VAA (reachable multistability) of a trained model on its task's inputs");
  vaa->add_option("--checkpoint", o.checkpoint, "Run folder")->required();
  o.task_option = vaa->add_option("--task", o.task.name, "Task whose inputs drive the model (default: the run's)")
                              ->check(CLI::IsMember(task_names()));
  vaa->add_option("--length", o.task.length, "With --task: sequence length T");
  vaa->add_option("--no-end", o.task.no_end, "With --task denoising: no relevant value in the last N steps");
  add_vaa_options(vaa, o.vaa);
  add_threads_option(vaa, o.threads);
  vaa->add_flag("--quiet", o.quiet, "No progress bar");
  vaa->callback([options] {
    configure_threads(options->threads);
    options->vaa.progress = !options->quiet;
    command_vaa(options->checkpoint, options->task_option->count() ? &options->task : nullptr, options->vaa);
  });
}

}  // namespace neurocell::cli
