#pragma once
// Memory recurrent units (cells.md section 4) and the linear recurrences of section 3 (minGRU,
// the LRU's complex diagonal), one lane (b, j) and one time step, and the maps that the
// parallel scans compose. u is the lane's drive U x_t + b; lanes never interact.
//
// The MRUs run hard maps forward (quantised states, hysteresis) and backpropagate through a
// smooth relaxation of each step evaluated on the hard trajectory (straight through):
//
//   BMRU     q = sign(u) 1[|u| > beta],  h' = q if q != 0 else h
//            relaxation h' = m s + (1 - m) h,  m = sigmoid((|u| - beta)/tau), s = tanh(u/tau)
//   CMRU     h' = clip(h + delta q, -1, 1),  delta = 2/(levels - 1)
//            relaxation h' = h + delta m s   (identity skip: the clip passes gradient as identity)
//   aCMRU    h' = clip(h + alpha D(u), -1, 1),  D(u) = sign(u) max(|u| - beta, 0)
//            relaxation h' = h + alpha D(u)
//   fq-BMRU  v = softplus(p) >= 0,  h' = 1 if v > on, 0 if v < off, else h  (a Schmitt trigger)
//            relaxation h' = m_on + (1 - m_on - m_off) h,
//            m_on = sigmoid((v - on)/tau), m_off = sigmoid((off - v)/tau)
//   minGRU   z = sigmoid(z_pre),  h' = (1 - z) h + z h_tilde
//   LRU      s' = lambda s + g  (complex, lambda constant in time)
//
// Each step's map belongs to a family closed under composition, which is what lets a scan
// split time into chunks: BMRU steps are "set to q or hold" (the later set wins), CMRU and
// aCMRU steps are clamped adds h -> clip(h + a, lo, hi), minGRU steps and every backward
// step are affine maps c -> a c + b, the LRU's are complex affine maps.
#include "cells/pointwise.h"

namespace neurocell::cells {

// ---- Scalar helpers (the SIMD overloads are below). sign_(0) = 0 as torch::sign, and
// softplus_ switches to the identity above 20 exactly as torch::softplus (beta 1, threshold 20),
// so the kernels and the LibTorch reference make the same threshold decisions.
NEUROCELL_CELL_MATH float abs_(float x) { return std::fabs(x); }
NEUROCELL_CELL_MATH double abs_(double x) { return std::fabs(x); }
NEUROCELL_CELL_MATH float sign_(float x) { return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f); }
NEUROCELL_CELL_MATH double sign_(double x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }
NEUROCELL_CELL_MATH float min_(float a, float b) { return b < a ? b : a; }
NEUROCELL_CELL_MATH double min_(double a, double b) { return b < a ? b : a; }
NEUROCELL_CELL_MATH float max_(float a, float b) { return a < b ? b : a; }
NEUROCELL_CELL_MATH double max_(double a, double b) { return a < b ? b : a; }
NEUROCELL_CELL_MATH float softplus_(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }
NEUROCELL_CELL_MATH double softplus_(double x) { return x > 20.0 ? x : std::log1p(std::exp(x)); }
// d softplus/dx, with the same switch to the identity as torch::softplus's backward.
NEUROCELL_CELL_MATH float softplus_derivative(float x) { return x > 20.0f ? 1.0f : sigmoid_(x); }
NEUROCELL_CELL_MATH double softplus_derivative(double x) { return x > 20.0 ? 1.0 : sigmoid_(x); }

#if defined(NEUROCELL_WITH_ATEN_VEC)
template <class T>
NEUROCELL_CELL_MATH at::vec::Vectorized<T> abs_(const at::vec::Vectorized<T>& x) {
  return x.abs();
}
template <class T>
NEUROCELL_CELL_MATH at::vec::Vectorized<T> sign_(const at::vec::Vectorized<T>& x) {
  using V = at::vec::Vectorized<T>;
  const V zero(T(0));
  return V::blendv(V::blendv(zero, V(T(1)), x > zero), V(T(-1)), x < zero);
}
template <class T>
NEUROCELL_CELL_MATH at::vec::Vectorized<T> min_(const at::vec::Vectorized<T>& a, const at::vec::Vectorized<T>& b) {
  return at::vec::minimum(a, b);
}
template <class T>
NEUROCELL_CELL_MATH at::vec::Vectorized<T> max_(const at::vec::Vectorized<T>& a, const at::vec::Vectorized<T>& b) {
  return at::vec::maximum(a, b);
}
// Sleef's exp and log1p, as ATen's own vectorised softplus.
template <class T>
NEUROCELL_CELL_MATH at::vec::Vectorized<T> softplus_(const at::vec::Vectorized<T>& x) {
  using V = at::vec::Vectorized<T>;
  return V::blendv(x.exp().log1p(), x, x > V(T(20)));
}
template <class T>
NEUROCELL_CELL_MATH at::vec::Vectorized<T> softplus_derivative(const at::vec::Vectorized<T>& x) {
  using V = at::vec::Vectorized<T>;
  return V::blendv(sigmoid_(x), V(T(1)), x > V(T(20)));
}
#endif

template <class V>
NEUROCELL_CELL_MATH V clip_(V x, V lo, V hi) {
  return min_(max_(x, lo), hi);
}

// ---- Clamped add: h -> clip(h + add, lo, hi), lo <= hi. The CMRU/aCMRU step is
// {delta q | alpha D(u), -1, +1}. Composition stays in the family:
//   second(first(h)) = clip(clip(h + a1, l1, u1) + a2, l2, u2)
//                    = clip(h + a1 + a2, clip(l1 + a2, l2, u2), clip(u1 + a2, l2, u2))
// (a clip of a clip is one clip whose bounds are the inner bounds clipped by the outer ones).
template <class V>
struct ClampedAdd {
  V add, lo, hi;
};

template <class V>
NEUROCELL_CELL_MATH ClampedAdd<V> clamped_add_identity() {
  return {V(0), V(-INFINITY), V(INFINITY)};
}

template <class V>
NEUROCELL_CELL_MATH V apply(const ClampedAdd<V>& f, V h) {
  return clip_(h + f.add, f.lo, f.hi);
}

// The map "first, then second".
template <class V>
NEUROCELL_CELL_MATH ClampedAdd<V> compose(const ClampedAdd<V>& first, const ClampedAdd<V>& second) {
  return {first.add + second.add, clip_(first.lo + second.add, second.lo, second.hi),
          clip_(first.hi + second.add, second.lo, second.hi)};
}

// ---- Affine map c -> a c + b (minGRU forward, every backward carry). Composition is the scan
// operator of cells.md section 3: (a1, b1) then (a2, b2) = (a2 a1, a2 b1 + b2).
template <class V>
struct Affine {
  V a, b;
};

template <class V>
NEUROCELL_CELL_MATH V apply(const Affine<V>& f, V c) {
  return f.a * c + f.b;
}

template <class V>
NEUROCELL_CELL_MATH Affine<V> compose(const Affine<V>& first, const Affine<V>& second) {
  return {second.a * first.a, second.a * first.b + second.b};
}

// ---- Complex numbers as (re, im) pairs of V (SIMD lanes hold the real parts of one vector,
// the imaginary parts of another), and the complex affine map of the LRU.
template <class V>
struct Complex {
  V re, im;
};

template <class V>
NEUROCELL_CELL_MATH Complex<V> operator*(const Complex<V>& x, const Complex<V>& y) {
  return {x.re * y.re - x.im * y.im, x.re * y.im + x.im * y.re};
}
template <class V>
NEUROCELL_CELL_MATH Complex<V> operator+(const Complex<V>& x, const Complex<V>& y) {
  return {x.re + y.re, x.im + y.im};
}
template <class V>
NEUROCELL_CELL_MATH Complex<V> conj(const Complex<V>& x) {
  return {x.re, V(0) - x.im};
}

template <class V>
struct ComplexAffine {
  Complex<V> a, b;
};

template <class V>
NEUROCELL_CELL_MATH Complex<V> apply(const ComplexAffine<V>& f, const Complex<V>& c) {
  return f.a * c + f.b;
}

template <class V>
NEUROCELL_CELL_MATH ComplexAffine<V> compose(const ComplexAffine<V>& first, const ComplexAffine<V>& second) {
  return {second.a * first.a, second.a * first.b + second.b};
}

// ---- MRU forward steps (hard maps).

// q = sign(u) 1[|u| > beta] in {-1, 0, +1}: set low, hold, set high.
template <class V>
NEUROCELL_CELL_MATH V mru_quantize(V u, V beta) {
  return select_greater(abs_(u), beta, sign_(u), V(0));
}

// BMRU: the later set wins. Also CMRU with 2 levels once h is in [-1, 1] (h + 2q clips to q).
template <class V>
NEUROCELL_CELL_MATH V bmru_step(V q, V h) {
  return select_greater(abs_(q), V(0), q, h);
}

// CMRU: h' = clip(h + delta q, -1, 1) (delta q is exact: q is -1, 0 or 1).
template <class V>
NEUROCELL_CELL_MATH V cmru_increment(V q, V delta) {
  return delta * q;
}

// D(u) = sign(u) max(|u| - beta, 0): zero inside the hysteresis band, so the state holds exactly.
template <class V>
NEUROCELL_CELL_MATH V dead_zone(V u, V beta) {
  return sign_(u) * max_(abs_(u) - beta, V(0));
}

// aCMRU: h' = clip(h + alpha D(u), -1, 1).
template <class V>
NEUROCELL_CELL_MATH V acmru_increment(V u, V beta, V alpha) {
  return alpha * dead_zone(u, beta);
}

// The CMRU/aCMRU step h' = clip(h + increment, -1, 1) as a clamped add.
template <class V>
NEUROCELL_CELL_MATH ClampedAdd<V> cumulative_step(V increment) {
  return {increment, V(-1), V(1)};
}

// fq-BMRU on the non-negative current v = softplus(p).
template <class V>
NEUROCELL_CELL_MATH V fq_bmru_step(V v, V theta_on, V theta_off, V h) {
  return select_greater(v, theta_on, V(1), select_greater(theta_off, v, V(0), h));
}

// ---- MRU backward: partial derivatives of one relaxed step at the hard trajectory's h.
template <class V>
struct MruStepGradient {
  V d_prev;  // dh'/dh
  V d_u;     // dh'/du (fq-BMRU: dh'/dp, through v = softplus(p))
  V d_beta;  // dh'/dbeta (zero for fq-BMRU, whose thresholds are fixed)
};

// m = sigmoid((|u| - beta)/tau), the probability-like weight of "set" in the relaxation.
template <class V>
NEUROCELL_CELL_MATH V set_weight(V u, V beta, V inv_tau) {
  return sigmoid_((abs_(u) - beta) * inv_tau);
}

// BMRU: h' = m s + (1 - m) h.
//   dh'/dh = 1 - m,  dh'/du = m'(u) (s - h) + m s'(u),  dh'/dbeta = -m(1-m)/tau (s - h)
template <class V>
NEUROCELL_CELL_MATH MruStepGradient<V> bmru_gradient(V u, V beta, V inv_tau, V h) {
  const V one(1);
  const V m = set_weight(u, beta, inv_tau);
  const V s = tanh_(u * inv_tau);
  const V dm = m * (one - m) * inv_tau;  // dm/d|u|
  const V gap = s - h;
  return {one - m, dm * sign_(u) * gap + m * (one - s * s) * inv_tau, V(0) - dm * gap};
}

// CMRU: h' = h + delta m s.  dh'/dh = 1, dh'/du = delta d(m s)/du, dh'/dbeta = delta d(m s)/dbeta.
template <class V>
NEUROCELL_CELL_MATH MruStepGradient<V> cmru_gradient(V u, V beta, V inv_tau, V delta) {
  const V one(1);
  const V m = set_weight(u, beta, inv_tau);
  const V s = tanh_(u * inv_tau);
  const V dm = m * (one - m) * inv_tau;
  return {one, delta * (dm * sign_(u) * s + m * (one - s * s) * inv_tau), V(0) - delta * dm * s};
}

// aCMRU: h' = h + alpha D(u).  dh'/du = alpha 1[|u| > beta], dh'/dbeta = -alpha sign(u) 1[|u| > beta],
// dh'/dalpha = D(u) (returned separately by dead_zone).
template <class V>
NEUROCELL_CELL_MATH MruStepGradient<V> acmru_gradient(V u, V beta, V alpha) {
  const V active = select_greater(abs_(u), beta, alpha, V(0));
  return {V(1), active, V(0) - sign_(u) * active};
}

// fq-BMRU: h' = m_on + (1 - m_on - m_off) h on v = softplus(p).
template <class V>
NEUROCELL_CELL_MATH V fq_bmru_hold_weight(V v, V theta_on, V theta_off, V inv_tau, V& m_on, V& m_off) {
  m_on = sigmoid_((v - theta_on) * inv_tau);
  m_off = sigmoid_((theta_off - v) * inv_tau);
  return V(1) - m_on - m_off;
}

template <class V>
NEUROCELL_CELL_MATH MruStepGradient<V> fq_bmru_gradient(V p, V theta_on, V theta_off, V inv_tau, V h) {
  const V one(1);
  V m_on, m_off;
  const V hold = fq_bmru_hold_weight(softplus_(p), theta_on, theta_off, inv_tau, m_on, m_off);
  const V d_v = (m_on * (one - m_on) * (one - h) + m_off * (one - m_off) * h) * inv_tau;
  return {hold, d_v * softplus_derivative(p), V(0)};
}

// ---- MRU relaxations: the smooth steps of which the *_gradient functions above are the exact
// partial derivatives. The forward under surrogate relaxation (ops/surrogate_relaxation.h), so
// that finite differences can check the backward; never the trained forward.
template <class V>
NEUROCELL_CELL_MATH V bmru_relaxed(V u, V beta, V inv_tau, V h) {
  const V m = set_weight(u, beta, inv_tau);
  return m * tanh_(u * inv_tau) + (V(1) - m) * h;
}

template <class V>
NEUROCELL_CELL_MATH V cmru_relaxed(V u, V beta, V inv_tau, V delta, V h) {
  return h + delta * set_weight(u, beta, inv_tau) * tanh_(u * inv_tau);
}

template <class V>
NEUROCELL_CELL_MATH V acmru_relaxed(V u, V beta, V alpha, V h) {
  return h + acmru_increment(u, beta, alpha);
}

template <class V>
NEUROCELL_CELL_MATH V fq_bmru_relaxed(V p, V theta_on, V theta_off, V inv_tau, V h) {
  V m_on, m_off;
  const V hold = fq_bmru_hold_weight(softplus_(p), theta_on, theta_off, inv_tau, m_on, m_off);
  return m_on + hold * h;
}

// ---- minGRU: h' = (1 - z) h + z h_tilde, z = sigmoid(z_pre).
template <class V>
NEUROCELL_CELL_MATH Affine<V> mingru_step(V z_pre, V h_tilde) {
  const V z = sigmoid_(z_pre);
  return {V(1) - z, z * h_tilde};
}

template <class V>
NEUROCELL_CELL_MATH V mingru_forward(V z_pre, V h_tilde, V h) {
  const V z = sigmoid_(z_pre);
  return (V(1) - z) * h + z * h_tilde;
}

// Given dL/dh' (dh): dL/dz_pre, dL/dh_tilde, and returns dL/dh.
template <class V>
NEUROCELL_CELL_MATH V mingru_backward(V dh, V z_pre, V h_tilde, V h, V& d_z_pre, V& d_h_tilde) {
  const V one(1);
  const V z = sigmoid_(z_pre);
  d_h_tilde = dh * z;
  d_z_pre = dh * (h_tilde - h) * z * (one - z);
  return dh * (one - z);
}

// ---- LRU core: s' = lambda s + g. With a real loss and G = dL/dRe s' + i dL/dIm s':
// dL/ds = conj(lambda) G, dL/dg = G, dL/dlambda = conj(s) G.
template <class V>
NEUROCELL_CELL_MATH Complex<V> complex_diagonal_forward(const Complex<V>& lambda, const Complex<V>& s,
                                                        const Complex<V>& g) {
  return lambda * s + g;
}

}  // namespace neurocell::cells
