#pragma once
// LSTM, one unit and one step, torch::nn::LSTM's equations (gate order i, f, g, o):
//   i, f, o = sigmoid(pre_i, pre_f, pre_o), g = tanh(pre_g)
//   c' = f*c + i*g,   h' = o*tanh(c')
// pre = W_ih x + b_ih + W_hh h + b_hh comes from GEMMs outside.
#include "cells/pointwise.h"

namespace neurocell::cells {

template <class V>
struct LstmGates {
  V i, f, g, o, tanh_c;
};

template <class V>
NEUROCELL_CELL_MATH V lstm_forward(V pre_i, V pre_f, V pre_g, V pre_o, V c, V& c_next, LstmGates<V>& s) {
  s.i = sigmoid_(pre_i);
  s.f = sigmoid_(pre_f);
  s.g = tanh_(pre_g);
  s.o = sigmoid_(pre_o);
  c_next = s.f * c + s.i * s.g;
  s.tanh_c = tanh_(c_next);
  return s.o * s.tanh_c;
}

// dh: dL/dh', dc: dL/dc' from outside (the next step and any loss on c'). Writes the
// gradients of the four pre-activations and returns dL/dc (the previous memory cell).
template <class V>
NEUROCELL_CELL_MATH V lstm_backward(V dh, V dc, V c, const LstmGates<V>& s, V& d_i, V& d_f, V& d_g, V& d_o) {
  const V one(1);
  const V dc_total = dc + dh * s.o * (one - s.tanh_c * s.tanh_c);
  d_o = dh * s.tanh_c * s.o * (one - s.o);
  d_i = dc_total * s.g * s.i * (one - s.i);
  d_g = dc_total * s.i * (one - s.g * s.g);
  d_f = dc_total * c * s.f * (one - s.f);
  return dc_total * s.f;
}

}  // namespace neurocell::cells
