#pragma once
// Rate coding of images into spike trains (tasks.md, "Rate-coded spiking MNIST"): `prefix`
// empty steps, then `steps` steps where pixel p spikes with probability gain * p / 255,
// independently at each step.
#include <torch/types.h>

#include <cstdint>

namespace neurocell {

struct RateCoding {
  int64_t prefix = 20;  // empty steps before the image (>= 0)
  int64_t steps = 200;  // steps showing the image (>= 1)
  double gain = 0.25;   // spike probability of a white pixel, in (0, 1]
  // 0 = full trace. Otherwise the prefix + steps trace is cut to `subsample` steps by keeping
  // every k-th step, k = (prefix + steps) / subsample (must divide: 220 -> 110, 55, 44, 22).
  // Keeping steps rather than OR-pooling windows keeps the input statistics independent of
  // the length: every kept step is still a Bernoulli(gain * p / 255) draw and the prefix keeps
  // its share of the trace, so a model sees the same kind of input at every length; OR-pooling
  // would raise the rate to 1 - (1 - q)^k (0.94 for a white pixel at k = 10), i.e. change the
  // gain with the length. Only the kept steps are drawn.
  int64_t subsample = 0;

  void validate() const;  // throws Error naming the bad option
  int64_t length() const;  // T of the trace: prefix + steps, or subsample
  int64_t empty_steps() const;  // leading all-zero steps of the trace
};

// images (B, P) uint8 (P = 784 for MNIST) -> spikes (T, B, P) float32 of 0/1, T = length(),
// on the images' device, drawn from `generator` (same generator state -> same spikes; one
// 64-bit draw per call seeds a counter-based stream, the same for any thread count).
torch::Tensor rate_code(const torch::Tensor& images, const RateCoding& coding,
                        torch::Generator& generator);

}  // namespace neurocell
