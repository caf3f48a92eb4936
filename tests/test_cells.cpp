// Cell equations against values computed by hand (scalar loops written from cells.md, no
// LibTorch ops), GRU/LSTM against torch::nn, and the stack and double layer.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <tuple>

#include "nn/cell_registry.h"
#include "core/error.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "test_util.h"

namespace neurocell {
namespace {

using Matrix = std::vector<std::vector<double>>;  // [row][col]
double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

Matrix to_matrix(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous();
  Matrix m(c.size(0), std::vector<double>(c.size(1)));
  for (int64_t i = 0; i < c.size(0); ++i)
    for (int64_t j = 0; j < c.size(1); ++j) m[i][j] = c[i][j].item<double>();
  return m;
}
std::vector<double> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}
// Row r of M times v.
double dot(const Matrix& m, int64_t row, const std::vector<double>& v) {
  double s = 0;
  for (size_t j = 0; j < v.size(); ++j) s += m[row][j] * v[j];
  return s;
}

struct Tiny {
  static constexpr int64_t T = 3, B = 2, I = 2, H = 3;
};

// Every parameter drawn away from its initial value so that all terms matter.
void randomise(torch::nn::Module& m) {
  torch::NoGradGuard g;
  for (auto& p : m.parameters()) p.uniform_(-0.8, 0.8);
}

class CellByHand : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(7);
    x = torch::randn({Tiny::T, Tiny::B, Tiny::I}, torch::kFloat64);
    h0 = torch::randn({Tiny::B, Tiny::H}, torch::kFloat64) * 0.5;
  }
  torch::Tensor x, h0;
};

TEST_F(CellByHand, Brc) {
  auto layer = std::make_shared<BrcLayerImpl>(Tiny::I, Tiny::H);
  randomise(*layer);
  layer->to(torch::kFloat64);
  const auto out = layer->forward(x, {h0, {}}).h;
  const auto U = to_matrix(layer->weight_ih);
  const auto bias = to_vector(layer->bias), wa = to_vector(layer->w_a), wc = to_vector(layer->w_c);
  for (int64_t b = 0; b < Tiny::B; ++b) {
    auto h = to_vector(h0[b]);
    for (int64_t t = 0; t < Tiny::T; ++t) {
      const auto xt = to_vector(x[t][b]);
      std::vector<double> next(Tiny::H);
      for (int64_t j = 0; j < Tiny::H; ++j) {
        const double a = 1 + std::tanh(dot(U, j, xt) + wa[j] * h[j] + bias[j]);
        const double c = sigmoid(dot(U, Tiny::H + j, xt) + wc[j] * h[j] + bias[Tiny::H + j]);
        next[j] = c * h[j] + (1 - c) * std::tanh(dot(U, 2 * Tiny::H + j, xt) + a * h[j] + bias[2 * Tiny::H + j]);
      }
      h = next;
      for (int64_t j = 0; j < Tiny::H; ++j) EXPECT_NEAR(out[t][b][j].item<double>(), h[j], 1e-14);
    }
  }
}

TEST_F(CellByHand, Nbrc) {
  auto layer = std::make_shared<NbrcLayerImpl>(Tiny::I, Tiny::H);
  randomise(*layer);
  layer->to(torch::kFloat64);
  const auto out = layer->forward(x, {h0, {}}).h;
  const auto U = to_matrix(layer->weight_ih), W = to_matrix(layer->weight_hh);
  const auto bias = to_vector(layer->bias);
  for (int64_t b = 0; b < Tiny::B; ++b) {
    auto h = to_vector(h0[b]);
    for (int64_t t = 0; t < Tiny::T; ++t) {
      const auto xt = to_vector(x[t][b]);
      std::vector<double> next(Tiny::H);
      for (int64_t j = 0; j < Tiny::H; ++j) {
        const double a = 1 + std::tanh(dot(U, j, xt) + dot(W, j, h) + bias[j]);
        const double c = sigmoid(dot(U, Tiny::H + j, xt) + dot(W, Tiny::H + j, h) + bias[Tiny::H + j]);
        next[j] = c * h[j] + (1 - c) * std::tanh(dot(U, 2 * Tiny::H + j, xt) + a * h[j] + bias[2 * Tiny::H + j]);
      }
      h = next;
      for (int64_t j = 0; j < Tiny::H; ++j) EXPECT_NEAR(out[t][b][j].item<double>(), h[j], 1e-14);
    }
  }
}

TEST_F(CellByHand, Mgu) {
  auto layer = std::make_shared<MguLayerImpl>(Tiny::I, Tiny::H);
  randomise(*layer);
  layer->to(torch::kFloat64);
  const auto out = layer->forward(x, {h0, {}}).h;
  const auto U = to_matrix(layer->weight_ih), W = to_matrix(layer->weight_hh);
  const auto bias = to_vector(layer->bias);
  for (int64_t b = 0; b < Tiny::B; ++b) {
    auto h = to_vector(h0[b]);
    for (int64_t t = 0; t < Tiny::T; ++t) {
      const auto xt = to_vector(x[t][b]);
      std::vector<double> f(Tiny::H), fh(Tiny::H), next(Tiny::H);
      for (int64_t j = 0; j < Tiny::H; ++j) {
        f[j] = sigmoid(dot(U, j, xt) + dot(W, j, h) + bias[j]);
        fh[j] = f[j] * h[j];
      }
      for (int64_t j = 0; j < Tiny::H; ++j) {
        const double n = std::tanh(dot(U, Tiny::H + j, xt) + dot(W, Tiny::H + j, fh) + bias[Tiny::H + j]);
        next[j] = (1 - f[j]) * h[j] + f[j] * n;
      }
      h = next;
      for (int64_t j = 0; j < Tiny::H; ++j) EXPECT_NEAR(out[t][b][j].item<double>(), h[j], 1e-14);
    }
  }
}

TEST_F(CellByHand, GruAndLstmSingleStep) {
  // One step of each from h0 (and c0), written out per unit.
  auto gru = std::make_shared<GruLayerImpl>(Tiny::I, Tiny::H);
  auto lstm = std::make_shared<LstmLayerImpl>(Tiny::I, Tiny::H);
  gru->to(torch::kFloat64);
  lstm->to(torch::kFloat64);
  const auto c0 = torch::randn({Tiny::B, Tiny::H}, torch::kFloat64);
  const auto x1 = x.narrow(0, 0, 1);
  const auto gru_out = gru->forward(x1, {h0, {}}).h;
  const auto lstm_out = lstm->forward(x1, {h0, c0});
  const auto Ug = to_matrix(gru->weight_ih), Wg = to_matrix(gru->weight_hh);
  const auto bi = to_vector(gru->bias_ih), bh = to_vector(gru->bias_hh);
  const auto Ul = to_matrix(lstm->weight_ih), Wl = to_matrix(lstm->weight_hh);
  const auto li = to_vector(lstm->bias_ih), lh = to_vector(lstm->bias_hh);
  const int64_t H = Tiny::H;
  for (int64_t b = 0; b < Tiny::B; ++b) {
    const auto xt = to_vector(x[0][b]), h = to_vector(h0[b]), c = to_vector(c0[b]);
    for (int64_t j = 0; j < H; ++j) {
      const double r = sigmoid(dot(Ug, j, xt) + bi[j] + dot(Wg, j, h) + bh[j]);
      const double z = sigmoid(dot(Ug, H + j, xt) + bi[H + j] + dot(Wg, H + j, h) + bh[H + j]);
      const double n = std::tanh(dot(Ug, 2 * H + j, xt) + bi[2 * H + j] + r * (dot(Wg, 2 * H + j, h) + bh[2 * H + j]));
      EXPECT_NEAR(gru_out[0][b][j].item<double>(), (1 - z) * n + z * h[j], 1e-14);
      auto gate = [&](int64_t k) { return dot(Ul, k * H + j, xt) + li[k * H + j] + dot(Wl, k * H + j, h) + lh[k * H + j]; };
      const double i = sigmoid(gate(0)), f = sigmoid(gate(1)), g = std::tanh(gate(2)), o = sigmoid(gate(3));
      const double c_new = f * c[j] + i * g;
      EXPECT_NEAR(lstm_out.c[0][b][j].item<double>(), c_new, 1e-14);
      EXPECT_NEAR(lstm_out.h[0][b][j].item<double>(), o * std::tanh(c_new), 1e-14);
    }
  }
}

TEST(CellInit, DocumentedInitialisation) {
  torch::manual_seed(1);
  BrcLayerImpl brc(4, 50);
  EXPECT_TRUE(torch::equal(brc.w_a, torch::ones({50})));
  EXPECT_TRUE(torch::equal(brc.w_c, torch::ones({50})));
  EXPECT_TRUE(torch::equal(brc.bias, torch::zeros({150})));
  const double glorot = std::sqrt(6.0 / (4 + 50));
  EXPECT_LE(brc.weight_ih.abs().max().item<double>(), glorot);
  EXPECT_GT(brc.weight_ih.abs().max().item<double>(), 0.8 * glorot);
  NbrcLayerImpl orthogonal(3, 8, LayerInit{true, 0});
  const auto wa = orthogonal.weight_hh.narrow(0, 0, 8);
  EXPECT_TRUE(torch::allclose(wa.matmul(wa.t()), torch::eye(8), 1e-5, 1e-5));
  LstmLayerImpl chrono(2, 16, LayerInit{false, 100});
  const auto forget = chrono.bias_ih.narrow(0, 16, 16), input = chrono.bias_ih.narrow(0, 0, 16);
  EXPECT_TRUE(torch::allclose(forget, -input));
  EXPECT_GE(forget.min().item<double>(), 0.0);
  EXPECT_LE(forget.max().item<double>(), std::log(99.0) + 1e-6);
}

// The authors' GRU (glambrechts/warmup cells.py:94-105; Keras GRUCell in the BRC 2020 code) and
// the BRC paper's Keras LSTM: Glorot per gate on weight_ih, orthogonal per gate on weight_hh,
// zero biases; LSTM forget bias 1. And the warmup code's CHRONO: a draw per bias vector.
TEST(CellInit, KerasSchemeAndAuthorsChrono) {
  torch::manual_seed(2);
  LayerInit keras;
  keras.keras = true;
  const int64_t I = 5, H = 12;
  const double glorot = std::sqrt(6.0 / (I + H));
  GruLayerImpl gru(I, H, keras);
  LstmLayerImpl lstm(I, H, keras);
  for (auto [w_ih, w_hh, gates] : {std::tuple{gru.weight_ih, gru.weight_hh, 3}, std::tuple{lstm.weight_ih, lstm.weight_hh, 4}}) {
    for (int64_t g = 0; g < gates; ++g) {
      const auto in = w_ih.narrow(0, g * H, H), rec = w_hh.narrow(0, g * H, H);
      EXPECT_LE(in.abs().max().item<double>(), glorot);
      EXPECT_GT(in.abs().max().item<double>(), 0.7 * glorot);
      EXPECT_TRUE(torch::allclose(rec.matmul(rec.t()), torch::eye(H), 1e-5, 1e-5)) << "gate " << g;
    }
  }
  EXPECT_TRUE(torch::equal(gru.bias_ih, torch::zeros({3 * H})));
  EXPECT_TRUE(torch::equal(gru.bias_hh, torch::zeros({3 * H})));
  auto expected_lstm_bias = torch::zeros({4 * H});
  expected_lstm_bias.narrow(0, H, H).fill_(1.0);  // [i; f; g; o]
  EXPECT_TRUE(torch::equal(lstm.bias_ih, expected_lstm_bias));
  EXPECT_TRUE(torch::equal(lstm.bias_hh, torch::zeros({4 * H})));
  // torch::nn's default stays the default: U(-1/sqrt(H), 1/sqrt(H)) everywhere, biases too
  GruLayerImpl plain(I, H);
  EXPECT_GT(plain.bias_ih.abs().max().item<double>(), 0.5 / std::sqrt(H));
  EXPECT_LE(plain.weight_hh.abs().max().item<double>(), 1.0 / std::sqrt(H));

  LayerInit chrono;
  chrono.chrono_max_length = 100;
  chrono.chrono_authors = true;
  LstmLayerImpl authors(I, H, chrono);
  for (const auto& bias : {authors.bias_ih, authors.bias_hh}) {
    EXPECT_TRUE(torch::allclose(bias.narrow(0, H, H), -bias.narrow(0, 0, H)));
    EXPECT_GE(bias.narrow(0, H, H).min().item<double>(), 0.0);
    EXPECT_LE(bias.narrow(0, H, H).max().item<double>(), std::log(99.0) + 1e-6);
    EXPECT_TRUE(torch::equal(bias.narrow(0, 2 * H, 2 * H), torch::zeros({2 * H})));  // g, o
  }
  EXPECT_FALSE(torch::equal(authors.bias_ih, authors.bias_hh));  // two draws

  ModelConfig config;
  config.cell = "brc";
  config.weights_init = "keras";
  EXPECT_THROW(config.validate(), Error);  // only GRU and LSTM have two schemes
  config.cell = "gru";
  EXPECT_NO_THROW(config.validate());
  EXPECT_EQ(to_json(config).at("weights_init"), "keras");
  EXPECT_FALSE(to_json(ModelConfig{}).contains("weights_init"));
  config.orthogonal_recurrent = true;
  EXPECT_THROW(config.validate(), Error);  // --orthogonal is nBRC's
}

// torch::nn::GRU / LSTM with the same weights, one and two layers, with initial states.
template <typename TorchModule, typename OurLayer>
void copy_torch_weights(TorchModule& reference, std::vector<RecurrentLayer>& layers) {
  torch::NoGradGuard g;
  for (size_t l = 0; l < layers.size(); ++l) {
    auto ours = std::dynamic_pointer_cast<OurLayer>(layers[l]);
    ASSERT_TRUE(ours);
    const auto suffix = "_l" + std::to_string(l);
    const auto params = reference->named_parameters();
    ours->weight_ih.copy_(params["weight_ih" + suffix]);
    ours->weight_hh.copy_(params["weight_hh" + suffix]);
    ours->bias_ih.copy_(params["bias_ih" + suffix]);
    ours->bias_hh.copy_(params["bias_hh" + suffix]);
  }
}

TEST(TorchParity, GruMatchesTorchNn) {
  torch::manual_seed(3);
  const int64_t T = 7, B = 3, I = 4, H = 5, L = 2;
  torch::nn::GRU reference(torch::nn::GRUOptions(I, H).num_layers(L));
  reference->to(torch::kFloat64);
  RecurrentStack stack(CellKind::gru, I, H, L);
  stack->to(torch::kFloat64);
  copy_torch_weights<torch::nn::GRU, GruLayerImpl>(reference, stack->layers);
  const auto x = torch::randn({T, B, I}, torch::kFloat64);
  const auto h0 = torch::randn({L, B, H}, torch::kFloat64);
  const auto [expected, expected_last] = reference->forward(x, h0);
  const auto ours = stack->forward(x, {{h0[0], {}}, {h0[1], {}}});
  EXPECT_TRUE(torch::allclose(ours.back().h, expected, 1e-13, 1e-13));
  EXPECT_TRUE(torch::allclose(ours[0].last().h, expected_last[0], 1e-13, 1e-13));
  // Gradients too.
  auto xg = x.clone().requires_grad_(true), xr = x.clone().requires_grad_(true);
  stack->forward(xg).back().h.pow(2).sum().backward();
  std::get<0>(reference->forward(xr)).pow(2).sum().backward();
  EXPECT_TRUE(torch::allclose(xg.grad(), xr.grad(), 1e-12, 1e-12));
  auto ours0 = std::dynamic_pointer_cast<GruLayerImpl>(stack->layers[0]);
  EXPECT_TRUE(torch::allclose(ours0->weight_hh.grad(), reference->named_parameters()["weight_hh_l0"].grad(), 1e-12, 1e-12));
}

TEST(TorchParity, LstmMatchesTorchNn) {
  torch::manual_seed(4);
  const int64_t T = 6, B = 2, I = 3, H = 4, L = 2;
  torch::nn::LSTM reference(torch::nn::LSTMOptions(I, H).num_layers(L));
  reference->to(torch::kFloat64);
  RecurrentStack stack(CellKind::lstm, I, H, L);
  stack->to(torch::kFloat64);
  copy_torch_weights<torch::nn::LSTM, LstmLayerImpl>(reference, stack->layers);
  const auto x = torch::randn({T, B, I}, torch::kFloat64);
  const auto h0 = torch::randn({L, B, H}, torch::kFloat64), c0 = torch::randn({L, B, H}, torch::kFloat64);
  const auto [expected, last] = reference->forward(x, std::make_tuple(h0, c0));
  const auto ours = stack->forward(x, {{h0[0], c0[0]}, {h0[1], c0[1]}});
  EXPECT_TRUE(torch::allclose(ours.back().h, expected, 1e-13, 1e-13));
  EXPECT_TRUE(torch::allclose(ours.back().last().c, std::get<1>(last)[1], 1e-13, 1e-13));
  EXPECT_TRUE(torch::allclose(ours[0].last().c, std::get<1>(last)[0], 1e-13, 1e-13));
}

TEST(Layers, DoubleLayerIsTwoHalvesSideBySide) {
  torch::manual_seed(5);
  for (auto kind : {CellKind::brc, CellKind::lstm}) {
    auto layer = make_layer(kind, 3, 6, /*double_layer=*/true);
    layer->to(torch::kFloat64);
    auto dbl = std::dynamic_pointer_cast<DoubleLayerImpl>(layer);
    ASSERT_TRUE(dbl);
    EXPECT_EQ(dbl->first->hidden_size(), 3);
    const auto x = torch::randn({5, 2, 3}, torch::kFloat64);
    const auto h0 = torch::randn({2, 6}, torch::kFloat64);
    const auto c0 = kind == CellKind::lstm ? torch::randn({2, 6}, torch::kFloat64) : torch::Tensor();
    const auto out = layer->forward(x, {h0, c0});
    const auto a = dbl->first->forward(x, {h0.narrow(1, 0, 3), c0.defined() ? c0.narrow(1, 0, 3) : c0});
    const auto b = dbl->second->forward(x, {h0.narrow(1, 3, 3), c0.defined() ? c0.narrow(1, 3, 3) : c0});
    EXPECT_TRUE(torch::equal(out.h, torch::cat({a.h, b.h}, 2)));
    if (kind == CellKind::lstm) EXPECT_TRUE(torch::equal(out.c, torch::cat({a.c, b.c}, 2)));
  }
  EXPECT_THROW(make_layer(CellKind::gru, 2, 5, true), Error);
}

TEST(Layers, StackFeedsEachLayerTheStatesOfThePrevious) {
  torch::manual_seed(6);
  RecurrentStack stack(CellKind::mgu, 2, 4, 3);
  const auto x = torch::randn({4, 3, 2});
  const auto outs = stack->forward(x);
  ASSERT_EQ(outs.size(), 3u);
  EXPECT_TRUE(torch::equal(outs[2].h, stack->layers[2]->forward(outs[1].h).h));
}

TEST(Layers, ShapeErrorsNameTheProblem) {
  auto layer = make_layer(CellKind::nbrc, 3, 4);
  try {
    layer->forward(torch::randn({5, 2, 2}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input width 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(layer->forward(torch::randn({5, 3})), Error);
  EXPECT_THROW(layer->forward(torch::randn({5, 2, 3}), {torch::zeros({3, 4}), {}}), Error);
  EXPECT_THROW(parse_cell_kind("transformer"), Error);
}

TEST(Model, ReadoutOfTheLastKStatesAndAllStates) {
  torch::manual_seed(8);
  ModelConfig config;
  config.cell = "lstm";
  config.input_size = 2;
  config.hidden_size = 6;
  config.layers = 2;
  config.output_size = 1;
  SequenceModel model(config);
  const auto x = torch::randn({9, 4, 2});
  EXPECT_EQ(model->forward(x, 5).sizes(), (std::vector<int64_t>{5, 4, 1}));
  const auto states = model->all_states(x);
  EXPECT_EQ(states.size(2), model->state_width());
  EXPECT_EQ(states.size(2), 24);  // 2 layers x (h, c) x 6
  const auto last_h = states.narrow(2, 12, 6)[-1];
  EXPECT_TRUE(torch::allclose(model->readout->forward(last_h), model->forward(x, 1)[0]));
}

}  // namespace
}  // namespace neurocell
