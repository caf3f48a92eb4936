#include "nn/model.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/error.h"
#include "nn/cell_registry.h"

namespace neurocell {

void ModelConfig::validate() const {
  const auto& info = cell_info(cell);
  require(info.sequence_model(), "--cell " + cell + " is not a sequence-model cell: it trains with --task spiking-mnist "
                                 "or spiking-fashion-mnist");
  parse_impl(impl);
  require(input_size >= 1, "input size must be >= 1 (got " + std::to_string(input_size) + ")");
  require(hidden_size >= 1, "--hidden must be >= 1 (got " + std::to_string(hidden_size) + ")");
  require(layers >= 1, "--layers must be >= 1 (got " + std::to_string(layers) + ")");
  require(output_size >= 1, "output size must be >= 1 (got " + std::to_string(output_size) + ")");
  require(!double_layer || (hidden_size % 2 == 0 && hidden_size >= 2),
          "--double needs an even --hidden (two halves of H/2), got " + std::to_string(hidden_size));
  require(!info.hybrid() || (hidden_size % 2 == 0 && hidden_size >= 2),
          "a hybrid cell needs an even --hidden (an MRU block and an LRU block of H/2 each), got " +
              std::to_string(hidden_size));
  require(!(double_layer && info.hybrid()) || hidden_size % 4 == 0,
          "--double with a hybrid cell needs --hidden divisible by 4 (two halves of H/2, each an MRU and an LRU "
          "block of H/4), got " + std::to_string(hidden_size));
  require(chrono_max_length == 0 || chrono_max_length >= 3,
          "--chrono needs T_max >= 3 (got " + std::to_string(chrono_max_length) + ")");
  require(chrono_variant == "textbook" || chrono_variant == "authors",
          "--chrono-variant must be textbook or authors (got '" + chrono_variant + "')");
  require(chrono_variant == "textbook" || (cell == "lstm" && chrono_max_length > 0),
          "--chrono-variant authors needs --cell lstm and --chrono T_max");
  require(weights_init == "torch" || weights_init == "keras",
          "--weights-init must be torch or keras (got '" + weights_init + "')");
  require(weights_init == "torch" || cell == "gru" || cell == "lstm",
          "--weights-init keras is for gru and lstm (" + cell + " has one initialisation, docs/cells.md)");
  require(chrono_max_length == 0 || cell == "lstm", "--chrono is for --cell lstm (got " + cell + ")");
  require(!orthogonal_recurrent || cell == "nbrc", "--orthogonal is for --cell nbrc (got " + cell + ")");
  require(hidden_size <= 65536 && input_size <= 1 << 20 && layers <= 64,
          "model sizes are implausibly large (hidden " + std::to_string(hidden_size) +
              ", layers " + std::to_string(layers) + ")");
}

nlohmann::json to_json(const ModelConfig& c) {
  nlohmann::json j = {{"cell", c.cell},
          {"input_size", c.input_size},
          {"hidden_size", c.hidden_size},
          {"layers", c.layers},
          {"output_size", c.output_size},
          {"double_layer", c.double_layer},
          {"orthogonal_recurrent", c.orthogonal_recurrent},
          {"chrono_max_length", c.chrono_max_length},
          {"impl", c.impl}};
  // written only when set, so the configs of runs made before they existed read the same
  if (c.chrono_variant != "textbook") j["chrono_variant"] = c.chrono_variant;
  if (c.weights_init != "torch") j["weights_init"] = c.weights_init;
  return j;
}

ModelConfig model_config_from_json(const nlohmann::json& j) {
  ModelConfig c;
  try {
    c.cell = j.at("cell").get<std::string>();
    c.input_size = j.at("input_size").get<int64_t>();
    c.hidden_size = j.at("hidden_size").get<int64_t>();
    c.layers = j.at("layers").get<int64_t>();
    c.output_size = j.at("output_size").get<int64_t>();
    c.double_layer = j.value("double_layer", false);
    c.orthogonal_recurrent = j.value("orthogonal_recurrent", false);
    c.chrono_max_length = j.value("chrono_max_length", int64_t{0});
    c.impl = j.value("impl", std::string("fused"));
    c.chrono_variant = j.value("chrono_variant", c.chrono_variant);
    c.weights_init = j.value("weights_init", c.weights_init);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("model config: ") + e.what());
  }
  c.validate();
  return c;
}

SequenceModelImpl::SequenceModelImpl(const ModelConfig& cfg) : config(cfg) {
  config.validate();
  LayerInit init;
  init.orthogonal_recurrent = config.orthogonal_recurrent;
  init.chrono_max_length = config.chrono_max_length;
  init.chrono_authors = config.chrono_variant == "authors";
  init.keras = config.weights_init == "keras";
  stack = register_module("stack", RecurrentStack(parse_cell_kind(config.cell), config.input_size,
                                                   config.hidden_size, config.layers,
                                                   config.double_layer, init));
  readout = register_module("readout", torch::nn::Linear(config.hidden_size, config.output_size));
  stack->set_impl(parse_impl(config.impl));
}

torch::Tensor SequenceModelImpl::forward(const torch::Tensor& x, int64_t readout_steps) {
  require(readout_steps >= 1 && readout_steps <= x.size(0),
          "readout steps (" + std::to_string(readout_steps) + ") must be within the sequence length (" +
              std::to_string(x.size(0)) + ")");
  const auto states = stack->forward(x).back().h;  // (T, B, H)
  return readout->forward(states.narrow(0, states.size(0) - readout_steps, readout_steps));
}

torch::Tensor SequenceModelImpl::all_states(const torch::Tensor& x) {
  std::vector<torch::Tensor> parts;
  for (const auto& out : stack->forward(x)) {
    parts.push_back(out.h);
    if (out.c.defined()) parts.push_back(out.c);
  }
  return torch::cat(parts, 2);
}

int64_t SequenceModelImpl::state_width() const {
  int64_t width = 0;
  for (const auto& layer : stack->layers) width += layer->hidden_size() + layer->second_state_size();
  return width;
}

std::vector<RecurrentState> SequenceModelImpl::initial_state(int64_t batch, torch::ScalarType dtype) {
  require(batch >= 1, "streaming: the batch must hold at least one sequence");
  std::vector<RecurrentState> state;
  for (const auto& layer : stack->layers) {
    RecurrentState s;
    s.h = torch::zeros({batch, layer->hidden_size()}, torch::dtype(dtype));
    if (layer->has_second_state()) s.c = torch::zeros({batch, layer->second_state_size()}, torch::dtype(dtype));
    state.push_back(s);
  }
  return state;
}

torch::Tensor SequenceModelImpl::step(const torch::Tensor& x_t, std::vector<RecurrentState>& state) {
  require(x_t.dim() == 2 && x_t.size(1) == config.input_size,
          "streaming: one step of input must be (B, I=" + std::to_string(config.input_size) + ")");
  require(state.size() == stack->layers.size(), "streaming: the state must hold one entry per layer "
                                                "(use initial_state)");
  const auto outputs = stack->forward(x_t.unsqueeze(0), state);
  for (size_t l = 0; l < outputs.size(); ++l) state[l] = outputs[l].last();
  return readout->forward(state.back().h);
}

}  // namespace neurocell
