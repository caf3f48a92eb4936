#pragma once
// `neurocell reproduce NAME`: a named suite of experiments (configs/suites/NAME.json: tasks x
// variants x seeds with their budgets, and what the paper claims) run as child `neurocell`
// processes, `--jobs` at a time, each writing its own run folder under --out. Finished runs
// (a report.json) are skipped, so an interrupted suite resumes where it stopped; a run
// folder without a report is redone. Afterwards the results table (results.md and
// results.json: per experiment and variant, the test metric's mean, min and max over seeds,
// wall time) and pictures (learning curves and bar charts per experiment) are written to
// --out. A finished run whose entry in the suite changed since (budget, flags) is run again.
// `--quick` uses each experiment's smaller "quick" budget; `--only I` runs one run
// (a cluster array task), `--slurm FILE` writes a SLURM array script for the suite,
// `--list` shows the runs and their state, `--table-only` remakes the table.
#include <cstdint>
#include <string>

namespace neurocell {

struct ReproduceOptions {
  std::string suite;        // a name (configs/suites/NAME.json, found from the working or program folder)
  std::string suite_file;   // or an explicit file
  bool quick = false;
  std::string out;          // default runs/reproduce/NAME[-quick]
  int64_t jobs = 1;
  int64_t threads_per_job = 1;
  int64_t only = -1;
  bool list = false, table_only = false;
  std::string slurm;
};

int command_reproduce(const ReproduceOptions& options);

}  // namespace neurocell
