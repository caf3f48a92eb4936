#include "nn/neuromodulation.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "nn/cell_registry.h"

namespace neurocell {

torch::Tensor saturated_relu(const torch::Tensor& x) { return torch::clamp(x, -1.0, 1.0); }

torch::Tensor truncated_normal_(torch::Tensor t, double std) {
  torch::NoGradGuard no_grad;
  t.normal_(0.0, std);
  for (int round = 0; round < 100; ++round) {
    const auto outside = t.abs() > 2.0 * std;
    if (!outside.any().item<bool>()) break;
    t.masked_scatter_(outside, torch::empty_like(t).normal_(0.0, std).masked_select(outside));
  }
  return t;
}

namespace {

constexpr double kInitStd = 0.1;

torch::nn::Linear truncated_linear(int64_t in, int64_t out) {
  torch::nn::Linear linear(in, out);
  truncated_normal_(linear->weight, kInitStd);
  torch::NoGradGuard no_grad;
  linear->bias.zero_();
  return linear;
}

}  // namespace

ModulatedLinearImpl::ModulatedLinearImpl(int64_t input_size, int64_t output_size, int64_t modulation_size,
                                         bool saturate_)
    : saturate(saturate_) {
  require(input_size > 0 && output_size > 0 && modulation_size > 0, "a modulated layer needs positive sizes");
  weight = register_parameter("weight", truncated_normal_(torch::empty({output_size, input_size}), kInitStd));
  weight_scale =
      register_parameter("weight_scale", truncated_normal_(torch::empty({output_size, modulation_size}), kInitStd));
  weight_shift =
      register_parameter("weight_shift", truncated_normal_(torch::empty({output_size, modulation_size}), kInitStd));
  bias = register_parameter("bias", torch::zeros({output_size}));
}

torch::Tensor ModulatedLinearImpl::forward(const torch::Tensor& x, const torch::Tensor& z) {
  require(x.size(-1) == weight.size(1), "modulated layer: input of width " + std::to_string(x.size(-1)) +
                                            ", expected " + std::to_string(weight.size(1)));
  require(z.size(-1) == weight_scale.size(1), "modulated layer: modulation of width " + std::to_string(z.size(-1)) +
                                                  ", expected " + std::to_string(weight_scale.size(1)));
  const auto y = torch::matmul(x, weight.t()) * (1 + torch::matmul(z, weight_scale.t())) + bias +
                 torch::matmul(z, weight_shift.t());
  return saturate ? saturated_relu(y) : y;
}

std::string nmd_architecture_name(NmdArchitecture architecture) {
  return architecture == NmdArchitecture::nmd ? "nmd" : "recurrent";
}

NmdArchitecture nmd_architecture_from_name(const std::string& name) {
  if (name == "nmd") return NmdArchitecture::nmd;
  if (name == "recurrent") return NmdArchitecture::recurrent;
  throw Error("unknown model '" + name + "' (valid: nmd, recurrent)");
}

void NmdConfig::validate() const {
  const auto& info = cell_info(cell);  // throws, listing the valid names
  require(info.sequence_model(), "the neuromodulatory network needs a sequence cell, not '" + cell + "'");
  auto positive = [](const std::vector<int64_t>& sizes, const char* what, bool allow_empty) {
    require(allow_empty || !sizes.empty(), std::string(what) + ": at least one layer");
    for (auto s : sizes) require(s > 0, std::string(what) + ": sizes must be positive, got " + std::to_string(s));
  };
  positive(recurrent_sizes, "recurrent sizes", false);
  positive(modulator_sizes, "modulator sizes", false);
  positive(main_sizes, "main sizes", true);
  require(std::isfinite(log_std_init), "the initial log-std must be finite");
}

nlohmann::json to_json(const NmdConfig& c) {
  return {{"architecture", nmd_architecture_name(c.architecture)},
          {"cell", c.cell},
          {"recurrent_sizes", c.recurrent_sizes},
          {"modulator_sizes", c.modulator_sizes},
          {"main_sizes", c.main_sizes},
          {"log_std_init", c.log_std_init},
          {"init", "truncated normal std 0.1 (dense, modulated, heads), biases 0; recurrent: the cell's own"}};
}

NmdNetworkImpl::NmdNetworkImpl(const NmdConfig& config_, int64_t observation_size, int64_t feedback_size,
                               int64_t output_size)
    : config(config_) {
  config.validate();
  require(observation_size > 0 && feedback_size >= 0 && output_size > 0, "NMD network: bad sizes");
  const CellKind kind = parse_cell_kind(config.cell);
  int64_t in = observation_size + feedback_size;
  for (size_t l = 0; l < config.recurrent_sizes.size(); ++l) {
    recurrent.push_back(register_module("recurrent" + std::to_string(l),
                                        make_layer(kind, in, config.recurrent_sizes[l])));
    in = config.recurrent_sizes[l];
  }
  for (size_t l = 0; l < config.modulator_sizes.size(); ++l) {
    modulator.push_back(register_module("modulator" + std::to_string(l), truncated_linear(in, config.modulator_sizes[l])));
    in = config.modulator_sizes[l];
  }
  const int64_t z = in;
  if (config.architecture == NmdArchitecture::nmd) {
    int64_t x = observation_size;
    for (size_t l = 0; l < config.main_sizes.size(); ++l) {
      main.push_back(register_module("main" + std::to_string(l), ModulatedLinear(x, config.main_sizes[l], z, true)));
      x = config.main_sizes[l];
    }
    head = register_module("head", ModulatedLinear(x, output_size, z, false));
  } else {
    int64_t x = z;
    for (size_t l = 0; l < config.main_sizes.size(); ++l) {
      plain_main.push_back(register_module("main" + std::to_string(l), truncated_linear(x, config.main_sizes[l])));
      x = config.main_sizes[l];
    }
    plain_head = register_module("head", truncated_linear(x, output_size));
  }
}

torch::Tensor NmdNetworkImpl::features(const torch::Tensor& observation, const torch::Tensor& feedback,
                                       const std::vector<RecurrentState>& initial, std::vector<RecurrentState>* state) {
  require(observation.dim() == 3 && feedback.dim() == 3 && observation.size(0) == feedback.size(0) &&
              observation.size(1) == feedback.size(1),
          "NMD network: observation and feedback must be (T, B, .) with the same T and B");
  require(initial.empty() || initial.size() == recurrent.size(),
          "NMD network: " + std::to_string(initial.size()) + " initial states for " + std::to_string(recurrent.size()) +
              " recurrent layers");
  auto h = torch::cat({observation, feedback}, -1);
  if (state) state->clear();
  for (size_t l = 0; l < recurrent.size(); ++l) {
    auto out = recurrent[l]->forward(h, initial.empty() ? RecurrentState{} : initial[l]);
    if (state) state->push_back(out.last());
    h = out.h;
  }
  for (auto& layer : modulator) h = torch::relu(layer->forward(h));
  return h;
}

torch::Tensor NmdNetworkImpl::modulation(const torch::Tensor& observation, const torch::Tensor& feedback,
                                         const std::vector<RecurrentState>& initial) {
  return features(observation, feedback, initial, nullptr);
}

NmdOutput NmdNetworkImpl::forward(const torch::Tensor& observation, const torch::Tensor& feedback,
                                  const std::vector<RecurrentState>& initial) {
  NmdOutput result;
  const auto z = features(observation, feedback, initial, &result.state);
  if (config.architecture == NmdArchitecture::nmd) {
    auto x = observation;
    for (auto& layer : main) x = layer->forward(x, z);
    result.out = head->forward(x, z);
  } else {
    auto x = z;
    for (auto& layer : plain_main) x = saturated_relu(layer->forward(x));
    result.out = plain_head->forward(x);
  }
  return result;
}

MetaRlAgentImpl::MetaRlAgentImpl(const NmdConfig& config, int64_t observation_size, int64_t action_size)
    : observation_size_(observation_size), action_size_(action_size) {
  policy = register_module("policy", NmdNetwork(config, observation_size, action_size + 1, action_size));
  value = register_module("value", NmdNetwork(config, observation_size, action_size + 1, 1));
  log_std = register_parameter("log_std", torch::full({action_size}, config.log_std_init));
}

std::vector<torch::Tensor> MetaRlAgentImpl::policy_parameters() {
  auto p = policy->parameters();
  p.push_back(log_std);
  return p;
}

std::vector<torch::Tensor> MetaRlAgentImpl::value_parameters() { return value->parameters(); }

torch::Tensor gaussian_log_prob(const torch::Tensor& a, const torch::Tensor& mean, const torch::Tensor& log_std) {
  const double half_log_2pi = 0.5 * std::log(2 * M_PI);
  return (-0.5 * ((a - mean) * torch::exp(-log_std)).pow(2) - log_std - half_log_2pi).sum(-1);
}

torch::Tensor gaussian_kl(const torch::Tensor& mean_p, const torch::Tensor& log_std_p, const torch::Tensor& mean_q,
                          const torch::Tensor& log_std_q) {
  const auto var_p = torch::exp(2 * log_std_p), var_q = torch::exp(2 * log_std_q);
  return (log_std_q - log_std_p + (var_p + (mean_p - mean_q).pow(2)) / (2 * var_q) - 0.5).sum(-1);
}

}  // namespace neurocell
