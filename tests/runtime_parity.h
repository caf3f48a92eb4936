#pragma once
// Shared by the conformance and runtime tests: how far the dependency-free runtime streaming a
// compiled model is from the library's own one-step API.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "neurocell_runtime.h"
#include "nn/model.h"

namespace neurocell::testing {

// Max |runtime - library| over T steps of streaming one sequence drawn with `seed`.
inline double max_streaming_difference(SequenceModel& model, const ncrt::Model& compiled, int64_t steps,
                                       uint64_t seed) {
  torch::manual_seed(seed);
  const auto x = torch::randn({steps, 1, model->config.input_size});
  torch::NoGradGuard no_grad;
  auto state = model->initial_state(1);
  ncrt::Stream stream(compiled);
  double worst = 0;
  for (int64_t t = 0; t < steps; ++t) {
    const auto expected = model->step(x[t], state).reshape(-1);
    const auto x_t = x[t].reshape(-1).contiguous();
    const float* y = stream.step(x_t.data_ptr<float>());
    for (int64_t k = 0; k < expected.numel(); ++k)
      worst = std::max(worst, std::abs(static_cast<double>(y[k]) - expected[k].item<double>()));
  }
  // the states moved (an MRU that never switched would make the comparison weak)
  const auto& s = stream.state();
  EXPECT_GT(std::count_if(s.begin(), s.end(), [](float v) { return v != 0; }), static_cast<long>(s.size()) / 2);
  return worst;
}

}  // namespace neurocell::testing
