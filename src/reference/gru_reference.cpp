#include "reference/reference.h"

#include <torch/torch.h>

namespace neurocell::reference {

torch::Tensor gru_forward(const torch::Tensor& x, const torch::Tensor& h0,
                          const torch::Tensor& weight_ih, const torch::Tensor& weight_hh,
                          const torch::Tensor& bias_ih, const torch::Tensor& bias_hh) {
  const auto input_gates = (torch::matmul(x, weight_ih.t()) + bias_ih).unbind(0);  // (B, 3H)
  std::vector<torch::Tensor> states;
  states.reserve(input_gates.size());
  torch::Tensor h = h0;
  for (const auto& gi : input_gates) {
    const auto gi_parts = gi.chunk(3, 1);
    const auto gh_parts = (torch::matmul(h, weight_hh.t()) + bias_hh).chunk(3, 1);
    const auto r = torch::sigmoid(gi_parts[0] + gh_parts[0]);
    const auto z = torch::sigmoid(gi_parts[1] + gh_parts[1]);
    const auto n = torch::tanh(gi_parts[2] + r * gh_parts[2]);
    h = (1 - z) * n + z * h;
    states.push_back(h);
  }
  return torch::stack(states);
}

}  // namespace neurocell::reference
