#pragma once
// minGRU's recurrence (docs/cells.md section 3) as a scan over time, the tensor-level contract
// kept by reference::mingru_scan (reference/scan_reference.cpp) and fused::mingru_scan
// (kernels/scan.cpp over kernels/cpu/mingru.cpp).
#include <torch/types.h>

#include "ops/scan.h"

namespace neurocell {

namespace reference {
// drive (T, B, 2H) [z_pre | h_tilde], h0 (B, H) -> h (T, B, H).
torch::Tensor mingru_scan(const torch::Tensor& drive, const torch::Tensor& h0);
}  // namespace reference

namespace fused {
// drive (T, B, 2H) [z_pre | h_tilde], h0 (B, H) -> h (T, B, H):
//   z = sigmoid(z_pre), h_t = (1 - z) h_{t-1} + z h_tilde.
torch::Tensor mingru_scan(const torch::Tensor& drive, const torch::Tensor& h0,
                          ScanAlgorithm algorithm = ScanAlgorithm::automatic, int64_t chunk = 0);
}  // namespace fused

}  // namespace neurocell
