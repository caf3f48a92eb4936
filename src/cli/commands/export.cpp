// `neurocell export`: a run folder's model as a .ncm file for the dependency-free runtime.
#include "cli/commands/commands.h"

#include "runs/runs.h"

namespace neurocell::cli {

namespace {

struct ExportCommand {
  std::string checkpoint, out_path;
  runs::ExportOptions options;
};

}  // namespace

void register_export(CLI::App& app) {
  auto options = std::make_shared<ExportCommand>();
  auto& o = *options;
  auto& integer = o.options.integer;
  auto* command = app.add_subcommand(
      "export", "Write a trained model as a .ncm file for the dependency-free runtime (runtime/)");
  command->add_option("--checkpoint", o.checkpoint, "Run folder written by `neurocell train`")->required();
  command->add_option("--out", o.out_path, ".ncm file to write")->required();
  command->add_flag("--overwrite", o.options.overwrite, "Replace an existing file");
  command->add_option("--integer-bits", integer.weight_bits,
                      "SRC: write the integer (FPGA) network with weights of this many magnitude bits");
  command->add_flag("--leaky", integer.leaky, "With --integer-bits: leaky accumulators");
  command->add_flag("--trained-bias", integer.trained_bias,
                    "With --integer-bits: per-neuron bias round(500 b) instead of -3000");
  command->callback([options] { print(runs::export_ncm(options->checkpoint, options->out_path, options->options)); });
}

}  // namespace neurocell::cli
