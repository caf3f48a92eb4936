#pragma once
// The spiking cells (cells.md section 2), one unit and one time step: SRC, the spiking
// recurrent cell, and LIF, the leaky integrate-and-fire baseline (at the end).
//
// SRC:
//   i'   = alpha*i + drive                     drive = (W s_in)_j, leaky input integrator
//   u    = tanh(i'/rho),  x = rho*u            soft saturation
//   z    = h > 1/2 ? z_dep : z_hyp             Heaviside on the previous h (no gradient)
//   h'   = tanh(x + r*h + r_s*h_s + b)
//   h_s' = z*h_s + (1 - z)*h
//   s'   = ReLU(h')                            output spikes; surrogate derivative 1
//
// The backward takes dh = dL/dh' (spike gradient, passed straight through the ReLU, plus
// the carry from the next step) and the carries dL/dh_s', dL/di' from the next step.
#include "cells/pointwise.h"

namespace neurocell::cells {

template <class V>
struct SrcState {
  V i, h, h_s;
};

// Per-unit constants of the cell (alpha is one value per layer, broadcast).
template <class V>
struct SrcConstants {
  V alpha, rho, r, r_s, z_hyp, z_dep, bias;
};

template <class V>
NEUROCELL_CELL_MATH V src_gate(const SrcConstants<V>& k, V h_prev) {
  return select_greater(h_prev, V(0.5), k.z_dep, k.z_hyp);
}

template <class V>
NEUROCELL_CELL_MATH SrcState<V> src_forward(const SrcConstants<V>& k, V drive, const SrcState<V>& prev) {
  SrcState<V> next;
  next.i = k.alpha * prev.i + drive;
  const V x = k.rho * tanh_(next.i / k.rho);
  next.h = tanh_(x + k.r * prev.h + k.r_s * prev.h_s + k.bias);
  const V z = src_gate(k, prev.h);
  next.h_s = z * prev.h_s + (V(1) - z) * prev.h;
  return next;
}

// Gradients of one step. In: dh = dL/dh', d_next = {dL/di', -, dL/dh_s'} (the .h field is
// unused), the new state's h and i, and the previous h (for the gate). Out: dL/d(pre-
// activation) (= dL/db), dL/d(drive), and the carries to the previous state. With
// detach_recurrence, h and h_s of the previous step are constants (only i carries credit).
template <class V>
NEUROCELL_CELL_MATH SrcState<V> src_backward(const SrcConstants<V>& k, V dh, const SrcState<V>& d_next, V h,
                                             V i, V h_prev, bool detach_recurrence, V& d_pre, V& d_drive) {
  const V one(1);
  const V u = tanh_(i / k.rho);
  d_pre = dh * (one - h * h);
  d_drive = d_next.i + d_pre * (one - u * u);
  SrcState<V> d_prev;
  d_prev.i = k.alpha * d_drive;
  if (detach_recurrence) {
    d_prev.h = V(0);
    d_prev.h_s = V(0);
  } else {
    const V z = src_gate(k, h_prev);
    d_prev.h = k.r * d_pre + (one - z) * d_next.h_s;
    d_prev.h_s = k.r_s * d_pre + z * d_next.h_s;
  }
  return d_prev;
}

// LIF (cells.md section 2, "LIF baseline"): snnTorch's Leaky with reset by subtraction.
//
//   s    = u > theta ? 1 : 0                  spike of the previous step: the reset (no gradient)
//   u'   = beta*u + drive + b - theta*s       drive = (W s_in)_j
//   s'   = u' > theta ? 1 : 0                 output spike
//
// The Heaviside's derivative is replaced by snnTorch's fast sigmoid,
// dS/du = 1 / (1 + k |u - theta|)^2, and the reset term is detached (snnTorch's mem_reset),
// so du'/du = beta.
template <class V>
struct LifConstants {
  V beta, threshold, slope, bias;
};

template <class V>
NEUROCELL_CELL_MATH V lif_spike(const LifConstants<V>& k, V u) {
  return select_greater(u, k.threshold, V(1), V(0));
}

template <class V>
NEUROCELL_CELL_MATH V lif_forward(const LifConstants<V>& k, V drive, V u_prev) {
  return k.beta * u_prev + drive + k.bias - k.threshold * lif_spike(k, u_prev);
}

// The surrogate dS/du at u.
template <class V>
NEUROCELL_CELL_MATH V lif_surrogate(const LifConstants<V>& k, V u) {
  const V d = u - k.threshold;
  const V q = V(1) + k.slope * select_greater(d, V(0), d, V(0) - d);  // 1 + k|d|
  return V(1) / (q * q);
}

// The relaxed spike (ops/surrogate_relaxation.h): snnTorch's fast sigmoid
// (u - theta) / (1 + k |u - theta|), of which lif_surrogate is the derivative.
template <class V>
NEUROCELL_CELL_MATH V lif_relaxed_spike(const LifConstants<V>& k, V u) {
  const V d = u - k.threshold;
  return d / (V(1) + k.slope * select_greater(d, V(0), d, V(0) - d));
}

// Gradients of one step. In: ds = dL/ds' (from outside), du = dL/du' from outside and the
// carry of the next step, and the new membrane u'. Out: the total dL/du' (= dL/d(drive) =
// dL/db of this step); returns the carry dL/du to the previous step.
template <class V>
NEUROCELL_CELL_MATH V lif_backward(const LifConstants<V>& k, V ds, V du, V u, V& d_total) {
  d_total = du + ds * lif_surrogate(k, u);
  return k.beta * d_total;
}

}  // namespace neurocell::cells
