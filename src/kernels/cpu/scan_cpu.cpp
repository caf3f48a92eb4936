// Scans over time for the memory recurrent units (BMRU, CMRU, aCMRU, fq-BMRU), minGRU and the
// LRU's complex diagonal recurrence (cells/mru.h): the forward, and the backward as a reverse
// scan of dL/dh. Each step is a handful of flops per element, so these kernels are bound by
// memory traffic (or, for the surrogate backward, by its exp/tanh), and the algorithms below
// are chosen by the bytes they move.
//
// Sequential: one pass over time, the lanes (b, j) split across threads in blocks. Each step
// reads the block's drive row and writes its state row: the least traffic possible (forward
// BMRU: read u, write h). Needs enough lanes to give every thread a block.
//
// Chunked (few lanes, e.g. B = 1): time is cut into pieces that threads scan in parallel,
// which only works because every step's map belongs to a family closed under composition
// (cells/mru.h). The first piece always runs for real (its starting state is known); for the
// others, three variants, picked per cell by bytes moved:
//
//  - scan then fix the prefix (forward of BMRU, CMRU with 2 levels, fq-BMRU): a step that
//    sets the state makes it independent of the past, so each piece runs for real from an
//    unknown state, marked NaN, and afterwards only its steps before the first set (the
//    prefix, usually a few steps) take the carry. Traffic: one pass, as sequential, plus the
//    prefixes.
//  - reduce, writing the collapsed steps, then rerun the prefix (forward of CMRU with other
//    levels, aCMRU): each piece is reduced to its composed clamped add, and as soon as that map
//    is constant for a whole SIMD vector (every lane reached -1 or +1 from every possible
//    start) the states are known and written. The carries then follow from the composed
//    maps, and only the steps before each vector collapsed rerun. Traffic: one pass plus the
//    prefixes; a piece that never collapses costs what the next variant costs.
//  - reduce then rescan (minGRU, LRU, and every backward, whose steps never forget: 1 - m and
//    1 - z never reach 0, |lambda| < 1): every piece is reduced to its composed map (reads the
//    drive once, writes nothing), the carries follow sequentially from the maps, and every
//    piece reruns the exact recurrence from its true carry. Traffic: the drive read twice and
//    the state written once, 3 passes against 2. The textbook alternative, scan each piece
//    from the identity and then fold the carry into every step, writes the state twice and
//    must re-read the drive (or store the running products): more bytes.
// In every variant the values written last come from the sequential recurrence itself (from
// the true carry, or after a collapse, which is exact), so chunked outputs equal sequential
// ones bit for bit when the composed carries are exact (BMRU, fq-BMRU, CMRU with dyadic level
// spacing) and to rounding otherwise.
//
// Phases: 1. pieces scanned or reduced in parallel; 2. carries folded from the maps; 3. pieces
// fixed or rerun in parallel. Phase 2 runs at the start of phase 3, every thread folding the
// few lane-sized rows before its own pieces: two parallel regions instead of three (on a
// machine whose other cores are busy, each region costs a scheduler tick).
//
// Load balance of reduce-then-rescan (plan_chunks): in phase 1 the first piece costs 2 passes
// per step and the others 1, in phase 3 the first piece costs nothing; with P threads, a first
// piece of T/(2P-1) steps and the rest cut at the boundaries of both an even (P-1)-way and an
// even P-way split gives every thread the same bytes in both phases: 2/(2P-1) of a pass over
// the sequence each, for a total of (6P-4)/((2P-1)P) passes of time against 2/P for a
// bandwidth-bound sequential scan, i.e. at best 75 % of its speed at P = 2, 2/3 for large P.
// The two other variants cost about one pass everywhere: equal pieces, one per thread.
#include "kernels/cpu/simd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace neurocell::kernels::CPU_CAPABILITY {

namespace {

// Lanes per block, at most: whole rows of the usual widths (B*H = 16384 lanes is 64 KiB of
// float32), because the arrays are then read and written as one contiguous stream. Blocks cut
// rows into segments that are each a fresh stream for the hardware prefetchers: a BMRU
// forward over (65536, 16, 256) float32 took 160 ms on whole rows, 205 ms on halves and
// 500 ms on 256-lane segments here (memcpy of the same bytes: 100 ms), and at B*H = 16384,
// blocks of 16384 lanes beat blocks of 4096 by 10 to 40 %. The carried row of a block (state
// or dL/dh, just written) and its per-lane parameters still fit in L2.
constexpr int64_t kLaneBlock = 16384;

// ---- Lane blocks

// f(l0, l1) over consecutive blocks of [begin, end), cut at multiples of `align` lanes
// (minGRU's blocks are whole batch rows: its drive interleaves the two gate blocks per row).
template <class F>
void for_each_lane_block(int64_t begin, int64_t end, int64_t align, F&& f) {
  const int64_t block = std::max(align, kLaneBlock / align * align);
  for (int64_t l = begin; l < end; l += block) f(l, std::min(l + block, end));
}

// Elements (steps x lanes) a thread must get before a scan is split across threads: ATen's
// grain size. A parallel region costs more than a tiny scan.
constexpr int64_t kMinElementsPerThread = 32768;

// The same over all lanes, split across threads.
template <class F>
void parallel_lane_blocks(int64_t steps, int64_t lanes, int64_t align, F&& f) {
  const int64_t units = (lanes + align - 1) / align;
  const int64_t grain = std::max<int64_t>(1, kMinElementsPerThread / std::max<int64_t>(1, steps * align));
  at::parallel_for(0, units, grain, [&](int64_t u0, int64_t u1) {
    for_each_lane_block(u0 * align, std::min(u1 * align, lanes), align, f);
  });
}

// f(tag, j) over lanes j in [l0, l1): full SIMD vectors, then a partial one.
template <class T, class F>
void for_lanes(int64_t l0, int64_t l1, F&& f) {
  for_each_unit<T>(l1 - l0, [&](auto v, int64_t i) { f(v, l0 + i); });
}

// The same from the last lane to the first. The backward walks time downwards, and the
// hardware prefetchers follow a stream only if it descends throughout: rows walked downwards
// but read upwards ran 2.8x slower here (B*H = 256, float32).
template <class T, class F>
void for_lanes_descending(int64_t l0, int64_t l1, F&& f) {
  constexpr int64_t width = Vec<T>::size();
  const int64_t n = l1 - l0, full = n / width * width;
  if (full < n) f(Tail<T>{n - full}, l0 + full);
  for (int64_t i = full - width; i >= 0; i -= width) f(Vec<T>(), l0 + i);
}

// Per-lane copies of a per-unit parameter (lane = b*H + j reads p[j]), so that the lanes of a
// SIMD vector may straddle batch rows.
template <class T>
std::vector<T> per_lane(const T* per_unit, int64_t lanes, int64_t hidden) {
  std::vector<T> out;
  if (!per_unit) return out;
  out.resize(lanes);
  for (int64_t l = 0; l < lanes; ++l) out[l] = per_unit[l % hidden];
  return out;
}

// Adds per-lane sums of lanes [l0, l0 + n) into a per-unit row (this thread's slot).
template <class T>
void add_per_unit(T* slot, const std::vector<T>& sums, int64_t l0, int64_t hidden) {
  if (!slot) return;
  for (size_t i = 0; i < sums.size(); ++i) slot[(l0 + static_cast<int64_t>(i)) % hidden] += sums[i];
}

// ---- Plans of the chunked algorithm

// reduce_then_rescan: the first piece costs twice the others in phase 1 (see the top of the
// file); equal_cost: every piece costs about one pass (the two other variants).
enum class Chunking { reduce_then_rescan, equal_cost };

// Pieces of the time axis in scan order (the backward scans from the last step), and which
// thread handles which pieces in the two parallel phases.
struct ChunkPlan {
  std::vector<int64_t> bounds;  // piece k covers scan positions [bounds[k], bounds[k + 1])
  std::vector<int64_t> first;   // phase 1: thread i handles pieces [first[i], first[i + 1])
  std::vector<int64_t> last;    // phase 3: thread i handles pieces [last[i], last[i + 1]), all >= 1
  int64_t pieces() const { return static_cast<int64_t>(bounds.size()) - 1; }
};

// Contiguous groups of the pieces [begin, end) for `parts` threads with about equal total
// cost: a piece goes to the thread whose share of the cost holds the piece's middle.
std::vector<int64_t> split_by_cost(const std::vector<double>& cost, int64_t begin, int64_t end, int64_t parts) {
  double total = 0;
  for (int64_t k = begin; k < end; ++k) total += cost[k];
  std::vector<int64_t> starts(parts + 1, end);
  double before = 0;
  int64_t next = 0;  // the next group whose start is still unknown
  for (int64_t k = begin; k < end; ++k) {
    const double middle = before + cost[k] / 2;
    const int64_t group = total > 0 ? std::min<int64_t>(parts - 1, static_cast<int64_t>(parts * middle / total)) : 0;
    while (next <= group) starts[next++] = k;
    before += cost[k];
  }
  return starts;
}

ChunkPlan plan_chunks(int64_t steps, int64_t chunk, int64_t threads, Chunking how) {
  ChunkPlan plan;
  auto& b = plan.bounds;
  if (chunk > 0) {
    for (int64_t s = 0; s < steps; s += chunk) b.push_back(s);
  } else if (how == Chunking::equal_cost) {
    // One equal piece per thread.
    for (int64_t i = 0; i < threads; ++i) b.push_back(steps * i / threads);
  } else {
    // See the top of the file: first piece T/(2P-1), the rest cut for both phases.
    const int64_t first = steps / (2 * threads - 1), rest = steps - first;
    b.push_back(0);
    for (int64_t i = 0; i < threads - 1; ++i) b.push_back(first + rest * i / (threads - 1));
    for (int64_t i = 0; i < threads; ++i) b.push_back(first + rest * i / threads);
  }
  b.push_back(steps);
  std::sort(b.begin(), b.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  const int64_t n = plan.pieces();
  std::vector<double> length(n), first_cost(n);
  for (int64_t k = 0; k < n; ++k) length[k] = first_cost[k] = static_cast<double>(b[k + 1] - b[k]);
  if (how == Chunking::reduce_then_rescan) first_cost[0] *= 2;  // runs for real while the others reduce
  plan.first = split_by_cost(first_cost, 0, n, threads);
  plan.last = split_by_cost(length, 1, n, threads);
  return plan;
}

// Time steps [t0, t1) of the pieces [k0, k1).
template <class Scan>
std::pair<int64_t, int64_t> time_range(const ChunkPlan& plan, int64_t k0, int64_t k1, const Scan& scan) {
  if (Scan::reverse) return {scan.steps - plan.bounds[k1], scan.steps - plan.bounds[k0]};
  return {plan.bounds[k0], plan.bounds[k1]};
}

// ---- Drivers. A Scan has `steps`, `lanes`, `lane_align`, `reverse` (backward) and
//   run(t0, t1, l0, l1, carry_in, carry_out): the exact recurrence over time steps [t0, t1)
//       (from t1 - 1 down when reverse) for lanes [l0, l1), from carry_in, writing its outputs
//       and, if carry_out is not null, the carry after the last step;
//   reduce(t0, t1, l0, l1, summary): the composition of the steps' maps;
//   apply(summary, carry_in, carry_out, l0, l1): a summary applied to a carry (in place is fine).
// Carries are (carry_width, lanes) and summaries (summary_width, lanes), row by row.

template <class Scan, class T = typename Scan::Scalar>
void scan_sequential(const Scan& scan, const T* initial, T* final_carry) {
  parallel_lane_blocks(scan.steps, scan.lanes, scan.lane_align, [&](int64_t l0, int64_t l1) {
    scan.run(0, scan.steps, l0, l1, initial, final_carry);
  });
}

// Reduce then rescan (see the top of the file).
template <class Scan, class T = typename Scan::Scalar>
void scan_chunked(const Scan& scan, int64_t chunk, const T* initial, T* final_carry) {
  const int64_t threads = at::get_num_threads();
  const ChunkPlan plan = plan_chunks(scan.steps, chunk, threads, Chunking::reduce_then_rescan);
  const int64_t n = plan.pieces(), L = scan.lanes;
  if (n == 1) return scan_sequential(scan, initial, final_carry);
  constexpr int64_t C = Scan::carry_width, S = Scan::summary_width;
  // The carry after the first piece (C, L), and the map of every other piece (S, L) each.
  std::vector<T> first_carry(C * L), summaries(n * S * L);
  auto summary = [&](int64_t k) { return summaries.data() + k * S * L; };
  at::parallel_for(0, threads, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      for (int64_t k = plan.first[i]; k < plan.first[i + 1]; ++k) {
        const auto [t0, t1] = time_range(plan, k, k + 1, scan);
        for_each_lane_block(0, L, scan.lane_align, [&](int64_t l0, int64_t l1) {
          if (k == 0) {
            scan.run(t0, t1, l0, l1, initial, first_carry.data());
          } else {
            scan.reduce(t0, t1, l0, l1, summary(k));
          }
        });
      }
    }
  });
  at::parallel_for(0, threads, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t k0 = plan.last[i], k1 = plan.last[i + 1];
      if (k0 == k1) continue;
      const auto [t0, t1] = time_range(plan, k0, k1, scan);
      std::vector<T> carry = first_carry;  // the carry entering piece k0
      for_each_lane_block(0, L, scan.lane_align, [&](int64_t l0, int64_t l1) {
        for (int64_t k = 1; k < k0; ++k) scan.apply(summary(k), carry.data(), carry.data(), l0, l1);
        scan.run(t0, t1, l0, l1, carry.data(), k1 == n ? final_carry : nullptr);
      });
    }
  });
}

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
    return k.kind == MruStepKind::bmru || k.kind == MruStepKind::fq_bmru ||
           (k.kind == MruStepKind::cmru && k.delta == T(2));
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
    switch (k.kind) {
      case MruStepKind::bmru: return f(bmru);
      case MruStepKind::cmru:
        if (absorbing_form) return f(bmru);
        return f([&](auto v, int64_t j, const V& u, const V& h) {
          const V q = cells::mru_quantize(u, load(beta + j, v));
          return cells::apply(cells::cumulative_step(cells::cmru_increment(q, delta)), h);
        });
      case MruStepKind::acmru:
        return f([&](auto v, int64_t j, const V& u, const V& h) {
          return cells::apply(cells::cumulative_step(cells::acmru_increment(u, load(beta + j, v), load(alpha + j, v))), h);
        });
      case MruStepKind::fq_bmru:
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
    if (k.kind == MruStepKind::acmru) {
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

// Scan then fix the prefix (see the top of the file), for the absorbing MRUs. The carries fold
// from the pieces' last rows as phase 1 left them (copied aside: phase 3 rewrites prefixes,
// maybe up to those rows).
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

// Reduce, writing the collapsed steps, then rerun the prefixes (see the top of the file), for
// CMRU with levels != 2 and aCMRU. Never collapsing (a unit that never reaches -1 or +1 within
// a piece) costs what reduce-then-rescan costs: one more read of the drive and one write of
// the state over that piece.
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
  bool identity_skip() const { return k.kind == MruStepKind::cmru || k.kind == MruStepKind::acmru; }

  // f(gradient, with_alpha): gradient(tag, lane, u, h_prev) -> cells::MruStepGradient.
  template <class F>
  void with_gradient(F&& f) const {
    using V = Vec<T>;
    const V inv_tau(T(1) / k.tau), delta(k.delta), on(k.theta_on), off(k.theta_off);
    switch (k.kind) {
      case MruStepKind::bmru:
        return f([&](auto v, int64_t j, const V& u, const V& h) { return cells::bmru_gradient(u, load(beta + j, v), inv_tau, h); },
                 std::false_type());
      case MruStepKind::cmru:
        return f([&](auto v, int64_t j, const V& u, const V&) { return cells::cmru_gradient(u, load(beta + j, v), inv_tau, delta); },
                 std::false_type());
      case MruStepKind::acmru:
        return f([&](auto v, int64_t j, const V& u, const V&) {
                   return cells::acmru_gradient(u, load(beta + j, v), load(alpha + j, v));
                 },
                 std::true_type());
      case MruStepKind::fq_bmru:
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
    if (k.kind == MruStepKind::bmru) {
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

template <class Scan, class T = typename Scan::Scalar>
void run_scan(const Scan& scan, const ScanSchedule& schedule, const T* initial, T* final_carry) {
  if (schedule.chunked) {
    scan_chunked(scan, schedule.chunk, initial, final_carry);
  } else {
    scan_sequential(scan, initial, final_carry);
  }
}

}  // namespace

template <class T>
static void mru_scan_forward_impl(const MruScanArgs<T>& k) {
  const int64_t lanes = k.batch * k.hidden;
  const auto beta = per_lane(k.beta, lanes, k.hidden), alpha = per_lane(k.alpha, lanes, k.hidden);
  const MruForward<T> scan{k, k.steps, lanes, Vec<T>::size(), beta.data(), alpha.data()};
  if (!k.schedule.chunked) {
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

NEUROCELL_DEFINE_KERNEL_FOR(mru_scan_forward, MruScanArgs)
NEUROCELL_DEFINE_KERNEL_FOR(mru_scan_backward, MruScanArgs)
NEUROCELL_DEFINE_KERNEL_FOR(mingru_scan_forward, MinGruScanArgs)
NEUROCELL_DEFINE_KERNEL_FOR(mingru_scan_backward, MinGruScanArgs)
NEUROCELL_DEFINE_KERNEL_FOR(complex_scan_forward, ComplexScanArgs)
NEUROCELL_DEFINE_KERNEL_FOR(complex_scan_backward, ComplexScanArgs)

}  // namespace neurocell::kernels::CPU_CAPABILITY
