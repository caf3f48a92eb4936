// Scans of the LRU's complex diagonal recurrence s_t = lambda s_(t-1) + g_t (cells/mru.h): the
// forward, and the backward as a reverse scan of dL/ds, both sequential or reduce then rescan
// (the top of scan_engine.h).
#include "kernels/cpu/scan_engine.h"

#include <algorithm>
#include <vector>

namespace neurocell::kernels::CPU_CAPABILITY {

namespace {

// ---- LRU core: complex diagonal recurrence. Carries are (2, lanes): real row, imaginary row.

// x^n by binary powering.
template <class V>
cells::Complex<V> complex_power(cells::Complex<V> x, int64_t n) {
  cells::Complex<V> result{V(1), V(0)};
  for (; n > 0; n >>= 1) {
    if (n & 1) result = result * x;
    x = x * x;
  }
  return result;
}

template <class T>
struct ComplexForward {
  using Scalar = T;
  static constexpr bool reverse = false;
  static constexpr int64_t carry_width = 2, summary_width = 4;  // complex affine (a, b)
  const ComplexScanArgs<T>& k;
  int64_t steps, lanes, lane_align;
  const T *lambda_re, *lambda_im;  // (lanes) per-lane copies

  template <class Tag>
  cells::Complex<Vec<T>> lambda(Tag v, int64_t j) const {
    return {load(lambda_re + j, v), load(lambda_im + j, v)};
  }

  void run(int64_t t0, int64_t t1, int64_t l0, int64_t l1, const T* carry, T* carry_out) const {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t row = t * lanes;
      const T* prev_re = t == t0 ? carry : k.s_re + row - lanes;
      const T* prev_im = t == t0 ? carry + lanes : k.s_im + row - lanes;
      for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
        const auto s = cells::complex_diagonal_forward(lambda(v, j), {load(prev_re + j, v), load(prev_im + j, v)},
                                                       {load(k.g_re + row + j, v), load(k.g_im + row + j, v)});
        store(k.s_re + row + j, s.re, v);
        store(k.s_im + row + j, s.im, v);
      });
    }
    if (carry_out) {
      const int64_t last = (t1 - 1) * lanes;
      std::copy(k.s_re + last + l0, k.s_re + last + l1, carry_out + l0);
      std::copy(k.s_im + last + l0, k.s_im + last + l1, carry_out + lanes + l0);
    }
  }

  // The composed map of steps [t0, t1): s -> lambda^n s + b. Only b needs the drive; lambda^n
  // comes from the per-unit lambda at the end (keeping it out of the loop halves its flops
  // and the summary rows it touches per step).
  void reduce(int64_t t0, int64_t t1, int64_t l0, int64_t l1, T* summary) const {
    T *a_re = summary, *a_im = summary + lanes, *b_re = summary + 2 * lanes, *b_im = summary + 3 * lanes;
    std::fill(b_re + l0, b_re + l1, T(0));
    std::fill(b_im + l0, b_im + l1, T(0));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t row = t * lanes;
      for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
        const auto b = cells::complex_diagonal_forward(lambda(v, j), {load(b_re + j, v), load(b_im + j, v)},
                                                       {load(k.g_re + row + j, v), load(k.g_im + row + j, v)});
        store(b_re + j, b.re, v), store(b_im + j, b.im, v);
      });
    }
    for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
      const auto a = complex_power(lambda(v, j), t1 - t0);
      store(a_re + j, a.re, v), store(a_im + j, a.im, v);
    });
  }

  void apply(const T* summary, const T* carry_in, T* carry_out, int64_t l0, int64_t l1) const {
    complex_apply(summary, carry_in, carry_out, l0, l1, lanes);
  }

  static void complex_apply(const T* summary, const T* carry_in, T* carry_out, int64_t l0, int64_t l1, int64_t lanes) {
    for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
      const cells::ComplexAffine<Vec<T>> f{{load(summary + j, v), load(summary + lanes + j, v)},
                                           {load(summary + 2 * lanes + j, v), load(summary + 3 * lanes + j, v)}};
      const auto c = cells::apply(f, cells::Complex<Vec<T>>{load(carry_in + j, v), load(carry_in + lanes + j, v)});
      store(carry_out + j, c.re, v);
      store(carry_out + lanes + j, c.im, v);
    });
  }
};

// Backward: G = carry + dL/ds_t; dL/dg_t = G; dL/dlambda += conj(s_{t-1}) G; carry = conj(lambda) G.
template <class T>
struct ComplexBackward {
  using Scalar = T;
  static constexpr bool reverse = true;
  static constexpr int64_t carry_width = 2, summary_width = 4;
  const ComplexScanArgs<T>& k;
  int64_t steps, lanes, lane_align;
  const T *lambda_re, *lambda_im;  // (lanes) per-lane copies

  template <class Tag>
  cells::Complex<Vec<T>> lambda_conj(Tag v, int64_t j) const {
    return cells::conj(cells::Complex<Vec<T>>{load(lambda_re + j, v), load(lambda_im + j, v)});
  }

  void run(int64_t t0, int64_t t1, int64_t l0, int64_t l1, const T* carry_in, T* carry_out) const {
    using V = Vec<T>;
    const int64_t n = l1 - l0;
    // Rows: carry (re, im), then the dL/dlambda sums (re, im), each n long.
    std::vector<T> work(4 * n, T(0));
    std::copy(carry_in + l0, carry_in + l1, work.begin());
    std::copy(carry_in + lanes + l0, carry_in + lanes + l1, work.begin() + n);
    T *c_re = work.data(), *c_im = c_re + n, *dl_re = c_im + n, *dl_im = dl_re + n;
    for (int64_t t = t1 - 1; t >= t0; --t) {
      const int64_t row = t * lanes;
      const T* prev_re = t ? k.s_re + row - lanes : k.s0_re;
      const T* prev_im = t ? k.s_im + row - lanes : k.s0_im;
      for_lanes_descending<T>(0, n, [&](auto v, int64_t i) {
        const int64_t j = l0 + i;
        const cells::Complex<V> g{load(c_re + i, v) + load(k.d_s_re + row + j, v), load(c_im + i, v) + load(k.d_s_im + row + j, v)};
        store(k.d_g_re + row + j, g.re, v);
        store(k.d_g_im + row + j, g.im, v);
        const auto d_lambda = cells::conj(cells::Complex<V>{load(prev_re + j, v), load(prev_im + j, v)}) * g;
        store(dl_re + i, load(dl_re + i, v) + d_lambda.re, v);
        store(dl_im + i, load(dl_im + i, v) + d_lambda.im, v);
        const auto c = lambda_conj(v, j) * g;
        store(c_re + i, c.re, v);
        store(c_im + i, c.im, v);
      });
    }
    if (carry_out) {
      std::copy(c_re, c_re + n, carry_out + l0);
      std::copy(c_im, c_im + n, carry_out + lanes + l0);
    }
    const int64_t slot = at::get_thread_num(), N = k.hidden;
    for (int64_t i = 0; i < n; ++i) {
      k.d_lambda_re[slot * N + (l0 + i) % N] += dl_re[i];
      k.d_lambda_im[slot * N + (l0 + i) % N] += dl_im[i];
    }
  }

  // Per step c <- conj(lambda)(c + d): reads dL/ds only; conj(lambda)^n at the end, as above.
  void reduce(int64_t t0, int64_t t1, int64_t l0, int64_t l1, T* summary) const {
    using V = Vec<T>;
    T *a_re = summary, *a_im = summary + lanes, *b_re = summary + 2 * lanes, *b_im = summary + 3 * lanes;
    std::fill(b_re + l0, b_re + l1, T(0));
    std::fill(b_im + l0, b_im + l1, T(0));
    for (int64_t t = t1 - 1; t >= t0; --t) {
      const int64_t row = t * lanes;
      for_lanes_descending<T>(l0, l1, [&](auto v, int64_t j) {
        const cells::Complex<V> b{load(b_re + j, v) + load(k.d_s_re + row + j, v), load(b_im + j, v) + load(k.d_s_im + row + j, v)};
        const auto c = lambda_conj(v, j) * b;
        store(b_re + j, c.re, v), store(b_im + j, c.im, v);
      });
    }
    for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
      const auto a = complex_power(lambda_conj(v, j), t1 - t0);
      store(a_re + j, a.re, v), store(a_im + j, a.im, v);
    });
  }

  void apply(const T* summary, const T* carry_in, T* carry_out, int64_t l0, int64_t l1) const {
    ComplexForward<T>::complex_apply(summary, carry_in, carry_out, l0, l1, lanes);
  }
};

}  // namespace

template <class T>
static void complex_scan_forward_impl(const ComplexScanArgs<T>& k) {
  const int64_t lanes = k.batch * k.hidden;
  const auto lambda_re = per_lane(k.lambda_re, lanes, k.hidden), lambda_im = per_lane(k.lambda_im, lanes, k.hidden);
  const ComplexForward<T> scan{k, k.steps, lanes, Vec<T>::size(), lambda_re.data(), lambda_im.data()};
  std::vector<T> initial(2 * lanes);
  std::copy(k.s0_re, k.s0_re + lanes, initial.begin());
  std::copy(k.s0_im, k.s0_im + lanes, initial.begin() + lanes);
  run_scan(scan, k.schedule, initial.data(), static_cast<T*>(nullptr));
}

template <class T>
static void complex_scan_backward_impl(const ComplexScanArgs<T>& k) {
  const int64_t lanes = k.batch * k.hidden;
  const auto lambda_re = per_lane(k.lambda_re, lanes, k.hidden), lambda_im = per_lane(k.lambda_im, lanes, k.hidden);
  const ComplexBackward<T> scan{k, k.steps, lanes, Vec<T>::size(), lambda_re.data(), lambda_im.data()};
  const std::vector<T> zeros(2 * lanes, T(0));
  std::vector<T> final_carry(2 * lanes);
  run_scan(scan, k.schedule, zeros.data(), final_carry.data());
  std::copy(final_carry.begin(), final_carry.begin() + lanes, k.d_s0_re);
  std::copy(final_carry.begin() + lanes, final_carry.end(), k.d_s0_im);
}

NEUROCELL_DEFINE_KERNEL_FOR(complex_scan_forward, ComplexScanArgs)
NEUROCELL_DEFINE_KERNEL_FOR(complex_scan_backward, ComplexScanArgs)

}  // namespace neurocell::kernels::CPU_CAPABILITY
