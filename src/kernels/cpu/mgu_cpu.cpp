// MGU: two GEMMs per step because the candidate reads f*h through W_h:
//   pre_f = drive_f + h W_f^T  ->  f, f*h  ->  pre_n = drive_n + (f*h) W_h^T  ->  n, h'.
// weight_hh = [W_f; W_h] (2H, H). Saved: [f, n, f*h_prev] per (t, b).
#include "kernels/cpu/simd.h"

namespace neurocell::kernels::CPU_CAPABILITY {

template <class T>
static void mgu_forward_impl(const KernelArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  const T* w_f = k.weight_hh;
  const T* w_h = k.weight_hh + H * H;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    std::vector<T> pre(rows * H);
    for (int64_t t = 0; t < k.steps; ++t) {
      const T* h_prev_block = t ? k.h_seq + ((t - 1) * B + b0) * H : k.h0 + b0 * H;
      T* saved_block = k.saved + (t * B + b0) * 3 * H;
      gemm<T>(false, true, rows, H, H, T(1), h_prev_block, H, w_f, H, T(0), pre.data(), H);
      for (int64_t b = b0; b < b1; ++b) {
        const T* drive = k.drive + (t * B + b) * 2 * H;
        const T* p = pre.data() + (b - b0) * H;
        const T* h_prev = h_prev_block + (b - b0) * H;
        T* saved = saved_block + (b - b0) * 3 * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          const V f = cells::mgu_forget(load(drive + j, v) + load(p + j, v));
          store(saved + j, f, v);
          store(saved + 2 * H + j, f * load(h_prev + j, v), v);
        });
      }
      // pre = (f*h) W_h^T, f*h read from the saved rows (stride 3H).
      gemm<T>(false, true, rows, H, H, T(1), saved_block + 2 * H, 3 * H, w_h, H, T(0), pre.data(), H);
      for (int64_t b = b0; b < b1; ++b) {
        const T* drive = k.drive + (t * B + b) * 2 * H;
        const T* p = pre.data() + (b - b0) * H;
        const T* h_prev = h_prev_block + (b - b0) * H;
        T* saved = saved_block + (b - b0) * 3 * H;
        T* h_out = k.h_seq + (t * B + b) * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          V n;
          store(h_out + j, cells::mgu_forward(load(saved + j, v), load(drive + H + j, v) + load(p + j, v),
                                              load(h_prev + j, v), n), v);
          store(saved + H + j, n, v);
        });
      }
    }
  });
}

template <class T>
static void mgu_backward_impl(const KernelArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  const T* w_f = k.weight_hh;
  const T* w_h = k.weight_hh + H * H;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    std::vector<T> carry(rows * H, T(0)), total(rows * H), d_fh(rows * H);
    for (int64_t t = k.steps - 1; t >= 0; --t) {
      T* d_drive_block = k.d_drive + (t * B + b0) * 2 * H;  // rows of [d_pre_f | d_pre_n]
      for (int64_t b = b0; b < b1; ++b) {
        const T* saved = k.saved + (t * B + b) * 3 * H;
        const T* d_out = k.d_h_seq + (t * B + b) * H;
        T* d_drive = d_drive_block + (b - b0) * 2 * H;
        T* dh_total = total.data() + (b - b0) * H;
        const T* d_h = carry.data() + (b - b0) * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          const V dh = load(d_h + j, v) + load(d_out + j, v);
          store(dh_total + j, dh, v);
          store(d_drive + H + j, cells::mgu_backward_candidate(dh, load(saved + j, v), load(saved + H + j, v)), v);
        });
      }
      // d(f*h) = d_pre_n W_h
      gemm<T>(false, false, rows, H, H, T(1), d_drive_block + H, 2 * H, w_h, H, T(0), d_fh.data(), H);
      for (int64_t b = b0; b < b1; ++b) {
        const T* h_prev = t ? k.h_seq + ((t - 1) * B + b) * H : k.h0 + b * H;
        const T* saved = k.saved + (t * B + b) * 3 * H;
        T* d_drive = d_drive_block + (b - b0) * 2 * H;
        const T* dh_total = total.data() + (b - b0) * H;
        const T* dfh = d_fh.data() + (b - b0) * H;
        T* d_h = carry.data() + (b - b0) * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          V d_pre_f;
          store(d_h + j, cells::mgu_backward_forget(load(dh_total + j, v), load(dfh + j, v), load(saved + j, v),
                                                    load(saved + H + j, v), load(h_prev + j, v), d_pre_f), v);
          store(d_drive + j, d_pre_f, v);
        });
      }
      // carry += d_pre_f W_f
      gemm<T>(false, false, rows, H, H, T(1), d_drive_block, 2 * H, w_f, H, T(1), carry.data(), H);
    }
    std::copy(carry.begin(), carry.end(), k.d_h0 + b0 * H);
  });
}

NEUROCELL_DEFINE_KERNEL(mgu_forward)
NEUROCELL_DEFINE_KERNEL(mgu_backward)

}  // namespace neurocell::kernels::CPU_CAPABILITY
