#include "nn/spiking.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "kernels/fused.h"
#include "reference/reference.h"

namespace neurocell {

torch::Tensor resting_state(const torch::Tensor& r, const torch::Tensor& r_s, const torch::Tensor& bias) {
  // f(h) = h - tanh((r + r_s) h + b) is -1 - tanh(.) <= 0 at h = -1 and >= 0 at h = 1:
  // bisection finds a root in [-1, 1] (the only one when r + r_s <= 1, as by default).
  torch::NoGradGuard no_grad;
  const auto k = (r + r_s).to(torch::kFloat64), b = bias.to(torch::kFloat64);
  auto lo = -torch::ones_like(k), hi = torch::ones_like(k);
  for (int it = 0; it < 80; ++it) {
    const auto mid = (lo + hi) / 2;
    const auto positive = (mid - torch::tanh(k * mid + b)) > 0;
    hi = torch::where(positive, mid, hi);
    lo = torch::where(positive, lo, mid);
  }
  return ((lo + hi) / 2).to(bias.scalar_type());
}

namespace {

// What the spiking layers' forward needs of x (T, B, I): the layer's width and dtype.
void check_spiking_input(const char* cell, const torch::Tensor& x, int64_t input_size, const torch::Tensor& weight) {
  const std::string who = std::string(cell) + " layer: ";
  require(x.dim() == 3, who + "input must be (T, B, I), got " + std::to_string(x.dim()) + " dimensions");
  require(x.size(2) == input_size, who + "input width " + std::to_string(x.size(2)) +
                                       " does not match the layer's input size " + std::to_string(input_size));
  require(x.size(0) >= 1 && x.size(1) >= 1, who + "empty sequence or batch");
  require(x.scalar_type() == weight.scalar_type(), who + "input dtype differs from the model's");
}

}  // namespace

SrcLayerImpl::SrcLayerImpl(int64_t input, int64_t hidden, const SrcCellOptions& cell)
    : input_size(input), hidden_size(hidden), options(cell) {
  require(input >= 1 && hidden >= 1, "SRC layer: input and hidden sizes must be >= 1");
  require(cell.bias_init <= cell.bias_max, "SRC: the initial bias must satisfy b <= bias_max");
  require(cell.rho > 0, "SRC: rho must be positive");
  require(cell.arithmetic == "float" || cell.arithmetic == "integer",
          "SRC: arithmetic must be float or integer (got '" + cell.arithmetic + "')");
  require(!cell.integer() || (cell.weight_bits >= 2 && cell.weight_bits <= 14),
          "SRC: --weight-bits must be in 2..14 (got " + std::to_string(cell.weight_bits) + ")");
  require(!cell.integer() || !cell.train_bias,
          "SRC: the integer arithmetic keeps the design's bias (-6, the reference -3000): train it with a frozen bias");
  // Glorot-uniform W (Keras' default, as in the authors' TensorFlow-era code).
  const double limit = std::sqrt(6.0 / static_cast<double>(input + hidden));
  weight = register_parameter("weight", torch::empty({hidden, input}).uniform_(-limit, limit));
  // A frozen bias stays a parameter (the checkpoint's names do not change) without a gradient.
  bias = register_parameter("bias", torch::full({hidden}, cell.bias_init), /*requires_grad=*/cell.train_bias);
  rho = register_buffer("rho", torch::full({hidden}, cell.rho));
  r = register_buffer("r", torch::full({hidden}, cell.r));
  r_s = register_buffer("r_s", torch::full({hidden}, cell.r_s));
  z_hyp = register_buffer("z_hyp", torch::full({hidden}, cell.z_hyp));
  z_dep = register_buffer("z_dep", torch::full({hidden}, cell.z_dep));
  initial_i = register_parameter("initial_i", torch::zeros({hidden}));
  initial_h = register_parameter("initial_h", torch::zeros({hidden}));
  initial_hs = register_parameter("initial_hs", torch::zeros({hidden}));
  if (cell.integer()) {  // the design starts every sequence at its rest (and i at 0): not learned
    for (auto* t : {&initial_i, &initial_h, &initial_hs}) t->set_requires_grad(false);
  }
  reset_initial_states_to_rest();
}

void SrcLayerImpl::reset_initial_states_to_rest() {
  torch::NoGradGuard no_grad;
  initial_i.zero_();
  if (options.integer()) {
    const auto [h, h_s] = fused::integer_src_rest(options.bias_init, integer_options());
    initial_h.fill_(h);
    initial_hs.fill_(h_s);
    return;
  }
  const auto rest = resting_state(r, r_s, bias);
  initial_h.copy_(rest);
  initial_hs.copy_(rest);
}

IntegerSrcTrainingOptions SrcLayerImpl::integer_options() const {
  IntegerSrcTrainingOptions o;
  o.weight_bits = options.weight_bits;
  return o;
}

SrcWeights SrcLayerImpl::weights() const {
  return {weight, bias, rho, r, r_s, z_hyp, z_dep, options.alpha, options.detach_recurrence};
}

void SrcLayerImpl::clamp_bias() {
  torch::NoGradGuard no_grad;
  bias.clamp_max_(options.bias_max);
}

SrcSequence SrcLayerImpl::forward(const torch::Tensor& x) {
  check_spiking_input("src", x, input_size, weight);
  const int64_t B = x.size(1), H = hidden_size;
  const auto i0 = initial_i.unsqueeze(0).expand({B, H}), h0 = initial_h.unsqueeze(0).expand({B, H}),
             hs0 = initial_hs.unsqueeze(0).expand({B, H});
  if (options.integer()) return fused::integer_src_forward(x, weight, bias, initial_h, initial_hs, integer_options());
  if (impl == Impl::fused && x.device().is_cpu()) return fused::src_forward(x, i0, h0, hs0, weights(), sparse_input);
  return reference::src_forward(x, i0, h0, hs0, weights());
}

LifLayerImpl::LifLayerImpl(int64_t input, int64_t hidden, const LifCellOptions& cell)
    : input_size(input), hidden_size(hidden), options(cell) {
  require(input >= 1 && hidden >= 1, "LIF layer: input and hidden sizes must be >= 1");
  // Glorot-uniform W as in SrcLayer: the SRC-vs-LIF comparison changes only the cell.
  const double limit = std::sqrt(6.0 / static_cast<double>(input + hidden));
  weight = register_parameter("weight", torch::empty({hidden, input}).uniform_(-limit, limit));
  bias = register_parameter("bias", torch::zeros({hidden}));
  initial_u = register_parameter("initial_u", torch::zeros({hidden}));  // snnTorch's init_leaky: 0
}

LifWeights LifLayerImpl::weights() const { return {weight, bias, options.beta, options.threshold, options.slope}; }

LifSequence LifLayerImpl::forward(const torch::Tensor& x) {
  check_spiking_input("lif", x, input_size, weight);
  const auto u0 = initial_u.unsqueeze(0).expand({x.size(1), hidden_size});
  if (impl == Impl::fused && x.device().is_cpu()) return fused::lif_forward(x, u0, weights(), sparse_input);
  return reference::lif_forward(x, u0, weights());
}

void SrcClassifierConfig::validate() const {
  require(input_size >= 1, "SRC classifier: input size must be >= 1");
  require(hidden_size >= 1, "--hidden must be >= 1 (got " + std::to_string(hidden_size) + ")");
  require(layers >= 1, "--layers must be >= 1 (got " + std::to_string(layers) + ")");
  require(classes >= 2, "SRC classifier: at least 2 classes");
  require(readout_factor >= 1, "--readout-factor must be >= 1");
  require(std::isfinite(logit_scale) && logit_scale >= 0, "logit scale must be >= 0 (0 = 1/readout_factor)");
  require(cell_name == "src" || cell_name == "lif",
          "spiking classifier: cell '" + cell_name + "' is not a spiking cell (src or lif)");
  require(cell.bias_init <= cell.bias_max, "SRC: bias_init must be <= bias_max");
  require(cell.arithmetic == "float" || cell.arithmetic == "integer",
          "SRC: arithmetic must be float or integer (got '" + cell.arithmetic + "')");
  require(!cell.integer() || cell_name == "src", "the integer arithmetic is SRC's FPGA design: use it with cell src");
  require(lif.beta >= 0 && lif.beta <= 1, "--lif-beta must be in [0, 1] (got " + std::to_string(lif.beta) + ")");
  require(std::isfinite(lif.slope) && lif.slope > 0, "--lif-slope must be > 0 (got " + std::to_string(lif.slope) + ")");
  require(std::isfinite(lif.threshold) && lif.threshold > 0, "LIF: the threshold must be > 0");
  parse_impl(impl);
}

int64_t SrcClassifierConfig::layer_width(int64_t layer) const {
  return layer == layers - 1 ? classes * readout_factor : hidden_size;
}

nlohmann::json to_json(const SrcClassifierConfig& c) {
  nlohmann::json j = {{"cell", c.cell_name},
                      {"input_size", c.input_size},
                      {"hidden_size", c.hidden_size},
                      {"layers", c.layers},
                      {"classes", c.classes},
                      {"readout_factor", c.readout_factor},
                      {"logit_scale", c.logit_scale},
                      {"impl", c.impl}};
  if (c.cell_name == "lif") {  // only the constants of the cell the layers are
    j.update({{"beta", c.lif.beta}, {"threshold", c.lif.threshold}, {"slope", c.lif.slope}});
    return j;
  }
  j.update({{"alpha", c.cell.alpha},
            {"rho", c.cell.rho},
            {"r", c.cell.r},
            {"r_s", c.cell.r_s},
            {"z_hyp", c.cell.z_hyp},
            {"z_dep", c.cell.z_dep},
            {"bias_init", c.cell.bias_init},
            {"bias_max", c.cell.bias_max},
            {"train_bias", c.cell.train_bias},
            {"detach_recurrence", c.cell.detach_recurrence}});
  if (c.cell.integer()) j.update({{"arithmetic", c.cell.arithmetic}, {"weight_bits", c.cell.weight_bits}});
  return j;
}

SrcClassifierConfig src_classifier_config_from_json(const nlohmann::json& j) {
  SrcClassifierConfig c;
  try {
    c.input_size = j.at("input_size").get<int64_t>();
    c.hidden_size = j.at("hidden_size").get<int64_t>();
    c.layers = j.at("layers").get<int64_t>();
    c.classes = j.at("classes").get<int64_t>();
    c.readout_factor = j.at("readout_factor").get<int64_t>();
    c.logit_scale = j.value("logit_scale", c.logit_scale);
    c.cell_name = j.value("cell", c.cell_name);  // runs before LIF existed hold "src", or nothing
    c.lif.beta = j.value("beta", c.lif.beta);
    c.lif.threshold = j.value("threshold", c.lif.threshold);
    c.lif.slope = j.value("slope", c.lif.slope);
    c.cell.alpha = j.value("alpha", c.cell.alpha);
    c.cell.rho = j.value("rho", c.cell.rho);
    c.cell.r = j.value("r", c.cell.r);
    c.cell.r_s = j.value("r_s", c.cell.r_s);
    c.cell.z_hyp = j.value("z_hyp", c.cell.z_hyp);
    c.cell.z_dep = j.value("z_dep", c.cell.z_dep);
    c.cell.bias_init = j.value("bias_init", c.cell.bias_init);
    c.cell.bias_max = j.value("bias_max", c.cell.bias_max);
    c.cell.train_bias = j.value("train_bias", c.cell.train_bias);  // absent in runs before it existed: trained
    c.cell.detach_recurrence = j.value("detach_recurrence", c.cell.detach_recurrence);
    c.cell.arithmetic = j.value("arithmetic", c.cell.arithmetic);  // runs before it existed: float
    c.cell.weight_bits = j.value("weight_bits", c.cell.weight_bits);
    c.impl = j.value("impl", c.impl);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("SRC model config: ") + e.what());
  }
  c.validate();
  return c;
}

SrcClassifierImpl::SrcClassifierImpl(const SrcClassifierConfig& c) : config(c) {
  config.validate();
  int64_t width = config.input_size;
  for (int64_t l = 0; l < config.layers; ++l) {
    const std::string name = "layer" + std::to_string(l);  // the checkpoint prefix, whichever the cell
    if (lif()) {
      lif_layers.push_back(LifLayer(width, config.layer_width(l), config.lif));
      register_module(name, lif_layers.back());
    } else {
      layers.push_back(SrcLayer(width, config.layer_width(l), config.cell));
      register_module(name, layers.back());
    }
    width = config.layer_width(l);
  }
  auto frozen = torch::full({config.classes, width}, -0.1);
  for (int64_t j = 0; j < width; ++j) frozen[j % config.classes][j] = 1.0;
  readout = register_buffer("readout", frozen);
  set_impl(parse_impl(config.impl));
}

void SrcClassifierImpl::set_impl(Impl impl) {
  for (auto& layer : layers) layer->impl = impl;
  for (auto& layer : lif_layers) layer->impl = impl;
}

void SrcClassifierImpl::set_sparse_input(bool sparse) {
  for (auto& layer : layers) layer->sparse_input = sparse;
  for (auto& layer : lif_layers) layer->sparse_input = sparse;
}

std::vector<SrcSequence> SrcClassifierImpl::all_layers(const torch::Tensor& spikes) {
  require(!lif(), "this is a LIF classifier: its layers have no SRC states i, h, h_s (use layer_states)");
  std::vector<SrcSequence> out;
  torch::Tensor input = spikes;
  for (auto& layer : layers) {
    out.push_back(layer->forward(input));
    input = out.back().spikes;
  }
  return out;
}

std::vector<std::vector<torch::Tensor>> SrcClassifierImpl::layer_states(const torch::Tensor& spikes) {
  std::vector<std::vector<torch::Tensor>> out;
  torch::Tensor input = spikes;
  for (auto& layer : lif_layers) {
    const auto s = layer->forward(input);
    out.push_back({s.spikes, s.u});
    input = s.spikes;
  }
  for (auto& layer : layers) {
    const auto s = layer->forward(input);
    out.push_back({s.spikes, s.i, s.h, s.h_s});
    input = s.spikes;
  }
  return out;
}

std::vector<std::string> SrcClassifierImpl::state_names() const {
  if (lif()) return {"spikes", "u"};
  return {"spikes", "i", "h", "h_s"};
}

torch::Tensor SrcClassifierImpl::output_spikes(const torch::Tensor& spikes) {
  torch::Tensor input = spikes;
  for (auto& layer : lif_layers) input = layer->forward(input).spikes;
  for (auto& layer : layers) input = layer->forward(input).spikes;
  return input;
}

torch::Tensor SrcClassifierImpl::forward(const torch::Tensor& spikes) {
  const double scale = config.logit_scale > 0 ? config.logit_scale : 1.0 / config.readout_factor;
  if (config.cell.integer()) {
    // The design's int8 votes round(10 R) (10 and -1): integer class scores, exact in floating
    // point, so ties fall as on the FPGA (the first class), then scaled back to R's units.
    const auto votes = (readout * 10).round();
    return torch::matmul(output_spikes(spikes).sum(0), votes.t()) * (scale / 10);
  }
  return torch::matmul(output_spikes(spikes).sum(0), readout.t()) * scale;  // (B, C)
}

void SrcClassifierImpl::clamp_biases() {
  for (auto& layer : layers) layer->clamp_bias();
}

}  // namespace neurocell
