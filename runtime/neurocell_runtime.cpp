// The .ncm loader and the per-layer steps of the dependency-free runtime (see the header).
// Shapes in comments are of one sequence (no batch): x (I), h (H), W (rows, cols) row-major.
#include "neurocell_runtime.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "cells/bistable.h"
#include "cells/gru.h"
#include "cells/lstm.h"
#include "cells/mgu.h"
#include "cells/mru.h"
#include "cells/spiking.h"

namespace ncrt {

namespace cells = neurocell::cells;

uint32_t crc32(const unsigned char* data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

namespace {

constexpr char kMagic[4] = {'N', 'C', 'M', '\0'};
constexpr uint32_t kVersion = 1;

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  const float* ptr() const { return data.data(); }
};

// The tensors of a file by name, and what the layers need to find theirs with clear errors.
class TensorTable {
 public:
  TensorTable(std::map<std::string, Tensor> tensors, std::string what) : tensors_(std::move(tensors)), what_(std::move(what)) {}

  const Tensor& get(const std::string& name, const std::vector<int64_t>& shape) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end())
      throw Error(what_ + ": tensor '" + name + "' is missing (re-export the model with `neurocell export`)");
    if (it->second.shape != shape)
      throw Error(what_ + ": tensor '" + name + "' has shape " + text(it->second.shape) + ", expected " + text(shape));
    used_.push_back(name);
    return it->second;
  }
  const std::string& what() const { return what_; }
  const Tensor& any(const std::string& name) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw Error(what_ + ": tensor '" + name + "' is missing");
    return it->second;
  }
  // Tensors no layer asked for: a file from a different model than its header says.
  void check_all_used() const {
    for (const auto& [name, tensor] : tensors_)
      if (std::find(used_.begin(), used_.end(), name) == used_.end())
        throw Error(what_ + ": tensor '" + name + "' belongs to no layer of the model the header describes");
  }
  static std::string text(const std::vector<int64_t>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + ")";
  }

 private:
  std::map<std::string, Tensor> tensors_;
  std::string what_;
  mutable std::vector<std::string> used_;
};

struct Constants {
  int64_t cmru_levels = 2;
  float fq_theta_on = 0.75f, fq_theta_off = 0.25f;
  float layer_norm_eps = 1e-5f;
  float src_alpha = 0.9f;  // SRC: leak of the input integrator
  float logit_scale = 0;   // SRC classifier: logits = logit_scale * R sum_t s[t]
};

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

// y (rows) = W x (+ b), W (rows, cols); counted when counts is given.
void matvec(const Tensor& w, const float* x, float* y, const Tensor* b = nullptr, OpCounts* counts = nullptr) {
  const int64_t rows = w.shape[0], cols = w.shape[1];
  if (counts) counts->macs += static_cast<uint64_t>(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float sum = dot(w.ptr() + r * cols, x, cols);
    y[r] = b ? sum + b->data[r] : sum;
  }
}

float sigmoid(float x) { return cells::sigmoid_(x); }
float gelu(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }

// After a continuous state's update: count the values written, add the state noise.
void finish_state(float* state, int64_t n, const StepOptions& o) {
  if (o.counts) o.counts->state_updates += static_cast<uint64_t>(n);
  if (o.noise && o.noise->has_state_noise()) o.noise->state(state, n);
}

class Layer {
 public:
  Layer(int64_t input, int64_t hidden) : input(input), hidden(hidden) {}
  virtual ~Layer() = default;
  virtual int64_t state_size() const = 0;
  virtual int64_t scratch_size() const = 0;
  virtual void initial_state(float* state) const { std::fill(state, state + state_size(), 0.0f); }
  // x (input) -> out (hidden); state (state_size) updated in place; o: noise and counts.
  virtual void step(const float* x, float* state, float* out, float* scratch, const StepOptions& o) const = 0;
  const int64_t input, hidden;
};

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

enum class MruKind { bmru, cmru, acmru, fq_bmru };

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

// ---- SRC (cells.md section 2): state [i; h; h_s], learned initial states, output spikes ReLU(h).
// The input projection sums the columns of W for the non-zero inputs (spikes are sparse),
// so W is kept transposed.
class SrcLayer : public Layer {
 public:
  SrcLayer(const TensorTable& t, const std::string& p, int64_t I, int64_t H, const Constants& k)
      : Layer(I, H), bias(t.get(p + "bias", {H})), rho(t.get(p + "rho", {H})), r(t.get(p + "r", {H})),
        r_s(t.get(p + "r_s", {H})), z_hyp(t.get(p + "z_hyp", {H})), z_dep(t.get(p + "z_dep", {H})),
        initial_i(t.get(p + "initial_i", {H})), initial_h(t.get(p + "initial_h", {H})),
        initial_hs(t.get(p + "initial_hs", {H})), alpha(k.src_alpha) {
    const auto& w = t.get(p + "weight", {H, I});
    weight_t.resize(static_cast<size_t>(I * H));
    for (int64_t j = 0; j < H; ++j)
      for (int64_t c = 0; c < I; ++c) weight_t[c * H + j] = w.data[j * I + c];
  }
  int64_t state_size() const override { return 3 * hidden; }
  int64_t scratch_size() const override { return hidden; }
  void initial_state(float* state) const override {
    std::copy(initial_i.data.begin(), initial_i.data.end(), state);
    std::copy(initial_h.data.begin(), initial_h.data.end(), state + hidden);
    std::copy(initial_hs.data.begin(), initial_hs.data.end(), state + 2 * hidden);
  }
  void step(const float* x, float* state, float* out, float* drive, const StepOptions& o) const override {
    const int64_t H = hidden;
    std::fill(drive, drive + H, 0.0f);
    for (int64_t c = 0; c < input; ++c) {
      if (x[c] == 0.0f) continue;
      const float* column = weight_t.data() + c * H;
      for (int64_t j = 0; j < H; ++j) drive[j] += x[c] * column[j];
      if (o.counts) o.counts->input_events += 1, o.counts->macs += static_cast<uint64_t>(H);
    }
    if (o.noise) o.noise->drive(drive, H);
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
  std::vector<float> weight_t;  // (I, H)
  const Tensor &bias, &rho, &r, &r_s, &z_hyp, &z_dep, &initial_i, &initial_h, &initial_hs;
  float alpha;
};

std::unique_ptr<Layer> make_layer(const std::string& kind, const TensorTable& t, const std::string& prefix, int64_t I,
                                  int64_t H, const Constants& k);

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

std::unique_ptr<Layer> make_layer(const std::string& kind, const TensorTable& t, const std::string& prefix, int64_t I,
                                  int64_t H, const Constants& k) {
  if (kind == "brc") return std::make_unique<BrcLayer>(t, prefix, I, H);
  if (kind == "nbrc") return std::make_unique<NbrcLayer>(t, prefix, I, H);
  if (kind == "gru") return std::make_unique<GruLayer>(t, prefix, I, H);
  if (kind == "lstm") return std::make_unique<LstmLayer>(t, prefix, I, H);
  if (kind == "mgu") return std::make_unique<MguLayer>(t, prefix, I, H);
  if (kind == "bmru") return std::make_unique<MruBlock>(t, prefix, I, H, k, MruKind::bmru);
  if (kind == "cmru") return std::make_unique<MruBlock>(t, prefix, I, H, k, MruKind::cmru);
  if (kind == "acmru") return std::make_unique<MruBlock>(t, prefix, I, H, k, MruKind::acmru);
  if (kind == "fq-bmru") return std::make_unique<MruBlock>(t, prefix, I, H, k, MruKind::fq_bmru);
  if (kind == "mingru") return std::make_unique<MinGruBlock>(t, prefix, I, H, k);
  if (kind == "lru") return std::make_unique<LruBlock>(t, prefix, I, H, k);
  if (kind == "src") return std::make_unique<SrcLayer>(t, prefix, I, H, k);
  throw Error(t.what() + ": layer kind '" + kind +
              "' is not supported by this runtime (supported: brc, nbrc, gru, lstm, mgu, bmru, cmru, acmru, "
              "fq-bmru, mingru, lru, src, and pairs of them)");
}

// ---- Reading the file

uint32_t read_u32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

int64_t parse_int(const std::string& word, const std::string& where) {
  try {
    size_t used = 0;
    const long long v = std::stoll(word, &used);
    if (used == word.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error(where + ": '" + word + "' is not an integer");
}

double parse_number(const std::string& word, const std::string& where) {
  try {
    size_t used = 0;
    const double v = std::stod(word, &used);
    if (used == word.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw Error(where + ": '" + word + "' is not a finite number");
}

struct LayerLine {
  std::string kind, first, second;  // kind "pair" uses first and second
  int64_t input = 0, hidden = 0;
};

// What the header says, kept so that a model with edited tensors can be built again.
struct Description {
  std::string model_kind, cell, what;
  int64_t input = 0, hidden = 0, output = 0;
  Constants constants;
  std::vector<LayerLine> layers;
};

}  // namespace

struct Model::Impl {
  bool classifier = false;  // "src-classifier": logits accumulated over time, kept in the state
  float logit_scale = 0;
  std::string cell;
  int64_t input = 0, hidden = 0, output = 0;
  std::vector<std::unique_ptr<Layer>> layers;
  std::vector<int64_t> state_offsets;  // per layer, then the total
  const Tensor* readout_w = nullptr;
  const Tensor* readout_b = nullptr;
  std::unique_ptr<TensorTable> tensors;
  int64_t scratch = 0;
  int64_t buffer_width = 0;  // the widest layer output
  Description description;
  std::vector<std::string> tensor_order;  // as in the file
};

namespace {
std::shared_ptr<Model::Impl> build(Description description, std::map<std::string, Tensor> tensors,
                                   std::vector<std::string> order);
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(path + ": cannot open the model file (write one with `neurocell export --checkpoint DIR --out FILE.ncm`)");
  std::ostringstream content;
  content << file.rdbuf();
  if (file.bad()) throw Error(path + ": read error");
  return content.str();
}

int64_t NcmTensor::count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string NcmFile::value(const std::string& key) const {
  for (const auto& line : lines)
    if (line.words.size() >= 2 && line.words[0] == key) return line.words[1];
  return "";
}

namespace {

int dtype_bytes(const std::string& dtype) {
  if (dtype == "f32" || dtype == "i32") return 4;
  if (dtype == "i16") return 2;
  if (dtype == "i8") return 1;
  return 0;
}

void append_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

}  // namespace

NcmFile read_ncm(const std::string& bytes, const std::string& what) {
  // Frame: magic, version, header length, header, data, checksum.
  if (bytes.size() < 16) throw Error(what + ": truncated (" + std::to_string(bytes.size()) + " bytes), not a .ncm model");
  if (std::memcmp(bytes.data(), kMagic, 4) != 0) throw Error(what + ": not a .ncm model (bad magic bytes)");
  const uint32_t version = read_u32(bytes, 4);
  if (version != kVersion)
    throw Error(what + ": .ncm version " + std::to_string(version) + ", this runtime reads version " +
                std::to_string(kVersion) + " (re-export with the matching neurocell)");
  const uint64_t header_bytes = read_u32(bytes, 8);
  if (12 + header_bytes + 4 > bytes.size()) throw Error(what + ": truncated (the header runs past the end of the file)");
  const uint32_t stored_crc = read_u32(bytes, bytes.size() - 4);
  const uint32_t actual_crc = crc32(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size() - 4);

  NcmFile file;
  std::istringstream header(bytes.substr(12, header_bytes));
  std::string line;
  uint64_t data_bytes = 0;
  for (int number = 1; std::getline(header, line); ++number) {
    const std::string where = what + ": header line " + std::to_string(number);
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string word; words >> word;) w.push_back(word);
    if (w.empty()) continue;
    if (w[0] != "tensor") {
      file.lines.push_back({number, w});
      continue;
    }
    if (w.size() < 4) throw Error(where + ": expected 'tensor NAME DTYPE DIM...'");
    NcmTensor t;
    t.dtype = w[2];
    if (dtype_bytes(t.dtype) == 0)
      throw Error(where + ": tensor '" + w[1] + "' has dtype '" + w[2] + "' (this runtime reads f32, i8, i16, i32)");
    for (size_t i = 3; i < w.size(); ++i) {
      t.shape.push_back(parse_int(w[i], where));
      if (t.shape.back() <= 0 || t.shape.back() > (int64_t{1} << 31)) throw Error(where + ": impossible dimension " + w[i]);
    }
    uint64_t count = 1;
    for (int64_t d : t.shape) count *= static_cast<uint64_t>(d);
    if (count > (uint64_t{1} << 32)) throw Error(what + ": tensor '" + w[1] + "' is impossibly large");
    data_bytes += count * static_cast<uint64_t>(dtype_bytes(t.dtype));
    if (!file.tensors.emplace(w[1], std::move(t)).second) throw Error(what + ": tensor '" + w[1] + "' appears twice");
    file.tensor_order.push_back(w[1]);
  }

  // Tensor data: exactly the bytes the header announces, then the checksum.
  const uint64_t expected = 12 + header_bytes + data_bytes + 4;
  if (bytes.size() < expected)
    throw Error(what + ": truncated: the header announces " + std::to_string(expected) + " bytes, the file has " +
                std::to_string(bytes.size()) + " (re-export or copy the file again)");
  if (bytes.size() > expected)
    throw Error(what + ": " + std::to_string(bytes.size() - expected) + " unexpected bytes after the tensors (corrupt file)");
  if (stored_crc != actual_crc) throw Error(what + ": checksum mismatch, the file is corrupt (re-export or copy it again)");

  size_t at = 12 + header_bytes;
  for (const auto& name : file.tensor_order) {
    auto& t = file.tensors[name];
    const auto count = static_cast<size_t>(t.count());
    const int size = dtype_bytes(t.dtype);
    if (t.dtype == "f32") t.floats.resize(count);
    else t.ints.resize(count);
    for (size_t i = 0; i < count; ++i, at += size) {
      if (t.dtype == "f32") {
        const uint32_t u = read_u32(bytes, at);
        std::memcpy(&t.floats[i], &u, 4);
        if (!std::isfinite(t.floats[i])) throw Error(what + ": tensor '" + name + "' holds a NaN or infinite value");
      } else {
        uint32_t u = 0;
        for (int b = size - 1; b >= 0; --b) u = (u << 8) | static_cast<unsigned char>(bytes[at + b]);
        const int shift = 32 - 8 * size;  // sign-extend
        t.ints[i] = static_cast<int32_t>(u << shift) >> shift;
      }
    }
  }
  return file;
}

std::string write_ncm(const std::string& header_lines, const std::vector<std::pair<std::string, NcmTensor>>& tensors) {
  std::string text = header_lines, data;
  if (!text.empty() && text.back() != '\n') text += '\n';
  for (const auto& [name, t] : tensors) {
    const int size = dtype_bytes(t.dtype);
    if (size == 0) throw Error("tensor '" + name + "': unknown dtype '" + t.dtype + "'");
    const bool floats = t.dtype == "f32";
    if (static_cast<int64_t>(floats ? t.floats.size() : t.ints.size()) != t.count())
      throw Error("tensor '" + name + "': its values do not fill its shape");
    text += "tensor " + name + " " + t.dtype;
    for (int64_t d : t.shape) text += " " + std::to_string(d);
    text += "\n";
    const int64_t lo = size == 1 ? -128 : size == 2 ? -32768 : INT32_MIN, hi = size == 1 ? 127 : size == 2 ? 32767 : INT32_MAX;
    for (int64_t i = 0; i < t.count(); ++i) {
      uint32_t u;
      if (floats) {
        if (!std::isfinite(t.floats[i])) throw Error("tensor '" + name + "' holds NaN or Inf");
        std::memcpy(&u, &t.floats[i], 4);
      } else {
        if (t.ints[i] < lo || t.ints[i] > hi)
          throw Error("tensor '" + name + "': " + std::to_string(t.ints[i]) + " does not fit in " + t.dtype);
        u = static_cast<uint32_t>(t.ints[i]);
      }
      for (int b = 0; b < size; ++b) data.push_back(static_cast<char>((u >> (8 * b)) & 0xFFu));
    }
  }
  std::string out(kMagic, 4);
  append_u32(out, kVersion);
  append_u32(out, static_cast<uint32_t>(text.size()));
  out += text;
  out += data;
  append_u32(out, crc32(reinterpret_cast<const unsigned char*>(out.data()), out.size()));
  return out;
}

Model Model::load(const std::string& path) { return parse(read_file_bytes(path), path); }

Model Model::parse(const std::string& bytes, const std::string& what) {
  const NcmFile file = read_ncm(bytes, what);
  if (file.value("model") == "integer-src")
    throw Error(what + ": an integer SRC (model integer-src): load it with ncrt::IntegerSrc::load (integer_src.h)");
  Description d;
  d.what = what;
  Constants& constants = d.constants;
  int64_t layer_count = -1;
  for (const auto& [number, w] : file.lines) {
    const std::string where = what + ": header line " + std::to_string(number);
    auto need = [&](size_t n) {
      if (w.size() != n) throw Error(where + ": '" + w[0] + "' takes " + std::to_string(n - 1) + " values");
    };
    if (w[0] == "model") need(2), d.model_kind = w[1];
    else if (w[0] == "cell") need(2), d.cell = w[1];
    else if (w[0] == "input") need(2), d.input = parse_int(w[1], where);
    else if (w[0] == "hidden") need(2), d.hidden = parse_int(w[1], where);
    else if (w[0] == "output") need(2), d.output = parse_int(w[1], where);
    else if (w[0] == "layers") need(2), layer_count = parse_int(w[1], where);
    else if (w[0] == "layer") {
      LayerLine l;
      if (w.size() == 5) l.kind = w[2];
      else if (w.size() == 7 && w[2] == "pair") l.kind = "pair", l.first = w[3], l.second = w[4];
      else throw Error(where + ": expected 'layer L KIND INPUT HIDDEN' or 'layer L pair FIRST SECOND INPUT HIDDEN'");
      if (parse_int(w[1], where) != static_cast<int64_t>(d.layers.size()))
        throw Error(where + ": layers must be listed in order, expected layer " + std::to_string(d.layers.size()));
      l.input = parse_int(w[w.size() - 2], where);
      l.hidden = parse_int(w.back(), where);
      d.layers.push_back(l);
    } else if (w[0] == "constant") {
      need(3);
      const double v = parse_number(w[2], where);
      if (w[1] == "cmru_levels") constants.cmru_levels = static_cast<int64_t>(v);
      else if (w[1] == "fq_theta_on") constants.fq_theta_on = static_cast<float>(v);
      else if (w[1] == "fq_theta_off") constants.fq_theta_off = static_cast<float>(v);
      else if (w[1] == "layer_norm_eps") constants.layer_norm_eps = static_cast<float>(v);
      else if (w[1] == "src_alpha") constants.src_alpha = static_cast<float>(v);
      else if (w[1] == "logit_scale") constants.logit_scale = static_cast<float>(v);
      else throw Error(where + ": unknown constant '" + w[1] + "'");
    } else {
      throw Error(where + ": unknown item '" + w[0] + "'");
    }
  }
  if (d.model_kind != "sequence" && d.model_kind != "src-classifier")
    throw Error(what + ": model kind '" + d.model_kind +
                "' is not supported (this runtime runs 'sequence' and 'src-classifier' models)");
  if (d.model_kind == "src-classifier" && !(constants.logit_scale > 0))
    throw Error(what + ": an src-classifier needs a positive 'constant logit_scale'");
  if (d.input <= 0 || d.hidden <= 0 || d.output <= 0 || layer_count <= 0)
    throw Error(what + ": the header must give positive input, hidden, output and layers");
  if (static_cast<int64_t>(d.layers.size()) != layer_count)
    throw Error(what + ": the header announces " + std::to_string(layer_count) + " layers and describes " +
                std::to_string(d.layers.size()));
  if (constants.cmru_levels < 2) throw Error(what + ": constant cmru_levels must be >= 2");

  std::map<std::string, Tensor> tensors;
  for (const auto& name : file.tensor_order) {
    const auto& t = file.tensors.at(name);
    if (t.dtype != "f32")
      throw Error(what + ": header: tensor '" + name + "' has dtype '" + t.dtype + "', a float model holds f32 tensors");
    tensors.emplace(name, Tensor{t.shape, t.floats});
  }
  Model model;
  model.impl_ = build(std::move(d), std::move(tensors), file.tensor_order);
  return model;
}

namespace {

// The layers and the readout of a described model over its tensors (every check that needs both).
std::shared_ptr<Model::Impl> build(Description d, std::map<std::string, Tensor> tensors, std::vector<std::string> order) {
  const std::string what = d.what;
  const Constants& constants = d.constants;
  const std::vector<LayerLine>& layer_lines = d.layers;
  auto impl = std::make_shared<Model::Impl>();
  impl->classifier = d.model_kind == "src-classifier";
  impl->logit_scale = constants.logit_scale;
  impl->cell = d.cell;
  impl->input = d.input, impl->hidden = d.hidden, impl->output = d.output;
  impl->tensors = std::make_unique<TensorTable>(std::move(tensors), what);

  // Layers, then the readout.
  int64_t width = impl->input, offset = 0;
  for (size_t l = 0; l < layer_lines.size(); ++l) {
    const auto& line_l = layer_lines[l];
    if (line_l.input != width)
      throw Error(what + ": layer " + std::to_string(l) + " reads " + std::to_string(line_l.input) +
                  " features but the previous layer gives " + std::to_string(width));
    if (line_l.hidden <= 0) throw Error(what + ": layer " + std::to_string(l) + " has no units");
    // A sequence model's layers all have the hidden width; an SRC classifier's last layer has
    // classes x readout_factor neurons.
    if (!impl->classifier && line_l.hidden != impl->hidden)
      throw Error(what + ": layer " + std::to_string(l) + " has " + std::to_string(line_l.hidden) +
                  " units but the model's hidden size is " + std::to_string(impl->hidden));
    if (impl->classifier != (line_l.kind == "src"))
      throw Error(what + ": layer " + std::to_string(l) + " is '" + line_l.kind + "', but " +
                  (impl->classifier ? "an src-classifier has SRC layers only" : "SRC layers need model src-classifier"));
    const std::string prefix = (impl->classifier ? "layer" : "stack.layer") + std::to_string(l) + ".";
    if (line_l.kind == "pair") {
      if (line_l.hidden % 2) throw Error(what + ": a pair layer needs an even width, got " + std::to_string(line_l.hidden));
      impl->layers.push_back(std::make_unique<PairLayer>(line_l.first, line_l.second, *impl->tensors, prefix,
                                                         line_l.input, line_l.hidden, constants));
    } else {
      impl->layers.push_back(make_layer(line_l.kind, *impl->tensors, prefix, line_l.input, line_l.hidden, constants));
    }
    impl->state_offsets.push_back(offset);
    offset += impl->layers.back()->state_size();
    impl->scratch = std::max(impl->scratch, impl->layers.back()->scratch_size());
    width = line_l.hidden;
    impl->buffer_width = std::max(impl->buffer_width, width);
  }
  if (impl->classifier) {  // the frozen readout R (C, H_last); the logits so far live in the state
    impl->readout_w = &impl->tensors->get("readout", {impl->output, width});
    impl->state_offsets.push_back(offset);
    offset += impl->output;
  } else {
    impl->readout_w = &impl->tensors->get("readout.weight", {impl->output, width});
    impl->readout_b = &impl->tensors->get("readout.bias", {impl->output});
  }
  impl->state_offsets.push_back(offset);
  impl->tensors->check_all_used();
  impl->scratch += 2 * impl->buffer_width;  // the ping-pong layer outputs
  impl->description = std::move(d);
  impl->tensor_order = std::move(order);
  return impl;
}

}  // namespace

Model Model::with_edited_tensors(const TensorEdit& edit) const {
  std::map<std::string, Tensor> tensors;
  for (const auto& name : impl_->tensor_order) {
    Tensor t = impl_->tensors->any(name);
    edit(name, t.shape, t.data);
    const size_t count = t.data.size();
    size_t expected = 1;
    for (int64_t dim : t.shape) expected *= static_cast<size_t>(dim);
    if (count != expected) throw Error(impl_->description.what + ": an edit changed the size of tensor '" + name + "'");
    for (float v : t.data)
      if (!std::isfinite(v)) throw Error(impl_->description.what + ": an edit made tensor '" + name + "' non-finite");
    tensors.emplace(name, std::move(t));
  }
  Model model;
  model.impl_ = build(impl_->description, std::move(tensors), impl_->tensor_order);
  return model;
}

std::vector<std::string> Model::tensor_names() const { return impl_->tensor_order; }

AnalogNoise::AnalogNoise(double drive_sigma, double state_sigma, uint64_t seed)
    : drive_sigma_(static_cast<float>(drive_sigma)), state_sigma_(static_cast<float>(state_sigma)), engine_(seed) {
  if (!(drive_sigma >= 0) || !(state_sigma >= 0)) throw Error("analog noise: the standard deviations must be >= 0");
}

void AnalogNoise::drive(float* values, int64_t n) {
  if (drive_sigma_ > 0)
    for (int64_t i = 0; i < n; ++i) values[i] += drive_sigma_ * normal_(engine_);
}

void AnalogNoise::state(float* values, int64_t n) {
  if (state_sigma_ > 0)
    for (int64_t i = 0; i < n; ++i) values[i] += state_sigma_ * normal_(engine_);
}

const std::string& Model::cell() const { return impl_->cell; }
int64_t Model::input_size() const { return impl_->input; }
int64_t Model::hidden_size() const { return impl_->hidden; }
int64_t Model::output_size() const { return impl_->output; }
int64_t Model::layers() const { return static_cast<int64_t>(impl_->layers.size()); }
int64_t Model::state_size() const { return impl_->state_offsets.back(); }
int64_t Model::scratch_size() const { return impl_->scratch; }

const std::vector<float>& Model::tensor(const std::string& name) const { return impl_->tensors->any(name).data; }
std::vector<int64_t> Model::tensor_shape(const std::string& name) const { return impl_->tensors->any(name).shape; }
bool Model::is_src_classifier() const { return impl_->classifier; }

void Model::initial_state(float* state) const {
  std::fill(state, state + state_size(), 0.0f);
  for (size_t l = 0; l < impl_->layers.size(); ++l) impl_->layers[l]->initial_state(state + impl_->state_offsets[l]);
}

void Model::step(const float* x, float* state, float* y, float* scratch) const {
  step(x, state, y, scratch, StepOptions{});
}

void Model::step(const float* x, float* state, float* y, float* scratch, const StepOptions& options) const {
  if (options.counts) options.counts->steps += 1;
  const int64_t width = impl_->buffer_width;
  float* buffers[2] = {scratch, scratch + width};
  float* layer_scratch = scratch + 2 * width;
  const float* in = x;
  for (size_t l = 0; l < impl_->layers.size(); ++l) {
    float* out = buffers[l % 2];
    impl_->layers[l]->step(in, state + impl_->state_offsets[l], out, layer_scratch, options);
    in = out;
  }
  if (!impl_->classifier) {
    matvec(*impl_->readout_w, in, y, impl_->readout_b, options.counts);
    return;
  }
  // logits += logit_scale R s_t; y = the logits so far (argmax after the last step: the class)
  float* logits = state + impl_->state_offsets[impl_->layers.size()];
  matvec(*impl_->readout_w, in, y, nullptr, options.counts);
  for (int64_t c = 0; c < impl_->output; ++c) y[c] = logits[c] += impl_->logit_scale * y[c];
}

Stream::Stream(Model model)
    : model_(std::move(model)), state_(model_.state_size()), scratch_(model_.scratch_size()), output_(model_.output_size()) {
  reset();
}

void Stream::reset() { model_.initial_state(state_.data()); }

const float* Stream::step(const float* x) {
  model_.step(x, state_.data(), output_.data(), scratch_.data());
  return output_.data();
}

}  // namespace ncrt
