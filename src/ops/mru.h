#pragma once
// The memory recurrent units BMRU, CMRU, aCMRU, fq-BMRU (docs/cells.md section 4) as a scan
// over time, the tensor-level contract kept by reference::mru_scan (reference/scan_reference.cpp,
// straight through: hard values, surrogate gradients, with autograd) and fused::mru_scan
// (kernels/scan.cpp over kernels/cpu/mru.cpp). The elementwise recurrence only: the block
// around it (projection, norm, GLU) is nn/scan_layers.h.
#include <torch/types.h>

#include "cells/mru_kind.h"
#include "ops/scan.h"

namespace neurocell {

struct MruOptions {
  MruKind kind = MruKind::bmru;
  double tau = 1.0;       // surrogate temperature of the backward
  int64_t levels = 2;     // CMRU: states spaced by delta = 2/(levels - 1) in [-1, 1]
  double theta_off = 0.25, theta_on = 0.75;  // fq-BMRU thresholds on u = softplus(p)
  ScanAlgorithm algorithm = ScanAlgorithm::automatic;
  int64_t chunk = 0;      // chunked: steps per chunk, 0 = automatic (about T/threads)
};

namespace reference {
// drive (T, B, H), beta (H) (unused by fq_bmru), alpha (H) (acmru only), h0 (B, H) -> h (T, B, H).
// options.algorithm and options.chunk are ignored.
torch::Tensor mru_scan(const torch::Tensor& drive, const torch::Tensor& beta, const torch::Tensor& alpha,
                       const torch::Tensor& h0, const MruOptions& options);
}  // namespace reference

namespace fused {
// drive (T, B, H) = U x + b (fq_bmru: the pre-activation p, u = softplus(p) inside); beta (H)
// >= 0, the hysteresis half-width (unused by fq_bmru: may be undefined); alpha (H) in (0, 1]
// (acmru only, else undefined); h0 (B, H). Returns h (T, B, H). Forward with the hard maps,
// backward through the surrogate relaxation (cells/mru.h): gradients for drive, beta, alpha, h0.
torch::Tensor mru_scan(const torch::Tensor& drive, const torch::Tensor& beta, const torch::Tensor& alpha,
                       const torch::Tensor& h0, const MruOptions& options);
}  // namespace fused

}  // namespace neurocell
