// LIF reference (cells.md section 2, "LIF baseline"): plain LibTorch ops, one step at a
// time; the surrogate derivative of the Heaviside comes from a small autograd Function.
#include <torch/torch.h>

#include "ops/surrogate_relaxation.h"
#include "reference/reference.h"

namespace neurocell::reference {

namespace {

// s = H(u - theta) (u > theta); backward dL/du = dL/ds / (1 + k |u - theta|)^2, snnTorch's
// fast sigmoid.
class FastSigmoidSpike : public torch::autograd::Function<FastSigmoidSpike> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& u, double threshold,
                               double slope) {
    ctx->save_for_backward({u});
    ctx->saved_data["threshold"] = threshold;
    ctx->saved_data["slope"] = slope;
    return (u > threshold).to(u.scalar_type());
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto u = ctx->get_saved_variables()[0];
    const double threshold = ctx->saved_data["threshold"].toDouble(), slope = ctx->saved_data["slope"].toDouble();
    const auto q = 1 + slope * (u - threshold).abs();
    return {grads[0] / (q * q), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

LifSequence lif_forward(const torch::Tensor& x, const torch::Tensor& u0, const LifWeights& w) {
  const auto drive = torch::matmul(x, w.weight.t()).unbind(0);  // T x (B, H)
  std::vector<torch::Tensor> spikes, us;
  torch::Tensor u = u0;
  const bool relaxed = surrogate_relaxation();  // spikes = the fast sigmoid (ops/surrogate_relaxation.h)
  for (const auto& drive_t : drive) {
    // The reset: theta times the previous step's spike, detached (snnTorch's mem_reset).
    const auto reset = (u.detach() > w.threshold).to(u.scalar_type()) * w.threshold;
    u = w.beta * u + drive_t + w.bias - reset;
    if (relaxed) {
      const auto d = u - w.threshold;
      spikes.push_back(d / (1 + w.slope * d.abs()));
    } else {
      spikes.push_back(FastSigmoidSpike::apply(u, w.threshold, w.slope));
    }
    us.push_back(u);
  }
  return {torch::stack(spikes), torch::stack(us)};
}

}  // namespace neurocell::reference
