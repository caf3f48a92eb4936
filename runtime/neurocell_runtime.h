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
// HIDDEN` line per layer (KIND: a cell name of supported_layer_kinds(), `src` in an
// src-classifier, or `pair FIRST SECOND` for a double layer or hybrid of two halves of
// HIDDEN/2; `neurocell export` writes a hybrid as `pair MRU lru`), `constant NAME VALUE`
// lines (cmru_levels, fq_theta_on, fq_theta_off, layer_norm_eps; src_alpha and logit_scale
// for SRC), and one `tensor NAME DTYPE DIM...` line per tensor (names as in the library's checkpoints,
// dtype f32). The data are the tensors in header order, row-major; crc is the CRC-32 (zlib's)
// of every byte before it.
//
// The public API is this header (Model, Stream) and the ones it includes: error.h (Error),
// ncm_format.h (crc32, NcmTensor, NcmFile, read_ncm, write_ncm, read_file_bytes) and
// step_options.h (OpCounts, AnalogNoise, StepOptions). integer_src.h adds the integer SRC.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "error.h"
#include "ncm_format.h"
#include "step_options.h"

namespace ncrt {

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

// The cells this runtime builds in a `sequence` model, named as in a .ncm header's `cell` and
// `layer L KIND` lines and as the library's cell registry (cell_kind_names()) names them, in
// its order: brc, nbrc, gru, lstm, mgu, bmru, cmru, acmru, fq-bmru, mingru, lru,
// hybrid-bmru-lru, hybrid-cmru-lru, hybrid-acmru-lru (a hybrid's layer line may also be
// `pair MRU lru`, as `neurocell export` writes it). "src" is not in the list: SRC belongs to a
// model kind of its own, `model src-classifier`, whose layers are all `layer L src`.
const std::vector<std::string>& supported_layer_kinds();

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

}  // namespace ncrt
