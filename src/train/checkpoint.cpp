#include "train/checkpoint.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <set>

#include "core/error.h"
#include "io/files.h"
#include "io/safetensors.h"

namespace neurocell {

std::string config_path(const std::string& dir) { return dir + "/config.json"; }
std::string metrics_path(const std::string& dir) { return dir + "/metrics.jsonl"; }
std::string weights_path(const std::string& dir) { return dir + "/model.safetensors"; }
std::string report_path(const std::string& dir) { return dir + "/report.json"; }
std::string resume_path(const std::string& dir) { return dir + "/resume.safetensors"; }
std::string lock_path(const std::string& dir) { return dir + "/.lock"; }

void write_json_atomic(const std::string& path, const nlohmann::json& json) {
  write_file_atomic(path, json.dump(2) + "\n");
}

void save_weights(const std::string& path, SequenceModel& model) {
  NamedTensors tensors;
  for (const auto& item : model->named_parameters()) tensors.emplace_back(item.key(), item.value());
  write_safetensors(path, tensors, {{"format", "neurocell"}, {"cell", model->config.cell}});
}

void load_weights(const std::string& path, SequenceModel& model) {
  const auto stored = read_safetensors(path);
  std::map<std::string, torch::Tensor> by_name(stored.begin(), stored.end());
  auto params = model->named_parameters();
  std::set<std::string> expected;
  torch::NoGradGuard no_grad;
  // Names first: a checkpoint of another architecture is reported as such, not as a shape.
  for (auto& item : params) {
    expected.insert(item.key());
    require(by_name.count(item.key()), "checkpoint '" + path + "' lacks tensor '" + item.key() +
                                           "' (saved by a different model?)");
  }
  for (const auto& [name, t] : by_name)
    require(expected.count(name), "checkpoint '" + path + "' has unexpected tensor '" + name +
                                      "' (saved by a different model?)");
  for (auto& item : params) {
    auto it = by_name.find(item.key());
    require(it->second.sizes() == item.value().sizes(),
            "checkpoint '" + path + "': tensor '" + item.key() + "' has shape " +
                c10::str(it->second.sizes()) + ", the model expects " + c10::str(item.value().sizes()));
    require(it->second.is_floating_point(), "checkpoint '" + path + "': tensor '" + item.key() +
                                                "' is not floating point");
    require(torch::isfinite(it->second).all().item<bool>(),
            "checkpoint '" + path + "': tensor '" + item.key() + "' holds NaN or Inf");
    item.value().copy_(it->second);
  }
}

}  // namespace neurocell
