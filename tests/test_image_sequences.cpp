// The MNIST family as sequences (tasks/image_sequences.h) and its classification runs: the
// permutation is fixed by its seed, stored with the run and checked when the run is loaded;
// pixels and rows arrive in the stated order with black steps appended; a GRU learns row
// MNIST; train and eval of a run folder agree.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <numeric>

#include "runs/sequence_classification.h"
#include "core/error.h"
#include "io/files.h"
#include "tasks/image_sequences.h"
#include "tasks/mnist.h"
#include "test_util.h"
#include "train/checkpoint.h"

namespace neurocell {
namespace {

using testing::cli;
using testing::TempDir;

using testing::have_mnist;

TEST(ImageSequences, PermutationIsFixedBySeed) {
  const auto a = seeded_permutation(7, 784), b = seeded_permutation(7, 784), c = seeded_permutation(8, 784);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(784);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);  // a permutation
  // pinned (computed independently in Python): the generator is the project's own (splitmix64 +
  // Fisher-Yates), so a run's permutation is the same on every machine and in every later version
  EXPECT_EQ(std::vector<int64_t>(a.begin(), a.begin() + 6), (std::vector<int64_t>{208, 74, 594, 543, 308, 612}));
  ImageSequenceTaskConfig plain;
  EXPECT_EQ(task_permutation(plain), identity);  // smnist: the pixels in reading order
  ImageSequenceTaskConfig rows;
  rows.name = "prow-mnist";
  rows.permutation_seed = 7;
  EXPECT_EQ(task_permutation(rows), seeded_permutation(7, 28));
}

TEST(ImageSequences, StepsInOrderWithBlackAppended) {
  const auto images = torch::randint(0, 256, {3, 784}, torch::kUInt8);
  ImageSequenceTaskConfig c;
  c.black = 5;
  auto x = images_to_sequences(images, c, task_permutation(c));
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{789, 3, 1}));
  EXPECT_TRUE(torch::allclose(x.narrow(0, 0, 784).squeeze(-1).t(), images.to(torch::kFloat32) / 255));
  EXPECT_EQ(x.narrow(0, 784, 5).abs().sum().item<double>(), 0.0);

  c.name = "psmnist";
  c.permutation_seed = 3;
  const auto p = task_permutation(c);
  x = images_to_sequences(images, c, p);
  for (int64_t t : {0, 100, 783}) EXPECT_FLOAT_EQ(x[t][1][0].item<float>(), images[1][p[t]].item<uint8_t>() / 255.0f);

  c.name = "row-mnist";
  c.black = 2;
  x = images_to_sequences(images, c, task_permutation(c));
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{30, 3, 28}));
  EXPECT_TRUE(torch::allclose(x[4][2], images[2].narrow(0, 4 * 28, 28).to(torch::kFloat32) / 255));
  EXPECT_EQ(c.length(), 30);
  EXPECT_EQ(c.input_size(), 28);

  ImageSequenceTaskConfig bad;
  bad.name = "cifar";
  EXPECT_THROW(bad.validate(), Error);
  bad.name = "smnist";
  bad.black = -1;
  EXPECT_THROW(bad.validate(), Error);
}

TEST(ImageSequences, GruLearnsRowMnistAndEvalAgrees) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (scripts/install.sh)";
  TempDir dir;
  const auto run = dir.path("run");
  const auto train = cli({"train", "--task", "row-mnist", "--cell", "gru", "--layers", "1", "--hidden", "32",
                          "--steps", "150", "--batch", "32", "--lr", "3e-3", "--eval-every", "50", "--val-size", "256",
                          "--test-size", "500", "--quiet", "--threads", "1", "--out", run});
  ASSERT_EQ(train.code, 0) << train.err;
  const auto report = nlohmann::json::parse(read_file(report_path(run), "report"));
  const double accuracy = report.at("test").at("accuracy").get<double>();
  EXPECT_GT(accuracy, 0.5) << "150 updates of a GRU on row MNIST should be far above chance (0.1)";
  const auto eval = cli({"eval", "--checkpoint", run});
  ASSERT_EQ(eval.code, 0) << eval.err;
  char expected[64];
  std::snprintf(expected, sizeof expected, "test accuracy %.4f", accuracy);
  EXPECT_NE(eval.out.find(expected), std::string::npos) << eval.out;
}

TEST(ImageSequences, PermutationIsStoredWithTheRunAndChecked) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (scripts/install.sh)";
  TempDir dir;
  const auto run = dir.path("run");
  const auto train = cli({"train", "--task", "psmnist", "--permutation-seed", "5", "--black", "3", "--cell", "gru",
                          "--layers", "1", "--hidden", "4", "--steps", "2", "--batch", "4", "--eval-every", "2",
                          "--val-size", "8", "--test-size", "8", "--quiet", "--threads", "1", "--out", run});
  ASSERT_EQ(train.code, 0) << train.err;
  const auto stored = nlohmann::json::parse(read_file(run + "/permutation.json", "permutation"));
  EXPECT_EQ(stored.at("permutation").get<std::vector<int64_t>>(), seeded_permutation(5, 784));
  EXPECT_EQ(stored.at("seed").get<uint64_t>(), 5u);
  ImageSequenceTaskConfig task;
  task.name = "psmnist";
  task.permutation_seed = 5;
  EXPECT_EQ(load_run_permutation(run, task), seeded_permutation(5, 784));
  // a run whose stored order differs from what its seed gives is refused, not silently re-permuted
  auto tampered = stored;
  std::swap(tampered["permutation"][0], tampered["permutation"][1]);
  std::ofstream(run + "/permutation.json") << tampered.dump();
  const auto eval = cli({"eval", "--checkpoint", run});
  EXPECT_NE(eval.code, 0);
  EXPECT_NE(eval.err.find("permutation"), std::string::npos) << eval.err;
  // the SRC is not a sequence classifier
  const auto src = cli({"train", "--task", "smnist", "--cell", "src", "--out", dir.path("src")});
  EXPECT_NE(src.code, 0);
  EXPECT_FALSE(file_exists(dir.path("src") + "/config.json"));
}

}  // namespace
}  // namespace neurocell
