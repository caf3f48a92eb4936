#pragma once
// Scans over time for the memory recurrent units (BMRU, CMRU, aCMRU, fq-BMRU; docs/cells.md
// section 4), minGRU and the LRU's complex diagonal recurrence (section 3), as
// torch::autograd::Functions (kernels/scan.cpp) over the kernels of cpu/mru.cpp, mingru.cpp and
// lru.cpp (engine: cpu/scan_engine.h). The elementwise recurrence
// only: the input projections (U x + b for all t, the LRU's gamma * (B u)) and the readouts
// are computed outside, by the layers. Inputs are float32 or float64 CPU tensors, time-major.
//
// Every function computes the same values with either algorithm (bit for bit for BMRU, CMRU
// with 2 levels and fq-BMRU; to rounding for the others):
//   sequential  one pass over time, the B*H lanes split across threads;
//   chunked     time cut into chunks that threads scan in parallel (cpu/scan_engine.h);
//   automatic   chunked when the lanes are too few to keep every thread busy (fewer than
//               kScanLanesPerThread per thread) and there is work for every thread (T*B*H at
//               least 32768 per thread), else sequential, which moves the fewest bytes.
// This header holds what the three scan families share: the algorithm choice and its rule.
// The families' contracts: ops/mru.h, ops/mingru.h, ops/lru.h; the references
// (reference/scan_reference.cpp) keep the same contracts, one step at a time with autograd.
#include <cstdint>

namespace neurocell {

enum class ScanAlgorithm { automatic, sequential, chunked };

// Below this many lanes per thread, `automatic` scans in time chunks. Measured here (2 threads,
// float32, forward): B*H = 256 lanes, T = 2^20: BMRU chunked 0.76 of a memcpy against 0.28
// sequential (128-lane row segments per thread stream badly), LRU 0.47 against 0.24; at
// B*H = 4096 the sequential scan wins for the cells whose chunked scan reads the drive twice.
constexpr int64_t kScanLanesPerThread = 256;

namespace fused {
// Whether `automatic` picks the chunked algorithm for T steps of `lanes` lanes on the current
// number of threads (the rule above; exposed for the benchmark and the layers' reports).
bool scan_uses_chunks(ScanAlgorithm algorithm, int64_t steps, int64_t lanes);
}  // namespace fused

}  // namespace neurocell
