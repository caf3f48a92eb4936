#pragma once
// A suite of experiments (configs/suites/NAME.json): tasks x variants x seeds with their
// budgets and what the paper claims, and the runs it plans. `neurocell reproduce` spawns the
// runs; everything about the file itself lives here. No LibTorch (tests/fuzz builds it alone):
// the cells a suite may name are passed in (cell_kind_names() of nn/cell_registry.h).
//
// A suite is checked completely when it is read (so already by `reproduce --list`): ids and
// variant names are safe folder names (they become folders under --out), unique; seeds are
// non-empty whole numbers, unique; cells are registered; args are `--flag: value` with a string,
// number or bool value, and leave --out, --seed, --threads and --quiet to reproduce.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace neurocell::suites {

struct Variant {
  std::string name;
  nlohmann::json args;  // flag -> value (true: a bare flag)
};

struct Experiment {
  std::string id, title, command, metric;  // command: train | tmaze | meta-rl; metric: mse | accuracy | success | mean_return
  nlohmann::json args;
  std::vector<Variant> variants;
  std::vector<int64_t> seeds;
  // "seconds_per_run": {budget: s}, the wall time of one run of this experiment at that budget
  // measured (or extrapolated from a measured update time) on the project's machine; 0 = unknown.
  double seconds_per_run = 0;
  std::string seconds_note;  // how it was measured ("seconds_per_run_note")
};

struct Suite {
  std::string name, title, paper;
  std::vector<std::string> claims;
  std::vector<Experiment> experiments;
  // "cell_args": {cell: args}: flags every run of that cell gets, over its experiment's args and
  // under its variant's (e.g. the papers' GRU initialisation for every GRU of a suite).
  nlohmann::json cell_args = nlohmann::json::object();
};

struct Run {
  size_t experiment = 0, variant = 0;
  int64_t seed = 0;
  std::string dir, log;
  std::vector<std::string> argv;  // after the program name
};

// The budgets of a suite: "full" (each experiment's args), "quick" (its "quick" block: a smoke
// test in minutes) and "paper" (its "paper" block: the paper's own budget, for a cluster).
// Each block holds "args" merged over the experiment's, and optionally "title", "seeds",
// "only_variants".
const std::vector<std::string>& budget_names();

// The suite in `text` (`what` names it in errors, e.g. "suite file 'x.json'"), with each
// experiment's `budget` applied. Every budget block is checked whichever is chosen. An
// experiment without "quick" runs its full budget there; one without "paper" is refused under
// it, with its "paper_note" (why there is none) when it has one. Throws Error naming the
// experiment and key.
Suite parse_suite_text(const std::string& text, const std::string& what, const std::string& budget,
                       const std::vector<std::string>& known_cells);
Suite parse_suite(const std::string& path, const std::string& budget, const std::vector<std::string>& known_cells);

// True for a name that can be one folder: [A-Za-z0-9._-], 1 to 100 characters, not "." or "..".
bool is_safe_folder_name(const std::string& name);

// `base` with the flags of `over` set over it.
nlohmann::json merged(nlohmann::json base, const nlohmann::json& over);
// A flag's value as its command-line word.
std::string flag_value(const nlohmann::json& value);
// Every run of the suite: OUT/ID/VARIANT-sSEED, its log under OUT/logs, and its argv.
std::vector<Run> plan(const Suite& suite, const std::string& out, int64_t threads);

}  // namespace neurocell::suites
