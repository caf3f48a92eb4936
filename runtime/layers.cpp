// The per-layer steps of the dependency-free runtime: the eleven layer classes and the
// factories of layers.h.
// Shapes in comments are of one sequence (no batch): x (I), h (H), W (rows, cols) row-major.
#include "layers.h"

#include <algorithm>
#include <cmath>

#include "cells/bistable.h"
#include "cells/gru.h"
#include "cells/lstm.h"
#include "cells/mgu.h"
#include "cells/mru.h"
#include "cells/mru_kind.h"
#include "cells/spiking.h"
#include "neurocell_runtime.h"  // supported_layer_kinds

namespace ncrt::detail {

namespace cells = neurocell::cells;

namespace {

// Dot product with 8 independent partial sums: a single running sum is one dependent add
// per element (the compiler may not reorder float adds), 8 of them vectorise. A 2x128 BMRU
// step took 74 us with one sum, 19.5 us with 8 (ncm_stream --time, one core here).
float dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  float sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace

// y (rows) = W x (+ b), W (rows, cols); counted when counts is given.
void matvec(const Tensor& w, const float* x, float* y, const Tensor* b, OpCounts* counts) {
  const int64_t rows = w.shape[0], cols = w.shape[1];
  if (counts) counts->macs += static_cast<uint64_t>(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float sum = dot(w.ptr() + r * cols, x, cols);
    y[r] = b ? sum + b->data[r] : sum;
  }
}

namespace {

float sigmoid(float x) { return cells::sigmoid_(x); }
float gelu(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }

// After a continuous state's update: count the values written, add the state noise.
void finish_state(float* state, int64_t n, const StepOptions& o) {
  if (o.counts) o.counts->state_updates += static_cast<uint64_t>(n);
  if (o.noise && o.noise->has_state_noise()) o.noise->state(state, n);
}

// ---- Sequential cells (cells.md section 1, torch::nn layouts for GRU/LSTM)

class BrcLayer : public Layer {
 public:
  BrcLayer(const TensorTable& t, const std::string& p, int64_t I, int64_t H)
      : Layer(I, H), w_ih(t.get(p + "weight_ih", {3 * H, I})), bias(t.get(p + "bias", {3 * H})),
        w_a(t.get(p + "w_a", {H})), w_c(t.get(p + "w_c", {H})) {}
  int64_t state_size() const override { return hidden; }
  int64_t scratch_size() const override { return 3 * hidden; }
  void step(const float* x, float* h, float* out, float* g, const StepOptions& o) const override {
    const int64_t H = hidden;
    matvec(w_ih, x, g, &bias, o.counts);  // [U_a x + b_a; U_c x + b_c; U_h x + b_h]
    if (o.counts) o.counts->macs += 2 * H;  // the diagonal feedbacks w_a h, w_c h
    if (o.noise) o.noise->drive(g, 3 * H);
    for (int64_t j = 0; j < H; ++j) {
      cells::BistableGates<float> gates;
      h[j] = cells::bistable_forward(g[j] + w_a.data[j] * h[j], g[H + j] + w_c.data[j] * h[j], g[2 * H + j], h[j], gates);
    }
    finish_state(h, H, o);
    std::copy(h, h + H, out);
  }
  const Tensor &w_ih, &bias, &w_a, &w_c;
};

class NbrcLayer : public Layer {
 public:
  NbrcLayer(const TensorTable& t, const std::string& p, int64_t I, int64_t H)
      : Layer(I, H), w_ih(t.get(p + "weight_ih", {3 * H, I})), w_hh(t.get(p + "weight_hh", {2 * H, H})),
        bias(t.get(p + "bias", {3 * H})) {}
  int64_t state_size() const override { return hidden; }
  int64_t scratch_size() const override { return 5 * hidden; }
  void step(const float* x, float* h, float* out, float* g, const StepOptions& o) const override {
    const int64_t H = hidden;
    float* gh = g + 3 * H;
    matvec(w_ih, x, g, &bias, o.counts);
    matvec(w_hh, h, gh, nullptr, o.counts);  // [W_a h; W_c h]
    if (o.noise) o.noise->drive(g, 5 * H);
    for (int64_t j = 0; j < H; ++j) {
      cells::BistableGates<float> gates;
      h[j] = cells::bistable_forward(g[j] + gh[j], g[H + j] + gh[H + j], g[2 * H + j], h[j], gates);
    }
    finish_state(h, H, o);
    std::copy(h, h + H, out);
  }
  const Tensor &w_ih, &w_hh, &bias;
};

class GruLayer : public Layer {
 public:
  GruLayer(const TensorTable& t, const std::string& p, int64_t I, int64_t H)
      : Layer(I, H), w_ih(t.get(p + "weight_ih", {3 * H, I})), w_hh(t.get(p + "weight_hh", {3 * H, H})),
        b_ih(t.get(p + "bias_ih", {3 * H})), b_hh(t.get(p + "bias_hh", {3 * H})) {}
  int64_t state_size() const override { return hidden; }
  int64_t scratch_size() const override { return 6 * hidden; }
  void step(const float* x, float* h, float* out, float* gi, const StepOptions& o) const override {
    const int64_t H = hidden;
    float* gh = gi + 3 * H;
    matvec(w_ih, x, gi, &b_ih, o.counts);
    matvec(w_hh, h, gh, &b_hh, o.counts);
    if (o.noise) o.noise->drive(gi, 6 * H);
    for (int64_t j = 0; j < H; ++j) {
      cells::GruGates<float> gates;
      h[j] = cells::gru_forward(gi[j], gi[H + j], gi[2 * H + j], gh[j], gh[H + j], gh[2 * H + j], h[j], gates);
    }
    finish_state(h, H, o);
    std::copy(h, h + H, out);
  }
  const Tensor &w_ih, &w_hh, &b_ih, &b_hh;
};

class LstmLayer : public Layer {
 public:
  LstmLayer(const TensorTable& t, const std::string& p, int64_t I, int64_t H)
      : Layer(I, H), w_ih(t.get(p + "weight_ih", {4 * H, I})), w_hh(t.get(p + "weight_hh", {4 * H, H})),
        b_ih(t.get(p + "bias_ih", {4 * H})), b_hh(t.get(p + "bias_hh", {4 * H})) {}
  int64_t state_size() const override { return 2 * hidden; }  // [h; c]
  int64_t scratch_size() const override { return 8 * hidden; }
  void step(const float* x, float* state, float* out, float* pre, const StepOptions& o) const override {
    const int64_t H = hidden;
    float *h = state, *c = state + H, *gh = pre + 4 * H;
    matvec(w_ih, x, pre, &b_ih, o.counts);
    matvec(w_hh, h, gh, &b_hh, o.counts);
    if (o.noise) o.noise->drive(pre, 8 * H);
    for (int64_t j = 0; j < H; ++j) {
      cells::LstmGates<float> gates;
      float c_next;
      h[j] = cells::lstm_forward(pre[j] + gh[j], pre[H + j] + gh[H + j], pre[2 * H + j] + gh[2 * H + j],
                                 pre[3 * H + j] + gh[3 * H + j], c[j], c_next, gates);
      c[j] = c_next;
    }
    finish_state(state, 2 * H, o);
    std::copy(h, h + H, out);
  }
  const Tensor &w_ih, &w_hh, &b_ih, &b_hh;
};

class MguLayer : public Layer {
 public:
  MguLayer(const TensorTable& t, const std::string& p, int64_t I, int64_t H)
      : Layer(I, H), w_ih(t.get(p + "weight_ih", {2 * H, I})), w_hh(t.get(p + "weight_hh", {2 * H, H})),
        bias(t.get(p + "bias", {2 * H})) {}
  int64_t state_size() const override { return hidden; }
  int64_t scratch_size() const override { return 5 * hidden; }
  void step(const float* x, float* h, float* out, float* gi, const StepOptions& o) const override {
    const int64_t H = hidden;
    float *f = gi + 2 * H, *fh = gi + 3 * H, *w_fh = gi + 4 * H;
    matvec(w_ih, x, gi, &bias, o.counts);  // [U_f x + b_f; U_h x + b_h]
    if (o.counts) o.counts->macs += static_cast<uint64_t>(2 * H * H);
    const float* w_f = w_hh.ptr();
    const float* w_h = w_hh.ptr() + H * H;
    for (int64_t j = 0; j < H; ++j) gi[j] += dot(w_f + j * H, h, H);
    if (o.noise) o.noise->drive(gi, H);
    for (int64_t j = 0; j < H; ++j) {
      f[j] = cells::mgu_forget(gi[j]);
      fh[j] = f[j] * h[j];
    }
    for (int64_t j = 0; j < H; ++j) w_fh[j] = gi[H + j] + dot(w_h + j * H, fh, H);
    if (o.noise) o.noise->drive(w_fh, H);
    for (int64_t j = 0; j < H; ++j) {
      float n;
      h[j] = cells::mgu_forward(f[j], w_fh[j], h[j], n);
    }
    finish_state(h, H, o);
    std::copy(h, h + H, out);
  }
  const Tensor &w_ih, &w_hh, &bias;
};

// ---- Scan blocks (cells.md sections 3 and 4, the library's nn/scan_layers.h):
//   p = x or P x + b_P;  n = LayerNorm(p);  r = core(n);  out = p + (W_v y + b_v) * sigmoid(W_g y + b_g),  y = GELU(r)

class ScanBlock : public Layer {
 public:
  ScanBlock(const TensorTable& t, const std::string& p, int64_t I, int64_t H, const Constants& k)
      : Layer(I, H),
        in_w(I != H ? &t.get(p + "input.weight", {H, I}) : nullptr),
        in_b(I != H ? &t.get(p + "input.bias", {H}) : nullptr),
        norm_w(t.get(p + "norm.weight", {H})), norm_b(t.get(p + "norm.bias", {H})),
        mlp_w(t.get(p + "mlp.weight", {2 * H, H})), mlp_b(t.get(p + "mlp.bias", {2 * H})), eps(k.layer_norm_eps) {}
  int64_t scratch_size() const override { return 5 * hidden + core_scratch_size(); }
  void step(const float* x, float* state, float* out, float* scratch, const StepOptions& o) const override {
    const int64_t H = hidden;
    float *p = scratch, *n = scratch + H, *r = scratch + 2 * H, *gated = scratch + 3 * H, *core_scratch = scratch + 5 * H;
    if (in_w) matvec(*in_w, x, p, in_b, o.counts);
    else std::copy(x, x + H, p);
    float mean = 0, var = 0;  // LayerNorm over the H features, biased variance as torch
    for (int64_t j = 0; j < H; ++j) mean += p[j];
    mean /= static_cast<float>(H);
    for (int64_t j = 0; j < H; ++j) var += (p[j] - mean) * (p[j] - mean);
    var /= static_cast<float>(H);
    const float inv = 1.0f / std::sqrt(var + eps);
    for (int64_t j = 0; j < H; ++j) n[j] = (p[j] - mean) * inv * norm_w.data[j] + norm_b.data[j];
    core(n, state, r, core_scratch, o);
    for (int64_t j = 0; j < H; ++j) r[j] = gelu(r[j]);
    matvec(mlp_w, r, gated, &mlp_b, o.counts);
    for (int64_t j = 0; j < H; ++j) out[j] = p[j] + gated[j] * sigmoid(gated[H + j]);
  }

 protected:
  virtual int64_t core_scratch_size() const = 0;
  // n (H) -> r (H), core state updated in place; the drives and the state take o's noise.
  virtual void core(const float* n, float* state, float* r, float* scratch, const StepOptions& o) const = 0;

 private:
  const Tensor *in_w, *in_b;
  const Tensor &norm_w, &norm_b, &mlp_w, &mlp_b;
  float eps;
};

using neurocell::MruKind;

class MruBlock : public ScanBlock {
 public:
  MruBlock(const TensorTable& t, const std::string& p, int64_t I, int64_t H, const Constants& k, MruKind kind)
      : ScanBlock(t, p, I, H, k), kind(kind), weight(t.get(p + "weight", {H, H})), bias(t.get(p + "bias", {H})),
        gamma(t.get(p + "gamma", {H})), d(t.get(p + "d", {H})), theta_on(k.fq_theta_on), theta_off(k.fq_theta_off),
        delta(2.0f / static_cast<float>(k.cmru_levels - 1)) {
    if (kind != MruKind::fq_bmru) {
      const auto& raw = t.get(p + "beta_raw", {H});
      for (float v : raw.data) beta.push_back(cells::softplus_(v));
    }
    if (kind == MruKind::acmru) {
      const auto& raw = t.get(p + "alpha_raw", {H});
      for (float v : raw.data) alpha.push_back(sigmoid(v));
    }
  }
  int64_t state_size() const override { return hidden; }

 protected:
  int64_t core_scratch_size() const override { return hidden; }
  void core(const float* n, float* h, float* r, float* u, const StepOptions& o) const override {
    matvec(weight, n, u, &bias, o.counts);
    if (o.noise) o.noise->drive(u, hidden);
    for (int64_t j = 0; j < hidden; ++j) {
      switch (kind) {
        case MruKind::bmru: h[j] = cells::bmru_step(cells::mru_quantize(u[j], beta[j]), h[j]); break;
        case MruKind::cmru:
          h[j] = cells::apply(cells::cumulative_step(cells::cmru_increment(cells::mru_quantize(u[j], beta[j]), delta)), h[j]);
          break;
        case MruKind::acmru:
          h[j] = cells::apply(cells::cumulative_step(cells::acmru_increment(u[j], beta[j], alpha[j])), h[j]);
          break;
        case MruKind::fq_bmru: h[j] = cells::fq_bmru_step(cells::softplus_(u[j]), theta_on, theta_off, h[j]); break;
      }
    }
    if (o.counts) o.counts->state_updates += static_cast<uint64_t>(hidden);
    if (o.noise && o.noise->has_state_noise()) {
      o.noise->state(h, hidden);
      for (int64_t j = 0; j < hidden; ++j) h[j] = latch(h[j]);
    }
    for (int64_t j = 0; j < hidden; ++j) r[j] = gamma.data[j] * h[j] + d.data[j] * n[j];
  }
  // The level a noisy stored state settles to: BMRU {-1, 0, +1} (0 only before the first
  // set), CMRU's levels, fq-BMRU {0, 1}; aCMRU's state is continuous (clipped to [-1, 1]).
  float latch(float h) const {
    switch (kind) {
      case MruKind::bmru: return std::clamp(std::round(h), -1.0f, 1.0f);
      case MruKind::cmru: return std::clamp(-1.0f + std::round((h + 1.0f) / delta) * delta, -1.0f, 1.0f);
      case MruKind::acmru: return std::clamp(h, -1.0f, 1.0f);
      case MruKind::fq_bmru: return std::clamp(std::round(h), 0.0f, 1.0f);
    }
    return h;
  }

 private:
  MruKind kind;
  const Tensor &weight, &bias, &gamma, &d;
  std::vector<float> beta, alpha;
  float theta_on, theta_off, delta;
};

class MinGruBlock : public ScanBlock {
 public:
  MinGruBlock(const TensorTable& t, const std::string& p, int64_t I, int64_t H, const Constants& k)
      : ScanBlock(t, p, I, H, k), weight(t.get(p + "weight", {2 * H, H})), bias(t.get(p + "bias", {2 * H})) {}
  int64_t state_size() const override { return hidden; }

 protected:
  int64_t core_scratch_size() const override { return 2 * hidden; }
  void core(const float* n, float* h, float* r, float* zh, const StepOptions& o) const override {
    matvec(weight, n, zh, &bias, o.counts);  // [z_pre; h_tilde]
    if (o.noise) o.noise->drive(zh, 2 * hidden);
    for (int64_t j = 0; j < hidden; ++j) h[j] = cells::mingru_forward(zh[j], zh[hidden + j], h[j]);
    finish_state(h, hidden, o);
    std::copy(h, h + hidden, r);
  }

 private:
  const Tensor &weight, &bias;
};

class LruBlock : public ScanBlock {
 public:
  LruBlock(const TensorTable& t, const std::string& p, int64_t I, int64_t H, const Constants& k)
      : ScanBlock(t, p, I, H, k), b_re(t.get(p + "b_re", {H, H})), b_im(t.get(p + "b_im", {H, H})),
        c_re(t.get(p + "c_re", {H, H})), c_im(t.get(p + "c_im", {H, H})), d(t.get(p + "d", {H})) {
    const auto& nu_log = t.get(p + "nu_log", {H});
    const auto& theta_log = t.get(p + "theta_log", {H});
    for (int64_t j = 0; j < H; ++j) {  // lambda = exp(-exp(nu_log) + i exp(theta_log)), as the library
      const float modulus = std::exp(-std::exp(nu_log.data[j])), phase = std::exp(theta_log.data[j]);
      lambda_re.push_back(modulus * std::cos(phase));
      lambda_im.push_back(modulus * std::sin(phase));
      gamma.push_back(std::sqrt(1 - modulus * modulus));
    }
  }
  int64_t state_size() const override { return 2 * hidden; }  // [Re s; Im s]

 protected:
  int64_t core_scratch_size() const override { return 2 * hidden; }
  void core(const float* n, float* s, float* r, float* g, const StepOptions& o) const override {
    const int64_t N = hidden;
    float *s_re = s, *s_im = s + N, *g_re = g, *g_im = g + N;
    matvec(b_re, n, g_re, nullptr, o.counts);
    matvec(b_im, n, g_im, nullptr, o.counts);
    if (o.noise) o.noise->drive(g, 2 * N);
    for (int64_t j = 0; j < N; ++j) {  // s' = lambda s + gamma B n
      const float re = lambda_re[j] * s_re[j] - lambda_im[j] * s_im[j] + g_re[j] * gamma[j];
      const float im = lambda_re[j] * s_im[j] + lambda_im[j] * s_re[j] + g_im[j] * gamma[j];
      s_re[j] = re, s_im[j] = im;
    }
    finish_state(s, 2 * N, o);
    if (o.counts) o.counts->macs += static_cast<uint64_t>(4 * N + 2 * hidden * N);  // lambda s, C s
    for (int64_t j = 0; j < hidden; ++j)  // r = Re(C s) + D n
      r[j] = dot(c_re.ptr() + j * N, s_re, N) - dot(c_im.ptr() + j * N, s_im, N) + d.data[j] * n[j];
  }

 private:
  const Tensor &b_re, &b_im, &c_re, &c_im, &d;
  std::vector<float> lambda_re, lambda_im, gamma;
};

// The spiking layers' input projection: the sum of the columns of W (H, I) for the non-zero
// inputs (spikes are sparse), so W is kept transposed (I, H).
class SpikeProjection {
 public:
  SpikeProjection(const Tensor& w, int64_t I, int64_t H) : input(I), hidden(H), weight_t(static_cast<size_t>(I * H)) {
    for (int64_t j = 0; j < H; ++j)
      for (int64_t c = 0; c < I; ++c) weight_t[c * H + j] = w.data[j * I + c];
  }
  // drive (H) = W x, with the drive noise of o and its counts.
  void project(const float* x, float* drive, const StepOptions& o) const {
    std::fill(drive, drive + hidden, 0.0f);
    for (int64_t c = 0; c < input; ++c) {
      if (x[c] == 0.0f) continue;
      const float* column = weight_t.data() + c * hidden;
      for (int64_t j = 0; j < hidden; ++j) drive[j] += x[c] * column[j];
      if (o.counts) o.counts->input_events += 1, o.counts->macs += static_cast<uint64_t>(hidden);
    }
    if (o.noise) o.noise->drive(drive, hidden);
  }

 private:
  int64_t input, hidden;
  std::vector<float> weight_t;  // (I, H)
};

// ---- SRC (cells.md section 2): state [i; h; h_s], learned initial states, output spikes ReLU(h).
class SrcLayer : public Layer {
 public:
  SrcLayer(const TensorTable& t, const std::string& p, int64_t I, int64_t H, const Constants& k)
      : Layer(I, H), bias(t.get(p + "bias", {H})), rho(t.get(p + "rho", {H})), r(t.get(p + "r", {H})),
        r_s(t.get(p + "r_s", {H})), z_hyp(t.get(p + "z_hyp", {H})), z_dep(t.get(p + "z_dep", {H})),
        initial_i(t.get(p + "initial_i", {H})), initial_h(t.get(p + "initial_h", {H})),
        initial_hs(t.get(p + "initial_hs", {H})), alpha(k.src_alpha), projection(t.get(p + "weight", {H, I}), I, H) {}
  int64_t state_size() const override { return 3 * hidden; }
  int64_t scratch_size() const override { return hidden; }
  void initial_state(float* state) const override {
    std::copy(initial_i.data.begin(), initial_i.data.end(), state);
    std::copy(initial_h.data.begin(), initial_h.data.end(), state + hidden);
    std::copy(initial_hs.data.begin(), initial_hs.data.end(), state + 2 * hidden);
  }
  void step(const float* x, float* state, float* out, float* drive, const StepOptions& o) const override {
    const int64_t H = hidden;
    projection.project(x, drive, o);
    float *i = state, *h = state + H, *h_s = state + 2 * H;
    for (int64_t j = 0; j < H; ++j) {
      const cells::SrcConstants<float> k{alpha, rho.data[j], r.data[j], r_s.data[j], z_hyp.data[j], z_dep.data[j], bias.data[j]};
      const auto next = cells::src_forward(k, drive[j], cells::SrcState<float>{i[j], h[j], h_s[j]});
      i[j] = next.i, h[j] = next.h, h_s[j] = next.h_s;
    }
    finish_state(state, 3 * H, o);
    for (int64_t j = 0; j < H; ++j) out[j] = std::max(h[j], 0.0f);
    if (o.counts)
      for (int64_t j = 0; j < H; ++j) o.counts->spikes += out[j] > 0.0f;
  }

 private:
  const Tensor &bias, &rho, &r, &r_s, &z_hyp, &z_dep, &initial_i, &initial_h, &initial_hs;
  float alpha;
  SpikeProjection projection;
};

// ---- LIF (cells.md section 2, "LIF baseline"): state [u], learned initial membrane, output
// spikes H(u - theta) (0/1). The input projection is SRC's.
class LifLayer : public Layer {
 public:
  LifLayer(const TensorTable& t, const std::string& p, int64_t I, int64_t H, const Constants& k)
      : Layer(I, H), bias(t.get(p + "bias", {H})), initial_u(t.get(p + "initial_u", {H})), beta(k.lif_beta),
        threshold(k.lif_threshold), projection(t.get(p + "weight", {H, I}), I, H) {}
  int64_t state_size() const override { return hidden; }
  int64_t scratch_size() const override { return hidden; }
  void initial_state(float* state) const override { std::copy(initial_u.data.begin(), initial_u.data.end(), state); }
  void step(const float* x, float* state, float* out, float* drive, const StepOptions& o) const override {
    const int64_t H = hidden;
    projection.project(x, drive, o);
    for (int64_t j = 0; j < H; ++j) {
      // the slope shapes only the training gradient: the runtime does not need it
      const cells::LifConstants<float> k{beta, threshold, 0.0f, bias.data[j]};
      state[j] = cells::lif_forward(k, drive[j], state[j]);
    }
    finish_state(state, H, o);
    for (int64_t j = 0; j < H; ++j) {
      out[j] = cells::lif_spike(cells::LifConstants<float>{beta, threshold, 0.0f, 0.0f}, state[j]);
      if (o.counts) o.counts->spikes += out[j] > 0.0f;
    }
  }

 private:
  const Tensor &bias, &initial_u;
  float beta, threshold;
  SpikeProjection projection;
};

// Two layers of H/2 on the same input, outputs and states side by side [first; second]: a
// double layer (two cells of one kind) or a hybrid (an MRU block and an LRU block).
class PairLayer : public Layer {
 public:
  PairLayer(const std::string& first_kind, const std::string& second_kind, const TensorTable& t, const std::string& p,
            int64_t I, int64_t H, const Constants& k)
      : Layer(I, H), first(make_layer(first_kind, t, p + "first.", I, H / 2, k)),
        second(make_layer(second_kind, t, p + "second.", I, H - H / 2, k)) {}
  int64_t state_size() const override { return first->state_size() + second->state_size(); }
  int64_t scratch_size() const override { return std::max(first->scratch_size(), second->scratch_size()); }
  void step(const float* x, float* state, float* out, float* scratch, const StepOptions& o) const override {
    first->step(x, state, out, scratch, o);
    second->step(x, state + first->state_size(), out + first->hidden, scratch, o);
  }

 private:
  std::unique_ptr<Layer> first, second;
};

// ---- The layer kinds: one row per cell, what make_layer builds and supported_layer_kinds() lists

using Factory = std::unique_ptr<Layer> (*)(const TensorTable& t, const std::string& p, int64_t I, int64_t H,
                                           const Constants& k);

template <class L>
std::unique_ptr<Layer> sequential(const TensorTable& t, const std::string& p, int64_t I, int64_t H, const Constants&) {
  return std::make_unique<L>(t, p, I, H);
}
template <class L>
std::unique_ptr<Layer> block(const TensorTable& t, const std::string& p, int64_t I, int64_t H, const Constants& k) {
  return std::make_unique<L>(t, p, I, H, k);
}
template <MruKind kind>
std::unique_ptr<Layer> mru(const TensorTable& t, const std::string& p, int64_t I, int64_t H, const Constants& k) {
  return std::make_unique<MruBlock>(t, p, I, H, k, kind);
}

struct LayerKind {
  const char* name;
  Factory make;                // a layer of one cell, or
  const char *first, *second;  // a pair of two (the hybrids: an MRU block and an LRU block, H/2 each)
};

// The cells of a sequence model in the order of the library's registry (nn/layers.cpp,
// cell_kind_names()), which a test holds this list to.
const std::vector<LayerKind>& layer_kinds() {
  static const std::vector<LayerKind> kinds = {
      {"brc", sequential<BrcLayer>, nullptr, nullptr},
      {"nbrc", sequential<NbrcLayer>, nullptr, nullptr},
      {"gru", sequential<GruLayer>, nullptr, nullptr},
      {"lstm", sequential<LstmLayer>, nullptr, nullptr},
      {"mgu", sequential<MguLayer>, nullptr, nullptr},
      {"bmru", mru<MruKind::bmru>, nullptr, nullptr},
      {"cmru", mru<MruKind::cmru>, nullptr, nullptr},
      {"acmru", mru<MruKind::acmru>, nullptr, nullptr},
      {"fq-bmru", mru<MruKind::fq_bmru>, nullptr, nullptr},
      {"mingru", block<MinGruBlock>, nullptr, nullptr},
      {"lru", block<LruBlock>, nullptr, nullptr},
      {"hybrid-bmru-lru", nullptr, "bmru", "lru"},
      {"hybrid-cmru-lru", nullptr, "cmru", "lru"},
      {"hybrid-acmru-lru", nullptr, "acmru", "lru"},
  };
  return kinds;
}

}  // namespace

std::unique_ptr<Layer> make_layer(const std::string& kind, const TensorTable& t, const std::string& prefix, int64_t I,
                                  int64_t H, const Constants& k) {
  for (const auto& entry : layer_kinds()) {
    if (kind != entry.name) continue;
    if (entry.make) return entry.make(t, prefix, I, H, k);
    if (H % 2) throw Error(t.what() + ": a " + kind + " layer needs an even width, got " + std::to_string(H));
    return make_pair_layer(entry.first, entry.second, t, prefix, I, H, k);
  }
  // SRC and LIF are no cells of a sequence model but the layers of an src-classifier (the model
  // checks which).
  if (kind == "src") return std::make_unique<SrcLayer>(t, prefix, I, H, k);
  if (kind == "lif") return std::make_unique<LifLayer>(t, prefix, I, H, k);
  std::string supported;
  for (const auto& name : supported_layer_kinds()) supported += name + ", ";
  throw Error(t.what() + ": layer kind '" + kind + "' is not supported by this runtime (supported: " + supported +
              "src and lif in an src-classifier, and pairs of them)");
}

std::unique_ptr<Layer> make_pair_layer(const std::string& first_kind, const std::string& second_kind, const TensorTable& t,
                                       const std::string& prefix, int64_t I, int64_t H, const Constants& k) {
  return std::make_unique<PairLayer>(first_kind, second_kind, t, prefix, I, H, k);
}

}  // namespace ncrt::detail

namespace ncrt {

const std::vector<std::string>& supported_layer_kinds() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& entry : detail::layer_kinds()) out.push_back(entry.name);
    return out;
  }();
  return names;
}

}  // namespace ncrt
