// `neurocell reproduce`: a suite runs as child processes (--jobs), resumes (finished runs are
// skipped, an interrupted one is redone), writes its table and pictures; --quick budgets,
// --list, --only and --slurm; the committed suites all parse.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "io/files.h"
#include "test_util.h"
#include "train/checkpoint.h"

namespace neurocell {
namespace {

using testing::cli;
using testing::TempDir;

const char* kSuite = R"({
  "name": "tiny", "title": "A tiny suite", "paper": "none", "claims": ["it runs"],
  "experiments": [
    {"id": "copy", "title": "copy T=8", "metric": "mse",
     "args": {"--task": "copy-first-input", "--length": 8, "--layers": 1, "--hidden": 4, "--steps": 4,
              "--batch": 4, "--eval-every": 2, "--val-size": 8, "--test-size": 16},
     "cells": ["gru", "brc"], "seeds": [1, 2],
     "quick": {"args": {"--steps": 2}, "seeds": [1]}},
    {"id": "maze", "title": "T-maze L=2", "command": "tmaze", "metric": "success",
     "args": {"--length": 2, "--eval-lengths": "2,4", "--episodes": 20, "--eval-every": 10, "--hidden": 4},
     "variants": [{"name": "gru-agent", "args": {"--cell": "gru"}}], "seeds": [3]}
  ]})";

class Reproduce : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("NEUROCELL_EXECUTABLE", NEUROCELL_BINARY, 1);
    std::ofstream(dir.path("tiny.json")) << kSuite;
  }
  TempDir dir;
};

TEST_F(Reproduce, RunsResumesAndWritesTheTable) {
  const auto out = dir.path("out");
  const auto r = cli({"reproduce", "--suite-file", dir.path("tiny.json"), "--out", out, "--jobs", "2"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("5 runs, 0 done, 5 to run now, 2 at a time"), std::string::npos) << r.out;
  for (const char* run : {"copy/gru-s1", "copy/gru-s2", "copy/brc-s1", "copy/brc-s2", "maze/gru-agent-s3"})
    EXPECT_TRUE(file_exists(out + "/" + run + "/report.json")) << run;
  const auto md = read_file(out + "/results.md", "results");
  EXPECT_NE(md.find("| gru | 2/2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| gru-agent | 1/1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("- it runs"), std::string::npos) << md;
  EXPECT_NE(md.find("| gru-agent | 1/1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("L = 4 |"), std::string::npos) << md;  // the T-maze's horizon generalisation  // the paper's claims, beside the results
  EXPECT_NE(md.find("neurocell train"), std::string::npos) << md;  // the exact command of a run
  for (const char* picture : {"copy-curves.png", "copy-bars.png", "maze-curves.png", "maze-bars.png"})
    EXPECT_TRUE(file_exists(out + "/" + picture)) << picture;
  const auto json = nlohmann::json::parse(read_file(out + "/results.json", "results"));
  ASSERT_EQ(json.at("experiments").size(), 2u);
  EXPECT_EQ(json.at("experiments")[0].at("runs").size(), 4u);
  // The T-maze's horizon counts and VAA are the run's report's.
  const auto maze = nlohmann::json::parse(read_file(report_path(out + "/maze/gru-agent-s3"), "report"));
  const auto& horizon = json.at("experiments")[1].at("horizon").at("gru-agent");
  const auto& at_l = maze.at("test").at("generalisation")[0];
  EXPECT_EQ(horizon.at("solved_at_training_length").get<int64_t>(), at_l.at("success").get<double>() == 1.0 ? 1 : 0);
  EXPECT_EQ(horizon.at("optimal_at_training_length").get<int64_t>(), at_l.at("optimal").get<bool>() ? 1 : 0);
  EXPECT_DOUBLE_EQ(horizon.at("mean_vaa").get<double>(), maze.at("vaa").at("vaa").get<double>());
  EXPECT_NE(md.find("VAA (mean over seeds)"), std::string::npos) << md;

  // Again: nothing to run, the finished runs untouched.
  const auto stamp = std::filesystem::last_write_time(report_path(out + "/copy/gru-s1"));
  const auto again = cli({"reproduce", "--suite-file", dir.path("tiny.json"), "--out", out});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("5 done, 0 to run now"), std::string::npos) << again.out;
  EXPECT_EQ(std::filesystem::last_write_time(report_path(out + "/copy/gru-s1")), stamp);

  // An interrupted run (a folder without its report) is redone, and only it.
  std::filesystem::remove(report_path(out + "/copy/brc-s2"));
  const auto resumed = cli({"reproduce", "--suite-file", dir.path("tiny.json"), "--out", out});
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("4 done, 1 to run now"), std::string::npos) << resumed.out;
  EXPECT_TRUE(file_exists(report_path(out + "/copy/brc-s2")));

  // A changed budget makes the runs it concerns stale: they run again, the others stay.
  auto changed = nlohmann::json::parse(kSuite);
  changed["experiments"][1]["args"]["--episodes"] = 30;
  std::ofstream(dir.path("tiny.json")) << changed.dump();
  const auto rerun = cli({"reproduce", "--suite-file", dir.path("tiny.json"), "--out", out});
  ASSERT_EQ(rerun.code, 0) << rerun.err;
  EXPECT_NE(rerun.out.find("4 done, 1 to run now"), std::string::npos) << rerun.out;
  const auto maze_report = nlohmann::json::parse(read_file(report_path(out + "/maze/gru-agent-s3"), "report"));
  EXPECT_EQ(maze_report.at("episodes_done").get<int64_t>(), 30);
}

TEST_F(Reproduce, QuickListOnlyAndSlurm) {
  const auto out = dir.path("quick");
  const auto list = cli({"reproduce", "--suite-file", dir.path("tiny.json"), "--quick", "--out", out, "--list"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("--steps 2"), std::string::npos) << list.out;  // the quick budget
  EXPECT_EQ(list.out.find("gru-s2"), std::string::npos) << list.out;     // and its seeds
  EXPECT_NE(list.out.find("  0 pending"), std::string::npos) << list.out;

  const auto one = cli({"reproduce", "--suite-file", dir.path("tiny.json"), "--quick", "--out", out, "--only", "1"});
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_TRUE(file_exists(out + "/copy/brc-s1/report.json"));
  EXPECT_FALSE(file_exists(out + "/copy/gru-s1/report.json"));
  EXPECT_NE(cli({"reproduce", "--suite-file", dir.path("tiny.json"), "--quick", "--out", out, "--only", "9"}).code, 0);

  const auto script = dir.path("array.sh");
  const auto slurm = cli({"reproduce", "--suite-file", dir.path("tiny.json"), "--out", out, "--slurm", script});
  ASSERT_EQ(slurm.code, 0) << slurm.err;
  const auto text = read_file(script, "script");
  EXPECT_NE(text.find("#SBATCH --array=0-4"), std::string::npos) << text;
  EXPECT_NE(text.find("--only \"$SLURM_ARRAY_TASK_ID\""), std::string::npos) << text;
  EXPECT_NE(text.find("--table-only"), std::string::npos) << text;
}

TEST_F(Reproduce, BadSuitesAreRefusedAndTheCommittedOnesParse) {
  std::ofstream(dir.path("broken.json")) << "{\"name\": \"x\", \"experiments\": [";
  auto r = cli({"reproduce", "--suite-file", dir.path("broken.json"), "--list"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
  std::ofstream(dir.path("metric.json")) << R"({"name": "x", "experiments": [{"id": "a", "metric": "speed", "cells": ["gru"]}]})";
  r = cli({"reproduce", "--suite-file", dir.path("metric.json"), "--list"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("metric must be"), std::string::npos) << r.err;
  r = cli({"reproduce", "no-such-suite", "--list"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("configs/suites"), std::string::npos) << r.err;
  for (const char* suite : {"bistable", "warmup", "mru", "src", "horizon", "nmd"})
    for (bool quick : {false, true}) {
      std::vector<std::string> args = {"reproduce", suite, "--out", dir.path(suite), "--list"};
      if (quick) args.push_back("--quick");
      const auto listed = cli(args);
      EXPECT_EQ(listed.code, 0) << suite << ": " << listed.err;
      EXPECT_NE(listed.out.find("neurocell "), std::string::npos) << suite;
    }
}

}  // namespace
}  // namespace neurocell
