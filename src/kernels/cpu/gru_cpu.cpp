// GRU: one GEMM per step, gh = h W_hh^T + b_hh (rows, 3H), then the pointwise math.
// Saved: [r, z, n, W_n h + b_hn] per (t, b).
#include "kernels/cpu/simd.h"

namespace neurocell::kernels::CPU_CAPABILITY {

template <class T>
static void gru_forward_impl(const KernelArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    std::vector<T> hidden_gates(rows * 3 * H);  // (rows, 3H) h W_hh^T
    for (int64_t t = 0; t < k.steps; ++t) {
      const T* h_prev_block = t ? k.h_seq + ((t - 1) * B + b0) * H : k.h0 + b0 * H;
      gemm<T>(false, true, rows, 3 * H, H, T(1), h_prev_block, H, k.weight_hh, H, T(0), hidden_gates.data(), 3 * H);
      for (int64_t b = b0; b < b1; ++b) {
        const T* gi = k.drive + (t * B + b) * 3 * H;
        const T* gh = hidden_gates.data() + (b - b0) * 3 * H;
        const T* h_prev = h_prev_block + (b - b0) * H;
        T* h_out = k.h_seq + (t * B + b) * H;
        T* saved = k.saved + (t * B + b) * 4 * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          cells::GruGates<V> g;
          const V gh_n = load(gh + 2 * H + j, v) + load(k.bias_hh + 2 * H + j, v);
          store(h_out + j, cells::gru_forward(load(gi + j, v), load(gi + H + j, v), load(gi + 2 * H + j, v),
                                              load(gh + j, v) + load(k.bias_hh + j, v),
                                              load(gh + H + j, v) + load(k.bias_hh + H + j, v), gh_n,
                                              load(h_prev + j, v), g), v);
          store(saved + j, g.r, v);
          store(saved + H + j, g.z, v);
          store(saved + 2 * H + j, g.n, v);
          store(saved + 3 * H + j, gh_n, v);
        });
      }
    }
  });
}

template <class T>
static void gru_backward_impl(const KernelArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    std::vector<T> carry(rows * H, T(0));
    for (int64_t t = k.steps - 1; t >= 0; --t) {
      for (int64_t b = b0; b < b1; ++b) {
        const T* h_prev = t ? k.h_seq + ((t - 1) * B + b) * H : k.h0 + b * H;
        const T* saved = k.saved + (t * B + b) * 4 * H;
        const T* d_out = k.d_h_seq + (t * B + b) * H;
        T* d_gi = k.d_drive + (t * B + b) * 3 * H;
        T* d_gh = k.d_recurrent + (t * B + b) * 3 * H;
        T* d_h = carry.data() + (b - b0) * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          const V dh = load(d_h + j, v) + load(d_out + j, v);
          const cells::GruGates<V> g{load(saved + j, v), load(saved + H + j, v), load(saved + 2 * H + j, v)};
          V d_r, d_z, d_n;
          store(d_h + j, cells::gru_backward(dh, load(h_prev + j, v), load(saved + 3 * H + j, v), g, d_r, d_z, d_n), v);
          store(d_gi + j, d_r, v);
          store(d_gi + H + j, d_z, v);
          store(d_gi + 2 * H + j, d_n, v);
          store(d_gh + j, d_r, v);
          store(d_gh + H + j, d_z, v);
          store(d_gh + 2 * H + j, d_n * g.r, v);
        });
      }
      gemm<T>(false, false, rows, H, 3 * H, T(1), k.d_recurrent + (t * B + b0) * 3 * H, 3 * H, k.weight_hh, H,
              T(1), carry.data(), H);
    }
    std::copy(carry.begin(), carry.end(), k.d_h0 + b0 * H);
  });
}

NEUROCELL_DEFINE_KERNEL(gru_forward)
NEUROCELL_DEFINE_KERNEL(gru_backward)

}  // namespace neurocell::kernels::CPU_CAPABILITY
