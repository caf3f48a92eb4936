#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "bench/bench.h"
#include "cli/spiking_commands.h"
#include "core/error.h"
#include "io/files.h"
#include "io/npy.h"
#include "train/checkpoint.h"

namespace neurocell {

namespace {

std::string describe(const RunConfig& c) {
  std::string task = c.task.name + " T=" + std::to_string(c.task.length);
  if (c.task.name == "denoising") task += " N=" + std::to_string(c.task.no_end);
  return c.model.cell + (c.model.double_layer ? " (double)" : "") + " " +
         std::to_string(c.model.layers) + "x" + std::to_string(c.model.hidden_size) + " on " + task;
}

void print_result(const RunConfig& c, double test_mse, double chance, int64_t samples,
                  const std::string& extra) {
  std::printf("result: test MSE %.6g (chance %.4g, %lld samples) | %s%s\n", test_mse, chance,
              static_cast<long long>(samples), describe(c).c_str(), extra.c_str());
  std::fflush(stdout);
}

int command_train(RunConfig config, const std::string& out_dir, bool overwrite) {
  config.model.validate();
  config.task.validate();
  config.train.validate();
  require(!out_dir.empty(), "--out DIR is required: the folder that receives the run");
  require(overwrite || !file_exists(config_path(out_dir)),
          "'" + out_dir + "' already holds a run (config.json): choose another --out, or add --overwrite");
  const auto task = make_task(config.task);
  config.model.input_size = task->input_size;
  config.model.output_size = task->output_size;
  const int64_t threads = configure_threads(config.train.threads);

  torch::manual_seed(config.train.seed);  // parameter initialisation
  SequenceModel model(config.model);
  ensure_directory(out_dir);
  save_run_config(out_dir, config);

  const auto report = train_model(model, *task, config.train, out_dir);
  save_weights(weights_path(out_dir), model);  // best validation weights (restored)

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
      {"wall_time_s", report.wall_seconds},
      {"threads", threads},
      {"seed", config.train.seed}};
  write_json_atomic(report_path(out_dir), json);

  char extra[160];
  std::snprintf(extra, sizeof extra, ", %lld steps (%lld skipped), %.1f s, run in %s",
                static_cast<long long>(report.steps_done), static_cast<long long>(report.skipped_updates),
                report.wall_seconds, out_dir.c_str());
  print_result(config, report.test_mse, report.chance_mse, config.train.test_size, extra);
  return 0;
}

int command_eval(const std::string& dir, int64_t test_size, int64_t threads) {
  configure_threads(threads);
  auto run = load_run(dir);
  if (test_size > 0) run.config.train.test_size = test_size;
  const auto task = make_task(run.config.task);
  const auto start = std::chrono::steady_clock::now();
  const auto test = make_fixed_set(*task, run.config.train.test_size,
                                   std::max<int64_t>(run.config.train.batch_size, 500),
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

// A markdown table of finished runs, one row per run folder, from their report.json.
// Spiking runs (SRC classifiers) get a table of their own: accuracy instead of MSE.
int command_report(const std::vector<std::string>& dirs) {
  std::vector<nlohmann::json> reports;
  for (const auto& dir : dirs) {
    try {
      reports.push_back(nlohmann::json::parse(read_file(report_path(dir), "run report")));
    } catch (const nlohmann::json::exception&) {
      throw Error("run report '" + report_path(dir) + "' is not valid JSON");
    }
  }
  const bool spiking = !reports.empty() && reports.front().value("cell", std::string()) == "src";
  if (spiking) {
    std::printf("| run | task | SRC layers | widths | steps | test accuracy | train images/s | input projection | wall time (s) |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
  } else {
    std::printf("| cell | layers x H | task | T | N | steps | test MSE | chance | wall time (s) |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
  }
  for (size_t k = 0; k < dirs.size(); ++k) {
    const auto& dir = dirs[k];
    const auto& r = reports[k];
    try {
      require(spiking == (r.value("cell", std::string()) == "src"),
              "report: '" + dir + "' mixes spiking and regression runs in one table; make two tables");
      if (spiking) {
        const auto& m = r.at("model");
        std::string widths = std::to_string(m.at("input_size").get<int64_t>());
        const int64_t layers = m.at("layers").get<int64_t>(), classes = m.at("classes").get<int64_t>();
        for (int64_t l = 0; l < layers; ++l)
          widths += "-" + std::to_string(l + 1 == layers ? classes * m.at("readout_factor").get<int64_t>()
                                                         : m.at("hidden_size").get<int64_t>());
        widths += "-" + std::to_string(classes);
        std::printf("| %s | %s | %lld | %s | %lld | %.4f | %.0f | %s | %.1f |\n",
                    std::filesystem::path(dir).filename().c_str(), r.at("task").at("name").get<std::string>().c_str(),
                    static_cast<long long>(layers), widths.c_str(),
                    static_cast<long long>(r.at("steps_done").get<int64_t>()), r.at("test").at("accuracy").get<double>(),
                    r.at("train_images_per_s").get<double>(), r.value("sparse_input", true) ? "sparse" : "dense",
                    r.at("wall_time_s").get<double>());
        continue;
      }
      const auto& m = r.at("model");
      const auto& t = r.at("task");
      std::printf("| %s%s | %lld x %lld | %s | %lld | %lld | %lld | %.4g | %.3g | %.1f |\n",
                  m.at("cell").get<std::string>().c_str(), m.value("double_layer", false) ? " (double)" : "",
                  static_cast<long long>(m.at("layers").get<int64_t>()),
                  static_cast<long long>(m.at("hidden_size").get<int64_t>()), t.at("name").get<std::string>().c_str(),
                  static_cast<long long>(t.at("length").get<int64_t>()),
                  static_cast<long long>(t.value("no_end", int64_t{0})),
                  static_cast<long long>(r.at("steps_done").get<int64_t>()), r.at("test").at("mse").get<double>(),
                  r.at("test").at("chance_mse").get<double>(), r.at("wall_time_s").get<double>());
    } catch (const nlohmann::json::exception&) {
      throw Error("run report '" + report_path(dir) + "' is not a valid neurocell report");
    }
  }
  return 0;
}

}  // namespace

int run_cli(const std::vector<std::string>& args) {
  CLI::App app{"neurocell: neuro-inspired recurrent cells (bistable, spiking, memory units)", "neurocell"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "neurocell 0.1.0");

  RunConfig config;
  SpikingRunConfig spiking;  // --cell src / --task spiking-*: the SRC classifier's options
  bool detach = false, dense_input = false;
  std::string import_path, eval_task = "spiking-mnist";
  std::vector<std::string> cells = cell_kind_names(), tasks = task_names();
  cells.push_back("src");
  tasks.insert(tasks.end(), {"spiking-mnist", "spiking-fashion-mnist"});
  std::string out_dir, checkpoint, input_path, output_path;
  bool overwrite = false, quiet = false, no_skip = false;
  int64_t eval_test_size = 0, threads = 0;

  auto* train = app.add_subcommand("train", "Train a model on a task and write a run folder");
  train->add_option("--task", config.task.name,
                    "copy-first-input | copy-single-value | denoising | spiking-mnist | spiking-fashion-mnist")
      ->check(CLI::IsMember(tasks))->capture_default_str();
  train->add_option("--cell", config.model.cell, "brc | nbrc | gru | lstm | mgu | src (spiking tasks)")
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
  plot->add_option("kind", plot_kind, "raster: input and SRC spikes of one test image")
      ->check(CLI::IsMember({"raster"}))->required();
  plot->add_option("--checkpoint", checkpoint, "SRC run folder")->required();
  plot->add_option("--index", image_index, "Test image index")->capture_default_str();
  plot->add_option("--out", output_path, "Picture file (.png or .svg)")->required();

  // CLI11 would only say "a subcommand is required": name the unknown word instead.
  const std::vector<std::string> commands = {"train", "eval", "run", "report", "bench", "noise", "plot"};
  if (!args.empty() && !args[0].empty() && args[0][0] != '-' &&
      std::find(commands.begin(), commands.end(), args[0]) == commands.end()) {
    std::fprintf(stderr, "neurocell: error: unknown command '%s' (valid: train, eval, run, report, bench, noise, plot; "
                 "see --help)\n", args[0].c_str());
    return 2;
  }
  BenchOptions bench_options;
  std::string bench_json, bench_shapes;
  auto* bench = app.add_subcommand("bench", "Time fused kernels vs reference vs torch::nn (forward+backward)");
  bench->add_option("--cells", bench_options.cells, "Cells to time (src: its own table, spike input)")
      ->check(CLI::IsMember(cells))->delimiter(',');
  bench->add_option("--shapes", bench_shapes, "Shapes NAME:B:T:I:H,... (default copy, smnist, wide)");
  bench->add_option("--reps", bench_options.repetitions, "Timed repetitions (median)")->capture_default_str();
  bench->add_option("--dtype", bench_options.dtype, "float32 | float64")->capture_default_str();
  bench->add_option("--json", bench_json, "Also write the results to this JSON file");
  bench->add_option("--threads", threads, "CPU threads (0 = every core)");

  std::vector<std::string> report_dirs;
  auto* report = app.add_subcommand("report", "Print a markdown table of finished run folders");
  report->add_option("runs", report_dirs, "Run folders written by `neurocell train`")->required();

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
      return command_eval(checkpoint, eval_test_size, threads);
    }
    if (*run) return command_run(checkpoint, input_path, output_path, threads);
    if (*report) return command_report(report_dirs);
    if (*noise) {
      configure_threads(threads);
      return command_noise(checkpoint, sigmas, repeats, eval_test_size);
    }
    if (*plot) return command_plot_raster(checkpoint, image_index, output_path);
    if (*bench) {
      const int64_t used = configure_threads(threads);
      if (!bench_shapes.empty()) bench_options.shapes = parse_bench_shapes(bench_shapes);
      auto json = run_benchmark(bench_options);
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
