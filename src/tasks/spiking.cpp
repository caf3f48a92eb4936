#include "tasks/spiking.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/kernels_cpu.h"

namespace neurocell {

void RateCoding::validate() const {
  require(prefix >= 0, "rate coding: prefix must be >= 0 (got " + std::to_string(prefix) + ")");
  require(steps >= 1, "rate coding: steps must be >= 1 (got " + std::to_string(steps) + ")");
  require(prefix + steps <= 1'000'000, "rate coding: prefix + steps = " +
                                           std::to_string(prefix + steps) + " is implausibly long");
  require(gain > 0.0 && gain <= 1.0,
          "rate coding: gain is a spike probability and must be in (0, 1] (got " + std::to_string(gain) + ")");
  require(subsample >= 0, "rate coding: subsample must be >= 0, 0 = none (got " +
                              std::to_string(subsample) + ")");
  require(subsample == 0 || (subsample <= prefix + steps && (prefix + steps) % subsample == 0),
          "rate coding: subsample " + std::to_string(subsample) + " must divide prefix + steps = " +
              std::to_string(prefix + steps) + (prefix + steps == 220 ? " (e.g. 110, 55, 44, 22)" : ""));
}

int64_t RateCoding::length() const { return subsample == 0 ? prefix + steps : subsample; }

int64_t RateCoding::empty_steps() const {
  // Kept steps are t = 0, k, 2k, ...; those with t < prefix are empty: ceil(prefix / k).
  const int64_t k = subsample == 0 ? 1 : (prefix + steps) / subsample;
  return (prefix + k - 1) / k;
}

torch::Tensor rate_code(const torch::Tensor& images, const RateCoding& coding,
                        torch::Generator& generator) {
  coding.validate();
  require(images.dim() == 2 && images.scalar_type() == torch::kUInt8,
          std::string("rate_code: images must be (B, P) uint8 (got ") +
              c10::toString(images.scalar_type()) + " with " + std::to_string(images.dim()) + " dims)");
  const int64_t batch = images.size(0), pixels = images.size(1), row = batch * pixels;
  const int64_t empty = coding.empty_steps(), length = coding.length();
  // Spike probability q = gain * p / 255 as a 16-bit threshold: a spike is a uniform 16-bit
  // draw below round(65536 q), so P(spike) = q within 2^-17, a black pixel (0) never spikes and
  // a white one at gain 1 (65536) always does.
  const auto pixels_cpu = images.cpu().contiguous();
  std::vector<uint32_t> threshold(static_cast<size_t>(row));
  const uint8_t* p = pixels_cpu.data_ptr<uint8_t>();
  for (int64_t j = 0; j < row; ++j)
    threshold[j] = static_cast<uint32_t>(std::lround(65536.0 * coding.gain * p[j] / 255.0));
  // One draw from `generator` per call (so fresh spikes each call, the same for the same
  // generator state), then every step's uniforms from a counter-based stream (RateCodeArgs in
  // kernels/cpu/kernels_cpu.h): the same spikes for any thread count and CPU copy. This
  // replaced torch::rand + lt + cat, which cost about as much as the SRC layer's forward and
  // backward (bench/results, SRC training throughput).
  const uint64_t seed = static_cast<uint64_t>(
      torch::randint(std::numeric_limits<int64_t>::max(), {1}, generator, torch::kLong).item<int64_t>());
  auto spikes = torch::empty({length, batch, pixels}, torch::kFloat32);  // (T, B, P)
  float* out = spikes.data_ptr<float>();
  std::fill(out, out + empty * row, 0.0f);
  at::parallel_for(0, length - empty, 1, [&](int64_t s0, int64_t s1) {
    kernels::RateCodeArgs args;
    args.threshold = threshold.data();
    args.out = out + empty * row;
    args.row = row, args.step0 = s0, args.step1 = s1, args.seed = seed;
    NEUROCELL_CPU_DISPATCH(rate_code_spikes, args);
  });
  return images.device().is_cpu() ? spikes : spikes.to(images.device());
}

}  // namespace neurocell
