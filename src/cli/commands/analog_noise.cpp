// `neurocell analog-noise`: trained sequence models (BMRU, CMRU, GRU, LRU...) evaluated as
// simulated analog hardware (analysis/analog_noise.h) on their memory task: accuracy versus
// drive noise, state noise, device mismatch and weight bits, with operation counts per
// inference; writes results.json, results.md and accuracy-vs-noise.png to --out.
#include "cli/commands/commands.h"

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "analysis/analog_noise.h"
#include "core/error.h"
#include "io/files.h"
#include "io/ncm_export.h"
#include "plot/gnuplot.h"
#include "runs/run_folder.h"
#include "train/trainer.h"

namespace neurocell::cli {

namespace {

struct AnalogStudyOptions {
  std::vector<std::string> runs;  // run folders of one task (same name and length)
  std::vector<double> drive = {0, 0.1, 0.2, 0.3, 0.5, 1.0};
  std::vector<double> state = {0, 0.05, 0.1, 0.2, 0.3, 0.4};
  std::vector<double> mismatch = {0, 0.05, 0.1, 0.2, 0.4, 0.8};
  std::vector<int64_t> bits = {8, 6, 5, 4, 3, 2};
  int64_t chips = 5;          // noise draws / mismatch chips per level
  int64_t test_size = 500;
  double tolerance = 0.2;     // a sequence is recalled when every target is within this
  uint64_t seed = 1;
  std::string out;
  bool overwrite = false;
};

struct AnalogNoiseCommand {
  AnalogStudyOptions options;
  int64_t threads = 0;
};

struct Sweep {
  std::string name, label;  // results key, axis label
  std::vector<double> levels;
};

struct Cell {
  std::string run, name;
  ncrt::Model model;
  int64_t parameters = 0;
};

// mean and spread over chips of one (cell, sweep, level)
struct Point {
  double accuracy = 0, accuracy_std = 0, mse = 0;
};

std::string run_label(const std::string& run) {
  return std::filesystem::path(run).lexically_normal().filename().string();
}

void command_analog_noise(const AnalogStudyOptions& o) {
  require(!o.runs.empty(), "analog-noise needs --runs DIR[,DIR...] (trained sequence models of one task)");
  require(!o.out.empty(), "analog-noise needs --out DIR");
  require(o.chips >= 1 && o.test_size >= 1, "--chips and --test-size must be >= 1");
  require(o.tolerance > 0, "--tolerance must be > 0");
  for (double s : o.drive) require(s >= 0, "--drive levels must be >= 0");
  for (double s : o.state) require(s >= 0, "--state levels must be >= 0");
  for (double s : o.mismatch) require(s >= 0, "--mismatch levels must be >= 0");
  for (auto b : o.bits) require(b >= 2 && b <= 16, "--bits must be in 2..16");
  const std::string results_path = o.out + "/results.json";
  require(o.overwrite || !file_exists(results_path), "'" + results_path + "' exists: pass --overwrite to replace it");

  // The models, compiled for the runtime, and their common task's test set.
  std::vector<Cell> cells;
  RunConfig first_config;
  for (const auto& dir : o.runs) {
    auto run = load_run(dir);
    if (cells.empty()) first_config = run.config;
    require(run.config.task.name == first_config.task.name && run.config.task.length == first_config.task.length &&
                run.config.task.no_end == first_config.task.no_end,
            "'" + dir + "' was trained on " + describe_run(run.config) + ", '" + o.runs[0] + "' on " +
                describe_run(first_config) + ": compare runs of one task");
    Cell cell{dir, run.config.model.cell, ncrt::Model::parse(ncm_bytes(run.model), dir)};
    for (const auto& p : run.model->parameters()) cell.parameters += p.numel();
    cells.push_back(std::move(cell));
  }
  const auto task = make_task(first_config.task);
  analysis::RecallRule rule;
  rule.tolerance = o.tolerance;
  rule.same_sign = first_config.task.name == "copy-single-bit";
  char tolerance_text[64];
  std::snprintf(tolerance_text, sizeof tolerance_text, "output within +-%g of the value", o.tolerance);
  const std::string recall_text = rule.same_sign ? "output of the stored bit's sign" : tolerance_text;
  const auto set = analysis::sequence_set(make_fixed_set(
      *task, o.test_size, evaluation_batch_size(first_config.train.batch_size, first_config.task.length),
      first_config.train.seed, 2));

  const std::vector<Sweep> sweeps = {{"drive", "drive noise sigma", o.drive},
                                     {"state", "state noise sigma", o.state},
                                     {"mismatch", "mismatch sigma (relative)", o.mismatch},
                                     {"bits", "weight bits", std::vector<double>(o.bits.begin(), o.bits.end())}};
  // One job per (cell, sweep, level, chip); weight quantisation is deterministic (one chip).
  struct Job {
    size_t cell, sweep, level;
    int64_t chip;
    analysis::NoisyEvaluation result;
  };
  std::vector<Job> jobs;
  for (size_t c = 0; c < cells.size(); ++c)
    for (size_t s = 0; s < sweeps.size(); ++s)
      for (size_t l = 0; l < sweeps[s].levels.size(); ++l)
        for (int64_t chip = 0; chip < (sweeps[s].name == "bits" ? 1 : o.chips); ++chip) jobs.push_back({c, s, l, chip, {}});
  const auto start = std::chrono::steady_clock::now();
  at::parallel_for(0, static_cast<int64_t>(jobs.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      auto& job = jobs[j];
      const auto& cell = cells[job.cell];
      const std::string& kind = sweeps[job.sweep].name;
      const double level = sweeps[job.sweep].levels[job.level];
      const uint64_t seed = o.seed * 1000003u + static_cast<uint64_t>(job.chip) * 7919u + job.level * 104729u + job.sweep;
      if (kind == "drive") job.result = analysis::evaluate_with_noise(cell.model, set, level, 0, seed, rule);
      else if (kind == "state") job.result = analysis::evaluate_with_noise(cell.model, set, 0, level, seed, rule);
      else if (kind == "mismatch")
        job.result = analysis::evaluate_with_noise(analysis::with_mismatch(cell.model, level, seed), set, 0, 0, 0, rule);
      else
        job.result = analysis::evaluate_with_noise(analysis::with_quantized_weights(cell.model, static_cast<int>(level)),
                                                   set, 0, 0, 0, rule);
    }
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Aggregate over chips.
  std::vector<std::vector<std::vector<Point>>> points(
      cells.size(), std::vector<std::vector<Point>>(sweeps.size()));
  for (size_t c = 0; c < cells.size(); ++c)
    for (size_t s = 0; s < sweeps.size(); ++s) points[c][s].resize(sweeps[s].levels.size());
  for (const auto& job : jobs) {
    auto& p = points[job.cell][job.sweep][job.level];
    const double n = job.chip + 1.0;  // running mean and variance (Welford)
    const double delta = job.result.accuracy - p.accuracy;
    p.accuracy += delta / n;
    p.accuracy_std += delta * (job.result.accuracy - p.accuracy);
    p.mse += (job.result.mse - p.mse) / n;
  }
  for (size_t c = 0; c < cells.size(); ++c)
    for (size_t s = 0; s < sweeps.size(); ++s)
      for (auto& p : points[c][s]) {
        const int64_t n = sweeps[s].name == "bits" ? 1 : o.chips;
        p.accuracy_std = n > 1 ? std::sqrt(p.accuracy_std / static_cast<double>(n - 1)) : 0.0;
      }

  // Results; the operation counts per inference (one sequence) come from a noise-free run.
  nlohmann::json json;
  json["task"] = to_json(first_config.task);
  json["test_sequences"] = set.sequences;
  json["recall"] = rule.same_sign ? "same sign" : "within tolerance";
  if (!rule.same_sign) json["tolerance"] = o.tolerance;
  json["chips"] = o.chips;
  json["seed"] = o.seed;
  json["seconds"] = seconds;
  std::ostringstream md;
  md << "Task " << first_config.task.name << " T=" << first_config.task.length << ", " << set.sequences
     << " test sequences; accuracy = fraction recalled (" << recall_text << "); mean (std) over " << o.chips
     << " noise draws / mismatch chips per level\n\n";
  md << "| cell | run | parameters | MACs / inference | state updates / inference |\n|---|---|---|---|---|\n";
  for (size_t c = 0; c < cells.size(); ++c) {
    ncrt::OpCounts counts;
    for (const auto& job : jobs)
      if (job.cell == c && sweeps[job.sweep].name == "bits") {
        counts = job.result.counts;
        break;
      }
    const double n = static_cast<double>(set.sequences);
    nlohmann::json entry = {{"run", cells[c].run}, {"cell", cells[c].name}, {"parameters", cells[c].parameters},
                            {"per_inference", {{"steps", counts.steps / n}, {"macs", counts.macs / n},
                                               {"state_updates", counts.state_updates / n}, {"spikes", counts.spikes / n}}}};
    for (size_t s = 0; s < sweeps.size(); ++s) {
      nlohmann::json rows = nlohmann::json::array();
      for (size_t l = 0; l < sweeps[s].levels.size(); ++l) {
        const auto& p = points[c][s][l];
        rows.push_back({{"level", sweeps[s].levels[l]}, {"accuracy", p.accuracy}, {"accuracy_std", p.accuracy_std}, {"mse", p.mse}});
      }
      entry["sweeps"][sweeps[s].name] = rows;
    }
    json["models"].push_back(entry);
    char line[256];
    std::snprintf(line, sizeof line, "| %s | %s | %lld | %.0f | %.0f |\n", cells[c].name.c_str(), run_label(cells[c].run).c_str(),
                  static_cast<long long>(cells[c].parameters), counts.macs / n, counts.state_updates / n);
    md << line;
  }
  for (size_t s = 0; s < sweeps.size(); ++s) {
    md << "\n" << sweeps[s].label << " | ";
    for (const auto& cell : cells) md << cell.name << " | ";
    md << "\n|---|";
    for (size_t c = 0; c < cells.size(); ++c) md << "---|";
    md << "\n";
    for (size_t l = 0; l < sweeps[s].levels.size(); ++l) {
      char head[64];
      std::snprintf(head, sizeof head, "| %g |", sweeps[s].levels[l]);
      md << head;
      for (size_t c = 0; c < cells.size(); ++c) {
        const auto& p = points[c][s][l];
        char cellText[96];
        if (sweeps[s].name == "bits") std::snprintf(cellText, sizeof cellText, " %.3f (MSE %.3g) |", p.accuracy, p.mse);
        else std::snprintf(cellText, sizeof cellText, " %.3f (%.3f) |", p.accuracy, p.accuracy_std);
        md << cellText;
      }
      md << "\n";
    }
  }
  char footer[96];
  std::snprintf(footer, sizeof footer, "\n%zu evaluations, %.1f s\n", jobs.size(), seconds);
  md << footer;

  ensure_directory(o.out);
  write_file_atomic(o.out + "/results.md", md.str());
  write_json_atomic(results_path, json);

  // The picture: one panel per sweep, accuracy (mean, error bars: std over chips) per cell.
  GnuplotFigure figure(o.out + "/accuracy-vs-noise.png", 1100, 800);
  std::ostringstream body;
  body << "set multiplot layout 2,2 title 'Recall accuracy on " << first_config.task.name << " T="
       << first_config.task.length << " under simulated analog non-idealities'\n"
       << "set grid\nset yrange [-0.02:1.02]\nset ylabel 'accuracy'\nset key bottom left\n";
  for (size_t s = 0; s < sweeps.size(); ++s) {
    body << "set xlabel '" << sweeps[s].label << "'\n";
    if (sweeps[s].name == "bits") body << "set xrange [*:*] reverse\n";
    else body << "set xrange [*:*] noreverse\n";
    body << "plot ";
    for (size_t c = 0; c < cells.size(); ++c) {
      std::ostringstream data;
      for (size_t l = 0; l < sweeps[s].levels.size(); ++l)
        data << sweeps[s].levels[l] << " " << points[c][s][l].accuracy << " " << points[c][s][l].accuracy_std << "\n";
      const auto file = figure.data(sweeps[s].name + "-" + std::to_string(c) + ".dat", data.str());
      body << (c ? ", " : "") << "'" << file << "' using 1:2:3 with yerrorlines lw 2 pt 7 title '" << cells[c].name << "'";
    }
    if (rule.same_sign) body << ", 0.5 with lines dt 2 lc rgb 'gray40' title 'chance'";
    body << "\n";
  }
  body << "unset multiplot\n";
  figure.render(body.str());

  std::fputs(md.str().c_str(), stdout);
  std::printf("wrote %s/results.md, %s, %s/accuracy-vs-noise.png\n", o.out.c_str(), results_path.c_str(), o.out.c_str());
}

}  // namespace

void register_analog_noise(CLI::App& app) {
  auto command = std::make_shared<AnalogNoiseCommand>();
  auto& o = *command;
  auto* analog_noise = app.add_subcommand(
      "analog-noise", "Sequence models as simulated analog hardware: accuracy vs drive/state noise, mismatch, weight bits");
  analog_noise->add_option("--runs", o.options.runs, "Run folders of one task, comma-separated")->required()->delimiter(',');
  analog_noise->add_option("--drive", o.options.drive, "Drive noise levels (sigma)")->delimiter(',')->capture_default_str();
  analog_noise->add_option("--state", o.options.state, "State noise levels (sigma)")->delimiter(',')->capture_default_str();
  analog_noise->add_option("--mismatch", o.options.mismatch, "Relative device mismatch levels (sigma)")
      ->delimiter(',')->capture_default_str();
  analog_noise->add_option("--bits", o.options.bits, "Weight bit widths (sign included)")->delimiter(',')->capture_default_str();
  analog_noise->add_option("--chips", o.options.chips, "Noise draws / mismatch chips per level")->capture_default_str();
  analog_noise->add_option("--test-size", o.options.test_size, "Test sequences")->capture_default_str();
  analog_noise->add_option("--tolerance", o.options.tolerance, "Recalled: every target within this (copy-single-bit: the sign decides)")->capture_default_str();
  analog_noise->add_option("--seed", o.options.seed, "Seed of the noise and chips")->capture_default_str();
  analog_noise->add_option("--out", o.options.out, "Folder for results.json, results.md, accuracy-vs-noise.png")->required();
  analog_noise->add_flag("--overwrite", o.options.overwrite, "Replace earlier results in --out");
  add_threads_option(analog_noise, o.threads);
  analog_noise->callback([command] {
    configure_threads(command->threads);
    command_analog_noise(command->options);
  });
}

}  // namespace neurocell::cli
