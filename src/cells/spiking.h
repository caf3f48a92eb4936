#pragma once
// SRC, the spiking recurrent cell (cells.md section 2), one unit and one time step.
//
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

}  // namespace neurocell::cells
