// Gradients of every reference cell against central finite differences in float64 (the
// check torch.autograd.gradcheck performs), with respect to the input, the initial state
// and every weight. Multi-layer and double layers through the modules.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn/layers.h"
#include "reference/reference.h"
#include "test_util.h"

namespace neurocell {
namespace {

using testing::expect_gradients_match_finite_differences;
using V = std::vector<torch::Tensor>;
constexpr int64_t T = 4, B = 2, I = 3, H = 3;

torch::Tensor rnd(std::vector<int64_t> shape, double scale = 0.6) {
  return torch::randn(shape, torch::kFloat64) * scale;
}

TEST(Gradcheck, Brc) {
  torch::manual_seed(11);
  expect_gradients_match_finite_differences(
      [](const V& v) { return reference::brc_forward(v[0], v[1], v[2], v[3], v[4], v[5]); },
      {rnd({T, B, I}), rnd({B, H}), rnd({3 * H, I}), rnd({3 * H}), 1 + rnd({H}), 1 + rnd({H})});
}

TEST(Gradcheck, Nbrc) {
  torch::manual_seed(12);
  expect_gradients_match_finite_differences(
      [](const V& v) { return reference::nbrc_forward(v[0], v[1], v[2], v[3], v[4]); },
      {rnd({T, B, I}), rnd({B, H}), rnd({3 * H, I}), rnd({2 * H, H}), rnd({3 * H})});
}

TEST(Gradcheck, Gru) {
  torch::manual_seed(13);
  expect_gradients_match_finite_differences(
      [](const V& v) { return reference::gru_forward(v[0], v[1], v[2], v[3], v[4], v[5]); },
      {rnd({T, B, I}), rnd({B, H}), rnd({3 * H, I}), rnd({3 * H, H}), rnd({3 * H}), rnd({3 * H})});
}

TEST(Gradcheck, Lstm) {
  torch::manual_seed(14);
  expect_gradients_match_finite_differences(
      [](const V& v) {
        auto [h, c] = reference::lstm_forward(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        return torch::cat({h, c}, 2);
      },
      {rnd({T, B, I}), rnd({B, H}), rnd({B, H}), rnd({4 * H, I}), rnd({4 * H, H}), rnd({4 * H}), rnd({4 * H})});
}

TEST(Gradcheck, Mgu) {
  torch::manual_seed(15);
  expect_gradients_match_finite_differences(
      [](const V& v) { return reference::mgu_forward(v[0], v[1], v[2], v[3], v[4]); },
      {rnd({T, B, I}), rnd({B, H}), rnd({2 * H, I}), rnd({2 * H, H}), rnd({2 * H})});
}

// A two-layer stack of double BRC layers: gradients w.r.t. the input and the initial
// states of both layers flow through every module.
TEST(Gradcheck, StackOfDoubleLayers) {
  torch::manual_seed(16);
  RecurrentStack stack(CellKind::brc, I, 4, 2, /*double_layer=*/true);
  stack->to(torch::kFloat64);
  expect_gradients_match_finite_differences(
      [&](const V& v) { return stack->forward(v[0], {{v[1], {}}, {v[2], {}}}).back().h; },
      {rnd({T, B, I}), rnd({B, 4}), rnd({B, 4})});
}

}  // namespace
}  // namespace neurocell
