// Integer SRC (see integer_src.h for the arithmetic and the choices made).
#include "integer_src.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace ncrt {

using integer_math::clip;
using integer_math::shift_right;

QuantizedMatrix quantize_weights(const std::vector<float>& w, int64_t rows, int64_t cols, int bits) {
  if (bits < 2 || bits > 14) throw Error("weight bits must be in 2..14, got " + std::to_string(bits));
  if (static_cast<int64_t>(w.size()) != rows * cols) throw Error("quantize_weights: size does not match rows x cols");
  float largest = 0;
  for (float v : w) largest = std::max(largest, std::fabs(v));
  QuantizedMatrix q;
  q.rows = rows, q.cols = cols;
  q.scale = largest > 0 ? static_cast<float>(1 << bits) / largest : 1.0f;
  q.values.reserve(w.size());
  for (float v : w) q.values.push_back(static_cast<int32_t>(std::lround(v * q.scale)));
  return q;
}

IntegerSrc::IntegerSrc(std::vector<IntegerSrcLayer> layers, std::vector<int32_t> readout, int64_t classes,
                       const IntegerSrcOptions& options)
    : layers_(std::move(layers)), readout_(std::move(readout)), classes_(classes), options_(options) {
  if (layers_.empty()) throw Error("an integer SRC needs at least one layer");
  for (size_t l = 0; l < layers_.size(); ++l) {
    const auto& layer = layers_[l];
    const auto H = static_cast<size_t>(layer.hidden);
    if (layer.input <= 0 || layer.hidden <= 0 || layer.weight.size() != H * static_cast<size_t>(layer.input) ||
        layer.bias.size() != H || layer.initial_h.size() != H || layer.initial_hs.size() != H)
      throw Error("integer SRC layer " + std::to_string(l) + ": sizes of weight/bias/initial states do not match");
    if (l > 0 && layer.input != layers_[l - 1].hidden)
      throw Error("integer SRC layer " + std::to_string(l) + " reads " + std::to_string(layer.input) +
                  " inputs but the previous layer has " + std::to_string(layers_[l - 1].hidden) + " neurons");
  }
  if (classes_ <= 0 || readout_.size() != static_cast<size_t>(classes_ * layers_.back().hidden))
    throw Error("integer SRC readout must be (classes, last layer's neurons)");
  size_t widest = 0;
  for (const auto& layer : layers_) {
    std::vector<int32_t> t(layer.weight.size());
    for (int64_t j = 0; j < layer.hidden; ++j)
      for (int64_t k = 0; k < layer.input; ++k) t[k * layer.hidden + j] = layer.weight[j * layer.input + k];
    weight_t_.push_back(std::move(t));
    widest = std::max(widest, static_cast<size_t>(layer.hidden));
  }
  current_.resize(widest);
  reset();
}

int32_t integer_bias(float b) { return clip(std::lround(500.0 * b), -32768, 32767); }

IntegerSrc IntegerSrc::from_model(const Model& model, const IntegerSrcOptions& options) {
  if (!model.is_src_classifier() || model.cell() != "src")
    throw Error("the integer SRC needs an SRC classifier model (model src-classifier, cell src)");
  std::vector<IntegerSrcLayer> layers;
  for (int64_t l = 0; l < model.layers(); ++l) {
    const std::string p = "layer" + std::to_string(l) + ".";
    const auto shape = model.tensor_shape(p + "weight");  // (H, I)
    IntegerSrcLayer layer;
    layer.hidden = shape[0], layer.input = shape[1];
    auto quantized = quantize_weights(model.tensor(p + "weight"), shape[0], shape[1], options.weight_bits);
    layer.weight = std::move(quantized.values);
    layer.weight_scale = quantized.scale;
    // h' = lin(I + 2 (h - 4 h_s + bias)) with h in thousandths: the bias is doubled like h, so a
    // float bias b is 1000 b / 2 = 500 b here (b = -6 gives the reference design's -3000).
    for (float b : model.tensor(p + "bias"))
      layer.bias.push_back(options.trained_bias ? integer_bias(b) : options.bias);
    for (float h : model.tensor(p + "initial_h")) layer.initial_h.push_back(clip(std::lround(1000.0 * h), -1024, 1023));
    for (float h : model.tensor(p + "initial_hs")) layer.initial_hs.push_back(clip(std::lround(1000.0 * h), -800, 1023));
    layers.push_back(std::move(layer));
  }
  std::vector<int32_t> readout;
  for (float r : model.tensor("readout")) readout.push_back(clip(std::lround(10.0 * r), -128, 127));
  return IntegerSrc(std::move(layers), std::move(readout), model.output_size(), options);
}

namespace {

NcmTensor ints(std::string dtype, std::vector<int64_t> shape, std::vector<int32_t> values) {
  NcmTensor t;
  t.dtype = std::move(dtype), t.shape = std::move(shape), t.ints = std::move(values);
  return t;
}

NcmTensor scalar(float value) {
  NcmTensor t;
  t.shape = {1}, t.floats = {value};
  return t;
}

}  // namespace

std::string IntegerSrc::ncm_bytes() const {
  std::string header = "model integer-src\ncell src\ninput " + std::to_string(input_size()) + "\noutput " +
                       std::to_string(classes_) + "\nlayers " + std::to_string(layers_.size()) + "\n";
  std::vector<std::pair<std::string, NcmTensor>> tensors;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const auto& layer = layers_[l];
    header += "layer " + std::to_string(l) + " src " + std::to_string(layer.input) + " " + std::to_string(layer.hidden) + "\n";
    const std::string p = "layer" + std::to_string(l) + ".";
    tensors.emplace_back(p + "weight", ints("i16", {layer.hidden, layer.input}, layer.weight));
    tensors.emplace_back(p + "weight_scale", scalar(layer.weight_scale));
    tensors.emplace_back(p + "bias", ints("i16", {layer.hidden}, layer.bias));
    tensors.emplace_back(p + "initial_h", ints("i16", {layer.hidden}, layer.initial_h));
    tensors.emplace_back(p + "initial_hs", ints("i16", {layer.hidden}, layer.initial_hs));
  }
  tensors.emplace_back("readout", ints("i8", {classes_, layers_.back().hidden}, readout_));
  tensors.emplace_back("readout_scale", scalar(10.0f));
  header += "constant weight_bits " + std::to_string(options_.weight_bits) + "\nconstant leaky_accumulators " +
            std::to_string(options_.leaky_accumulators ? 1 : 0) + "\nconstant trained_bias " +
            std::to_string(options_.trained_bias ? 1 : 0) + "\nconstant z_max " + std::to_string(options_.z_max) +
            "\nconstant z_min " + std::to_string(options_.z_min) + "\n";
  return write_ncm(header, tensors);
}

IntegerSrc IntegerSrc::load(const std::string& path) { return parse(read_file_bytes(path), path); }

IntegerSrc IntegerSrc::parse(const std::string& bytes, const std::string& what) {
  const NcmFile file = read_ncm(bytes, what);
  if (file.value("model") != "integer-src")
    throw Error(what + ": model '" + file.value("model") + "' is not an integer SRC (export one with `neurocell export "
                "--checkpoint SRC_RUN --integer-bits 8`; float models load with ncrt::Model::load)");
  IntegerSrcOptions options;
  int64_t layer_count = -1, classes = -1;
  std::vector<std::pair<int64_t, int64_t>> shapes;  // (input, hidden) per layer
  for (const auto& line : file.lines) {
    // Not a structured binding: C++17 does not let the lambda below capture one (clang refuses).
    const auto& w = line.words;
    const std::string where = what + ": header line " + std::to_string(line.number);
    auto number_at = [&](size_t i) {
      if (w.size() <= i) throw Error(where + ": '" + w[0] + "' lacks a value");
      try {
        size_t used = 0;
        const long long v = std::stoll(w[i], &used);
        if (used == w[i].size()) return static_cast<int64_t>(v);
      } catch (const std::exception&) {
      }
      throw Error(where + ": '" + w[i] + "' is not an integer");
    };
    if (w[0] == "model" || w[0] == "cell" || w[0] == "input") continue;
    if (w[0] == "output") classes = number_at(1);
    else if (w[0] == "layers") layer_count = number_at(1);
    else if (w[0] == "layer") {
      if (w.size() != 5 || w[2] != "src" || number_at(1) != static_cast<int64_t>(shapes.size()))
        throw Error(where + ": expected 'layer " + std::to_string(shapes.size()) + " src INPUT HIDDEN'");
      shapes.emplace_back(number_at(3), number_at(4));
    } else if (w[0] == "constant" && w.size() == 3) {
      const int64_t v = number_at(2);
      if (w[1] == "weight_bits") options.weight_bits = static_cast<int>(v);
      else if (w[1] == "leaky_accumulators") options.leaky_accumulators = v != 0;
      else if (w[1] == "trained_bias") options.trained_bias = v != 0;
      else if (w[1] == "z_max") options.z_max = static_cast<int32_t>(v);
      else if (w[1] == "z_min") options.z_min = static_cast<int32_t>(v);
      else throw Error(where + ": unknown constant '" + w[1] + "'");
    } else {
      throw Error(where + ": unknown item '" + w[0] + "'");
    }
  }
  if (layer_count <= 0 || static_cast<int64_t>(shapes.size()) != layer_count || classes <= 0)
    throw Error(what + ": the header must give positive output and layers and one 'layer' line per layer");
  auto get = [&](const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape) -> const NcmTensor& {
    const auto it = file.tensors.find(name);
    if (it == file.tensors.end()) throw Error(what + ": tensor '" + name + "' is missing (re-export the model)");
    if (it->second.dtype != dtype || it->second.shape != shape)
      throw Error(what + ": tensor '" + name + "' is not " + dtype + " of the shape the header describes");
    return it->second;
  };
  std::vector<IntegerSrcLayer> layers;
  for (size_t l = 0; l < shapes.size(); ++l) {
    const std::string p = "layer" + std::to_string(l) + ".";
    IntegerSrcLayer layer;
    layer.input = shapes[l].first, layer.hidden = shapes[l].second;
    if (layer.input <= 0 || layer.hidden <= 0) throw Error(what + ": layer " + std::to_string(l) + " has no units");
    layer.weight = get(p + "weight", "i16", {layer.hidden, layer.input}).ints;
    layer.weight_scale = get(p + "weight_scale", "f32", {1}).floats[0];
    layer.bias = get(p + "bias", "i16", {layer.hidden}).ints;
    layer.initial_h = get(p + "initial_h", "i16", {layer.hidden}).ints;
    layer.initial_hs = get(p + "initial_hs", "i16", {layer.hidden}).ints;
    layers.push_back(std::move(layer));
  }
  auto readout = get("readout", "i8", {classes, shapes.back().second}).ints;
  get("readout_scale", "f32", {1});
  if (file.tensors.size() != 5 * shapes.size() + 2)
    throw Error(what + ": tensors that belong to no layer of the model the header describes");
  return IntegerSrc(std::move(layers), std::move(readout), classes, options);
}

void IntegerSrc::reset() {
  states_.assign(layers_.size(), {});
  for (size_t l = 0; l < layers_.size(); ++l) {
    auto& s = states_[l];
    s.i.assign(layers_[l].hidden, 0);
    s.h = layers_[l].initial_h;
    s.h_s = layers_[l].initial_hs;
    s.spikes.assign(layers_[l].hidden, 0);
  }
  accumulators_.assign(classes_, 0);
}

void IntegerSrc::step(const uint8_t* input) {
  const uint8_t* in = input;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const auto& layer = layers_[l];
    auto& s = states_[l];
    // The leaked current, then the weights of the inputs that spiked (spikes are sparse).
    std::fill(current_.begin(), current_.begin() + layer.hidden, 0);
    for (int64_t k = 0; k < layer.input; ++k) {
      if (!in[k]) continue;
      counts_.input_events += l == 0;
      counts_.macs += static_cast<uint64_t>(layer.hidden);  // additions: the spike selects the weights
      const int32_t* row = weight_t_[l].data() + k * layer.hidden;
      for (int64_t j = 0; j < layer.hidden; ++j) current_[j] += row[j];
    }
    for (int64_t j = 0; j < layer.hidden; ++j) {
      IntegerSrcNeuron n{s.i[j], s.h[j], s.h_s[j]};
      integer_src_update(n, current_[j], layer.bias[j], options_.z_max, options_.z_min);
      s.i[j] = n.i, s.h[j] = n.h, s.h_s[j] = n.h_s;
      s.spikes[j] = n.h >= kIntegerSrcThreshold ? 1 : 0;
      counts_.spikes += s.spikes[j];
    }
    counts_.state_updates += static_cast<uint64_t>(3 * layer.hidden);  // i, h, h_s
    in = s.spikes.data();
  }
  const int64_t H = layers_.back().hidden;
  for (int64_t c = 0; c < classes_; ++c) {
    int64_t acc = accumulators_[c];
    if (options_.leaky_accumulators) acc -= shift_right(acc, 5);
    for (int64_t j = 0; j < H; ++j)
      if (in[j]) acc += readout_[c * H + j], counts_.macs += 1;
    accumulators_[c] = clip(acc, INT32_MIN, INT32_MAX);
  }
  counts_.state_updates += static_cast<uint64_t>(classes_);
  counts_.steps += 1;
}

int64_t IntegerSrc::prediction() const {
  return std::max_element(accumulators_.begin(), accumulators_.end()) - accumulators_.begin();
}

std::vector<uint8_t> subsample_trace(const std::vector<uint8_t>& frames, int64_t T, int64_t I, int64_t steps,
                                     bool rising_edges) {
  if (static_cast<int64_t>(frames.size()) != T * I) throw Error("subsample_trace: frames must be (T, I)");
  if (steps <= 0 || steps > T || T % steps)
    throw Error("subsample_trace: " + std::to_string(steps) + " steps do not divide a trace of " + std::to_string(T));
  const int64_t stride = T / steps;
  std::vector<uint8_t> out(static_cast<size_t>(steps * I), 0);
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t k = 0; k < I; ++k) {
      const uint8_t now = frames[t * stride * I + k];
      const uint8_t before = t > 0 ? frames[(t - 1) * stride * I + k] : 0;
      out[t * I + k] = rising_edges ? (now && !before) : now;
    }
  return out;
}

}  // namespace ncrt
