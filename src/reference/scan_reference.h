#pragma once
// References of the scans of kernels/scan.h: the equations of cells.md sections 3 and 4 as
// plain LibTorch ops, one time step at a time; autograd provides the backward. Ground truth of
// the tests and the "composite" side of `neurocell bench --scan`.
//
// The MRUs are straight through: each step's value is the hard map, and its gradient is that
// of the smooth relaxation written with the previous step's h (cells/mru.h):
//   h = hard + (soft - soft.detach()),  hard computed without gradient.
// soft - soft.detach() is exactly zero, so the values are the hard ones bit for bit, and
// autograd sees d soft: the surrogate gradients evaluated on the hard trajectory.
#include <torch/types.h>

#include <utility>

#include "kernels/scan.h"

namespace neurocell::reference {

// drive (T, B, H), beta (H) (unused by fq_bmru), alpha (H) (acmru only), h0 (B, H) -> h (T, B, H).
// options.algorithm and options.chunk are ignored.
torch::Tensor mru_scan(const torch::Tensor& drive, const torch::Tensor& beta, const torch::Tensor& alpha,
                       const torch::Tensor& h0, const fused::MruOptions& options);

// drive (T, B, 2H) [z_pre | h_tilde], h0 (B, H) -> h (T, B, H).
torch::Tensor mingru_scan(const torch::Tensor& drive, const torch::Tensor& h0);

// g_re, g_im (T, B, N); lambda_re, lambda_im (N); s0_re, s0_im (B, N) -> {s_re, s_im} (T, B, N).
std::pair<torch::Tensor, torch::Tensor> complex_diagonal_scan(const torch::Tensor& g_re, const torch::Tensor& g_im,
                                                              const torch::Tensor& lambda_re,
                                                              const torch::Tensor& lambda_im,
                                                              const torch::Tensor& s0_re, const torch::Tensor& s0_im);

}  // namespace neurocell::reference
