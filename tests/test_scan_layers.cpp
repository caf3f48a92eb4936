// The scan family as layers (nn/scan_layers.h): every block and hybrid, fused against the
// reference through the whole block (projections, scan, GLU, residual) with every gradient,
// streaming one step at a time equal to the whole-sequence forward for every cell, the
// second-state plumbing (initial states, run output), and the command line.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "io/files.h"
#include "io/npy.h"
#include "nn/model.h"
#include "nn/scan_layers.h"
#include "test_util.h"
#include "train/checkpoint.h"

namespace neurocell {
namespace {

using testing::cli;
using testing::TempDir;

const CellKind kScanKinds[] = {CellKind::bmru,   CellKind::cmru, CellKind::acmru,           CellKind::fq_bmru,
                               CellKind::mingru, CellKind::lru,  CellKind::hybrid_cmru_lru, CellKind::hybrid_bmru_lru,
                               CellKind::hybrid_acmru_lru};

ModelConfig config_of(CellKind kind, int64_t input, int64_t hidden, int64_t layers) {
  ModelConfig c;
  c.cell = cell_kind_name(kind);
  c.input_size = input;
  c.hidden_size = hidden;
  c.layers = layers;
  return c;
}

// Outputs and the gradients of a random probe with respect to x, the initial states and every
// parameter, for one implementation.
std::vector<torch::Tensor> outputs_and_gradients(SequenceModel& model, Impl impl, const torch::Tensor& x,
                                                 const std::vector<RecurrentState>& initial,
                                                 const std::vector<torch::Tensor>& probes) {
  model->stack->set_impl(impl);
  auto xi = x.clone().requires_grad_(true);
  std::vector<RecurrentState> start;
  std::vector<torch::Tensor> inputs = {xi};
  for (const auto& s : initial) {
    RecurrentState copy{s.h.clone().requires_grad_(true), s.c.defined() ? s.c.clone().requires_grad_(true) : s.c};
    inputs.push_back(copy.h);
    if (copy.c.defined()) inputs.push_back(copy.c);
    start.push_back(copy);
  }
  const auto outputs = model->stack->forward(xi, start);
  torch::Tensor loss = torch::zeros({}, x.options());
  std::vector<torch::Tensor> values;
  size_t k = 0;
  for (const auto& o : outputs) {
    loss = loss + (o.h * probes[k++]).sum();
    values.push_back(o.h.detach());
    if (o.c.defined()) {
      loss = loss + (o.c * probes[k++]).sum();
      values.push_back(o.c.detach());
    }
  }
  for (const auto& p : model->parameters()) inputs.push_back(p);
  // The blocks' initial h is not a state (their output depends on c and the input only).
  const auto grads = torch::autograd::grad({loss}, inputs, {}, false, false, /*allow_unused=*/true);
  for (const auto& g : grads) values.push_back(g.defined() ? g : torch::zeros({1}, x.options()));
  return values;
}

class ScanLayers : public ::testing::TestWithParam<CellKind> {};

TEST_P(ScanLayers, FusedMatchesReferenceWithEveryGradient) {
  const CellKind kind = GetParam();
  struct Shape {
    int64_t T, B, I, H, L;
  };
  for (const auto& s : {Shape{1, 1, 1, 2, 1}, Shape{9, 3, 2, 6, 2}, Shape{23, 2, 6, 6, 1}, Shape{17, 1, 3, 10, 2}}) {
    torch::manual_seed(s.T * 10 + s.H);
    SequenceModel model(config_of(kind, s.I, s.H, s.L));
    model->to(torch::kFloat64);
    const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
    const auto x = torch::randn({s.T, s.B, s.I}, opts) * 2;
    std::vector<RecurrentState> initial;
    std::vector<torch::Tensor> probes;
    for (const auto& layer : model->stack->layers) {
      RecurrentState st{torch::randn({s.B, layer->hidden_size()}, opts) * 0.5, torch::Tensor()};
      // MRU core states live in [-1, 1] (fq: [0, 1]); LRU's are any complex numbers.
      if (layer->has_second_state()) st.c = torch::rand({s.B, layer->second_state_size()}, opts) * 1.6 - 0.8;
      initial.push_back(st);
      probes.push_back(torch::randn({s.T, s.B, layer->hidden_size()}, opts));
      if (layer->has_second_state()) probes.push_back(torch::randn({s.T, s.B, layer->second_state_size()}, opts));
    }
    const auto fused = outputs_and_gradients(model, Impl::fused, x, initial, probes);
    const auto reference = outputs_and_gradients(model, Impl::reference, x, initial, probes);
    ASSERT_EQ(fused.size(), reference.size());
    for (size_t i = 0; i < fused.size(); ++i) {
      const double err = (fused[i] - reference[i]).abs().max().item<double>();
      const double scale = std::max(1.0, reference[i].abs().max().item<double>());
      EXPECT_LE(err, 1e-10 * scale) << cell_kind_name(kind) << " T=" << s.T << " B=" << s.B << " I=" << s.I
                                    << " H=" << s.H << " L=" << s.L << ": value " << i;
    }
  }
}

TEST_P(ScanLayers, ForwardKeepsTheShapesAndSecondStates) {
  const CellKind kind = GetParam();
  SequenceModel model(config_of(kind, 3, 8, 2));
  const auto states = model->all_states(torch::randn({5, 4, 3}));
  EXPECT_EQ(states.size(2), model->state_width());
  const auto expected_c = kind == CellKind::lru                 ? 16
                          : is_hybrid_kind(kind)                ? 4 + 8  // MRU half 4, LRU half 2*4
                                                                : 8;
  EXPECT_EQ(model->stack->layers[0]->second_state_size(), expected_c);
  EXPECT_EQ(model->state_width(), 2 * (8 + expected_c));
}

INSTANTIATE_TEST_SUITE_P(Cells, ScanLayers, ::testing::ValuesIn(kScanKinds),
                         [](const auto& info) {
                           auto name = cell_kind_name(info.param);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Streaming, OneStepAtATimeEqualsTheWholeSequence) {
  std::vector<CellKind> kinds = {CellKind::brc, CellKind::nbrc, CellKind::gru, CellKind::lstm, CellKind::mgu};
  kinds.insert(kinds.end(), std::begin(kScanKinds), std::end(kScanKinds));
  for (auto kind : kinds) {
    torch::manual_seed(31);
    auto config = config_of(kind, 2, 6, 2);
    SequenceModel model(config);
    model->to(torch::kFloat64);
    const auto x = torch::randn({12, 3, 2}, torch::kFloat64);
    torch::NoGradGuard no_grad;
    const auto whole = model->forward(x, 12);  // readout of every step (12, B, O)
    auto state = model->initial_state(3, torch::kFloat64);
    for (int64_t t = 0; t < 12; ++t) {
      const auto y = model->step(x[t], state);
      EXPECT_TRUE(torch::allclose(y, whole[t], 1e-12, 1e-12)) << cell_kind_name(kind) << " step " << t;
    }
  }
}

TEST(Streaming, BadStepInputIsRefused) {
  SequenceModel model(config_of(CellKind::bmru, 2, 4, 1));
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
  EXPECT_THROW(SequenceModel(config_of(CellKind::hybrid_cmru_lru, 1, 5, 1)), Error);
}

TEST(ScanCli, TrainEvalAndRunEveryScanCell) {
  TempDir dir;
  for (const char* cell : {"bmru", "cmru", "acmru", "fq-bmru", "mingru", "lru", "hybrid-cmru-lru"}) {
    const auto run = dir.path(cell);
    const auto r = cli({"train", "--task", "denoising", "--cell", cell, "--layers", "2", "--hidden", "6", "--length",
                        "12", "--batch", "4", "--steps", "3", "--val-size", "8", "--test-size", "8", "--quiet",
                        "--out", run});
    ASSERT_EQ(r.code, 0) << cell << ": " << r.err;
    EXPECT_NE(r.out.find(std::string(cell) + " 2x6"), std::string::npos) << r.out;
    const auto e = cli({"eval", "--checkpoint", run});
    ASSERT_EQ(e.code, 0) << e.err;
    // eval reproduces the reported test MSE (same line, bar the time)
    EXPECT_EQ(r.out.substr(0, r.out.find(" |")), e.out.substr(0, e.out.find(" |"))) << cell;
    const auto x_path = dir.path(std::string(cell) + "-x.npy"), y_path = dir.path(std::string(cell) + "-y.npy");
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
