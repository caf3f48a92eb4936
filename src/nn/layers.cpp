#include "nn/layers.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "kernels/fused.h"
#include "nn/cell_registry.h"
#include "reference/reference.h"

namespace neurocell {

namespace {

// Glorot-uniform on each (rows, cols) block of a stacked gate matrix, as Keras initialises
// each gate's kernel separately: limit sqrt(6 / (fan_in + fan_out)) with fan_out = block rows.
void glorot_blocks(torch::Tensor& weight, int64_t blocks) {
  torch::NoGradGuard no_grad;
  const int64_t rows = weight.size(0) / blocks, cols = weight.size(1);
  const double limit = std::sqrt(6.0 / static_cast<double>(rows + cols));
  for (int64_t b = 0; b < blocks; ++b) weight.narrow(0, b * rows, rows).uniform_(-limit, limit);
}

void orthogonal_blocks(torch::Tensor& weight, int64_t blocks) {
  torch::NoGradGuard no_grad;
  const int64_t rows = weight.size(0) / blocks;
  for (int64_t b = 0; b < blocks; ++b) {
    auto block = weight.narrow(0, b * rows, rows);
    torch::nn::init::orthogonal_(block);
  }
}

void uniform_like_torch_nn(const std::vector<torch::Tensor*>& params, int64_t hidden) {
  torch::NoGradGuard no_grad;
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
  for (auto* p : params) p->uniform_(-bound, bound);
}

}  // namespace

Impl parse_impl(const std::string& name) {
  if (name == "fused") return Impl::fused;
  if (name == "reference") return Impl::reference;
  throw Error("unknown implementation '" + name + "' (valid: fused, reference)");
}

RecurrentState SequenceOutput::last() const {
  RecurrentState state;
  state.h = h[-1];
  if (c.defined()) state.c = c[-1];
  return state;
}

RecurrentLayerImpl::RecurrentLayerImpl(CellKind kind, int64_t input_size, int64_t hidden_size)
    : kind_(kind), input_size_(input_size), hidden_size_(hidden_size) {
  require(input_size >= 1, "input size must be at least 1 (got " + std::to_string(input_size) + ")");
  require(hidden_size >= 1, "hidden size must be at least 1 (got " + std::to_string(hidden_size) + ")");
}

SequenceOutput RecurrentLayerImpl::forward(const torch::Tensor& x, const RecurrentState& initial) {
  const std::string who = cell_kind_name(kind_) + " layer";
  require(x.dim() == 3, who + ": input must be (T, B, I), got " + std::to_string(x.dim()) +
                            " dimensions");
  require(x.size(2) == input_size_, who + ": input width " + std::to_string(x.size(2)) +
                                        " does not match the layer's input size " +
                                        std::to_string(input_size_));
  require(x.size(0) >= 1 && x.size(1) >= 1, who + ": empty sequence or batch");
  const auto batch = x.size(1);
  RecurrentState start = initial;
  auto check_state = [&](torch::Tensor& s, const char* name, int64_t width) {
    if (!s.defined()) {
      s = torch::zeros({batch, width}, x.options());
      return;
    }
    require(s.dim() == 2 && s.size(0) == batch && s.size(1) == width,
            who + ": initial " + name + " must be (B=" + std::to_string(batch) + ", " + std::to_string(width) + ")");
    require(s.scalar_type() == x.scalar_type(), who + ": initial state dtype differs from input");
  };
  check_state(start.h, "h", hidden_size_);
  if (has_second_state()) check_state(start.c, "c", second_state_size());
  return forward_impl(x, start);
}

BrcLayerImpl::BrcLayerImpl(int64_t input_size, int64_t hidden_size)
    : RecurrentLayerImpl(CellKind::brc, input_size, hidden_size) {
  weight_ih = register_parameter("weight_ih", torch::empty({3 * hidden_size, input_size}));
  bias = register_parameter("bias", torch::zeros({3 * hidden_size}));
  w_a = register_parameter("w_a", torch::ones({hidden_size}));
  w_c = register_parameter("w_c", torch::ones({hidden_size}));
  glorot_blocks(weight_ih, 3);
}

SequenceOutput BrcLayerImpl::forward_impl(const torch::Tensor& x, const RecurrentState& initial) {
  if (use_fused(x)) return {fused::brc_forward(x, initial.h, weight_ih, bias, w_a, w_c), {}};
  return {reference::brc_forward(x, initial.h, weight_ih, bias, w_a, w_c), {}};
}

NbrcLayerImpl::NbrcLayerImpl(int64_t input_size, int64_t hidden_size, const LayerInit& init)
    : RecurrentLayerImpl(CellKind::nbrc, input_size, hidden_size) {
  weight_ih = register_parameter("weight_ih", torch::empty({3 * hidden_size, input_size}));
  weight_hh = register_parameter("weight_hh", torch::empty({2 * hidden_size, hidden_size}));
  bias = register_parameter("bias", torch::zeros({3 * hidden_size}));
  glorot_blocks(weight_ih, 3);
  if (init.orthogonal_recurrent)
    orthogonal_blocks(weight_hh, 2);
  else
    glorot_blocks(weight_hh, 2);
}

SequenceOutput NbrcLayerImpl::forward_impl(const torch::Tensor& x, const RecurrentState& initial) {
  if (use_fused(x)) return {fused::nbrc_forward(x, initial.h, weight_ih, weight_hh, bias), {}};
  return {reference::nbrc_forward(x, initial.h, weight_ih, weight_hh, bias), {}};
}

// The Keras scheme per gate, as glambrechts/warmup models_pytorch/cells.py:94-105 (xavier_uniform_
// per gate of weight_ih, orthogonal_ per gate of weight_hh, every bias 0). Keras itself applies
// Glorot and orthogonal to the whole stacked kernel (limit sqrt(6 / (I + G H))): docs/cells.md.
void keras_gates(torch::Tensor& weight_ih, torch::Tensor& weight_hh, torch::Tensor& bias_ih, torch::Tensor& bias_hh,
                 int64_t gates) {
  glorot_blocks(weight_ih, gates);
  orthogonal_blocks(weight_hh, gates);
  torch::NoGradGuard no_grad;
  bias_ih.zero_();
  bias_hh.zero_();
}

GruLayerImpl::GruLayerImpl(int64_t input_size, int64_t hidden_size, const LayerInit& init)
    : RecurrentLayerImpl(CellKind::gru, input_size, hidden_size) {
  weight_ih = register_parameter("weight_ih", torch::empty({3 * hidden_size, input_size}));
  weight_hh = register_parameter("weight_hh", torch::empty({3 * hidden_size, hidden_size}));
  bias_ih = register_parameter("bias_ih", torch::empty({3 * hidden_size}));
  bias_hh = register_parameter("bias_hh", torch::empty({3 * hidden_size}));
  if (init.keras)
    keras_gates(weight_ih, weight_hh, bias_ih, bias_hh, 3);
  else
    uniform_like_torch_nn({&weight_ih, &weight_hh, &bias_ih, &bias_hh}, hidden_size);
}

SequenceOutput GruLayerImpl::forward_impl(const torch::Tensor& x, const RecurrentState& initial) {
  if (use_fused(x)) return {fused::gru_forward(x, initial.h, weight_ih, weight_hh, bias_ih, bias_hh), {}};
  return {reference::gru_forward(x, initial.h, weight_ih, weight_hh, bias_ih, bias_hh), {}};
}

LstmLayerImpl::LstmLayerImpl(int64_t input_size, int64_t hidden_size, const LayerInit& init)
    : RecurrentLayerImpl(CellKind::lstm, input_size, hidden_size) {
  weight_ih = register_parameter("weight_ih", torch::empty({4 * hidden_size, input_size}));
  weight_hh = register_parameter("weight_hh", torch::empty({4 * hidden_size, hidden_size}));
  bias_ih = register_parameter("bias_ih", torch::empty({4 * hidden_size}));
  bias_hh = register_parameter("bias_hh", torch::empty({4 * hidden_size}));
  if (init.keras) {
    keras_gates(weight_ih, weight_hh, bias_ih, bias_hh, 4);
    torch::NoGradGuard no_grad;
    bias_ih.narrow(0, hidden_size, hidden_size).fill_(1.0);  // [i; f; g; o]: Keras' unit_forget_bias
  } else {
    uniform_like_torch_nn({&weight_ih, &weight_hh, &bias_ih, &bias_hh}, hidden_size);
  }
  if (init.chrono_max_length > 0) {
    require(init.chrono_max_length >= 3, "chrono init needs T_max >= 3");
    torch::NoGradGuard no_grad;
    const double high = static_cast<double>(init.chrono_max_length - 1);
    if (init.chrono_authors) {
      // The warmup code's CHRONO (glambrechts/warmup models_pytorch/cells.py:69-79): each of
      // bias_ih and bias_hh gets its own u ~ U[1, T_max - 1], forget block log(u), input block
      // -log(u), and its g and o blocks zeroed; the effective forget bias is log u1 + log u2.
      for (auto* bias : {&bias_ih, &bias_hh}) {
        auto u = torch::empty({hidden_size}).uniform_(1.0, high);
        bias->zero_();
        bias->narrow(0, 0, hidden_size).copy_(-torch::log(u));
        bias->narrow(0, hidden_size, hidden_size).copy_(torch::log(u));
      }
    } else {
      // Chrono init (Tallec & Ollivier): forget bias log(u), input bias -log(u),
      // u ~ U[1, T_max - 1]; the hidden-side biases are zeroed so the sum is exactly that.
      auto u = torch::empty({hidden_size}).uniform_(1.0, high);
      bias_hh.zero_();
      bias_ih.narrow(0, 0, hidden_size).copy_(-torch::log(u));
      bias_ih.narrow(0, hidden_size, hidden_size).copy_(torch::log(u));
    }
  }
}

SequenceOutput LstmLayerImpl::forward_impl(const torch::Tensor& x, const RecurrentState& initial) {
  auto [h, c] = use_fused(x) ? fused::lstm_forward(x, initial.h, initial.c, weight_ih, weight_hh, bias_ih, bias_hh)
                              : reference::lstm_forward(x, initial.h, initial.c, weight_ih, weight_hh, bias_ih,
                                                        bias_hh);
  return {h, c};
}

MguLayerImpl::MguLayerImpl(int64_t input_size, int64_t hidden_size)
    : RecurrentLayerImpl(CellKind::mgu, input_size, hidden_size) {
  weight_ih = register_parameter("weight_ih", torch::empty({2 * hidden_size, input_size}));
  weight_hh = register_parameter("weight_hh", torch::empty({2 * hidden_size, hidden_size}));
  bias = register_parameter("bias", torch::zeros({2 * hidden_size}));
  glorot_blocks(weight_ih, 2);
  glorot_blocks(weight_hh, 2);
}

SequenceOutput MguLayerImpl::forward_impl(const torch::Tensor& x, const RecurrentState& initial) {
  if (use_fused(x)) return {fused::mgu_forward(x, initial.h, weight_ih, weight_hh, bias), {}};
  return {reference::mgu_forward(x, initial.h, weight_ih, weight_hh, bias), {}};
}

DoubleLayerImpl::DoubleLayerImpl(RecurrentLayer first_half, RecurrentLayer second_half)
    : DoubleLayerImpl(first_half->kind(), first_half, second_half) {
  require(first->kind() == second->kind(), "double layer: both halves must be the same cell");
}

DoubleLayerImpl::DoubleLayerImpl(CellKind kind, RecurrentLayer first_half, RecurrentLayer second_half)
    : RecurrentLayerImpl(kind, first_half->input_size(), first_half->hidden_size() + second_half->hidden_size()),
      first(std::move(first_half)),
      second(std::move(second_half)) {
  require(first->input_size() == second->input_size(), "double layer: both halves must read the same input");
  register_module("first", first);
  register_module("second", second);
}

int64_t DoubleLayerImpl::second_state_size() const {
  return first->second_state_size() + second->second_state_size();
}

void DoubleLayerImpl::set_impl(Impl impl) {
  RecurrentLayerImpl::set_impl(impl);
  first->set_impl(impl);
  second->set_impl(impl);
}

SequenceOutput DoubleLayerImpl::forward_impl(const torch::Tensor& x, const RecurrentState& initial) {
  const int64_t h1 = first->hidden_size(), h2 = second->hidden_size();
  const int64_t c1 = first->second_state_size(), c2 = second->second_state_size();
  auto part = [&](const torch::Tensor& s, int64_t offset, int64_t width) {
    return s.defined() && width > 0 ? s.narrow(1, offset, width) : torch::Tensor();
  };
  const auto out1 = first->forward(x, {part(initial.h, 0, h1), part(initial.c, 0, c1)});
  const auto out2 = second->forward(x, {part(initial.h, h1, h2), part(initial.c, c1, c2)});
  SequenceOutput out;
  out.h = torch::cat({out1.h, out2.h}, 2);
  if (out1.c.defined() && out2.c.defined())
    out.c = torch::cat({out1.c, out2.c}, 2);
  else if (out1.c.defined() || out2.c.defined())
    out.c = out1.c.defined() ? out1.c : out2.c;
  return out;
}

RecurrentStackImpl::RecurrentStackImpl(CellKind kind, int64_t input_size, int64_t hidden_size,
                                       int64_t num_layers, bool double_layer,
                                       const LayerInit& init) {
  require(num_layers >= 1, "number of layers must be at least 1 (got " +
                               std::to_string(num_layers) + ")");
  for (int64_t l = 0; l < num_layers; ++l) {
    layers.push_back(make_layer(kind, l == 0 ? input_size : hidden_size, hidden_size,
                                double_layer, init));
    register_module("layer" + std::to_string(l), layers.back());
  }
}

void RecurrentStackImpl::set_impl(Impl impl) {
  for (auto& layer : layers) layer->set_impl(impl);
}

std::vector<SequenceOutput> RecurrentStackImpl::forward(const torch::Tensor& x,
                                                        const std::vector<RecurrentState>& initial) {
  require(initial.empty() || initial.size() == layers.size(),
          "stack: give one initial state per layer (" + std::to_string(layers.size()) +
              "), or none");
  std::vector<SequenceOutput> outputs;
  outputs.reserve(layers.size());
  torch::Tensor input = x;
  for (size_t l = 0; l < layers.size(); ++l) {
    outputs.push_back(layers[l]->forward(input, initial.empty() ? RecurrentState{} : initial[l]));
    input = outputs.back().h;
  }
  return outputs;
}

}  // namespace neurocell
