// SRC: the cell by hand, fused vs reference (outputs and every gradient, float64 to 1e-10,
// float32 to 1e-4 relative; dense and sparse input projection; with and without detached
// recurrence), the reference against finite differences, the resting state, the bias clamp
// and the classifier's frozen readout. LIF: the layer by hand (forward and the surrogate
// backward as scalar loops), fused vs reference at the layer (membrane outputs too), and the
// LIF classifier's config round trip.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "nn/spiking.h"
#include "reference/reference.h"
#include "test_util.h"

namespace neurocell {
namespace {

// A layer whose units cross the 1/2 threshold now and then (so the gate switches).
SrcLayer random_layer(int64_t I, int64_t H, bool detach, torch::ScalarType dtype) {
  SrcCellOptions options;
  options.detach_recurrence = detach;
  options.bias_max = 1.0;
  SrcLayer layer(I, H, options);
  {
    torch::NoGradGuard g;
    layer->weight.uniform_(-1.5, 1.5);
    layer->bias.uniform_(-2.0, 0.5);
    layer->r.uniform_(0.5, 2.0);
    layer->r_s.uniform_(-3.0, -0.5);
    layer->rho.uniform_(1.0, 3.0);
    layer->z_hyp.uniform_(0.6, 0.95);
    layer->z_dep.uniform_(0.0, 0.3);
    layer->initial_i.uniform_(-1, 1);
    layer->initial_h.uniform_(-0.9, 0.9);
    layer->initial_hs.uniform_(-0.9, 0.9);
  }
  layer->to(dtype);
  return layer;
}

std::vector<torch::Tensor> run(SrcLayer& layer, Impl impl, bool sparse, const torch::Tensor& x,
                               const torch::Tensor& probe) {
  layer->impl = impl;
  layer->sparse_input = sparse;
  auto xi = x.clone().requires_grad_(true);
  const auto out = layer->forward(xi);
  const auto loss = (out.spikes * probe).sum() + (out.h * probe.flip(0)).sum();
  std::vector<torch::Tensor> inputs = {xi, layer->weight, layer->bias, layer->initial_i, layer->initial_h,
                                       layer->initial_hs};
  auto values = torch::autograd::grad({loss}, inputs, {}, false, false, /*allow_unused=*/true);
  for (size_t k = 0; k < values.size(); ++k)  // detached: no gradient reaches h0, h_s0
    if (!values[k].defined()) values[k] = torch::zeros_like(inputs[k]);
  values.insert(values.begin(), {out.spikes.detach(), out.i.detach(), out.h.detach(), out.h_s.detach()});
  return values;
}

void expect_src_fused_matches_reference(torch::ScalarType dtype) {
  const double rtol = dtype == torch::kFloat64 ? 1e-10 : 1e-4, atol = dtype == torch::kFloat64 ? 1e-10 : 1e-5;
  const char* names[] = {"spikes", "i", "h", "h_s", "dx", "dW", "db", "di0", "dh0", "dhs0"};
  struct Shape {
    int64_t T, B, I, H;
  };
  for (const Shape s : {Shape{1, 1, 1, 1}, Shape{7, 1, 3, 5}, Shape{1, 4, 2, 9}, Shape{23, 3, 11, 17}, Shape{15, 5, 6, 33}})
    for (bool detach : {false, true})
      for (bool sparse : {false, true})
        for (bool spike_input : {true, false}) {
          torch::manual_seed(s.T * 1000 + s.H + detach);
          auto layer = random_layer(s.I, s.H, detach, dtype);
          const auto opts = torch::TensorOptions().dtype(dtype);
          // 0/1 spikes, or the non-negative, mostly-zero output of an SRC layer below.
          const auto x = spike_input ? torch::bernoulli(torch::full({s.T, s.B, s.I}, 0.3, opts))
                                     : torch::relu(torch::randn({s.T, s.B, s.I}, opts) - 0.7);
          const auto probe = torch::randn({s.T, s.B, s.H}, opts);
          const auto fused = run(layer, Impl::fused, sparse, x, probe);
          const auto reference = run(layer, Impl::reference, sparse, x, probe);
          // float32 sums over many steps in different orders: relative to the tensor's scale.
          for (size_t k = 0; k < fused.size(); ++k)
            EXPECT_TRUE(dtype == torch::kFloat64
                            ? torch::allclose(fused[k], reference[k], rtol, atol)
                            : (fused[k] - reference[k]).abs().max().item<double>() <=
                                  rtol * std::max(1.0, reference[k].abs().max().item<double>()))
                << names[k] << " T=" << s.T << " B=" << s.B << " I=" << s.I << " H=" << s.H << " detach=" << detach
                << " sparse=" << sparse << " max diff " << (fused[k] - reference[k]).abs().max().item<double>();
        }
}

TEST(SrcFused, MatchesReferenceFloat64) { expect_src_fused_matches_reference(torch::kFloat64); }
TEST(SrcFused, MatchesReferenceFloat32) { expect_src_fused_matches_reference(torch::kFloat32); }

TEST(SrcCell, OneStepByHand) {
  for (Impl impl : {Impl::reference, Impl::fused}) {
    SrcLayer layer(2, 1);
    layer->to(torch::kFloat64);
    layer->impl = impl;
    {
      torch::NoGradGuard g;
      layer->weight.copy_(torch::tensor({{0.5, -0.25}}, torch::kFloat64));
      layer->initial_i.fill_(0.2);
      layer->initial_h.fill_(0.7);  // above 1/2: the gate takes z_dep = 0 this step
      layer->initial_hs.fill_(-0.3);
    }
    const auto x = torch::tensor({1.0, 1.0}, torch::kFloat64).view({1, 1, 2});
    const auto out = layer->forward(x);
    const double i = 0.9 * 0.2 + 0.25, xs = 3 * std::tanh(i / 3);
    const double h = std::tanh(xs + 2 * 0.7 - 7 * -0.3 - 6), hs = 0 * -0.3 + 1 * 0.7;
    EXPECT_NEAR(out.i.item<double>(), i, 1e-12);
    EXPECT_NEAR(out.h.item<double>(), h, 1e-12);
    EXPECT_NEAR(out.h_s.item<double>(), hs, 1e-12);
    EXPECT_NEAR(out.spikes.item<double>(), std::max(h, 0.0), 1e-12);
  }
}

TEST(SrcCell, ReferenceGradientsMatchFiniteDifferences) {
  torch::manual_seed(3);
  auto layer = random_layer(3, 4, false, torch::kFloat64);
  layer->impl = Impl::reference;
  const auto x = torch::bernoulli(torch::full({5, 2, 3}, 0.4, torch::kFloat64));
  testing::expect_gradients_match_finite_differences(
      [&](const std::vector<torch::Tensor>& p) {
        SrcWeights w = layer->weights();
        w.weight = p[0], w.bias = p[1];
        const auto b = x.size(1);
        const auto seq = reference::src_forward(x, p[2].expand({b, 4}), p[3].expand({b, 4}), p[4].expand({b, 4}), w);
        return seq.h;  // h is smooth in the parameters away from the gate's threshold
      },
      {layer->weight, layer->bias, layer->initial_i, layer->initial_h, layer->initial_hs});
}

TEST(SrcCell, RestingStateIsAFixedPoint) {
  SrcLayer layer(4, 6);
  layer->to(torch::kFloat64);
  layer->reset_initial_states_to_rest();  // solved again in float64
  const double rest = layer->initial_h[0].item<double>();
  EXPECT_NEAR(rest, std::tanh(-5 * rest - 6), 1e-12);
  EXPECT_LT(rest, 0.0);
  const auto out = layer->forward(torch::zeros({50, 2, 4}, torch::kFloat64));
  EXPECT_NEAR((out.h - rest).abs().max().item<double>(), 0.0, 1e-12);
  EXPECT_EQ(out.spikes.abs().max().item<double>(), 0.0);  // at rest an SRC neuron is silent
}

TEST(SrcCell, BiasClampedAfterEachUpdate) {
  SrcClassifierConfig config;
  config.input_size = 5, config.layers = 2, config.hidden_size = 4, config.classes = 3, config.readout_factor = 2;
  SrcClassifier model(config);
  for (auto& layer : model->layers) {
    torch::NoGradGuard g;
    layer->bias.fill_(-3.0);
    layer->bias[0] = -5.0;
  }
  model->clamp_biases();
  for (auto& layer : model->layers) {
    EXPECT_EQ(layer->bias[0].item<float>(), -5.0f);  // below the limit: unchanged
    EXPECT_EQ(layer->bias.max().item<float>(), -4.0f);
  }
}

TEST(SrcClassifier, FrozenReadoutAndLogits) {
  SrcClassifierConfig config;
  config.input_size = 6, config.layers = 2, config.hidden_size = 5, config.classes = 3, config.readout_factor = 2;
  SrcClassifier model(config);
  ASSERT_EQ(model->readout.sizes(), (torch::IntArrayRef{3, 6}));
  EXPECT_EQ(model->readout[1][4].item<float>(), 1.0f);   // neuron 4 belongs to class 4 mod 3 = 1
  EXPECT_NEAR(model->readout[0][4].item<float>(), -0.1f, 1e-7);
  for (const auto& p : model->named_parameters()) EXPECT_EQ(p.key().find("readout"), std::string::npos);
  {
    torch::NoGradGuard g;
    for (auto& layer : model->layers) layer->bias.fill_(-1.0);  // make the neurons spike
    for (auto& layer : model->layers) layer->weight.fill_(1.0);
  }
  const auto x = torch::bernoulli(torch::full({12, 2, 6}, 0.5));
  const auto logits = model->forward(x);
  const auto last = model->all_layers(x).back().spikes.sum(0);
  EXPECT_TRUE(torch::allclose(logits, torch::matmul(last, model->readout.t()) / 2.0));
  EXPECT_GT(last.sum().item<float>(), 0.0f);
}

// ---- LIF (cells.md section 2, "LIF baseline")

// A LIF layer whose units cross theta = 1 now and then, some from the first step.
LifLayer random_lif_layer(int64_t I, int64_t H, torch::ScalarType dtype, const LifCellOptions& options = {}) {
  LifLayer layer(I, H, options);
  {
    torch::NoGradGuard g;
    layer->weight.uniform_(-1.0, 1.5);
    layer->bias.uniform_(-0.3, 0.4);
    layer->initial_u.uniform_(-0.5, 1.5);
  }
  layer->to(dtype);
  return layer;
}

// The equations of cells.md as scalar loops over (t, b, j), forward and the surrogate BPTT
// by hand, against the fused kernels and the reference: spikes, u and the gradients of
// sum(p_s * s) + sum(p_u * u) with respect to x, W, b and u0.
TEST(SpikingCellByHand, Lif) {
  const int64_t T = 6, B = 2, I = 3, H = 4;
  const double beta = 0.8, theta = 1.0, k = 25.0;
  torch::manual_seed(12);
  LifCellOptions options;
  options.beta = beta;
  auto layer = random_lif_layer(I, H, torch::kFloat64, options);
  const auto x = torch::bernoulli(torch::full({T, B, I}, 0.5, torch::kFloat64));
  const auto p_s = torch::randn({T, B, H}, torch::kFloat64), p_u = torch::randn({T, B, H}, torch::kFloat64);
  auto at = [](const torch::Tensor& t, auto... i) { return t.index({static_cast<int64_t>(i)...}).template item<double>(); };

  // Forward: u[t] = beta u[t-1] + sum_c W[j][c] x[t][b][c] + b[j] - theta H(u[t-1] - theta).
  std::vector<double> u((T + 1) * B * H), s(T * B * H);
  auto U = [&](int64_t t, int64_t b, int64_t j) -> double& { return u[(t * B + b) * H + j]; };  // t = 0: u0
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < H; ++j) U(0, b, j) = at(layer->initial_u, j);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) {
        double drive = at(layer->bias, j);
        for (int64_t c = 0; c < I; ++c) drive += at(layer->weight, j, c) * at(x, t, b, c);
        const double prev = U(t, b, j);
        U(t + 1, b, j) = beta * prev + drive - theta * (prev > theta ? 1.0 : 0.0);
        s[(t * B + b) * H + j] = U(t + 1, b, j) > theta ? 1.0 : 0.0;
      }
  // Backward: g[t] = dL/du[t] = p_u[t] + p_s[t] / (1 + k |u[t] - theta|)^2 + beta g[t+1] (the
  // reset passes nothing); then dL/db = sum g, dL/dW = sum g x^T, dL/dx = W^T g, dL/du0 = beta g[1].
  std::vector<double> dx(T * B * I, 0.0), dw(H * I, 0.0), db(H, 0.0), du0(H, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < H; ++j) {
      double carry = 0;
      for (int64_t t = T - 1; t >= 0; --t) {
        const double q = 1 + k * std::abs(U(t + 1, b, j) - theta);
        const double g = carry + at(p_u, t, b, j) + at(p_s, t, b, j) / (q * q);
        db[j] += g;
        for (int64_t c = 0; c < I; ++c) {
          dw[j * I + c] += g * at(x, t, b, c);
          dx[(t * B + b) * I + c] += g * at(layer->weight, j, c);
        }
        carry = beta * g;
      }
      du0[j] += carry;  // u0 is one vector broadcast over the batch
    }
  auto as_tensor = [](const std::vector<double>& v, torch::IntArrayRef shape) {
    return torch::tensor(v, torch::kFloat64).view(shape);
  };
  const auto u_by_hand = as_tensor(u, {T + 1, B, H}).narrow(0, 1, T);
  for (Impl impl : {Impl::reference, Impl::fused}) {
    layer->impl = impl;
    auto xi = x.clone().requires_grad_(true);
    const auto out = layer->forward(xi);
    EXPECT_TRUE(torch::allclose(out.u, u_by_hand, 1e-12, 1e-12)) << (impl == Impl::fused ? "fused" : "reference");
    EXPECT_TRUE(torch::equal(out.spikes, as_tensor(s, {T, B, H})));
    EXPECT_GT(out.spikes.sum().item<double>(), 0.0);  // some spikes, and some resets to check
    EXPECT_LT(out.spikes.sum().item<double>(), T * B * H);
    const auto g = torch::autograd::grad({(out.spikes * p_s).sum() + (out.u * p_u).sum()},
                                         {xi, layer->weight, layer->bias, layer->initial_u});
    EXPECT_TRUE(torch::allclose(g[0], as_tensor(dx, {T, B, I}), 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(g[1], as_tensor(dw, {H, I}), 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(g[2], as_tensor(db, {H}), 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(g[3], as_tensor(du0, {H}), 1e-12, 1e-12));
  }
}

// The layer alone (the conformance test checks the classifier): spikes, u and every gradient,
// dense and sparse input projection, probes on both outputs, slopes and leaks of both kinds.
TEST(LifFused, MatchesReference) {
  struct Shape {
    int64_t T, B, I, H;
  };
  for (auto dtype : {torch::kFloat64, torch::kFloat32})
    for (const Shape s : {Shape{1, 1, 1, 1}, Shape{9, 3, 4, 7}, Shape{20, 5, 11, 17}, Shape{12, 2, 3, 33}})
      for (bool sparse : {false, true}) {
        torch::manual_seed(s.T * 100 + s.H);
        LifCellOptions options;
        options.beta = s.H % 2 ? 0.9 : 0.5;
        options.slope = s.T > 10 ? 25.0 : 5.0;
        auto layer = random_lif_layer(s.I, s.H, dtype, options);
        layer->sparse_input = sparse;
        const auto opts = torch::TensorOptions().dtype(dtype);
        const auto x = torch::bernoulli(torch::full({s.T, s.B, s.I}, 0.4, opts));
        const auto p_s = torch::randn({s.T, s.B, s.H}, opts), p_u = torch::randn({s.T, s.B, s.H}, opts);
        auto run_impl = [&](Impl impl) {
          layer->impl = impl;
          auto xi = x.clone().requires_grad_(true);
          const auto out = layer->forward(xi);
          auto v = torch::autograd::grad({(out.spikes * p_s).sum() + (out.u * p_u).sum()},
                                         {xi, layer->weight, layer->bias, layer->initial_u});
          v.insert(v.begin(), {out.spikes.detach(), out.u.detach()});
          return v;
        };
        const auto fused = run_impl(Impl::fused), reference = run_impl(Impl::reference);
        const char* names[] = {"spikes", "u", "dx", "dW", "db", "du0"};
        const double tolerance = dtype == torch::kFloat64 ? 1e-10 : 1e-4;
        for (size_t k = 0; k < fused.size(); ++k)
          EXPECT_LE((fused[k] - reference[k]).abs().max().item<double>(),
                    tolerance * std::max(1.0, reference[k].abs().max().item<double>()))
              << names[k] << " " << c10::toString(dtype) << " T=" << s.T << " B=" << s.B << " I=" << s.I
              << " H=" << s.H << " sparse=" << sparse;
      }
}

TEST(LifClassifier, ConfigRoundTripAndSrcDefault) {
  SrcClassifierConfig config;
  config.cell_name = "lif";
  config.input_size = 6, config.layers = 2, config.hidden_size = 5, config.classes = 3, config.readout_factor = 2;
  config.lif.beta = 0.7, config.lif.slope = 10;
  const auto json = to_json(config);
  EXPECT_FALSE(json.contains("rho"));  // only the constants of the cell the layers are
  const auto back = src_classifier_config_from_json(json);
  EXPECT_EQ(back.cell_name, "lif");
  EXPECT_EQ(back.lif.beta, 0.7);
  EXPECT_EQ(back.lif.slope, 10);
  SrcClassifier model(back);
  ASSERT_EQ(model->lif_layers.size(), 2u);
  EXPECT_TRUE(model->layers.empty());
  std::vector<std::string> names;
  for (const auto& p : model->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{"layer0.weight", "layer0.bias", "layer0.initial_u", "layer1.weight",
                                             "layer1.bias", "layer1.initial_u"}));
  EXPECT_EQ(model->readout.sizes(), (torch::IntArrayRef{3, 6}));
  EXPECT_THROW(model->all_layers(torch::zeros({3, 1, 6})), Error);  // SRC states only
  auto no_cell = json;  // runs written before LIF existed name no cell: SRC
  no_cell.erase("cell");
  EXPECT_EQ(src_classifier_config_from_json(no_cell).cell_name, "src");
  auto bad = json;
  bad["beta"] = 1.5;
  EXPECT_THROW(src_classifier_config_from_json(bad), Error);
}

}  // namespace
}  // namespace neurocell
