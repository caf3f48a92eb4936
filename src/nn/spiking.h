#pragma once
// SRC layers, LIF layers and the spiking classifier of the SRC paper (cells.md section 2).
//
// SrcLayer: learned W (H, I), bias b (H) and initial states i0, h0, h_s0 (H, broadcast over
// the batch); fixed per-unit constants rho, r, r_s, z_hyp, z_dep (buffers) and alpha.
// The initial states start at the resting equilibrium (zero input, see resting_state).
//
// LifLayer: learned W (H, I), b (H) and initial membrane u0 (H); beta, theta and the
// surrogate's slope fixed (the LIF baseline, snnTorch's Leaky with reset by subtraction).
//
// SrcClassifier: L SRC layers, or L LIF layers with cell_name "lif" (spikes of one feed W of
// the next); the last has readout_factor neurons per class (neuron j belongs to class j mod C)
// and a frozen readout R (C, H_last): R[c, j] = 1 if j belongs to c else -0.1.
// logits = logit_scale * R sum_t s[t], logit_scale = 1/readout_factor by default: a class's
// logit is then about the mean spike count of its neurons, which keeps the cross-entropy in a
// range where it trains (the raw sum over 220 steps saturates the softmax from the first updates).
#include <nlohmann/json_fwd.hpp>
#include <torch/nn/module.h>
#include <torch/types.h>

#include <string>
#include <vector>

#include "ops/lif.h"
#include "ops/src.h"
#include "ops/src_integer.h"
#include "nn/layers.h"

namespace neurocell {

struct SrcCellOptions {
  double alpha = 0.9, rho = 3, r = 2, r_s = -7, z_hyp = 0.9, z_dep = 0;
  double bias_init = -6, bias_max = -4;
  // false keeps b at bias_init (not trained), as in the SRC authors' exported MNIST model, where
  // every neuron's bias is exactly -6 (docs/cells.md section 2, "What is trained").
  bool train_bias = true;
  // Default false: the SRC paper's claim is training by plain backpropagation through the
  // whole recurrence; true keeps credit to the input integrator only (cheaper, stabler).
  bool detach_recurrence = false;
  // "float": the cell above (fused or reference kernels). "integer": the forward is the FPGA
  // design's integer arithmetic (ops/src_integer.h, runtime/integer_src.h) with W quantised to
  // weight_bits and a surrogate backward; the bias stays frozen, the initial states are the
  // design's rest, and the float constants above are unused.
  std::string arithmetic = "float";
  int weight_bits = 8;
  bool integer() const { return arithmetic == "integer"; }
};

// The equilibrium h* = h_s* of h = tanh((r + r_s) h + b) with zero input (i* = 0), per unit.
torch::Tensor resting_state(const torch::Tensor& r, const torch::Tensor& r_s, const torch::Tensor& bias);

class SrcLayerImpl : public torch::nn::Module {
 public:
  SrcLayerImpl(int64_t input_size, int64_t hidden_size, const SrcCellOptions& options = {});
  // x (T, B, I) -> every state (T, B, H); spikes is the layer's output.
  SrcSequence forward(const torch::Tensor& x);
  SrcWeights weights() const;
  IntegerSrcTrainingOptions integer_options() const;  // options.integer(): what the forward runs
  void clamp_bias();  // b <= bias_max, after each optimiser step
  void reset_initial_states_to_rest();

  int64_t input_size, hidden_size;
  SrcCellOptions options;
  Impl impl = Impl::fused;
  bool sparse_input = true;  // fused only: sparse input projection (spikes are mostly zeros)
  torch::Tensor weight, bias, initial_i, initial_h, initial_hs;  // learned
  torch::Tensor rho, r, r_s, z_hyp, z_dep;                       // buffers
};
TORCH_MODULE(SrcLayer);

struct LifCellOptions {
  double beta = 0.9;       // membrane leak, fixed (--lif-beta); snnTorch clamps it to [0, 1]
  double threshold = 1.0;  // theta
  double slope = 25.0;     // k of the fast-sigmoid surrogate (--lif-slope), snnTorch's default
};

class LifLayerImpl : public torch::nn::Module {
 public:
  LifLayerImpl(int64_t input_size, int64_t hidden_size, const LifCellOptions& options = {});
  // x (T, B, I) -> spikes and membrane (T, B, H); spikes is the layer's output.
  LifSequence forward(const torch::Tensor& x);
  LifWeights weights() const;

  int64_t input_size, hidden_size;
  LifCellOptions options;
  Impl impl = Impl::fused;
  bool sparse_input = true;  // fused only: sparse input projection (spikes are 0/1)
  torch::Tensor weight, bias, initial_u;  // learned
};
TORCH_MODULE(LifLayer);

struct SrcClassifierConfig {
  int64_t input_size = 784;
  int64_t hidden_size = 100;    // width of every layer but the last
  int64_t layers = 1;           // SRC layers in total
  int64_t classes = 10;
  int64_t readout_factor = 10;  // the last layer has classes * readout_factor neurons
  double logit_scale = 0;       // 0 = 1 / readout_factor
  std::string cell_name = "src";  // src | lif: the cell of every layer (the rest is the same)
  SrcCellOptions cell;            // cell_name src
  LifCellOptions lif;             // cell_name lif
  std::string impl = "fused";
  void validate() const;
  int64_t layer_width(int64_t layer) const;
};
nlohmann::json to_json(const SrcClassifierConfig& config);
SrcClassifierConfig src_classifier_config_from_json(const nlohmann::json& json);

class SrcClassifierImpl : public torch::nn::Module {
 public:
  explicit SrcClassifierImpl(const SrcClassifierConfig& config);
  // spikes (T, B, I) -> logits (B, C)
  torch::Tensor forward(const torch::Tensor& spikes);
  // Every layer's SrcSequence for the input (SRC only: refuses a LIF classifier).
  std::vector<SrcSequence> all_layers(const torch::Tensor& spikes);
  // Every layer's states, each (T, B, H_l), in the order of state_names(): SRC
  // {spikes, i, h, h_s}, LIF {spikes, u}.
  std::vector<std::vector<torch::Tensor>> layer_states(const torch::Tensor& spikes);
  std::vector<std::string> state_names() const;
  // The last layer's spikes (T, B, C * readout_factor).
  torch::Tensor output_spikes(const torch::Tensor& spikes);
  void clamp_biases();  // SRC: b <= bias_max; LIF: nothing to clamp
  void set_impl(Impl impl);
  void set_sparse_input(bool sparse);
  bool lif() const { return config.cell_name == "lif"; }

  SrcClassifierConfig config;
  std::vector<SrcLayer> layers;          // SRC classifier (empty for LIF)
  std::vector<LifLayer> lif_layers;      // LIF classifier (empty for SRC)
  torch::Tensor readout;  // (C, H_last) buffer, frozen
};
TORCH_MODULE(SrcClassifier);

}  // namespace neurocell
