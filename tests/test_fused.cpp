// Fused stacks of the sequential cells against the reference with a loss on the last state
// only (the copy task's gradient pattern), and GRU/LSTM against torch::nn. Every cell's
// layer-level fused-vs-reference sweep is in test_cell_conformance.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn/cell_registry.h"
#include "nn/layers.h"
#include "nn/model.h"

namespace neurocell {
namespace {

// A three-layer stack, fused against reference, with initial states and a loss on the last
// state only (the copy task's gradient pattern).
TEST(FusedStack, MultiLayerMatchesReference) {
  for (const auto& cell : cell_registry()) {
    if (!cell.sequential()) continue;
    const auto kind = cell.kind;
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
