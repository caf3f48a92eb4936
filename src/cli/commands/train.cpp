// `neurocell train`: one set of flags for the four kinds of run it trains (regression,
// sequence classification, SRC, your own data with --data); the task (or --data) and the cell
// choose the kind and its config.
#include "cli/commands/commands.h"

#include "cli/cli.h"
#include "nn/cell_registry.h"
#include "core/interrupt.h"
#include "runs/runs.h"

namespace neurocell::cli {

namespace {

struct TrainCommand {
  RunConfig config;
  SpikingRunConfig spiking;                // --cell src | lif / --task spiking-*: the spiking classifier's options
  ImageSequenceTaskConfig sequence_task;  // --task smnist | psmnist | row-mnist | prow-mnist
  DatasetConfig data;                     // --data FILE.npz
  CLI::Option* task_option = nullptr;
  CLI::App* command = nullptr;
  bool detach = false, dense_input = false, no_skip = false, quiet = false, overwrite = false, resume = false;
  bool frozen_bias = false;
  std::string arithmetic = "float";  // SRC: float | integer (the FPGA design)
  int weight_bits = 8;
  std::string out_dir;
};

// The four kinds of run `train` makes, and the flags that only some of them honour: a flag
// given to a kind that would not use it is refused (never ignored). Flags not listed here
// (model size, optimiser, budget, seed, output) apply to every kind.
enum Kind : unsigned { regression = 1, sequence = 2, spiking = 4, dataset = 8 };
const char* kind_text(unsigned kind) {
  switch (kind) {
    case regression: return "the regression tasks (copy-*, denoising)";
    case sequence: return "the sequence MNIST tasks";
    case spiking: return "the spiking tasks (--cell src or lif)";
    default: return "--data";
  }
}
struct FlagScope {
  const char* flag;
  unsigned kinds;
};
constexpr unsigned kMultistable = regression | sequence;
const FlagScope kFlagScopes[] = {
    {"--data-layout", dataset},      {"--val-fraction", dataset},
    {"--dataset", sequence},         {"--black", sequence},
    {"--permutation-seed", sequence}, {"--permutation", sequence},
    {"--pixels", sequence},          {"--train-size", sequence},
    {"--readout-factor", spiking},   {"--rate-steps", spiking},
    {"--rate-prefix", spiking},      {"--rate-gain", spiking},
    {"--subsample", spiking},        {"--detach", spiking},
    {"--nmnist-dir", spiking},       {"--nmnist-steps", spiking},
    {"--nmnist-duration", spiking},
    {"--dense-input", spiking},      {"--frozen-bias", spiking},
    {"--arithmetic", spiking},       {"--weight-bits", spiking},
    {"--lif-beta", spiking},         {"--lif-slope", spiking},
    {"--length", regression},        {"--no-end", regression},
    {"--init", regression},          {"--double", regression | sequence | dataset},
    {"--orthogonal", regression | sequence | dataset}, {"--chrono", regression | sequence | dataset},
    {"--chrono-variant", regression | sequence | dataset}, {"--weights-init", regression | sequence | dataset},
    {"--val-size", regression | sequence | spiking},   {"--test-size", regression | sequence | spiking},
    {"--warmup", kMultistable},      {"--warmup-lr", kMultistable},
    {"--warmup-batch", kMultistable}, {"--warmup-target", kMultistable},
    {"--warmup-max-settle", kMultistable}, {"--partial-warmup", kMultistable}, {"--vaa", kMultistable},
    {"--vaa-every", regression},     {"--vaa-samples", kMultistable},
    {"--vaa-settle", kMultistable},  {"--vaa-batches", kMultistable},
    {"--vaa-seed", kMultistable},
};

void refuse_flags_the_kind_ignores(const TrainCommand& o, Kind kind) {
  for (const auto& scope : kFlagScopes) {
    if (scope.kinds & kind) continue;
    const CLI::Option* option = o.command->get_option_no_throw(scope.flag);
    if (!option || option->count() == 0) continue;
    std::string where;
    for (unsigned k : {regression, sequence, spiking, dataset})
      if (scope.kinds & k) where += std::string(where.empty() ? "" : " and ") + kind_text(k);
    throw Error(std::string(scope.flag) + " does not apply to " + kind_text(kind) + " (it is for " + where +
                "): leave it out");
  }
}

std::vector<std::string> train_task_names() {
  std::vector<std::string> tasks = task_names();
  tasks.insert(tasks.end(), {"spiking-mnist", "spiking-fashion-mnist", "spiking-nmnist"});
  for (const auto& name : image_sequence_task_names()) tasks.push_back(name);
  return tasks;
}

// Binds each flag once; the callback copies the shared ones into the config of the kind.
void train_callback(TrainCommand& o) {
  require(!(o.overwrite && o.resume), "--overwrite and --resume exclude each other: replace the run, or continue it");
  const ExistingRun existing = o.resume ? ExistingRun::resume : o.overwrite ? ExistingRun::overwrite : ExistingRun::refuse;
  install_stop_handlers();  // SIGINT/SIGTERM: checkpoint, then exit with the command that resumes
  o.config.train.progress = !o.quiet;
  o.config.train.skip_nonfinite = !o.no_skip;
  if (!o.data.path.empty()) {
    require(!o.task_option->count(), "--data FILE.npz is the task: leave out --task");
    refuse_flags_the_kind_ignores(o, Kind::dataset);
    DatasetRunConfig dataset;
    dataset.model = o.config.model;
    dataset.data = o.data;
    dataset.train = o.config.train;
    print(runs::train(dataset, o.out_dir, existing));
    return;
  }
  if (is_image_sequence_task(o.config.task.name)) {
    refuse_flags_the_kind_ignores(o, Kind::sequence);
    SequenceClassificationConfig sequence;
    sequence.model = o.config.model;
    sequence.task = o.sequence_task;
    sequence.task.name = o.config.task.name;
    sequence.train = o.config.train;
    sequence.multistability = o.config.multistability;
    print(runs::train(sequence, o.out_dir, existing));
    return;
  }
  const std::string& cell = o.config.model.cell;
  const bool spiking_cell = cell_info(cell).spiking(), spiking_task = is_spiking_task(o.config.task.name);
  if (!spiking_cell && !spiking_task) {
    refuse_flags_the_kind_ignores(o, Kind::regression);
    return print(runs::train(o.config, o.out_dir, existing));
  }
  require(spiking_cell && spiking_task,
          spiking_cell ? "--cell " + cell + " trains on --task spiking-mnist, spiking-fashion-mnist or spiking-nmnist"
                       : "--task " + o.config.task.name + " needs a spiking cell: --cell src or --cell lif");
  refuse_flags_the_kind_ignores(o, Kind::spiking);
  // Each spiking cell's own flags: the other cell has no such constant (never ignored).
  const bool lif = cell == "lif";
  for (const char* flag : {"--frozen-bias", "--detach", "--arithmetic", "--weight-bits"})
    require(!lif || o.command->get_option(flag)->count() == 0,
            std::string(flag) + " is an SRC option (its bias, its h and h_s); --cell lif has none: leave it out");
  for (const char* flag : {"--lif-beta", "--lif-slope"})
    require(lif || o.command->get_option(flag)->count() == 0,
            std::string(flag) + " is a LIF option: use it with --cell lif (SRC's constants are fixed)");
  // N-MNIST's spikes are the camera's events, not rate-coded images; and its flags are its own
  const bool nmnist = o.config.task.name == "spiking-nmnist";
  for (const char* flag : {"--rate-steps", "--rate-prefix", "--rate-gain", "--subsample"})
    require(!nmnist || o.command->get_option(flag)->count() == 0,
            std::string(flag) + " does not apply to spiking-nmnist (its spikes are the recorded events: "
                                "--nmnist-steps, --nmnist-duration)");
  for (const char* flag : {"--nmnist-dir", "--nmnist-steps", "--nmnist-duration"})
    require(nmnist || o.command->get_option(flag)->count() == 0,
            std::string(flag) + " is for --task spiking-nmnist");
  o.spiking.task.name = o.config.task.name;
  o.spiking.train = o.config.train;
  o.spiking.model.hidden_size = o.config.model.hidden_size;
  o.spiking.model.layers = o.config.model.layers;
  o.spiking.model.impl = o.config.model.impl;
  o.spiking.model.cell_name = cell;
  o.spiking.model.cell.detach_recurrence = o.detach;
  o.spiking.model.cell.arithmetic = o.arithmetic;
  o.spiking.model.cell.weight_bits = o.weight_bits;
  const bool integer = o.arithmetic == "integer";
  require(integer || o.command->get_option("--weight-bits")->count() == 0,
          "--weight-bits quantises the integer arithmetic's weights: use it with --arithmetic integer");
  require(!integer || !o.detach, "--detach does not apply to --arithmetic integer (its credit runs through i only already)");
  require(!integer || !nmnist, "--arithmetic integer trains the FPGA design on rate-coded images: use spiking-mnist or "
                               "spiking-fashion-mnist");
  // The FPGA design's bias is the reference constant: the integer arithmetic implies --frozen-bias
  o.spiking.model.cell.train_bias = !o.frozen_bias && !integer;
  o.spiking.sparse_input = !o.dense_input;
  print(runs::train(o.spiking, o.out_dir, existing));
}

}  // namespace

void register_train(CLI::App& app) {
  auto options = std::make_shared<TrainCommand>();
  auto& o = *options;
  const std::vector<std::string> cells = cli_cell_choices();
  auto* train = app.add_subcommand("train", "Train a model on a task and write a run folder");
  o.command = train;
  o.task_option = train->add_option("--task", o.config.task.name,
                    "copy-first-input | copy-single-value | copy-single-bit | denoising | denoising-2020 | spiking-mnist | spiking-fashion-mnist | spiking-nmnist | "
                    "smnist | psmnist | row-mnist | prow-mnist | psmnist-rows (sequence classification)")
      ->check(CLI::IsMember(train_task_names()))->capture_default_str();
  train->add_option("--data", o.data.path,
                    "Your own data instead of --task: a .npz with inputs (N, T, I) and targets (N, O) | (N, K, O) "
                    "(regression) or labels (N) (classification); optional val_* and test_* (docs/tasks.md)");
  train->add_option("--data-layout", o.data.layout, "With --data: NTI (inputs (N, T, I)) | TNI ((T, N, I))")
      ->capture_default_str();
  train->add_option("--val-fraction", o.data.validation_fraction,
                    "With --data and no val_inputs: share of the rows that validates")
      ->capture_default_str();
  train->add_option("--dataset", o.sequence_task.dataset, "Sequence classification: mnist | fashion-mnist")
      ->check(CLI::IsMember({"mnist", "fashion-mnist"}))->capture_default_str();
  train->add_option("--black", o.sequence_task.black, "Sequence classification: appended black pixels (rows for row-mnist)")
      ->capture_default_str();
  train->add_option("--permutation-seed", o.sequence_task.permutation_seed,
                    "psmnist, prow-mnist, psmnist-rows: seed of the fixed pixel (row) order")->capture_default_str();
  train->add_option("--permutation", o.sequence_task.permutation,
                    "Generator of that order: splitmix (neurocell's) | numpy (numpy.random.RandomState(seed)"
                    ".permutation, as the BRC 2021 code with seed 1)")
      ->check(CLI::IsMember({"splitmix", "numpy"}))->capture_default_str();
  train->add_option("--pixels", o.sequence_task.scaling,
                    "Sequence classification: unit (x/255, the BRC paper's scripts) | centred (x/255 - 0.5, the "
                    "warmup paper)")
      ->check(CLI::IsMember({"unit", "centred"}))->capture_default_str();
  train->add_option("--train-size", o.sequence_task.train_size, "Sequence classification: training images (0 = all)")
      ->capture_default_str();
  train
      ->add_option("--cell", o.config.model.cell,
                   join_cell_names(cell_kind_names(), " | ") + " (src, lif: spiking tasks; see docs/cells.md)")
      ->check(CLI::IsMember(cells))->capture_default_str();
  train->add_option("--layers", o.config.model.layers, "Number of recurrent layers")->capture_default_str();
  train->add_option("--hidden", o.config.model.hidden_size, "Units per layer")->capture_default_str();
  train->add_option("--impl", o.config.model.impl, "fused (default) | reference: which code computes the cells")
      ->check(CLI::IsMember({"fused", "reference"}))->capture_default_str();
  train->add_flag("--double", o.config.model.double_layer, "Double layers: two cells of H/2 side by side");
  train->add_flag("--orthogonal", o.config.model.orthogonal_recurrent, "nBRC: orthogonal recurrent init");
  train->add_option("--chrono", o.config.model.chrono_max_length, "LSTM: chrono init with this T_max (0 = off)");
  train->add_option("--chrono-variant", o.config.model.chrono_variant,
                    "LSTM chrono: textbook (one draw, hidden biases 0) | authors (the warmup code's: one draw per "
                    "bias vector, g and o biases 0)")
      ->check(CLI::IsMember({"textbook", "authors"}))->capture_default_str();
  train->add_option("--weights-init", o.config.model.weights_init,
                    "GRU, LSTM: torch (torch::nn's uniform) | keras (the authors': Glorot input, orthogonal recurrent "
                    "per gate, zero biases; LSTM forget bias 1)")
      ->check(CLI::IsMember({"torch", "keras"}))->capture_default_str();
  train->add_option("--length", o.config.task.length, "Sequence length T")->capture_default_str();
  train->add_option("--no-end", o.config.task.no_end, "Denoising: no relevant value in the last N steps")
      ->capture_default_str();
  train->add_option("--batch", o.config.train.batch_size, "Batch size")->capture_default_str();
  train->add_option("--steps", o.config.train.steps, "Training steps (updates)")->capture_default_str();
  train->add_option("--lr", o.config.train.learning_rate, "Adam learning rate")->capture_default_str();
  train->add_option("--lr-schedule", o.config.train.lr_schedule, "constant | cosine (decay to 1 % of --lr)")
      ->check(CLI::IsMember({"constant", "cosine"}))->capture_default_str();
  train->add_option("--clip", o.config.train.clip_norm, "Gradient-norm clipping (0 = off)")->capture_default_str();
  train->add_flag("--no-skip-nonfinite", o.no_skip, "Apply updates even when a gradient is NaN/Inf");
  train->add_option("--eval-every", o.config.train.eval_every, "Validate every N steps")->capture_default_str();
  train->add_option("--val-size", o.config.train.validation_size, "Validation samples")->capture_default_str();
  train->add_option("--test-size", o.config.train.test_size, "Test samples")->capture_default_str();
  train->add_option("--patience", o.config.train.patience, "Early stop after N validations without improvement (0 = off)")
      ->capture_default_str();
  train->add_option("--seed", o.config.train.seed, "Seed of initialisation and data")->capture_default_str();
  train->add_option("--threads", o.config.train.threads, "CPU threads (0 = every core)")->capture_default_str();
  train->add_option("--readout-factor", o.spiking.model.readout_factor,
                    "Spiking: neurons per class in the last layer (its width is 10 x this)")->capture_default_str();
  train->add_option("--rate-steps", o.spiking.task.coding.steps, "Spiking: rate-coded steps per image")->capture_default_str();
  train->add_option("--rate-prefix", o.spiking.task.coding.prefix, "Spiking: empty steps before the image")
      ->capture_default_str();
  train->add_option("--rate-gain", o.spiking.task.coding.gain, "Spiking: spike probability of a white pixel per step")
      ->capture_default_str();
  train->add_option("--subsample", o.spiking.task.coding.subsample, "Spiking: sub-sample the trace to this many steps (0 = off)")
      ->capture_default_str();
  train->add_option("--nmnist-dir", o.spiking.task.nmnist_dir,
                    "spiking-nmnist: your N-MNIST folder (DIR/Train/0..9/*.bin, DIR/Test/0..9/*.bin; docs/tasks.md)");
  train->add_option("--nmnist-steps", o.spiking.task.nmnist_steps, "spiking-nmnist: frames per recording")
      ->capture_default_str();
  train->add_option("--nmnist-duration", o.spiking.task.nmnist_duration_us,
                    "spiking-nmnist: microseconds of each recording binned into those frames")
      ->capture_default_str();
  train->add_flag("--detach", o.detach, "SRC: no gradient through h, h_s of the previous step (only through i)");
  train->add_flag("--dense-input", o.dense_input, "SRC, LIF: dense GEMM input projection instead of the sparse one");
  train->add_option("--lif-beta", o.spiking.model.lif.beta, "LIF: membrane leak beta in [0, 1], fixed")
      ->capture_default_str();
  train->add_option("--lif-slope", o.spiking.model.lif.slope,
                    "LIF: slope k of the fast-sigmoid surrogate 1 / (1 + k |u - 1|)^2")
      ->capture_default_str();
  train->add_option("--arithmetic", o.arithmetic,
                    "SRC: float (the cell) | integer (train through the FPGA design's integer arithmetic, "
                    "bias frozen at -6; docs/cells.md section 2)")
      ->check(CLI::IsMember({"float", "integer"}))->capture_default_str();
  train->add_option("--weight-bits", o.weight_bits,
                    "SRC with --arithmetic integer: magnitude bits of the quantised weights (2..14; +-2^bits)")
      ->check(CLI::Range(2, 14))->capture_default_str();
  train->add_flag("--frozen-bias", o.frozen_bias,
                  "SRC: keep every bias at -6, untrained (as in the SRC authors' exported MNIST model)");
  train->add_option("--warmup", o.config.multistability.warmup.steps,
                    "Warmup steps before training (0 = none); with --double, partial warmup (first halves only)")
      ->capture_default_str();
  train->add_option("--warmup-lr", o.config.multistability.warmup.learning_rate, "Warmup: Adam learning rate")->capture_default_str();
  train->add_option("--warmup-batch", o.config.multistability.warmup.batch_size, "Warmup: input sequences per step")->capture_default_str();
  train->add_option("--warmup-target", o.config.multistability.warmup.target, "Warmup: VAA* target of every layer")->capture_default_str();
  train->add_option("--partial-warmup", o.config.multistability.warmup.partial,
                    "With --double: frozen (only the first halves move) | authors (every parameter, as the warmup code)")
      ->check(CLI::IsMember({"frozen", "authors"}))->capture_default_str();
  train->add_option("--warmup-max-settle", o.config.multistability.warmup.max_settle, "Warmup: longest settling horizon")
      ->capture_default_str();
  train->add_flag("--vaa", o.config.multistability.measure, "Measure VAA before and after training (always on with --warmup)");
  train->add_option("--vaa-every", o.config.multistability.every, "Also measure VAA at validations every N steps (0 = never)")
      ->capture_default_str();
  add_vaa_options(train, o.config.multistability.vaa);
  train->add_option("--init", o.config.init, "Start from the weights of this run folder (same model)");
  train->add_option("--out", o.out_dir, "Run folder to write")->required();
  train->add_flag("--overwrite", o.overwrite, "Replace a run already in --out (its files are removed first)");
  train->add_flag("--resume", o.resume,
                  "Continue the interrupted run in --out from its last checkpoint (same flags; starts it when there "
                  "is none), ending bit-identical to an uninterrupted run");
  train->add_option("--checkpoint-every", o.config.train.checkpoint_every,
                    "Write the resume checkpoint every N updates (0 = at every validation); also on SIGINT/SIGTERM")
      ->capture_default_str();
  train->add_flag("--quiet", o.quiet, "No progress bar");
  train->callback([options] { train_callback(*options); });
}

}  // namespace neurocell::cli
