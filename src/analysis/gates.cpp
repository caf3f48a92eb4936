#include "analysis/gates.h"

#include <torch/torch.h>

#include "core/error.h"
#include "nn/layers.h"

namespace neurocell::analysis {

namespace {

bool is_bistable(const RecurrentLayer& layer) {
  if (auto d = std::dynamic_pointer_cast<DoubleLayerImpl>(layer)) return is_bistable(d->first) && is_bistable(d->second);
  return std::dynamic_pointer_cast<BrcLayerImpl>(layer) || std::dynamic_pointer_cast<NbrcLayerImpl>(layer);
}

// (a, c), each (T, B, H), of one BRC/nBRC layer with input x (T, B, I) and states h (T, B, H).
std::pair<torch::Tensor, torch::Tensor> layer_gates(const RecurrentLayer& layer, const torch::Tensor& x,
                                                    const torch::Tensor& h) {
  if (auto d = std::dynamic_pointer_cast<DoubleLayerImpl>(layer)) {
    const int64_t h1 = d->first->hidden_size();
    auto [a1, c1] = layer_gates(d->first, x, h.narrow(2, 0, h1));
    auto [a2, c2] = layer_gates(d->second, x, h.narrow(2, h1, h.size(2) - h1));
    return {torch::cat({a1, a2}, 2), torch::cat({c1, c2}, 2)};
  }
  const int64_t H = layer->hidden_size();
  // h_{t-1}: the zero state, then every state but the last
  const auto previous = torch::cat({torch::zeros_like(h.narrow(0, 0, 1)), h.narrow(0, 0, h.size(0) - 1)}, 0);
  torch::Tensor weight_ih, bias, feedback_a, feedback_c;
  if (auto brc = std::dynamic_pointer_cast<BrcLayerImpl>(layer)) {
    weight_ih = brc->weight_ih, bias = brc->bias;
    feedback_a = previous * brc->w_a.to(x.scalar_type());
    feedback_c = previous * brc->w_c.to(x.scalar_type());
  } else {
    auto nbrc = std::dynamic_pointer_cast<NbrcLayerImpl>(layer);
    weight_ih = nbrc->weight_ih, bias = nbrc->bias;
    const auto w_hh = nbrc->weight_hh.to(x.scalar_type());  // (2H, H) [W_a; W_c]
    feedback_a = torch::matmul(previous, w_hh.narrow(0, 0, H).t());
    feedback_c = torch::matmul(previous, w_hh.narrow(0, H, H).t());
  }
  const auto w = weight_ih.to(x.scalar_type()), b = bias.to(x.scalar_type());  // (3H, I), (3H)
  const auto drive_a = torch::matmul(x, w.narrow(0, 0, H).t()) + b.narrow(0, 0, H);
  const auto drive_c = torch::matmul(x, w.narrow(0, H, H).t()) + b.narrow(0, H, H);
  return {1 + torch::tanh(drive_a + feedback_a), torch::sigmoid(drive_c + feedback_c)};
}

}  // namespace

bool has_bistable_gates(SequenceModel& model) {
  for (const auto& layer : model->stack->layers)
    if (!is_bistable(layer)) return false;
  return true;
}

GateTraces bistable_gates(SequenceModel& model, const torch::Tensor& x) {
  require(has_bistable_gates(model),
          "gate traces are those of BRC and nBRC layers (a_t, c_t); this model is " + model->config.cell);
  require(x.dim() == 3, "gate traces: the input must be (T, B, I)");
  torch::NoGradGuard no_grad;
  const auto outputs = model->stack->forward(x);
  GateTraces gates;
  torch::Tensor input = x;
  for (size_t l = 0; l < outputs.size(); ++l) {
    auto [a, c] = layer_gates(model->stack->layers[l], input, outputs[l].h);
    gates.a.push_back(a);
    gates.c.push_back(c);
    input = outputs[l].h;
  }
  return gates;
}

double bistable_fraction(const GateTraces& gates) {
  double above = 0, total = 0;
  for (const auto& a : gates.a) {
    above += (a > 1).sum().item<double>();
    total += static_cast<double>(a.numel());
  }
  return total > 0 ? above / total : 0.0;
}

}  // namespace neurocell::analysis
