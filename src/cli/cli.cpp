#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>

#include "cli/commands/commands.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "kernels/cpu/kernels_cpu.h"
#include "nn/cell_registry.h"

namespace neurocell {

namespace {

int print_error(const std::string& message) {
  std::fprintf(stderr, "neurocell: error: %s\n", message.c_str());
  return 1;
}

// The command that continues an interrupted `train`: the same words, --overwrite dropped,
// --resume added; words with shell-special characters quoted.
std::string resume_command(const std::vector<std::string>& args) {
  std::string line = "neurocell";
  bool resume = false;
  for (const auto& word : args) {
    if (word == "--overwrite") continue;
    resume |= word == "--resume";
    const bool plain = !word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                               "0123456789-_./=:,+@%") == std::string::npos;
    if (plain) {
      line += " " + word;
      continue;
    }
    std::string quoted = "'";
    for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    line += " " + quoted + "'";
  }
  return resume ? line : line + " --resume";
}

}  // namespace

std::vector<std::string> cli_cell_choices() { return cell_kind_names(); }

int run_cli(const std::vector<std::string>& args) {
  CLI::App app{"neurocell: neuro-inspired recurrent cells (bistable, spiking, memory units)", "neurocell"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "neurocell 0.1.0");

  // The subcommands, in the order of --help; each owns its options and callback.
  cli::register_train(app);
  cli::register_eval(app);
  cli::register_run(app);
  cli::register_export(app);
  cli::register_integer_src(app);
  cli::register_tmaze(app);
  cli::register_meta_rl(app);
  cli::register_reproduce(app);
  cli::register_analog_noise(app);
  cli::register_noise(app);
  cli::register_plot(app);
  cli::register_vaa(app);
  cli::register_warmup(app);
  cli::register_attractors(app);
  cli::register_bench(app, args);
  cli::register_report(app);

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
    // A bad NEUROCELL_CPU_CAPABILITY is refused here, before any command writes a file, rather
    // than at the first kernel call, after a run folder has been started.
    kernels::cpu_copy();
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses a reversed vector
    app.parse(reversed);  // runs the chosen subcommand's callback
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Interrupted& e) {
    std::fprintf(stderr, "\nneurocell: %s\n", e.what());
    if (!args.empty() && (args[0] == "train" || args[0] == "tmaze" || args[0] == "meta-rl"))
      std::fprintf(stderr, "  resume: %s\n", resume_command(args).c_str());
    return 128 + e.signal();
  } catch (const Error& e) {
    return print_error(e.what());
  } catch (const c10::Error& e) {
    std::string message = e.what_without_backtrace();
    return print_error(message.substr(0, message.find('\n')));
  } catch (const std::exception& e) {
    return print_error(e.what());
  }
  return 0;
}

}  // namespace neurocell
