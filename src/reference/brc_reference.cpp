#include "reference/reference.h"

#include <torch/torch.h>

namespace neurocell::reference {

torch::Tensor brc_forward(const torch::Tensor& x, const torch::Tensor& h0,
                          const torch::Tensor& weight_ih, const torch::Tensor& bias,
                          const torch::Tensor& w_a, const torch::Tensor& w_c) {
  // All input projections of the sequence at once: (T, B, 3H).
  const auto drive = (torch::matmul(x, weight_ih.t()) + bias).chunk(3, /*dim=*/2);
  const auto drive_a = drive[0].unbind(0), drive_c = drive[1].unbind(0),
             drive_h = drive[2].unbind(0);
  std::vector<torch::Tensor> states;
  states.reserve(drive_a.size());
  torch::Tensor h = h0;  // (B, H)
  for (size_t t = 0; t < drive_a.size(); ++t) {
    const auto a = 1 + torch::tanh(drive_a[t] + w_a * h);
    const auto c = torch::sigmoid(drive_c[t] + w_c * h);
    h = c * h + (1 - c) * torch::tanh(drive_h[t] + a * h);
    states.push_back(h);
  }
  return torch::stack(states);
}

}  // namespace neurocell::reference
