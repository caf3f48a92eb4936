#pragma once
// Neuromodulation (Vecoven, Ernst, Wehenkel, Drion, "Introducing neuromodulation in deep neural
// networks to learn adaptive behaviours", PLoS ONE 2020): a recurrent neuromodulatory network
// turns the agent's whole history into features z, and z rescales and shifts every layer of a
// feed-forward main network that sees the plain observation only.
//
// Modulated affine layer (ModulatedLinear), for x (..., I) and z (..., Z):
//   y = f((x W^T) * (1 + z W_s^T) + b + z W_b^T)
// W (O, I), W_s (O, Z) (the gain), W_b (O, Z) (the bias shift), b (O); f = clip(., -1, 1) (the
// paper's saturated ReLU) in hidden layers, the identity in heads.
//
// NmdNetwork (architecture nmd):
//   u_t = [observation_t, feedback_t]         feedback_t = [previous action, previous reward]
//   recurrent layers (any registered cell, make_layer; their documented initialisation) on u
//   -> dense ReLU layers (modulator_sizes); z = the last one's output (sizes {20}: z has 20)
//   main: x_0 = observation_t, x_{k+1} = clip(ModulatedLinear_k(x_k, z), -1, 1) (main_sizes)
//   head: out_t = ModulatedLinear(x_K, z) with f = identity
// The baseline (architecture recurrent) has the same layers and sizes without modulation:
//   recurrent layers on u -> dense ReLU (modulator_sizes) -> dense clip(., -1, 1) (main_sizes)
//   -> a plain linear head.
// Dense, modulated and head weights: truncated normal, std 0.1 (redrawn beyond 2 std, as
// TensorFlow's truncated_normal that the authors used), biases 0.
//
// MetaRlAgent: the actor and the critic are two networks of the same architecture (the policy
// mean's head has A outputs, the value's 1), so that their separate optimisers (train/ppo.h)
// never share a parameter, and a learned state-independent log standard deviation (A) makes
// the policy N(mean, exp(log_std)^2).
#include <nlohmann/json_fwd.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nn/layers.h"

namespace neurocell {

// clip(x, -1, 1): the paper's saturated ReLU.
torch::Tensor saturated_relu(const torch::Tensor& x);
// Fills t with N(0, std^2) truncated at 2 std (values beyond are redrawn); returns t.
torch::Tensor truncated_normal_(torch::Tensor t, double std);

class ModulatedLinearImpl : public torch::nn::Module {
 public:
  // saturate: f = clip(., -1, 1) (hidden layers); false: identity (heads).
  ModulatedLinearImpl(int64_t input_size, int64_t output_size, int64_t modulation_size, bool saturate);
  // x (..., I), z (..., Z) with the same leading dimensions -> (..., O).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& z);
  torch::Tensor weight;        // W (O, I)
  torch::Tensor weight_scale;  // W_s (O, Z)
  torch::Tensor weight_shift;  // W_b (O, Z)
  torch::Tensor bias;          // b (O)
  bool saturate;
};
TORCH_MODULE(ModulatedLinear);

enum class NmdArchitecture { nmd, recurrent };
std::string nmd_architecture_name(NmdArchitecture architecture);       // "nmd" | "recurrent"
NmdArchitecture nmd_architecture_from_name(const std::string& name);    // refuses any other

struct NmdConfig {
  NmdArchitecture architecture = NmdArchitecture::nmd;
  std::string cell = "gru";                     // the neuromodulatory network's cell (registry)
  std::vector<int64_t> recurrent_sizes = {50};  // one recurrent layer per entry
  std::vector<int64_t> modulator_sizes = {20};  // dense ReLU layers; the last one's width is z's
  std::vector<int64_t> main_sizes = {10};       // main network's hidden layers
  double log_std_init = 0.0;                    // MetaRlAgent: initial log standard deviation
  void validate() const;                        // throws Error naming the bad field
};
nlohmann::json to_json(const NmdConfig& config);

struct NmdOutput {
  torch::Tensor out;                  // (T, B, output_size)
  std::vector<RecurrentState> state;  // the recurrent layers' states after the last step
};

class NmdNetworkImpl : public torch::nn::Module {
 public:
  // observation_size O, feedback_size F (previous action and reward: A + 1), output_size.
  NmdNetworkImpl(const NmdConfig& config, int64_t observation_size, int64_t feedback_size, int64_t output_size);
  // observation (T, B, O), feedback (T, B, F); initial: empty (zeros) or one state per layer.
  NmdOutput forward(const torch::Tensor& observation, const torch::Tensor& feedback,
                    const std::vector<RecurrentState>& initial = {});
  // The features z (T, B, Z) of the neuromodulatory part (nmd), or the dense ReLU output
  // (recurrent), for inspection.
  torch::Tensor modulation(const torch::Tensor& observation, const torch::Tensor& feedback,
                           const std::vector<RecurrentState>& initial = {});

  NmdConfig config;
  std::vector<RecurrentLayer> recurrent;
  std::vector<torch::nn::Linear> modulator;   // ReLU layers
  std::vector<ModulatedLinear> main;          // nmd: saturated, modulated
  std::vector<torch::nn::Linear> plain_main;  // recurrent: saturated, plain
  ModulatedLinear head{nullptr};              // nmd
  torch::nn::Linear plain_head{nullptr};      // recurrent

 private:
  torch::Tensor features(const torch::Tensor& observation, const torch::Tensor& feedback,
                         const std::vector<RecurrentState>& initial, std::vector<RecurrentState>* state);
};
TORCH_MODULE(NmdNetwork);

class MetaRlAgentImpl : public torch::nn::Module {
 public:
  MetaRlAgentImpl(const NmdConfig& config, int64_t observation_size, int64_t action_size);
  int64_t observation_size() const { return observation_size_; }
  int64_t action_size() const { return action_size_; }
  int64_t feedback_size() const { return action_size_ + 1; }
  // The parameters each optimiser owns: the policy network and log_std; the value network.
  std::vector<torch::Tensor> policy_parameters();
  std::vector<torch::Tensor> value_parameters();
  NmdNetwork policy{nullptr};  // -> action mean (A)
  NmdNetwork value{nullptr};   // -> state value (1)
  torch::Tensor log_std;       // (A)

 private:
  int64_t observation_size_, action_size_;
};
TORCH_MODULE(MetaRlAgent);

// Log-density of a under N(mean, exp(log_std)^2), summed over the last axis: (...).
torch::Tensor gaussian_log_prob(const torch::Tensor& a, const torch::Tensor& mean, const torch::Tensor& log_std);
// KL(N(mean_p, s_p^2) || N(mean_q, s_q^2)), summed over the last axis: (...).
torch::Tensor gaussian_kl(const torch::Tensor& mean_p, const torch::Tensor& log_std_p, const torch::Tensor& mean_q,
                          const torch::Tensor& log_std_q);

}  // namespace neurocell
