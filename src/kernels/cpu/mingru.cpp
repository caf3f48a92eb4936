// Scans of minGRU (cells/mru.h): the forward, and the backward as a reverse scan of dL/dh, both
// sequential or reduce then rescan (the top of scan_engine.h).
#include "kernels/cpu/scan_engine.h"

#include <algorithm>
#include <vector>

namespace neurocell::kernels::CPU_CAPABILITY {

namespace {

// ---- minGRU. The drive (T, B, 2H) holds [z_pre | h_tilde] per batch row, so lane blocks are
// whole rows and the SIMD loop runs over the units of one row.

template <class T>
struct MinGruForward {
  using Scalar = T;
  static constexpr bool reverse = false;
  static constexpr int64_t carry_width = 1, summary_width = 2;  // affine (a, b)
  const MinGruScanArgs<T>& k;
  int64_t steps, lanes, lane_align;  // lane_align = H

  // f(v, l, z_pre, h_tilde) over the lanes [l0, l1) (whole rows) of step t.
  template <class F>
  void for_row_lanes(int64_t t, int64_t l0, int64_t l1, F&& f) const {
    const int64_t H = k.hidden;
    for (int64_t b = l0 / H; b < l1 / H; ++b) {
      const T* z_pre = k.drive + (t * k.batch + b) * 2 * H;
      for_each_unit<T>(H, [&](auto v, int64_t j) { f(v, b * H + j, load(z_pre + j, v), load(z_pre + H + j, v)); });
    }
  }

  void run(int64_t t0, int64_t t1, int64_t l0, int64_t l1, const T* carry, T* carry_out) const {
    for (int64_t t = t0; t < t1; ++t) {
      const T* h_prev = t == t0 ? carry : k.h_seq + (t - 1) * lanes;
      T* h = k.h_seq + t * lanes;
      for_row_lanes(t, l0, l1, [&](auto v, int64_t l, const auto& z_pre, const auto& h_tilde) {
        store(h + l, cells::mingru_forward(z_pre, h_tilde, load(h_prev + l, v)), v);
      });
    }
    if (carry_out) {
      const T* h_last = k.h_seq + (t1 - 1) * lanes;
      std::copy(h_last + l0, h_last + l1, carry_out + l0);
    }
  }

  void reduce(int64_t t0, int64_t t1, int64_t l0, int64_t l1, T* summary) const {
    using V = Vec<T>;
    T *a = summary, *b = summary + lanes;
    std::fill(a + l0, a + l1, T(1));
    std::fill(b + l0, b + l1, T(0));
    for (int64_t t = t0; t < t1; ++t) {
      for_row_lanes(t, l0, l1, [&](auto v, int64_t l, const V& z_pre, const V& h_tilde) {
        const auto after = cells::compose(cells::Affine<V>{load(a + l, v), load(b + l, v)}, cells::mingru_step(z_pre, h_tilde));
        store(a + l, after.a, v), store(b + l, after.b, v);
      });
    }
  }

  void apply(const T* summary, const T* carry_in, T* carry_out, int64_t l0, int64_t l1) const {
    for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
      const cells::Affine<Vec<T>> f{load(summary + j, v), load(summary + lanes + j, v)};
      store(carry_out + j, cells::apply(f, load(carry_in + j, v)), v);
    });
  }
};

template <class T>
struct MinGruBackward {
  using Scalar = T;
  static constexpr bool reverse = true;
  static constexpr int64_t carry_width = 1, summary_width = 2;  // affine (a, b)
  const MinGruScanArgs<T>& k;
  int64_t steps, lanes, lane_align;  // lane_align = H

  void run(int64_t t0, int64_t t1, int64_t l0, int64_t l1, const T* carry_in, T* carry_out) const {
    using V = Vec<T>;
    const int64_t H = k.hidden;
    std::vector<T> carry(carry_in + l0, carry_in + l1);
    for (int64_t t = t1 - 1; t >= t0; --t) {
      const T* h_prev = t ? k.h_seq + (t - 1) * lanes : k.h0;
      const T* d_out = k.d_h_seq + t * lanes;
      for (int64_t b = l1 / H - 1; b >= l0 / H; --b) {
        const int64_t row = (t * k.batch + b) * 2 * H;
        const T* z_pre = k.drive + row;
        T* d_z_pre = k.d_drive + row;
        T* c = carry.data() + b * H - l0;
        for_lanes_descending<T>(0, H, [&](auto v, int64_t j) {
          const int64_t l = b * H + j;
          const V g = load(c + j, v) + load(d_out + l, v);
          V d_z, d_h_tilde;
          const V d_prev = cells::mingru_backward(g, load(z_pre + j, v), load(z_pre + H + j, v), load(h_prev + l, v), d_z, d_h_tilde);
          store(d_z_pre + j, d_z, v);
          store(d_z_pre + H + j, d_h_tilde, v);
          store(c + j, d_prev, v);
        });
      }
    }
    if (carry_out) std::copy(carry.begin(), carry.end(), carry_out + l0);
  }

  // Per step c <- (1 - z)(c + d): reads z_pre and dL/dh.
  void reduce(int64_t t0, int64_t t1, int64_t l0, int64_t l1, T* summary) const {
    using V = Vec<T>;
    const int64_t H = k.hidden;
    T *a = summary, *b = summary + lanes;
    std::fill(a + l0, a + l1, T(1));
    std::fill(b + l0, b + l1, T(0));
    for (int64_t t = t1 - 1; t >= t0; --t) {
      const T* d_out = k.d_h_seq + t * lanes;
      for (int64_t r = l1 / H - 1; r >= l0 / H; --r) {
        const T* z_pre = k.drive + (t * k.batch + r) * 2 * H;
        for_lanes_descending<T>(0, H, [&](auto v, int64_t j) {
          const int64_t l = r * H + j;
          const V w = V(1) - cells::sigmoid_(load(z_pre + j, v));
          const auto after = cells::compose(cells::Affine<V>{load(a + l, v), load(b + l, v)},
                                            cells::Affine<V>{w, w * load(d_out + l, v)});
          store(a + l, after.a, v), store(b + l, after.b, v);
        });
      }
    }
  }

  void apply(const T* summary, const T* carry_in, T* carry_out, int64_t l0, int64_t l1) const {
    for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
      const cells::Affine<Vec<T>> f{load(summary + j, v), load(summary + lanes + j, v)};
      store(carry_out + j, cells::apply(f, load(carry_in + j, v)), v);
    });
  }
};

}  // namespace

template <class T>
static void mingru_scan_forward_impl(const MinGruScanArgs<T>& k) {
  const MinGruForward<T> scan{k, k.steps, k.batch * k.hidden, k.hidden};
  run_scan(scan, k.schedule, k.h0, static_cast<T*>(nullptr));
}

template <class T>
static void mingru_scan_backward_impl(const MinGruScanArgs<T>& k) {
  const int64_t lanes = k.batch * k.hidden;
  const MinGruBackward<T> scan{k, k.steps, lanes, k.hidden};
  const std::vector<T> zeros(lanes, T(0));
  run_scan(scan, k.schedule, zeros.data(), k.d_h0);
}

NEUROCELL_DEFINE_KERNEL_FOR(mingru_scan_forward, MinGruScanArgs)
NEUROCELL_DEFINE_KERNEL_FOR(mingru_scan_backward, MinGruScanArgs)

}  // namespace neurocell::kernels::CPU_CAPABILITY
