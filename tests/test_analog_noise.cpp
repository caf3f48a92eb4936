// Simulated analog hardware (analysis/analog_noise.h, runtime noise and operation counts):
// zero noise changes nothing; mismatch is fixed per chip and of the stated size; quantised
// weights take at most 2^bits - 1 values; latched (quantised) MRU states suppress state noise
// below half a level while a GRU carries it; operation counts match the layer shapes; the
// clean runtime evaluation equals the library's; `neurocell analog-noise` end to end.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <set>

#include "analysis/analog_noise.h"
#include "core/error.h"
#include "io/files.h"
#include "io/ncm_export.h"
#include "nn/model.h"
#include "nn/spiking.h"
#include "test_util.h"
#include "train/trainer.h"

namespace neurocell {
namespace {

using testing::cli;
using testing::TempDir;

ncrt::Model compiled(const std::string& cell, uint64_t seed = 3, int64_t input = 3, int64_t hidden = 6) {
  ModelConfig c;
  c.cell = cell;
  c.input_size = input;
  c.hidden_size = hidden;
  c.layers = 2;
  c.output_size = 2;
  torch::manual_seed(seed);
  SequenceModel model(c);
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) p.add_(0.3 * torch::randn_like(p));
  return ncrt::Model::parse(ncm_bytes(model), cell);
}

// Outputs of `steps` steps on N(0, 2^2) inputs (large enough to set the MRUs), with options.
std::vector<float> stream(const ncrt::Model& model, int64_t steps, const ncrt::StepOptions& options = {},
                          std::vector<float>* final_state = nullptr) {
  std::mt19937 random(11);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> state(model.state_size()), scratch(model.scratch_size()), y(model.output_size()), x(model.input_size());
  std::vector<float> outputs;
  model.initial_state(state.data());
  for (int64_t t = 0; t < steps; ++t) {
    for (auto& v : x) v = normal(random);
    model.step(x.data(), state.data(), y.data(), scratch.data(), options);
    outputs.insert(outputs.end(), y.begin(), y.end());
  }
  if (final_state) *final_state = state;
  return outputs;
}

TEST(AnalogNoise, NoNoiseNoMismatchChangesNothing) {
  for (const std::string cell : {"bmru", "cmru", "gru", "lru"}) {
    const auto model = compiled(cell);
    const auto clean = stream(model, 30);
    ncrt::AnalogNoise silent(0, 0, 5);
    ncrt::StepOptions options;
    options.noise = &silent;
    EXPECT_EQ(stream(model, 30, options), clean) << cell;
    EXPECT_EQ(stream(analysis::with_mismatch(model, 0, 9), 30), clean) << cell;
    const auto fine = stream(analysis::with_quantized_weights(model, 16), 30);
    for (size_t k = 0; k < clean.size(); ++k) EXPECT_NEAR(fine[k], clean[k], 2e-3) << cell;
  }
}

TEST(AnalogNoise, MismatchIsFixedPerChipAndOfTheStatedSize) {
  const auto model = compiled("bmru", 3, 3, 64);
  const auto a = analysis::with_mismatch(model, 0.1, 1), b = analysis::with_mismatch(model, 0.1, 1),
             c = analysis::with_mismatch(model, 0.1, 2);
  const std::string weight = "stack.layer1.weight";
  EXPECT_EQ(a.tensor(weight), b.tensor(weight));
  EXPECT_NE(a.tensor(weight), c.tensor(weight));
  // relative deviations of a plain weight: mean 0, std 0.1 (64 x 64 samples)
  double sum = 0, squares = 0;
  const auto& w0 = model.tensor(weight);
  const auto& w1 = a.tensor(weight);
  for (size_t k = 0; k < w0.size(); ++k) {
    const double r = (w1[k] - w0[k]) / w0[k];
    sum += r, squares += r * r;
  }
  const double n = static_cast<double>(w0.size());
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(std::sqrt(squares / n), 0.1, 0.01);
  // thresholds: beta = softplus(raw) moves by a relative amount and stays positive at large sigma
  const auto wild = analysis::with_mismatch(model, 3.0, 4);
  for (float raw : wild.tensor("stack.layer0.beta_raw")) EXPECT_TRUE(std::isfinite(raw));
}

TEST(AnalogNoise, QuantisedWeightsTakeAtMostTwoToTheBitsMinusOneValues) {
  const auto model = compiled("gru");
  const auto q = analysis::with_quantized_weights(model, 3);
  for (const auto& name : model.tensor_names()) {
    const auto& values = q.tensor(name);
    if (model.tensor_shape(name).size() == 2) {
      EXPECT_LE(std::set<float>(values.begin(), values.end()).size(), 7u) << name;
      float largest = 0, largest_q = 0;
      for (float v : model.tensor(name)) largest = std::max(largest, std::abs(v));
      for (float v : values) largest_q = std::max(largest_q, std::abs(v));
      EXPECT_FLOAT_EQ(largest_q, largest) << name;  // the extreme weight is a level
    } else {
      EXPECT_EQ(values, model.tensor(name)) << name;  // vectors stay float
    }
  }
  EXPECT_THROW(analysis::with_quantized_weights(model, 1), Error);
}

TEST(AnalogNoise, LatchedStatesSuppressSmallStateNoiseContinuousOnesCarryIt) {
  ncrt::AnalogNoise noise(0, 0.1, 7);  // 5 sigma below half of BMRU's level spacing (1)
  ncrt::StepOptions options;
  options.noise = &noise;
  const auto bmru = compiled("bmru");
  std::vector<float> state;
  EXPECT_EQ(stream(bmru, 50, options, &state), stream(bmru, 50));
  for (float h : state) EXPECT_TRUE(h == -1.0f || h == 0.0f || h == 1.0f) << h;
  const auto gru = compiled("gru");
  const auto noisy = stream(gru, 50, options), clean = stream(gru, 50);
  double difference = 0;
  for (size_t k = 0; k < clean.size(); ++k) difference = std::max(difference, static_cast<double>(std::abs(noisy[k] - clean[k])));
  EXPECT_GT(difference, 0.01);
  // drive noise does reach the BMRU (threshold crossings change)
  ncrt::AnalogNoise drive(1.0, 0, 7);
  options.noise = &drive;
  EXPECT_NE(stream(bmru, 50, options), stream(bmru, 50));
}

TEST(AnalogNoise, OperationCountsFollowTheShapes) {
  // GRU I=3, H=6, 2 layers, O=2: per step 3H(I + H) + 3H(H + H) + O H MACs, 2 H state values
  const auto gru = compiled("gru");
  ncrt::OpCounts counts;
  ncrt::StepOptions options;
  options.counts = &counts;
  stream(gru, 10, options);
  EXPECT_EQ(counts.steps, 10u);
  EXPECT_EQ(counts.macs, 10u * (18 * (3 + 6) + 18 * 12 + 2 * 6));
  EXPECT_EQ(counts.state_updates, 10u * 12);
  EXPECT_EQ(counts.spikes, 0u);

  // SRC: input events are the non-zero inputs, MACs H per event plus the readout, spikes h > 0
  SrcClassifierConfig config;
  config.input_size = 20;
  config.hidden_size = 8;
  config.layers = 1;
  config.classes = 2;
  config.readout_factor = 2;
  torch::manual_seed(2);
  SrcClassifier src(config);
  const auto model = ncrt::Model::parse(ncm_bytes(src), "src");
  std::vector<float> state(model.state_size()), scratch(model.scratch_size()), y(model.output_size()), x(20, 0.0f);
  model.initial_state(state.data());
  x[3] = x[7] = x[11] = 1.0f;
  ncrt::OpCounts src_counts;
  options.counts = &src_counts;
  model.step(x.data(), state.data(), y.data(), scratch.data(), options);
  EXPECT_EQ(src_counts.input_events, 3u);
  const uint64_t last = 2 * 2;  // classes x readout_factor neurons in the last layer
  EXPECT_EQ(src_counts.macs, 3u * last + 2u * last);
  uint64_t spikes = 0;
  for (int64_t j = 0; j < static_cast<int64_t>(last); ++j) spikes += state[last + j] > 0;  // h of [i; h; h_s]
  EXPECT_EQ(src_counts.spikes, spikes);
}

TEST(AnalogNoise, CleanRuntimeEvaluationEqualsTheLibrarys) {
  ModelConfig c;
  c.cell = "cmru";
  c.input_size = 1;
  c.hidden_size = 8;
  c.layers = 2;
  c.output_size = 1;
  torch::manual_seed(5);
  SequenceModel model(c);
  TaskConfig task_config;
  task_config.name = "copy-single-value";
  task_config.length = 30;
  const auto task = make_task(task_config);
  const auto batches = make_fixed_set(*task, 40, 16, 1, 2);
  const double library = evaluate_mse(model, batches, task->readout_steps);
  const auto set = analysis::sequence_set(batches);
  EXPECT_EQ(set.sequences, 40);
  const auto result = analysis::evaluate_with_noise(ncrt::Model::parse(ncm_bytes(model), "cmru"), set, 0, 0, 0, analysis::RecallRule{});
  EXPECT_NEAR(result.mse, library, 1e-5 * std::max(1.0, library));
  EXPECT_GE(result.accuracy, 0.0);
  EXPECT_LE(result.accuracy, 1.0);
  EXPECT_EQ(result.counts.steps, 40u * 30);
  // copy-single-bit: recalled when the output has the bit's sign (checked by hand here)
  task_config.name = "copy-single-bit";
  const auto bits = analysis::sequence_set(make_fixed_set(*make_task(task_config), 40, 16, 1, 2));
  const auto runtime_model = ncrt::Model::parse(ncm_bytes(model), "cmru");
  int64_t same_sign = 0;
  std::vector<float> state(runtime_model.state_size()), scratch(runtime_model.scratch_size()), y(1);
  for (int64_t s = 0; s < bits.sequences; ++s) {
    runtime_model.initial_state(state.data());
    for (int64_t t = 0; t < bits.length; ++t)
      runtime_model.step(bits.inputs.data() + s * bits.length + t, state.data(), y.data(), scratch.data());
    same_sign += (y[0] > 0) == (bits.targets[s] > 0);
  }
  EXPECT_DOUBLE_EQ(analysis::evaluate_with_noise(runtime_model, bits, 0, 0, 0, analysis::RecallRule{0.2, true}).accuracy,
                   same_sign / 40.0);
  // a tolerance larger than any error recalls everything
  EXPECT_EQ(analysis::evaluate_with_noise(ncrt::Model::parse(ncm_bytes(model), "cmru"), set, 0, 0, 0, analysis::RecallRule{1e6, false}).accuracy, 1.0);
}

TEST(AnalogNoise, CommandWritesTablePictureAndJson) {
  TempDir dir;
  const std::vector<std::string> common = {"train", "--task", "copy-single-value", "--length", "12", "--layers", "1",
                                           "--hidden", "4", "--steps", "3", "--batch", "4", "--val-size", "8",
                                           "--test-size", "8", "--quiet", "--threads", "1"};
  for (const std::string cell : {"bmru", "gru"}) {
    auto args = common;
    args.insert(args.end(), {"--cell", cell, "--out", dir.path(cell)});
    ASSERT_EQ(cli(args).code, 0) << cell;
  }
  const auto out = dir.path("study");
  const auto r = cli({"analog-noise", "--runs", dir.path("bmru") + "," + dir.path("gru"), "--drive", "0,0.5", "--state",
                      "0,0.2", "--mismatch", "0,0.1", "--bits", "8,4", "--chips", "2", "--test-size", "10", "--out", out,
                      "--threads", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| bmru |"), std::string::npos) << r.out;
  EXPECT_TRUE(file_exists(out + "/accuracy-vs-noise.png"));
  EXPECT_TRUE(file_exists(out + "/results.md"));
  std::ifstream file(out + "/results.json");
  const auto json = nlohmann::json::parse(file);
  ASSERT_EQ(json["models"].size(), 2u);
  EXPECT_EQ(json["models"][0]["sweeps"]["drive"].size(), 2u);
  EXPECT_EQ(json["models"][1]["cell"], "gru");
  EXPECT_GT(json["models"][1]["per_inference"]["macs"].get<double>(), 0);
  // again without --overwrite: refused, nothing replaced
  const auto again = cli({"analog-noise", "--runs", dir.path("bmru"), "--out", out});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("--overwrite"), std::string::npos) << again.err;
  // runs of different tasks are not compared
  auto other = common;
  other[4] = "20";
  other.insert(other.end(), {"--cell", "lru", "--out", dir.path("lru")});
  ASSERT_EQ(cli(other).code, 0);
  const auto mixed = cli({"analog-noise", "--runs", dir.path("bmru") + "," + dir.path("lru"), "--out", dir.path("x")});
  EXPECT_NE(mixed.code, 0);
  EXPECT_NE(mixed.err.find("one task"), std::string::npos) << mixed.err;
}

}  // namespace
}  // namespace neurocell
