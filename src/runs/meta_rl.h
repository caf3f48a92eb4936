#pragma once
// Meta-RL runs (`neurocell meta-rl`): an NMD agent or its recurrent baseline
// (nn/neuromodulation.h) trained with PPO (train/ppo.h) on a meta-RL environment
// (tasks/meta_rl.h), then evaluated with its mean actions on new tasks. The run folder holds
// config.json (kind "meta-rl"), metrics.jsonl (one line per PPO iteration: the mean return of
// its episodes, the KL, beta, whether the update was reverted), model.safetensors (the agent's
// parameters: policy.*, value.*, log_std) and report.json ("test": the evaluation).
// Not (yet) a RunKind: `eval`, `report` and `--resume` do not read these folders.
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "nn/neuromodulation.h"
#include "runs/run_folder.h"
#include "train/ppo.h"

namespace neurocell {

struct MetaRlRunConfig {
  std::string env = "moving-target";
  NmdConfig model;
  PpoOptions ppo;
  int64_t episodes = 50;        // per PPO iteration (the environment's batch)
  int64_t episode_length = 1400;
  int64_t eval_episodes = 100;  // the final evaluation's new tasks
  int64_t threads = 1;
  int64_t checkpoint_every = 0; // resume checkpoint every N iterations (0 = every iteration)
  void validate() const;
};
nlohmann::json to_json(const MetaRlRunConfig& config);

namespace runs {

// ExistingRun::resume continues an interrupted run from its checkpoint (train/ppo.h), ending
// bit-identical to an uninterrupted one.
RunResult train(MetaRlRunConfig config, const std::string& out_dir, ExistingRun existing);

}  // namespace runs

}  // namespace neurocell
