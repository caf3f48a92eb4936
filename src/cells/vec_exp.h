#pragma once
// float32 SIMD exp of the kernels, written here instead of Sleef's exp (Sleef_expf*_u10, what
// ATen's Vectorized<float>::exp() calls) because every sequential cell and every MRU backward
// is bound by its exponentials: this one is cheaper at a stated accuracy (`neurocell bench`
// prints both throughputs). Included by cells/pointwise.h when a kernel translation
// unit has ATen's Vectorized (NEUROCELL_WITH_ATEN_VEC); double keeps Sleef (the float64 tests
// compare fused with reference at 1e-10).
//
// Algorithm (Cody-Waite reduction, then a polynomial):
//   n = round(x log2(e)),  r = x - n ln2  (ln2 split in a short high part and a low part, so
//   n ln2_hi is exact for |n| <= 2^9),  |r| <= ln2/2
//   exp(r) = 1 + r + r^2 q(r), q of degree 4: coefficients fitted to the relative error of
//   exp on [-ln2/2, ln2/2] (Lawson's weighted least squares in float64,
//   scripts/fit_vec_math.py): truncation 3.1e-9, far below float's half-ulp 6.0e-8
//   exp(x) = exp(r) 2^n, the scaling done in two halves so that results in float's subnormal
//   range are rounded once, correctly, instead of flushed.
//
// Accuracy (tests/test_vec_math.cpp checks it against double libm on every 61st float bit
// pattern, all signs and exponents): at most 2 ulp (measured 1.25); x > 88.73 gives +inf,
// x < -103.98 gives +0 (the true value is below half the smallest subnormal), -inf gives 0,
// +inf gives +inf, NaN gives NaN.
#include <cmath>

namespace neurocell::cells::vec_math {

// 2^n lane by lane for integral-valued n in [-150, 130] (after the clamp of exp_f32), as two
// factors 2^(n - n/2) and 2^(n/2), each a normal float.
#if defined(CPU_CAPABILITY_AVX512)
NEUROCELL_CELL_MATH at::vec::Vectorized<float> scale_by_pow2(const at::vec::Vectorized<float>& p,
                                                              const at::vec::Vectorized<float>& n) {
  return _mm512_scalef_ps(p, n);  // p 2^n, rounded once (subnormals included)
}
#elif defined(CPU_CAPABILITY_AVX2)
NEUROCELL_CELL_MATH at::vec::Vectorized<float> scale_by_pow2(const at::vec::Vectorized<float>& p,
                                                              const at::vec::Vectorized<float>& n) {
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i half = _mm256_srai_epi32(ni, 1);
  const __m256i rest = _mm256_sub_epi32(ni, half);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 f1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
  const __m256 f2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, f1), f2);
}
#else
NEUROCELL_CELL_MATH at::vec::Vectorized<float> scale_by_pow2(const at::vec::Vectorized<float>& p,
                                                              const at::vec::Vectorized<float>& n) {
  using V = at::vec::Vectorized<float>;
  float pv[V::size()], nv[V::size()];
  p.store(pv);
  n.store(nv);
  for (int i = 0; i < V::size(); ++i) {
    const int ni = static_cast<int>(nv[i]), half = ni / 2;
    pv[i] = std::ldexp(std::ldexp(pv[i], half), ni - half);
  }
  return V::loadu(pv);
}
#endif

NEUROCELL_CELL_MATH at::vec::Vectorized<float> exp_f32(const at::vec::Vectorized<float>& x) {
  using V = at::vec::Vectorized<float>;
  // The clamp keeps n in [-150, 129]: below -104 every result rounds to +0, above 89 to +inf.
  // minimum/maximum propagate NaN, which then flows through every step.
  const V xc = at::vec::minimum(at::vec::maximum(x, V(-104.0f)), V(89.0f));
  const V n = (xc * V(1.44269504088896341f)).round();
  V r = at::vec::fmadd(n, V(-0.693359375f), xc);  // ln2_hi: 9 significant bits
  r = at::vec::fmadd(n, V(2.12194440e-4f), r);    // -ln2_lo
  V q(1.3814613e-3f);
  q = at::vec::fmadd(q, r, V(8.3687100e-3f));
  q = at::vec::fmadd(q, r, V(4.1668387e-2f));
  q = at::vec::fmadd(q, r, V(1.6666521e-1f));
  q = at::vec::fmadd(q, r, V(4.9999993e-1f));
  const V p = at::vec::fmadd(q, r * r, r + V(1.0f));
  return scale_by_pow2(p, n);
}

}  // namespace neurocell::cells::vec_math
