#include "reference/scan_reference.h"

#include <torch/torch.h>

#include "ops/surrogate_relaxation.h"

namespace neurocell::reference {

namespace {

// The hard value with the relaxation's gradient (see the header).
torch::Tensor straight_through(const torch::Tensor& hard, const torch::Tensor& soft) {
  return hard.detach() + (soft - soft.detach());
}

}  // namespace

torch::Tensor mru_scan(const torch::Tensor& drive, const torch::Tensor& beta, const torch::Tensor& alpha,
                       const torch::Tensor& h0, const MruOptions& options) {
  const double tau = options.tau, delta = 2.0 / static_cast<double>(options.levels - 1);
  std::vector<torch::Tensor> states;
  states.reserve(drive.size(0));
  torch::Tensor h = h0;  // (B, H)
  const bool relaxed = surrogate_relaxation();  // h = soft (ops/surrogate_relaxation.h)
  for (const auto& u : drive.unbind(0)) {
    torch::Tensor hard, soft;
    if (options.kind == MruKind::fq_bmru) {
      const auto v = torch::softplus(u);  // non-negative current
      {
        torch::NoGradGuard no_grad;
        hard = torch::where(v > options.theta_on, torch::ones_like(h),
                            torch::where(v < options.theta_off, torch::zeros_like(h), h));
      }
      const auto m_on = torch::sigmoid((v - options.theta_on) / tau);
      const auto m_off = torch::sigmoid((options.theta_off - v) / tau);
      soft = m_on + (1 - m_on - m_off) * h;
    } else if (options.kind == MruKind::acmru) {
      const auto dead_zone = torch::sign(u) * torch::relu(torch::abs(u) - beta);  // D(u)
      {
        torch::NoGradGuard no_grad;
        hard = torch::clamp(h + alpha * dead_zone, -1, 1);
      }
      soft = h + alpha * dead_zone;
    } else {
      torch::Tensor q;  // sign(u) 1[|u| > beta] in {-1, 0, 1}
      {
        torch::NoGradGuard no_grad;
        q = torch::sign(u) * (torch::abs(u) > beta).to(u.scalar_type());
        hard = options.kind == MruKind::bmru ? torch::where(q != 0, q, h)
                                                    : torch::clamp(h + delta * q, -1, 1);
      }
      const auto m = torch::sigmoid((torch::abs(u) - beta) / tau);
      const auto s = torch::tanh(u / tau);
      soft = options.kind == MruKind::bmru ? m * s + (1 - m) * h : h + delta * (m * s);
    }
    h = relaxed ? soft : straight_through(hard, soft);
    states.push_back(h);
  }
  return torch::stack(states);
}

torch::Tensor mingru_scan(const torch::Tensor& drive, const torch::Tensor& h0) {
  const auto blocks = drive.chunk(2, /*dim=*/2);
  const auto z = torch::sigmoid(blocks[0]).unbind(0), h_tilde = blocks[1].unbind(0);
  std::vector<torch::Tensor> states;
  states.reserve(z.size());
  torch::Tensor h = h0;  // (B, H)
  for (size_t t = 0; t < z.size(); ++t) {
    h = (1 - z[t]) * h + z[t] * h_tilde[t];
    states.push_back(h);
  }
  return torch::stack(states);
}

std::pair<torch::Tensor, torch::Tensor> complex_diagonal_scan(const torch::Tensor& g_re, const torch::Tensor& g_im,
                                                              const torch::Tensor& lambda_re,
                                                              const torch::Tensor& lambda_im,
                                                              const torch::Tensor& s0_re, const torch::Tensor& s0_im) {
  const auto drive_re = g_re.unbind(0), drive_im = g_im.unbind(0);
  std::vector<torch::Tensor> states_re, states_im;
  states_re.reserve(drive_re.size());
  states_im.reserve(drive_re.size());
  torch::Tensor s_re = s0_re, s_im = s0_im;  // (B, N)
  for (size_t t = 0; t < drive_re.size(); ++t) {
    // s' = lambda s + g, written out in real and imaginary parts
    auto next_re = lambda_re * s_re - lambda_im * s_im + drive_re[t];
    auto next_im = lambda_re * s_im + lambda_im * s_re + drive_im[t];
    s_re = next_re, s_im = next_im;
    states_re.push_back(s_re);
    states_im.push_back(s_im);
  }
  return {torch::stack(states_re), torch::stack(states_im)};
}

}  // namespace neurocell::reference
