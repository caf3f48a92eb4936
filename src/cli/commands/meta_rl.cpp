// `neurocell meta-rl`: an NMD agent (or its recurrent baseline) trained with PPO on a meta-RL
// environment, evaluated on new tasks (runs/meta_rl.h).
#include "cli/commands/commands.h"

#include "core/interrupt.h"
#include "nn/cell_registry.h"
#include "runs/meta_rl.h"
#include "tasks/meta_rl.h"

namespace neurocell::cli {

namespace {

struct MetaRlCommand {
  MetaRlRunConfig config;
  std::string model = "nmd", out_dir;
  bool overwrite = false, resume = false, quiet = false;
};

}  // namespace

void register_meta_rl(CLI::App& app) {
  auto options = std::make_shared<MetaRlCommand>();
  auto& o = *options;
  auto& c = o.config;
  auto* cmd = app.add_subcommand("meta-rl",
                                 "Meta-RL: train an NMD agent (or its recurrent baseline) with PPO, evaluate on new tasks");
  cmd->add_option("--env", c.env, "Environment (docs/tasks.md, Meta-RL)")
      ->check(CLI::IsMember(meta_rl_env_names()))->capture_default_str();
  cmd->add_option("--model", o.model, "nmd (neuromodulated main network) | recurrent (the baseline, same sizes)")
      ->check(CLI::IsMember({"nmd", "recurrent"}))->capture_default_str();
  cmd->add_option("--cell", c.model.cell, "Cell of the (neuromodulatory) recurrent network")
      ->check(CLI::IsMember(cell_names_where([](const CellInfo& c) { return c.sequence_model(); })))->capture_default_str();
  cmd->add_option("--recurrent-sizes", c.model.recurrent_sizes, "Recurrent layers' widths")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--modulator-sizes", c.model.modulator_sizes, "Dense ReLU layers' widths (the last: z's)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--main-sizes", c.model.main_sizes, "Main network's hidden layers' widths")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--log-std", c.model.log_std_init, "Initial log standard deviation of the policy")
      ->capture_default_str();
  cmd->add_option("--iterations", c.ppo.iterations, "PPO iterations")->capture_default_str();
  cmd->add_option("--episodes", c.episodes, "Episodes (new tasks) per iteration")->capture_default_str();
  cmd->add_option("--episode-length", c.episode_length, "Steps per episode (the paper: 1400)")->capture_default_str();
  cmd->add_option("--eval-episodes", c.eval_episodes, "New tasks of the final evaluation (mean actions)")
      ->capture_default_str();
  cmd->add_option("--gamma", c.ppo.gamma, "Discount")->capture_default_str();
  cmd->add_option("--lambda", c.ppo.lambda, "GAE lambda")->capture_default_str();
  cmd->add_option("--policy-lr", c.ppo.policy_lr, "Adam learning rate of the policy")->capture_default_str();
  cmd->add_option("--value-lr", c.ppo.value_lr, "Adam learning rate of the value")->capture_default_str();
  cmd->add_option("--policy-epochs", c.ppo.policy_epochs, "Policy epochs per iteration")->capture_default_str();
  cmd->add_option("--value-epochs", c.ppo.value_epochs, "Value epochs per iteration")->capture_default_str();
  cmd->add_option("--unroll", c.ppo.unroll, "Truncated BPTT: steps per chunk")->capture_default_str();
  cmd->add_option("--kl-target", c.ppo.kl_target, "Adaptive KL: target")->capture_default_str();
  cmd->add_option("--kl-revert", c.ppo.kl_revert, "Revert an update whose KL exceeds this times the target")
      ->capture_default_str();
  cmd->add_option("--seed", c.ppo.seed, "Seed of initialisation, tasks and action noise")->capture_default_str();
  add_threads_option(cmd, c.threads)->capture_default_str();
  cmd->add_option("--out", o.out_dir, "Run folder to write")->required();
  cmd->add_flag("--overwrite", o.overwrite, "Replace a run already in --out (its files are removed first)");
  cmd->add_flag("--resume", o.resume, "Continue the interrupted run in --out from its last checkpoint (same flags)");
  cmd->add_option("--checkpoint-every", o.config.checkpoint_every,
                  "Write the resume checkpoint every N iterations (0 = every iteration); also on SIGINT/SIGTERM")
      ->capture_default_str();
  cmd->add_flag("--quiet", o.quiet, "No line per iteration on stderr");
  cmd->callback([options] {
    auto& o = *options;
    o.config.model.architecture = nmd_architecture_from_name(o.model);
    o.config.ppo.progress = !o.quiet;
    require(!(o.overwrite && o.resume), "--overwrite and --resume exclude each other: replace the run, or continue it");
    install_stop_handlers();  // SIGINT/SIGTERM: checkpoint, then exit with the command that resumes
    print(runs::train(o.config, o.out_dir,
                      o.resume ? ExistingRun::resume : o.overwrite ? ExistingRun::overwrite : ExistingRun::refuse));
  });
}

}  // namespace neurocell::cli
