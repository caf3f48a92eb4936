#pragma once
// The LRU's complex diagonal recurrence (docs/cells.md section 3) as a scan over time, the
// tensor-level contract kept by reference::complex_diagonal_scan (reference/scan_reference.cpp)
// and fused::complex_diagonal_scan (kernels/scan.cpp over kernels/cpu/lru.cpp).
#include <torch/types.h>

#include <utility>

#include "ops/scan.h"

namespace neurocell {

namespace reference {
// g_re, g_im (T, B, N); lambda_re, lambda_im (N); s0_re, s0_im (B, N) -> {s_re, s_im} (T, B, N).
std::pair<torch::Tensor, torch::Tensor> complex_diagonal_scan(const torch::Tensor& g_re, const torch::Tensor& g_im,
                                                              const torch::Tensor& lambda_re,
                                                              const torch::Tensor& lambda_im,
                                                              const torch::Tensor& s0_re, const torch::Tensor& s0_im);
}  // namespace reference

namespace fused {
// s_t = lambda s_{t-1} + g_t in complex numbers, as real and imaginary parts:
// g_re, g_im (T, B, N); lambda_re, lambda_im (N); s0_re, s0_im (B, N) -> {s_re, s_im} (T, B, N).
std::pair<torch::Tensor, torch::Tensor> complex_diagonal_scan(const torch::Tensor& g_re, const torch::Tensor& g_im,
                                                              const torch::Tensor& lambda_re,
                                                              const torch::Tensor& lambda_im,
                                                              const torch::Tensor& s0_re, const torch::Tensor& s0_im,
                                                              ScanAlgorithm algorithm = ScanAlgorithm::automatic,
                                                              int64_t chunk = 0);
}  // namespace fused

}  // namespace neurocell
