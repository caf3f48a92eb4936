#pragma once
// Integer SRC as published for an FPGA (docs/hardware.md), part of the
// dependency-free runtime. Values are integers scaled by 1000 (1000 ~ 1.0); shifts replace
// divisions; per neuron and step, with h, h_s the previous values:
//
//   i   = i - (i >> 4) - (i >> 5) + sum_j Wq[j] s_j        leak 1 - 1/16 - 1/32 = 0.90625
//   I   = 1023 if i > 0 else -1024                          binarised input current
//   z   = z_max if h < 500 else z_min
//   h'  = clip(lin(I + 2 (h - 4 h_s + bias)), -1024, 1023)  lin(v) = clip((3 v) >> 2, -1024, 1023)
//   h_s'= clip(h + (((h_s - h) z) >> 10), -800, 1023)
//   spike = 1 if h' >= 512
//
// then the class accumulators acc[c] += sum_j Rq[c, j] spike_j (leaky: acc -= acc >> 5
// first), prediction = argmax at the last step. Choices where hardware.md is silent, written
// down here: the input current i is held in 16 bits too (saturated to [-32768, 32767]); >> on
// negative values is an arithmetic shift (rounds towards -infinity, as the FPGA's shifter);
// `weight_bits` counts magnitude bits: the largest |W| of a layer maps to +-2^bits (+-256 at
// 8 bits, the reference design; 32 at 5 bits, 16 at 4), plus a sign bit. Since the current
// is binarised, the weight scale only matters through rounding and the leak's shifts.
#include <cstdint>
#include <vector>

#include "neurocell_runtime.h"

namespace ncrt {

// The arithmetic of one neuron, shared by this runtime and by training through the integer
// design (neurocell's SRC with arithmetic "integer", src/ops/src_integer.h): one definition, so a
// network trained that way runs here spike for spike.
namespace integer_math {
inline int32_t clip(int64_t v, int32_t lo, int32_t hi) {
  return static_cast<int32_t>(v < lo ? lo : v > hi ? hi : v);
}
// Arithmetic shift right (towards -infinity), spelled out so it does not depend on how the
// compiler shifts negative values.
inline int64_t shift_right(int64_t v, int bits) { return v >= 0 ? v >> bits : -((-v + (int64_t{1} << bits) - 1) >> bits); }
// The saturated line that replaces tanh.
inline int32_t lin(int64_t v) { return clip(shift_right(3 * v, 2), -1024, 1023); }
}  // namespace integer_math

// One neuron: the input current and the two state variables, in the design's integers.
struct IntegerSrcNeuron {
  int32_t i = 0, h = 0, h_s = 0;
};
// One step of one neuron (the equations above), drive = sum_j Wq[j] s_j of this step. Returns
// v = I + 2 (h - 4 h_s + bias), the argument of lin (training's surrogate gradient reads it);
// the neuron spikes when n.h >= 512 afterwards.
inline int64_t integer_src_update(IntegerSrcNeuron& n, int64_t drive, int32_t bias, int32_t z_max, int32_t z_min) {
  using namespace integer_math;
  const int64_t i = n.i;
  n.i = clip(i - shift_right(i, 4) - shift_right(i, 5) + drive, -32768, 32767);
  const int64_t binarised = n.i > 0 ? 1023 : -1024;
  const int64_t h = n.h, h_s = n.h_s;
  const int64_t z = h < 500 ? z_max : z_min;
  const int64_t v = binarised + 2 * (h - 4 * h_s + bias);
  n.h = lin(v);
  n.h_s = clip(h + shift_right((h_s - h) * z, 10), -800, 1023);
  return v;
}
constexpr int32_t kIntegerSrcThreshold = 512;  // spike = h >= 512

struct IntegerSrcOptions {
  int weight_bits = 8;              // 2..14 magnitude bits
  bool leaky_accumulators = false;  // acc -= acc >> 5 before each step's votes
  bool trained_bias = false;        // per-neuron integer_bias(b) from the model instead of `bias`
  int32_t bias = -3000, z_max = 900, z_min = 100;  // the reference design
};

// round(w * scale), scale = 2^bits / max|w| (1 when every w is 0): integers in [-2^bits, 2^bits].
struct QuantizedMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<int32_t> values;  // (rows, cols) row-major
  float scale = 1;              // w ~ values / scale
};
// The integer bias of a float SRC bias b: round(500 b), clipped to int16 (the update doubles the
// bias with h, which is in thousandths: 2 * 500 b = 1000 b). integer_bias(-6) == -3000.
int32_t integer_bias(float b);

QuantizedMatrix quantize_weights(const std::vector<float>& w, int64_t rows, int64_t cols, int bits);

struct IntegerSrcLayer {
  int64_t input = 0, hidden = 0;
  std::vector<int32_t> weight;                // (hidden, input), quantised
  std::vector<int32_t> bias;                  // (hidden)
  std::vector<int32_t> initial_h, initial_hs; // (hidden); the input current starts at 0
  float weight_scale = 1;                     // the float weights ~ weight / weight_scale
};

class IntegerSrc {
 public:
  // readout (classes, last layer's hidden): int8 votes.
  IntegerSrc(std::vector<IntegerSrcLayer> layers, std::vector<int32_t> readout, int64_t classes,
             const IntegerSrcOptions& options);
  // From a float SRC classifier (a .ncm `src-classifier`): W quantised per layer to
  // options.weight_bits, the readout R times 10 rounded (1 -> 10, -0.1 -> -1), initial h and
  // h_s times 1000, bias the reference constant (or the trained one, see the options).
  static IntegerSrc from_model(const Model& src_classifier, const IntegerSrcOptions& options);

  // As a .ncm file of its own (`model integer-src`): per layer the quantised weights (i16)
  // with their scale, biases and initial states (i16), the int8 readout with its scale 10,
  // and the options as constants; what an FPGA's memories would be loaded with.
  std::string ncm_bytes() const;
  static IntegerSrc parse(const std::string& bytes, const std::string& what);
  static IntegerSrc load(const std::string& path);
  const IntegerSrcOptions& options() const { return options_; }

  struct LayerState {
    std::vector<int32_t> i, h, h_s;
    std::vector<uint8_t> spikes;
  };

  void reset();  // the state; the operation counts keep running
  // One frame of input spikes (input_size values, 0 or 1).
  void step(const uint8_t* spikes);
  // Operations since construction: macs counts the synaptic additions (a spike adds a weight
  // row, no multiplication), readout votes included; spikes of every layer; input_events the
  // input spikes; state_updates the i, h, h_s values written; steps the frames.
  const OpCounts& counts() const { return counts_; }
  int64_t prediction() const;  // argmax of the accumulators, the first on ties
  const std::vector<int32_t>& accumulators() const { return accumulators_; }
  const std::vector<LayerState>& states() const { return states_; }
  const std::vector<IntegerSrcLayer>& layers() const { return layers_; }
  const std::vector<int32_t>& readout() const { return readout_; }
  int64_t input_size() const { return layers_.front().input; }

 private:
  std::vector<IntegerSrcLayer> layers_;
  std::vector<int32_t> readout_;
  int64_t classes_;
  IntegerSrcOptions options_;
  std::vector<LayerState> states_;
  std::vector<int32_t> accumulators_;
  std::vector<std::vector<int32_t>> weight_t_;  // per layer (input, hidden): a spike adds one row
  std::vector<int64_t> current_;                // scratch (hidden)
  OpCounts counts_;
};

// A shorter trace from a rate-coded one (frames (T, I) of 0/1): every (T / steps)-th frame,
// starting with the first; with rising_edges, a pixel spikes only where it did not in the
// previous kept frame (consecutive identical spikes suppressed).
std::vector<uint8_t> subsample_trace(const std::vector<uint8_t>& frames, int64_t T, int64_t I, int64_t steps,
                                     bool rising_edges);

}  // namespace ncrt
