// BRC: cellular recurrence, so the time loop needs no recurrent GEMM, and the backward
// recomputes the gates instead of reading stored ones. Two ways to get the inputs' drive
// U x_t + b (the wrapper, kernels/brc.cpp, chooses by the input width):
//   - narrow inputs (k.drive null): each step projects its own rows (a tiny GEMM that stays in
//     cache), so the layer keeps no (T, B, 3H) temporary and memory traffic is h and dL/dh:
//     what makes the fused BRC many times faster than the reference at I = 1 (bench/results);
//   - wide inputs (k.drive given, (T, B, 3H)): the wrapper projects all steps in one large
//     GEMM, the backward writes dL/d drive (k.d_drive) and the wrapper turns it into the
//     gradients of U, b and x with large GEMMs. At I = H = 100 the per-step GEMMs of the first
//     way ran far below the GEMM throughput and repeated the projection in the backward.
#include "kernels/cpu/simd.h"

namespace neurocell::kernels::CPU_CAPABILITY {

namespace {

// drive (rows, 3H) = bias + x_t[b0:b1] U^T: [U_a x + b_a | U_c x + b_c | U_h x + b_h].
template <class T>
void project_step(const KernelArgs<T>& k, int64_t t, int64_t b0, int64_t rows, T* drive) {
  const int64_t G = 3 * k.hidden;
  for (int64_t r = 0; r < rows; ++r) std::copy(k.bias, k.bias + G, drive + r * G);
  gemm<T>(false, true, rows, G, k.input, T(1), k.x + (t * k.batch + b0) * k.input, k.input, k.weight_ih, k.input,
          T(1), drive, G);
}

// The gates of one row from its drive and previous state (forward and recomputation).
template <class Tag, class T, class V = Value<Tag>>
cells::BistableGates<V> gates_of(Tag tag, const T* drive, const T* w_a, const T* w_c, int64_t H, int64_t j, V h,
                                 V& h_next) {
  cells::BistableGates<V> g;
  const V pre_a = load(drive + j, tag) + load(w_a + j, tag) * h;
  const V pre_c = load(drive + H + j, tag) + load(w_c + j, tag) * h;
  h_next = cells::bistable_forward(pre_a, pre_c, load(drive + 2 * H + j, tag), h, g);
  return g;
}

}  // namespace

template <class T>
static void brc_forward_impl(const KernelArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    std::vector<T> drive(k.drive ? 0 : (b1 - b0) * 3 * H);
    for (int64_t t = 0; t < k.steps; ++t) {
      if (!k.drive) project_step(k, t, b0, b1 - b0, drive.data());
      for (int64_t b = b0; b < b1; ++b) {
        const T* d = k.drive ? k.drive + (t * B + b) * 3 * H : drive.data() + (b - b0) * 3 * H;
        const T* h_prev = t ? k.h_seq + ((t - 1) * B + b) * H : k.h0 + b * H;
        T* h_out = k.h_seq + (t * B + b) * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          V h_next;
          gates_of(v, d, k.w_a, k.w_c, H, j, load(h_prev + j, v), h_next);
          store(h_out + j, h_next, v);
        });
      }
    }
  });
}

template <class T>
static void brc_backward_impl(const KernelArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden, G = 3 * H, I = k.input;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0, slot = at::get_thread_num();
    // The parameter gradients accumulate in this thread's own buffers and go into its slot once
    // at the end: adjacent slots share a cache line at their edges (H = 100 floats is 6.25
    // lines), and writing them at every step made the two threads' caches fight over it
    // (`neurocell bench --cells brc --threads N` at the copy shape: 33.7 ms on 1 thread, 23.7 on
    // 2 before, 18.5 on 2 after).
    std::vector<T> d_w_a_local(H, T(0)), d_w_c_local(H, T(0)), d_bias_local(k.drive ? 0 : G, T(0));
    std::vector<T> d_weight_local(k.drive ? 0 : G * I, T(0));
    T* d_weight_ih = d_weight_local.data();
    T* d_bias = d_bias_local.data();
    T* d_w_a = d_w_a_local.data();
    T* d_w_c = d_w_c_local.data();
    const bool stored = k.drive != nullptr;  // wide inputs: drive in, dL/d drive out, no GEMM here
    std::vector<T> carry(rows * H, T(0)), drive(stored ? 0 : rows * G), d_drive(stored ? 0 : rows * G);
    for (int64_t t = k.steps - 1; t >= 0; --t) {
      if (!stored) project_step(k, t, b0, rows, drive.data());
      for (int64_t b = b0; b < b1; ++b) {
        const T* d = stored ? k.drive + (t * B + b) * G : drive.data() + (b - b0) * G;
        const T* h_prev = t ? k.h_seq + ((t - 1) * B + b) * H : k.h0 + b * H;
        const T* d_out = k.d_h_seq + (t * B + b) * H;
        T* dd = stored ? k.d_drive + (t * B + b) * G : d_drive.data() + (b - b0) * G;
        T* d_h = carry.data() + (b - b0) * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          const V h = load(h_prev + j, v);
          V unused;
          const auto g = gates_of(v, d, k.w_a, k.w_c, H, j, h, unused);
          V d_a, d_c, d_n;
          const V dh = load(d_h + j, v) + load(d_out + j, v);
          const V d_h_prev = cells::bistable_backward(dh, h, g, d_a, d_c, d_n);
          const V w_a = load(k.w_a + j, v), w_c = load(k.w_c + j, v);
          store(d_h + j, d_h_prev + w_a * d_a + w_c * d_c, v);
          store(dd + j, d_a, v);
          store(dd + H + j, d_c, v);
          store(dd + 2 * H + j, d_n, v);
          store(d_w_a + j, load(d_w_a + j, v) + d_a * h, v);
          store(d_w_c + j, load(d_w_c + j, v) + d_c * h, v);
        });
        if (!stored)
          for_each_unit<T>(G, [&](auto v, int64_t j) { store(d_bias + j, load(d_bias + j, v) + load(dd + j, v), v); });
      }
      if (stored) continue;
      const T* x_t = k.x + (t * B + b0) * I;
      // dU += d_drive^T x_t  (3H, I);  dx_t = d_drive U  (rows, I)
      gemm<T>(true, false, G, I, rows, T(1), d_drive.data(), G, x_t, I, T(1), d_weight_ih, I);
      if (k.d_x) gemm<T>(false, false, rows, I, G, T(1), d_drive.data(), G, k.weight_ih, I, T(0), k.d_x + (t * B + b0) * I, I);
    }
    std::copy(carry.begin(), carry.end(), k.d_h0 + b0 * H);
    for (int64_t j = 0; j < H; ++j) k.d_w_a[slot * H + j] += d_w_a_local[j], k.d_w_c[slot * H + j] += d_w_c_local[j];
    if (!k.drive) {
      for (int64_t j = 0; j < G; ++j) k.d_bias[slot * G + j] += d_bias_local[j];
      for (int64_t j = 0; j < G * I; ++j) k.d_weight_ih[slot * G * I + j] += d_weight_local[j];
    }
  });
}

NEUROCELL_DEFINE_KERNEL(brc_forward)
NEUROCELL_DEFINE_KERNEL(brc_backward)

}  // namespace neurocell::kernels::CPU_CAPABILITY
