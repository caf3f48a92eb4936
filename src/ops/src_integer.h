#pragma once
// SRC trained through the integer arithmetic of the published FPGA design (docs/hardware.md,
// runtime/integer_src.h): the forward IS the design's arithmetic (the runtime's own
// ncrt::integer_src_update on W quantised by ncrt::quantize_weights), so a network trained
// this way runs in `neurocell integer-src` and on the runtime spike for spike. The backward is a
// surrogate (docs/cells.md section 2, "Integer arithmetic"):
//
//   v    = I + 2 (h - 4 h_s + bias)                   the argument of lin (thousandths)
//   ds/di = 0.75 fs((0.75 v - 512) / (1000 w_h)) / (1000 w_h)       spike vs h, through lin
//           * 2047 fs(i / (w_i 2^bits)) / (w_i 2^bits)              h vs the sign of i
//   fs(d) = 1 / (1 + |d|)^2                            fast sigmoid's derivative
//
// with credit only through the input integrator (h and h_s of the previous step are constants:
// the clipped lin passes no useful gradient), i ~ 0.90625 i + Wq s, and Wq ~ scale W
// (straight-through quantisation, scale = 2^bits / max|W| held constant).
#include <torch/types.h>

#include <utility>

#include "ops/src.h"

namespace neurocell {

struct IntegerSrcTrainingOptions {
  int weight_bits = 8;              // W quantised as ncrt::quantize_weights(W, bits) in the forward
  int32_t z_max = 900, z_min = 100;  // the reference design's h_s rates (x / 1024)
  double surrogate_h = 0.5;         // w_h: width of the spike's surrogate, in h (1.0 = 1000)
  double surrogate_i = 1.0;         // w_i: width of sign(i)'s surrogate, in largest weights (2^bits)
};

namespace fused {
// x (T, B, I) input spikes (0/1); weight (H, I) the float W; bias (H) float b (the design's
// round(500 b), so -6 is the reference -3000); h0, hs0 (H) float initial states (x 1000,
// rounded, as the runtime loads them; i starts at 0). Returns spikes (T, B, H) of 0/1 with the
// surrogate gradient to weight and x, and i (in units of W: the integer current / scale), h and
// h_s (/ 1000), which carry no gradient. Float32 or float64 (the integers are exact in both).
SrcSequence integer_src_forward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                const torch::Tensor& h0, const torch::Tensor& hs0,
                                const IntegerSrcTrainingOptions& options);
// The design's resting state (h, h_s) / 1000 for a float bias b: where a neuron with no input
// (I = -1024) settles.
std::pair<double, double> integer_src_rest(double bias, const IntegerSrcTrainingOptions& options);
}  // namespace fused

}  // namespace neurocell
