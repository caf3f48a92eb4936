#pragma once
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
//
// This header is the engine of those algorithms: lane blocks, chunk plans and the generic
// drivers, shared by the three families, one file each: mru.cpp (BMRU, CMRU, aCMRU, fq-BMRU,
// with the two MRU-only forward drivers), mingru.cpp and lru.cpp (the LRU core). Like every
// kernel file it is compiled once per CPU capability, and everything in it sits in an
// anonymous namespace inside the capability namespace: each of the three files gets its own
// internal copy, as when they were one file, so nothing is shared between them or between the
// baseline and AVX2 copies.
#include "kernels/cpu/simd.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

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

// Sequential or reduce then rescan, as the schedule says.
template <class Scan, class T = typename Scan::Scalar>
void run_scan(const Scan& scan, const ScanSchedule& schedule, const T* initial, T* final_carry) {
  if (schedule.chunked) {
    scan_chunked(scan, schedule.chunk, initial, final_carry);
  } else {
    scan_sequential(scan, initial, final_carry);
  }
}

}  // namespace

}  // namespace neurocell::kernels::CPU_CAPABILITY
