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

// numpy.random.RandomState(seed).permutation(n), the psMNIST order of the BRC 2021 code
// (np.random.seed(1); np.random.permutation(784)): values printed by numpy 1.24 here; the
// Python tests compare the whole permutation with numpy itself.
TEST(ImageSequences, NumpyPermutationMatchesNumpy) {
  const auto p = numpy_permutation(1, 784);
  EXPECT_EQ(std::vector<int64_t>(p.begin(), p.begin() + 12),
            (std::vector<int64_t>{649, 265, 111, 301, 339, 559, 742, 202, 600, 680, 223, 764}));
  EXPECT_EQ(std::vector<int64_t>(p.end() - 5, p.end()), (std::vector<int64_t>{715, 767, 72, 235, 37}));
  EXPECT_EQ(std::accumulate(p.begin(), p.end(), int64_t{0}), 306936);
  EXPECT_EQ(numpy_permutation(1, 28), (std::vector<int64_t>{24, 17, 19, 20, 14, 3, 22, 10, 21, 4, 2, 23, 6, 18,
                                                             13, 7, 25, 1, 16, 0, 15, 27, 26, 9, 8, 12, 11, 5}));
  EXPECT_EQ(numpy_permutation(123456789, 10), (std::vector<int64_t>{7, 0, 6, 3, 4, 5, 9, 1, 2, 8}));
  ImageSequenceTaskConfig c;
  c.name = "psmnist";
  c.permutation = "numpy";
  EXPECT_EQ(task_permutation(c), p);
  c.permutation_seed = uint64_t{1} << 32;  // numpy's legacy seeds are 32-bit
  EXPECT_THROW(c.validate(), Error);
  c.permutation_seed = 1;
  c.permutation = "mt";
  EXPECT_THROW(c.validate(), Error);
}

// x/255 - 0.5 (the warmup paper), grey appended steps; and the warmup paper's row MNIST: the
// permuted pixel sequence in 28 steps of 28.
TEST(ImageSequences, CentredPixelsAndPermutedPixelRows) {
  const auto images = torch::randint(0, 256, {3, 784}, torch::kUInt8);
  ImageSequenceTaskConfig c;
  c.scaling = "centred";
  c.black = 4;
  auto x = images_to_sequences(images, c, task_permutation(c));
  EXPECT_TRUE(torch::allclose(x.narrow(0, 0, 784).squeeze(-1).t(), images.to(torch::kFloat32) / 255 - 0.5));
  EXPECT_EQ(x.narrow(0, 784, 4).abs().sum().item<double>(), 0.0);  // zeros after centring, as the authors
  c.scaling = "half";
  EXPECT_THROW(c.validate(), Error);

  ImageSequenceTaskConfig rows;
  rows.name = "psmnist-rows";
  rows.permutation = "numpy";
  rows.black = 2;
  const auto p = task_permutation(rows);
  EXPECT_EQ(p, numpy_permutation(1, 784));
  x = images_to_sequences(images, rows, p);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{30, 3, 28}));
  EXPECT_EQ(rows.length(), 30);
  EXPECT_EQ(rows.input_size(), 28);
  ImageSequenceTaskConfig pixels = rows;
  pixels.name = "psmnist";
  const auto flat = images_to_sequences(images, pixels, p);  // (786, 3, 1)
  for (int64_t t : {0, 5, 27})
    for (int64_t k : {0, 13, 27})
      EXPECT_EQ(x[t][1][k].item<float>(), flat[28 * t + k][1][0].item<float>());
  EXPECT_EQ(x.narrow(0, 28, 2).abs().sum().item<double>(), 0.0);
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

// The warmup paper warms up on the MNIST tasks: --warmup must change the weights before
// training there (it used to be dropped silently), and options a task cannot honour are refused.
TEST(ImageSequences, WarmupWorksOnSequenceMnistAndUnusedFlagsAreRefused) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (scripts/install.sh)";
  TempDir dir;
  const std::vector<std::string> base = {"train", "--task", "psmnist-rows", "--cell", "gru", "--layers", "1",
                                         "--hidden", "8", "--steps", "1", "--batch", "8", "--val-size", "16",
                                         "--test-size", "16", "--quiet", "--threads", "1", "--weights-init", "keras"};
  auto with = [&](std::vector<std::string> extra, const std::string& out) {
    auto argv = base;
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"--out", out});
    return cli(argv);
  };
  const auto plain = with({}, dir.path("plain"));
  ASSERT_EQ(plain.code, 0) << plain.err;
  const auto warm = with({"--warmup", "5", "--warmup-max-settle", "20", "--vaa-samples", "16", "--vaa-settle", "50",
                          "--vaa-batches", "1"},
                         dir.path("warm"));
  ASSERT_EQ(warm.code, 0) << warm.err;
  const auto report = nlohmann::json::parse(read_file(report_path(dir.path("warm")), "report"));
  EXPECT_EQ(report.at("warmup").at("steps"), 5);
  EXPECT_TRUE(report.at("vaa").contains("after_warmup"));
  EXPECT_NE(warm.out.find("after warmup"), std::string::npos) << warm.out;
  const auto config = nlohmann::json::parse(read_file(dir.path("warm") + "/config.json", "config"));
  EXPECT_EQ(config.at("multistability").at("warmup").at("steps"), 5);
  // same seed, same initialisation, same single training batch: only warmup can make them differ
  SequenceModel a = load_sequence_model_of_run(dir.path("plain")), b = load_sequence_model_of_run(dir.path("warm"));
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  EXPECT_FALSE(torch::equal(pa["stack.layer0.weight_hh"], pb["stack.layer0.weight_hh"]));
  const auto metrics = read_file(dir.path("warm") + "/metrics.jsonl", "metrics");
  EXPECT_NE(metrics.find("\"phase\":\"warmup\""), std::string::npos);

  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--length", "50"}, {"--no-end", "3"}, {"--detach", ""}, {"--rate-steps", "20"}, {"--vaa-every", "10"},
           {"--data-layout", "TNI"}}) {
    std::vector<std::string> extra = {flag};
    if (!value.empty()) extra.push_back(value);
    const auto refused = with(extra, dir.path("refused"));
    EXPECT_NE(refused.code, 0) << flag;
    EXPECT_NE(refused.err.find(flag + " does not apply to the sequence MNIST tasks"), std::string::npos)
        << flag << ": " << refused.err;
    EXPECT_FALSE(file_exists(dir.path("refused") + "/config.json")) << flag;
  }
}

}  // namespace
}  // namespace neurocell
