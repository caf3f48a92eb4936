#include "io/authors_src.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/strict_json.h"
#include "io/files.h"
#include "io/npz.h"
#include "io/zip.h"

namespace neurocell {

namespace {

using nlohmann::json;

// Dotted paths into config.json ("dataset_config.rate_gain") with errors that name them.
struct ConfigReader {
  const json& root;
  std::string where;  // "'model.zip': config.json"

  const json& get(const std::string& dotted) const {
    const json* node = &root;
    size_t start = 0;
    while (true) {
      const size_t dot = dotted.find('.', start);
      const std::string parent = dotted.substr(0, start ? start - 1 : 0);
      if (!node->is_object())
        throw Error(parent.empty() ? where + " must hold a JSON object" : where + ": '" + parent + "' must be an object");
      const auto it = node->find(dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (it == node->end()) throw Error(where + ": missing key '" + dotted + "'");
      node = &*it;
      if (dot == std::string::npos) return *node;
      start = dot + 1;
    }
  }
  double number(const std::string& key) const {
    const json& v = get(key);
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      throw Error(where + ": '" + key + "' must be a number, got " + v.dump());
    return v.get<double>();
  }
  int64_t integer(const std::string& key, int64_t min) const {
    const json& v = get(key);
    // Python writes 200 but a float-typed config may hold 200.0: both are the integer 200.
    const bool integral = v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                                    v.get<double>() == std::floor(v.get<double>()));
    if (!integral || v.get<double>() < static_cast<double>(min) || v.get<double>() > 1e15)
      throw Error(where + ": '" + key + "' must be an integer >= " + std::to_string(min) + ", got " + v.dump());
    return v.is_number_float() ? static_cast<int64_t>(v.get<double>()) : v.get<int64_t>();
  }
  // The value at a dotted path, or null when a key on the way is absent.
  const json* find(const std::string& dotted) const {
    const json* node = &root;
    size_t start = 0;
    while (true) {
      const size_t dot = dotted.find('.', start);
      if (!node->is_object()) return nullptr;
      const auto it = node->find(dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (it == node->end()) return nullptr;
      node = &*it;
      if (dot == std::string::npos) return node;
      start = dot + 1;
    }
  }
  std::string string(const std::string& key) const {
    const json& v = get(key);
    if (!v.is_string()) throw Error(where + ": '" + key + "' must be a string, got " + v.dump());
    return v.get<std::string>();
  }
};

std::string shape_string(c10::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Layer index of a key "l{k}_...", or -1.
int64_t layer_of(const std::string& key) {
  size_t i = 1;
  while (i < key.size() && std::isdigit(static_cast<unsigned char>(key[i]))) ++i;
  if (key.empty() || key[0] != 'l' || i == 1 || i >= key.size() || key[i] != '_' || i > 7) return -1;
  return std::stoll(key.substr(1, i - 1));
}

}  // namespace

AuthorsSrcModel parse_authors_src_model(const std::string& config_json, const std::string& arrays_npz,
                                        const std::string& what) {
  AuthorsSrcModel m;
  const std::string config_where = what + ": config.json";
  m.config = parse_json_strict(config_json, config_where);
  const ConfigReader c{m.config, config_where};
  const std::string type = c.string("cell_config.type");
  require(type == "src", config_where + ": cell_config.type is '" + type + "', expected 'src' (an SRC model)");
  m.activation = c.string("cell_config.activation");
  // The forward pass of the surrogate ReLU is the ReLU; any other activation would change
  // the spikes, which this project's SRC does not implement.
  require(m.activation == "surrogate_relu" || m.activation == "relu",
          config_where + ": cell_config.activation is '" + m.activation + "', only 'surrogate_relu' is supported");
  m.bias_max = c.number("cell_config.bias_max");
  // What the authors' config can say that neurocell's SRC cannot represent is refused, never
  // dropped: recurrent connections between neurons, and more than one input integrator per neuron.
  if (const json* recurrence = c.find("cell_config.recurrence"))
    require(recurrence->is_null(), config_where + ": cell_config.recurrence is " + recurrence->dump().substr(0, 60) +
                                       "; neurocell's SRC has no recurrent connections between neurons (only null is supported)");
  if (const json* integrators = c.find("cell_config.num_integrators_per_neuron"))
    require(integrators->is_number() && integrators->get<double>() == 1.0,
            config_where + ": cell_config.num_integrators_per_neuron is " + integrators->dump().substr(0, 60) +
                "; neurocell's SRC has one input integrator per neuron (only 1 is supported)");
  const json& alphas = c.get("cell_config.alphas");
  if (alphas.is_number()) {
    m.alphas.push_back(c.number("cell_config.alphas"));
  } else {
    require(alphas.is_array() && !alphas.empty(),
            config_where + ": 'cell_config.alphas' must be a non-empty list of numbers, got " + alphas.dump());
    for (const auto& a : alphas) {
      require(a.is_number() && std::isfinite(a.get<double>()),
              config_where + ": 'cell_config.alphas' must be a non-empty list of numbers, got " + alphas.dump());
      m.alphas.push_back(a.get<double>());
    }
  }
  m.encoding = c.string("dataset_config.encoding");
  m.seq_length = c.integer("dataset_config.seq_length", 1);
  m.prefix_length = c.integer("dataset_config.prefix_length", 0);
  m.suffix_length = c.integer("dataset_config.suffix_length", 0);
  // The prefix is the blank lead-in before the image: longer than the sequence, the image is never shown.
  require(m.prefix_length <= m.seq_length,
          config_where + ": dataset_config.prefix_length " + std::to_string(m.prefix_length) +
              " exceeds dataset_config.seq_length " + std::to_string(m.seq_length));
  m.rate_gain = c.number("dataset_config.rate_gain");
  m.dataset_name = c.string("dataset_config.name");
  m.input_size = c.integer("input_size", 1);
  m.hidden_size = c.integer("hidden_size", 1);
  m.hidden_layers = c.integer("hidden_layers", 0);
  m.output_size = c.integer("output_size", 1);
  m.readout_factor = c.integer("readout_input_factor", 1);

  const std::string where = what + ": arrays.npz";
  const auto arrays = parse_npz(arrays_npz, where);
  int64_t L = 0;
  for (const auto& kv : arrays) L = std::max(L, layer_of(kv.first) + 1);
  // Every array must be one the model uses: an unknown one would be silently lost on import.
  static const std::vector<std::string> per_layer = {"forward_weights", "bias", "rho", "r", "rs", "zs_dep",
                                                     "zs_hyp", "initial_i", "initial_h", "initial_hs"};
  for (const auto& kv : arrays) {
    const int64_t k = layer_of(kv.first);
    const std::string prefix = "l" + std::to_string(k) + "_";
    const bool known = kv.first == "readout" ||
                       (k >= 0 && kv.first.rfind(prefix, 0) == 0 &&
                        std::find(per_layer.begin(), per_layer.end(), kv.first.substr(prefix.size())) != per_layer.end());
    require(known, where + ": unknown array '" + kv.first.substr(0, 80) +
                       "' (neurocell's SRC would drop it; known: readout and l<k>_ forward_weights, bias, rho, r, rs, "
                       "zs_dep, zs_hyp, initial_i, initial_h, initial_hs)");
  }
  require(L >= 1, where + ": no key 'l0_forward_weights' (no SRC layer in the file)");
  require(L == m.hidden_layers || L == m.hidden_layers + 1,
          where + ": holds " + std::to_string(L) + " SRC layers (l0_ to l" + std::to_string(L - 1) +
              "_) but config.json has hidden_layers = " + std::to_string(m.hidden_layers) + " (expected " +
              std::to_string(m.hidden_layers) + " or " + std::to_string(m.hidden_layers + 1) + " layers)");

  const auto fetch = [&](const std::string& key, const std::string& context) {
    const auto it = arrays.find(key);
    require(it != arrays.end(), where + ": missing key '" + key + "'" + context);
    require(it->second.scalar_type() == torch::kFloat32,
            where + ": key '" + key + "' is " + std::string(c10::toString(it->second.scalar_type())) +
                ", expected float32");
    // As the safetensors and .ncm loaders: a NaN weight would give a run folder its own loader refuses.
    require(torch::isfinite(it->second).all().item<bool>(), where + ": key '" + key + "' holds NaN or Inf values");
    return it->second;
  };
  const auto check_shape = [&](const std::string& key, const torch::Tensor& t, std::vector<int64_t> expected,
                               const std::string& meaning) {
    require(t.sizes() == c10::IntArrayRef(expected),
            where + ": key '" + key + "' has shape " + shape_string(t.sizes()) + ", expected " +
                shape_string(expected) + " (" + meaning + ")");
  };

  int64_t width = m.input_size;  // I of the next layer
  for (int64_t k = 0; k < L; ++k) {
    const std::string p = "l" + std::to_string(k) + "_";
    const std::string context = " (layer " + std::to_string(k) + " of " + std::to_string(L) + ")";
    const bool last = k == L - 1;
    const auto weights = fetch(p + "forward_weights", context);
    const std::string input_meaning = k == 0 ? "I = input_size = " + std::to_string(m.input_size)
                                             : "I = the " + std::to_string(width) + " neurons of layer " + std::to_string(k - 1);
    require(weights.dim() == 2, where + ": key '" + p + "forward_weights' has shape " + shape_string(weights.sizes()) +
                                    ", expected [H, " + std::to_string(width) + "] (H x I, " + input_meaning + ")");
    const int64_t H = weights.size(0);
    const int64_t output_width = m.readout_factor * m.output_size;
    if (!last) {
      check_shape(p + "forward_weights", weights, {m.hidden_size, width},
                  "H x I, H = hidden_size = " + std::to_string(m.hidden_size) + ", " + input_meaning);
    } else {
      const int64_t expected_h = (H == m.hidden_size) ? m.hidden_size : output_width;
      check_shape(p + "forward_weights", weights, {expected_h, width},
                  "H x I, last layer: H = readout_input_factor * output_size = " + std::to_string(output_width) +
                      " or hidden_size = " + std::to_string(m.hidden_size) + ", " + input_meaning);
    }
    std::map<std::string, torch::Tensor> layer;
    layer["forward_weights"] = weights.contiguous();
    const std::string h_meaning = "H = " + std::to_string(H) + " rows of " + p + "forward_weights";
    // Per-neuron vectors; the ones the authors keep with broadcast axes are also accepted
    // already squeezed to (H).
    const std::vector<std::pair<std::string, std::vector<int64_t>>> vectors = {
        {"bias", {H}},       {"rho", {H}},        {"r", {H}},          {"rs", {H}},          {"zs_dep", {1, H}},
        {"zs_hyp", {1, H}},  {"initial_i", {1, H, 1}}, {"initial_h", {H}}, {"initial_hs", {H}}};
    for (const auto& [name, stored] : vectors) {
      const auto t = fetch(p + name, context);
      if (!(t.dim() == 1 && t.size(0) == H)) check_shape(p + name, t, stored, h_meaning);
      layer[name] = t.reshape({H}).contiguous();
    }
    m.layers.push_back(std::move(layer));
    width = H;
  }
  const auto readout = fetch("readout", "");
  check_shape("readout", readout, {m.output_size, width},
              "C x H_last, C = output_size = " + std::to_string(m.output_size) + ", H_last = " + std::to_string(width) +
                  " neurons of layer " + std::to_string(L - 1));
  m.readout = readout.contiguous();
  return m;
}

AuthorsSrcModel read_authors_src_model(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string what = "'" + path + "'";
  const std::string expected = ": expected a folder or a .zip holding config.json and arrays.npz";
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const auto config = (fs::path(path) / "config.json").string(), arrays = (fs::path(path) / "arrays.npz").string();
    require(file_exists(config), what + " has no config.json" + expected);
    require(file_exists(arrays), what + " has no arrays.npz" + expected);
    return parse_authors_src_model(read_file(config, "model config"), read_file(arrays, "model arrays"), what);
  }
  require(fs::is_regular_file(path, ec), what + " not found" + expected);
  const auto zip = ZipArchive::open(path);
  // The two files at the top, or both inside one top-level folder (what zipping a folder gives).
  std::string prefix;
  if (!zip.contains("config.json")) {
    std::vector<std::string> folders;
    for (const auto& name : zip.names()) {
      const size_t slash = name.find('/');
      if (slash != std::string::npos && name.substr(slash) == "/config.json" && name.substr(0, slash) != "__MACOSX")
        folders.push_back(name.substr(0, slash + 1));
    }
    require(!folders.empty(), what + " has no config.json at its top or in a top-level folder" + expected);
    if (folders.size() > 1)
      throw Error(what + " holds several models (" + folders[0] + "config.json, " + folders[1] + "config.json): give one");
    prefix = folders[0];
  }
  require(zip.contains(prefix + "arrays.npz"), what + " has no " + prefix + "arrays.npz next to its config.json" + expected);
  return parse_authors_src_model(zip.read(prefix + "config.json"), zip.read(prefix + "arrays.npz"), what);
}

}  // namespace neurocell
