#pragma once
// Fused CPU kernels: a whole sequence forward, and its backward through time, on raw
// pointers. Every array is row-major and time-major: (T, B, X) means element (t, b, x) at
// ((t*B + b)*X + x). Input projections (U x + b for all t) arrive precomputed in `drive`
// (one big GEMM outside); the kernels do only what must be sequential: the recurrent GEMM
// of each step (full-matrix cells) and the pointwise cell math of cells/*.h.
//
// Parallel over the batch: each thread owns a block of batch rows for the whole sequence,
// so threads never synchronise inside the time loop.
//
// Each kernel is compiled three times, for the baseline x86-64, AVX2+FMA and AVX-512 (ATen's
// Vectorized of 8 or 16 floats), and the dispatcher picks one at run time, as ATen does: the
// copies live in namespaces named by CPU_CAPABILITY.
#include <cstdint>

#include "cells/mru_kind.h"

namespace neurocell::kernels {

template <class T>
struct KernelArgs {
  int64_t steps = 0, batch = 0, hidden = 0;  // T, B, H
  int64_t input = 0;             // I (BRC, which projects its inputs inside the time loop)
  // Forward inputs.
  const T* x = nullptr;          // (T, B, I) BRC only
  const T* weight_ih = nullptr;  // (3H, I) BRC only
  const T* bias = nullptr;       // (3H) BRC only
  const T* drive = nullptr;      // (T, B, G*H) input projections with biases, gate blocks in order
  const T* weight_hh = nullptr;  // (R*H, H) recurrent matrix (nBRC R=2, GRU 3, LSTM 4, MGU 2)
  const T* bias_hh = nullptr;    // (3H) GRU only (kept apart because r multiplies W_n h + b_hn)
  const T* w_a = nullptr;        // (H) BRC only
  const T* w_c = nullptr;        // (H) BRC only
  const T* h0 = nullptr;         // (B, H)
  const T* c0 = nullptr;         // (B, H) LSTM only
  // Forward outputs.
  T* h_seq = nullptr;            // (T, B, H)
  T* c_seq = nullptr;            // (T, B, H) LSTM only
  T* saved = nullptr;            // (T, B, S*H) values the backward needs (layout per cell)
  // Backward inputs (the forward's arrays above are read again).
  const T* d_h_seq = nullptr;    // (T, B, H) dL/dh_t from outside the layer
  const T* d_c_seq = nullptr;    // (T, B, H) LSTM: dL/dc_t from outside, or null
  // Backward outputs.
  T* d_drive = nullptr;          // (T, B, G*H) dL/d(drive)
  T* d_recurrent = nullptr;      // (T, B, 3H) GRU: dL/d(W_hh h + b_hh)
  T* d_h0 = nullptr;             // (B, H)
  T* d_c0 = nullptr;             // (B, H) LSTM only
  // BRC: gradients of x (or null when not needed) and per-thread partial sums of the
  // parameter gradients, slot at::get_thread_num(): (threads, 3H, I), (threads, 3H),
  // (threads, H), (threads, H). The caller zeroes them and sums over threads.
  T* d_x = nullptr;
  T* d_weight_ih = nullptr;
  T* d_bias = nullptr;
  T* d_w_a = nullptr;
  T* d_w_c = nullptr;
};

// SRC (cells/spiking.h): cellular like BRC, three states per unit. The input projection
// W s_in arrives precomputed in `drive` (dense GEMM or the sparse kernel below).
template <class T>
struct SrcArgs {
  int64_t steps = 0, batch = 0, hidden = 0;  // T, B, H
  T alpha = T(0.9);
  bool detach_recurrence = false;
  const T* drive = nullptr;                           // (T, B, H)
  const T *rho = nullptr, *r = nullptr, *r_s = nullptr;  // (H) each
  const T *z_hyp = nullptr, *z_dep = nullptr, *bias = nullptr;
  const T *i0 = nullptr, *h0 = nullptr, *hs0 = nullptr;  // (B, H) initial states
  T *i_seq = nullptr, *h_seq = nullptr, *hs_seq = nullptr;  // (T, B, H) forward outputs
  const T* d_h_seq = nullptr;  // (T, B, H) dL/dh_t from outside (spike gradients, straight through)
  T* d_drive = nullptr;        // (T, B, H)
  T *d_i0 = nullptr, *d_h0 = nullptr, *d_hs0 = nullptr;  // (B, H)
  T* d_bias = nullptr;         // (threads, H) per-thread partial sums, zeroed by the caller
};

// out (R, N) = x (R, K) @ w_t (K, N), reading only the nonzero entries of x: spike trains
// are mostly zeros, so this costs nnz*N instead of R*K*N. The gradient kernel adds
// x^T d_out into d_w_t, per-thread slots (threads, K, N), zeroed by the caller.
template <class T>
struct SparseProjectionArgs {
  int64_t rows = 0, in = 0, out = 0;  // R, K, N
  const T* x = nullptr;               // (R, K)
  const T* w_t = nullptr;             // (K, N)
  T* y = nullptr;                     // (R, N)
  const T* d_y = nullptr;             // (R, N)
  T* d_w_t = nullptr;                 // (threads, K, N)
};

// LIF (cells/spiking.h, lif_*): one state per unit, the membrane u. The input projection
// W s_in arrives precomputed in `drive`, the bias is added here. The forward stores u and
// the spikes of every step; the backward needs only u (surrogate and reset read it).
template <class T>
struct LifArgs {
  int64_t steps = 0, batch = 0, hidden = 0;  // T, B, H
  T beta = T(0.9), threshold = T(1), slope = T(25);
  bool relaxed = false;        // forward: s_seq holds the relaxed spike (ops/surrogate_relaxation.h)
  const T* drive = nullptr;    // (T, B, H) W s_in
  const T* bias = nullptr;     // (H)
  const T* u0 = nullptr;       // (B, H) initial membrane
  T *u_seq = nullptr, *s_seq = nullptr;  // (T, B, H) forward outputs: membrane, spikes
  const T* d_s_seq = nullptr;  // (T, B, H) dL/ds_t from outside
  const T* d_u_seq = nullptr;  // (T, B, H) dL/du_t from outside, or null
  T* d_u = nullptr;            // (T, B, H) dL/du_t in total (= dL/d drive_t = dL/d b per (t, b))
  T* d_u0 = nullptr;           // (B, H)
};

// Rate coding (tasks/spiking.cpp): for steps s in [step0, step1) of a trace whose rows hold
// `row` values, out[s * row + j] = 1 if the 16-bit uniform u(s, j) < threshold[j], else 0.
// u(s, j) is lane j % 4 of the 64-bit word mix64(seed + (s * words + j / 4 + 1) * gamma),
// words = ceil(row / 4), mix64 and gamma SplitMix64's: a counter-based stream, so any thread
// can draw any step and the result does not depend on the thread count or the CPU copy.
struct RateCodeArgs {
  const uint32_t* threshold = nullptr;  // (row) round(65536 q), 0 .. 65536
  float* out = nullptr;                 // (steps, row)
  int64_t row = 0, step0 = 0, step1 = 0;
  uint64_t seed = 0;
};

// Saved layouts (S*H per (t, b)): BRC none (recomputed in the backward); nBRC [a, c, n]; GRU [r, z, n, W_n h + b_hn];
// LSTM [i, f, g, o, tanh(c)]; MGU [f, n, f*h_prev].
#define NEUROCELL_CPU_KERNELS(X) \
  X(brc_forward) X(brc_backward) X(nbrc_forward) X(nbrc_backward) X(gru_forward) \
  X(gru_backward) X(lstm_forward) X(lstm_backward) X(mgu_forward) X(mgu_backward)

#define NEUROCELL_DECLARE_KERNEL(name) \
  void name(const KernelArgs<float>& args);  \
  void name(const KernelArgs<double>& args);

namespace DEFAULT {
NEUROCELL_CPU_KERNELS(NEUROCELL_DECLARE_KERNEL)
}
namespace AVX2 {
NEUROCELL_CPU_KERNELS(NEUROCELL_DECLARE_KERNEL)
}
namespace AVX512 {
NEUROCELL_CPU_KERNELS(NEUROCELL_DECLARE_KERNEL)
}
// One kernel over KernelArgs declared in every CPU copy, inside namespace neurocell::kernels:
// a new cell's autograd wrapper (kernels/<cell>.cpp) declares its own kernels with it, and
// its kernel file defines them with NEUROCELL_DEFINE_KERNEL (cpu/simd.h); no list to edit.
#define NEUROCELL_DECLARE_CPU_KERNEL(name)   \
  namespace DEFAULT {                        \
  NEUROCELL_DECLARE_KERNEL(name)             \
  }                                          \
  namespace AVX2 {                           \
  NEUROCELL_DECLARE_KERNEL(name)             \
  }                                          \
  namespace AVX512 {                         \
  NEUROCELL_DECLARE_KERNEL(name)             \
  }
#define NEUROCELL_DECLARE_SPIKING_KERNELS                                               \
  void src_forward(const SrcArgs<float>&);                                              \
  void src_forward(const SrcArgs<double>&);                                             \
  void src_backward(const SrcArgs<float>&);                                             \
  void src_backward(const SrcArgs<double>&);                                            \
  void sparse_projection(const SparseProjectionArgs<float>&);                           \
  void sparse_projection(const SparseProjectionArgs<double>&);                          \
  void sparse_projection_backward(const SparseProjectionArgs<float>&);                  \
  void sparse_projection_backward(const SparseProjectionArgs<double>&);                  \
  void lif_forward(const LifArgs<float>&);                                              \
  void lif_forward(const LifArgs<double>&);                                             \
  void lif_backward(const LifArgs<float>&);                                             \
  void lif_backward(const LifArgs<double>&);                                            \
  void rate_code_spikes(const RateCodeArgs&);
namespace DEFAULT {
NEUROCELL_DECLARE_SPIKING_KERNELS
}
namespace AVX2 {
NEUROCELL_DECLARE_SPIKING_KERNELS
}
namespace AVX512 {
NEUROCELL_DECLARE_SPIKING_KERNELS
}
#undef NEUROCELL_DECLARE_SPIKING_KERNELS

// Scans over time (cpu/scan_engine.h, one family per file in cpu/mru.cpp, mingru.cpp, lru.cpp;
// cells/mru.h): the memory recurrent units, minGRU and the LRU's complex diagonal recurrence.
// Every step is an elementwise map of one lane (b, j), so the B*H lanes are independent;
// per-unit parameters (H) are indexed by j = lane % H.
// Two algorithms: sequential (lanes split across threads, one pass over time) and chunked
// (time split into chunks that threads scan in parallel, for when lanes are too few to keep
// every thread busy). Backward = the same scans run in reverse over the carried dL/dh.
struct ScanSchedule {
  bool chunked = false;
  int64_t chunk = 0;  // steps per chunk; 0 = automatic (about T/threads)
};


template <class T>
struct MruScanArgs {
  int64_t steps = 0, batch = 0, hidden = 0;  // T, B, H
  MruKind kind = MruKind::bmru;
  ScanSchedule schedule;
  T tau = 1, delta = 2;                      // surrogate temperature; CMRU level spacing 2/(levels-1)
  T theta_off = T(0.25), theta_on = T(0.75);  // fq-BMRU thresholds
  bool relaxed = false;  // forward: the relaxation's smooth steps (ops/surrogate_relaxation.h), sequential
  const T* drive = nullptr;    // (T, B, H) u = U x + b (fq-BMRU: pre-activation p, u = softplus(p))
  const T* beta = nullptr;     // (H) hysteresis half-width (unused by fq-BMRU)
  const T* alpha = nullptr;    // (H) aCMRU step size
  const T* h0 = nullptr;       // (B, H)
  T* h_seq = nullptr;          // (T, B, H) forward output, read again by the backward
  const T* d_h_seq = nullptr;  // (T, B, H) dL/dh_t from outside
  T* d_drive = nullptr;        // (T, B, H)
  T* d_h0 = nullptr;           // (B, H)
  T* d_beta = nullptr;         // (threads, H) per-thread partial sums, zeroed by the caller (or null)
  T* d_alpha = nullptr;        // (threads, H) aCMRU, idem
};

template <class T>
struct MinGruScanArgs {
  int64_t steps = 0, batch = 0, hidden = 0;  // T, B, H
  ScanSchedule schedule;
  const T* drive = nullptr;    // (T, B, 2H) [z_pre | h_tilde]
  const T* h0 = nullptr;       // (B, H)
  T* h_seq = nullptr;          // (T, B, H)
  const T* d_h_seq = nullptr;  // (T, B, H)
  T* d_drive = nullptr;        // (T, B, 2H)
  T* d_h0 = nullptr;           // (B, H)
};

// s_t = lambda s_{t-1} + g_t in complex numbers, real and imaginary parts in separate arrays.
template <class T>
struct ComplexScanArgs {
  int64_t steps = 0, batch = 0, hidden = 0;  // T, B, N
  ScanSchedule schedule;
  const T *g_re = nullptr, *g_im = nullptr;            // (T, B, N)
  const T *lambda_re = nullptr, *lambda_im = nullptr;  // (N)
  const T *s0_re = nullptr, *s0_im = nullptr;          // (B, N)
  T *s_re = nullptr, *s_im = nullptr;                  // (T, B, N)
  const T *d_s_re = nullptr, *d_s_im = nullptr;        // (T, B, N) dL/dRe s_t, dL/dIm s_t
  T *d_g_re = nullptr, *d_g_im = nullptr;              // (T, B, N)
  T *d_s0_re = nullptr, *d_s0_im = nullptr;            // (B, N)
  T *d_lambda_re = nullptr, *d_lambda_im = nullptr;    // (threads, N) per-thread partial sums, zeroed by the caller
};

#define NEUROCELL_DECLARE_SCAN_KERNELS                        \
  void mru_scan_forward(const MruScanArgs<float>&);           \
  void mru_scan_forward(const MruScanArgs<double>&);          \
  void mru_scan_backward(const MruScanArgs<float>&);          \
  void mru_scan_backward(const MruScanArgs<double>&);         \
  void mingru_scan_forward(const MinGruScanArgs<float>&);     \
  void mingru_scan_forward(const MinGruScanArgs<double>&);    \
  void mingru_scan_backward(const MinGruScanArgs<float>&);    \
  void mingru_scan_backward(const MinGruScanArgs<double>&);   \
  void complex_scan_forward(const ComplexScanArgs<float>&);   \
  void complex_scan_forward(const ComplexScanArgs<double>&);  \
  void complex_scan_backward(const ComplexScanArgs<float>&);  \
  void complex_scan_backward(const ComplexScanArgs<double>&);
namespace DEFAULT {
NEUROCELL_DECLARE_SCAN_KERNELS
}
namespace AVX2 {
NEUROCELL_DECLARE_SCAN_KERNELS
}
namespace AVX512 {
NEUROCELL_DECLARE_SCAN_KERNELS
}
#undef NEUROCELL_DECLARE_SCAN_KERNELS

// The vector math of the kernels (cells/vec_exp.h, cells/pointwise.h) on arrays of n values,
// for its accuracy tests and for the benchmark's transcendental throughput: float32 is the
// kernels' own exp, float64 Sleef's (ATen's Vectorized<double>::exp()); `vec_sleef_exp` is
// Sleef's float32 exp, the one the kernels used before, for comparison.
#define NEUROCELL_DECLARE_VEC_MATH                                    \
  void vec_exp(const float* x, float* y, int64_t n);                  \
  void vec_exp(const double* x, double* y, int64_t n);                \
  void vec_tanh(const float* x, float* y, int64_t n);                 \
  void vec_sigmoid(const float* x, float* y, int64_t n);              \
  void vec_sleef_exp(const float* x, float* y, int64_t n);
namespace DEFAULT {
NEUROCELL_DECLARE_VEC_MATH
}
namespace AVX2 {
NEUROCELL_DECLARE_VEC_MATH
}
namespace AVX512 {
NEUROCELL_DECLARE_VEC_MATH
}
#undef NEUROCELL_DECLARE_VEC_MATH
#undef NEUROCELL_DECLARE_KERNEL

// The copy of the kernels this process runs: the best this CPU supports (checked once), or
// the one NEUROCELL_CPU_CAPABILITY=default|avx2|avx512 asks for (the tests run each copy;
// asking for one the CPU lacks is an error).
enum class CpuCopy { baseline, avx2, avx512 };
CpuCopy cpu_copy();
const char* cpu_copy_name(CpuCopy copy);  // "DEFAULT", "AVX2", "AVX512"
// Whether this CPU can run `copy`: the checks behind cpu_copy(), for the tests that run each copy.
bool cpu_can_run(CpuCopy copy);

// The vector math of one copy (NEUROCELL_DECLARE_VEC_MATH above), for its tests and the benchmark.
struct VecMath {
  void (*exp)(const float*, float*, int64_t);
  void (*exp_f64)(const double*, double*, int64_t);
  void (*tanh)(const float*, float*, int64_t);
  void (*sigmoid)(const float*, float*, int64_t);
  void (*sleef_exp)(const float*, float*, int64_t);
};
VecMath vec_math(CpuCopy copy);

}  // namespace neurocell::kernels

// Runs the chosen copy of kernel `name`.
#define NEUROCELL_CPU_DISPATCH(name, args)                                              \
  (::neurocell::kernels::cpu_copy() == ::neurocell::kernels::CpuCopy::avx512          \
       ? ::neurocell::kernels::AVX512::name(args)                                     \
       : ::neurocell::kernels::cpu_copy() == ::neurocell::kernels::CpuCopy::avx2      \
             ? ::neurocell::kernels::AVX2::name(args)                                 \
             : ::neurocell::kernels::DEFAULT::name(args))
