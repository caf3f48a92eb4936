#include "nn/scan_layers.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "nn/cell_registry.h"
#include "kernels/fused.h"
#include "reference/scan_reference.h"

namespace neurocell {

namespace {

// Glorot-uniform (rows, cols), as the bistable cells' blocks.
torch::Tensor glorot(int64_t rows, int64_t cols) {
  const double limit = std::sqrt(6.0 / static_cast<double>(rows + cols));
  return torch::empty({rows, cols}).uniform_(-limit, limit);
}

// softplus^-1(y) = log(e^y - 1): the raw value whose softplus is y.
double inverse_softplus(double y) { return std::log(std::expm1(y)); }

}  // namespace

MruKind mru_kind_of(CellKind kind) {
  switch (kind) {
    case CellKind::bmru: return MruKind::bmru;
    case CellKind::cmru: return MruKind::cmru;
    case CellKind::acmru: return MruKind::acmru;
    case CellKind::fq_bmru: return MruKind::fq_bmru;
    default: throw Error("not a memory recurrent unit: " + cell_kind_name(kind));
  }
}

ScanBlockImpl::ScanBlockImpl(CellKind kind, int64_t input_size, int64_t hidden_size)
    : RecurrentLayerImpl(kind, input_size, hidden_size) {
  if (input_size != hidden_size) input = register_module("input", torch::nn::Linear(input_size, hidden_size));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden_size})));
  mlp = register_module("mlp", torch::nn::Linear(hidden_size, 2 * hidden_size));
}

SequenceOutput ScanBlockImpl::forward_impl(const torch::Tensor& x, const RecurrentState& initial) {
  const bool fast = use_fused(x);
  auto project = [&](const torch::Tensor& v, torch::nn::Linear& layer) {
    return fast ? fused::linear(v, layer->weight, layer->bias) : layer->forward(v);
  };
  const auto p = input ? project(x, input) : x;  // (T, B, H)
  auto [r, states] = core(norm(p), initial.c);
  const auto gated = project(torch::gelu(r), mlp);  // (T, B, 2H)
  const int64_t H = hidden_size();
  return {p + gated.narrow(2, 0, H) * torch::sigmoid(gated.narrow(2, H, H)), states};
}

MruBlockImpl::MruBlockImpl(CellKind kind, int64_t input_size, int64_t hidden_size)
    : ScanBlockImpl(kind, input_size, hidden_size) {
  options.kind = mru_kind_of(kind);
  weight = register_parameter("weight", glorot(hidden_size, hidden_size));
  bias = register_parameter("bias", torch::zeros({hidden_size}));
  if (kind != CellKind::fq_bmru)
    beta_raw = register_parameter("beta_raw", torch::full({hidden_size}, inverse_softplus(1.0)));
  if (kind == CellKind::acmru) alpha_raw = register_parameter("alpha_raw", torch::zeros({hidden_size}));
  gamma = register_parameter("gamma", torch::ones({hidden_size}));
  d = register_parameter("d", torch::randn({hidden_size}));
}

std::pair<torch::Tensor, torch::Tensor> MruBlockImpl::core(const torch::Tensor& p, const torch::Tensor& state0) {
  const bool fast = use_fused(p);
  const auto drive = fast ? fused::linear(p, weight, bias) : torch::nn::functional::linear(p, weight, bias);
  const auto beta = beta_raw.defined() ? torch::softplus(beta_raw) : torch::Tensor();
  const auto alpha = alpha_raw.defined() ? torch::sigmoid(alpha_raw) : torch::Tensor();
  auto o = options;
  o.algorithm = algorithm;
  const auto h = fast ? fused::mru_scan(drive, beta, alpha, state0, o) : reference::mru_scan(drive, beta, alpha, state0, o);
  return {gamma * h + d * p, h};
}

MinGruBlockImpl::MinGruBlockImpl(int64_t input_size, int64_t hidden_size)
    : ScanBlockImpl(CellKind::mingru, input_size, hidden_size) {
  auto w = torch::cat({glorot(hidden_size, hidden_size), glorot(hidden_size, hidden_size)}, 0);
  weight = register_parameter("weight", w);
  bias = register_parameter("bias", torch::zeros({2 * hidden_size}));
}

std::pair<torch::Tensor, torch::Tensor> MinGruBlockImpl::core(const torch::Tensor& p, const torch::Tensor& state0) {
  const bool fast = use_fused(p);
  const auto drive = fast ? fused::linear(p, weight, bias) : torch::nn::functional::linear(p, weight, bias);
  const auto h = fast ? fused::mingru_scan(drive, state0, algorithm) : reference::mingru_scan(drive, state0);
  return {h, h};
}

LruBlockImpl::LruBlockImpl(int64_t input_size, int64_t hidden_size)
    : ScanBlockImpl(CellKind::lru, input_size, hidden_size) {
  const int64_t N = hidden_size, H = hidden_size;
  const double r_min = 0.9, r_max = 0.999, max_phase = 2 * M_PI;
  // |lambda|^2 uniform in [r_min^2, r_max^2]: |lambda| uniform by area on the ring.
  const auto u1 = torch::rand({N}), u2 = torch::rand({N}).clamp_min(1e-6);
  const auto nu = -0.5 * torch::log(u1 * (r_max * r_max - r_min * r_min) + r_min * r_min);
  nu_log = register_parameter("nu_log", torch::log(nu));
  theta_log = register_parameter("theta_log", torch::log(u2 * max_phase));
  b_re = register_parameter("b_re", torch::randn({N, H}) / std::sqrt(2.0 * H));
  b_im = register_parameter("b_im", torch::randn({N, H}) / std::sqrt(2.0 * H));
  c_re = register_parameter("c_re", torch::randn({H, N}) / std::sqrt(static_cast<double>(H)));
  c_im = register_parameter("c_im", torch::randn({H, N}) / std::sqrt(static_cast<double>(H)));
  d = register_parameter("d", torch::randn({H}));
}

LruBlockImpl::Diagonal LruBlockImpl::diagonal() const {
  const auto modulus = torch::exp(-torch::exp(nu_log)), phase = torch::exp(theta_log);
  return {modulus * torch::cos(phase), modulus * torch::sin(phase), torch::sqrt(1 - modulus * modulus)};
}

std::pair<torch::Tensor, torch::Tensor> LruBlockImpl::core(const torch::Tensor& p, const torch::Tensor& state0) {
  const bool fast = use_fused(p);
  const int64_t N = nu_log.size(0);
  auto matmul = [&](const torch::Tensor& v, const torch::Tensor& w) {
    return fast ? fused::linear(v, w) : torch::nn::functional::linear(v, w);
  };
  const auto diag = diagonal();
  const auto g_re = matmul(p, b_re) * diag.gamma, g_im = matmul(p, b_im) * diag.gamma;  // (T, B, N)
  const auto s0_re = state0.narrow(1, 0, N), s0_im = state0.narrow(1, N, N);
  auto [s_re, s_im] =
      fast ? fused::complex_diagonal_scan(g_re, g_im, diag.lambda_re, diag.lambda_im, s0_re, s0_im, algorithm)
           : reference::complex_diagonal_scan(g_re, g_im, diag.lambda_re, diag.lambda_im, s0_re, s0_im);
  const auto r = matmul(s_re, c_re) - matmul(s_im, c_im) + d * p;  // Re(C s) + D p
  return {r, torch::cat({s_re, s_im}, 2)};
}

RecurrentLayer make_scan_block(CellKind kind, int64_t input_size, int64_t hidden_size) {
  switch (kind) {
    case CellKind::bmru:
    case CellKind::cmru:
    case CellKind::acmru:
    case CellKind::fq_bmru: return std::make_shared<MruBlockImpl>(kind, input_size, hidden_size);
    case CellKind::mingru: return std::make_shared<MinGruBlockImpl>(input_size, hidden_size);
    case CellKind::lru: return std::make_shared<LruBlockImpl>(input_size, hidden_size);
    default: throw Error("not a scan cell: " + cell_kind_name(kind));
  }
}

}  // namespace neurocell
