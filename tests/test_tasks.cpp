// Task generators: deterministic by seed, shapes, and the structure of tasks.md.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/error.h"
#include "tasks/synthetic.h"

namespace neurocell {
namespace {

Batch draw(const std::string& name, int64_t length, int64_t no_end, uint64_t seed, int64_t batch = 16) {
  TaskConfig config{name, length, no_end};
  auto task = make_task(config);
  auto gen = make_generator(seed, 0);
  return task->sample(batch, gen);
}

TEST(Tasks, DeterministicBySeedAndDifferentAcrossSeedsAndSplits) {
  for (const auto& name : task_names()) {
    const auto a = draw(name, 30, 0, 5), b = draw(name, 30, 0, 5), c = draw(name, 30, 0, 6);
    EXPECT_TRUE(torch::equal(a.inputs, b.inputs)) << name;
    EXPECT_TRUE(torch::equal(a.targets, b.targets)) << name;
    EXPECT_FALSE(torch::equal(a.inputs, c.inputs)) << name;
    auto task = make_task({name, 30, 0});
    const auto val = make_fixed_set(*task, 10, 10, 5, 1), test = make_fixed_set(*task, 10, 10, 5, 2);
    EXPECT_FALSE(torch::equal(val[0].inputs, test[0].inputs)) << name;
  }
}

TEST(Tasks, CopyFirstInput) {
  const auto batch = draw("copy-first-input", 50, 0, 1, 2000);
  EXPECT_EQ(batch.inputs.sizes(), (std::vector<int64_t>{50, 2000, 1}));
  EXPECT_EQ(batch.targets.sizes(), (std::vector<int64_t>{1, 2000, 1}));
  EXPECT_TRUE(torch::equal(batch.targets[0], batch.inputs[0]));
  EXPECT_NEAR(batch.inputs.mean().item<double>(), 0.0, 0.02);
  EXPECT_NEAR(batch.inputs.std().item<double>(), 1.0, 0.02);
}

TEST(Tasks, CopySingleValue) {
  const int64_t T = 20;
  const auto batch = draw("copy-single-value", T, 0, 2, 500);
  const auto nonzero = (batch.inputs != 0).sum(0).squeeze(-1);  // (B)
  EXPECT_TRUE(torch::equal(nonzero, torch::ones_like(nonzero)));
  EXPECT_TRUE(torch::allclose(batch.inputs.sum(0).squeeze(-1), batch.targets[0].squeeze(-1)));
  // Never at the last step (positions are uniform in [0, T-2]).
  EXPECT_EQ(batch.inputs[T - 1].abs().sum().item<double>(), 0.0);
  EXPECT_GT(batch.inputs[T - 2].abs().sum().item<double>(), 0.0);
}

TEST(Tasks, CopySingleBit) {
  const int64_t T = 20;
  const auto batch = draw("copy-single-bit", T, 0, 2, 500);
  const auto nonzero = (batch.inputs != 0).sum(0).squeeze(-1);  // one value per sequence
  EXPECT_TRUE(torch::equal(nonzero, torch::ones_like(nonzero)));
  EXPECT_TRUE(torch::equal(batch.inputs.sum(0).squeeze(-1), batch.targets[0].squeeze(-1)));
  EXPECT_TRUE(batch.targets.abs().eq(1).all().item<bool>());  // -1 or +1
  EXPECT_NEAR(batch.targets.mean().item<double>(), 0.0, 0.15);  // both signs, about equally
  EXPECT_EQ(batch.inputs[T - 1].abs().sum().item<double>(), 0.0);
}

TEST(Tasks, DenoisingStructure) {
  for (int64_t no_end : {0, 20}) {
    const int64_t T = 40;
    const auto batch = draw("denoising", T, no_end, 3, 64);
    EXPECT_EQ(batch.inputs.sizes(), (std::vector<int64_t>{T, 64, 2}));
    EXPECT_EQ(batch.targets.sizes(), (std::vector<int64_t>{5, 64, 1}));
    const auto marker = batch.inputs.select(2, 1), noise = batch.inputs.select(2, 0);
    for (int64_t b = 0; b < 64; ++b) {
      // the cue on the first output step, index T-5, as in both authors' per-step versions
      EXPECT_EQ(marker[T - 5][b].item<float>(), -1.0f);
      std::vector<int64_t> relevant;
      for (int64_t t = 0; t < T; ++t)
        if (marker[t][b].item<float>() == 1.0f) relevant.push_back(t);
      ASSERT_EQ(relevant.size(), 5u);
      for (size_t k = 0; k < 5; ++k) {
        EXPECT_LT(relevant[k], std::min(T - no_end, T - 5));
        EXPECT_EQ(batch.targets[k][b][0].item<float>(), noise[relevant[k]][b].item<float>());
      }
      EXPECT_EQ((marker.select(1, b) == -1).sum().item<int64_t>(), 1);
    }
  }
}

// Run folders written before the cue moved (config without "cue_offset") keep their task: the
// cue one step before the outputs, index T-6; new configs say cue_offset 5.
TEST(Tasks, DenoisingConfigsWithoutCueOffsetKeepTheEarlierCue) {
  auto old_config = task_config_from_json(nlohmann::json{{"name", "denoising"}, {"length", 40}, {"no_end", 0}});
  EXPECT_EQ(old_config.cue_offset, 6);
  auto task = make_task(old_config);
  auto gen = make_generator(3, 0);
  const auto marker = task->sample(8, gen).inputs.select(2, 1);
  EXPECT_TRUE(marker[40 - 6].eq(-1).all().item<bool>());
  TaskConfig fresh{"denoising", 40, 0};
  EXPECT_EQ(to_json(fresh).at("cue_offset"), 5);
  EXPECT_EQ(task_config_from_json(to_json(fresh)).cue_offset, 5);
}

// The BRC paper's 2020 variant: L real steps and a cue step, 0/-1 markers, the 5 values read at
// once from the final state, in time order.
TEST(Tasks, Denoising2020Structure) {
  for (int64_t no_end : {0, 20}) {
    const int64_t L = 40;
    const auto batch = draw("denoising-2020", L, no_end, 4, 64);
    EXPECT_EQ(batch.inputs.sizes(), (std::vector<int64_t>{L + 1, 64, 2}));
    EXPECT_EQ(batch.targets.sizes(), (std::vector<int64_t>{1, 64, 5}));
    const auto marker = batch.inputs.select(2, 1), noise = batch.inputs.select(2, 0);
    EXPECT_TRUE(marker[L].eq(1).all().item<bool>());   // the extra cue step [0, +1]
    EXPECT_TRUE(noise[L].eq(0).all().item<bool>());
    for (int64_t b = 0; b < 64; ++b) {
      std::vector<int64_t> relevant;
      for (int64_t t = 0; t < L; ++t) {
        const float m = marker[t][b].item<float>();
        EXPECT_TRUE(m == 0.0f || m == -1.0f);
        if (m == 0.0f) relevant.push_back(t);
      }
      ASSERT_EQ(relevant.size(), 5u);
      for (size_t k = 0; k < 5; ++k) {
        EXPECT_LT(relevant[k], L - no_end);
        EXPECT_EQ(batch.targets[0][b][k].item<float>(), noise[relevant[k]][b].item<float>());
      }
    }
  }
  auto task = make_task({"denoising-2020", 40, 0});
  EXPECT_EQ(task->output_size, 5);
  EXPECT_EQ(task->readout_steps, 1);
  EXPECT_THROW(make_task({"denoising-2020", 40, 36}), Error);
}

TEST(Tasks, ImpossibleConfigurationsAreRejected) {
  EXPECT_THROW(make_task({"copy-first-input", 0, 0}), Error);
  EXPECT_THROW(make_task({"denoising", 9, 0}), Error);
  EXPECT_THROW(make_task({"denoising", 100, 97}), Error);
  EXPECT_THROW(make_task({"denoising", 100, -1}), Error);
  EXPECT_THROW(make_task({"mnist-or-so", 100, 0}), Error);
  EXPECT_NO_THROW(make_task({"denoising", 10, 0}));
}

}  // namespace
}  // namespace neurocell
