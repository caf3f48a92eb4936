// Fused kernels against the reference: forward outputs and every gradient (input, initial
// state(s), each parameter), float64 to 1e-10 and float32 to 1e-4 relative, over shapes
// with B = 1, T = 1, I = 1 and odd H on both sides of the SIMD width (8 floats / 4 doubles).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn/layers.h"
#include "nn/model.h"

namespace neurocell {
namespace {

struct Shape {
  int64_t T, B, I, H;
};
const Shape kShapes[] = {{1, 1, 1, 1}, {1, 3, 2, 5}, {6, 1, 1, 9}, {5, 3, 2, 7}, {13, 4, 3, 17}, {7, 5, 1, 33}};

struct Result {
  std::vector<torch::Tensor> values;  // outputs then gradients
};

// Runs `layer` with impl on x, h0 (c0) and returns h, c, and the gradients of a random
// probe loss w.r.t. x, h0, c0 and every parameter.
Result run(RecurrentLayer& layer, Impl impl, const torch::Tensor& x, const torch::Tensor& h0,
           const torch::Tensor& c0, const torch::Tensor& probe_h, const torch::Tensor& probe_c) {
  layer->set_impl(impl);
  auto xi = x.clone().requires_grad_(true), hi = h0.clone().requires_grad_(true);
  auto ci = c0.defined() ? c0.clone().requires_grad_(true) : c0;
  const auto out = layer->forward(xi, {hi, ci});
  auto loss = (out.h * probe_h).sum();
  if (out.c.defined()) loss = loss + (out.c * probe_c).sum();
  std::vector<torch::Tensor> inputs = {xi, hi};
  if (ci.defined()) inputs.push_back(ci);
  for (const auto& p : layer->parameters()) inputs.push_back(p);
  const auto grads = torch::autograd::grad({loss}, inputs);
  Result r;
  r.values.push_back(out.h.detach());
  if (out.c.defined()) r.values.push_back(out.c.detach());
  for (const auto& g : grads) r.values.push_back(g);
  return r;
}

void expect_fused_matches_reference(CellKind kind, bool double_layer, torch::ScalarType dtype) {
  const double rtol = dtype == torch::kFloat64 ? 1e-10 : 1e-4;
  const double atol = dtype == torch::kFloat64 ? 1e-10 : 1e-5;
  for (const auto& s : kShapes) {
    const int64_t H = double_layer ? 2 * s.H : s.H;
    torch::manual_seed(s.T * 100 + s.H);
    auto layer = make_layer(kind, s.I, H, double_layer);
    {
      torch::NoGradGuard g;
      for (auto& p : layer->parameters()) p.uniform_(-0.9, 0.9);
    }
    layer->to(dtype);
    const auto opts = torch::TensorOptions().dtype(dtype);
    const auto x = torch::randn({s.T, s.B, s.I}, opts);
    const auto h0 = torch::randn({s.B, H}, opts) * 0.5;
    const auto c0 = kind == CellKind::lstm ? torch::randn({s.B, H}, opts) : torch::Tensor();
    const auto probe_h = torch::randn({s.T, s.B, H}, opts), probe_c = torch::randn({s.T, s.B, H}, opts);
    const auto fused = run(layer, Impl::fused, x, h0, c0, probe_h, probe_c);
    const auto reference = run(layer, Impl::reference, x, h0, c0, probe_h, probe_c);
    ASSERT_EQ(fused.values.size(), reference.values.size());
    for (size_t i = 0; i < fused.values.size(); ++i) {
      ASSERT_TRUE(fused.values[i].defined() && reference.values[i].defined()) << i;
      const auto err = (fused.values[i] - reference.values[i]).abs();
      const auto bound = atol + rtol * reference.values[i].abs();
      EXPECT_TRUE((err <= bound).all().item<bool>())
          << cell_kind_name(kind) << (double_layer ? " double" : "") << " " << c10::toString(dtype)
          << " T=" << s.T << " B=" << s.B << " I=" << s.I << " H=" << H << ": value " << i
          << " max error " << err.max().item<double>();
    }
  }
}

class FusedVsReference : public ::testing::TestWithParam<CellKind> {};

TEST_P(FusedVsReference, Float64) { expect_fused_matches_reference(GetParam(), false, torch::kFloat64); }
TEST_P(FusedVsReference, Float32) { expect_fused_matches_reference(GetParam(), false, torch::kFloat32); }
TEST_P(FusedVsReference, DoubleLayerFloat64) { expect_fused_matches_reference(GetParam(), true, torch::kFloat64); }

INSTANTIATE_TEST_SUITE_P(Cells, FusedVsReference,
                         ::testing::Values(CellKind::brc, CellKind::nbrc, CellKind::gru, CellKind::lstm,
                                           CellKind::mgu),
                         [](const auto& info) { return cell_kind_name(info.param); });

// A three-layer stack, fused against reference, with initial states and a loss on the last
// state only (the copy task's gradient pattern).
TEST(FusedStack, MultiLayerMatchesReference) {
  for (auto kind : {CellKind::brc, CellKind::nbrc, CellKind::gru, CellKind::lstm, CellKind::mgu}) {
    torch::manual_seed(21);
    ModelConfig config;
    config.cell = cell_kind_name(kind);
    config.input_size = 2;
    config.hidden_size = 11;
    config.layers = 3;
    SequenceModel model(config);
    model->to(torch::kFloat64);
    const auto x = torch::randn({8, 3, 2}, torch::kFloat64);
    auto grads_for = [&](Impl impl) {
      model->stack->set_impl(impl);
      model->zero_grad();
      model->forward(x, 1).pow(2).sum().backward();
      std::vector<torch::Tensor> g;
      for (const auto& p : model->parameters()) g.push_back(p.grad().clone());
      return g;
    };
    const auto fused = grads_for(Impl::fused), reference = grads_for(Impl::reference);
    for (size_t i = 0; i < fused.size(); ++i)
      EXPECT_TRUE(torch::allclose(fused[i], reference[i], 1e-10, 1e-10)) << config.cell << " parameter " << i;
  }
}

// The fused GRU/LSTM equal torch::nn::GRU/LSTM too (the layers default to fused; this pins it).
TEST(FusedStack, GruAndLstmMatchTorchNn) {
  torch::manual_seed(22);
  const int64_t T = 9, B = 4, I = 3, H = 10;
  torch::nn::GRU gru(torch::nn::GRUOptions(I, H));
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(I, H));
  gru->to(torch::kFloat64);
  lstm->to(torch::kFloat64);
  auto our_gru = std::make_shared<GruLayerImpl>(I, H);
  auto our_lstm = std::make_shared<LstmLayerImpl>(I, H);
  our_gru->to(torch::kFloat64);
  our_lstm->to(torch::kFloat64);
  {
    torch::NoGradGuard g;
    auto pg = gru->named_parameters(), pl = lstm->named_parameters();
    our_gru->weight_ih.copy_(pg["weight_ih_l0"]), our_gru->weight_hh.copy_(pg["weight_hh_l0"]);
    our_gru->bias_ih.copy_(pg["bias_ih_l0"]), our_gru->bias_hh.copy_(pg["bias_hh_l0"]);
    our_lstm->weight_ih.copy_(pl["weight_ih_l0"]), our_lstm->weight_hh.copy_(pl["weight_hh_l0"]);
    our_lstm->bias_ih.copy_(pl["bias_ih_l0"]), our_lstm->bias_hh.copy_(pl["bias_hh_l0"]);
  }
  ASSERT_EQ(our_gru->impl(), Impl::fused);
  const auto x = torch::randn({T, B, I}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(our_gru->forward(x).h, std::get<0>(gru->forward(x)), 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(our_lstm->forward(x).h, std::get<0>(lstm->forward(x)), 1e-12, 1e-12));
}

}  // namespace
}  // namespace neurocell
