// `neurocell eval`: a run folder of any kind on its test set, or a model of the SRC authors.
#include "cli/commands/commands.h"

#include "runs/runs.h"

namespace neurocell::cli {

namespace {

struct EvalCommand {
  std::string checkpoint, import_path, task = "spiking-mnist", out_dir;
  int64_t test_size = 0, threads = 0;  // test_size 0: the run's own (only when --test-size is not given)
  bool test_size_given = false;
};

void eval_callback(const EvalCommand& o) {
  // Checked here, where "not given" is known: 0 and -5 must not silently mean "the run's own".
  require(!o.test_size_given || (o.test_size >= 1 && o.test_size <= 10'000'000),
          "--test-size must be >= 1 and <= 10000000 (got " + std::to_string(o.test_size) +
              "); leave it out to use the run's own");
  if (!o.import_path.empty()) {
    configure_threads(o.threads);
    return print(runs::eval_import(o.import_path, o.task, o.test_size, o.out_dir));
  }
  require(!o.checkpoint.empty(), "eval needs --checkpoint DIR (a run folder) or --import PATH (an SRC authors' model)");
  configure_threads(o.threads);
  runs::EvalOptions options;
  options.test_size = o.test_size;
  print(runs::eval(o.checkpoint, options));
}

}  // namespace

void register_eval(CLI::App& app) {
  auto options = std::make_shared<EvalCommand>();
  auto& o = *options;
  auto* eval = app.add_subcommand("eval", "Re-evaluate a run folder on its test set, or a model of the SRC authors");
  auto* checkpoint = eval->add_option("--checkpoint", o.checkpoint, "Run folder written by `neurocell train`");
  auto* import = eval->add_option("--import", o.import_path,
                                  "Folder or .zip (config.json + arrays.npz) saved by the SRC authors' code");
  import->excludes(checkpoint);
  eval->add_option("--task", o.task, "With --import: spiking-mnist | spiking-fashion-mnist")
      ->check(CLI::IsMember({"spiking-mnist", "spiking-fashion-mnist"}))->capture_default_str();
  eval->add_option("--out", o.out_dir, "With --import: also save the model as a neurocell run folder");
  auto* test_size = eval->add_option("--test-size", o.test_size, "Test samples (default: the run's)");
  add_threads_option(eval, o.threads);
  eval->callback([options, test_size] {
    options->test_size_given = test_size->count() > 0;
    eval_callback(*options);
  });
}

}  // namespace neurocell::cli
