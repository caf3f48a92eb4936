#pragma once
// The subcommands of `neurocell`, one file each (src/cli/commands/<verb>.cpp). Each
// register_<verb> adds its subcommand to the app with its own options and a callback that
// calls the library (mostly runs/runs.h) and prints what it returns. cli.cpp calls them all.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "analysis/vaa.h"
#include "core/error.h"
#include "runs/run_folder.h"

namespace neurocell::cli {

void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_run(CLI::App& app);
void register_export(CLI::App& app);
void register_integer_src(CLI::App& app);
void register_tmaze(CLI::App& app);
void register_meta_rl(CLI::App& app);
void register_reproduce(CLI::App& app);
void register_analog_noise(CLI::App& app);
void register_noise(CLI::App& app);
void register_plot(CLI::App& app);
void register_vaa(CLI::App& app);
void register_warmup(CLI::App& app);
void register_attractors(CLI::App& app);
// args: the whole command line (it must outlive the parse), echoed into --json's "command".
void register_bench(CLI::App& app, const std::vector<std::string>& args);
void register_report(CLI::App& app);

// --threads N of a subcommand that computes (configure_threads is called by its callback).
inline CLI::Option* add_threads_option(CLI::App* command, int64_t& threads) {
  return command->add_option("--threads", threads, "CPU threads (0 = every core)");
}

// The VAA measurement protocol's options, shared by train, vaa and warmup.
inline void add_vaa_options(CLI::App* command, analysis::VaaOptions& o) {
  command->add_option("--vaa-samples", o.samples, "VAA: input sequences per batch (n)")->capture_default_str();
  command->add_option("--vaa-settle", o.settle_steps, "VAA: steps of the constant input (S)")->capture_default_str();
  command->add_option("--vaa-batches", o.batches, "VAA: batches averaged")->capture_default_str();
  command->add_option("--vaa-seed", o.seed, "VAA: seed of the measurement's draws")->capture_default_str();
}

// Prints a run function's lines on stdout, its warnings on stderr.
inline void print(const RunResult& result) {
  for (const auto& warning : result.warnings) std::fprintf(stderr, "neurocell: warning: %s\n", warning.c_str());
  std::fputs(result.text.c_str(), stdout);
  std::fflush(stdout);
}

// A command that failed without an error message of its own (reproduce: some runs failed)
// exits with this code; CLI11 prints nothing for a RuntimeError.
inline void exit_with(int code) {
  if (code != 0) throw CLI::RuntimeError(code);
}

}  // namespace neurocell::cli
