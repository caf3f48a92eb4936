#pragma once
// Fused implementations: the same contracts and results as the references (one ops/ header
// per cell family), computed by the kernels of kernels/cpu/ with a hand-written backward
// through time, wrapped as torch::autograd::Function. Inputs must be float32 or float64 CPU
// tensors. Also the fused helpers the layers share (linear, BLAS threading).
#include <torch/types.h>

#include "ops/bistable.h"
#include "ops/gru.h"
#include "ops/lif.h"
#include "ops/lstm.h"
#include "ops/mgu.h"
#include "ops/src.h"

namespace neurocell::fused {

// y = x W^T + b over the last axis of x (..., K), weight (N, K), bias (N) or undefined, with
// autograd; the GEMMs (forward, dx, dW) are split across LibTorch's threads (BLAS itself runs
// single-threaded, see below). The scan blocks' projections use it.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias = {});

// OpenBLAS's own threads fight LibTorch's OpenMP workers (measured 7x slower on 2 cores) and
// the kernels call BLAS from every worker: keep OpenBLAS at one thread. Idempotent.
void use_single_threaded_blas();

// glibc keeps freed memory in the heap instead of unmapping it (once per process). Sequence
// buffers are tens of MB, which glibc serves with a fresh mmap each time, and the first touch
// of every page then costs a fault: on this project's machine that made a BRC training update
// from Python at the BRC paper's shape 3x slower (bench/results, NEUROCELL_KEEP_HEAP=0). The
// command line calls it (configure_threads), and so does the Python package when imported
// (NEUROCELL_KEEP_HEAP=0 turns that off).
void keep_freed_memory_in_heap();

}  // namespace neurocell::fused
