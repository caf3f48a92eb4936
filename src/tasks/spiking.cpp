#include "tasks/spiking.h"

#include <torch/torch.h>

#include "core/error.h"

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
  const int64_t batch = images.size(0), pixels = images.size(1);
  const int64_t empty = coding.empty_steps(), active = coding.length() - empty;
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(images.device());
  // gain * p first, then / 255: a white pixel at gain 1 gets exactly 1 (always spikes).
  const auto probability = images.to(torch::kFloat32).mul(coding.gain).div(255.0);  // (B, P)
  // u < q with u ~ U[0, 1) is a Bernoulli(q) draw; black pixels (q = 0) never spike.
  auto spikes = torch::rand({active, batch, pixels}, generator, options);  // (T - empty, B, P)
  spikes.lt_(probability.unsqueeze(0));  // in place: 1.0 where spiking, 0.0 elsewhere
  return torch::cat({torch::zeros({empty, batch, pixels}, options), spikes}, 0);  // (T, B, P)
}

}  // namespace neurocell
