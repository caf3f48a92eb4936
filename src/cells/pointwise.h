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
// a > b ? if_true : if_false, lane by lane (a step function, so no gradient flows through it).
NEUROCELL_CELL_MATH float select_greater(float a, float b, float if_true, float if_false) {
  return a > b ? if_true : if_false;
}
NEUROCELL_CELL_MATH double select_greater(double a, double b, double if_true, double if_false) {
  return a > b ? if_true : if_false;
}

#if defined(NEUROCELL_WITH_ATEN_VEC)
template <class T>
NEUROCELL_CELL_MATH at::vec::Vectorized<T> tanh_(const at::vec::Vectorized<T>& x) {
  return x.tanh();
}
// float SIMD tanh, 3x cheaper than Sleef's tanh (1.8 ns/element here) at float precision:
// tanh|x| = (1 - e) / (1 + e) with e = exp(-2|x|) (Sleef's exp: 0.33 ns/element). Below
// |x| = 0.55, where 1 - e cancels, the odd Taylor series to x^13 (truncation < 2e-7).
// double keeps Sleef's tanh: the float64 tests compare to the reference at 1e-10.
NEUROCELL_CELL_MATH at::vec::Vectorized<float> tanh_(const at::vec::Vectorized<float>& x) {
  using V = at::vec::Vectorized<float>;
  const V ax = x.abs();
  const V e = (ax * V(-2.0f)).exp();
  const V far_from_zero = (V(1.0f) - e) / (V(1.0f) + e);
  const V x2 = x * x;
  V p(21844.0f / 6081075.0f);
  p = at::vec::fmadd(p, x2, V(-1382.0f / 155925.0f));
  p = at::vec::fmadd(p, x2, V(62.0f / 2835.0f));
  p = at::vec::fmadd(p, x2, V(-17.0f / 315.0f));
  p = at::vec::fmadd(p, x2, V(2.0f / 15.0f));
  p = at::vec::fmadd(p, x2, V(-1.0f / 3.0f));
  p = at::vec::fmadd(p, x2, V(1.0f));
  const V magnitude = V::blendv(far_from_zero, ax * p, ax < V(0.55f));
  return V::blendv(magnitude, magnitude.neg(), x < V(0.0f));
}
template <class T>
NEUROCELL_CELL_MATH at::vec::Vectorized<T> select_greater(const at::vec::Vectorized<T>& a,
                                                          const at::vec::Vectorized<T>& b,
                                                          const at::vec::Vectorized<T>& if_true,
                                                          const at::vec::Vectorized<T>& if_false) {
  return at::vec::Vectorized<T>::blendv(if_false, if_true, a > b);
}
template <class T>
NEUROCELL_CELL_MATH at::vec::Vectorized<T> sigmoid_(const at::vec::Vectorized<T>& x) {
  const at::vec::Vectorized<T> one(T(1));
  return one / (one + x.neg().exp());
}
#endif

}  // namespace neurocell::cells
