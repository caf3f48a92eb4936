#include "reference/reference.h"

#include <torch/torch.h>

namespace neurocell::reference {

torch::Tensor mgu_forward(const torch::Tensor& x, const torch::Tensor& h0,
                          const torch::Tensor& weight_ih, const torch::Tensor& weight_hh,
                          const torch::Tensor& bias) {
  const auto drive = (torch::matmul(x, weight_ih.t()) + bias).chunk(2, 2);
  const auto drive_f = drive[0].unbind(0), drive_h = drive[1].unbind(0);
  const auto hidden = h0.size(1);
  const auto w_f = weight_hh.narrow(0, 0, hidden), w_h = weight_hh.narrow(0, hidden, hidden);
  std::vector<torch::Tensor> states;
  states.reserve(drive_f.size());
  torch::Tensor h = h0;
  for (size_t t = 0; t < drive_f.size(); ++t) {
    const auto f = torch::sigmoid(drive_f[t] + torch::matmul(h, w_f.t()));
    const auto n = torch::tanh(drive_h[t] + torch::matmul(f * h, w_h.t()));
    h = (1 - f) * h + f * n;
    states.push_back(h);
  }
  return torch::stack(states);
}

}  // namespace neurocell::reference
