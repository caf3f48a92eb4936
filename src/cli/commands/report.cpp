// `neurocell report`: markdown tables of finished run folders, from their report.json.
#include "cli/commands/commands.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "io/files.h"
#include "train/checkpoint.h"

namespace neurocell::cli {

namespace {

struct ReportCommand {
  std::vector<std::string> dirs;
  bool summary = false;
};

// tasks.md: a long-memory task counts as solved below this test MSE.
constexpr double kSolvedMse = 0.01;

std::string format(const char* pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

// "gru (double, warmup 100)": the cell and what changes how it was prepared.
std::string cell_label(const nlohmann::json& r) {
  const auto& m = r.at("model");
  std::string label = m.at("cell").get<std::string>();
  std::vector<std::string> notes;
  if (m.value("double_layer", false)) notes.push_back("double");
  if (r.contains("warmup"))
    notes.push_back((m.value("double_layer", false) ? "partial warmup " : "warmup ") +
                    std::to_string(r.at("warmup").at("steps").get<int64_t>()));
  for (size_t i = 0; i < notes.size(); ++i) label += (i ? ", " : " (") + notes[i] + (i + 1 == notes.size() ? ")" : "");
  return label;
}

double vaa_at(const nlohmann::json& r, const char* stage) {
  return r.contains("vaa") && r.at("vaa").contains(stage) ? r.at("vaa").at(stage).at("vaa").get<double>() : NAN;
}

// "0.010 -> 1.000 -> 0.870": initial, after warmup (if any), after training.
std::string vaa_column(const nlohmann::json& r) {
  if (!r.contains("vaa")) return "-";
  std::string text = format("%.3f", vaa_at(r, "initial"));
  for (const char* stage : {"after_warmup", "final"})
    if (r.at("vaa").contains(stage)) text += " -> " + format("%.3f", vaa_at(r, stage));
  return text;
}

void print_spiking_row(const std::string& dir, const nlohmann::json& r) {
  const auto& m = r.at("model");
  std::string widths = std::to_string(m.at("input_size").get<int64_t>());
  const int64_t layers = m.at("layers").get<int64_t>(), classes = m.at("classes").get<int64_t>();
  for (int64_t l = 0; l < layers; ++l)
    widths += "-" + std::to_string(l + 1 == layers ? classes * m.at("readout_factor").get<int64_t>()
                                                   : m.at("hidden_size").get<int64_t>());
  widths += "-" + std::to_string(classes);
  std::printf("| %s | %s | %s | %lld | %s | %lld | %.4f | %.0f | %s | %.1f |\n",
              std::filesystem::path(dir).filename().c_str(), r.at("task").at("name").get<std::string>().c_str(),
              r.value("cell", std::string("src")).c_str(), static_cast<long long>(layers), widths.c_str(), static_cast<long long>(r.at("steps_done").get<int64_t>()),
              r.at("test").at("accuracy").get<double>(), r.at("train_images_per_s").get<double>(),
              r.value("sparse_input", true) ? "sparse" : "dense", r.at("wall_time_s").get<double>());
}

// The columns that identify a configuration (everything but the seed).
struct Configuration {
  std::string cell, sizes, task;
  int64_t length, no_end, steps;
  auto key() const { return std::tie(cell, sizes, task, length, no_end, steps); }
  bool operator<(const Configuration& o) const { return key() < o.key(); }
};

Configuration configuration_of(const nlohmann::json& r) {
  const auto& m = r.at("model");
  const auto& t = r.at("task");
  return {cell_label(r),
          std::to_string(m.at("layers").get<int64_t>()) + " x " + std::to_string(m.at("hidden_size").get<int64_t>()),
          t.at("name").get<std::string>(),
          t.at("length").get<int64_t>(),
          t.value("no_end", int64_t{0}),
          r.value("steps_planned", r.at("steps_done").get<int64_t>())};
}

// One row per run (regression runs: test MSE, chance, VAA when measured; SRC runs: accuracy,
// throughput). With summary, regression runs that differ only by their seed share one row:
// mean, min and max of the test MSE over seeds, how many are solved (MSE < 0.01), mean VAA.
void print_run_tables(const std::vector<std::string>& dirs, const std::vector<nlohmann::json>& reports, bool summary);

std::string dir_name(const std::string& dir) {
  const auto name = std::filesystem::path(dir).lexically_normal().filename().string();
  return name.empty() ? dir : name;
}

// One row per run of the other kinds (sequence classification, T-maze, your own data, saved
// from Python): cell, sizes, task, steps, the test numbers as report.json names them.
void print_other_rows(const std::vector<std::string>& dirs, const std::vector<nlohmann::json>& reports) {
  std::printf("| run | kind | cell | layers x H | task | steps | test | wall time (s) |\n|---|---|---|---|---|---|---|---|\n");
  for (size_t k = 0; k < dirs.size(); ++k) {
    const auto& r = reports[k];
    std::string sizes = "-", cell = r.value("cell", std::string("-")), task = "-", test = "-";
    if (r.contains("model") && r.at("model").is_object()) {
      const auto& m = r.at("model");
      cell = m.value("cell", cell);
      if (m.contains("layers") && m.contains("hidden_size"))
        sizes = std::to_string(m.at("layers").get<int64_t>()) + " x " + std::to_string(m.at("hidden_size").get<int64_t>());
    }
    if (r.contains("task") && r.at("task").is_object()) task = r.at("task").value("name", task);
    if (r.value("kind", std::string()) == "dataset") task = "data (" + r.value("problem", std::string("?")) + ")";
    if (r.contains("test") && r.at("test").is_object()) {
      test.clear();
      for (const auto& [key, value] : r.at("test").items())
        if (value.is_number()) test += (test.empty() ? "" : ", ") + key + " " + format("%.4g", value.get<double>());
    }
    if (r.value("saved", false)) test = "saved from Python (not evaluated)";
    const std::string steps = r.contains("steps_done") ? std::to_string(r.at("steps_done").get<int64_t>()) : "-";
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", dir_name(dirs[k]).c_str(),
                r.value("kind", std::string("?")).c_str(), cell.c_str(), sizes.c_str(), task.c_str(), steps.c_str(),
                test.c_str(), r.contains("wall_time_s") ? format("%.1f", r.at("wall_time_s").get<double>()).c_str() : "-");
  }
}

void command_report(const std::vector<std::string>& all_dirs, bool summary) {
  // Unfinished runs (no report.json yet) are skipped with a warning; the regression and SRC
  // runs get their tables, every other kind one generic table after them.
  std::vector<std::string> dirs, other_dirs;
  std::vector<nlohmann::json> reports, other_reports;
  for (const auto& dir : all_dirs) {
    if (!file_exists(report_path(dir))) {
      std::fprintf(stderr, "report: skipping '%s': no report.json (an unfinished or interrupted run?)\n", dir.c_str());
      continue;
    }
    nlohmann::json r;
    try {
      r = nlohmann::json::parse(read_file(report_path(dir), "run report"));
    } catch (const nlohmann::json::exception&) {
      throw Error("run report '" + report_path(dir) + "' is not valid JSON");
    }
    const std::string kind = r.is_object() ? r.value("kind", std::string()) : std::string();
    const bool table_kind = (kind.empty() || kind == "regression" || kind == "spiking") && !r.value("saved", false);
    (table_kind ? dirs : other_dirs).push_back(dir);
    (table_kind ? reports : other_reports).push_back(r);
  }
  require(!dirs.empty() || !other_dirs.empty(), "report: none of the folders holds a finished run (report.json)");
  if (!other_dirs.empty()) require(!summary || !dirs.empty(), "report --summary is for regression runs");
  if (!dirs.empty()) print_run_tables(dirs, reports, summary);
  if (!other_dirs.empty()) {
    if (!dirs.empty()) std::printf("\n");
    print_other_rows(other_dirs, other_reports);
  }
}

void print_run_tables(const std::vector<std::string>& dirs, const std::vector<nlohmann::json>& reports, bool summary) {
  // Spiking runs (SRC, LIF): named by "kind", or by their cell in reports written before it.
  auto is_spiking = [](const nlohmann::json& r) {
    const auto cell = r.value("cell", std::string());
    return cell == "src" || cell == "lif" || r.value("kind", std::string()) == "spiking";
  };
  const bool spiking = !reports.empty() && is_spiking(reports.front());
  bool any_vaa = false, any_bistable = false;
  for (const auto& r : reports) any_vaa |= r.contains("vaa"), any_bistable |= r.contains("bistable_fraction");
  require(!(spiking && summary), "report --summary is for regression runs (spiking runs: one row per run)");

  if (spiking) {
    std::printf("| run | task | cell | layers | widths | steps | test accuracy | train images/s | input projection | wall time (s) |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  } else if (summary) {
    std::printf("| cell | layers x H | task | T | N | steps | seeds | test MSE mean | min | max | solved (< %g) |%s "
                "mean wall time (s) |\n|---|---|---|---|---|---|---|---|---|---|---|%s---|\n",
                kSolvedMse, any_vaa ? " mean VAA (initial -> trained) |" : "", any_vaa ? "---|" : "");
  } else {
    std::printf("| cell | layers x H | task | T | N | steps | test MSE | chance |%s%s wall time (s) |\n",
                any_vaa ? " VAA (initial -> after warmup -> trained) |" : "",
                any_bistable ? " bistable units (a > 1) |" : "");
    std::printf("|---|---|---|---|---|---|---|---|%s%s---|\n", any_vaa ? "---|" : "", any_bistable ? "---|" : "");
  }

  struct Group {
    std::vector<double> mse, vaa_initial, vaa_final, wall;
  };
  std::map<Configuration, Group> groups;
  std::vector<Configuration> order;
  for (size_t k = 0; k < dirs.size(); ++k) {
    const auto& dir = dirs[k];
    const auto& r = reports[k];
    try {
      require(spiking == is_spiking(r),
              "report: '" + dir + "' mixes spiking and regression runs in one table; make two tables");
      if (spiking) {
        print_spiking_row(dir, r);
        continue;
      }
      const auto c = configuration_of(r);
      const double mse = r.at("test").at("mse").get<double>();
      if (summary) {
        if (!groups.count(c)) order.push_back(c);
        auto& g = groups[c];
        g.mse.push_back(mse);
        g.vaa_initial.push_back(vaa_at(r, "initial"));
        g.vaa_final.push_back(vaa_at(r, "final"));
        g.wall.push_back(r.at("wall_time_s").get<double>());
        continue;
      }
      std::string bistable;
      if (any_bistable)
        bistable = r.contains("bistable_fraction")
                       ? " " + format("%.3f", r.at("bistable_fraction").at("value").get<double>()) + " |"
                       : " - |";
      std::printf("| %s | %s | %s | %lld | %lld | %lld | %.4g | %.3g |%s%s %.1f |\n", c.cell.c_str(), c.sizes.c_str(),
                  c.task.c_str(), static_cast<long long>(c.length), static_cast<long long>(c.no_end),
                  static_cast<long long>(r.at("steps_done").get<int64_t>()), mse,
                  r.at("test").at("chance_mse").get<double>(),
                  any_vaa ? (" " + vaa_column(r) + " |").c_str() : "", bistable.c_str(),
                  r.at("wall_time_s").get<double>());
    } catch (const nlohmann::json::exception&) {
      throw Error("run report '" + report_path(dir) + "' is not a valid neurocell report");
    }
  }
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  for (const auto& c : order) {
    const auto& g = groups[c];
    const auto solved = std::count_if(g.mse.begin(), g.mse.end(), [](double m) { return m < kSolvedMse; });
    std::string vaa;
    if (any_vaa) vaa = " " + format("%.3f", mean(g.vaa_initial)) + " -> " + format("%.3f", mean(g.vaa_final)) + " |";
    std::printf("| %s | %s | %s | %lld | %lld | %lld | %zu | %.4g | %.4g | %.4g | %lld/%zu |%s %.1f |\n",
                c.cell.c_str(), c.sizes.c_str(), c.task.c_str(), static_cast<long long>(c.length),
                static_cast<long long>(c.no_end), static_cast<long long>(c.steps), g.mse.size(), mean(g.mse),
                *std::min_element(g.mse.begin(), g.mse.end()), *std::max_element(g.mse.begin(), g.mse.end()),
                static_cast<long long>(solved), g.mse.size(), vaa.c_str(), mean(g.wall));
  }
}

}  // namespace

void register_report(CLI::App& app) {
  auto options = std::make_shared<ReportCommand>();
  auto& o = *options;
  auto* report = app.add_subcommand("report", "Print a markdown table of finished run folders");
  report->add_option("runs", o.dirs, "Run folders written by `neurocell train`")->required();
  report->add_flag("--summary", o.summary,
                   "One row per configuration (runs differing only by seed): mean, min and max over seeds");
  report->callback([options] { command_report(options->dirs, options->summary); });
}

}  // namespace neurocell::cli
