#include "reference/reference.h"

#include <torch/torch.h>

namespace neurocell::reference {

std::pair<torch::Tensor, torch::Tensor> lstm_forward(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0,
    const torch::Tensor& weight_ih, const torch::Tensor& weight_hh,
    const torch::Tensor& bias_ih, const torch::Tensor& bias_hh) {
  const auto input_gates = (torch::matmul(x, weight_ih.t()) + bias_ih).unbind(0);  // (B, 4H)
  std::vector<torch::Tensor> hs, cs;
  hs.reserve(input_gates.size());
  cs.reserve(input_gates.size());
  torch::Tensor h = h0, c = c0;
  for (const auto& gi : input_gates) {
    const auto gates = (gi + torch::matmul(h, weight_hh.t()) + bias_hh).chunk(4, 1);
    const auto i = torch::sigmoid(gates[0]);
    const auto f = torch::sigmoid(gates[1]);
    const auto g = torch::tanh(gates[2]);
    const auto o = torch::sigmoid(gates[3]);
    c = f * c + i * g;
    h = o * torch::tanh(c);
    hs.push_back(h);
    cs.push_back(c);
  }
  return {torch::stack(hs), torch::stack(cs)};
}

}  // namespace neurocell::reference
