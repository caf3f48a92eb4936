#pragma once
// Reference implementations: the equations of ../shared/spec/cells.md written with plain
// LibTorch ops, one time step at a time; autograd provides the backward. They are the
// ground truth of the tests and the "composite" side of the benchmarks.
//
// Convention everywhere in neurocell: sequences are time-major, x is (T, B, I), states
// are (B, H), and the returned state sequence is (T, B, H) with row t = h_{t+1}
// (the state after reading x_t). Gate blocks are stacked along the rows of the
// weight matrices in the order written next to each function.
#include <torch/types.h>

#include <utility>

#include "kernels/src_weights.h"

namespace neurocell::reference {

// BRC. weight_ih (3H, I) rows [U_a; U_c; U_h], bias (3H) [b_a; b_c; b_h], w_a, w_c (H).
//   a = 1 + tanh(U_a x + w_a*h + b_a), c = sigmoid(U_c x + w_c*h + b_c)
//   h' = c*h + (1-c)*tanh(U_h x + a*h + b_h)
torch::Tensor brc_forward(const torch::Tensor& x, const torch::Tensor& h0,
                          const torch::Tensor& weight_ih, const torch::Tensor& bias,
                          const torch::Tensor& w_a, const torch::Tensor& w_c);

// nBRC. weight_ih (3H, I) rows [U_a; U_c; U_h], weight_hh (2H, H) rows [W_a; W_c],
// bias (3H) [b_a; b_c; b_h]. As BRC with w_a*h, w_c*h replaced by W_a h, W_c h.
torch::Tensor nbrc_forward(const torch::Tensor& x, const torch::Tensor& h0,
                           const torch::Tensor& weight_ih, const torch::Tensor& weight_hh,
                           const torch::Tensor& bias);

// GRU in torch::nn::GRU's layout: weight_ih (3H, I), weight_hh (3H, H) rows [r; z; n],
// bias_ih, bias_hh (3H).
torch::Tensor gru_forward(const torch::Tensor& x, const torch::Tensor& h0,
                          const torch::Tensor& weight_ih, const torch::Tensor& weight_hh,
                          const torch::Tensor& bias_ih, const torch::Tensor& bias_hh);

// LSTM in torch::nn::LSTM's layout: weight_ih (4H, I), weight_hh (4H, H) rows [i; f; g; o],
// bias_ih, bias_hh (4H). Returns (h sequence, c sequence), both (T, B, H).
std::pair<torch::Tensor, torch::Tensor> lstm_forward(
    const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& c0,
    const torch::Tensor& weight_ih, const torch::Tensor& weight_hh,
    const torch::Tensor& bias_ih, const torch::Tensor& bias_hh);

// MGU. weight_ih (2H, I) rows [U_f; U_h], weight_hh (2H, H) rows [W_f; W_h], bias (2H).
//   f = sigmoid(U_f x + W_f h + b_f), n = tanh(U_h x + W_h (f*h) + b_h), h' = (1-f)*h + f*n
torch::Tensor mgu_forward(const torch::Tensor& x, const torch::Tensor& h0,
                          const torch::Tensor& weight_ih, const torch::Tensor& weight_hh,
                          const torch::Tensor& bias);

// SRC (cells.md section 2). x (T, B, I) input spikes, i0/h0/hs0 (B, H). The ReLU's
// derivative is 1 (straight through), the Heaviside gate passes no gradient.
SrcSequence src_forward(const torch::Tensor& x, const torch::Tensor& i0, const torch::Tensor& h0,
                        const torch::Tensor& hs0, const SrcWeights& weights);

}  // namespace neurocell::reference
