#pragma once
// T-maze runs (RunKind::tmaze, `neurocell tmaze`): a DRQN agent (train/drqn.h) with a recurrent Q-network of any cell
// trained on the T-maze at one corridor length, then evaluated greedily at that length and at
// longer ones (horizon generalisation, tasks.md), in the cue maze or the signal maze
// (tasks/tmaze.h); the report also gives the trained agent's VAA on the maze's random-agent
// inputs. The run folder holds config.json (kind "tmaze"), metrics.jsonl, model.safetensors and
// report.json.
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/vaa.h"
#include "analysis/warmup.h"
#include "nn/model.h"
#include "runs/run_folder.h"
#include "train/drqn.h"

namespace neurocell {

struct TmazeRunConfig {
  ModelConfig model;  // input and output sizes are set by the task
  int64_t length = 10;
  std::vector<int64_t> eval_lengths = {10, 20, 50, 100};
  DrqnOptions drqn;
  analysis::WarmupOptions warmup;  // steps 0 = no warmup; inputs: random-policy episodes
  analysis::VaaOptions vaa;        // of the trained agent; batches 0 = not measured
  int64_t threads = 1;
};

nlohmann::json to_json(const TmazeRunConfig& config);

// The maze a T-maze run folder was trained in, read back from config.json "task" (written by
// the same file's task_json; a task without "maze" is the cue maze).
struct TmazeOfRun {
  int64_t length = 0;
  TmazeVariant maze = TmazeVariant::cue;
  int64_t signal_window = kTmazeSignalWindow;
};
TmazeOfRun tmaze_of_run(const std::string& dir);

namespace runs {

RunResult train(TmazeRunConfig config, const std::string& out_dir, ExistingRun existing);

}  // namespace runs

}  // namespace neurocell
