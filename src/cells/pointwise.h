#pragma once
// The few nonlinearities the cell equations need, for every value type the kernels use:
// float and double (scalar loops, tails, and later CUDA), and ATen's SIMD Vectorized<T>
// when a kernel translation unit includes ATen/cpu/vec/vec.h first. The cell headers call
// these by unqualified name, so the same formula serves every backend.
#include <cmath>

#ifdef __CUDACC__
#define NEUROCELL_HOST_DEVICE __host__ __device__
#else
#define NEUROCELL_HOST_DEVICE
#endif

// Cell formulas are plain inline functions by default; the CPU kernels, compiled once per
// CPU capability, give them internal linkage so the copies never mix.
#ifndef NEUROCELL_CELL_MATH
#define NEUROCELL_CELL_MATH NEUROCELL_HOST_DEVICE inline
#endif

namespace neurocell::cells {

NEUROCELL_CELL_MATH float tanh_(float x) { return std::tanh(x); }
NEUROCELL_CELL_MATH double tanh_(double x) { return std::tanh(x); }
NEUROCELL_CELL_MATH float sigmoid_(float x) { return 1.0f / (1.0f + std::exp(-x)); }
NEUROCELL_CELL_MATH double sigmoid_(double x) { return 1.0 / (1.0 + std::exp(-x)); }

#if defined(NEUROCELL_WITH_ATEN_VEC)
template <class T>
NEUROCELL_CELL_MATH at::vec::Vectorized<T> tanh_(const at::vec::Vectorized<T>& x) {
  return x.tanh();
}
template <class T>
NEUROCELL_CELL_MATH at::vec::Vectorized<T> sigmoid_(const at::vec::Vectorized<T>& x) {
  const at::vec::Vectorized<T> one(T(1));
  return one / (one + x.neg().exp());
}
#endif

}  // namespace neurocell::cells
