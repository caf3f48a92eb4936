#pragma once
// neurocell's dependency-free inference runtime: loads a model written by `neurocell export`
// (a .ncm file) and runs it one time step at a time in float32, with nothing but the C++17
// standard library (no LibTorch, no BLAS), for streaming inference on small machines.
//
// Two kinds of model:
//  - `sequence`: layers of BRC, nBRC, GRU, LSTM, MGU, double layers of those, the scan blocks
//    (BMRU, CMRU, aCMRU, fq-BMRU, minGRU, LRU) or the MRU/LRU hybrids, then a linear readout;
//    a step's output is the readout of the last layer's new output.
//  - `src-classifier`: SRC layers (learned initial states) and the frozen readout R; a step's
//    output is the logits so far, logit_scale * R sum_t s[t] (the class: argmax after the
//    last step). The input projection skips zero inputs (spikes are sparse).
// The cell formulas are the library's own (src/cells/*.h), so the runtime computes what
// training computed: outputs agree with the library's to 1e-5 (tested).
//
// File format (.ncm, version 1, little-endian):
//   "NCM\0" | u32 version | u32 header_bytes | header (text, header_bytes) | tensor data | u32 crc
// The header is one item per line: `key value...`. It names the model (`model sequence|
// src-classifier`, `cell`, `input`, `hidden`, `output`, `layers`), one `layer L KIND INPUT
// HIDDEN` line per layer (KIND: a cell name, or `pair FIRST SECOND` for a double layer or hybrid
// of two halves of HIDDEN/2), `constant NAME VALUE` lines (cmru_levels, fq_theta_on,
// fq_theta_off, layer_norm_eps; src_alpha and logit_scale for SRC),
// and one `tensor NAME DTYPE DIM...` line per tensor (names as in the library's checkpoints,
// dtype f32). The data are the tensors in header order, row-major; crc is the CRC-32 (zlib's)
// of every byte before it.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace ncrt {

// Every failure to load or run a model: the message names the file, the problem and the fix.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

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

class Model {
 public:
  // Reads and checks a .ncm file (size, magic, version, checksum, every tensor's shape and
  // finiteness). Throws Error.
  static Model load(const std::string& path);
  // The same from bytes in memory; `what` names them in error messages.
  static Model parse(const std::string& bytes, const std::string& what);

  const std::string& cell() const;
  int64_t input_size() const;
  int64_t hidden_size() const;
  int64_t output_size() const;
  int64_t layers() const;
  // Floats of the recurrent state (every layer's, in layer order) and of the scratch one step needs.
  int64_t state_size() const;
  int64_t scratch_size() const;

  // The state the library starts from (zeros).
  void initial_state(float* state) const;
  // One step: x (input_size) -> y (output_size), the readout of the last layer's new output;
  // state (state_size) is updated in place; scratch (scratch_size) is working memory.
  // Const and reentrant: one Model may serve many streams, each with its own state and scratch.
  void step(const float* x, float* state, float* y, float* scratch) const;
  void step(const float* x, float* state, float* y, float* scratch, const StepOptions& options) const;

  // A copy of the model whose tensors went through edit(name, shape, values) (device mismatch,
  // weight quantisation); the same checks as loading apply to the result.
  using TensorEdit = std::function<void(const std::string& name, const std::vector<int64_t>& shape, std::vector<float>& values)>;
  Model with_edited_tensors(const TensorEdit& edit) const;
  std::vector<std::string> tensor_names() const;

  // A tensor of the file by name (for tools such as the integer SRC); throws Error if absent.
  const std::vector<float>& tensor(const std::string& name) const;
  std::vector<int64_t> tensor_shape(const std::string& name) const;
  bool is_src_classifier() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

// A model with its own state and scratch: the usual way to stream one sequence.
class Stream {
 public:
  explicit Stream(Model model);
  void reset();                       // back to the initial state
  const float* step(const float* x);  // output_size values, valid until the next call
  const std::vector<float>& state() const { return state_; }
  const Model& model() const { return model_; }

 private:
  Model model_;
  std::vector<float> state_, scratch_, output_;
};

// CRC-32 as zlib computes it (the file checksum), exposed for writers and tests.
uint32_t crc32(const unsigned char* data, size_t size, uint32_t crc = 0);

// ---- The .ncm container itself, for writers and for the integer variants (integer_src.h).
// Tensor dtypes: f32 (floats, finite), i8, i16, i32 (integers, little-endian two's complement).
struct NcmTensor {
  std::string dtype = "f32";
  std::vector<int64_t> shape;
  std::vector<float> floats;   // dtype f32
  std::vector<int32_t> ints;   // dtype i8, i16, i32
  int64_t count() const;
};
struct NcmFile {
  struct Line {
    int number;                      // in the header, from 1
    std::vector<std::string> words;  // every header line but the tensor lines
  };
  std::vector<Line> lines;
  std::vector<std::string> tensor_order;
  std::map<std::string, NcmTensor> tensors;
  std::string value(const std::string& key) const;  // the word after `key`, "" when absent
};
// Checks the frame (size, magic, version, lengths, checksum) and every tensor (shape, dtype,
// range of the integers, finiteness of the floats). Throws Error naming `what`.
NcmFile read_ncm(const std::string& bytes, const std::string& what);
// The bytes of a file: header text lines (no tensor lines: they are written from `tensors`),
// then the tensors in order, then the checksum. Throws Error for a value its dtype cannot hold.
std::string write_ncm(const std::string& header_lines, const std::vector<std::pair<std::string, NcmTensor>>& tensors);
// The whole content of a file, with an error that names it.
std::string read_file_bytes(const std::string& path);

}  // namespace ncrt
