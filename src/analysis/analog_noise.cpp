#include "analysis/analog_noise.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "core/error.h"

namespace neurocell::analysis {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// softplus and its inverse, stable for large and small values.
double softplus(double x) { return x > 20 ? x : std::log1p(std::exp(x)); }
double softplus_inverse(double y) { return y > 20 ? y : std::log(std::expm1(y)); }

}  // namespace

ncrt::Model with_mismatch(const ncrt::Model& model, double sigma, uint64_t chip_seed) {
  require(sigma >= 0, "mismatch sigma must be >= 0");
  std::mt19937_64 engine(chip_seed);
  std::normal_distribution<double> normal;
  return model.with_edited_tensors([&](const std::string& name, const std::vector<int64_t>&, std::vector<float>& v) {
    for (auto& x : v) {
      const double factor = 1 + sigma * normal(engine);
      if (ends_with(name, "beta_raw")) {  // threshold beta = softplus(raw) > 0
        x = static_cast<float>(softplus_inverse(std::max(softplus(x) * factor, 1e-6)));
      } else if (ends_with(name, "alpha_raw")) {  // alpha = sigmoid(raw) in (0, 1)
        const double alpha = std::clamp(factor / (1 + std::exp(-static_cast<double>(x))), 1e-6, 1 - 1e-6);
        x = static_cast<float>(std::log(alpha / (1 - alpha)));
      } else if (ends_with(name, "nu_log") || ends_with(name, "theta_log")) {  // exp(.) > 0
        x = static_cast<float>(std::log(std::max(std::exp(static_cast<double>(x)) * factor, 1e-9)));
      } else {
        x = static_cast<float>(x * factor);
      }
    }
  });
}

ncrt::Model with_quantized_weights(const ncrt::Model& model, int bits) {
  require(bits >= 2 && bits <= 16, "weight bits must be in 2..16 (got " + std::to_string(bits) + ")");
  const double levels = std::ldexp(1.0, bits - 1) - 1;  // per sign
  return model.with_edited_tensors([&](const std::string&, const std::vector<int64_t>& shape, std::vector<float>& v) {
    if (shape.size() != 2) return;
    float largest = 0;
    for (float x : v) largest = std::max(largest, std::abs(x));
    if (largest == 0) return;
    const double step = largest / levels;
    for (auto& x : v) x = static_cast<float>(step * std::round(x / step));
  });
}

SequenceSet sequence_set(const std::vector<Batch>& batches) {
  require(!batches.empty(), "an empty test set");
  SequenceSet set;
  set.length = batches[0].inputs.size(0);
  set.input_size = batches[0].inputs.size(2);
  set.readout_steps = batches[0].targets.size(0);
  set.output_size = batches[0].targets.size(2);
  for (const auto& batch : batches) {
    const auto inputs = batch.inputs.to(torch::kFloat32).permute({1, 0, 2}).contiguous();    // (B, T, I)
    const auto targets = batch.targets.to(torch::kFloat32).permute({1, 0, 2}).contiguous();  // (B, K, O)
    set.inputs.insert(set.inputs.end(), inputs.data_ptr<float>(), inputs.data_ptr<float>() + inputs.numel());
    set.targets.insert(set.targets.end(), targets.data_ptr<float>(), targets.data_ptr<float>() + targets.numel());
    set.sequences += inputs.size(0);
  }
  return set;
}

NoisyEvaluation evaluate_with_noise(const ncrt::Model& model, const SequenceSet& set, double drive_sigma,
                                    double state_sigma, uint64_t seed, const RecallRule& rule) {
  require(model.input_size() == set.input_size && model.output_size() == set.output_size,
          "the model reads " + std::to_string(model.input_size()) + " and writes " +
              std::to_string(model.output_size()) + " values per step, the task has " +
              std::to_string(set.input_size) + " and " + std::to_string(set.output_size));
  ncrt::AnalogNoise noise(drive_sigma, state_sigma, seed);
  NoisyEvaluation result;
  ncrt::StepOptions options;
  options.noise = drive_sigma > 0 || state_sigma > 0 ? &noise : nullptr;
  options.counts = &result.counts;
  std::vector<float> state(model.state_size()), scratch(model.scratch_size()), y(model.output_size());
  const int64_t T = set.length, I = set.input_size, K = set.readout_steps, O = set.output_size;
  double squared = 0;
  int64_t recalled = 0;
  for (int64_t s = 0; s < set.sequences; ++s) {
    model.initial_state(state.data());
    bool within = true;
    for (int64_t t = 0; t < T; ++t) {
      model.step(set.inputs.data() + (s * T + t) * I, state.data(), y.data(), scratch.data(), options);
      const int64_t k = t - (T - K);
      if (k < 0) continue;
      for (int64_t o = 0; o < O; ++o) {
        const double error = y[o] - set.targets[(s * K + k) * O + o];
        squared += error * error;
        const float target = set.targets[(s * K + k) * O + o];
        // a NaN output is never recalled
        within = within && (rule.same_sign ? (y[o] > 0) == (target > 0) && !std::isnan(y[o]) && y[o] != 0
                                           : std::abs(error) <= rule.tolerance);
      }
    }
    recalled += within;
  }
  result.mse = squared / static_cast<double>(set.sequences * K * O);
  result.accuracy = static_cast<double>(recalled) / static_cast<double>(set.sequences);
  return result;
}

}  // namespace neurocell::analysis
