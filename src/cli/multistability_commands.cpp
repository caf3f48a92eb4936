#include "cli/multistability_commands.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "core/error.h"
#include "io/files.h"
#include "plot/gnuplot.h"
#include "train/checkpoint.h"
#include "train/multistability.h"

namespace neurocell {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// "LO:HI" or "LO:HI:N" -> (lo, hi, n); n defaults to 401.
std::tuple<double, double, int64_t> parse_range(const std::string& text) {
  double lo = 0, hi = 0;
  long long n = 401;
  char tail = 0;
  const int fields = std::sscanf(text.c_str(), "%lf:%lf:%lld%c", &lo, &hi, &n, &tail);
  require((fields == 2 || fields == 3) && std::isfinite(lo) && std::isfinite(hi) && lo <= hi && n >= 1 &&
              n <= 1000000,
          "--u-range must be LO:HI or LO:HI:N with LO <= HI and 1 <= N <= 1e6 (got '" + text + "')");
  return {lo, hi, n};
}

bool same_folder(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec);
}

}  // namespace

int command_vaa(const std::string& dir, const TaskConfig* task_override, const analysis::VaaOptions& options) {
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
              seconds_since(start), describe_run(described).c_str());
  return 0;
}

int command_warmup(const std::string& dir, const std::string& out_dir, bool overwrite,
                   const analysis::WarmupOptions& warmup, const analysis::VaaOptions& vaa_options, bool progress) {
  warmup.validate();
  vaa_options.validate();
  require(warmup.steps >= 1, "--steps must be >= 1");
  require(!out_dir.empty(), "--out DIR is required: the new run folder (the original is never modified)");
  auto run = load_run(dir);
  require(!same_folder(dir, out_dir), "--out must be another folder than --checkpoint: warmup writes a new run");
  require(overwrite || !file_exists(config_path(out_dir)),
          "'" + out_dir + "' already holds a run (config.json): choose another --out, or add --overwrite");
  const auto task = make_task(run.config.task);
  const auto start = std::chrono::steady_clock::now();
  ensure_directory(out_dir);
  std::ofstream metrics(metrics_path(out_dir), std::ios::trunc);
  require(metrics.good(), "cannot write '" + metrics_path(out_dir) + "'");

  run.model->train();
  const auto before = measure_and_log_vaa(run.model, *task, vaa_options, "initial", 0, &metrics);
  const auto summary = run_warmup(run.model, *task, warmup, &metrics, progress);
  const auto after = measure_and_log_vaa(run.model, *task, vaa_options, "after_warmup", 0, &metrics);
  metrics.close();
  const auto test = make_fixed_set(*task, run.config.train.test_size,
                                   evaluation_batch_size(run.config.train.batch_size, run.config.task.length),
                                   run.config.train.seed, 2);
  const double mse = evaluate_mse(run.model, test, task->readout_steps), chance = chance_mse(test);

  RunConfig config = run.config;
  config.init = dir;
  config.multistability.warmup = warmup;
  config.multistability.vaa = vaa_options;
  config.multistability.measure = true;
  save_run_config(out_dir, config);
  save_weights(weights_path(out_dir), run.model);
  const nlohmann::json report = {{"task", to_json(config.task)},
                                 {"cell", config.model.cell},
                                 {"model", to_json(config.model)},
                                 {"warmed_from", dir},
                                 {"steps_done", 0},
                                 {"warmup", summary},
                                 {"vaa", {{"initial", before}, {"after_warmup", after}}},
                                 {"test", {{"mse", mse}, {"chance_mse", chance}, {"samples", config.train.test_size}}},
                                 {"wall_time_s", seconds_since(start)},
                                 {"seed", config.train.seed}};
  write_json_atomic(report_path(out_dir), report);
  std::printf("result: test MSE %.6g (chance %.4g) after warmup | %s | VAA %.3f -> %.3f, %.1f s, run in %s\n", mse,
              chance, describe_run(config).c_str(), before["vaa"].get<double>(), after["vaa"].get<double>(),
              seconds_since(start), out_dir.c_str());
  return 0;
}

int command_attractors_network(const std::string& dir, const std::vector<double>& input,
                               const analysis::FixedPointOptions& options) {
  auto run = load_run(dir);
  const int64_t width = run.config.model.input_size;
  require(input.empty() || static_cast<int64_t>(input.size()) == width,
          "--input must have " + std::to_string(width) + " comma-separated values (the model's input width), got " +
              std::to_string(input.size()));
  auto u = torch::zeros({width}, torch::kFloat64);
  for (size_t k = 0; k < input.size(); ++k) {
    require(std::isfinite(input[k]), "--input values must be finite numbers");
    u[static_cast<int64_t>(k)] = input[k];
  }
  const auto start = std::chrono::steady_clock::now();
  const auto report = analysis::find_fixed_points(run.model, u, options);
  int64_t stable = 0;
  for (const auto& p : report.points) stable += p.stable;
  std::ostringstream shown;
  for (int64_t k = 0; k < width; ++k) shown << (k ? "," : "") << u[k].item<double>();
  std::printf("fixed points of %s under constant input [%s]: %zu found from %lld starts (%lld did not converge in "
              "%lld steps), %lld stable, %.1f s\n",
              describe_run(run.config).c_str(), shown.str().c_str(), report.points.size(),
              static_cast<long long>(options.starts), static_cast<long long>(report.unconverged),
              static_cast<long long>(options.max_steps), static_cast<long long>(stable), seconds_since(start));
  std::printf("| # | basin (starts) | spectral radius | stable | state: first values of layer 1 |\n|---|---|---|---|---|\n");
  for (size_t k = 0; k < report.points.size(); ++k) {
    const auto& p = report.points[k];
    std::string values;
    for (size_t i = 0; i < std::min<size_t>(4, p.state.size()); ++i) {
      char v[32];
      std::snprintf(v, sizeof v, "%s%.4f", i ? ", " : "", p.state[i]);
      values += v;
    }
    std::printf("| %zu | %lld | %.4f | %s | %s%s |\n", k + 1, static_cast<long long>(p.basin), p.spectral_radius,
                p.stable ? "yes" : "no", values.c_str(), p.state.size() > 4 ? ", ..." : "");
  }
  return 0;
}

int command_attractors_unit(const UnitDiagramOptions& o) {
  require(o.cell == "brc" || o.cell == "src", "--cell must be brc or src for a unit's bifurcation diagram");
  const auto [lo, hi, n] = parse_range(o.range);
  require(std::isfinite(o.a), "--a must be a finite number");
  const bool brc = o.cell == "brc";
  const auto points = brc ? analysis::brc_unit_fixed_points(o.a, lo, hi, n)
                          : analysis::src_unit_fixed_points(o.r, o.r_s, o.bias, o.z_hyp, o.z_dep, lo, hi, n);
  // Per input value: how many stable fixed points.
  std::map<double, int> stable_count;
  for (const auto& p : points) stable_count[p.u] += p.stable;
  for (int64_t i = 0; i < n; ++i) stable_count.emplace(n == 1 ? lo : lo + (hi - lo) * i / double(n - 1), 0);
  // BRC: bistable where two stable points coexist; SRC: spiking where none is stable.
  double first = NAN, last = NAN;
  for (const auto& [u, count] : stable_count)
    if (brc ? count >= 2 : count == 0) {
      if (std::isnan(first)) first = u;
      last = u;
    }
  const char* var = brc ? "u" : "x";
  if (brc) {
    const double half = analysis::brc_bistable_half_width(o.a);
    std::printf("BRC unit h = tanh(u + a h), a = %g: ", o.a);
    if (std::isnan(first))
      std::printf("monostable for every u in [%g, %g]", lo, hi);
    else
      std::printf("bistable for u in [%.4f, %.4f] on the grid", first, last);
    std::printf("; analytic bistable range: %s\n",
                half > 0 ? ("|u| < " + std::to_string(half)).c_str() : "none (a <= 1: monostable)");
  } else {
    std::printf("SRC unit (r %g, r_s %g, b %g, z_hyp %g, z_dep %g): ", o.r, o.r_s, o.bias, o.z_hyp, o.z_dep);
    if (std::isnan(first))
      std::printf("a stable resting equilibrium for every x in [%g, %g]\n", lo, hi);
    else
      std::printf("no stable equilibrium (spiking) for x in [%.4f, %.4f] on the grid\n", first, last);
  }
  if (o.out.empty()) return 0;

  GnuplotFigure figure(o.out, 800, 520);
  std::ostringstream stable, unstable;
  for (const auto& p : points) (p.stable ? stable : unstable) << p.u << " " << p.h << "\n";
  const auto stable_file = figure.data("stable.dat", stable.str());
  const auto unstable_file = figure.data("unstable.dat", unstable.str());
  std::ostringstream body;
  body << "set xlabel '" << var << (brc ? " (constant input)" : " (soft-saturated input current)") << "'\n"
       << "set ylabel 'fixed point h*'\nset yrange [-1.05:1.05]\nset grid\nset key bottom right\n";
  if (brc) {
    char title[160];
    std::snprintf(title, sizeof title, "BRC unit, h = tanh(u + a h) with a = %g: fixed points versus u", o.a);
    body << "set title '" << title << "'\n";
    const double half = analysis::brc_bistable_half_width(o.a);
    if (half > 0)
      body << "set arrow from " << -half << ",-1.05 to " << -half << ",1.05 nohead dt 3 lc rgb 'gray40'\n"
           << "set arrow from " << half << ",-1.05 to " << half << ",1.05 nohead dt 3 lc rgb 'gray40'\n";
  } else {
    body << "set title 'SRC unit: equilibrium h* = h_s* versus x (unstable: the neuron spikes)'\n";
  }
  body << "plot '" << stable_file << "' using 1:2 with points pt 7 ps 0.35 lc rgb 'black' title 'stable', '"
       << unstable_file << "' using 1:2 with points pt 6 ps 0.35 lc rgb 'red' title 'unstable'";
  figure.render(body.str());
  std::printf("wrote %s\n", o.out.c_str());
  return 0;
}

int command_plot_vaa(const std::string& dir, const std::string& out_path) {
  const auto text = read_file(metrics_path(dir), "metrics file");
  std::ostringstream warmup_data, vaa_data, validation_data;
  size_t layers = 0;
  int64_t line_number = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    ++line_number;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
      const std::string phase = j.value("phase", std::string("train"));
      if (phase == "warmup") {
        const auto stars = j.at("vaa_star").get<std::vector<double>>();
        layers = std::max(layers, stars.size());
        warmup_data << j.at("step").get<int64_t>();
        for (double v : stars) warmup_data << " " << v;
        warmup_data << "\n";
      } else if (phase == "vaa") {
        vaa_data << j.at("step").get<int64_t>() << " " << j.at("vaa").get<double>() << "\n";
      } else {
        const auto step = j.at("step").get<int64_t>();
        validation_data << step << " " << j.at("validation_mse").get<double>() << "\n";
        if (j.contains("vaa")) vaa_data << step << " " << j.at("vaa").get<double>() << "\n";
      }
    } catch (const nlohmann::json::exception&) {
      throw Error("metrics file '" + metrics_path(dir) + "' line " + std::to_string(line_number) +
                  " is not a neurocell metrics record");
    }
  }
  require(!vaa_data.str().empty() || layers > 0,
          "'" + metrics_path(dir) + "' holds no VAA measurement: train with --warmup K, --vaa or --vaa-every N");
  const bool has_warmup = layers > 0;
  GnuplotFigure figure(out_path, 900, has_warmup ? 700 : 380);
  std::ostringstream body;
  if (has_warmup) body << "set multiplot layout 2,1\n";
  body << "set grid\nset key outside right\n";
  if (has_warmup) {
    const auto file = figure.data("warmup.dat", warmup_data.str());
    body << "set title 'warmup: VAA* of each layer (target 0.95)'\nset xlabel 'warmup step'\nset ylabel 'VAA*'\n"
         << "set yrange [0:1.05]\nplot ";
    for (size_t l = 0; l < layers; ++l)
      body << (l ? ", " : "") << "'" << file << "' using 1:" << l + 2 << " with lines lw 2 title 'layer " << l + 1
           << "'";
    body << ", 0.95 with lines dt 2 lc rgb 'gray40' title 'target'\nset autoscale y\n";
  }
  const auto vaa_file = figure.data("vaa.dat", vaa_data.str());
  const auto validation_file = figure.data("validation.dat", validation_data.str());
  body << "set title 'VAA over training (step 0: before and after warmup)'\nset xlabel 'training step'\n"
       << "set ylabel 'VAA'\nset yrange [0:1.05]\nset y2label 'validation MSE'\nset logscale y2\nset y2tics\n"
       << "plot '" << vaa_file << "' using 1:2 with linespoints pt 7 lw 2 title 'VAA', '" << validation_file
       << "' using 1:2 axes x1y2 with lines lc rgb 'gray50' title 'validation MSE'\n";
  if (has_warmup) body << "unset multiplot\n";
  figure.render(body.str());
  std::printf("wrote %s\n", out_path.c_str());
  return 0;
}

}  // namespace neurocell
