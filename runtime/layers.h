#pragma once
// Internal to the runtime (not installed): the tensors of a model as its layers see them, the
// layer interface, and the factories that build a layer from its header line. The layer
// classes themselves live in layers.cpp.
// Shapes in comments are of one sequence (no batch): x (I), h (H), W (rows, cols) row-major.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "error.h"
#include "step_options.h"

namespace ncrt::detail {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  const float* ptr() const { return data.data(); }
};

// The tensors of a file by name, and what the layers need to find theirs with clear errors.
class TensorTable {
 public:
  TensorTable(std::map<std::string, Tensor> tensors, std::string what) : tensors_(std::move(tensors)), what_(std::move(what)) {}

  const Tensor& get(const std::string& name, const std::vector<int64_t>& shape) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end())
      throw Error(what_ + ": tensor '" + name + "' is missing (re-export the model with `neurocell export`)");
    if (it->second.shape != shape)
      throw Error(what_ + ": tensor '" + name + "' has shape " + text(it->second.shape) + ", expected " + text(shape));
    used_.push_back(name);
    return it->second;
  }
  const std::string& what() const { return what_; }
  const Tensor& any(const std::string& name) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw Error(what_ + ": tensor '" + name + "' is missing");
    return it->second;
  }
  // Tensors no layer asked for: a file from a different model than its header says.
  void check_all_used() const {
    for (const auto& [name, tensor] : tensors_)
      if (std::find(used_.begin(), used_.end(), name) == used_.end())
        throw Error(what_ + ": tensor '" + name + "' belongs to no layer of the model the header describes");
  }
  static std::string text(const std::vector<int64_t>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + ")";
  }

 private:
  std::map<std::string, Tensor> tensors_;
  std::string what_;
  mutable std::vector<std::string> used_;
};

// The header's `constant NAME VALUE` lines, defaulting to the library's values.
struct Constants {
  int64_t cmru_levels = 2;
  float fq_theta_on = 0.75f, fq_theta_off = 0.25f;
  float layer_norm_eps = 1e-5f;
  float src_alpha = 0.9f;  // SRC: leak of the input integrator
  float lif_beta = 0.9f, lif_threshold = 1.0f;  // LIF: membrane leak and threshold
  float logit_scale = 0;   // SRC classifier: logits = logit_scale * R sum_t s[t]
};

// y (rows) = W x (+ b), W (rows, cols); counted when counts is given.
void matvec(const Tensor& w, const float* x, float* y, const Tensor* b = nullptr, OpCounts* counts = nullptr);

class Layer {
 public:
  Layer(int64_t input, int64_t hidden) : input(input), hidden(hidden) {}
  virtual ~Layer() = default;
  virtual int64_t state_size() const = 0;
  virtual int64_t scratch_size() const = 0;
  virtual void initial_state(float* state) const { std::fill(state, state + state_size(), 0.0f); }
  // x (input) -> out (hidden); state (state_size) updated in place; o: noise and counts.
  virtual void step(const float* x, float* state, float* out, float* scratch, const StepOptions& o) const = 0;
  const int64_t input, hidden;
};

// The layer of a header line 'layer L KIND INPUT HIDDEN' (KIND a cell name, or src / lif), its
// tensors named prefix + the library's parameter name. Throws Error for an unknown kind.
std::unique_ptr<Layer> make_layer(const std::string& kind, const TensorTable& t, const std::string& prefix, int64_t I,
                                  int64_t H, const Constants& k);
// The layer of 'layer L pair FIRST SECOND INPUT HIDDEN': FIRST and SECOND of H/2 (see PairLayer).
std::unique_ptr<Layer> make_pair_layer(const std::string& first_kind, const std::string& second_kind, const TensorTable& t,
                                       const std::string& prefix, int64_t I, int64_t H, const Constants& k);

}  // namespace ncrt::detail
