#pragma once
// Warmup (multistability.md): before normal training, a few Adam steps on the recurrent
// stack that push each layer's VAA* towards a target, using task inputs only (never
// targets), so that the network starts out with many reachable attractors.
//
// Partial warmup: in a model of double layers only the first half of each double layer is
// driven and measured. What is updated (WarmupOptions::partial): "frozen" (default, the
// project's spec) only the first halves, so the second halves keep their standard
// initialisation; "authors" every parameter of the stack, as glambrechts/warmup models.py:224
// (one optimiser over all parameters): the start states of layer l+1 are computed through both
// halves of layer l, so the second halves of every layer but the last move too.
#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <vector>

#include "analysis/vaa.h"
#include "nn/model.h"

namespace neurocell::analysis {

struct WarmupOptions {
  int64_t steps = 100;          // K
  double learning_rate = 1e-2;  // Adam, fresh optimiser
  int64_t batch_size = 32;      // input sequences per step
  double target = 0.95;         // VAA* target of every layer
  int64_t max_settle = 200;     // settling steps S_k ~ U{1..min(1 + growth*k, max_settle)}
  int64_t settle_growth = 10;
  double eps = 1e-4;
  uint64_t seed = 1;
  std::string partial = "frozen";  // double layers: frozen | authors (see above)
  void validate() const;
};
nlohmann::json to_json(const WarmupOptions& options);
WarmupOptions warmup_options_from_json(const nlohmann::json& json);

struct WarmupStep {
  int64_t step = 0;            // 1-based
  int64_t settle_steps = 0;    // S_k of this step
  double loss = 0;             // mean over layers of (VAA*_l - target)^2
  std::vector<double> vaa_star;  // per layer, before the update
  bool skipped = false;        // a gradient was NaN/Inf: update skipped
};

// True when warmup drives only the first half of each layer (the model is made of double layers).
bool warmup_is_partial(SequenceModel& model);

// The parameters warmup updates: every stack parameter, or only the first halves' for a
// model of double layers under partial == "frozen". The readout is never touched.
std::vector<torch::Tensor> warmup_parameters(SequenceModel& model, const std::string& partial = "frozen");

// VAA* of every layer (or first half) for one batch: start states after prefixes c ~ U{1..T}
// of `inputs` (T, n, I), then per layer its own constant input v_l ~ N(0, I_l) for `settle`
// steps from its own start state; gradients reach earlier layers through the start states.
std::vector<torch::Tensor> layer_vaa_star(SequenceModel& model, const torch::Tensor& inputs, int64_t settle,
                                          torch::Generator& generator, double eps = 1e-4);

// The same from given start states (one per layer, batch n >= 2): each layer (or first half)
// driven by its own constant v_l ~ N(0, I_l) for `settle` steps, VAA* of its last state.
std::vector<torch::Tensor> layer_vaa_star_from(SequenceModel& model, const std::vector<RecurrentState>& start,
                                               int64_t settle, torch::Generator& generator, double eps = 1e-4);

// Runs the warmup on `model` in place; on_step (optional) sees every step.
std::vector<WarmupStep> warmup(SequenceModel& model, const InputSampler& inputs, const WarmupOptions& options,
                               const std::function<void(const WarmupStep&)>& on_step = {});

}  // namespace neurocell::analysis
