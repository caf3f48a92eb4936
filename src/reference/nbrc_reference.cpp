#include "reference/reference.h"

#include <torch/torch.h>

namespace neurocell::reference {

torch::Tensor nbrc_forward(const torch::Tensor& x, const torch::Tensor& h0,
                           const torch::Tensor& weight_ih, const torch::Tensor& weight_hh,
                           const torch::Tensor& bias) {
  const auto drive = (torch::matmul(x, weight_ih.t()) + bias).chunk(3, 2);  // (T, B, H) x3
  const auto drive_a = drive[0].unbind(0), drive_c = drive[1].unbind(0),
             drive_h = drive[2].unbind(0);
  std::vector<torch::Tensor> states;
  states.reserve(drive_a.size());
  torch::Tensor h = h0;
  for (size_t t = 0; t < drive_a.size(); ++t) {
    const auto recurrent = torch::matmul(h, weight_hh.t()).chunk(2, 1);  // (B, H) x2
    const auto a = 1 + torch::tanh(drive_a[t] + recurrent[0]);
    const auto c = torch::sigmoid(drive_c[t] + recurrent[1]);
    h = c * h + (1 - c) * torch::tanh(drive_h[t] + a * h);
    states.push_back(h);
  }
  return torch::stack(states);
}

}  // namespace neurocell::reference
