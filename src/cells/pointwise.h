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
}  // namespace neurocell::cells
#include "cells/vec_exp.h"
namespace neurocell::cells {

template <class T>
NEUROCELL_CELL_MATH at::vec::Vectorized<T> tanh_(const at::vec::Vectorized<T>& x) {
  return x.tanh();
}
// float SIMD tanh at float precision with one exp (cells/vec_exp.h) and one division:
// tanh|x| = (1 - e) / (1 + e) with e = exp(-2|x|). Below |x| = 0.55, where 1 - e cancels, an
// odd polynomial x + x^3 q(x^2), q of degree 4 fitted to tanh's relative error on [0, 0.55]
// (truncation 1.0e-9; the Taylor series to x^13 used before left 1.65e-7 at 0.55;
// scripts/fit_vec_math.py fits and prints both). Maximum error stated and tested in
// tests/test_vec_math.cpp.
// double keeps Sleef's tanh: the float64 tests compare to the reference at 1e-10.
NEUROCELL_CELL_MATH at::vec::Vectorized<float> tanh_(const at::vec::Vectorized<float>& x) {
  using V = at::vec::Vectorized<float>;
  const V ax = x.abs();
  const V e = vec_math::exp_f32(ax * V(-2.0f));
  const V far_from_zero = (V(1.0f) - e) / (V(1.0f) + e);
  const V x2 = x * x;
  V q(-6.27423841e-3f);
  q = at::vec::fmadd(q, x2, V(2.10716783e-2f));
  q = at::vec::fmadd(q, x2, V(-5.38523097e-2f));
  q = at::vec::fmadd(q, x2, V(1.33325861e-1f));
  q = at::vec::fmadd(q, x2, V(-3.33333176e-1f));
  const V near_zero = at::vec::fmadd(ax * x2, q, ax);
  const V magnitude = V::blendv(far_from_zero, near_zero, ax < V(0.55f));
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
// float: the same formula on the kernels' own exp (one exp and one division).
NEUROCELL_CELL_MATH at::vec::Vectorized<float> sigmoid_(const at::vec::Vectorized<float>& x) {
  const at::vec::Vectorized<float> one(1.0f);
  return one / (one + vec_math::exp_f32(x.neg()));
}
#endif

}  // namespace neurocell::cells
