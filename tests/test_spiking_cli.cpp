// The spiking side of the command line: SRC training on rate-coded MNIST, eval of the run
// folder, and the flag combinations that make no sense. The runs need the MNIST files that
// scripts/install.sh installs; without them those tests are skipped (the error is tested).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "io/files.h"
#include "integer_src.h"
#include "io/npy.h"
#include "io/npz.h"
#include "neurocell_runtime.h"
#include "nn/spiking.h"
#include "train/classify.h"
#include "tasks/mnist.h"
#include "train/checkpoint.h"
#include "test_util.h"

namespace neurocell {
namespace {

using testing::cli;
using testing::TempDir;

using testing::have_mnist;

// A few updates of a small 784-12-20-10 network of `cell` on spiking MNIST into `run`, tested
// on 300 images (more than one evaluation batch).
testing::CliResult train_small(const std::string& cell, const std::string& run, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"train", "--cell", cell, "--task", "spiking-mnist", "--layers", "2", "--hidden",
                                   "12", "--readout-factor", "2", "--rate-steps", "12", "--rate-prefix", "2",
                                   "--steps", "4", "--batch", "8", "--eval-every", "2", "--val-size", "16",
                                   "--test-size", "300", "--quiet", "--out", run};
  args.insert(args.end(), extra.begin(), extra.end());
  return cli(args);
}

TEST(SpikingCli, TrainThenEvalGiveTheSameAccuracy) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (scripts/install.sh)";
  TempDir dir;
  const auto run = dir.path("run");
  const auto train = train_small("src", run);
  ASSERT_EQ(train.code, 0) << train.err;
  for (const auto& f : {"config.json", "metrics.jsonl", "model.safetensors", "report.json"})
    EXPECT_TRUE(file_exists(run + "/" + f)) << f;
  const auto report = nlohmann::json::parse(read_file(report_path(run), "report"));
  const double accuracy = report.at("test").at("accuracy").get<double>();
  EXPECT_GE(accuracy, 0.0);
  EXPECT_LE(accuracy, 1.0);
  EXPECT_EQ(report.at("test").at("images").get<int64_t>(), 300);
  const auto line = train.out.substr(0, train.out.find('\n'));
  EXPECT_EQ(line.rfind("accuracy: ", 0), 0u) << train.out;

  const auto eval = cli({"eval", "--checkpoint", run, "--test-size", "300"});  // > one evaluation batch
  ASSERT_EQ(eval.code, 0) << eval.err;
  EXPECT_EQ(eval.out.substr(0, eval.out.find('\n')), line);  // same weights, same coded test images

  // The integer (FPGA) arithmetic on the same run: its float row is eval's accuracy (same
  // spikes), then one row per trace length and weight width.
  const auto integer = cli({"integer-src", "--checkpoint", run, "--test-size", "300", "--trace-steps", "14,7",
                            "--bits", "8,4"});
  ASSERT_EQ(integer.code, 0) << integer.err;
  char float_row[64];
  std::snprintf(float_row, sizeof float_row, "| float32 | 14 | 32 | %.4f |", accuracy);
  EXPECT_NE(integer.out.find(float_row), std::string::npos) << integer.out;
  for (const char* row : {"| integer | 14 | 8 | ", "| integer | 14 | 4 | ", "| integer | 7 | 8 | ", "| integer | 7 | 4 | "})
    EXPECT_NE(integer.out.find(row), std::string::npos) << row << "\n" << integer.out;
  const auto bad = cli({"integer-src", "--checkpoint", run, "--trace-steps", "5"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("does not divide"), std::string::npos) << bad.err;
  // export writes the SRC run for the runtime
  const auto exported = cli({"export", "--checkpoint", run, "--out", dir.path("src.ncm")});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_NE(exported.out.find("src 784-12-20-10"), std::string::npos) << exported.out;
  // and as the integer network, which the streaming example runs (spikes in, accumulators out)
  const auto integer_file = dir.path("src-int8.ncm");
  const auto exported_integer = cli({"export", "--checkpoint", run, "--out", integer_file, "--integer-bits", "8"});
  ASSERT_EQ(exported_integer.code, 0) << exported_integer.err;
  EXPECT_NE(exported_integer.out.find("integer, 8-bit weights"), std::string::npos) << exported_integer.out;
  EXPECT_EQ(ncrt::IntegerSrc::load(integer_file).input_size(), 784);
  const std::string timed = dir.path("timed.txt");
  ASSERT_EQ(std::system((std::string(NCM_STREAM_BINARY) + " " + integer_file + " --time 500 > " + timed).c_str()), 0);
  EXPECT_NE(read_file(timed, "output").find("integer src, 2 layers, 8-bit weights"), std::string::npos);
  EXPECT_NE(read_file(timed, "output").find("per step:"), std::string::npos);
  const auto sequence_flags = cli({"export", "--checkpoint", run, "--out", dir.path("x.ncm"), "--leaky"});
  EXPECT_NE(sequence_flags.code, 0);
  EXPECT_NE(sequence_flags.err.find("--integer-bits"), std::string::npos) << sequence_flags.err;
}

// --arithmetic integer trains through the FPGA design's arithmetic: the run's own accuracy (its
// "trained" row in integer-src) is the integer network's at the trained weight width, exactly
// (the classifier votes with the design's integer readout, so even ties fall the same way).
TEST(SpikingCli, IntegerArithmeticTrainsWhatIntegerSrcRuns) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (scripts/install.sh)";
  TempDir dir;
  const auto run = dir.path("run");
  const auto train = cli({"train", "--cell", "src", "--task", "spiking-mnist", "--layers", "2", "--hidden", "12",
                          "--readout-factor", "2", "--rate-steps", "12", "--rate-prefix", "2", "--steps", "30",
                          "--batch", "8", "--eval-every", "10", "--val-size", "16", "--test-size", "300", "--quiet",
                          "--arithmetic", "integer", "--weight-bits", "6", "--out", run});
  ASSERT_EQ(train.code, 0) << train.err;
  const auto config = nlohmann::json::parse(read_file(run + "/config.json", "config"));
  EXPECT_EQ(config.at("model").at("arithmetic"), "integer");
  EXPECT_EQ(config.at("model").at("weight_bits"), 6);
  EXPECT_EQ(config.at("model").at("train_bias"), false);  // implied: the design's bias is a constant
  const auto integer = cli({"integer-src", "--checkpoint", run, "--test-size", "300", "--trace-steps", "14", "--bits", "6"});
  ASSERT_EQ(integer.code, 0) << integer.err;
  double float_accuracy = -1, integer_accuracy = -2;
  ASSERT_NE(integer.out.find("| trained (integer) | 14 | 6 | "), std::string::npos) << integer.out;
  std::sscanf(integer.out.substr(integer.out.find("| trained (integer) | 14 | 6 | ")).c_str(),
              "| trained (integer) | 14 | 6 | %lf", &float_accuracy);
  ASSERT_NE(integer.out.find("| integer | 14 | 6 | "), std::string::npos) << integer.out;
  std::sscanf(integer.out.substr(integer.out.find("| integer | 14 | 6 | ")).c_str(), "| integer | 14 | 6 | %lf",
              &integer_accuracy);
  EXPECT_EQ(float_accuracy, integer_accuracy) << integer.out;
  // the float .ncm would run another cell: refused, naming the integer export
  const auto exported = cli({"export", "--checkpoint", run, "--out", dir.path("x.ncm")});
  EXPECT_NE(exported.code, 0);
  EXPECT_NE(exported.err.find("--integer-bits 6"), std::string::npos) << exported.err;
  EXPECT_EQ(cli({"export", "--checkpoint", run, "--out", dir.path("x.ncm"), "--integer-bits", "6"}).code, 0);
  // noise perturbs the float cell's r and r_s, which the integer design does not have
  const auto noise = cli({"noise", "--checkpoint", run, "--test-size", "10"});
  EXPECT_NE(noise.code, 0);
  EXPECT_NE(noise.err.find("integer arithmetic"), std::string::npos) << noise.err;
  // options that do not apply are refused, never ignored
  for (const auto& bad : std::vector<std::vector<std::string>>{{"--weight-bits", "5"},
                                                                {"--arithmetic", "integer", "--detach"}}) {
    const auto refused = train_small("src", dir.path("bad"), bad);
    EXPECT_NE(refused.code, 0) << bad[0];
    EXPECT_FALSE(file_exists(dir.path("bad") + "/config.json"));
  }
  EXPECT_NE(train_small("lif", dir.path("bad"), {"--arithmetic", "integer"}).err.find("SRC option"), std::string::npos);
}

// plot raster draws every layer of either spiking cell, also a barely trained one whose
// layers may not spike at all (gnuplot refused such an empty panel before).
TEST(SpikingCli, RasterOfEachSpikingCell) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (scripts/install.sh)";
  TempDir dir;
  for (const std::string cell : {"src", "lif"}) {
    const auto run = dir.path(cell);
    ASSERT_EQ(train_small(cell, run).code, 0) << cell;
    const auto picture = dir.path(cell + ".svg");
    const auto plot = cli({"plot", "raster", "--checkpoint", run, "--out", picture});
    ASSERT_EQ(plot.code, 0) << cell << ": " << plot.err;
    EXPECT_TRUE(file_exists(picture)) << cell;
    EXPECT_NE(plot.out.find("spike raster"), std::string::npos) << plot.out;
  }
}

TEST(SpikingCli, CellAndTaskMustMatch) {
  TempDir dir;
  auto r = cli({"train", "--cell", "src", "--task", "copy-first-input", "--out", dir.path("a")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--cell src trains on --task spiking-mnist"), std::string::npos) << r.err;
  r = cli({"train", "--cell", "gru", "--task", "spiking-mnist", "--out", dir.path("b")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("needs a spiking cell: --cell src or --cell lif"), std::string::npos) << r.err;
  r = cli({"train", "--cell", "src", "--task", "spiking-mnist", "--rate-gain", "1.5", "--out", dir.path("c")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("gain"), std::string::npos) << r.err;
  EXPECT_FALSE(file_exists(dir.path("a") + "/config.json"));
  EXPECT_FALSE(file_exists(dir.path("c") + "/config.json"));
  // a flag of another kind of run is refused, not ignored
  r = cli({"train", "--cell", "src", "--task", "spiking-mnist", "--warmup", "10", "--out", dir.path("d")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--warmup does not apply to the spiking tasks"), std::string::npos) << r.err;
  r = cli({"train", "--cell", "gru", "--task", "copy-first-input", "--frozen-bias", "--out", dir.path("e")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--frozen-bias does not apply to the regression tasks"), std::string::npos) << r.err;
  EXPECT_FALSE(file_exists(dir.path("d") + "/config.json"));
  EXPECT_FALSE(file_exists(dir.path("e") + "/config.json"));
}

// The LIF baseline through the same command line: train (two layers, --lif-beta), eval gives
// the same accuracy, run writes every layer's spikes and u, export streams in the runtime with
// the same logits; the options of the other cell are refused with the fix.
TEST(SpikingCli, LifTrainsEvalsRunsAndExports) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (scripts/install.sh)";
  TempDir dir;
  const auto run = dir.path("run");
  const auto train = train_small("lif", run, {"--lif-beta", "0.8", "--threads", "1"});
  ASSERT_EQ(train.code, 0) << train.err;
  const auto config = nlohmann::json::parse(read_file(run + "/config.json", "config"));
  EXPECT_EQ(config.at("model").at("cell"), "lif");
  EXPECT_EQ(config.at("model").at("beta"), 0.8);
  const auto report = nlohmann::json::parse(read_file(report_path(run), "report"));
  EXPECT_EQ(report.at("cell"), "lif");
  const auto line = train.out.substr(0, train.out.find('\n'));
  EXPECT_EQ(line.rfind("accuracy: ", 0), 0u) << train.out;
  EXPECT_NE(train.out.find("lif 784-12-20-10"), std::string::npos) << train.out;
  const auto eval = cli({"eval", "--checkpoint", run, "--test-size", "300"});
  ASSERT_EQ(eval.code, 0) << eval.err;
  EXPECT_EQ(eval.out.substr(0, eval.out.find('\n')), line);  // same weights, same coded test images
  // the weights moved off their initialisation
  SrcClassifier trained(src_classifier_config_from_json(config.at("model")));
  load_src_weights(weights_path(run), trained);
  torch::manual_seed(1);
  SrcClassifier fresh(src_classifier_config_from_json(config.at("model")));
  EXPECT_FALSE(torch::equal(trained->lif_layers[0]->weight, fresh->lif_layers[0]->weight));

  // run: per layer [spikes; u], (T, B, 2 x 12 + 2 x 20), equal to the in-process forward
  torch::manual_seed(5);
  const auto x = torch::bernoulli(torch::full({14, 3, 784}, 0.1));
  write_npy(dir.path("x.npy"), x);
  const auto states = cli({"run", "--checkpoint", run, "--input", dir.path("x.npy"), "--output", dir.path("s.npy")});
  ASSERT_EQ(states.code, 0) << states.err;
  const auto y = read_npy(dir.path("s.npy"));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{14, 3, 64}));
  torch::NoGradGuard no_grad;
  trained->eval();
  const auto layers = trained->layer_states(x);
  EXPECT_TRUE(torch::equal(y, torch::cat({layers[0][0], layers[0][1], layers[1][0], layers[1][1]}, 2)));

  // export -> the runtime streams the same logits
  const auto exported = cli({"export", "--checkpoint", run, "--out", dir.path("lif.ncm")});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_NE(exported.out.find("lif 784-12-20-10"), std::string::npos) << exported.out;
  const auto model = ncrt::Model::load(dir.path("lif.ncm"));
  EXPECT_EQ(model.cell(), "lif");
  ncrt::Stream stream(model);
  const float* logits = nullptr;
  for (int64_t t = 0; t < 14; ++t) {
    const auto x_t = x[t][0].contiguous();
    logits = stream.step(x_t.data_ptr<float>());
  }
  const auto expected = trained->forward(x.narrow(1, 0, 1)).reshape(-1);
  for (int64_t c = 0; c < 10; ++c) EXPECT_NEAR(logits[c], expected[c].item<float>(), 1e-5) << c;

  // SRC-only tools and flags refuse the LIF run, naming the fix
  auto r = cli({"export", "--checkpoint", run, "--out", dir.path("int.ncm"), "--integer-bits", "8"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("is a LIF run: export it without --integer-bits"), std::string::npos) << r.err;
  r = cli({"integer-src", "--checkpoint", run, "--test-size", "10"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("give an SRC run (--cell src)"), std::string::npos) << r.err;
}

TEST(SpikingCli, EachSpikingCellRefusesTheOthersOptions) {
  TempDir dir;
  struct Refusal {
    std::vector<std::string> args;  // after train --out DIR
    std::string message;
  };
  const Refusal refusals[] = {
      {{"--cell", "lif", "--task", "spiking-mnist", "--frozen-bias"}, "--frozen-bias is an SRC option"},
      {{"--cell", "lif", "--task", "spiking-mnist", "--detach"}, "--detach is an SRC option"},
      {{"--cell", "src", "--task", "spiking-mnist", "--lif-beta", "0.5"}, "--lif-beta is a LIF option: use it with --cell lif"},
      {{"--cell", "src", "--task", "spiking-mnist", "--lif-slope", "5"}, "--lif-slope is a LIF option"},
      {{"--cell", "lif", "--task", "spiking-mnist", "--lif-beta", "1.5"}, "--lif-beta must be in [0, 1]"},
      {{"--cell", "lif", "--task", "copy-first-input"}, "--cell lif trains on --task spiking-mnist"},
      {{"--cell", "gru", "--task", "copy-first-input", "--lif-beta", "0.5"}, "--lif-beta does not apply to the regression tasks"},
  };
  int k = 0;
  for (const auto& refusal : refusals) {
    const auto out = dir.path("run" + std::to_string(k++));
    std::vector<std::string> args = {"train", "--out", out};
    args.insert(args.end(), refusal.args.begin(), refusal.args.end());
    const auto r = cli(args);
    EXPECT_NE(r.code, 0) << refusal.message;
    EXPECT_NE(r.err.find(refusal.message), std::string::npos) << r.err;
    EXPECT_FALSE(file_exists(out + "/config.json")) << refusal.message;
  }
}

// The SRC paper's third benchmark where a user has N-MNIST: a folder in the published event
// format (written here: random events per recording) trains, evaluates and is refused clearly.
TEST(SpikingCli, TrainsOnAnNmnistFolder) {
  TempDir dir;
  std::mt19937 random(3);
  for (const std::string split : {"Train", "Test"})
    for (int digit = 0; digit < 10; ++digit) {
      std::filesystem::create_directories(dir.path("nmnist/" + split + "/" + std::to_string(digit)));
      for (int k = 0; k < (split == "Train" ? 3 : 1); ++k) {
        std::string bytes;
        for (int e = 0; e < 200; ++e) {
          const uint32_t t = random() % 300000, word = (random() % 2 ? 1u << 23 : 0u) | t;
          bytes += {static_cast<char>(digit * 3 + random() % 4), static_cast<char>(random() % 34),
                    static_cast<char>(word >> 16), static_cast<char>((word >> 8) & 0xFF), static_cast<char>(word & 0xFF)};
        }
        std::ofstream(dir.path("nmnist/" + split + "/" + std::to_string(digit) + "/" + std::to_string(k) + ".bin"),
                      std::ios::binary)
            << bytes;
      }
    }
  const auto run = dir.path("run");
  const auto train = cli({"train", "--cell", "src", "--task", "spiking-nmnist", "--nmnist-dir", dir.path("nmnist"),
                          "--nmnist-steps", "6", "--layers", "1", "--hidden", "4", "--readout-factor", "1", "--steps",
                          "2", "--batch", "4", "--eval-every", "2", "--val-size", "6", "--test-size", "10", "--quiet",
                          "--threads", "1", "--out", run});
  ASSERT_EQ(train.code, 0) << train.err;
  const auto config = nlohmann::json::parse(read_file(run + "/config.json", "config"));
  EXPECT_EQ(config.at("model").at("input_size"), 2312);
  EXPECT_EQ(config.at("task").at("frames"), 6);
  const auto report = nlohmann::json::parse(read_file(report_path(run), "report"));
  const auto eval = cli({"eval", "--checkpoint", run});
  ASSERT_EQ(eval.code, 0) << eval.err;
  char expected[64];
  std::snprintf(expected, sizeof expected, "%.4f", report.at("test").at("accuracy").get<double>());
  EXPECT_NE(eval.out.find(expected), std::string::npos) << eval.out;
  auto r = cli({"train", "--cell", "src", "--task", "spiking-nmnist", "--out", dir.path("a")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("needs --nmnist-dir"), std::string::npos) << r.err;
  r = cli({"train", "--cell", "src", "--task", "spiking-nmnist", "--nmnist-dir", dir.path("nmnist"), "--rate-gain",
           "0.5", "--out", dir.path("b")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--rate-gain does not apply to spiking-nmnist"), std::string::npos) << r.err;
  r = cli({"train", "--cell", "src", "--task", "spiking-nmnist", "--nmnist-dir", dir.path("nowhere"), "--out",
           dir.path("c")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("nowhere"), std::string::npos) << r.err;
  EXPECT_FALSE(file_exists(dir.path("c") + "/config.json"));
}

// --frozen-bias: the bias stays at -6 (as in the SRC authors' exported model) while the weights
// train; the run's config says so, and the integer SRC maps it to exactly -3000.
TEST(SpikingCli, FrozenBiasStaysAtItsInitialValue) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (scripts/install.sh)";
  TempDir dir;
  const auto run = dir.path("run");
  const auto train = cli({"train", "--cell", "src", "--task", "spiking-mnist", "--frozen-bias", "--layers", "1", "--hidden", "12",
                          "--readout-factor", "2", "--rate-steps", "12", "--rate-prefix", "2", "--steps", "3",
                          "--lr", "0.05", "--batch", "16", "--eval-every", "3", "--val-size", "16", "--test-size",
                          "16", "--quiet", "--threads", "1", "--out", run});
  ASSERT_EQ(train.code, 0) << train.err;
  const auto config = nlohmann::json::parse(read_file(run + "/config.json", "config"));
  EXPECT_EQ(config.at("model").at("train_bias"), false);
  SrcClassifierConfig model_config = src_classifier_config_from_json(config.at("model"));
  EXPECT_FALSE(model_config.cell.train_bias);
  SrcClassifier trained(model_config);
  load_src_weights(weights_path(run), trained);
  torch::manual_seed(1);  // the run's seed: its initialisation
  SrcClassifier fresh(model_config);
  EXPECT_TRUE(torch::equal(trained->layers[0]->bias, torch::full({20}, -6.0)));
  EXPECT_FALSE(torch::equal(trained->layers[0]->weight, fresh->layers[0]->weight));  // the weights did train
  const auto exported = cli({"export", "--checkpoint", run, "--out", dir.path("int.ncm"), "--integer-bits", "8",
                             "--trained-bias"});
  ASSERT_EQ(exported.code, 0) << exported.err;
}

}  // namespace
}  // namespace neurocell

namespace neurocell {
namespace {

// A model in the SRC authors' format (cells.md section 2) from a SrcClassifier's tensors.
void write_authors_model(SrcClassifier& model, const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::map<std::string, torch::Tensor> arrays;
  for (size_t k = 0; k < model->layers.size(); ++k) {
    auto& l = model->layers[k];
    const std::string p = "l" + std::to_string(k) + "_";
    const int64_t H = l->hidden_size;
    arrays[p + "forward_weights"] = l->weight.detach().clone();
    arrays[p + "bias"] = l->bias.detach().clone();
    arrays[p + "rho"] = l->rho.clone();
    arrays[p + "r"] = l->r.clone();
    arrays[p + "rs"] = l->r_s.clone();
    arrays[p + "zs_dep"] = l->z_dep.view({1, H}).clone();
    arrays[p + "zs_hyp"] = l->z_hyp.view({1, H}).clone();
    arrays[p + "initial_i"] = l->initial_i.detach().view({1, H, 1}).clone();
    arrays[p + "initial_h"] = l->initial_h.detach().clone();
    arrays[p + "initial_hs"] = l->initial_hs.detach().clone();
  }
  arrays["readout"] = model->readout.clone();
  write_npz(dir + "/arrays.npz", arrays);
  const nlohmann::json config = {
      {"cell_config", {{"alphas", {0.9}}, {"bias_max", -4.0}, {"activation", "surrogate_relu"}, {"type", "src"}}},
      {"dataset_config",
       {{"encoding", "rate"}, {"seq_length", 30}, {"prefix_length", 3}, {"suffix_length", 0}, {"rate_gain", 0.25},
        {"name", "mnist"}}},
      {"input_size", 784},
      {"hidden_size", model->config.hidden_size},
      {"hidden_layers", model->config.layers - 1},
      {"output_size", 10},
      {"readout_input_factor", model->config.readout_factor}};
  write_file_atomic(dir + "/config.json", config.dump(2));
}

TEST(SpikingCli, ImportedAuthorsModelReproducesItsForward) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (scripts/install.sh)";
  TempDir dir;
  SrcClassifierConfig config;
  config.layers = 2, config.hidden_size = 12, config.readout_factor = 2;
  torch::manual_seed(11);
  SrcClassifier original(config);
  {
    torch::NoGradGuard g;
    for (auto& l : original->layers) {
      l->bias.uniform_(-6, -4);  // not the defaults: the import must carry every tensor over
      l->r.uniform_(1, 3);
      l->z_hyp.uniform_(0.8, 0.95);
      l->initial_h.uniform_(-0.9, -0.5);
    }
  }
  write_authors_model(original, dir.path("authors"));
  const auto imported = cli({"eval", "--import", dir.path("authors"), "--test-size", "50", "--out", dir.path("run")});
  ASSERT_EQ(imported.code, 0) << imported.err;
  EXPECT_EQ(imported.out.rfind("accuracy: ", 0), 0u) << imported.out;

  SrcClassifier loaded(config);
  load_src_weights(dir.path("run") + "/model.safetensors", loaded);
  const auto spikes = torch::bernoulli(torch::full({15, 3, 784}, 0.05));
  torch::NoGradGuard g;
  EXPECT_TRUE(torch::allclose(loaded->forward(spikes), original->forward(spikes), 0, 0));
  const auto again = cli({"eval", "--checkpoint", dir.path("run"), "--test-size", "50"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out.substr(0, again.out.find('\n')), imported.out.substr(0, imported.out.find('\n')));
}

TEST(SpikingCli, BadImportsAreRejected) {
  TempDir dir;
  auto r = cli({"eval", "--import", dir.path("nothing_here")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("nothing_here"), std::string::npos) << r.err;
  write_file_atomic(dir.path("broken.zip"), "PK\x03\x04 not really a zip");
  r = cli({"eval", "--import", dir.path("broken.zip")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("broken.zip"), std::string::npos) << r.err;
  r = cli({"eval"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--checkpoint"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace neurocell
