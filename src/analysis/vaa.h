#pragma once
// Reachable multistability (multistability.md): VAA, the variability amongst attractors
// that a network's final states reach, its differentiable relaxation VAA*, and the
// measurement protocol (start states from prefixes of task inputs, then a long constant
// input to let the network settle).
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "nn/model.h"

namespace neurocell::analysis {

// Where input sequences come from: n sequences (T, n, I) drawn with `generator` (a task's
// training inputs; the analysis never sees targets). Keeps this layer free of the tasks.
using InputSampler = std::function<torch::Tensor(int64_t n, torch::Generator& generator)>;

// A generator for the analysis' own random draws, apart from the data streams of tasks.
torch::Generator analysis_generator(uint64_t seed, uint64_t purpose);

// states (n, S): one final state per sample. VAA = (1/n) sum_i 1 / |{j : ||h_j - h_i|| < eps}|:
// 1 when every sample sits on its own attractor, 1/n when all share one.
double vaa(const torch::Tensor& states, double eps = 1e-4);

// How many distinct attractors the n states occupy: points are grouped greedily (a point
// joins the first group whose first member is within eps).
int64_t count_attractors(const torch::Tensor& states, double eps = 1e-4);

// VAA* (differentiable, one layer): with d_ij = ||tanh(h_j) - tanh(h_i)||,
// C_ij = 1 - ReLU(d_ij - eps) / (d_ij + 1e-6), VAA* = (1/n) sum_i 1 / sum_j C_ij.
// states (n, S) -> scalar tensor with autograd.
torch::Tensor vaa_star(const torch::Tensor& states, double eps = 1e-4);

// The network's joint state: every layer's h (and c for LSTM), in layer order. join gives
// (B, S) with S = model->state_width(); split is its inverse.
torch::Tensor join_states(const std::vector<RecurrentState>& states);
std::vector<RecurrentState> split_states(SequenceModel& model, const torch::Tensor& joint);

// Each sample's state after its own prefix: outputs of the stack for inputs (T, n, I), and
// prefix lengths c (n) in 1..T -> the state of every layer after step c_i of sample i.
std::vector<RecurrentState> states_after_prefixes(const std::vector<SequenceOutput>& outputs,
                                                  const torch::Tensor& prefix_lengths);

// The last states of the stack after `steps` steps of the constant input `input` (I),
// started from `start` (one state per layer, batch n), computed `chunk` steps at a time so
// that 10 000 settling steps never hold a (10 000, n, H) sequence.
std::vector<RecurrentState> settle(SequenceModel& model, const std::vector<RecurrentState>& start,
                                   const torch::Tensor& input, int64_t steps, int64_t chunk = 500);

struct VaaOptions {
  int64_t samples = 100;         // n: input sequences per batch
  int64_t settle_steps = 10000;  // S: steps of the constant input
  int64_t batches = 10;          // VAA is averaged over this many batches
  double eps = 1e-4;
  uint64_t seed = 1;
  bool progress = false;         // a progress bar on stderr, one tick per batch (not saved in configs)
  void validate() const;
};

struct VaaResult {
  double vaa = 0;         // mean over batches
  double attractors = 0;  // mean number of distinct attractors reached per batch
  std::vector<double> per_batch;
};

// The measurement protocol: per batch, n training inputs, prefixes of uniform
// length c ~ U{1..T}, one constant input u ~ N(0, I) shared by all samples for S steps, VAA
// of the final joint states. Deterministic for a given seed; the model is left unchanged.
VaaResult measure_vaa(SequenceModel& model, const InputSampler& inputs, const VaaOptions& options);

}  // namespace neurocell::analysis
