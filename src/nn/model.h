#pragma once
// A sequence model = a recurrent stack + a linear readout applied to the last K states
// (K = 1 for copy-first-input, 5 for denoising). What it computes is fully described by
// ModelConfig, which is saved in every run folder's config.json.
#include <nlohmann/json_fwd.hpp>
#include <torch/nn/modules/linear.h>

#include "nn/layers.h"

namespace neurocell {

struct ModelConfig {
  std::string cell = "nbrc";
  int64_t input_size = 1;
  int64_t hidden_size = 100;
  int64_t layers = 2;
  int64_t output_size = 1;
  bool double_layer = false;
  bool orthogonal_recurrent = false;  // nBRC only
  int64_t chrono_max_length = 0;      // LSTM only; 0 = off
  std::string chrono_variant = "textbook";  // LSTM chrono: textbook | authors (nn/layers.h)
  std::string weights_init = "torch";  // GRU, LSTM: torch (torch::nn's) | keras (the authors', nn/layers.h)
  std::string impl = "fused";         // fused | reference (same results; reference is slower)
  void validate() const;              // throws Error naming the bad field
};
nlohmann::json to_json(const ModelConfig& config);
ModelConfig model_config_from_json(const nlohmann::json& json);  // validates

class SequenceModelImpl : public torch::nn::Module {
 public:
  explicit SequenceModelImpl(const ModelConfig& config);
  // x (T, B, I) -> readout of the last `readout_steps` states: (K, B, O).
  torch::Tensor forward(const torch::Tensor& x, int64_t readout_steps = 1);
  // Every layer's states for x (T, B, I), concatenated along the last axis:
  // (T, B, S) with S = sum over layers of H + C (h, then the second state c when the cell has
  // one: LSTM's memory cell, a scan block's core state).
  torch::Tensor all_states(const torch::Tensor& x);
  int64_t state_width() const;

  // Streaming inference, one step at a time: the zero state for a batch of B, and one step
  // x_t (B, I) -> readout (B, O) of the new last state, updating `state` in place. T steps
  // give exactly what forward gives on the whole sequence.
  std::vector<RecurrentState> initial_state(int64_t batch, torch::ScalarType dtype = torch::kFloat32);
  torch::Tensor step(const torch::Tensor& x_t, std::vector<RecurrentState>& state);

  ModelConfig config;
  RecurrentStack stack{nullptr};
  torch::nn::Linear readout{nullptr};
};
TORCH_MODULE(SequenceModel);

}  // namespace neurocell
