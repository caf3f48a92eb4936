#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bench/bench.h"
#include "bench/bench_scan.h"
#include "cli/analog_commands.h"
#include "cli/multistability_commands.h"
#include "cli/report.h"
#include "cli/reproduce.h"
#include "cli/rl_commands.h"
#include "cli/sequence_commands.h"
#include "cli/spiking_commands.h"
#include "nn/cell_registry.h"
#include "core/error.h"
#include "io/files.h"
#include "io/ncm_export.h"
#include "io/npy.h"
#include "train/checkpoint.h"
#include "train/multistability.h"

namespace neurocell {

namespace {

void print_result(const RunConfig& c, double test_mse, double chance, int64_t samples,
                  const std::string& extra) {
  std::printf("result: test MSE %.6g (chance %.4g, %lld samples) | %s%s\n", test_mse, chance,
              static_cast<long long>(samples), describe_run(c).c_str(), extra.c_str());
  std::fflush(stdout);
}

int command_train(RunConfig config, const std::string& out_dir, bool overwrite) {
  config.model.validate();
  config.task.validate();
  config.train.validate();
  config.multistability.validate();
  require(!out_dir.empty(), "--out DIR is required: the folder that receives the run");
  require(overwrite || !file_exists(config_path(out_dir)),
          "'" + out_dir + "' already holds a run (config.json): choose another --out, or add --overwrite");
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
  ensure_directory(out_dir);
  save_run_config(out_dir, config);
  std::ofstream metrics(metrics_path(out_dir), std::ios::trunc);
  require(metrics.good(), "cannot write '" + metrics_path(out_dir) + "'");

  // Warmup and VAA (multistability.md): before, after warmup, during and after training.
  const auto& ms = config.multistability;
  const bool measure = ms.measure || ms.warmup.steps > 0;
  nlohmann::json vaa = nlohmann::json::object(), warmup_summary;
  const auto start = std::chrono::steady_clock::now();
  if (measure) vaa["initial"] = measure_and_log_vaa(model, *task, ms.vaa, "initial", 0, &metrics);
  if (ms.warmup.steps > 0) {
    warmup_summary = run_warmup(model, *task, ms.warmup, &metrics, config.train.progress);
    vaa["after_warmup"] = measure_and_log_vaa(model, *task, ms.vaa, "after_warmup", 0, &metrics);
  }
  metrics.close();
  ValidationHook hook;
  if (ms.every > 0)
    hook = [&](int64_t step) -> nlohmann::json {
      if (step % ms.every != 0) return nullptr;
      const auto line = measure_and_log_vaa(model, *task, ms.vaa, "training", step, nullptr);
      return {{"vaa", line["vaa"]}, {"attractors", line["attractors"]}};
    };

  const auto report = train_model(model, *task, config.train, out_dir, hook);
  save_weights(weights_path(out_dir), model);  // best validation weights (restored)
  if (measure) {
    std::ofstream more(metrics_path(out_dir), std::ios::app);
    vaa["final"] = measure_and_log_vaa(model, *task, ms.vaa, "final", report.steps_done, &more);
  }
  const double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  nlohmann::json json = {
      {"task", to_json(config.task)},
      {"cell", config.model.cell},
      {"model", to_json(config.model)},
      {"parameters", [&] {
         int64_t n = 0;
         for (const auto& p : model->parameters()) n += p.numel();
         return n;
       }()},
      {"steps_planned", config.train.steps},
      {"steps_done", report.steps_done},
      {"skipped_updates", report.skipped_updates},
      {"early_stopped", report.early_stopped},
      {"best_step", report.best_step},
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
  write_json_atomic(report_path(out_dir), json);

  char extra[200];
  std::snprintf(extra, sizeof extra, ", %lld steps (%lld skipped), %.1f s, run in %s",
                static_cast<long long>(report.steps_done), static_cast<long long>(report.skipped_updates),
                wall_seconds, out_dir.c_str());
  std::string vaa_text;
  if (measure) {
    char buffer[160];
    const double before = vaa["initial"]["vaa"].get<double>(), after = vaa["final"]["vaa"].get<double>();
    if (vaa.contains("after_warmup"))
      std::snprintf(buffer, sizeof buffer, " | VAA %.3f initial, %.3f after warmup, %.3f trained", before,
                    vaa["after_warmup"]["vaa"].get<double>(), after);
    else
      std::snprintf(buffer, sizeof buffer, " | VAA %.3f initial, %.3f trained", before, after);
    vaa_text = buffer;
  }
  print_result(config, report.test_mse, report.chance_mse, config.train.test_size, extra + vaa_text);
  return 0;
}

int command_eval(const std::string& dir, int64_t test_size, int64_t threads) {
  configure_threads(threads);
  auto run = load_run(dir);
  if (test_size > 0) run.config.train.test_size = test_size;
  const auto task = make_task(run.config.task);
  const auto start = std::chrono::steady_clock::now();
  const auto test = make_fixed_set(*task, run.config.train.test_size,
                                   evaluation_batch_size(run.config.train.batch_size, run.config.task.length),
                                   run.config.train.seed, 2);
  const double mse = evaluate_mse(run.model, test, task->readout_steps);
  char extra[64];
  std::snprintf(extra, sizeof extra, ", %.1f s",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  print_result(run.config, mse, chance_mse(test), run.config.train.test_size, extra);
  return 0;
}

int command_run(const std::string& dir, const std::string& input_path, const std::string& output_path,
                int64_t threads) {
  configure_threads(threads);
  require(!is_spiking_run(dir), "'" + dir + "' is an SRC run: `run` supports the regression cells only so far "
                                "(use `plot raster` to look at SRC spikes)");
  auto run = load_run(dir);
  auto x = read_npy(input_path);
  const int64_t width = run.config.model.input_size;
  require(x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kFloat64,
          "'" + input_path + "' must hold float32 or float64 values");
  require(x.dim() == 3, "'" + input_path + "' must have shape (T, B, I=" + std::to_string(width) +
                            "), got " + std::to_string(x.dim()) + " dimensions " + c10::str(x.sizes()));
  require(x.size(2) == width, "'" + input_path + "' has input width I=" + std::to_string(x.size(2)) +
                                  " but the model reads I=" + std::to_string(width) + " (shape must be (T, B, " +
                                  std::to_string(width) + "))");
  require(x.size(0) >= 1 && x.size(1) >= 1, "'" + input_path + "' is empty (T and B must be >= 1)");
  require(torch::isfinite(x).all().item<bool>(), "'" + input_path + "' contains NaN or Inf values");
  run.model->to(x.scalar_type());
  torch::NoGradGuard no_grad;
  const auto states = run.model->all_states(x);  // (T, B, S)
  write_npy(output_path, states);
  std::printf("wrote %s: states (T=%lld, B=%lld, S=%lld) %s\n", output_path.c_str(),
              static_cast<long long>(states.size(0)), static_cast<long long>(states.size(1)),
              static_cast<long long>(states.size(2)), c10::toString(states.scalar_type()));
  return 0;
}

int command_export(const std::string& dir, const std::string& out_path, bool overwrite,
                   const IntegerExportOptions& integer) {
  require(overwrite || !file_exists(out_path), "'" + out_path + "' exists: pass --overwrite to replace it");
  if (is_spiking_run(dir)) return command_export_spiking(dir, out_path, integer);
  require(integer.weight_bits == 0 && !integer.leaky && !integer.trained_bias,
          "--integer-bits, --leaky and --trained-bias export the integer SRC: '" + dir + "' is not an SRC run");
  LoadedRun run;
  if (is_sequence_classification_run(dir) || is_tmaze_run(dir)) {  // their own configs, the same models
    run.model = load_sequence_model_of_run(dir);
    run.config.model = run.model->config;
  } else {
    run = load_run(dir);
  }
  const std::string bytes = ncm_bytes(run.model);
  write_file_atomic(out_path, bytes);
  int64_t parameters = 0;
  for (const auto& p : run.model->parameters()) parameters += p.numel();
  std::printf("wrote %s: %s, %lld layers of %lld, input %lld, output %lld, %lld parameters, %zu bytes\n",
              out_path.c_str(), run.config.model.cell.c_str(), static_cast<long long>(run.config.model.layers),
              static_cast<long long>(run.config.model.hidden_size), static_cast<long long>(run.config.model.input_size),
              static_cast<long long>(run.config.model.output_size), static_cast<long long>(parameters), bytes.size());
  return 0;
}

// "copy:100:600:1:100,wide:64:200:64:128" -> shapes.
std::vector<BenchShape> parse_bench_shapes(const std::string& text) {
  std::vector<BenchShape> shapes;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    BenchShape s;
    char name[64] = {0};
    long long b, t, i, h;
    require(std::sscanf(item.c_str(), "%63[^:]:%lld:%lld:%lld:%lld", name, &b, &t, &i, &h) == 5 && b > 0 && t > 0 &&
                i > 0 && h > 0,
            "--shapes: '" + item + "' is not NAME:B:T:I:H with positive sizes");
    shapes.push_back({name, b, t, i, h});
  }
  require(!shapes.empty(), "--shapes: no shape given");
  return shapes;
}

// "long:16:65536:256,batch:64:1024:256" -> scan benchmark shapes.
std::vector<ScanBenchShape> parse_scan_bench_shapes(const std::string& text) {
  std::vector<ScanBenchShape> shapes;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    char name[64] = {0};
    long long b, t, h;
    require(std::sscanf(item.c_str(), "%63[^:]:%lld:%lld:%lld", name, &b, &t, &h) == 4 && b > 0 && t > 0 && h > 0,
            "--shapes (with --scan): '" + item + "' is not NAME:B:T:H with positive sizes");
    shapes.push_back({name, b, t, h});
  }
  require(!shapes.empty(), "--shapes: no shape given");
  return shapes;
}

// The VAA measurement protocol's options, shared by train, vaa and warmup.
void add_vaa_options(CLI::App* command, analysis::VaaOptions& o) {
  command->add_option("--vaa-samples", o.samples, "VAA: input sequences per batch (n)")->capture_default_str();
  command->add_option("--vaa-settle", o.settle_steps, "VAA: steps of the constant input (S)")->capture_default_str();
  command->add_option("--vaa-batches", o.batches, "VAA: batches averaged")->capture_default_str();
  command->add_option("--vaa-seed", o.seed, "VAA: seed of the measurement's draws")->capture_default_str();
}

}  // namespace

std::vector<std::string> cli_cell_choices() { return cell_kind_names(); }

int run_cli(const std::vector<std::string>& args) {
  CLI::App app{"neurocell: neuro-inspired recurrent cells (bistable, spiking, memory units)", "neurocell"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "neurocell 0.1.0");

  RunConfig config;
  SpikingRunConfig spiking;  // --cell src / --task spiking-*: the SRC classifier's options
  bool detach = false, dense_input = false;
  std::string import_path, eval_task = "spiking-mnist";
  std::vector<std::string> cells = cli_cell_choices(), tasks = task_names();
  tasks.insert(tasks.end(), {"spiking-mnist", "spiking-fashion-mnist"});
  for (const auto& name : image_sequence_task_names()) tasks.push_back(name);
  ImageSequenceTaskConfig sequence_task;  // --task smnist | psmnist | row-mnist | prow-mnist
  std::string out_dir, checkpoint, input_path, output_path;
  bool overwrite = false, quiet = false, no_skip = false;
  int64_t eval_test_size = 0, threads = 0;

  auto* train = app.add_subcommand("train", "Train a model on a task and write a run folder");
  train->add_option("--task", config.task.name,
                    "copy-first-input | copy-single-value | copy-single-bit | denoising | spiking-mnist | spiking-fashion-mnist | "
                    "smnist | psmnist | row-mnist | prow-mnist (sequence classification)")
      ->check(CLI::IsMember(tasks))->capture_default_str();
  train->add_option("--dataset", sequence_task.dataset, "Sequence classification: mnist | fashion-mnist")
      ->check(CLI::IsMember({"mnist", "fashion-mnist"}))->capture_default_str();
  train->add_option("--black", sequence_task.black, "Sequence classification: appended black pixels (rows for row-mnist)")
      ->capture_default_str();
  train->add_option("--permutation-seed", sequence_task.permutation_seed,
                    "psmnist, prow-mnist: seed of the fixed pixel (row) order")->capture_default_str();
  train->add_option("--train-size", sequence_task.train_size, "Sequence classification: training images (0 = all)")
      ->capture_default_str();
  train
      ->add_option("--cell", config.model.cell,
                   join_cell_names(cell_kind_names(), " | ") + " (src: spiking tasks; see docs/cells.md)")
      ->check(CLI::IsMember(cells))->capture_default_str();
  train->add_option("--layers", config.model.layers, "Number of recurrent layers")->capture_default_str();
  train->add_option("--hidden", config.model.hidden_size, "Units per layer")->capture_default_str();
  train->add_option("--impl", config.model.impl, "fused (default) | reference: which code computes the cells")
      ->check(CLI::IsMember({"fused", "reference"}))->capture_default_str();
  train->add_flag("--double", config.model.double_layer, "Double layers: two cells of H/2 side by side");
  train->add_flag("--orthogonal", config.model.orthogonal_recurrent, "nBRC: orthogonal recurrent init");
  train->add_option("--chrono", config.model.chrono_max_length, "LSTM: chrono init with this T_max (0 = off)");
  train->add_option("--length", config.task.length, "Sequence length T")->capture_default_str();
  train->add_option("--no-end", config.task.no_end, "Denoising: no relevant value in the last N steps")
      ->capture_default_str();
  train->add_option("--batch", config.train.batch_size, "Batch size")->capture_default_str();
  train->add_option("--steps", config.train.steps, "Training steps (updates)")->capture_default_str();
  train->add_option("--lr", config.train.learning_rate, "Adam learning rate")->capture_default_str();
  train->add_option("--lr-schedule", config.train.lr_schedule, "constant | cosine (decay to 1 % of --lr)")
      ->check(CLI::IsMember({"constant", "cosine"}))->capture_default_str();
  train->add_option("--clip", config.train.clip_norm, "Gradient-norm clipping (0 = off)")->capture_default_str();
  train->add_flag("--no-skip-nonfinite", no_skip, "Apply updates even when a gradient is NaN/Inf");
  train->add_option("--eval-every", config.train.eval_every, "Validate every N steps")->capture_default_str();
  train->add_option("--val-size", config.train.validation_size, "Validation samples")->capture_default_str();
  train->add_option("--test-size", config.train.test_size, "Test samples")->capture_default_str();
  train->add_option("--patience", config.train.patience, "Early stop after N validations without improvement (0 = off)")
      ->capture_default_str();
  train->add_option("--seed", config.train.seed, "Seed of initialisation and data")->capture_default_str();
  train->add_option("--threads", config.train.threads, "CPU threads (0 = every core)")->capture_default_str();
  train->add_option("--readout-factor", spiking.model.readout_factor,
                    "SRC: neurons per class in the last layer (its width is 10 x this)")->capture_default_str();
  train->add_option("--rate-steps", spiking.task.coding.steps, "SRC: rate-coded steps per image")->capture_default_str();
  train->add_option("--rate-prefix", spiking.task.coding.prefix, "SRC: empty steps before the image")
      ->capture_default_str();
  train->add_option("--rate-gain", spiking.task.coding.gain, "SRC: spike probability of a white pixel per step")
      ->capture_default_str();
  train->add_option("--subsample", spiking.task.coding.subsample, "SRC: sub-sample the trace to this many steps (0 = off)")
      ->capture_default_str();
  train->add_flag("--detach", detach, "SRC: no gradient through h, h_s of the previous step (only through i)");
  train->add_flag("--dense-input", dense_input, "SRC: dense GEMM input projection instead of the sparse one");
  auto& ms = config.multistability;
  train->add_option("--warmup", ms.warmup.steps,
                    "Warmup steps before training (0 = none); with --double, partial warmup (first halves only)")
      ->capture_default_str();
  train->add_option("--warmup-lr", ms.warmup.learning_rate, "Warmup: Adam learning rate")->capture_default_str();
  train->add_option("--warmup-batch", ms.warmup.batch_size, "Warmup: input sequences per step")->capture_default_str();
  train->add_option("--warmup-target", ms.warmup.target, "Warmup: VAA* target of every layer")->capture_default_str();
  train->add_option("--warmup-max-settle", ms.warmup.max_settle, "Warmup: longest settling horizon")
      ->capture_default_str();
  train->add_flag("--vaa", ms.measure, "Measure VAA before and after training (always on with --warmup)");
  train->add_option("--vaa-every", ms.every, "Also measure VAA at validations every N steps (0 = never)")
      ->capture_default_str();
  add_vaa_options(train, ms.vaa);
  train->add_option("--init", config.init, "Start from the weights of this run folder (same model)");
  train->add_option("--out", out_dir, "Run folder to write")->required();
  train->add_flag("--overwrite", overwrite, "Replace a run already in --out");
  train->add_flag("--quiet", quiet, "No progress bar");

  auto* eval = app.add_subcommand("eval", "Re-evaluate a run folder on its test set, or a model of the SRC authors");
  auto* eval_checkpoint = eval->add_option("--checkpoint", checkpoint, "Run folder written by `neurocell train`");
  auto* eval_import = eval->add_option("--import", import_path,
                                       "Folder or .zip (config.json + arrays.npz) saved by the SRC authors' code");
  eval_import->excludes(eval_checkpoint);
  eval->add_option("--task", eval_task, "With --import: spiking-mnist | spiking-fashion-mnist")
      ->check(CLI::IsMember({"spiking-mnist", "spiking-fashion-mnist"}))->capture_default_str();
  eval->add_option("--out", out_dir, "With --import: also save the model as a neurocell run folder");
  eval->add_option("--test-size", eval_test_size, "Test samples (default: the run's)");
  eval->add_option("--threads", threads, "CPU threads (0 = every core)");

  auto* run = app.add_subcommand("run", "Run a trained recurrent stack on a user array and save every layer's states");
  run->add_option("--checkpoint", checkpoint, "Run folder written by `neurocell train`")->required();
  run->add_option("--input", input_path, ".npy array X of shape (T, B, I), float32 or float64")->required();
  run->add_option("--output", output_path, ".npy file for the states (T, B, S), see README")->required();
  run->add_option("--threads", threads, "CPU threads (0 = every core)");

  auto* export_command = app.add_subcommand(
      "export", "Write a trained model as a .ncm file for the dependency-free runtime (runtime/)");
  export_command->add_option("--checkpoint", checkpoint, "Run folder written by `neurocell train`")->required();
  export_command->add_option("--out", output_path, ".ncm file to write")->required();
  export_command->add_flag("--overwrite", overwrite, "Replace an existing file");
  IntegerExportOptions integer_export;
  export_command->add_option("--integer-bits", integer_export.weight_bits,
                             "SRC: write the integer (FPGA) network with weights of this many magnitude bits");
  export_command->add_flag("--leaky", integer_export.leaky, "With --integer-bits: leaky accumulators");
  export_command->add_flag("--trained-bias", integer_export.trained_bias,
                           "With --integer-bits: per-neuron bias round(1000 b) instead of -3000");

  IntegerSrcEvalOptions integer_options;
  auto* integer_src = app.add_subcommand(
      "integer-src", "SRC: MNIST test accuracy with the FPGA's integer arithmetic (runtime/integer_src.h)");
  integer_src->add_option("--checkpoint", checkpoint, "SRC run folder")->required();
  integer_src->add_option("--trace-steps", integer_options.trace_steps, "Trace lengths (divisors of the full trace)")
      ->delimiter(',')->capture_default_str();
  integer_src->add_option("--bits", integer_options.weight_bits, "Weight magnitude bits")->delimiter(',')
      ->capture_default_str();
  integer_src->add_flag("--leaky", integer_options.leaky, "Leaky accumulators (acc -= acc >> 5 every step)");
  integer_src->add_flag("--trained-bias", integer_options.trained_bias,
                        "Per-neuron bias round(1000 b) instead of the reference design's -3000");
  integer_src->add_flag("--rising-edges", integer_options.rising_edges,
                        "Keep only rising edges of the sub-sampled input spikes");
  integer_src->add_option("--test-size", integer_options.test_size, "Test images (default: all)");
  integer_src->add_option("--threads", threads, "CPU threads (0 = every core)");

  TmazeRunConfig tmaze_config;
  tmaze_config.model.layers = 2;
  tmaze_config.model.hidden_size = 32;
  tmaze_config.model.cell = "gru";
  auto* tmaze = app.add_subcommand("tmaze", "T-maze: train a DRQN agent at one corridor length, evaluate at longer ones");
  tmaze->add_option("--cell", tmaze_config.model.cell, "Recurrent cell of the Q-network")
      ->check(CLI::IsMember(cell_kind_names()))->capture_default_str();
  tmaze->add_option("--layers", tmaze_config.model.layers, "Recurrent layers")->capture_default_str();
  tmaze->add_option("--hidden", tmaze_config.model.hidden_size, "Units per layer")->capture_default_str();
  tmaze->add_flag("--double", tmaze_config.model.double_layer, "Double layers");
  tmaze->add_option("--length", tmaze_config.length, "Corridor length L for training")->capture_default_str();
  tmaze->add_option("--eval-lengths", tmaze_config.eval_lengths, "Lengths of the greedy evaluation after training")
      ->delimiter(',')->capture_default_str();
  tmaze->add_option("--episodes", tmaze_config.drqn.episodes, "Training episodes")->capture_default_str();
  tmaze->add_option("--batch-episodes", tmaze_config.drqn.batch_episodes, "Episodes per update")->capture_default_str();
  tmaze->add_option("--lr", tmaze_config.drqn.learning_rate, "Adam learning rate")->capture_default_str();
  tmaze->add_option("--target-every", tmaze_config.drqn.target_every, "Updates between target-network copies")
      ->capture_default_str();
  tmaze->add_option("--epsilon-decay", tmaze_config.drqn.epsilon_decay,
                    "Fraction of the episodes over which epsilon falls from 1 to 0.05")->capture_default_str();
  tmaze->add_option("--eval-every", tmaze_config.drqn.eval_every, "Episodes between greedy evaluations")
      ->capture_default_str();
  tmaze->add_flag("--stop-when-solved", tmaze_config.drqn.stop_when_solved,
                  "Stop at the first evaluation where both cues lead to the right goal");
  tmaze->add_option("--seed", tmaze_config.drqn.seed, "Seed of initialisation, exploration and replay")
      ->capture_default_str();
  tmaze_config.warmup.steps = 0;
  tmaze->add_option("--warmup", tmaze_config.warmup.steps,
                    "Warmup steps before training, on random-agent episodes (0 = none; with --double: partial warmup)")
      ->capture_default_str();
  tmaze->add_option("--warmup-max-settle", tmaze_config.warmup.max_settle, "Warmup: longest settling horizon")
      ->capture_default_str();
  tmaze->add_option("--threads", tmaze_config.threads, "CPU threads (0 = every core)")->capture_default_str();
  tmaze->add_option("--out", out_dir, "Run folder to write")->required();
  tmaze->add_flag("--overwrite", overwrite, "Replace a run already in --out");
  tmaze->add_flag("--quiet", quiet, "No progress bar");

  ReproduceOptions reproduce_options;
  auto* reproduce = app.add_subcommand(
      "reproduce", "Run a paper's suite of experiments (configs/suites/NAME.json), resumable, then its table and pictures");
  reproduce->add_option("suite", reproduce_options.suite, "Suite: bistable | warmup | mru | src");
  reproduce->add_option("--suite-file", reproduce_options.suite_file, "A suite file instead of a name");
  reproduce->add_flag("--quick", reproduce_options.quick, "The suite's small budgets (a smoke test in minutes)");
  reproduce->add_option("--out", reproduce_options.out, "Folder of the runs and results (default runs/reproduce/NAME[-quick])");
  reproduce->add_option("--jobs", reproduce_options.jobs, "Runs at a time (child processes)")->capture_default_str();
  reproduce->add_option("--threads-per-job", reproduce_options.threads_per_job, "CPU threads of each run")
      ->capture_default_str();
  reproduce->add_option("--only", reproduce_options.only, "Run only run number I (see --list; a cluster array task)");
  reproduce->add_flag("--list", reproduce_options.list, "List the runs, their numbers and whether they are done");
  reproduce->add_flag("--table-only", reproduce_options.table_only, "Only write the table and pictures of finished runs");
  reproduce->add_option("--slurm", reproduce_options.slurm, "Write a SLURM array job script for the suite to this file");

  AnalogStudyOptions analog;
  auto* analog_noise = app.add_subcommand(
      "analog-noise", "Sequence models as simulated analog hardware: accuracy vs drive/state noise, mismatch, weight bits");
  analog_noise->add_option("--runs", analog.runs, "Run folders of one task, comma-separated")->required()->delimiter(',');
  analog_noise->add_option("--drive", analog.drive, "Drive noise levels (sigma)")->delimiter(',')->capture_default_str();
  analog_noise->add_option("--state", analog.state, "State noise levels (sigma)")->delimiter(',')->capture_default_str();
  analog_noise->add_option("--mismatch", analog.mismatch, "Relative device mismatch levels (sigma)")
      ->delimiter(',')->capture_default_str();
  analog_noise->add_option("--bits", analog.bits, "Weight bit widths (sign included)")->delimiter(',')->capture_default_str();
  analog_noise->add_option("--chips", analog.chips, "Noise draws / mismatch chips per level")->capture_default_str();
  analog_noise->add_option("--test-size", analog.test_size, "Test sequences")->capture_default_str();
  analog_noise->add_option("--tolerance", analog.tolerance, "Recalled: every target within this (copy-single-bit: the sign decides)")->capture_default_str();
  analog_noise->add_option("--seed", analog.seed, "Seed of the noise and chips")->capture_default_str();
  analog_noise->add_option("--out", analog.out, "Folder for results.json, results.md, accuracy-vs-noise.png")->required();
  analog_noise->add_flag("--overwrite", analog.overwrite, "Replace earlier results in --out");
  analog_noise->add_option("--threads", threads, "CPU threads (0 = every core)");

  std::vector<double> sigmas = {0, 0.1, 0.2, 0.5, 1.0};
  int64_t repeats = 3, image_index = 0;
  std::string plot_kind;
  auto* noise = app.add_subcommand("noise", "SRC: test accuracy with r, r_s perturbed per neuron by Gaussian noise");
  noise->add_option("--checkpoint", checkpoint, "SRC run folder")->required();
  noise->add_option("--sigma", sigmas, "Noise standard deviations")->delimiter(',')->capture_default_str();
  noise->add_option("--repeats", repeats, "Noise draws per sigma")->capture_default_str();
  noise->add_option("--test-size", eval_test_size, "Test images (default: all)");
  noise->add_option("--threads", threads, "CPU threads (0 = every core)");

  auto* plot = app.add_subcommand("plot", "Draw a picture with gnuplot");
  plot->add_option("kind", plot_kind,
                   "raster: input and SRC spikes of one test image | vaa: VAA over warmup and training")
      ->check(CLI::IsMember({"raster", "vaa"}))->required();
  plot->add_option("--checkpoint", checkpoint, "Run folder (raster: an SRC run)")->required();
  plot->add_option("--index", image_index, "Test image index")->capture_default_str();
  plot->add_option("--out", output_path, "Picture file (.png or .svg)")->required();

  // Multistability toolkit (multistability.md).
  analysis::VaaOptions vaa_options;
  TaskConfig vaa_task;
  auto* vaa = app.add_subcommand("vaa", "VAA (reachable multistability) of a trained model on its task's inputs");
  vaa->add_option("--checkpoint", checkpoint, "Run folder")->required();
  auto* vaa_task_option = vaa->add_option("--task", vaa_task.name, "Task whose inputs drive the model (default: the run's)")
                              ->check(CLI::IsMember(task_names()));
  vaa->add_option("--length", vaa_task.length, "With --task: sequence length T");
  vaa->add_option("--no-end", vaa_task.no_end, "With --task denoising: no relevant value in the last N steps");
  add_vaa_options(vaa, vaa_options);
  vaa->add_option("--threads", threads, "CPU threads (0 = every core)");

  analysis::WarmupOptions warmup_options;
  auto* warmup = app.add_subcommand("warmup", "Warm up a trained (or freshly initialised) run's model into a new run folder");
  warmup->add_option("--checkpoint", checkpoint, "Run folder to start from (never modified)")->required();
  warmup->add_option("--out", out_dir, "New run folder")->required();
  warmup->add_option("--steps", warmup_options.steps, "Warmup steps K")->capture_default_str();
  warmup->add_option("--lr", warmup_options.learning_rate, "Adam learning rate")->capture_default_str();
  warmup->add_option("--batch", warmup_options.batch_size, "Input sequences per step")->capture_default_str();
  warmup->add_option("--target", warmup_options.target, "VAA* target of every layer")->capture_default_str();
  warmup->add_option("--max-settle", warmup_options.max_settle, "Longest settling horizon")->capture_default_str();
  warmup->add_option("--seed", warmup_options.seed, "Seed of the warmup's draws")->capture_default_str();
  add_vaa_options(warmup, vaa_options);
  warmup->add_flag("--overwrite", overwrite, "Replace a run already in --out");
  warmup->add_flag("--quiet", quiet, "No progress bar");
  warmup->add_option("--threads", threads, "CPU threads (0 = every core)");

  analysis::FixedPointOptions fixed_point_options;
  UnitDiagramOptions unit;
  std::vector<double> constant_input;
  auto* attractors = app.add_subcommand(
      "attractors", "Fixed points of a trained network (--checkpoint), or one unit's bifurcation diagram (--cell)");
  auto* attractors_checkpoint = attractors->add_option("--checkpoint", checkpoint, "Run folder");
  attractors->add_option("--input", constant_input, "Constant input, comma-separated (default: zeros)")
      ->delimiter(',');
  attractors->add_option("--starts", fixed_point_options.starts, "Random start states")->capture_default_str();
  attractors->add_option("--max-steps", fixed_point_options.max_steps, "Iterations before giving up on a start")
      ->capture_default_str();
  attractors->add_option("--seed", fixed_point_options.seed, "Seed of the start states")->capture_default_str();
  auto* attractors_cell = attractors->add_option("--cell", unit.cell, "Unit: brc | src")
                              ->check(CLI::IsMember({"brc", "src"}));
  attractors_cell->excludes(attractors_checkpoint);
  attractors->add_option("--a", unit.a, "BRC unit: feedback a (bistable range exists for a > 1)")->capture_default_str();
  attractors->add_option("--u-range", unit.range, "Input range LO:HI[:N] (BRC: u, SRC: x)")->capture_default_str();
  attractors->add_option("--bias", unit.bias, "SRC unit: bias b")->capture_default_str();
  attractors->add_option("--out", unit.out, "Unit: picture file (.png or .svg)");
  attractors->add_option("--threads", threads, "CPU threads (0 = every core)");

  BenchOptions bench_options;
  ScanBenchOptions scan_bench_options;
  std::string bench_json, bench_shapes;
  std::vector<std::string> bench_cells;
  bool bench_scan = false;
  auto* bench = app.add_subcommand("bench", "Time fused kernels vs reference vs torch::nn (forward+backward)");
  bench->add_option("--cells", bench_cells,
                    "Cells to time (default: " + join_cell_names(bench_default_cells(), ",") +
                        "; src: its own table, spike input; with --scan: " +
                        join_cell_names(scan_bench_default_cells(), ",") + ", or any scan cell)")
      ->check(CLI::IsMember(cells))->delimiter(',');
  bench->add_flag("--scan", bench_scan,
                  "Time the scans (MRU family, minGRU, LRU core): chunked vs sequential vs a memcpy of the same bytes");
  bench->add_option("--shapes", bench_shapes,
                    "Shapes NAME:B:T:I:H,... (default copy, smnist, wide); with --scan NAME:B:T:H,... (default long, batch)");
  bench->add_option("--scan-threads", scan_bench_options.threads, "With --scan: thread counts to time")
      ->delimiter(',')->capture_default_str();
  bench->add_option("--reps", bench_options.repetitions, "Timed repetitions (median)")->capture_default_str();
  bench->add_option("--dtype", bench_options.dtype, "float32 | float64")->capture_default_str();
  bench->add_option("--json", bench_json, "Also write the results to this JSON file");
  bench->add_option("--threads", threads, "CPU threads (0 = every core)");

  std::vector<std::string> report_dirs;
  auto* report = app.add_subcommand("report", "Print a markdown table of finished run folders");
  bool report_summary = false;
  report->add_option("runs", report_dirs, "Run folders written by `neurocell train`")->required();
  report->add_flag("--summary", report_summary,
                   "One row per configuration (runs differing only by seed): mean, min and max over seeds");

  // CLI11 would only say "a subcommand is required": name the unknown word instead, with the
  // app's own list of subcommands.
  std::vector<std::string> commands;
  for (const auto* command : app.get_subcommands([](const CLI::App*) { return true; }))
    commands.push_back(command->get_name());
  if (!args.empty() && !args[0].empty() && args[0][0] != '-' &&
      std::find(commands.begin(), commands.end(), args[0]) == commands.end()) {
    std::string names;
    for (const auto& name : commands) names += (names.empty() ? "" : ", ") + name;
    std::fprintf(stderr, "neurocell: error: unknown command '%s' (valid: %s; see --help)\n", args[0].c_str(),
                 names.c_str());
    return 2;
  }

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses a reversed vector
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (*train) {
      config.train.progress = !quiet;
      config.train.skip_nonfinite = !no_skip;
      if (is_image_sequence_task(config.task.name)) {
        SequenceClassificationConfig sequence;
        sequence.model = config.model;
        sequence.task = sequence_task;
        sequence.task.name = config.task.name;
        sequence.train = config.train;
        return command_train_sequence_classification(sequence, out_dir, overwrite);
      }
      const bool src = config.model.cell == "src", spiking_task = is_spiking_task(config.task.name);
      if (!src && !spiking_task) return command_train(config, out_dir, overwrite);
      require(src && spiking_task, src ? "--cell src trains on --task spiking-mnist or spiking-fashion-mnist"
                                       : "--task " + config.task.name + " needs --cell src");
      spiking.task.name = config.task.name;
      spiking.train = config.train;
      spiking.model.hidden_size = config.model.hidden_size;
      spiking.model.layers = config.model.layers;
      spiking.model.impl = config.model.impl;
      spiking.model.cell.detach_recurrence = detach;
      spiking.sparse_input = !dense_input;
      return command_train_spiking(spiking, out_dir, overwrite);
    }
    if (*eval) {
      if (!import_path.empty()) {
        configure_threads(threads);
        return command_eval_import(import_path, eval_task, eval_test_size, out_dir);
      }
      require(!checkpoint.empty(), "eval needs --checkpoint DIR (a run folder) or --import PATH (an SRC authors' model)");
      if (is_spiking_run(checkpoint)) {
        configure_threads(threads);
        return command_eval_spiking(checkpoint, eval_test_size);
      }
      if (is_sequence_classification_run(checkpoint)) {
        configure_threads(threads);
        return command_eval_sequence_classification(checkpoint, eval_test_size);
      }
      return command_eval(checkpoint, eval_test_size, threads);
    }
    if (*run) return command_run(checkpoint, input_path, output_path, threads);
    if (*export_command) return command_export(checkpoint, output_path, overwrite, integer_export);
    if (*integer_src) {
      configure_threads(threads);
      require(is_spiking_run(checkpoint), "integer-src needs an SRC run folder (trained with --cell src)");
      return command_integer_src(checkpoint, integer_options);
    }
    if (*report) return command_report(report_dirs, report_summary);
    if (*reproduce) return command_reproduce(reproduce_options);
    if (*tmaze) {
      tmaze_config.drqn.progress = !quiet;
      return command_tmaze(tmaze_config, out_dir, overwrite);
    }
    if (*analog_noise) {
      configure_threads(threads);
      return command_analog_noise(analog);
    }
    if (*noise) {
      configure_threads(threads);
      return command_noise(checkpoint, sigmas, repeats, eval_test_size);
    }
    if (*plot)
      return plot_kind == "vaa" ? command_plot_vaa(checkpoint, output_path)
                                : command_plot_raster(checkpoint, image_index, output_path);
    if (*vaa) {
      configure_threads(threads);
      return command_vaa(checkpoint, vaa_task_option->count() ? &vaa_task : nullptr, vaa_options);
    }
    if (*warmup) {
      configure_threads(threads);
      return command_warmup(checkpoint, out_dir, overwrite, warmup_options, vaa_options, !quiet);
    }
    if (*attractors) {
      if (!checkpoint.empty()) {
        configure_threads(threads);
        return command_attractors_network(checkpoint, constant_input, fixed_point_options);
      }
      require(attractors_cell->count() > 0,
              "attractors needs --checkpoint DIR (fixed points of a trained network) or --cell brc|src "
              "(bifurcation diagram of one unit)");
      return command_attractors_unit(unit);
    }
    if (*bench) {
      const int64_t used = configure_threads(threads);
      nlohmann::json json;
      if (bench_scan) {
        if (!bench_cells.empty()) {
          scan_bench_options.cells.clear();
          for (const auto& c : bench_cells) {
            require(cell_info(c).scan(), "bench --scan times the scan cells (" +
                                             join_cell_names(cell_names_where([](const CellInfo& i) { return i.scan(); })) +
                                             "), not " + c);
            scan_bench_options.cells.push_back(c);
          }
        }
        if (!bench_shapes.empty()) scan_bench_options.shapes = parse_scan_bench_shapes(bench_shapes);
        scan_bench_options.repetitions = bench_options.repetitions;
        scan_bench_options.dtype = bench_options.dtype;
        json = run_scan_benchmark(scan_bench_options);
      } else {
        if (!bench_cells.empty()) bench_options.cells = bench_cells;
        for (const auto& c : bench_options.cells)
          require(c == "src" || !is_scan_kind(parse_cell_kind(c)),
                  c + " is a scan cell: time it with `neurocell bench --scan --cells " + c + "`");
        if (!bench_shapes.empty()) bench_options.shapes = parse_bench_shapes(bench_shapes);
        json = run_benchmark(bench_options);
      }
      json["threads"] = used;
      json["command"] = "neurocell bench" + [&] {
        std::string a;
        for (const auto& s : args)
          if (s != "bench") a += " " + s;
        return a;
      }();
      if (!bench_json.empty()) write_json_atomic(bench_json, json);
      return 0;
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "neurocell: error: %s\n", e.what());
    return 1;
  } catch (const c10::Error& e) {
    std::string message = e.what_without_backtrace();
    message = message.substr(0, message.find('\n'));
    std::fprintf(stderr, "neurocell: error: %s\n", message.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "neurocell: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace neurocell
