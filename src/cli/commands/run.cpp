// `neurocell run`: a trained model on a user's .npy array, every layer's states saved (or, with
// --predict, the readout at every step).
#include "cli/commands/commands.h"

#include <torch/torch.h>

#include "core/error.h"
#include "io/npy.h"
#include "runs/runs.h"

namespace neurocell::cli {

namespace {

struct RunCommand {
  std::string checkpoint, input_path, output_path;
  int64_t threads = 0;
  bool predict = false, gates = false;
};

void run_callback(const RunCommand& o) {
  require(!(o.predict && o.gates), "--predict and --gates each choose what is written: give one of them");
  configure_threads(o.threads);
  const auto x = read_npy(o.input_path);
  const auto states = o.predict ? runs::run_predictions(o.checkpoint, x, o.input_path)
                      : o.gates ? runs::run_gates(o.checkpoint, x, o.input_path)
                                : runs::run_states(o.checkpoint, x, o.input_path);
  write_npy(o.output_path, states);
  std::printf("wrote %s: %s (T=%lld, B=%lld, %s=%lld) %s\n", o.output_path.c_str(),
              o.predict ? "readout outputs" : o.gates ? "gate traces a, c" : "states",
              static_cast<long long>(states.size(0)), static_cast<long long>(states.size(1)),
              o.predict ? "O" : o.gates ? "G" : "S", static_cast<long long>(states.size(2)),
              c10::toString(states.scalar_type()));
}

}  // namespace

void register_run(CLI::App& app) {
  auto options = std::make_shared<RunCommand>();
  auto& o = *options;
  auto* run = app.add_subcommand("run", "Run a trained model on a user array and save every layer's states (or its outputs)");
  run->add_option("--checkpoint", o.checkpoint, "Run folder written by `neurocell train`")->required();
  run->add_option("--input", o.input_path, ".npy array X of shape (T, B, I), float32 or float64")->required();
  run->add_option("--output", o.output_path, ".npy file for the states (T, B, S) (docs/cli.md#run)")->required();
  run->add_flag("--predict", o.predict,
                "Write the readout at every step (T, B, O) instead: predictions, logits, or an SRC run's class "
                "scores so far");
  run->add_flag("--gates", o.gates,
                "BRC, nBRC: write the gate traces (T, B, G) instead, per layer a_t then c_t (G = sum of 2 H); a unit "
                "is bistable at a step where a_t > 1");
  add_threads_option(run, o.threads);
  run->callback([options] { run_callback(*options); });
}

}  // namespace neurocell::cli
