#pragma once
// Scans over time for the memory recurrent units (BMRU, CMRU, aCMRU, fq-BMRU; cells.md
// section 4), minGRU and the LRU's complex diagonal recurrence (section 3), as
// torch::autograd::Functions over the kernels of cpu/scan_cpu.cpp. The elementwise recurrence
// only: the input projections (U x + b for all t, the LRU's gamma * (B u)) and the readouts
// are computed outside, by the layers. Inputs are float32 or float64 CPU tensors, time-major.
//
// Every function computes the same values with either algorithm (bit for bit for BMRU, CMRU
// with 2 levels and fq-BMRU; to rounding for the others):
//   sequential  one pass over time, the B*H lanes split across threads;
//   chunked     time cut into chunks that threads scan in parallel (cpu/scan_cpu.cpp);
//   automatic   chunked when the lanes are too few to keep every thread busy (fewer than
//               kScanLanesPerThread per thread) and there is work for every thread (T*B*H at
//               least 32768 per thread), else sequential, which moves the fewest bytes.
#include <torch/types.h>

#include <cstdint>
#include <utility>

namespace neurocell::fused {

enum class ScanAlgorithm { automatic, sequential, chunked };
enum class MruKind { bmru, cmru, acmru, fq_bmru };

// Below this many lanes per thread, `automatic` scans in time chunks. Measured here (2 threads,
// float32, forward): B*H = 256 lanes, T = 2^20: BMRU chunked 0.76 of a memcpy against 0.28
// sequential (128-lane row segments per thread stream badly), LRU 0.47 against 0.24; at
// B*H = 4096 the sequential scan wins for the cells whose chunked scan reads the drive twice.
constexpr int64_t kScanLanesPerThread = 256;

struct MruOptions {
  MruKind kind = MruKind::bmru;
  double tau = 1.0;       // surrogate temperature of the backward
  int64_t levels = 2;     // CMRU: states spaced by delta = 2/(levels - 1) in [-1, 1]
  double theta_off = 0.25, theta_on = 0.75;  // fq-BMRU thresholds on u = softplus(p)
  ScanAlgorithm algorithm = ScanAlgorithm::automatic;
  int64_t chunk = 0;      // chunked: steps per chunk, 0 = automatic (about T/threads)
};

// drive (T, B, H) = U x + b (fq_bmru: the pre-activation p, u = softplus(p) inside); beta (H)
// >= 0, the hysteresis half-width (unused by fq_bmru: may be undefined); alpha (H) in (0, 1]
// (acmru only, else undefined); h0 (B, H). Returns h (T, B, H). Forward with the hard maps,
// backward through the surrogate relaxation (cells/mru.h): gradients for drive, beta, alpha, h0.
torch::Tensor mru_scan(const torch::Tensor& drive, const torch::Tensor& beta, const torch::Tensor& alpha,
                       const torch::Tensor& h0, const MruOptions& options);

// drive (T, B, 2H) [z_pre | h_tilde], h0 (B, H) -> h (T, B, H):
//   z = sigmoid(z_pre), h_t = (1 - z) h_{t-1} + z h_tilde.
torch::Tensor mingru_scan(const torch::Tensor& drive, const torch::Tensor& h0,
                          ScanAlgorithm algorithm = ScanAlgorithm::automatic, int64_t chunk = 0);

// s_t = lambda s_{t-1} + g_t in complex numbers, as real and imaginary parts:
// g_re, g_im (T, B, N); lambda_re, lambda_im (N); s0_re, s0_im (B, N) -> {s_re, s_im} (T, B, N).
std::pair<torch::Tensor, torch::Tensor> complex_diagonal_scan(const torch::Tensor& g_re, const torch::Tensor& g_im,
                                                              const torch::Tensor& lambda_re,
                                                              const torch::Tensor& lambda_im,
                                                              const torch::Tensor& s0_re, const torch::Tensor& s0_im,
                                                              ScanAlgorithm algorithm = ScanAlgorithm::automatic,
                                                              int64_t chunk = 0);

// Whether `automatic` picks the chunked algorithm for T steps of `lanes` lanes on the current
// number of threads (the rule above; exposed for the benchmark and the layers' reports).
bool scan_uses_chunks(ScanAlgorithm algorithm, int64_t steps, int64_t lanes);

}  // namespace neurocell::fused
