// Cell conformance: every check, on every cell of the registry (nn/cell_registry.h), as ggml's
// test-backend-ops runs every op on every backend.
//
// Quick start for a new cell: add its row to the registry (docs/adding-a-cell.md). This file
// then tests it with no edit:
//   FusedVsReference  outputs and every gradient (input, initial states, each parameter) of a
//                     two-layer stack, fused kernels against the LibTorch reference, float64 to
//                     1e-10 and float32 to 1e-4 of the tensor's scale, over odd shapes (T = 1,
//                     B = 1, I = 1, H on both sides of the SIMD widths), single and double layers.
//                     The baseline-ISA copy of the kernels runs this too (CTest entry
//                     FusedKernels.BaselineCpuCopy, NEUROCELL_CPU_CAPABILITY=default).
//   FiniteDifferences the fused backward against central differences (float64); a cell trained
//                     through a surrogate gradient (registry field surrogate_gradient) runs its
//                     surrogate relaxation, the forward its backward is the derivative of.
//   RelaxedFusedVsReference  the same relaxation, fused against the reference (float64).
//   Streaming         one step at a time (SequenceModel::step) equals the whole sequence.
//   RuntimeParity     the model exported to .ncm and streamed by the dependency-free runtime
//                     equals the library to 1e-5.
//   Checkpoint        model.safetensors round trip gives the same forward; parameter names are
//                     the module paths.
//   RegistryShapes    the registry's gate counts and state widths are the layer's.
// The spiking cells (family spiking: SRC, LIF) are no SequenceModel cells: the same checks run
// on their classifier (FusedVsReference over the same odd shapes, RuntimeParity, Checkpoint).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "cli/cli.h"
#include "io/ncm_export.h"
#include "neurocell_runtime.h"
#include "nn/cell_registry.h"
#include "nn/model.h"
#include "nn/spiking.h"
#include "ops/surrogate_relaxation.h"
#include "runtime_parity.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/classify.h"

namespace neurocell {
namespace {

using testing::TempDir;

struct Shape {
  int64_t T, B, I, H, L;
};
// H odd and on both sides of 8 floats / 4 doubles (and 16 / 8 in the AVX-512 copy); an odd H
// is made even where halves need it. The last shape has inputs wide enough (I >= 16 in both
// layers) for the kernels that project wide inputs differently (BRC: one large GEMM).
const Shape kShapes[] = {{1, 1, 1, 1, 1}, {6, 1, 1, 9, 2}, {5, 3, 2, 7, 2}, {13, 4, 3, 17, 1}, {7, 5, 1, 33, 1},
                         {4, 3, 20, 17, 2}};

int64_t width_for(const CellInfo& cell, int64_t H, bool double_layer) {
  const int64_t even = cell.hybrid() && H % 2 ? H + 1 : H;  // a hybrid's two blocks are H/2 each
  return double_layer ? 2 * even : even;
}

ModelConfig config_of(const CellInfo& cell, int64_t input, int64_t hidden, int64_t layers, bool double_layer) {
  ModelConfig c;
  c.cell = cell.name;
  c.input_size = input;
  c.hidden_size = hidden;
  c.layers = layers;
  c.output_size = 2;
  c.double_layer = double_layer;
  return c;
}

// Every parameter moved off its initialisation (LayerNorm weights of 1 and zero biases would
// hide a wrong affine step or a missing bias gradient).
void perturb(torch::nn::Module& module, double scale = 0.2) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) p.add_(scale * torch::randn_like(p));
}

// Outputs, then the gradients of a random probe loss with respect to x, every initial state
// and every parameter, for one implementation.
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
  for (const auto& p : model->stack->parameters()) inputs.push_back(p);
  // A scan block's initial h is not a state (its output depends on c and the input only).
  const auto grads = torch::autograd::grad({loss}, inputs, {}, false, false, /*allow_unused=*/true);
  for (const auto& g : grads) values.push_back(g.defined() ? g : torch::zeros({1}, x.options()));
  return values;
}

// Random initial states (MRU core states live in [-1, 1]) and probes for every layer.
void random_states(SequenceModel& model, int64_t B, int64_t T, torch::TensorOptions opts,
                   std::vector<RecurrentState>& initial, std::vector<torch::Tensor>& probes) {
  for (const auto& layer : model->stack->layers) {
    RecurrentState st{torch::randn({B, layer->hidden_size()}, opts) * 0.5, torch::Tensor()};
    if (layer->has_second_state()) st.c = torch::rand({B, layer->second_state_size()}, opts) * 1.6 - 0.8;
    initial.push_back(st);
    probes.push_back(torch::randn({T, B, layer->hidden_size()}, opts));
    if (layer->has_second_state()) probes.push_back(torch::randn({T, B, layer->second_state_size()}, opts));
  }
}

void expect_fused_matches_reference(const CellInfo& cell, bool double_layer, torch::ScalarType dtype) {
  const double tolerance = dtype == torch::kFloat64 ? 1e-10 : 1e-4;
  const auto opts = torch::TensorOptions().dtype(dtype);
  for (const auto& s : kShapes) {
    const int64_t H = width_for(cell, s.H, double_layer);
    torch::manual_seed(s.T * 100 + s.H);
    SequenceModel model(config_of(cell, s.I, H, s.L, double_layer));
    perturb(*model);
    model->to(dtype);
    const auto x = torch::randn({s.T, s.B, s.I}, opts) * 2;
    std::vector<RecurrentState> initial;
    std::vector<torch::Tensor> probes;
    random_states(model, s.B, s.T, opts, initial, probes);
    const auto fused = outputs_and_gradients(model, Impl::fused, x, initial, probes);
    const auto reference = outputs_and_gradients(model, Impl::reference, x, initial, probes);
    ASSERT_EQ(fused.size(), reference.size());
    for (size_t i = 0; i < fused.size(); ++i) {
      const double err = (fused[i] - reference[i]).abs().max().item<double>();
      const double scale = std::max(1.0, reference[i].abs().max().item<double>());
      EXPECT_LE(err, tolerance * scale) << cell.name << (double_layer ? " double" : "") << " "
                                        << c10::toString(dtype) << " T=" << s.T << " B=" << s.B << " I=" << s.I
                                        << " H=" << H << " L=" << s.L << ": value " << i;
    }
  }
}

// A small spiking classifier of `cell` (SRC or LIF) whose units spike now and then, initial
// states off rest: L layers, the first L - 1 of `hidden` units, the last of 2 classes x
// `readout_factor` neurons.
SrcClassifier spiking_model(const CellInfo& cell, int64_t input, int64_t hidden, uint64_t seed, int64_t layers = 2,
                            int64_t classes = 3, int64_t readout_factor = 2) {
  torch::manual_seed(seed);
  SrcClassifierConfig config;
  config.cell_name = cell.name;
  config.input_size = input;
  config.hidden_size = hidden;
  config.layers = layers;
  config.classes = classes;
  config.readout_factor = readout_factor;
  SrcClassifier model(config);
  torch::NoGradGuard no_grad;
  for (auto& layer : model->layers) {
    layer->weight.mul_(8);
    layer->bias.fill_(-2);
    for (auto* t : {&layer->initial_i, &layer->initial_h, &layer->initial_hs}) t->add_(0.3 * torch::randn_like(*t));
  }
  for (auto& layer : model->lif_layers) {  // drive of order 1 per input spike: u crosses theta = 1 often
    layer->weight.mul_(4);
    layer->bias.uniform_(-0.2, 0.4);
    layer->initial_u.uniform_(-0.5, 1.5);  // some units start above threshold (a reset at t = 1)
  }
  return model;
}

// Logits and the gradients of a probe loss with respect to the input spikes and every
// parameter (W, b, the initial states), fused against the reference, over the odd shapes.
void expect_spiking_fused_matches_reference(const CellInfo& cell, torch::ScalarType dtype) {
  const double tolerance = dtype == torch::kFloat64 ? 1e-10 : 1e-4;
  const auto opts = torch::TensorOptions().dtype(dtype);
  for (const auto& s : kShapes) {
    // The last layer has 2 x H neurons (2, 18, 14, 34, 66: both sides of the SIMD widths).
    auto model = spiking_model(cell, s.I, s.H, s.T * 100 + s.H, s.L, 2, s.H);
    model->to(dtype);
    const auto x = torch::bernoulli(torch::full({s.T, s.B, s.I}, 0.5, opts));
    const auto probe = torch::randn({s.B, 2}, opts);  // (B, C) weights of a probe loss
    auto run = [&](Impl impl) {
      model->set_impl(impl);
      model->zero_grad();
      auto xi = x.clone().requires_grad_(true);
      const auto logits = model->forward(xi);
      (logits * probe).sum().backward();
      std::vector<torch::Tensor> v = {logits.detach(), xi.grad().clone()};
      for (const auto& p : model->parameters()) v.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
      return v;
    };
    const auto fused = run(Impl::fused), reference = run(Impl::reference);
    ASSERT_EQ(fused.size(), reference.size());
    for (size_t i = 0; i < fused.size(); ++i)
      EXPECT_LE((fused[i] - reference[i]).abs().max().item<double>(),
                tolerance * std::max(1.0, reference[i].abs().max().item<double>()))
          << cell.name << " " << c10::toString(dtype) << " T=" << s.T << " B=" << s.B << " I=" << s.I
          << " H=" << s.H << " L=" << s.L << ": value " << i << " (0 logits, 1 input, then the parameters)";
  }
}

class CellConformance : public ::testing::TestWithParam<std::string> {
 protected:
  const CellInfo& cell() const { return cell_info(GetParam()); }
};

TEST_P(CellConformance, FusedVsReferenceFloat64) {
  if (cell().spiking()) return expect_spiking_fused_matches_reference(cell(), torch::kFloat64);
  expect_fused_matches_reference(cell(), false, torch::kFloat64);
}

TEST_P(CellConformance, FusedVsReferenceFloat32) {
  if (cell().spiking()) return expect_spiking_fused_matches_reference(cell(), torch::kFloat32);
  expect_fused_matches_reference(cell(), false, torch::kFloat32);
}

TEST_P(CellConformance, RelaxedFusedVsReference) {
  if (!cell().surrogate_gradient) GTEST_SKIP() << cell().name << " has an exact gradient and no relaxation";
  SurrogateRelaxationGuard relaxed;
  if (cell().spiking()) return expect_spiking_fused_matches_reference(cell(), torch::kFloat64);
  expect_fused_matches_reference(cell(), false, torch::kFloat64);
}

TEST_P(CellConformance, FusedVsReferenceDoubleLayer) {
  if (!cell().sequence_model()) GTEST_SKIP() << cell().name << " has no double layers";
  expect_fused_matches_reference(cell(), true, torch::kFloat64);
}

// The fused backward against central differences (float64). A cell trained through a surrogate
// gradient runs its surrogate relaxation (ops/surrogate_relaxation.h): the smooth forward of
// which its unchanged backward kernels are the exact derivative.
TEST_P(CellConformance, FiniteDifferences) {
  const auto& c = cell();
  SurrogateRelaxationGuard relaxed(c.surrogate_gradient);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  if (c.spiking()) {
    // The classifier of two layers (4 units, then 2 classes x 2 neurons) on T=4, B=2, I=3 dense
    // inputs: the logits' probe loss against x, W, b and the initial states of both layers.
    auto model = spiking_model(c, 3, 4, 11, 2, 2, 2);
    model->to(torch::kFloat64);
    auto x = torch::rand({4, 2, 3}, opts).requires_grad_(true);
    std::vector<torch::Tensor> leaves = {x};
    for (const auto& p : model->parameters()) leaves.push_back(p);
    const auto probe = torch::randn({2, 2}, opts);
    return testing::expect_leaf_gradients_match_finite_differences([&] { return (model->forward(x) * probe).sum(); },
                                                                   leaves, c.name + ": ", {}, 1e-6, 1e-6);
  }
  // One layer of T=3, B=2, I=2, H=3 (4 for halves), the fused path: the probe loss of [h; c]
  // against x, the initial states and every parameter.
  const int64_t H = c.hybrid() ? 4 : 3;
  torch::manual_seed(5);
  auto layer = make_layer(c.kind, 2, H);
  perturb(*layer);
  layer->to(torch::kFloat64);
  auto x = torch::randn({3, 2, 2}, opts).requires_grad_(true);
  auto h0 = (torch::randn({2, H}, opts) * 0.5).requires_grad_(true);
  torch::Tensor c0;
  std::vector<torch::Tensor> leaves = {x, h0};
  if (layer->has_second_state()) {
    c0 = (torch::rand({2, layer->second_state_size()}, opts) * 1.6 - 0.8).requires_grad_(true);
    leaves.push_back(c0);
  }
  for (const auto& p : layer->parameters()) leaves.push_back(p);
  auto outputs = [&] {
    const auto out = layer->forward(x, {h0, c0});
    return out.c.defined() ? torch::cat({out.h.reshape(-1), out.c.reshape(-1)}) : out.h.reshape(-1);
  };
  const auto probe = torch::randn_like(outputs());
  // Leaf 1: a scan block's output does not read its initial h.
  testing::expect_leaf_gradients_match_finite_differences([&] { return (outputs() * probe).sum(); }, leaves,
                                                          c.name + ": ", {1}, 1e-6, 1e-6);
}

TEST_P(CellConformance, StreamingEqualsWholeSequence) {
  const auto& c = cell();
  if (!c.sequence_model()) GTEST_SKIP() << c.name << " classifies whole spike trains";
  torch::manual_seed(31);
  SequenceModel model(config_of(c, 2, 6, 2, false));
  perturb(*model);
  model->to(torch::kFloat64);
  const auto x = torch::randn({12, 3, 2}, torch::kFloat64);
  torch::NoGradGuard no_grad;
  const auto whole = model->forward(x, 12);  // readout of every step (12, B, O)
  auto state = model->initial_state(3, torch::kFloat64);
  for (int64_t t = 0; t < 12; ++t)
    EXPECT_TRUE(torch::allclose(model->step(x[t], state), whole[t], 1e-12, 1e-12)) << c.name << " step " << t;
}

TEST_P(CellConformance, RuntimeParity) {
  const auto& c = cell();
  if (!c.sequence_model()) {
    auto model = spiking_model(c, 20, 8, 4);
    const auto compiled = ncrt::Model::parse(ncm_bytes(model), c.name + ".ncm");
    EXPECT_EQ(compiled.cell(), c.name);
    const int64_t T = 60;
    const auto spikes = (torch::rand({T, 1, 20}) < 0.3).to(torch::kFloat32);
    torch::NoGradGuard no_grad;
    const auto expected = model->forward(spikes).reshape(-1);  // (C) logits
    ncrt::Stream stream(compiled);
    const float* y = nullptr;
    for (int64_t t = 0; t < T; ++t) {
      const auto x_t = spikes[t].reshape(-1).contiguous();
      y = stream.step(x_t.data_ptr<float>());
    }
    double spread = 0;
    for (int64_t k = 0; k < 3; ++k) {
      EXPECT_NEAR(y[k], expected[k].item<double>(), 1e-5 * (1 + std::abs(expected[k].item<double>()))) << k;
      spread += std::abs(expected[k].item<double>());
    }
    EXPECT_GT(spread, 0.5) << "the network never spiked: the comparison would be weak";
    return;
  }
  for (bool double_layer : {false, true}) {
    torch::manual_seed(7);
    SequenceModel model(config_of(c, 3, 8, 2, double_layer));  // halves of halves: 8
    perturb(*model);
    const auto compiled = ncrt::Model::parse(ncm_bytes(model), c.name);
    EXPECT_EQ(compiled.input_size(), 3);
    EXPECT_EQ(compiled.output_size(), 2);
    EXPECT_EQ(compiled.layers(), 2);
    EXPECT_LT(testing::max_streaming_difference(model, compiled, 40, 3), 1e-5) << c.name << (double_layer ? " double" : "");
  }
}

TEST_P(CellConformance, CheckpointRoundTrip) {
  const auto& c = cell();
  TempDir dir;
  const auto path = dir.path("model.safetensors");
  if (!c.sequence_model()) {
    auto a = spiking_model(c, 6, 5, 1), b = spiking_model(c, 6, 5, 2);
    save_src_weights(path, a);
    load_src_weights(path, b);
    const auto x = torch::bernoulli(torch::full({9, 2, 6}, 0.4));
    EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
    return;
  }
  for (bool double_layer : {false, true}) {
    const auto config = config_of(c, 2, 8, 2, double_layer);
    torch::manual_seed(1);
    SequenceModel a(config);
    perturb(*a);
    torch::manual_seed(2);
    SequenceModel b(config);
    save_weights(path, a);
    load_weights(path, b);
    const auto x = torch::randn({5, 3, 2});
    EXPECT_TRUE(torch::equal(a->forward(x, 2), b->forward(x, 2))) << c.name;
    for (const auto& p : a->named_parameters())  // names are module paths: stack.layerL...., readout.*
      EXPECT_TRUE(p.key().rfind("stack.layer", 0) == 0 || p.key().rfind("readout.", 0) == 0) << p.key();
  }
}

TEST_P(CellConformance, RegistryShapesAreTheLayers) {
  const auto& c = cell();
  if (!c.sequence_model()) GTEST_SKIP() << c.name << " layers have no second state and one input matrix";
  for (int64_t H : {4, 6}) {
    auto layer = make_layer(c.kind, 3, H);
    EXPECT_EQ(layer->kind(), c.kind);
    EXPECT_EQ(layer->hidden_size(), H);
    EXPECT_EQ(layer->second_state_size(), c.second_state_width(H)) << c.name;
    if (!c.sequential()) continue;
    const auto params = layer->named_parameters();
    ASSERT_TRUE(params.contains("weight_ih")) << c.name;
    EXPECT_EQ(params["weight_ih"].size(0), c.input_gates * H) << c.name;
    if (c.recurrent_gates > 0) {
      ASSERT_TRUE(params.contains("weight_hh")) << c.name;
      EXPECT_EQ(params["weight_hh"].size(0), c.recurrent_gates * H) << c.name;
    } else {
      EXPECT_FALSE(params.contains("weight_hh")) << c.name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, CellConformance, ::testing::ValuesIn(cell_kind_names()), [](const auto& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

// One list: the command line's --cell choices, the registry and the runtime agree.
TEST(CellRegistry, CliRuntimeAndRegistryAgree) {
  EXPECT_EQ(cli_cell_choices(), cell_kind_names());
  std::vector<std::string> layer_cells = cell_names_where([](const CellInfo& c) { return c.sequence_model(); });
  EXPECT_EQ(ncrt::supported_layer_kinds(), layer_cells);
  // names are unique, and every kind maps back to its name
  for (const auto& c : cell_registry()) {
    EXPECT_EQ(std::count(cell_kind_names().begin(), cell_kind_names().end(), c.name), 1) << c.name;
    EXPECT_EQ(cell_kind_name(parse_cell_kind(c.name)), c.name);
    EXPECT_FALSE(c.description.empty()) << c.name;
  }
  const auto bad = testing::cli({"train", "--cell", "no-such-cell", "--out", "/tmp/never"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE((bad.out + bad.err).find("no-such-cell"), std::string::npos) << bad.out << bad.err;
}

}  // namespace
}  // namespace neurocell
