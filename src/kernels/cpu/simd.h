#pragma once
// Included first by every kernel file (compiled once per CPU capability). Everything here
// lives in a namespace named by CPU_CAPABILITY so that the baseline, AVX2 and AVX-512 copies never
// get merged by the linker.
#define NEUROCELL_WITH_ATEN_VEC
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/vec.h>

#include <vector>

#include "kernels/cpu/kernels_cpu.h"

// The cell formulas must also be compiled per capability: give them internal linkage here.
#define NEUROCELL_CELL_MATH static inline
#include "cells/bistable.h"
#include "cells/gru.h"
#include "cells/lstm.h"
#include "cells/mgu.h"
#include "cells/mru.h"
#include "cells/spiking.h"

namespace neurocell::kernels::CPU_CAPABILITY {

template <class T>
using Vec = at::vec::Vectorized<T>;

// The lambda of for_each_unit receives a tag saying how many lanes it handles: a full
// Vec<T>, a Tail<T> (the last H % width units as a partial vector: ATen loads and stores
// only `count` lanes, the rest are zeros), or a scalar T. Value<tag> is the type to compute
// with; load and store take the tag so a tail never touches memory past the row.
template <class T>
struct Tail {
  int64_t count;
};
template <class Tag>
struct ValueOf {
  using type = Tag;
};
template <class T>
struct ValueOf<Tail<T>> {
  using type = Vec<T>;
};
template <class Tag>
using Value = typename ValueOf<Tag>::type;

template <class T>
inline T load(const T* p, T) { return *p; }
template <class T>
inline Vec<T> load(const T* p, Vec<T>) { return Vec<T>::loadu(p); }
// A tail is a masked load and store: ATen's loadu(p, count) and store(p, count) go through a
// zeroed stack array and memcpy, which made the last partial vector of a row (H = 100: 4 of 16
// lanes) cost as much as the six full ones before it.
#if defined(CPU_CAPABILITY_AVX512)
inline __mmask16 tail_mask(Tail<float> tail) { return static_cast<__mmask16>((1u << tail.count) - 1); }
inline __mmask8 tail_mask(Tail<double> tail) { return static_cast<__mmask8>((1u << tail.count) - 1); }
inline Vec<float> load(const float* p, Tail<float> tail) { return _mm512_maskz_loadu_ps(tail_mask(tail), p); }
inline Vec<double> load(const double* p, Tail<double> tail) { return _mm512_maskz_loadu_pd(tail_mask(tail), p); }
#elif defined(CPU_CAPABILITY_AVX2)
// Lanes below count: all ones (the sign bit is what maskload and maskstore read).
inline __m256i tail_mask(Tail<float> tail) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(tail.count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline __m256i tail_mask(Tail<double> tail) {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(tail.count), _mm256_setr_epi64x(0, 1, 2, 3));
}
inline Vec<float> load(const float* p, Tail<float> tail) { return _mm256_maskload_ps(p, tail_mask(tail)); }
inline Vec<double> load(const double* p, Tail<double> tail) { return _mm256_maskload_pd(p, tail_mask(tail)); }
#else
template <class T>
inline Vec<T> load(const T* p, Tail<T> tail) { return Vec<T>::loadu(p, tail.count); }
#endif
template <class T>
inline void store(T* p, T v, T) { *p = v; }
template <class T>
inline void store(T* p, const Vec<T>& v, Vec<T>) { v.store(p); }
#if defined(CPU_CAPABILITY_AVX512)
inline void store(float* p, const Vec<float>& v, Tail<float> tail) { _mm512_mask_storeu_ps(p, tail_mask(tail), v); }
inline void store(double* p, const Vec<double>& v, Tail<double> tail) { _mm512_mask_storeu_pd(p, tail_mask(tail), v); }
#elif defined(CPU_CAPABILITY_AVX2)
inline void store(float* p, const Vec<float>& v, Tail<float> tail) { _mm256_maskstore_ps(p, tail_mask(tail), v); }
inline void store(double* p, const Vec<double>& v, Tail<double> tail) { _mm256_maskstore_pd(p, tail_mask(tail), v); }
#else
template <class T>
inline void store(T* p, const Vec<T>& v, Tail<T> tail) { v.store(p, static_cast<int>(tail.count)); }
#endif

// Calls f(tag, j) over units j in [0, n): full SIMD vectors, then one partial vector for the
// remainder (a scalar tail would run libm's tanh/exp per unit: at H = 100 it cost as much
// as the 12 full vectors). f is a generic lambda, so one body serves both.
template <class T, class F>
inline void for_each_unit(int64_t n, F&& f) {
  int64_t j = 0;
  for (; j + Vec<T>::size() <= n; j += Vec<T>::size()) f(Vec<T>(), j);
  if (j < n) f(Tail<T>{n - j}, j);
}

// Calls f(p) for every p in [0, n) with x[p] != 0, in order. Spike trains are about 97 % zeros:
// a branch per element mispredicted at every spike, so whole vectors are compared at once and
// only the set bits of the comparison are visited.
template <class T, class F>
inline void for_each_nonzero(const T* x, int64_t n, F&& f) {
  int64_t p = 0;
#if defined(CPU_CAPABILITY_AVX512)
  if constexpr (sizeof(T) == 4) {
    for (; p + 16 <= n; p += 16) {
      uint32_t bits = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + p), _mm512_setzero_ps(), _CMP_NEQ_UQ);
      for (; bits; bits &= bits - 1) f(p + __builtin_ctz(bits));
    }
  }
#elif defined(CPU_CAPABILITY_AVX2)
  if constexpr (sizeof(T) == 4) {
    for (; p + 8 <= n; p += 8) {
      uint32_t bits = static_cast<uint32_t>(
          _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + p), _mm256_setzero_ps(), _CMP_NEQ_UQ)));
      for (; bits; bits &= bits - 1) f(p + __builtin_ctz(bits));
    }
  }
#endif
  for (; p < n; ++p)
    if (x[p] != T(0)) f(p);
}

// Runs f(b0, b1) on blocks of batch rows, one block per thread.
template <class F>
inline void for_each_batch_block(int64_t batch, F&& f) {
  at::parallel_for(0, batch, 1, f);
}

}  // namespace neurocell::kernels::CPU_CAPABILITY

#include "kernels/cpu/gemm.h"

// Defines the float and double entry points of a kernel from its template `name##_impl`.
#define NEUROCELL_DEFINE_KERNEL_FOR(name, Args)            \
  void name(const Args<float>& args) { name##_impl(args); } \
  void name(const Args<double>& args) { name##_impl(args); }
#define NEUROCELL_DEFINE_KERNEL(name) NEUROCELL_DEFINE_KERNEL_FOR(name, KernelArgs)
