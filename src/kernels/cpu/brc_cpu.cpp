// BRC: cellular recurrence, so each unit's whole sequence is independent of every other
// unit: no GEMM in the time loop, only SIMD pointwise math. Saved: [a, c, n] per (t, b).
#include "kernels/cpu/simd.h"

namespace neurocell::kernels::CPU_CAPABILITY {

template <class T>
static void brc_forward_impl(const KernelArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    for (int64_t t = 0; t < k.steps; ++t) {
      for (int64_t b = b0; b < b1; ++b) {
        const T* drive = k.drive + (t * B + b) * 3 * H;  // [U_a x + b_a | U_c x + b_c | U_h x + b_h]
        const T* h_prev = t ? k.h_seq + ((t - 1) * B + b) * H : k.h0 + b * H;
        T* h_out = k.h_seq + (t * B + b) * H;
        T* saved = k.saved + (t * B + b) * 3 * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = decltype(v);
          const V h = load(h_prev + j, v);
          cells::BistableGates<V> g;
          const V pre_a = load(drive + j, v) + load(k.w_a + j, v) * h;
          const V pre_c = load(drive + H + j, v) + load(k.w_c + j, v) * h;
          store(h_out + j, cells::bistable_forward(pre_a, pre_c, load(drive + 2 * H + j, v), h, g));
          store(saved + j, g.a);
          store(saved + H + j, g.c);
          store(saved + 2 * H + j, g.n);
        });
      }
    }
  });
}

template <class T>
static void brc_backward_impl(const KernelArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    std::vector<T> carry((b1 - b0) * H, T(0));  // dL/dh_t through h_{t+1}: (rows, H)
    for (int64_t t = k.steps - 1; t >= 0; --t) {
      for (int64_t b = b0; b < b1; ++b) {
        const T* h_prev = t ? k.h_seq + ((t - 1) * B + b) * H : k.h0 + b * H;
        const T* saved = k.saved + (t * B + b) * 3 * H;
        const T* d_out = k.d_h_seq + (t * B + b) * H;
        T* d_drive = k.d_drive + (t * B + b) * 3 * H;
        T* d_h = carry.data() + (b - b0) * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = decltype(v);
          const V h = load(h_prev + j, v);
          const V dh = load(d_h + j, v) + load(d_out + j, v);
          const cells::BistableGates<V> g{load(saved + j, v), load(saved + H + j, v), load(saved + 2 * H + j, v)};
          V d_a, d_c, d_n;
          const V d_h_prev = cells::bistable_backward(dh, h, g, d_a, d_c, d_n);
          store(d_drive + j, d_a);
          store(d_drive + H + j, d_c);
          store(d_drive + 2 * H + j, d_n);
          store(d_h + j, d_h_prev + load(k.w_a + j, v) * d_a + load(k.w_c + j, v) * d_c);
        });
      }
    }
    std::copy(carry.begin(), carry.end(), k.d_h0 + b0 * H);
  });
}

NEUROCELL_DEFINE_KERNEL(brc_forward)
NEUROCELL_DEFINE_KERNEL(brc_backward)

}  // namespace neurocell::kernels::CPU_CAPABILITY
