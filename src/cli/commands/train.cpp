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
  SpikingRunConfig spiking;                // --cell src / --task spiking-*: the SRC classifier's options
  ImageSequenceTaskConfig sequence_task;  // --task smnist | psmnist | row-mnist | prow-mnist
  DatasetConfig data;                     // --data FILE.npz
  CLI::Option* task_option = nullptr;
  bool detach = false, dense_input = false, no_skip = false, quiet = false, overwrite = false, resume = false;
  std::string out_dir;
};

std::vector<std::string> train_task_names() {
  std::vector<std::string> tasks = task_names();
  tasks.insert(tasks.end(), {"spiking-mnist", "spiking-fashion-mnist"});
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
    DatasetRunConfig dataset;
    dataset.model = o.config.model;
    dataset.data = o.data;
    dataset.train = o.config.train;
    print(runs::train(dataset, o.out_dir, existing));
    return;
  }
  if (is_image_sequence_task(o.config.task.name)) {
    SequenceClassificationConfig sequence;
    sequence.model = o.config.model;
    sequence.task = o.sequence_task;
    sequence.task.name = o.config.task.name;
    sequence.train = o.config.train;
    print(runs::train(sequence, o.out_dir, existing));
    return;
  }
  const bool src = o.config.model.cell == "src", spiking_task = is_spiking_task(o.config.task.name);
  if (!src && !spiking_task) return print(runs::train(o.config, o.out_dir, existing));
  require(src && spiking_task, src ? "--cell src trains on --task spiking-mnist or spiking-fashion-mnist"
                                   : "--task " + o.config.task.name + " needs --cell src");
  o.spiking.task.name = o.config.task.name;
  o.spiking.train = o.config.train;
  o.spiking.model.hidden_size = o.config.model.hidden_size;
  o.spiking.model.layers = o.config.model.layers;
  o.spiking.model.impl = o.config.model.impl;
  o.spiking.model.cell.detach_recurrence = o.detach;
  o.spiking.sparse_input = !o.dense_input;
  print(runs::train(o.spiking, o.out_dir, existing));
}

}  // namespace

void register_train(CLI::App& app) {
  auto options = std::make_shared<TrainCommand>();
  auto& o = *options;
  const std::vector<std::string> cells = cli_cell_choices();
  auto* train = app.add_subcommand("train", "Train a model on a task and write a run folder");
  o.task_option = train->add_option("--task", o.config.task.name,
                    "copy-first-input | copy-single-value | copy-single-bit | denoising | spiking-mnist | spiking-fashion-mnist | "
                    "smnist | psmnist | row-mnist | prow-mnist (sequence classification)")
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
                    "psmnist, prow-mnist: seed of the fixed pixel (row) order")->capture_default_str();
  train->add_option("--train-size", o.sequence_task.train_size, "Sequence classification: training images (0 = all)")
      ->capture_default_str();
  train
      ->add_option("--cell", o.config.model.cell,
                   join_cell_names(cell_kind_names(), " | ") + " (src: spiking tasks; see docs/cells.md)")
      ->check(CLI::IsMember(cells))->capture_default_str();
  train->add_option("--layers", o.config.model.layers, "Number of recurrent layers")->capture_default_str();
  train->add_option("--hidden", o.config.model.hidden_size, "Units per layer")->capture_default_str();
  train->add_option("--impl", o.config.model.impl, "fused (default) | reference: which code computes the cells")
      ->check(CLI::IsMember({"fused", "reference"}))->capture_default_str();
  train->add_flag("--double", o.config.model.double_layer, "Double layers: two cells of H/2 side by side");
  train->add_flag("--orthogonal", o.config.model.orthogonal_recurrent, "nBRC: orthogonal recurrent init");
  train->add_option("--chrono", o.config.model.chrono_max_length, "LSTM: chrono init with this T_max (0 = off)");
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
                    "SRC: neurons per class in the last layer (its width is 10 x this)")->capture_default_str();
  train->add_option("--rate-steps", o.spiking.task.coding.steps, "SRC: rate-coded steps per image")->capture_default_str();
  train->add_option("--rate-prefix", o.spiking.task.coding.prefix, "SRC: empty steps before the image")
      ->capture_default_str();
  train->add_option("--rate-gain", o.spiking.task.coding.gain, "SRC: spike probability of a white pixel per step")
      ->capture_default_str();
  train->add_option("--subsample", o.spiking.task.coding.subsample, "SRC: sub-sample the trace to this many steps (0 = off)")
      ->capture_default_str();
  train->add_flag("--detach", o.detach, "SRC: no gradient through h, h_s of the previous step (only through i)");
  train->add_flag("--dense-input", o.dense_input, "SRC: dense GEMM input projection instead of the sparse one");
  train->add_option("--warmup", o.config.multistability.warmup.steps,
                    "Warmup steps before training (0 = none); with --double, partial warmup (first halves only)")
      ->capture_default_str();
  train->add_option("--warmup-lr", o.config.multistability.warmup.learning_rate, "Warmup: Adam learning rate")->capture_default_str();
  train->add_option("--warmup-batch", o.config.multistability.warmup.batch_size, "Warmup: input sequences per step")->capture_default_str();
  train->add_option("--warmup-target", o.config.multistability.warmup.target, "Warmup: VAA* target of every layer")->capture_default_str();
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
