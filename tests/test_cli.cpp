// The command line end to end, in-process: a tiny training run, eval, run, and the bad
// inputs a user can give (each a one-line error, a non-zero exit and no partial file).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/gates.h"
#include "cli/cli.h"
#include "io/files.h"
#include "io/npy.h"
#include "runs/run_folder.h"
#include "train/checkpoint.h"
#include "test_util.h"

namespace neurocell {
namespace {

using testing::TempDir;

using testing::cli;
using testing::CliResult;

// One tiny trained run shared by the tests of this file.
class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto r = cli({"train", "--task", "denoising", "--cell", "lstm", "--layers", "2", "--hidden", "6",
                        "--length", "15", "--steps", "12", "--batch", "8", "--eval-every", "5",
                        "--val-size", "16", "--test-size", "32", "--seed", "3", "--quiet", "--out", run_dir()});
    train_code_ = r.code;
    train_out_ = r.out;
    train_err_ = r.err;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string run_dir() { return dir_->path("run"); }
  static TempDir* dir_;
  static int train_code_;
  static std::string train_out_, train_err_;
};
TempDir* CliTest::dir_ = nullptr;
int CliTest::train_code_ = -1;
std::string CliTest::train_out_, CliTest::train_err_;

TEST_F(CliTest, TrainWritesTheRunFolderAndASummary) {
  ASSERT_EQ(train_code_, 0) << train_err_;
  EXPECT_NE(train_out_.find("result: test MSE"), std::string::npos) << train_out_;
  EXPECT_NE(train_out_.find("chance"), std::string::npos);
  for (const auto& f : {"config.json", "metrics.jsonl", "model.safetensors", "report.json"})
    EXPECT_TRUE(file_exists(run_dir() + "/" + f)) << f;
  const auto report = nlohmann::json::parse(read_file(report_path(run_dir()), "report"));
  EXPECT_EQ(report["task"]["name"], "denoising");
  EXPECT_EQ(report["cell"], "lstm");
  EXPECT_EQ(report["steps_done"], 12);
  EXPECT_TRUE(report["test"]["mse"].is_number());
  EXPECT_TRUE(report["wall_time_s"].is_number());
  std::ifstream metrics(metrics_path(run_dir()));
  std::string line;
  int lines = 0;
  while (std::getline(metrics, line)) {
    EXPECT_TRUE(nlohmann::json::parse(line).contains("validation_mse"));
    ++lines;
  }
  EXPECT_EQ(lines, 3);  // steps 5, 10 and the last
}

TEST_F(CliTest, EvalReproducesTheReportedTestMse) {
  ASSERT_EQ(train_code_, 0);
  const auto report = nlohmann::json::parse(read_file(report_path(run_dir()), "report"));
  const auto r = cli({"eval", "--checkpoint", run_dir()});
  ASSERT_EQ(r.code, 0) << r.err;
  char expected[64];
  std::snprintf(expected, sizeof expected, "test MSE %.6g", report["test"]["mse"].get<double>());
  EXPECT_NE(r.out.find(expected), std::string::npos) << r.out << " vs " << expected;
}

TEST_F(CliTest, RunWritesEveryLayersStatesEqualToTheInProcessForward) {
  ASSERT_EQ(train_code_, 0);
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    const auto x = torch::randn({7, 3, 2}, dtype);
    write_npy(dir_->path("x.npy"), x);
    const auto r = cli({"run", "--checkpoint", run_dir(), "--input", dir_->path("x.npy"), "--output",
                        dir_->path("y.npy")});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto y = read_npy(dir_->path("y.npy"));
    auto run = load_run(run_dir());
    run.model->to(dtype);
    torch::NoGradGuard g;
    const auto expected = run.model->all_states(x);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{7, 3, 24}));  // 2 layers x (h, c) x 6
    EXPECT_EQ(y.scalar_type(), dtype);
    EXPECT_TRUE(torch::equal(y, expected));
  }
}

// `run --gates` writes the gate traces of a BRC / nBRC run (per layer a_t, then c_t), the run's
// report holds its share of bistable units, and other cells are refused.
TEST(CliGates, RunWritesTheBistableCellsGateTraces) {
  TempDir dir;
  const auto run = dir.path("nbrc");
  const auto r = cli({"train", "--task", "copy-first-input", "--cell", "nbrc", "--layers", "2", "--hidden", "5",
                      "--length", "12", "--steps", "3", "--batch", "8", "--eval-every", "3", "--val-size", "16",
                      "--test-size", "16", "--quiet", "--out", run});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto report = nlohmann::json::parse(read_file(report_path(run), "report"));
  const double fraction = report.at("bistable_fraction").at("value").get<double>();
  EXPECT_GE(fraction, 0.0);
  EXPECT_LE(fraction, 1.0);
  const auto x = torch::randn({7, 3, 1}, torch::kFloat64);
  write_npy(dir.path("x.npy"), x);
  const auto g = cli({"run", "--checkpoint", run, "--input", dir.path("x.npy"), "--output", dir.path("g.npy"), "--gates"});
  ASSERT_EQ(g.code, 0) << g.err;
  EXPECT_NE(g.out.find("gate traces a, c (T=7, B=3, G=20)"), std::string::npos) << g.out;
  const auto gates = read_npy(dir.path("g.npy"));  // (T, B, [a0 c0 a1 c1])
  auto loaded = load_run(run);
  loaded.model->to(torch::kFloat64);
  const auto expected = analysis::bistable_gates(loaded.model, x);
  EXPECT_TRUE(torch::equal(gates.narrow(2, 0, 5), expected.a[0]));
  EXPECT_TRUE(torch::equal(gates.narrow(2, 5, 5), expected.c[0]));
  EXPECT_TRUE(torch::equal(gates.narrow(2, 15, 5), expected.c[1]));
  const auto both = cli({"run", "--checkpoint", run, "--input", dir.path("x.npy"), "--output", dir.path("b.npy"),
                         "--gates", "--predict"});
  EXPECT_NE(both.code, 0);
  EXPECT_FALSE(file_exists(dir.path("b.npy")));
  const auto lstm = dir.path("lstm");
  ASSERT_EQ(cli({"train", "--task", "copy-first-input", "--cell", "lstm", "--layers", "1", "--hidden", "3", "--length",
                 "5", "--steps", "1", "--batch", "4", "--eval-every", "1", "--val-size", "4", "--test-size", "4",
                 "--quiet", "--out", lstm})
                .code,
            0);
  EXPECT_FALSE(nlohmann::json::parse(read_file(report_path(lstm), "report")).contains("bistable_fraction"));
  const auto refused = cli({"run", "--checkpoint", lstm, "--input", dir.path("x.npy"), "--output", dir.path("l.npy"),
                            "--gates"});
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("BRC and nBRC"), std::string::npos) << refused.err;
}

void expect_clean_failure(const CliResult& r, const std::string& text) {
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find(text), std::string::npos) << "stderr: " << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos);
}

TEST_F(CliTest, BadInputsGiveAClearErrorAndWriteNothing) {
  ASSERT_EQ(train_code_, 0);
  const std::string out = dir_->path("y_bad.npy");
  write_npy(dir_->path("wide.npy"), torch::randn({5, 2, 3}));
  expect_clean_failure(cli({"run", "--checkpoint", run_dir(), "--input", dir_->path("wide.npy"), "--output", out}),
                       "input width I=3 but the model reads I=2");
  write_npy(dir_->path("flat.npy"), torch::randn({5, 2}));
  expect_clean_failure(cli({"run", "--checkpoint", run_dir(), "--input", dir_->path("flat.npy"), "--output", out}),
                       "must have shape (T, B, I=2)");
  auto with_nan = torch::randn({5, 2, 2});
  with_nan[1][1][0] = std::nan("");
  write_npy(dir_->path("nan.npy"), with_nan);
  expect_clean_failure(cli({"run", "--checkpoint", run_dir(), "--input", dir_->path("nan.npy"), "--output", out}),
                       "NaN");
  write_npy(dir_->path("int.npy"), torch::ones({5, 2, 2}, torch::kInt64));
  expect_clean_failure(cli({"run", "--checkpoint", run_dir(), "--input", dir_->path("int.npy"), "--output", out}),
                       "float32 or float64");
  expect_clean_failure(cli({"run", "--checkpoint", run_dir(), "--input", dir_->path("none.npy"), "--output", out}),
                       "not found");
  EXPECT_FALSE(file_exists(out));

  expect_clean_failure(cli({"eval", "--checkpoint", dir_->path("no_such_run")}), "not found");
  expect_clean_failure(cli({"train", "--cell", "transformer", "--out", dir_->path("x")}), "transformer");
  expect_clean_failure(cli({"train", "--task", "copy-everything", "--out", dir_->path("x")}), "copy-everything");
  expect_clean_failure(cli({"train", "--hidden", "0", "--out", dir_->path("x")}), "--hidden must be >= 1");
  expect_clean_failure(cli({"train", "--double", "--hidden", "7", "--out", dir_->path("x")}), "even --hidden");
  expect_clean_failure(cli({"train", "--task", "denoising", "--length", "8", "--out", dir_->path("x")}),
                       "--length");
  expect_clean_failure(cli({"train", "--steps", "abc", "--out", dir_->path("x")}), "--steps");
  expect_clean_failure(cli({"train", "--lr", "-1", "--out", dir_->path("x")}), "--lr");
  expect_clean_failure(cli({"frobnicate"}), "frobnicate");
  EXPECT_FALSE(file_exists(dir_->path("x")));
  // An existing run is never overwritten by accident.
  expect_clean_failure(cli({"train", "--steps", "1", "--out", run_dir()}), "already holds a run");
}

TEST_F(CliTest, CorruptCheckpointFilesAreRejected) {
  ASSERT_EQ(train_code_, 0);
  const std::string copy = dir_->path("corrupt");
  std::filesystem::create_directories(copy);
  std::filesystem::copy_file(config_path(run_dir()), config_path(copy));
  const auto weights = read_file(weights_path(run_dir()), "weights");
  write_file_atomic(weights_path(copy), weights.substr(0, weights.size() / 2));
  expect_clean_failure(cli({"eval", "--checkpoint", copy}), "truncated or corrupt");
  std::filesystem::remove(weights_path(copy));
  expect_clean_failure(cli({"eval", "--checkpoint", copy}), "model.safetensors' not found");
  write_file_atomic(config_path(copy), "{ not json");
  expect_clean_failure(cli({"eval", "--checkpoint", copy}), "not valid JSON");
}

}  // namespace
}  // namespace neurocell
