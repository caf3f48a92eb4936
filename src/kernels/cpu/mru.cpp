// Scans of the memory recurrent units (BMRU, CMRU, aCMRU, fq-BMRU; cells/mru.h): the forward,
// with its two MRU-only chunked drivers (scan then fix the prefix, reduce then rerun the
// prefix), and the backward. The algorithms and what they cost: the top of scan_engine.h.
#include "kernels/cpu/scan_engine.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace neurocell::kernels::CPU_CAPABILITY {

namespace {

// ---- MRU forward

template <class T>
struct MruForward {
  using Scalar = T;
  static constexpr bool reverse = false;
  static constexpr int64_t carry_width = 1, summary_width = 3;  // clamped add (add, lo, hi)
  const MruScanArgs<T>& k;
  int64_t steps, lanes, lane_align;
  const T *beta, *alpha;  // (lanes) per-lane copies

  // BMRU, fq-BMRU and CMRU with 2 levels: a set step forgets the past.
  bool absorbing() const {
    return k.kind == MruKind::bmru || k.kind == MruKind::fq_bmru ||
           (k.kind == MruKind::cmru && k.delta == T(2));
  }

  // f(step) with the cell's exact step(tag, lane, u, h) -> h'. With `absorbing_form`, the
  // BMRU form of CMRU with 2 levels (same values for h in [-1, 1], and keeps a NaN marker).
  template <class F>
  void with_step(bool absorbing_form, F&& f) const {
    using V = Vec<T>;
    const V delta(k.delta), on(k.theta_on), off(k.theta_off);
    auto bmru = [&](auto v, int64_t j, const V& u, const V& h) {
      return cells::bmru_step(cells::mru_quantize(u, load(beta + j, v)), h);
    };
    if (k.relaxed) {
      const V inv_tau(T(1) / k.tau);
      switch (k.kind) {
        case MruKind::bmru:
          return f([&](auto v, int64_t j, const V& u, const V& h) { return cells::bmru_relaxed(u, load(beta + j, v), inv_tau, h); });
        case MruKind::cmru:
          return f([&](auto v, int64_t j, const V& u, const V& h) {
            return cells::cmru_relaxed(u, load(beta + j, v), inv_tau, delta, h);
          });
        case MruKind::acmru:
          return f([&](auto v, int64_t j, const V& u, const V& h) {
            return cells::acmru_relaxed(u, load(beta + j, v), load(alpha + j, v), h);
          });
        case MruKind::fq_bmru:
          return f([&](auto, int64_t, const V& p, const V& h) { return cells::fq_bmru_relaxed(p, on, off, inv_tau, h); });
      }
    }
    switch (k.kind) {
      case MruKind::bmru: return f(bmru);
      case MruKind::cmru:
        if (absorbing_form) return f(bmru);
        return f([&](auto v, int64_t j, const V& u, const V& h) {
          const V q = cells::mru_quantize(u, load(beta + j, v));
          return cells::apply(cells::cumulative_step(cells::cmru_increment(q, delta)), h);
        });
      case MruKind::acmru:
        return f([&](auto v, int64_t j, const V& u, const V& h) {
          return cells::apply(cells::cumulative_step(cells::acmru_increment(u, load(beta + j, v), load(alpha + j, v))), h);
        });
      case MruKind::fq_bmru:
        return f([&](auto, int64_t, const V& p, const V& h) { return cells::fq_bmru_step(cells::softplus_(p), on, off, h); });
    }
  }

  template <class Step>
  void steps_from(int64_t t0, int64_t t1, int64_t l0, int64_t l1, const T* carry, Step&& step) const {
    for (int64_t t = t0; t < t1; ++t) {
      const T* u = k.drive + t * lanes;
      const T* h_prev = t == t0 ? carry : k.h_seq + (t - 1) * lanes;
      T* h = k.h_seq + t * lanes;
      for_lanes<T>(l0, l1, [&](auto v, int64_t j) { store(h + j, step(v, j, load(u + j, v), load(h_prev + j, v)), v); });
    }
  }

  void run(int64_t t0, int64_t t1, int64_t l0, int64_t l1, const T* carry, T* carry_out) const {
    with_step(false, [&](auto&& step) { steps_from(t0, t1, l0, l1, carry, step); });
    if (carry_out) {
      const T* h_last = k.h_seq + (t1 - 1) * lanes;
      std::copy(h_last + l0, h_last + l1, carry_out + l0);
    }
  }

  // Scan-then-fix phase 1: from an unknown state (NaN in `unknown`).
  void run_absorbing(int64_t t0, int64_t t1, int64_t l0, int64_t l1, const T* unknown, T* last_row) const {
    with_step(true, [&](auto&& step) { steps_from(t0, t1, l0, l1, unknown, step); });
    const T* h_last = k.h_seq + (t1 - 1) * lanes;
    std::copy(h_last + l0, h_last + l1, last_row + l0);
  }

  // Scan-then-fix phase 2: the carry after a piece that ended on h_last (in place is fine).
  void absorb(const T* h_last, const T* carry_in, T* carry_out, int64_t l0, int64_t l1) const {
    for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
      const auto h = load(h_last + j, v);
      store(carry_out + j, Vec<T>::blendv(h, load(carry_in + j, v), h.isnan()), v);
    });
  }

  // Scan-then-fix phase 3: the steps before the first set of each lane take the carry; stops
  // at the first step where no lane of the block is still unknown.
  void fix(int64_t t0, int64_t t1, int64_t l0, int64_t l1, const T* carry) const {
    constexpr int all_known = (1 << Vec<T>::size()) - 1;  // zero_mask of a NaN-free isnan()
    for (int64_t t = t0; t < t1; ++t) {
      T* h = k.h_seq + t * lanes;
      bool pending = false;
      for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
        const auto x = load(h + j, v);
        const auto unknown = x.isnan();
        if (unknown.zero_mask() == all_known) return;
        store(h + j, Vec<T>::blendv(x, load(carry + j, v), unknown), v);
        pending = true;
      });
      if (!pending) break;
    }
  }

  // The clamped add of the steps (CMRU with levels != 2, aCMRU). Once a lane's composed map
  // is constant (lo == hi: the clip reached the same bound from every starting state) its
  // value is known without the carry, and lo is then exactly the value the sequential
  // recurrence computes (the same clip of the same sum). So the states of every SIMD vector
  // whose lanes have all collapsed are written here, and collapsed_at[vector] records the
  // first such step (t1: never); rerun_prefix computes the steps before it.
  void reduce(int64_t t0, int64_t t1, int64_t l0, int64_t l1, T* summary, int64_t* collapsed_at) const {
    using V = Vec<T>;
    T *add = summary, *lo = summary + lanes, *hi = summary + 2 * lanes;
    for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
      const auto identity = cells::clamped_add_identity<V>();
      store(add + j, identity.add, v), store(lo + j, identity.lo, v), store(hi + j, identity.hi, v);
      collapsed_at[j / V::size()] = t1;
    });
    const V delta(k.delta);
    auto compose_steps = [&](auto&& increment) {
      for (int64_t t = t0; t < t1; ++t) {
        const T* u = k.drive + t * lanes;
        T* h = k.h_seq + t * lanes;
        for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
          const cells::ClampedAdd<V> before{load(add + j, v), load(lo + j, v), load(hi + j, v)};
          const auto after = cells::compose(before, cells::cumulative_step(increment(v, j, load(u + j, v))));
          store(add + j, after.add, v), store(lo + j, after.lo, v), store(hi + j, after.hi, v);
          if ((after.lo == after.hi).zero_mask() != 0) return;  // some lane still depends on the carry
          store(h + j, after.lo, v);
          int64_t& first = collapsed_at[j / V::size()];
          if (first == t1) first = t;
        });
      }
    };
    if (k.kind == MruKind::acmru) {
      compose_steps([&](auto v, int64_t j, const V& u) { return cells::acmru_increment(u, load(beta + j, v), load(alpha + j, v)); });
    } else {
      compose_steps([&](auto v, int64_t j, const V& u) { return cells::cmru_increment(cells::mru_quantize(u, load(beta + j, v)), delta); });
    }
  }

  // The steps reduce() left unwritten, by the exact recurrence from the true carry.
  void rerun_prefix(int64_t t0, int64_t t1, int64_t l0, int64_t l1, const T* carry, const int64_t* collapsed_at) const {
    with_step(false, [&](auto&& step) {
      for (int64_t t = t0; t < t1; ++t) {
        const T* u = k.drive + t * lanes;
        const T* h_prev = t == t0 ? carry : k.h_seq + (t - 1) * lanes;
        T* h = k.h_seq + t * lanes;
        bool pending = false;
        for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
          if (t >= collapsed_at[j / Vec<T>::size()]) return;
          store(h + j, step(v, j, load(u + j, v), load(h_prev + j, v)), v);
          pending = true;
        });
        if (!pending) break;
      }
    });
  }

  void apply(const T* summary, const T* carry_in, T* carry_out, int64_t l0, int64_t l1) const {
    for_lanes<T>(l0, l1, [&](auto v, int64_t j) {
      const cells::ClampedAdd<Vec<T>> f{load(summary + j, v), load(summary + lanes + j, v), load(summary + 2 * lanes + j, v)};
      store(carry_out + j, cells::apply(f, load(carry_in + j, v)), v);
    });
  }
};

// Scan then fix the prefix (see the top of scan_engine.h), for the absorbing MRUs. The carries
// fold from the pieces' last rows as phase 1 left them (copied aside: phase 3 rewrites
// prefixes, maybe up to those rows).
template <class T>
void scan_then_fix(const MruForward<T>& scan, int64_t chunk) {
  const int64_t threads = at::get_num_threads();
  const ChunkPlan plan = plan_chunks(scan.steps, chunk, threads, Chunking::equal_cost);
  const int64_t n = plan.pieces(), L = scan.lanes, align = scan.lane_align;
  if (n == 1) return scan_sequential(scan, scan.k.h0, static_cast<T*>(nullptr));
  const std::vector<T> unknown(L, std::numeric_limits<T>::quiet_NaN());
  std::vector<T> last_rows(n * L);  // each piece's last state row after phase 1 (NaN: held throughout)
  auto last_row = [&](int64_t k) { return last_rows.data() + k * L; };
  at::parallel_for(0, threads, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      for (int64_t k = plan.first[i]; k < plan.first[i + 1]; ++k) {
        const auto [t0, t1] = time_range(plan, k, k + 1, scan);
        for_each_lane_block(0, L, align, [&](int64_t l0, int64_t l1) {
          if (k == 0) {
            scan.run(t0, t1, l0, l1, scan.k.h0, last_row(0));
          } else {
            scan.run_absorbing(t0, t1, l0, l1, unknown.data(), last_row(k));
          }
        });
      }
    }
  });
  at::parallel_for(0, threads, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      std::vector<T> carry(last_row(0), last_row(1));  // the carry entering piece 1
      int64_t folded = 1;                              // carry enters piece `folded`
      for (int64_t k = plan.last[i]; k < plan.last[i + 1]; ++k) {
        const auto [t0, t1] = time_range(plan, k, k + 1, scan);
        for_each_lane_block(0, L, align, [&](int64_t l0, int64_t l1) {
          for (int64_t f = folded; f < k; ++f) scan.absorb(last_row(f), carry.data(), carry.data(), l0, l1);
          scan.fix(t0, t1, l0, l1, carry.data());
        });
        folded = k;
      }
    }
  });
}

// Reduce, writing the collapsed steps, then rerun the prefixes (see the top of scan_engine.h),
// for CMRU with levels != 2 and aCMRU. Never collapsing (a unit that never reaches -1 or +1
// within a piece) costs what reduce-then-rescan costs: one more read of the drive and one
// write of the state over that piece.
template <class T>
void scan_then_rerun_prefix(const MruForward<T>& scan, int64_t chunk) {
  const int64_t threads = at::get_num_threads();
  const ChunkPlan plan = plan_chunks(scan.steps, chunk, threads, Chunking::equal_cost);
  const int64_t n = plan.pieces(), L = scan.lanes, align = scan.lane_align;
  if (n == 1) return scan_sequential(scan, scan.k.h0, static_cast<T*>(nullptr));
  constexpr int64_t S = MruForward<T>::summary_width;
  const int64_t vectors = (L + Vec<T>::size() - 1) / Vec<T>::size();
  std::vector<T> first_carry(L), summaries(n * S * L);
  std::vector<int64_t> collapsed(n * vectors);
  auto summary = [&](int64_t k) { return summaries.data() + k * S * L; };
  auto collapsed_at = [&](int64_t k) { return collapsed.data() + k * vectors; };
  at::parallel_for(0, threads, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      for (int64_t k = plan.first[i]; k < plan.first[i + 1]; ++k) {
        const auto [t0, t1] = time_range(plan, k, k + 1, scan);
        for_each_lane_block(0, L, align, [&](int64_t l0, int64_t l1) {
          if (k == 0) {
            scan.run(t0, t1, l0, l1, scan.k.h0, first_carry.data());
          } else {
            scan.reduce(t0, t1, l0, l1, summary(k), collapsed_at(k));
          }
        });
      }
    }
  });
  at::parallel_for(0, threads, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      std::vector<T> carry = first_carry;  // the carry entering piece `folded`
      int64_t folded = 1;
      for (int64_t k = plan.last[i]; k < plan.last[i + 1]; ++k) {
        const auto [t0, t1] = time_range(plan, k, k + 1, scan);
        for_each_lane_block(0, L, align, [&](int64_t l0, int64_t l1) {
          for (int64_t f = folded; f < k; ++f) scan.apply(summary(f), carry.data(), carry.data(), l0, l1);
          scan.rerun_prefix(t0, t1, l0, l1, carry.data(), collapsed_at(k));
        });
        folded = k;
      }
    }
  });
}

// ---- MRU backward: carry c = dL/dh_t from the steps after t; per step, with the relaxation's
// partial derivatives at the hard trajectory, g = c + dL/dh_t (outside), dL/du_t = g dh/du,
// dL/dbeta += g dh/dbeta, dL/dalpha += g D(u), and c = g dh_t/dh_{t-1} for step t - 1.

template <class T>
struct MruBackward {
  using Scalar = T;
  static constexpr bool reverse = true;
  static constexpr int64_t carry_width = 1, summary_width = 2;  // affine (a, b)
  const MruScanArgs<T>& k;
  int64_t steps, lanes, lane_align;
  const T *beta, *alpha;  // (lanes) per-lane copies

  // CMRU and aCMRU pass dL/dh through time unchanged (identity skip).
  bool identity_skip() const { return k.kind == MruKind::cmru || k.kind == MruKind::acmru; }

  // f(gradient, with_alpha): gradient(tag, lane, u, h_prev) -> cells::MruStepGradient.
  template <class F>
  void with_gradient(F&& f) const {
    using V = Vec<T>;
    const V inv_tau(T(1) / k.tau), delta(k.delta), on(k.theta_on), off(k.theta_off);
    switch (k.kind) {
      case MruKind::bmru:
        return f([&](auto v, int64_t j, const V& u, const V& h) { return cells::bmru_gradient(u, load(beta + j, v), inv_tau, h); },
                 std::false_type());
      case MruKind::cmru:
        return f([&](auto v, int64_t j, const V& u, const V&) { return cells::cmru_gradient(u, load(beta + j, v), inv_tau, delta); },
                 std::false_type());
      case MruKind::acmru:
        return f([&](auto v, int64_t j, const V& u, const V&) {
                   return cells::acmru_gradient(u, load(beta + j, v), load(alpha + j, v));
                 },
                 std::true_type());
      case MruKind::fq_bmru:
        return f([&](auto, int64_t, const V& p, const V& h) { return cells::fq_bmru_gradient(p, on, off, inv_tau, h); },
                 std::false_type());
    }
  }

  void run(int64_t t0, int64_t t1, int64_t l0, int64_t l1, const T* carry_in, T* carry_out) const {
    using V = Vec<T>;
    const int64_t n = l1 - l0;
    std::vector<T> carry(carry_in + l0, carry_in + l1), d_beta(k.d_beta ? n : 0), d_alpha(k.d_alpha ? n : 0);
    with_gradient([&](auto&& gradient, auto with_alpha) {
      for (int64_t t = t1 - 1; t >= t0; --t) {
        const int64_t row = t * lanes;
        const T* h_prev = t ? k.h_seq + row - lanes : k.h0;
        for_lanes_descending<T>(0, n, [&](auto v, int64_t i) {
          const int64_t j = l0 + i;
          const V u = load(k.drive + row + j, v);
          const V g = load(carry.data() + i, v) + load(k.d_h_seq + row + j, v);
          const auto step = gradient(v, j, u, load(h_prev + j, v));
          store(k.d_drive + row + j, g * step.d_u, v);
          if (!d_beta.empty()) store(d_beta.data() + i, load(d_beta.data() + i, v) + g * step.d_beta, v);
          if constexpr (decltype(with_alpha)::value) {
            if (!d_alpha.empty())
              store(d_alpha.data() + i, load(d_alpha.data() + i, v) + g * cells::dead_zone(u, load(beta + j, v)), v);
          }
          store(carry.data() + i, g * step.d_prev, v);
        });
      }
    });
    if (carry_out) std::copy(carry.begin(), carry.end(), carry_out + l0);
    const int64_t slot = at::get_thread_num();
    if (k.d_beta) add_per_unit(k.d_beta + slot * k.hidden, d_beta, l0, k.hidden);
    if (k.d_alpha) add_per_unit(k.d_alpha + slot * k.hidden, d_alpha, l0, k.hidden);
  }

  // The affine map c_out = a c_in + b of steps t1-1 down to t0: per step c <- w (c + d), w the
  // hold weight dh_t/dh_{t-1} (1 for CMRU/aCMRU: then only dL/dh is read).
  void reduce(int64_t t0, int64_t t1, int64_t l0, int64_t l1, T* summary) const {
    using V = Vec<T>;
    T *a = summary, *b = summary + lanes;
    std::fill(a + l0, a + l1, T(1));
    std::fill(b + l0, b + l1, T(0));
    if (identity_skip()) {
      for (int64_t t = t1 - 1; t >= t0; --t) {
        const T* d_out = k.d_h_seq + t * lanes;
        for_lanes_descending<T>(l0, l1, [&](auto v, int64_t j) { store(b + j, load(b + j, v) + load(d_out + j, v), v); });
      }
      return;
    }
    const V inv_tau(T(1) / k.tau), on(k.theta_on), off(k.theta_off);
    auto compose_steps = [&](auto&& hold_weight) {
      for (int64_t t = t1 - 1; t >= t0; --t) {
        const T *u = k.drive + t * lanes, *d_out = k.d_h_seq + t * lanes;
        for_lanes_descending<T>(l0, l1, [&](auto v, int64_t j) {
          const V w = hold_weight(v, j, load(u + j, v));
          const cells::Affine<V> after =
              cells::compose(cells::Affine<V>{load(a + j, v), load(b + j, v)}, cells::Affine<V>{w, w * load(d_out + j, v)});
          store(a + j, after.a, v), store(b + j, after.b, v);
        });
      }
    };
    if (k.kind == MruKind::bmru) {
      compose_steps([&](auto v, int64_t j, const V& u) { return V(1) - cells::set_weight(u, load(beta + j, v), inv_tau); });
    } else {
      compose_steps([&](auto, int64_t, const V& p) {
        V m_on, m_off;
        return cells::fq_bmru_hold_weight(cells::softplus_(p), on, off, inv_tau, m_on, m_off);
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

}  // namespace

template <class T>
static void mru_scan_forward_impl(const MruScanArgs<T>& k) {
  const int64_t lanes = k.batch * k.hidden;
  const auto beta = per_lane(k.beta, lanes, k.hidden), alpha = per_lane(k.alpha, lanes, k.hidden);
  const MruForward<T> scan{k, k.steps, lanes, Vec<T>::size(), beta.data(), alpha.data()};
  if (!k.schedule.chunked || k.relaxed) {  // the relaxation's steps are no set-or-hold / clamped add
    scan_sequential(scan, k.h0, static_cast<T*>(nullptr));
  } else if (scan.absorbing()) {
    scan_then_fix(scan, k.schedule.chunk);
  } else {
    scan_then_rerun_prefix(scan, k.schedule.chunk);
  }
}

template <class T>
static void mru_scan_backward_impl(const MruScanArgs<T>& k) {
  const int64_t lanes = k.batch * k.hidden;
  const auto beta = per_lane(k.beta, lanes, k.hidden), alpha = per_lane(k.alpha, lanes, k.hidden);
  const MruBackward<T> scan{k, k.steps, lanes, Vec<T>::size(), beta.data(), alpha.data()};
  const std::vector<T> zeros(lanes, T(0));
  run_scan(scan, k.schedule, zeros.data(), k.d_h0);
}

NEUROCELL_DEFINE_KERNEL_FOR(mru_scan_forward, MruScanArgs)
NEUROCELL_DEFINE_KERNEL_FOR(mru_scan_backward, MruScanArgs)

}  // namespace neurocell::kernels::CPU_CAPABILITY
