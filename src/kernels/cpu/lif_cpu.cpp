// LIF: cellular recurrence with one state per unit (the membrane u) and no recurrent GEMM.
// The forward stores u and the spikes of every step; the backward recomputes the surrogate
// from u. The input projection is SRC's (dense GEMM or sparse_projection in src_cpu.cpp).
#include "kernels/cpu/simd.h"

namespace neurocell::kernels::CPU_CAPABILITY {

namespace {

template <class Tag, class T, class V = Value<Tag>>
cells::LifConstants<V> constants_of(const LifArgs<T>& k, Tag tag, int64_t j) {
  return {V(k.beta), V(k.threshold), V(k.slope), load(k.bias + j, tag)};
}

}  // namespace

template <class T>
static void lif_forward_impl(const LifArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    for (int64_t t = 0; t < k.steps; ++t) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t now = (t * B + b) * H;
        const T* u_prev = t ? k.u_seq + ((t - 1) * B + b) * H : k.u0 + b * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          const auto c = constants_of(k, v, j);
          const V u = cells::lif_forward(c, load(k.drive + now + j, v), load(u_prev + j, v));
          store(k.u_seq + now + j, u, v);
          store(k.s_seq + now + j, k.relaxed ? cells::lif_relaxed_spike(c, u) : cells::lif_spike(c, u), v);
        });
      }
    }
  });
}

template <class T>
static void lif_backward_impl(const LifArgs<T>& k) {
  const int64_t B = k.batch, H = k.hidden;
  for_each_batch_block(B, [&](int64_t b0, int64_t b1) {
    // dL/du carried from step t+1 to step t for the block's rows, filled from the last step back.
    std::vector<T> carry((b1 - b0) * H, T(0));
    for (int64_t t = k.steps - 1; t >= 0; --t) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t now = (t * B + b) * H, c = (b - b0) * H;
        for_each_unit<T>(H, [&](auto v, int64_t j) {
          using V = Value<decltype(v)>;
          V du = load(carry.data() + c + j, v);
          if (k.d_u_seq) du = du + load(k.d_u_seq + now + j, v);
          V d_total;
          const V d_prev =
              cells::lif_backward(constants_of(k, v, j), load(k.d_s_seq + now + j, v), du, load(k.u_seq + now + j, v), d_total);
          store(k.d_u + now + j, d_total, v);
          store(carry.data() + c + j, d_prev, v);
        });
      }
    }
    std::copy(carry.begin(), carry.end(), k.d_u0 + b0 * H);
  });
}

NEUROCELL_DEFINE_KERNEL_FOR(lif_forward, LifArgs)
NEUROCELL_DEFINE_KERNEL_FOR(lif_backward, LifArgs)

}  // namespace neurocell::kernels::CPU_CAPABILITY
