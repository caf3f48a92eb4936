// The T-maze (tasks.md): observations, rewards and horizon as specified; the DRQN agent
// learns a corridor of length 3 (seeded, quick); `neurocell tmaze` writes its run folder with
// the horizon-generalisation evaluation.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/error.h"
#include "io/files.h"
#include "tasks/tmaze.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/drqn.h"
#include "tasks/synthetic.h"

namespace neurocell {
namespace {

using testing::cli;
using testing::TempDir;
using A = TmazeAction;
using S = TmazeSymbol;

TEST(Tmaze, ObservationsRewardsAndGoals) {
  EXPECT_EQ(Tmaze(3).horizon(), 8);  // 3L - 1
  Tmaze maze(5);
  EXPECT_EQ(maze.reset(true), S::up_cue);
  auto s = maze.step(A::right);
  EXPECT_EQ(s.observation, S::corridor);  // the cue is shown at the first cell only
  EXPECT_EQ(s.reward, 0.0);
  EXPECT_FALSE(s.terminal);
  s = maze.step(A::left);
  EXPECT_EQ(s.observation, S::up_cue);  // back at the first cell, the cue shows again
  s = maze.step(A::left);               // a wall
  EXPECT_DOUBLE_EQ(s.reward, -0.1);
  EXPECT_EQ(maze.position(), 0);
  maze.step(A::right);
  s = maze.step(A::up);  // a wall in the corridor
  EXPECT_DOUBLE_EQ(s.reward, -0.1);
  EXPECT_EQ(s.observation, S::corridor);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(maze.step(A::right).observation, S::corridor);
  s = maze.step(A::right);
  EXPECT_EQ(s.observation, S::junction);
  EXPECT_EQ(maze.position(), 5);
  s = maze.step(A::right);  // past the junction: a wall
  EXPECT_DOUBLE_EQ(s.reward, -0.1);
  EXPECT_FALSE(s.terminal);
  s = maze.step(A::up);  // the cued goal
  EXPECT_DOUBLE_EQ(s.reward, 4.0);
  EXPECT_TRUE(s.terminal);
  EXPECT_THROW(maze.step(A::up), Error);  // the episode is over

  EXPECT_EQ(maze.reset(false), S::down_cue);
  for (int k = 0; k < 5; ++k) maze.step(A::right);
  s = maze.step(A::up);  // the wrong goal
  EXPECT_DOUBLE_EQ(s.reward, -0.1);
  EXPECT_TRUE(s.terminal);
  EXPECT_THROW(Tmaze(0), Error);
}

TEST(Tmaze, EpisodesEndAtTheHorizon) {
  Tmaze maze(4);  // horizon 11
  maze.reset(true);
  Tmaze::Step s{};
  for (int k = 1; k <= 11; ++k) {
    s = maze.step(A::left);
    EXPECT_EQ(s.timed_out, k == 11) << k;
  }
  EXPECT_FALSE(s.terminal);
  EXPECT_THROW(maze.step(A::right), Error);
}

TEST(Tmaze, DrqnLearnsACorridorOfLengthThree) {
  torch::manual_seed(1);
  ModelConfig c;
  c.cell = "gru";
  c.layers = 2;
  c.hidden_size = 32;
  c.input_size = kDrqnInputs;
  c.output_size = kTmazeActions;
  SequenceModel q(c);
  DrqnOptions o;
  o.episodes = 1500;
  o.eval_every = 50;
  o.stop_when_solved = true;
  o.seed = 1;
  const auto report = train_drqn(q, 3, o, nullptr);
  EXPECT_TRUE(report.solved) << "after " << report.episodes_done << " episodes, success "
                             << report.final_evaluation.success;
  EXPECT_DOUBLE_EQ(evaluate_tmaze(q, 3).success, 1.0);
  EXPECT_NEAR(evaluate_tmaze(q, 3).mean_return, 4.0, 0.31);  // few or no walls on the way
}

TEST(Tmaze, RandomAgentInputsForWarmup) {
  auto generator = make_generator(4, 0);
  const auto x = tmaze_random_inputs(3)(64, generator);  // (3L, n, 9)
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{9, 64, kDrqnInputs}));
  for (int64_t b = 0; b < 64; ++b) {
    // step 0: no previous action or reward, and the cue (up or down)
    EXPECT_EQ(x[0][b].narrow(0, 0, kTmazeActions + 1).abs().sum().item<float>(), 0.0f);
    EXPECT_EQ(x[0][b][kTmazeActions + 1].item<float>() + x[0][b][kTmazeActions + 2].item<float>(), 1.0f);
    // every later row is an input (one action, one observation) or zero padding after the end
    for (int64_t t = 1; t < 9; ++t) {
      const float actions = x[t][b].narrow(0, 0, kTmazeActions).sum().item<float>();
      const float observations = x[t][b].narrow(0, kTmazeActions + 1, kTmazeSymbols).sum().item<float>();
      EXPECT_EQ(actions, observations);
      EXPECT_TRUE(actions == 0.0f || actions == 1.0f);
    }
  }
  const auto cues = x[0].narrow(1, kTmazeActions + 1, 1).sum().item<float>();  // up cues among 64
  EXPECT_GT(cues, 16.0f);
  EXPECT_LT(cues, 48.0f);
}

TEST(Tmaze, CommandWritesItsRunFolder) {
  TempDir dir;
  const auto run = dir.path("run");
  const auto r = cli({"tmaze", "--length", "2", "--eval-lengths", "2,6", "--episodes", "80", "--eval-every", "40",
                      "--hidden", "8", "--quiet", "--threads", "1", "--out", run});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("result: T-maze L=2"), std::string::npos) << r.out;
  for (const auto& f : {"config.json", "metrics.jsonl", "model.safetensors", "report.json"})
    EXPECT_TRUE(file_exists(run + "/" + f)) << f;
  const auto report = nlohmann::json::parse(read_file(report_path(run), "report"));
  EXPECT_EQ(report.at("test").at("generalisation").size(), 2u);
  EXPECT_EQ(report.at("episodes_done").get<int64_t>(), 80);
  // the agent's Q-network exports to the runtime like any sequence model
  const auto exported = cli({"export", "--checkpoint", run, "--out", dir.path("agent.ncm")});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_NE(exported.out.find("gru, 2 layers of 8, input 9, output 4"), std::string::npos) << exported.out;
  // with warmup before training (random-agent episodes as the inputs)
  const auto warmed = cli({"tmaze", "--length", "2", "--episodes", "20", "--eval-every", "10", "--hidden", "8",
                           "--warmup", "3", "--warmup-max-settle", "20", "--quiet", "--threads", "1", "--out",
                           dir.path("warm")});
  ASSERT_EQ(warmed.code, 0) << warmed.err;
  const auto warm_report = nlohmann::json::parse(read_file(report_path(dir.path("warm")), "report"));
  EXPECT_EQ(warm_report.at("warmup").at("steps").get<int64_t>(), 3);
  EXPECT_EQ(warm_report.at("warmup").at("vaa_star").size(), 2u);  // one per layer
  const auto again = cli({"tmaze", "--episodes", "1", "--out", run});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("--overwrite"), std::string::npos) << again.err;
  EXPECT_NE(cli({"tmaze", "--length", "0", "--out", dir.path("x")}).code, 0);
}

}  // namespace
}  // namespace neurocell
