// The model of the dependency-free runtime (see neurocell_runtime.h): reading a `sequence` or
// `src-classifier` model from its .ncm file, building its layers, and stepping it.
#include "neurocell_runtime.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "header_words.h"
#include "layers.h"

namespace ncrt {

using detail::Constants;
using detail::Layer;
using detail::make_layer;
using detail::make_pair_layer;
using detail::matvec;
using detail::parse_int;
using detail::parse_number;
using detail::Tensor;
using detail::TensorTable;

namespace {

struct LayerLine {
  std::string kind, first, second;  // kind "pair" uses first and second
  int64_t input = 0, hidden = 0;
};

// What the header says, kept so that a model with edited tensors can be built again.
struct Description {
  std::string model_kind, cell, what;
  int64_t input = 0, hidden = 0, output = 0;
  Constants constants;
  std::vector<LayerLine> layers;
};

}  // namespace

struct Model::Impl {
  bool classifier = false;  // "src-classifier": logits accumulated over time, kept in the state
  float logit_scale = 0;
  std::string cell;
  int64_t input = 0, hidden = 0, output = 0;
  std::vector<std::unique_ptr<Layer>> layers;
  std::vector<int64_t> state_offsets;  // per layer, then the total
  const Tensor* readout_w = nullptr;
  const Tensor* readout_b = nullptr;
  std::unique_ptr<TensorTable> tensors;
  int64_t scratch = 0;
  int64_t buffer_width = 0;  // the widest layer output
  Description description;
  std::vector<std::string> tensor_order;  // as in the file
};

namespace {
std::shared_ptr<Model::Impl> build(Description description, std::map<std::string, Tensor> tensors,
                                   std::vector<std::string> order);
}

Model Model::load(const std::string& path) { return parse(read_file_bytes(path), path); }

Model Model::parse(const std::string& bytes, const std::string& what) {
  const NcmFile file = read_ncm(bytes, what);
  if (file.value("model") == "integer-src")
    throw Error(what + ": an integer SRC (model integer-src): load it with ncrt::IntegerSrc::load (integer_src.h)");
  Description d;
  d.what = what;
  Constants& constants = d.constants;
  int64_t layer_count = -1;
  for (const auto& line : file.lines) {
    // Not a structured binding: C++17 does not let the lambda below capture one (clang refuses).
    const auto& w = line.words;
    const std::string where = what + ": header line " + std::to_string(line.number);
    auto need = [&](size_t n) {
      if (w.size() != n) throw Error(where + ": '" + w[0] + "' takes " + std::to_string(n - 1) + " values");
    };
    if (w[0] == "model") need(2), d.model_kind = w[1];
    else if (w[0] == "cell") need(2), d.cell = w[1];
    else if (w[0] == "input") need(2), d.input = parse_int(w[1], where);
    else if (w[0] == "hidden") need(2), d.hidden = parse_int(w[1], where);
    else if (w[0] == "output") need(2), d.output = parse_int(w[1], where);
    else if (w[0] == "layers") need(2), layer_count = parse_int(w[1], where);
    else if (w[0] == "layer") {
      LayerLine l;
      if (w.size() == 5) l.kind = w[2];
      else if (w.size() == 7 && w[2] == "pair") l.kind = "pair", l.first = w[3], l.second = w[4];
      else throw Error(where + ": expected 'layer L KIND INPUT HIDDEN' or 'layer L pair FIRST SECOND INPUT HIDDEN'");
      if (parse_int(w[1], where) != static_cast<int64_t>(d.layers.size()))
        throw Error(where + ": layers must be listed in order, expected layer " + std::to_string(d.layers.size()));
      l.input = parse_int(w[w.size() - 2], where);
      l.hidden = parse_int(w.back(), where);
      d.layers.push_back(l);
    } else if (w[0] == "constant") {
      need(3);
      const double v = parse_number(w[2], where);
      if (w[1] == "cmru_levels") {
        // Checked as a double: casting 1e20 to int64 is undefined and gave a wrapped, wrong message.
        if (v != std::floor(v) || v < 2 || v > 1e6)
          throw Error(where + ": constant cmru_levels must be a whole number from 2 to 1000000, got " + w[2]);
        constants.cmru_levels = static_cast<int64_t>(v);
      }
      else if (w[1] == "fq_theta_on") constants.fq_theta_on = static_cast<float>(v);
      else if (w[1] == "fq_theta_off") constants.fq_theta_off = static_cast<float>(v);
      else if (w[1] == "layer_norm_eps") constants.layer_norm_eps = static_cast<float>(v);
      else if (w[1] == "src_alpha") constants.src_alpha = static_cast<float>(v);
      else if (w[1] == "lif_beta") constants.lif_beta = static_cast<float>(v);
      else if (w[1] == "lif_threshold") constants.lif_threshold = static_cast<float>(v);
      else if (w[1] == "logit_scale") constants.logit_scale = static_cast<float>(v);
      else throw Error(where + ": unknown constant '" + w[1] + "'");
    } else {
      throw Error(where + ": unknown item '" + w[0] + "'");
    }
  }
  if (d.model_kind != "sequence" && d.model_kind != "src-classifier")
    throw Error(what + ": model kind '" + d.model_kind +
                "' is not supported (this runtime runs 'sequence' and 'src-classifier' models)");
  if (d.model_kind == "src-classifier" && !(constants.logit_scale > 0))
    throw Error(what + ": an src-classifier needs a positive 'constant logit_scale'");
  if (d.input <= 0 || d.hidden <= 0 || d.output <= 0 || layer_count <= 0)
    throw Error(what + ": the header must give positive input, hidden, output and layers");
  if (static_cast<int64_t>(d.layers.size()) != layer_count)
    throw Error(what + ": the header announces " + std::to_string(layer_count) + " layers and describes " +
                std::to_string(d.layers.size()));
  if (constants.cmru_levels < 2) throw Error(what + ": constant cmru_levels must be >= 2");

  std::map<std::string, Tensor> tensors;
  for (const auto& name : file.tensor_order) {
    const auto& t = file.tensors.at(name);
    if (t.dtype != "f32")
      throw Error(what + ": header: tensor '" + name + "' has dtype '" + t.dtype + "', a float model holds f32 tensors");
    tensors.emplace(name, Tensor{t.shape, t.floats});
  }
  Model model;
  model.impl_ = build(std::move(d), std::move(tensors), file.tensor_order);
  return model;
}

namespace {

// The layers and the readout of a described model over its tensors (every check that needs both).
std::shared_ptr<Model::Impl> build(Description d, std::map<std::string, Tensor> tensors, std::vector<std::string> order) {
  const std::string what = d.what;
  const Constants& constants = d.constants;
  const std::vector<LayerLine>& layer_lines = d.layers;
  auto impl = std::make_shared<Model::Impl>();
  impl->classifier = d.model_kind == "src-classifier";
  impl->logit_scale = constants.logit_scale;
  impl->cell = d.cell;
  impl->input = d.input, impl->hidden = d.hidden, impl->output = d.output;
  impl->tensors = std::make_unique<TensorTable>(std::move(tensors), what);

  // Layers, then the readout.
  int64_t width = impl->input, offset = 0;
  for (size_t l = 0; l < layer_lines.size(); ++l) {
    const auto& line_l = layer_lines[l];
    if (line_l.input != width)
      throw Error(what + ": layer " + std::to_string(l) + " reads " + std::to_string(line_l.input) +
                  " features but the previous layer gives " + std::to_string(width));
    if (line_l.hidden <= 0) throw Error(what + ": layer " + std::to_string(l) + " has no units");
    // A sequence model's layers all have the hidden width; an SRC classifier's last layer has
    // classes x readout_factor neurons.
    if (!impl->classifier && line_l.hidden != impl->hidden)
      throw Error(what + ": layer " + std::to_string(l) + " has " + std::to_string(line_l.hidden) +
                  " units but the model's hidden size is " + std::to_string(impl->hidden));
    const bool spiking_layer = line_l.kind == "src" || line_l.kind == "lif";
    if (impl->classifier != spiking_layer)
      throw Error(what + ": layer " + std::to_string(l) + " is '" + line_l.kind + "', but " +
                  (impl->classifier ? "an src-classifier has spiking (src or lif) layers only"
                                    : "SRC layers need model src-classifier"));
    const std::string prefix = (impl->classifier ? "layer" : "stack.layer") + std::to_string(l) + ".";
    if (line_l.kind == "pair") {
      if (line_l.hidden % 2) throw Error(what + ": a pair layer needs an even width, got " + std::to_string(line_l.hidden));
      impl->layers.push_back(make_pair_layer(line_l.first, line_l.second, *impl->tensors, prefix, line_l.input,
                                             line_l.hidden, constants));
    } else {
      impl->layers.push_back(make_layer(line_l.kind, *impl->tensors, prefix, line_l.input, line_l.hidden, constants));
    }
    impl->state_offsets.push_back(offset);
    offset += impl->layers.back()->state_size();
    impl->scratch = std::max(impl->scratch, impl->layers.back()->scratch_size());
    width = line_l.hidden;
    impl->buffer_width = std::max(impl->buffer_width, width);
  }
  // The cell line names what the layers are (it is printed, and read by tools): a cell of this
  // runtime ("src" or "lif" for an src-classifier), and a single-cell layer must be of that cell (a
  // pair: a double layer or a hybrid, named by its own cell).
  const auto& kinds = supported_layer_kinds();
  const bool known_cell = impl->classifier ? d.cell == "src" || d.cell == "lif"
                                           : std::find(kinds.begin(), kinds.end(), d.cell) != kinds.end();
  if (!known_cell)
    throw Error(what + ": the header's 'cell' line is missing or names no cell of this runtime (" +
                (impl->classifier ? std::string("an src-classifier has cell src or lif")
                                  : "see ncrt::supported_layer_kinds()") +
                ")");
  for (size_t l = 0; l < layer_lines.size(); ++l)
    if (layer_lines[l].kind != "pair" && layer_lines[l].kind != d.cell)
      throw Error(what + ": layer " + std::to_string(l) + " is '" + layer_lines[l].kind + "' but the header says cell '" +
                  d.cell + "'");
  if (impl->classifier) {  // the frozen readout R (C, H_last); the logits so far live in the state
    impl->readout_w = &impl->tensors->get("readout", {impl->output, width});
    impl->state_offsets.push_back(offset);
    offset += impl->output;
  } else {
    impl->readout_w = &impl->tensors->get("readout.weight", {impl->output, width});
    impl->readout_b = &impl->tensors->get("readout.bias", {impl->output});
  }
  impl->state_offsets.push_back(offset);
  impl->tensors->check_all_used();
  impl->scratch += 2 * impl->buffer_width;  // the ping-pong layer outputs
  impl->description = std::move(d);
  impl->tensor_order = std::move(order);
  return impl;
}

}  // namespace

Model Model::with_edited_tensors(const TensorEdit& edit) const {
  std::map<std::string, Tensor> tensors;
  for (const auto& name : impl_->tensor_order) {
    Tensor t = impl_->tensors->any(name);
    edit(name, t.shape, t.data);
    const size_t count = t.data.size();
    size_t expected = 1;
    for (int64_t dim : t.shape) expected *= static_cast<size_t>(dim);
    if (count != expected) throw Error(impl_->description.what + ": an edit changed the size of tensor '" + name + "'");
    for (float v : t.data)
      if (!std::isfinite(v)) throw Error(impl_->description.what + ": an edit made tensor '" + name + "' non-finite");
    tensors.emplace(name, std::move(t));
  }
  Model model;
  model.impl_ = build(impl_->description, std::move(tensors), impl_->tensor_order);
  return model;
}

std::vector<std::string> Model::tensor_names() const { return impl_->tensor_order; }

const std::string& Model::cell() const { return impl_->cell; }
int64_t Model::input_size() const { return impl_->input; }
int64_t Model::hidden_size() const { return impl_->hidden; }
int64_t Model::output_size() const { return impl_->output; }
int64_t Model::layers() const { return static_cast<int64_t>(impl_->layers.size()); }
int64_t Model::state_size() const { return impl_->state_offsets.back(); }
int64_t Model::scratch_size() const { return impl_->scratch; }

const std::vector<float>& Model::tensor(const std::string& name) const { return impl_->tensors->any(name).data; }
std::vector<int64_t> Model::tensor_shape(const std::string& name) const { return impl_->tensors->any(name).shape; }
bool Model::is_src_classifier() const { return impl_->classifier; }

void Model::initial_state(float* state) const {
  std::fill(state, state + state_size(), 0.0f);
  for (size_t l = 0; l < impl_->layers.size(); ++l) impl_->layers[l]->initial_state(state + impl_->state_offsets[l]);
}

void Model::step(const float* x, float* state, float* y, float* scratch) const {
  step(x, state, y, scratch, StepOptions{});
}

void Model::step(const float* x, float* state, float* y, float* scratch, const StepOptions& options) const {
  if (options.counts) options.counts->steps += 1;
  const int64_t width = impl_->buffer_width;
  float* buffers[2] = {scratch, scratch + width};
  float* layer_scratch = scratch + 2 * width;
  const float* in = x;
  for (size_t l = 0; l < impl_->layers.size(); ++l) {
    float* out = buffers[l % 2];
    impl_->layers[l]->step(in, state + impl_->state_offsets[l], out, layer_scratch, options);
    in = out;
  }
  if (!impl_->classifier) {
    matvec(*impl_->readout_w, in, y, impl_->readout_b, options.counts);
    return;
  }
  // logits += logit_scale R s_t; y = the logits so far (argmax after the last step: the class)
  float* logits = state + impl_->state_offsets[impl_->layers.size()];
  matvec(*impl_->readout_w, in, y, nullptr, options.counts);
  for (int64_t c = 0; c < impl_->output; ++c) y[c] = logits[c] += impl_->logit_scale * y[c];
}

Stream::Stream(Model model)
    : model_(std::move(model)), state_(model_.state_size()), scratch_(model_.scratch_size()), output_(model_.output_size()) {
  reset();
}

void Stream::reset() { model_.initial_state(state_.data()); }

const float* Stream::step(const float* x) {
  model_.step(x, state_.data(), output_.data(), scratch_.data());
  return output_.data();
}

}  // namespace ncrt
