// The library's runs (src/runs/): the kind of a run folder from its config.json, old folders
// without "kind" included; a regression run trained and evaluated through runs:: alone; the
// RunWriter's refusal of an existing run; and the command line's list of subcommands.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "io/files.h"
#include "runs/runs.h"
#include "test_util.h"

namespace neurocell {
namespace {

using testing::cli;
using testing::TempDir;

void write_config(const std::string& dir, const nlohmann::json& config) {
  ensure_directory(dir);
  write_json_atomic(config_path(dir), config);
}

TEST(RunKind, DetectedFromConfigJsonIncludingFoldersWithoutKind) {
  TempDir dir;
  // As runs written before "kind" had them: a regression run and an SRC run.
  write_config(dir.path("old_regression"), {{"format", "neurocell-run-1"},
                                            {"model", {{"cell", "gru"}, {"layers", 1}, {"hidden_size", 4}}},
                                            {"task", {{"name", "copy-first-input"}, {"length", 10}}}});
  write_config(dir.path("old_src"), {{"format", "neurocell-run-1"},
                                     {"model", {{"cell", "src"}, {"layers", 2}, {"hidden_size", 12}}},
                                     {"task", {{"name", "spiking-mnist"}}},
                                     {"sparse_input", true}});
  EXPECT_EQ(detect_run_kind(dir.path("old_regression")), RunKind::regression);
  EXPECT_EQ(detect_run_kind(dir.path("old_src")), RunKind::spiking);
  for (auto kind : {RunKind::regression, RunKind::sequence_classification, RunKind::spiking, RunKind::tmaze}) {
    const auto folder = dir.path("new_" + run_kind_name(kind));
    write_config(folder, {{"kind", run_kind_name(kind)}, {"model", {{"cell", "gru"}}}});
    EXPECT_EQ(detect_run_kind(folder), kind) << run_kind_name(kind);
  }
  EXPECT_EQ(run_kind_name(RunKind::sequence_classification), "sequence-classification");
  // No config.json, or a corrupt one: the regression loader says what is wrong.
  EXPECT_EQ(detect_run_kind(dir.path("no_such_run")), RunKind::regression);
  ensure_directory(dir.path("corrupt"));
  write_file_atomic(config_path(dir.path("corrupt")), "{not json");
  EXPECT_EQ(detect_run_kind(dir.path("corrupt")), RunKind::regression);
  write_config(dir.path("alien"), {{"kind", "transformer"}});
  EXPECT_THROW(detect_run_kind(dir.path("alien")), Error);
}

TEST(Runs, TrainAndEvalARegressionRunWithoutTheCommandLine) {
  TempDir dir;
  RunConfig config;
  config.task.name = "copy-first-input";
  config.task.length = 10;
  config.model.cell = "gru";
  config.model.layers = 1;
  config.model.hidden_size = 6;
  config.train.steps = 6;
  config.train.batch_size = 8;
  config.train.eval_every = 3;
  config.train.validation_size = 16;
  config.train.test_size = 32;
  config.train.threads = 1;
  config.train.progress = false;
  const auto run = dir.path("run");
  const auto trained = runs::train(config, run, ExistingRun::refuse);
  EXPECT_EQ(trained.text.rfind("result: test MSE ", 0), 0u) << trained.text;
  EXPECT_EQ(trained.text.find('\n'), trained.text.size() - 1);  // one line
  const auto report = nlohmann::json::parse(read_file(report_path(run), "report"));
  EXPECT_EQ(report, trained.report);
  EXPECT_EQ(report["kind"], "regression");
  EXPECT_EQ(report["test"]["mse"].get<double>(), trained.value);
  EXPECT_EQ(nlohmann::json::parse(read_file(config_path(run), "config"))["kind"], "regression");
  EXPECT_EQ(detect_run_kind(run), RunKind::regression);
  // metrics.jsonl: one line per validation (steps 3 and 6), from the one stream of the run.
  std::istringstream metrics(read_file(metrics_path(run), "metrics"));
  std::string line;
  int lines = 0;
  while (std::getline(metrics, line)) ++lines;
  EXPECT_EQ(lines, 2);

  const auto evaluated = runs::eval(run);
  EXPECT_EQ(evaluated.value, trained.value);  // the same test set, the same weights
  EXPECT_EQ(evaluated.text.rfind("result: test MSE ", 0), 0u) << evaluated.text;

  // A folder written before "kind" (the same run without it) still evaluates the same.
  auto old_config = nlohmann::json::parse(read_file(config_path(run), "config"));
  old_config.erase("kind");
  write_json_atomic(config_path(run), old_config);
  EXPECT_EQ(runs::eval(run).value, trained.value);

  // The run folder is never overwritten by accident.
  try {
    runs::train(config, run, ExistingRun::refuse);
    FAIL() << "trained over an existing run";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already holds a run (config.json)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RunWriter("", false), Error);
}

TEST(Runs, EvalOfATmazeRunSaysWhereItsEvaluationIs) {
  TempDir dir;
  write_config(dir.path("maze"), {{"kind", "tmaze"}, {"model", {{"cell", "gru"}}}});
  try {
    runs::eval(dir.path("maze"));
    FAIL() << "evaluated a T-maze run";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("T-maze run"), std::string::npos) << e.what();
  }
}

// The subcommands as --help lists them.
std::vector<std::string> help_subcommands() {
  const auto help = cli({"--help"});
  std::istringstream lines(help.out);
  std::string line;
  std::vector<std::string> names;
  bool in_list = false;
  while (std::getline(lines, line)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_list = true;
      continue;
    }
    if (!in_list || line.empty() || line[0] != ' ') continue;
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

TEST(CliRegistration, EveryRegisteredSubcommandIsNamedInTheUnknownCommandError) {
  const auto names = help_subcommands();
  for (const auto* expected : {"train", "eval", "run", "export", "integer-src", "tmaze", "reproduce", "analog-noise",
                               "noise", "plot", "vaa", "warmup", "attractors", "bench", "report"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected << " not in --help";
  const auto r = cli({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("neurocell: error: unknown command 'frobnicate' (valid: ", 0), 0u) << r.err;
  for (const auto& name : names)
    EXPECT_TRUE(r.err.find(" " + name + ",") != std::string::npos || r.err.find(" " + name + ";") != std::string::npos)
        << name << ": " << r.err;
}

}  // namespace
}  // namespace neurocell
