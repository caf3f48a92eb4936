// LSTM: one GEMM per step, pre = drive + h W_hh^T (rows, 4H), drive holding both biases;
// then the pointwise math. Saved: [i, f, g, o, tanh(c)] per (t, b); c itself is an output.
#include "kernels/cpu/simd.h"

namespace neurocell::kernels::CPU_CAPABILITY {

template <class T>
static void lstm_forward_impl(const KernelArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    std::vector<T> pre(rows * 4 * H);
    for (int64_t t = 0; t < k.steps; ++t) {
      const T* h_prev_block = t ? k.h_seq + ((t - 1) * B + b0) * H : k.h0 + b0 * H;
      // pre = drive[t] (rows, 4H) + h_prev W_hh^T
      std::copy(k.drive + (t * B + b0) * 4 * H, k.drive + (t * B + b1) * 4 * H, pre.begin());
      gemm<T>(false, true, rows, 4 * H, H, T(1), h_prev_block, H, k.weight_hh, H, T(1), pre.data(), 4 * H);
      for (int64_t b = b0; b < b1; ++b) {
        const T* p = pre.data() + (b - b0) * 4 * H;
        const T* c_prev = t ? k.c_seq + ((t - 1) * B + b) * H : k.c0 + b * H;
        T* h_out = k.h_seq + (t * B + b) * H;
        T* c_out = k.c_seq + (t * B + b) * H;
        T* saved = k.saved + (t * B + b) * 5 * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          cells::LstmGates<V> s;
          V c_next;
          store(h_out + j, cells::lstm_forward(load(p + j, v), load(p + H + j, v), load(p + 2 * H + j, v),
                                               load(p + 3 * H + j, v), load(c_prev + j, v), c_next, s), v);
          store(c_out + j, c_next, v);
          store(saved + j, s.i, v);
          store(saved + H + j, s.f, v);
          store(saved + 2 * H + j, s.g, v);
          store(saved + 3 * H + j, s.o, v);
          store(saved + 4 * H + j, s.tanh_c, v);
        });
      }
    }
  });
}

template <class T>
static void lstm_backward_impl(const KernelArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    std::vector<T> carry_h(rows * H, T(0)), carry_c(rows * H, T(0));
    for (int64_t t = k.steps - 1; t >= 0; --t) {
      for (int64_t b = b0; b < b1; ++b) {
        const T* c_prev = t ? k.c_seq + ((t - 1) * B + b) * H : k.c0 + b * H;
        const T* saved = k.saved + (t * B + b) * 5 * H;
        const T* d_h_out = k.d_h_seq + (t * B + b) * H;
        const T* d_c_out = k.d_c_seq ? k.d_c_seq + (t * B + b) * H : nullptr;
        T* d_pre = k.d_drive + (t * B + b) * 4 * H;
        T* d_h = carry_h.data() + (b - b0) * H;
        T* d_c = carry_c.data() + (b - b0) * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          const V dh = load(d_h + j, v) + load(d_h_out + j, v);
          const V dc = d_c_out ? load(d_c + j, v) + load(d_c_out + j, v) : load(d_c + j, v);
          const cells::LstmGates<V> s{load(saved + j, v), load(saved + H + j, v), load(saved + 2 * H + j, v),
                                      load(saved + 3 * H + j, v), load(saved + 4 * H + j, v)};
          V d_i, d_f, d_g, d_o;
          store(d_c + j, cells::lstm_backward(dh, dc, load(c_prev + j, v), s, d_i, d_f, d_g, d_o), v);
          store(d_pre + j, d_i, v);
          store(d_pre + H + j, d_f, v);
          store(d_pre + 2 * H + j, d_g, v);
          store(d_pre + 3 * H + j, d_o, v);
        });
      }
      // h enters the next step only through W_hh: dL/dh_{t-1} = d_pre W_hh (no direct term).
      gemm<T>(false, false, rows, H, 4 * H, T(1), k.d_drive + (t * B + b0) * 4 * H, 4 * H, k.weight_hh, H,
              T(0), carry_h.data(), H);
    }
    std::copy(carry_h.begin(), carry_h.end(), k.d_h0 + b0 * H);
    std::copy(carry_c.begin(), carry_c.end(), k.d_c0 + b0 * H);
  });
}

NEUROCELL_DEFINE_KERNEL(lstm_forward)
NEUROCELL_DEFINE_KERNEL(lstm_backward)

}  // namespace neurocell::kernels::CPU_CAPABILITY
