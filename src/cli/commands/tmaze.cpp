// `neurocell tmaze`: a DRQN agent trained at one corridor length, evaluated at longer ones.
#include "cli/commands/commands.h"

#include "core/interrupt.h"
#include "nn/cell_registry.h"
#include "runs/runs.h"

namespace neurocell::cli {

namespace {

struct TmazeCommand {
  TmazeRunConfig config;
  std::string out_dir, protocol = "neurocell", maze = "cue";
  bool overwrite = false, resume = false, quiet = false;
  // Options of one protocol only: set in the config only when given, so that the other
  // protocol can refuse them (DrqnOptions::validate).
  int64_t batch_episodes = 16, target_every = 50, replay_transitions = 8192;
  double epsilon_decay = 0.5;
  CLI::Option *batch_episodes_flag = nullptr, *target_every_flag = nullptr, *epsilon_decay_flag = nullptr,
              *replay_transitions_flag = nullptr;
};

}  // namespace

void register_tmaze(CLI::App& app) {
  auto options = std::make_shared<TmazeCommand>();
  auto& o = *options;
  o.config.model.layers = 2;
  o.config.model.hidden_size = 32;
  o.config.model.cell = "gru";
  auto* tmaze = app.add_subcommand("tmaze", "T-maze: train a DRQN agent at one corridor length, evaluate at longer ones");
  tmaze->add_option("--cell", o.config.model.cell, "Recurrent cell of the Q-network")
      ->check(CLI::IsMember(cell_kind_names()))->capture_default_str();
  tmaze->add_option("--layers", o.config.model.layers, "Recurrent layers")->capture_default_str();
  tmaze->add_option("--hidden", o.config.model.hidden_size, "Units per layer")->capture_default_str();
  tmaze->add_option("--weights-init", o.config.model.weights_init,
                    "GRU, LSTM: torch (torch::nn's uniform) | keras (the authors': Glorot input, orthogonal recurrent "
                    "per gate, zero biases; LSTM forget bias 1)")
      ->check(CLI::IsMember({"torch", "keras"}))->capture_default_str();
  tmaze->add_flag("--double", o.config.model.double_layer, "Double layers");
  tmaze->add_option("--maze", o.maze,
                    "cue (the warmup paper's T-maze) or signal (the cue plus a one-step signal in the corridor; a "
                    "signal within --signal-window cells of the junction swaps the goal that pays; docs/tasks.md)")
      ->check(CLI::IsMember({"cue", "signal"}))->capture_default_str();
  tmaze->add_option("--signal-window", o.config.drqn.signal_window,
                    "signal maze: W, a signal this close to the junction swaps the goal (L >= W + 2)")
      ->capture_default_str();
  tmaze->add_option("--length", o.config.length, "Corridor length L for training")->capture_default_str();
  tmaze->add_option("--eval-lengths", o.config.eval_lengths, "Lengths of the greedy evaluation after training")
      ->delimiter(',')->capture_default_str();
  tmaze->add_option("--protocol", o.protocol,
                    "DRQN protocol: neurocell (episode replay, decaying epsilon) or warmup-paper (the warmup "
                    "paper's: transition replay, epsilon 0.2, optimality criterion; docs/tasks.md)")
      ->check(CLI::IsMember({"neurocell", "warmup-paper"}))->capture_default_str();
  tmaze->add_option("--stochasticity", o.config.drqn.stochasticity,
                    "Probability that the maze replaces the action by a random one in the corridor (lambda)")
      ->capture_default_str();
  tmaze->add_option("--episodes", o.config.drqn.episodes,
                    "Training episodes (0 = the protocol's: 3000 neurocell, 2000 warmup-paper)")->capture_default_str();
  o.batch_episodes_flag = tmaze->add_option("--batch-episodes", o.batch_episodes, "neurocell: episodes per update")
                              ->capture_default_str();
  tmaze->add_option("--lr", o.config.drqn.learning_rate, "Adam learning rate")->capture_default_str();
  o.target_every_flag =
      tmaze->add_option("--target-every", o.target_every, "neurocell: updates between target-network copies")
          ->capture_default_str();
  o.epsilon_decay_flag = tmaze->add_option("--epsilon-decay", o.epsilon_decay,
                                           "neurocell: fraction of the episodes over which epsilon falls from 1 to 0.05")
                             ->capture_default_str();
  o.replay_transitions_flag =
      tmaze->add_option("--replay-transitions", o.replay_transitions,
                        "warmup-paper: transitions the replay keeps (the paper's 8192)")->capture_default_str();
  tmaze->add_option("--eval-every", o.config.drqn.eval_every,
                    "Episodes between greedy evaluations (0 = the protocol's: 100 neurocell, 20 warmup-paper)")
      ->capture_default_str();
  tmaze->add_flag("--stop-when-solved", o.config.drqn.stop_when_solved,
                  "Stop at the first evaluation where both cues lead to the right goal (warmup-paper: optimally)");
  tmaze->add_option("--seed", o.config.drqn.seed, "Seed of initialisation, exploration and replay")
      ->capture_default_str();
  o.config.warmup.steps = 0;
  tmaze->add_option("--warmup", o.config.warmup.steps,
                    "Warmup steps before training, on random-agent episodes (0 = none; with --double: partial warmup)")
      ->capture_default_str();
  tmaze->add_option("--warmup-max-settle", o.config.warmup.max_settle, "Warmup: longest settling horizon")
      ->capture_default_str();
  add_vaa_options(tmaze, o.config.vaa);  // the trained agent's VAA, in report.json (--vaa-batches 0: none)
  tmaze->add_option("--threads", o.config.threads, "CPU threads (0 = every core)")->capture_default_str();
  tmaze->add_option("--out", o.out_dir, "Run folder to write")->required();
  tmaze->add_flag("--overwrite", o.overwrite, "Replace a run already in --out (its files are removed first)");
  tmaze->add_flag("--resume", o.resume, "Continue the interrupted run in --out from its last checkpoint (same flags)");
  tmaze->add_option("--checkpoint-every", o.config.drqn.checkpoint_every,
                    "Write the resume checkpoint every N episodes (0 = at every evaluation); also on SIGINT/SIGTERM")
      ->capture_default_str();
  tmaze->add_flag("--quiet", o.quiet, "No progress bar");
  tmaze->callback([options] {
    auto& o = *options;
    require(!(o.overwrite && o.resume), "--overwrite and --resume exclude each other: replace the run, or continue it");
    o.config.drqn.progress = !o.quiet;
    o.config.drqn.protocol = drqn_protocol_from_name(o.protocol);
    o.config.drqn.maze = tmaze_variant_from_name(o.maze);
    if (o.batch_episodes_flag->count()) o.config.drqn.batch_episodes = o.batch_episodes;
    if (o.target_every_flag->count()) o.config.drqn.target_every = o.target_every;
    if (o.epsilon_decay_flag->count()) o.config.drqn.epsilon_decay = o.epsilon_decay;
    if (o.replay_transitions_flag->count()) o.config.drqn.replay_transitions = o.replay_transitions;
    install_stop_handlers();  // SIGINT/SIGTERM: checkpoint, then exit with the command that resumes
    print(runs::train(o.config, o.out_dir,
                      o.resume ? ExistingRun::resume : o.overwrite ? ExistingRun::overwrite : ExistingRun::refuse));
  });
}

}  // namespace neurocell::cli
