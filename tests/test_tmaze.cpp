// The T-maze (tasks.md): observations, rewards and horizon as specified, the corridor's
// stochasticity and the warmup paper's exploration policy; the DRQN agent learns a corridor of
// length 3 (seeded, quick); the warmup-paper protocol's replay of transitions, optimality
// criterion, target period and refusals; `neurocell tmaze` writes its run folder with the
// horizon-generalisation evaluation.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>
#include <sstream>

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

TEST(Tmaze, StochasticityReplacesCorridorActionsOnly) {
  EXPECT_THROW(Tmaze(3, -0.1), Error);
  EXPECT_THROW(Tmaze(3, 1.5), Error);
  std::mt19937_64 random(7);
  {
    // lambda = 0 draws nothing: a deterministic maze stays bit-identical.
    Tmaze maze(3);
    maze.reset(true);
    const auto before = random;
    maze.step(A::right, random);
    maze.step(A::up, random);
    EXPECT_TRUE(random == before);
  }
  Tmaze maze(5, 0.4);
  maze.reset(true);
  EXPECT_THROW(maze.step(A::right), Error);  // a stochastic maze needs the generator
  // From cell 0, "right" moves with probability 1 - lambda + lambda / 4 = 0.7; its reward
  // stays the agent's own action's (0), whatever the maze executed.
  const int trials = 20000;
  int moved = 0;
  for (int k = 0; k < trials; ++k) {
    maze.reset(k % 2 == 0);
    const auto s = maze.step(A::right, random);
    EXPECT_EQ(s.reward, 0.0);
    moved += maze.position() == 1;
  }
  EXPECT_NEAR(static_cast<double>(moved) / trials, 0.7, 0.015);
  // An intended wall is a wall's -0.1 even when the replacement moved the agent.
  Tmaze always(5, 1.0);
  int walls = 0, moves = 0;
  for (int k = 0; k < 2000; ++k) {
    always.reset(true);
    const auto s = always.step(A::up, random);
    walls += s.reward == -0.1;
    moves += always.position() == 1;
  }
  EXPECT_EQ(walls, 2000);
  EXPECT_NEAR(moves / 2000.0, 0.25, 0.04);
  // No replacement at the junction: up there always enters the up goal.
  Tmaze short_maze(1, 1.0);
  int at_junction = 0;
  for (int k = 0; k < 400; ++k) {
    short_maze.reset(true);
    if (short_maze.step(A::right, random).observation != S::junction) continue;
    ++at_junction;
    const auto s = short_maze.step(A::up, random);
    EXPECT_TRUE(s.terminal);
    EXPECT_DOUBLE_EQ(s.reward, 4.0);
  }
  EXPECT_GT(at_junction, 50);
}

TEST(Tmaze, ExplorationPolicyIsTheWarmupPapers) {
  // environments.py:60-65: right 1/2, up, left and down 1/6 each.
  std::mt19937_64 random(3);
  std::map<A, int> counts;
  const int draws = 60000;
  for (int k = 0; k < draws; ++k) ++counts[tmaze_exploration_action(random)];
  EXPECT_NEAR(counts[A::right] / static_cast<double>(draws), 0.5, 0.01);
  for (A a : {A::up, A::left, A::down}) EXPECT_NEAR(counts[a] / static_cast<double>(draws), 1.0 / 6, 0.01);
}

// A scripted policy: `detours` wall bumps (up in the corridor) first, then right to the
// junction and the cued goal (or the other one when `wrong`).
TmazePolicy scripted(Tmaze& maze, int detours, bool wrong = false) {
  auto left = std::make_shared<int>(detours);
  return [&maze, left, wrong](const std::vector<float>&) {
    if (*left > 0) {
      --*left;
      return A::up;
    }
    if (maze.position() < maze.length()) return A::right;
    return maze.goal_up() != wrong ? A::up : A::down;
  };
}

TEST(Drqn, OptimalityIsTheShortestPathToTheGoalForBothCues) {
  const int64_t L = 4;
  Tmaze maze(L);
  std::mt19937_64 random(1);
  const auto up = play_tmaze(maze, true, scripted(maze, 0), random);
  const auto down = play_tmaze(maze, false, scripted(maze, 0), random);
  EXPECT_EQ(up.steps(), L + 1);
  auto e = judge_tmaze(up, down, L);
  EXPECT_TRUE(e.optimal);
  EXPECT_EQ(e.reached_goal, 1.0);
  EXPECT_DOUBLE_EQ(e.mean_return, 4.0);
  // One wall on the way: the goal is reached (neurocell's criterion) but not optimally.
  const auto bumped = play_tmaze(maze, false, scripted(maze, 1), random);
  EXPECT_EQ(bumped.steps(), L + 2);
  e = judge_tmaze(up, bumped, L);
  EXPECT_EQ(e.reached_goal, 1.0);
  EXPECT_EQ(e.success, 1.0);
  EXPECT_FALSE(e.optimal);
  EXPECT_EQ(e.steps_down, L + 2);
  // The wrong goal for one cue: half reached, not optimal.
  e = judge_tmaze(up, play_tmaze(maze, false, scripted(maze, 0, true), random), L);
  EXPECT_EQ(e.reached_goal, 0.5);
  EXPECT_FALSE(e.optimal);
  // A detour left and back (no wall, so the return is 4) is not the shortest path either.
  auto back_and_forth = std::make_shared<int>(0);
  const auto detour = play_tmaze(maze, true, [&maze, back_and_forth](const std::vector<float>&) {
    if (maze.position() == 1 && (*back_and_forth)++ == 0) return A::left;
    return maze.position() < maze.length() ? A::right : A::up;
  }, random);
  EXPECT_DOUBLE_EQ(detour.total_return(), 4.0);
  EXPECT_FALSE(judge_tmaze(detour, down, L).optimal);
  EXPECT_EQ(judge_tmaze(detour, down, L).reached_goal, 1.0);
}

TEST(Drqn, TransitionReplayKeepsPrefixesActionsRewardsTerminals) {
  EXPECT_EQ(WarmupPaperDrqn::replay_transitions, 8192);
  EXPECT_EQ(DrqnOptions{DrqnProtocol::warmup_paper}.resolved().replay_transitions.value(), 8192);
  Tmaze maze(3);
  std::mt19937_64 random(1);
  // right, up (a wall), right, right, up (the goal): 5 transitions, the last one terminal
  const auto episode = std::make_shared<const DrqnEpisode>(play_tmaze(maze, true, scripted(maze, 0), random));
  const auto bumped = std::make_shared<const DrqnEpisode>(play_tmaze(maze, true, [&maze](const std::vector<float>& h) {
    const size_t t = h.size() / kDrqnInputs - 1;
    if (t == 1) return A::up;
    return maze.position() < maze.length() ? A::right : A::up;
  }, random));
  ASSERT_EQ(bumped->steps(), 5);
  TransitionReplay replay(4);
  replay.add(bumped);
  // a ring of 4: the fifth transition overwrote the oldest (memory.py:126-131)
  ASSERT_TRUE(replay.full());
  EXPECT_EQ(replay.slot(0).step, 4);
  for (int i = 1; i < 4; ++i) EXPECT_EQ(replay.slot(i).step, i);
  EXPECT_EQ(replay.cursor(), 1);
  const int64_t I = kDrqnInputs;
  for (int i = 0; i < 4; ++i) {
    const auto tr = replay.transition(i);
    const int64_t t = replay.slot(i).step;
    ASSERT_EQ(static_cast<int64_t>(tr.history.size()), (t + 1) * I);
    ASSERT_EQ(static_cast<int64_t>(tr.next_history.size()), (t + 2) * I);
    EXPECT_TRUE(std::equal(tr.history.begin(), tr.history.end(), tr.next_history.begin()));  // a prefix
    EXPECT_EQ(tr.action, bumped->actions[t]);
    EXPECT_EQ(tr.reward, bumped->rewards[t]);
    EXPECT_EQ(tr.terminal, t == 4);
    // the next history's last row: the one-hot action taken and its reward
    const float* row = tr.next_history.data() + (t + 1) * I;
    EXPECT_EQ(row[tr.action], 1.0f);
    EXPECT_EQ(row[kTmazeActions], tr.reward);
  }
  EXPECT_EQ(replay.transition(1).reward, -0.1f);  // the wall
  EXPECT_EQ(replay.transition(0).reward, 4.0f);   // the goal
  // The first history is the cue alone: no previous action or reward.
  TransitionReplay whole(100);
  whole.add(episode);
  EXPECT_EQ(whole.size(), episode->steps());
  const auto first = whole.transition(0);
  ASSERT_EQ(static_cast<int64_t>(first.history.size()), I);
  EXPECT_EQ(first.history[kTmazeActions + 1 + static_cast<int>(S::up_cue)], 1.0f);
  // Sampling is uniform with replacement: more picks than transitions, each about as often.
  std::map<int64_t, int> picks;
  for (auto i : replay.sample(12000, random)) ++picks[i];
  ASSERT_EQ(picks.size(), 4u);
  for (const auto& [i, n] : picks) {
    EXPECT_GE(i, 0);
    EXPECT_LT(i, 4);
    EXPECT_NEAR(n / 12000.0, 0.25, 0.02);
  }
  EXPECT_THROW(TransitionReplay(0), Error);
  EXPECT_THROW(TransitionReplay(3).sample(1, random), Error);
}

SequenceModel small_q_network(int64_t hidden = 8) {
  torch::manual_seed(1);
  ModelConfig c;
  c.cell = "gru";
  c.layers = 2;
  c.hidden_size = hidden;
  c.input_size = kDrqnInputs;
  c.output_size = kTmazeActions;
  return SequenceModel(c);
}

TEST(Drqn, WarmupPaperEvaluatesEvery20EpisodesAndCopiesTheTargetEvery20) {
  auto q = small_q_network();
  DrqnOptions o;
  o.protocol = DrqnProtocol::warmup_paper;
  o.episodes = 45;
  o.eval_every = 5;
  o.replay_transitions = 256;
  std::ostringstream metrics;
  const auto report = train_drqn(q, 3, o, &metrics);
  EXPECT_EQ(report.protocol, DrqnProtocol::warmup_paper);
  EXPECT_EQ(report.episodes_done, 45);
  EXPECT_EQ(report.updates, 450);      // 10 per episode
  EXPECT_EQ(report.target_copies, 3);  // before episodes 0, 20 and 40
  std::istringstream lines(metrics.str());
  std::string line;
  std::vector<int64_t> evaluated;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    const int64_t e = j.at("episode").get<int64_t>();
    evaluated.push_back(e);
    // evaluated before episode e is played, so before its copy
    EXPECT_EQ(j.at("target_copied_at").get<int64_t>(), e == 0 ? -1 : (e - 1) / 20 * 20) << line;
    EXPECT_EQ(j.at("epsilon").get<double>(), 0.2);
    for (const char* key : {"optimal", "reached_goal", "greedy_return", "rollout_return", "vaa", "vaa_star"})
      EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_GT(j.at("vaa").get<double>(), 0.0);
    EXPECT_LE(j.at("vaa").get<double>(), 1.0);
    EXPECT_GT(j.at("vaa_star").get<double>(), 0.0);
    EXPECT_LE(j.at("vaa_star").get<double>(), 1.0 + 1e-6);
    EXPECT_EQ(j.at("updates").get<int64_t>(), 10 * e);
  }
  EXPECT_EQ(evaluated, (std::vector<int64_t>{0, 5, 10, 15, 20, 25, 30, 35, 40, 45}));
  // The default period is the paper's.
  EXPECT_EQ(DrqnOptions{DrqnProtocol::warmup_paper}.resolved().eval_every, 20);
  EXPECT_EQ(DrqnOptions{DrqnProtocol::warmup_paper}.resolved().episodes, 2000);
}

TEST(Drqn, WarmupPaperLearnsACorridorOfLengthThreeOptimally) {
  auto q = small_q_network(16);
  DrqnOptions o;
  o.protocol = DrqnProtocol::warmup_paper;
  o.episodes = 600;
  o.stop_when_solved = true;
  o.replay_transitions = 1024;
  const auto report = train_drqn(q, 3, o, nullptr);
  EXPECT_GE(report.episode_optimality, 0) << "never optimal in " << report.episodes_done << " episodes";
  EXPECT_EQ(report.episode_optimality, report.episodes_done);  // stop_when_solved: at the first optimal evaluation
  EXPECT_TRUE(evaluate_tmaze(q, 3).optimal);
}

TEST(Drqn, EachProtocolRefusesTheOtherOnesOptions) {
  DrqnOptions paper;
  paper.protocol = DrqnProtocol::warmup_paper;
  EXPECT_NO_THROW(paper.validate());
  const auto refused = [](DrqnOptions o, const std::string& flag) {
    try {
      o.validate();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(flag), std::string::npos) << e.what();
      return true;
    }
    return false;
  };
  auto o = paper;
  o.batch_episodes = 16;  // even at neurocell's default value: given, so refused
  EXPECT_TRUE(refused(o, "--batch-episodes"));
  o = paper;
  o.target_every = 50;
  EXPECT_TRUE(refused(o, "--target-every"));
  o = paper;
  o.epsilon_decay = 0.5;
  EXPECT_TRUE(refused(o, "--epsilon-decay"));
  DrqnOptions neurocell;
  neurocell.replay_transitions = 8192;
  EXPECT_TRUE(refused(neurocell, "--replay-transitions"));
  EXPECT_THROW(drqn_protocol_from_name("paper"), Error);
  EXPECT_EQ(drqn_protocol_from_name("warmup-paper"), DrqnProtocol::warmup_paper);
  // The command says which flag and why, in one line.
  TempDir dir;
  auto r = cli({"tmaze", "--protocol", "warmup-paper", "--batch-episodes", "16", "--quiet", "--out", dir.path("a")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--batch-episodes is an option of --protocol neurocell"), std::string::npos) << r.err;
  r = cli({"tmaze", "--protocol", "warmup-paper", "--epsilon-decay", "0.3", "--quiet", "--out", dir.path("b")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--epsilon-decay"), std::string::npos) << r.err;
  r = cli({"tmaze", "--replay-transitions", "100", "--quiet", "--out", dir.path("c")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--replay-transitions is an option of --protocol warmup-paper"), std::string::npos) << r.err;
  EXPECT_NE(cli({"tmaze", "--protocol", "bogus", "--out", dir.path("d")}).code, 0);
  r = cli({"tmaze", "--stochasticity", "1.5", "--quiet", "--out", dir.path("e")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--stochasticity"), std::string::npos) << r.err;
  EXPECT_FALSE(file_exists(dir.path("a") + "/config.json"));
}

TEST(Drqn, WarmupPaperCommandNamesItsProtocolAndCriterion) {
  TempDir dir;
  const auto run = dir.path("paper");
  const auto r = cli({"tmaze", "--protocol", "warmup-paper", "--length", "2", "--eval-lengths", "2,4", "--episodes",
                      "40", "--hidden", "8", "--replay-transitions", "512", "--stochasticity", "0.1", "--quiet",
                      "--threads", "1", "--out", run});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("protocol warmup-paper"), std::string::npos) << r.out;
  const auto config = nlohmann::json::parse(read_file(run + "/config.json", "config"));
  const auto& drqn = config.at("drqn");
  EXPECT_EQ(drqn.at("protocol"), "warmup-paper");
  EXPECT_EQ(drqn.at("replay_transitions").get<int64_t>(), 512);
  EXPECT_EQ(drqn.at("batch_transitions").get<int64_t>(), 32);
  EXPECT_EQ(drqn.at("target_every_episodes").get<int64_t>(), 20);
  EXPECT_TRUE(drqn.at("gradient_clip").is_null());
  EXPECT_FALSE(drqn.contains("batch_episodes"));  // only the protocol's own options
  EXPECT_DOUBLE_EQ(config.at("task").at("stochasticity").get<double>(), 0.1);
  const auto report = nlohmann::json::parse(read_file(report_path(run), "report"));
  EXPECT_EQ(report.at("protocol"), "warmup-paper");
  EXPECT_TRUE(report.contains("episode_optimality"));
  EXPECT_EQ(report.at("episodes_done").get<int64_t>(), 40);
  for (const char* key : {"reached_goal", "optimal", "success"}) EXPECT_TRUE(report.at("test").contains(key)) << key;
  EXPECT_EQ(report.at("test").at("generalisation").size(), 2u);
  EXPECT_TRUE(report.at("test").at("generalisation")[1].contains("optimal"));
  // evaluations at episodes 0, 20, 40
  std::istringstream lines(read_file(metrics_path(run), "metrics"));
  std::string line;
  int evaluations = 0;
  while (std::getline(lines, line)) evaluations += nlohmann::json::parse(line).contains("optimal");
  EXPECT_EQ(evaluations, 3);
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
  // today's protocol by default, named; both criteria side by side
  EXPECT_EQ(report.at("protocol"), "neurocell");
  EXPECT_EQ(report.at("test").at("reached_goal"), report.at("test").at("success"));
  EXPECT_TRUE(report.at("test").contains("optimal"));
  EXPECT_EQ(nlohmann::json::parse(read_file(run + "/config.json", "config")).at("drqn").at("protocol"), "neurocell");
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
  // the trained agent's VAA on the maze's random-agent inputs, with its protocol
  ASSERT_TRUE(report.contains("vaa")) << report.dump();
  EXPECT_GT(report.at("vaa").at("vaa").get<double>(), 0.0);
  EXPECT_LE(report.at("vaa").at("vaa").get<double>(), 1.0);
  EXPECT_EQ(report.at("vaa").at("batches").get<int64_t>(), 10);
  EXPECT_NE(r.out.find("VAA "), std::string::npos) << r.out;
}

// The signal maze (tasks/tmaze.h): the signal shows once, at its cell's first entry; a late
// signal (within W cells of the junction) swaps the goal that pays, an early one does not.
TEST(Tmaze, SignalMazeObservationsAndGoals) {
  const int64_t L = 6;  // W = 3: late cells 3, 4, 5; early cells 1, 2
  Tmaze maze(L, 0.0, TmazeVariant::signal);
  EXPECT_EQ(maze.symbols(), 5);
  EXPECT_EQ(drqn_inputs(TmazeVariant::signal), 10);
  EXPECT_THROW(maze.reset(true), Error);      // the signal cell is required
  EXPECT_THROW(maze.reset(true, 0), Error);   // 1..L-1
  EXPECT_THROW(maze.reset(true, L), Error);
  EXPECT_THROW(Tmaze(4, 0.0, TmazeVariant::signal), Error);  // L >= W + 2
  EXPECT_THROW(Tmaze(6, 0.0, TmazeVariant::signal, 0), Error);
  EXPECT_THROW(Tmaze(6).reset(true, 2), Error);  // the cue maze has no signal
  EXPECT_THROW(tmaze_variant_from_name("signals"), Error);
  EXPECT_EQ(tmaze_variant_from_name(tmaze_variant_name(TmazeVariant::signal)), TmazeVariant::signal);

  // a late signal at cell 4: shown on the first entry only; the down goal pays for the up cue
  EXPECT_EQ(maze.reset(true, 4), S::up_cue);
  EXPECT_TRUE(!maze.rewarded_up());
  for (int k = 1; k <= 3; ++k) EXPECT_EQ(maze.step(A::right).observation, S::corridor) << k;
  EXPECT_EQ(maze.step(A::right).observation, S::signal);
  EXPECT_EQ(maze.step(A::up).observation, S::corridor);    // a wall at the signal cell: not shown again
  EXPECT_EQ(maze.step(A::left).observation, S::corridor);
  EXPECT_EQ(maze.step(A::right).observation, S::corridor);  // re-entered: not shown again
  maze.step(A::right);
  EXPECT_EQ(maze.step(A::right).observation, S::junction);
  auto s = maze.step(A::up);  // the cue's goal, swapped away
  EXPECT_DOUBLE_EQ(s.reward, kTmazePenalty);
  EXPECT_TRUE(s.terminal);
  maze.reset(true, 4);
  for (int k = 0; k < L; ++k) maze.step(A::right);
  EXPECT_DOUBLE_EQ(maze.step(A::down).reward, kTmazeGoalReward);
  // an early signal at cell 2: the cue's goal pays
  maze.reset(false, 2);
  EXPECT_FALSE(maze.rewarded_up());
  maze.step(A::right);
  EXPECT_EQ(maze.step(A::right).observation, S::signal);
  for (int k = 2; k < L; ++k) maze.step(A::right);
  EXPECT_DOUBLE_EQ(maze.step(A::down).reward, kTmazeGoalReward);

  // drawn cells: late (3..5) or early (1..2), about half each, every cell drawn
  std::mt19937_64 random(1);
  std::map<int64_t, int> counts;
  for (int k = 0; k < 6000; ++k) ++counts[maze.draw_signal_cell(random)];
  ASSERT_EQ(counts.size(), 5u);
  EXPECT_EQ(counts.begin()->first, 1);
  EXPECT_EQ(counts.rbegin()->first, 5);
  EXPECT_NEAR((counts[3] + counts[4] + counts[5]) / 6000.0, 0.5, 0.03);
  EXPECT_NEAR(counts[1] / 6000.0, 0.25, 0.03);
  EXPECT_NEAR(counts[4] / 6000.0, 1.0 / 6, 0.03);
  std::mt19937_64 untouched(1), cue_draws(1);
  EXPECT_EQ(Tmaze(6).draw_signal_cell(cue_draws), 0);  // the cue maze draws nothing
  EXPECT_EQ(cue_draws(), untouched());
  // the evaluation's cells: early 1, the middle one and L-W-1, then every late cell
  EXPECT_EQ(Tmaze(10, 0.0, TmazeVariant::signal).evaluation_signal_cells(), (std::vector<int64_t>{1, 3, 6, 7, 8, 9}));
  EXPECT_EQ(Tmaze(5, 0.0, TmazeVariant::signal).evaluation_signal_cells(), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(Tmaze(10).evaluation_signal_cells(), (std::vector<int64_t>{0}));
}

// Policies judged on the evaluation's episodes: one that combines the cue with a recent signal
// is optimal at every length; one that keeps the signal forever fails the early signals, and
// one that ignores it fails the late ones.
TEST(Tmaze, SignalMazeNeedsTheCueAndARecentSignal) {
  const int64_t W = kTmazeSignalWindow, width = drqn_inputs(TmazeVariant::signal);
  // forget_after: steps after which the policy forgets the signal (-1: never)
  const auto judged = [&](int64_t L, int64_t forget_after, bool use_signal) {
    Tmaze maze(L, 0.0, TmazeVariant::signal);
    std::mt19937_64 random(1);
    std::vector<DrqnEpisode> played;
    for (int64_t cell : maze.evaluation_signal_cells())
      for (bool up : {true, false})
        played.push_back(play_tmaze(maze, up, [&, forget_after, use_signal](const std::vector<float>& h) {
          const int64_t t = static_cast<int64_t>(h.size()) / width - 1;
          if (t < L) return A::right;
          const bool cue_up = h[kTmazeActions + 1 + static_cast<int>(S::up_cue)] == 1.0f;
          bool recent = false;
          for (int64_t r = 0; r <= t; ++r)
            if (h[static_cast<size_t>(r * width + kTmazeActions + 1 + static_cast<int>(S::signal))] == 1.0f)
              recent = forget_after < 0 || t - r <= forget_after;
          return (cue_up != (use_signal && recent)) ? A::up : A::down;
        }, random, cell));
    std::vector<const DrqnEpisode*> episodes;
    for (const auto& e : played) episodes.push_back(&e);
    return judge_tmaze(episodes, L);
  };
  for (int64_t L : {5, 10, 50, 200}) {
    const auto right = judged(L, W, true);
    EXPECT_TRUE(right.optimal) << L;
    EXPECT_DOUBLE_EQ(right.success, 1.0) << L;
    EXPECT_EQ(right.episodes, 2 * static_cast<int64_t>(Tmaze(L, 0.0, TmazeVariant::signal).evaluation_signal_cells().size()));
    EXPECT_LT(judged(L, -1, true).success, 1.0) << L;   // latches the signal: early signals go wrong
    EXPECT_LT(judged(L, W, false).success, 1.0) << L;   // ignores it: late signals go wrong
  }
}

TEST(Tmaze, SignalMazeCommandWritesItsRunFolder) {
  TempDir dir;
  const auto run = dir.path("run");
  const auto r = cli({"tmaze", "--maze", "signal", "--length", "5", "--eval-lengths", "5,10", "--episodes", "40",
                      "--eval-every", "20", "--hidden", "8", "--vaa-batches", "2", "--vaa-settle", "100", "--quiet",
                      "--threads", "1", "--out", run});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("result: signal T-maze L=5"), std::string::npos) << r.out;
  const auto config = nlohmann::json::parse(read_file(run + "/config.json", "config"));
  EXPECT_EQ(config.at("task").at("maze"), "signal");
  EXPECT_EQ(config.at("task").at("signal_window").get<int64_t>(), 3);
  EXPECT_EQ(config.at("model").at("input_size").get<int64_t>(), 10);
  const auto report = nlohmann::json::parse(read_file(report_path(run), "report"));
  EXPECT_EQ(report.at("test").at("generalisation").size(), 2u);
  EXPECT_EQ(report.at("vaa").at("batches").get<int64_t>(), 2);
  // `neurocell vaa` measures a T-maze agent on its own maze's inputs: the report's number
  const auto vaa = cli({"vaa", "--checkpoint", run, "--vaa-batches", "2", "--vaa-settle", "100", "--quiet"});
  ASSERT_EQ(vaa.code, 0) << vaa.err;
  char expected[32];
  std::snprintf(expected, sizeof expected, "VAA %.4f", report.at("vaa").at("vaa").get<double>());
  EXPECT_EQ(vaa.out.rfind(expected, 0), 0u) << vaa.out;
  EXPECT_NE(vaa.out.find("signal maze, L = 5"), std::string::npos) << vaa.out;
  // the cue maze's config names no maze (its runs made before the signal maze still resume)
  const auto cue = cli({"tmaze", "--length", "3", "--episodes", "10", "--eval-every", "10", "--hidden", "4",
                        "--vaa-batches", "0", "--quiet", "--threads", "1", "--out", dir.path("cue")});
  ASSERT_EQ(cue.code, 0) << cue.err;
  EXPECT_FALSE(nlohmann::json::parse(read_file(dir.path("cue") + "/config.json", "config")).at("task").contains("maze"));
  EXPECT_FALSE(nlohmann::json::parse(read_file(report_path(dir.path("cue")), "report")).contains("vaa"));
  // refusals, one line each
  const auto short_maze = cli({"tmaze", "--maze", "signal", "--length", "4", "--out", dir.path("x")});
  EXPECT_NE(short_maze.code, 0);
  EXPECT_NE(short_maze.err.find("L >= signal window + 2"), std::string::npos) << short_maze.err;
  EXPECT_NE(cli({"tmaze", "--maze", "other", "--out", dir.path("y")}).code, 0);
  EXPECT_NE(cli({"tmaze", "--maze", "signal", "--length", "6", "--signal-window", "0", "--out", dir.path("z")}).code, 0);
}

}  // namespace
}  // namespace neurocell
