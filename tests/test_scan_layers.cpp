// The scan family as layers (nn/scan_layers.h): the second-state plumbing (shapes, initial
// states, run output), a BMRU block holding its bit, and the command line. Fused against
// reference and streaming against the whole sequence: test_cell_conformance.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn/cell_registry.h"
#include "core/error.h"
#include "io/files.h"
#include "io/npy.h"
#include "nn/model.h"
#include "nn/scan_layers.h"
#include "test_util.h"
#include "runs/run_folder.h"
#include "train/checkpoint.h"

namespace neurocell {
namespace {

using testing::cli;
using testing::TempDir;

// The scan blocks and hybrids of the registry.
std::vector<CellKind> scan_kinds() {
  std::vector<CellKind> kinds;
  for (const auto& c : cell_registry())
    if (is_scan_kind(c.kind)) kinds.push_back(c.kind);
  return kinds;
}

ModelConfig block_config_of(CellKind kind, int64_t input, int64_t hidden, int64_t layers) {
  ModelConfig c;
  c.cell = cell_kind_name(kind);
  c.input_size = input;
  c.hidden_size = hidden;
  c.layers = layers;
  return c;
}

class ScanLayers : public ::testing::TestWithParam<CellKind> {};

TEST_P(ScanLayers, ForwardKeepsTheShapesAndSecondStates) {
  const CellKind kind = GetParam();
  SequenceModel model(block_config_of(kind, 3, 8, 2));
  const auto states = model->all_states(torch::randn({5, 4, 3}));
  EXPECT_EQ(states.size(2), model->state_width());
  const auto expected_c = kind == CellKind::lru                 ? 16
                          : is_hybrid_kind(kind)                ? 4 + 8  // MRU half 4, LRU half 2*4
                                                                : 8;
  EXPECT_EQ(model->stack->layers[0]->second_state_size(), expected_c);
  EXPECT_EQ(model->state_width(), 2 * (8 + expected_c));
}

INSTANTIATE_TEST_SUITE_P(Cells, ScanLayers, ::testing::ValuesIn(scan_kinds()),
                         [](const auto& info) {
                           auto name = cell_kind_name(info.param);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Streaming, BadStepInputIsRefused) {
  SequenceModel model(block_config_of(CellKind::bmru, 2, 4, 1));
  auto state = model->initial_state(3);
  EXPECT_THROW(model->step(torch::randn({3, 5}), state), Error);
  std::vector<RecurrentState> empty;
  EXPECT_THROW(model->step(torch::randn({3, 2}), empty), Error);
}

TEST(ScanLayers, BmruBlockKeepsItsBitThroughHoldInputs) {
  // A two-unit BMRU block (no projection: I = H = 2): after a strong input sets unit 0, inputs
  // whose normalised drive stays inside the hysteresis band leave the stored state and the
  // block's output exactly unchanged. The block's LayerNorm sees (a, -a) as +-(1, -1) and
  // (a, a) as 0, so the drive of unit 0, u = LN(x)_0 - LN(x)_1, is about 2 at the set step and 0
  // while holding (beta = 1).
  torch::manual_seed(3);
  auto block = std::dynamic_pointer_cast<MruBlockImpl>(make_scan_block(CellKind::bmru, 2, 2));
  {
    torch::NoGradGuard g;
    block->weight.zero_();
    block->weight[0][0] = 1;
    block->weight[0][1] = -1;
    block->bias.zero_();
  }
  auto x = torch::full({5000, 1, 2}, 0.3);  // hold
  x[0][0][0] = 5;                             // set unit 0 high
  x[0][0][1] = -5;
  torch::NoGradGuard no_grad;
  const auto out = block->forward(x);
  EXPECT_TRUE((out.c.select(2, 0) == 1).all().item<bool>());
  EXPECT_TRUE((out.c.select(2, 1) == 0).all().item<bool>());
  EXPECT_TRUE(torch::equal(out.h[1], out.h[4999]));
}

TEST(ScanLayers, HybridNeedsAnEvenWidth) {
  EXPECT_THROW(SequenceModel(block_config_of(CellKind::hybrid_cmru_lru, 1, 5, 1)), Error);
  // A double hybrid layer is two hybrids of H/2, each two blocks of H/4: H = 6 is even but
  // not enough, and the message says so (it used to say "even").
  auto paired = block_config_of(CellKind::hybrid_cmru_lru, 1, 6, 1);
  paired.double_layer = true;
  testing::expect_error_containing([&] { SequenceModel model(paired); }, {"--double with a hybrid cell", "divisible by 4"});
  paired.hidden_size = 8;
  EXPECT_NO_THROW(SequenceModel model(paired));
}

// Every sequence-model cell of the registry through train, eval and run.
TEST(ScanCli, TrainEvalAndRunEveryCell) {
  TempDir dir;
  for (const auto& cell : cell_names_where([](const CellInfo& c) { return c.sequence_model(); })) {
    const auto run = dir.path(cell);
    const auto r = cli({"train", "--task", "denoising", "--cell", cell, "--layers", "2", "--hidden", "6", "--length",
                        "12", "--batch", "4", "--steps", "3", "--val-size", "8", "--test-size", "8", "--quiet",
                        "--out", run});
    ASSERT_EQ(r.code, 0) << cell << ": " << r.err;
    EXPECT_NE(r.out.find(cell + " 2x6"), std::string::npos) << r.out;
    const auto e = cli({"eval", "--checkpoint", run});
    ASSERT_EQ(e.code, 0) << e.err;
    // eval reproduces the reported test MSE (same line, bar the time)
    EXPECT_EQ(r.out.substr(0, r.out.find(" |")), e.out.substr(0, e.out.find(" |"))) << cell;
    const auto x_path = dir.path(cell + "-x.npy"), y_path = dir.path(cell + "-y.npy");
    const auto x = torch::randn({7, 2, 2});
    write_npy(x_path, x);
    ASSERT_EQ(cli({"run", "--checkpoint", run, "--input", x_path, "--output", y_path}).code, 0);
    auto loaded = load_run(run);
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::allclose(read_npy(y_path), loaded.model->all_states(x), 1e-6, 1e-6)) << cell;
  }
}

}  // namespace
}  // namespace neurocell

namespace neurocell {
namespace {

TEST(ScanCli, BenchScanRunsAndRefusesMixedCells) {
  testing::TempDir dir;
  const auto json = dir.path("scan.json");
  const auto r = testing::cli({"bench", "--scan", "--cells", "bmru,lru", "--shapes", "tiny:2:64:8", "--reps", "1",
                               "--scan-threads", "1", "--json", json});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("memcpy"), std::string::npos) << r.out;
  EXPECT_TRUE(file_exists(json));
  const auto mixed = testing::cli({"bench", "--cells", "bmru"});
  EXPECT_NE(mixed.code, 0);
  EXPECT_NE(mixed.err.find("--scan"), std::string::npos) << mixed.err;
  const auto hybrid = testing::cli({"bench", "--scan", "--cells", "hybrid-cmru-lru"});
  EXPECT_NE(hybrid.code, 0);
  const auto bad = testing::cli({"bench", "--scan", "--shapes", "x:1:2"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("NAME:B:T:H"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace neurocell
