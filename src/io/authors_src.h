#pragma once
// Models saved by the SRC authors' training code (cells.md section 2, "Import format"): a
// folder or a .zip holding config.json and arrays.npz (inside a zip the two may sit in one
// top-level folder). Everything is checked on load: keys, shapes, float32, cell type.
//
// Layers: the arrays decide how many SRC layers there are (l0_..l{L-1}_). Each layer's width
// H_k is the row count of l{k}_forward_weights, and the layers must chain (I_0 = input_size,
// I_k = H_{k-1}). How `hidden_layers` counts is not written down: we accept L = hidden_layers
// (it counts every SRC layer) or L = hidden_layers + 1 (hidden layers plus an output SRC
// layer). Every layer but the last has hidden_size neurons; the last has
// readout_input_factor * output_size (cells.md: readout_factor neurons per class) or, when the
// two coincide or the authors sized it so, hidden_size. readout is (output_size, H_last).
#include <nlohmann/json.hpp>  // config is held by value: json_fwd.hpp is not enough
#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

namespace neurocell {

struct AuthorsSrcModel {
  nlohmann::json config;  // config.json as read
  int64_t input_size = 0, hidden_size = 0, hidden_layers = 0, output_size = 0, readout_factor = 0;
  // Per layer k, float32, squeezed: forward_weights (H, I); bias, rho, r, rs, zs_dep, zs_hyp,
  // initial_i, initial_h, initial_hs (H).
  std::vector<std::map<std::string, torch::Tensor>> layers;
  torch::Tensor readout;  // (C, H_last)
  // cell_config
  double bias_max = -4;
  std::vector<double> alphas;
  std::string activation;
  // dataset_config
  int64_t seq_length = 0, prefix_length = 0, suffix_length = 0;
  double rate_gain = 0;
  std::string dataset_name, encoding;
};

AuthorsSrcModel read_authors_src_model(const std::string& path);
// The same checks on contents already read (`what` names the source in errors).
AuthorsSrcModel parse_authors_src_model(const std::string& config_json, const std::string& arrays_npz,
                                        const std::string& what);

}  // namespace neurocell
