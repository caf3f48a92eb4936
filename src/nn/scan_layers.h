#pragma once
// The scan family as layers (cells.md sections 3, 4): BMRU, CMRU, aCMRU, fq-BMRU, minGRU and
// the LRU, each inside the same block, the LRU paper's (norm, core, GELU, GLU, residual):
//
//   p   = x                       if I == H, else P x + b_P        (T, B, H)  input projection
//   r   = core(LayerNorm(p))      (T, B, H)  the recurrence, computed by a parallel scan
//   out = p + GLU(GELU(r)),       GLU(y) = (W_v y + b_v) * sigmoid(W_g y + b_g)
//
// The core keeps no transient dynamics of its own except the LRU's: its state is c, the layer's
// second state (see RecurrentState), and out is a function of c and the current input only.
// The norm is time-local (over the H features of one step), so the streaming one-step API and
// the whole-sequence forward stay identical. On the first layer the projection's bias b_P keeps
// the input's magnitude visible after the norm (LayerNorm(P x) alone would keep only its sign
// for a 1-channel x), and the residual p carries it unnormalised to the next layer.
//
// Cores (parameter names as saved in checkpoints); below, p stands for the core input LayerNorm(p):
//   MRU (bmru, cmru, acmru):  u = W p + b (weight (H, H) Glorot, bias 0); hysteresis half-width
//     beta = softplus(beta_raw) (init 1); acmru: alpha = sigmoid(alpha_raw) (init 1/2);
//     h = mru_scan(u, ...) in {-1, 0, 1} (acmru: [-1, 1]); r = gamma * h + d * p (gamma init 1,
//     d ~ N(0, 1)). The feedthrough d * p is the LRU's D term: without it the GLU would only
//     see the stored states, and nothing before a later layer's MRU could form a product of
//     input features (a value gated by a marker, as denoising needs), since MRU drives are
//     linear in the layer's input.
//   fq-bmru: the analog form, states {0, 1}, non-negative current u = softplus(W p + b), fixed
//     thresholds 0.25 / 0.75; r = gamma * h + d * p.
//   minGRU: [z_pre | h_tilde] = W p + b (weight (2H, H)), r = h.
//   LRU: complex diagonal, N = H states, lambda = exp(-exp(nu_log) + i exp(theta_log)), |lambda|
//     uniform on the ring [0.9, 0.999] (by area) and phase uniform in [0, 2 pi] at init;
//     s_t = lambda s_{t-1} + gamma (B p_t), gamma = sqrt(1 - |lambda|^2);
//     r = Re(C s) + D * p. B ~ N(0, 1/(2H)) (real and imaginary parts), C ~ N(0, 1/H), D ~ N(0, 1).
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <utility>

#include "kernels/scan.h"
#include "nn/layers.h"

namespace neurocell {

class ScanBlockImpl : public RecurrentLayerImpl {
 public:
  ScanBlockImpl(CellKind kind, int64_t input_size, int64_t hidden_size);
  torch::nn::Linear input{nullptr};  // (H, I), only when I != H
  torch::nn::LayerNorm norm{nullptr};  // over H, with affine weight and bias
  torch::nn::Linear mlp{nullptr};    // (2H, H): rows [W_v; W_g] of the GLU

  // The scan algorithm of the fused kernels (automatic by default; benchmarks and tests set it).
  ScanAlgorithm algorithm = ScanAlgorithm::automatic;

 protected:
  SequenceOutput forward_impl(const torch::Tensor& x, const RecurrentState& initial) override;
  // p (T, B, H), initial core state (B, C) -> r (T, B, H) and the core states (T, B, C).
  virtual std::pair<torch::Tensor, torch::Tensor> core(const torch::Tensor& p, const torch::Tensor& state0) = 0;
};

class MruBlockImpl : public ScanBlockImpl {
 public:
  MruBlockImpl(CellKind kind, int64_t input_size, int64_t hidden_size);
  int64_t second_state_size() const override { return hidden_size(); }
  MruOptions options;
  torch::Tensor weight, bias;  // (H, H), (H)
  torch::Tensor beta_raw;      // (H), beta = softplus(beta_raw); unused by fq-bmru
  torch::Tensor alpha_raw;     // (H), acmru only
  torch::Tensor gamma;         // (H) output amplitude
  torch::Tensor d;             // (H) feedthrough of the block input

 protected:
  std::pair<torch::Tensor, torch::Tensor> core(const torch::Tensor& p, const torch::Tensor& state0) override;
};

class MinGruBlockImpl : public ScanBlockImpl {
 public:
  MinGruBlockImpl(int64_t input_size, int64_t hidden_size);
  int64_t second_state_size() const override { return hidden_size(); }
  torch::Tensor weight, bias;  // (2H, H) [U_z; U_h], (2H)

 protected:
  std::pair<torch::Tensor, torch::Tensor> core(const torch::Tensor& p, const torch::Tensor& state0) override;
};

class LruBlockImpl : public ScanBlockImpl {
 public:
  LruBlockImpl(int64_t input_size, int64_t hidden_size);
  int64_t second_state_size() const override { return 2 * hidden_size(); }  // [Re s; Im s]
  torch::Tensor nu_log, theta_log;  // (N)
  torch::Tensor b_re, b_im;         // (N, H)
  torch::Tensor c_re, c_im;         // (H, N)
  torch::Tensor d;                  // (H)
  // lambda's real and imaginary parts and gamma = sqrt(1 - |lambda|^2), each (N), with autograd.
  struct Diagonal {
    torch::Tensor lambda_re, lambda_im, gamma;
  };
  Diagonal diagonal() const;

 protected:
  std::pair<torch::Tensor, torch::Tensor> core(const torch::Tensor& p, const torch::Tensor& state0) override;
};

// The MRU step of a cell of the MRU family (bmru, cmru, acmru, fq-bmru); throws for the others.
MruKind mru_kind_of(CellKind kind);

// One block of a scan kind (the registry's scan() cells).
RecurrentLayer make_scan_block(CellKind kind, int64_t input_size, int64_t hidden_size);

}  // namespace neurocell
