// nBRC: the gates read the whole previous state through W_hh = [W_a; W_c] (2H, H), one
// GEMM per step for the thread's block of batch rows, then the pointwise math of BRC.
// Saved: [a, c, n] per (t, b).
#include "kernels/cpu/simd.h"

namespace neurocell::kernels::CPU_CAPABILITY {

template <class T>
static void nbrc_forward_impl(const KernelArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    std::vector<T> recurrent(rows * 2 * H);  // (rows, 2H): [W_a h | W_c h]
    for (int64_t t = 0; t < k.steps; ++t) {
      const T* h_prev_block = t ? k.h_seq + ((t - 1) * B + b0) * H : k.h0 + b0 * H;
      gemm<T>(false, true, rows, 2 * H, H, T(1), h_prev_block, H, k.weight_hh, H, T(0), recurrent.data(), 2 * H);
      for (int64_t b = b0; b < b1; ++b) {
        const T* drive = k.drive + (t * B + b) * 3 * H;
        const T* rec = recurrent.data() + (b - b0) * 2 * H;
        const T* h_prev = h_prev_block + (b - b0) * H;
        T* h_out = k.h_seq + (t * B + b) * H;
        T* saved = k.saved + (t * B + b) * 3 * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          cells::BistableGates<V> g;
          const V pre_a = load(drive + j, v) + load(rec + j, v);
          const V pre_c = load(drive + H + j, v) + load(rec + H + j, v);
          store(h_out + j, cells::bistable_forward(pre_a, pre_c, load(drive + 2 * H + j, v), load(h_prev + j, v), g), v);
          store(saved + j, g.a, v);
          store(saved + H + j, g.c, v);
          store(saved + 2 * H + j, g.n, v);
        });
      }
    }
  });
}

template <class T>
static void nbrc_backward_impl(const KernelArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    std::vector<T> carry(rows * H, T(0));  // dL/dh_t through h_{t+1}
    for (int64_t t = k.steps - 1; t >= 0; --t) {
      for (int64_t b = b0; b < b1; ++b) {
        const T* h_prev = t ? k.h_seq + ((t - 1) * B + b) * H : k.h0 + b * H;
        const T* saved = k.saved + (t * B + b) * 3 * H;
        const T* d_out = k.d_h_seq + (t * B + b) * H;
        T* d_drive = k.d_drive + (t * B + b) * 3 * H;
        T* d_h = carry.data() + (b - b0) * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          const V dh = load(d_h + j, v) + load(d_out + j, v);
          const cells::BistableGates<V> g{load(saved + j, v), load(saved + H + j, v), load(saved + 2 * H + j, v)};
          V d_a, d_c, d_n;
          store(d_h + j, cells::bistable_backward(dh, load(h_prev + j, v), g, d_a, d_c, d_n), v);
          store(d_drive + j, d_a, v);
          store(d_drive + H + j, d_c, v);
          store(d_drive + 2 * H + j, d_n, v);
        });
      }
      // carry += [d_a | d_c] W_hh: the gate gradients of this step, rows of stride 3H.
      gemm<T>(false, false, rows, H, 2 * H, T(1), k.d_drive + (t * B + b0) * 3 * H, 3 * H, k.weight_hh, H,
              T(1), carry.data(), H);
    }
    std::copy(carry.begin(), carry.end(), k.d_h0 + b0 * H);
  });
}

NEUROCELL_DEFINE_KERNEL(nbrc_forward)
NEUROCELL_DEFINE_KERNEL(nbrc_backward)

}  // namespace neurocell::kernels::CPU_CAPABILITY
