#include <torch/torch.h>

#include "ops/surrogate_relaxation.h"
#include "reference/reference.h"

namespace neurocell::reference {

SrcSequence src_forward(const torch::Tensor& x, const torch::Tensor& i0, const torch::Tensor& h0,
                        const torch::Tensor& hs0, const SrcWeights& w) {
  const auto drive = torch::matmul(x, w.weight.t()).unbind(0);  // T x (B, H)
  std::vector<torch::Tensor> spikes, is, hs, h_ss;
  torch::Tensor i = i0, h = h0, h_s = hs0;
  const bool relaxed = surrogate_relaxation();  // spikes = h (ops/surrogate_relaxation.h)
  for (const auto& drive_t : drive) {
    // Detached, the previous h and h_s enter this step as constants.
    const auto h_prev = w.detach_recurrence ? h.detach() : h;
    const auto hs_prev = w.detach_recurrence ? h_s.detach() : h_s;
    i = w.alpha * i + drive_t;
    const auto x_sat = w.rho * torch::tanh(i / w.rho);
    const auto z = torch::where(h_prev.detach() > 0.5, w.z_dep, w.z_hyp);
    h = torch::tanh(x_sat + w.r * h_prev + w.r_s * hs_prev + w.bias);
    h_s = z * hs_prev + (1 - z) * h_prev;
    spikes.push_back(relaxed ? h : h + (torch::relu(h) - h).detach());  // ReLU forward, derivative 1
    is.push_back(i);
    hs.push_back(h);
    h_ss.push_back(h_s);
  }
  return {torch::stack(spikes), torch::stack(is), torch::stack(hs), torch::stack(h_ss)};
}

}  // namespace neurocell::reference
