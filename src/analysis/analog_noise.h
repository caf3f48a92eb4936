#pragma once
// Simulated analog hardware (docs/hardware.md, "Analog BMRU"): a trained model, compiled
// for the dependency-free runtime, evaluated under device mismatch (fixed per chip), weight
// quantisation and Gaussian noise on drives and stored states (fresh at each step, see
// ncrt::AnalogNoise), so that BMRU/CMRU can be compared with GRU/LRU as noise grows.
#include <cstdint>
#include <vector>

#include "neurocell_runtime.h"
#include "tasks/synthetic.h"

namespace neurocell::analysis {

// One chip's device mismatch: every parameter's circuit value v becomes v (1 + sigma eps),
// eps ~ N(0, 1) drawn once per element from chip_seed. Parameters stored through a map get
// the mismatch on the value the circuit holds: the MRU thresholds beta = softplus(beta_raw),
// aCMRU's alpha = sigmoid(alpha_raw) (kept in (0, 1)), the LRU's decay exp(nu_log) and
// phase exp(theta_log).
ncrt::Model with_mismatch(const ncrt::Model& model, double sigma, uint64_t chip_seed);

// Every weight matrix (2-D tensor) quantised symmetrically and uniformly to `bits` bits, sign
// included: step = max|W| / (2^(bits-1) - 1), W -> step round(W / step). Vectors (biases,
// thresholds, norms) stay float, as analog bias currents would.
ncrt::Model with_quantized_weights(const ncrt::Model& model, int bits);

// A task's test set as plain arrays, one sequence after the other.
struct SequenceSet {
  int64_t sequences = 0, length = 0, input_size = 0, readout_steps = 0, output_size = 0;
  std::vector<float> inputs;   // (sequences, length, input_size)
  std::vector<float> targets;  // (sequences, readout_steps, output_size): the last readout_steps steps
};
SequenceSet sequence_set(const std::vector<Batch>& batches);

// When a sequence counts as recalled: every target within `tolerance` of the output, or, for
// targets of +-1 (copy-single-bit), every output of the target's sign.
struct RecallRule {
  double tolerance = 0.2;
  bool same_sign = false;
};

struct NoisyEvaluation {
  double mse = 0;       // over every target value
  double accuracy = 0;  // fraction of sequences recalled (RecallRule)
  ncrt::OpCounts counts;  // summed over the sequences
};
// Streams every sequence through the model (state reset between sequences) with drive and
// state noise drawn from `seed` (zero sigmas: the clean model).
NoisyEvaluation evaluate_with_noise(const ncrt::Model& model, const SequenceSet& set, double drive_sigma,
                                    double state_sigma, uint64_t seed, const RecallRule& rule);

}  // namespace neurocell::analysis
