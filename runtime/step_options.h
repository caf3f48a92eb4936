#pragma once
// What a step of the runtime does besides the arithmetic: operation counting (an energy proxy)
// and the analog non-idealities of the hardware study. Public; neurocell_runtime.h includes it.
#include <cstdint>
#include <random>

namespace ncrt {

// Operations of the steps run with them, an energy proxy (hardware.md): multiply-accumulates of
// the matrix products (readout included; SRC's skipped zero inputs cost none), stored state
// values written, spikes emitted (SRC neurons with h > 0 after a step) and non-zero inputs seen.
struct OpCounts {
  uint64_t steps = 0, macs = 0, state_updates = 0, spikes = 0, input_events = 0;
};

// Analog non-idealities of one stream (hardware.md, "Analog BMRU"), drawn fresh at every step:
// Gaussian noise of standard deviation drive_sigma on every drive (the values the matrix products
// feed into a cell's nonlinearities or thresholds) and state_sigma on every stored state value
// after its update. Quantised states are held by latches: a BMRU state snaps back to the
// nearest of {-1, 0, +1}, a CMRU state to its nearest level (noise under half a level step
// vanishes, as the analog BMRU's quantised output suppresses it); continuous states (aCMRU,
// minGRU, LRU, GRU, LSTM, BRC...) keep the noise and carry it forward.
class AnalogNoise {
 public:
  AnalogNoise(double drive_sigma, double state_sigma, uint64_t seed);
  void drive(float* values, int64_t n);
  void state(float* values, int64_t n);
  bool has_state_noise() const { return state_sigma_ > 0; }

 private:
  float drive_sigma_, state_sigma_;
  std::mt19937_64 engine_;
  std::normal_distribution<float> normal_{0.0f, 1.0f};
};

// What a step does besides the arithmetic: optional noise and operation counting.
struct StepOptions {
  AnalogNoise* noise = nullptr;
  OpCounts* counts = nullptr;
};

}  // namespace ncrt
