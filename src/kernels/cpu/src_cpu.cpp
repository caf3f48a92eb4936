// SRC: cellular recurrence with three states per unit (i, h, h_s) and no recurrent GEMM.
// The forward stores i and h for every step (the backward needs h for tanh' and the gate,
// and recomputes u = tanh(i/rho) from i); h_s is stored because users read it (run).
// Also here: the sparse input projection used for spike inputs.
#include "kernels/cpu/simd.h"

namespace neurocell::kernels::CPU_CAPABILITY {

namespace {

template <class Tag, class T, class V = Value<Tag>>
cells::SrcConstants<V> constants_of(const SrcArgs<T>& k, Tag tag, int64_t j) {
  return {V(k.alpha),          load(k.rho + j, tag),   load(k.r + j, tag),    load(k.r_s + j, tag),
          load(k.z_hyp + j, tag), load(k.z_dep + j, tag), load(k.bias + j, tag)};
}

}  // namespace

template <class T>
static void src_forward_impl(const SrcArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t t = 0; t < k.steps; ++t) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t prev = ((t - 1) * B + b) * H, now = (t * B + b) * H;
        const T* i_prev = t ? k.i_seq + prev : k.i0 + b * H;
        const T* h_prev = t ? k.h_seq + prev : k.h0 + b * H;
        const T* hs_prev = t ? k.hs_seq + prev : k.hs0 + b * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          const cells::SrcState<V> before{load(i_prev + j, v), load(h_prev + j, v), load(hs_prev + j, v)};
          const auto after = cells::src_forward(constants_of(k, v, j), load(k.drive + now + j, v), before);
          store(k.i_seq + now + j, after.i, v);
          store(k.h_seq + now + j, after.h, v);
          store(k.hs_seq + now + j, after.h_s, v);
        });
      }
    }
  });
}

template <class T>
static void src_backward_impl(const SrcArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    // Accumulated here and added into this thread's slot once (adjacent slots share a cache
    // line at their edges, brc_cpu.cpp says what that cost).
    std::vector<T> d_bias_local(H, T(0));
    T* d_bias = d_bias_local.data();
    // Carries dL/d(state of step t) for the block's rows, filled from the last step back.
    std::vector<T> carry_i((b1 - b0) * H, T(0)), carry_h((b1 - b0) * H, T(0)), carry_hs((b1 - b0) * H, T(0));
    for (int64_t t = k.steps - 1; t >= 0; --t) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t now = (t * B + b) * H, c = (b - b0) * H;
        const T* h_prev = t ? k.h_seq + ((t - 1) * B + b) * H : k.h0 + b * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          const cells::SrcState<V> d_next{load(carry_i.data() + c + j, v), V(0), load(carry_hs.data() + c + j, v)};
          const V dh = load(carry_h.data() + c + j, v) + load(k.d_h_seq + now + j, v);
          V d_pre, d_drive;
          const auto d_prev =
              cells::src_backward(constants_of(k, v, j), dh, d_next, load(k.h_seq + now + j, v),
                                  load(k.i_seq + now + j, v), load(h_prev + j, v), k.detach_recurrence, d_pre, d_drive);
          store(k.d_drive + now + j, d_drive, v);
          store(d_bias + j, load(d_bias + j, v) + d_pre, v);
          store(carry_i.data() + c + j, d_prev.i, v);
          store(carry_h.data() + c + j, d_prev.h, v);
          store(carry_hs.data() + c + j, d_prev.h_s, v);
        });
      }
    }
    std::copy(carry_i.begin(), carry_i.end(), k.d_i0 + b0 * H);
    std::copy(carry_h.begin(), carry_h.end(), k.d_h0 + b0 * H);
    std::copy(carry_hs.begin(), carry_hs.end(), k.d_hs0 + b0 * H);
    T* slot = k.d_bias + at::get_thread_num() * H;
    for (int64_t j = 0; j < H; ++j) slot[j] += d_bias_local[j];
  });
}

template <class T>
static void sparse_projection_impl(const SparseProjectionArgs<T>& k) {
  const int64_t N = k.out;
  at::parallel_for(0, k.rows, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      T* y = k.y + r * N;
      std::fill(y, y + N, T(0));
      const T* x = k.x + r * k.in;
      for_each_nonzero(x, k.in, [&](int64_t p) {
        const T* w = k.w_t + p * N;
        const T value = x[p];
        for_each_unit<T>(N, [&](auto v, int64_t j) { store(y + j, load(y + j, v) + Value<decltype(v)>(value) * load(w + j, v), v); });
      });
    }
  });
}

template <class T>
static void sparse_projection_backward_impl(const SparseProjectionArgs<T>& k) {
  const int64_t N = k.out;
  at::parallel_for(0, k.rows, 64, [&](int64_t r0, int64_t r1) {
    T* d_w_t = k.d_w_t + at::get_thread_num() * k.in * N;
    for (int64_t r = r0; r < r1; ++r) {
      const T* x = k.x + r * k.in;
      const T* d_y = k.d_y + r * N;
      for_each_nonzero(x, k.in, [&](int64_t p) {
        T* dw = d_w_t + p * N;
        const T value = x[p];
        for_each_unit<T>(N, [&](auto v, int64_t j) { store(dw + j, load(dw + j, v) + Value<decltype(v)>(value) * load(d_y + j, v), v); });
      });
    }
  });
}

NEUROCELL_DEFINE_KERNEL_FOR(src_forward, SrcArgs)
NEUROCELL_DEFINE_KERNEL_FOR(src_backward, SrcArgs)
NEUROCELL_DEFINE_KERNEL_FOR(sparse_projection, SparseProjectionArgs)
NEUROCELL_DEFINE_KERNEL_FOR(sparse_projection_backward, SparseProjectionArgs)

}  // namespace neurocell::kernels::CPU_CAPABILITY
