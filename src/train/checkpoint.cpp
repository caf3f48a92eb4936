#include "train/checkpoint.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <set>

#include "core/error.h"
#include "io/files.h"
#include "io/safetensors.h"

namespace neurocell {

void MultistabilityConfig::validate() const {
  warmup.validate();
  if (active()) vaa.validate();
  require(every >= 0, "--vaa-every must be >= 0 (0 = never)");
}

nlohmann::json to_json(const MultistabilityConfig& c) {
  return {{"warmup", analysis::to_json(c.warmup)},
          {"vaa",
           {{"measure", c.measure},
            {"every", c.every},
            {"samples", c.vaa.samples},
            {"settle_steps", c.vaa.settle_steps},
            {"batches", c.vaa.batches},
            {"eps", c.vaa.eps},
            {"seed", c.vaa.seed}}}};
}

MultistabilityConfig multistability_config_from_json(const nlohmann::json& j) {
  MultistabilityConfig c;
  try {
    if (j.contains("warmup")) c.warmup = analysis::warmup_options_from_json(j.at("warmup"));
    if (j.contains("vaa")) {
      const auto& v = j.at("vaa");
      c.measure = v.value("measure", c.measure);
      c.every = v.value("every", c.every);
      c.vaa.samples = v.value("samples", c.vaa.samples);
      c.vaa.settle_steps = v.value("settle_steps", c.vaa.settle_steps);
      c.vaa.batches = v.value("batches", c.vaa.batches);
      c.vaa.eps = v.value("eps", c.vaa.eps);
      c.vaa.seed = v.value("seed", c.vaa.seed);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("multistability options: ") + e.what());
  }
  c.validate();
  return c;
}

nlohmann::json to_json(const RunConfig& c) {
  nlohmann::json j = {{"format", "neurocell-run-1"},
                      {"model", to_json(c.model)},
                      {"task", to_json(c.task)},
                      {"train", to_json(c.train)},
                      {"multistability", to_json(c.multistability)}};
  if (!c.init.empty()) j["init"] = c.init;
  return j;
}

RunConfig run_config_from_json(const nlohmann::json& j) {
  require(j.is_object() && j.contains("model") && j.contains("task"),
          "run config must be an object with \"model\" and \"task\"");
  RunConfig c;
  c.model = model_config_from_json(j.at("model"));
  c.task = task_config_from_json(j.at("task"));
  if (j.contains("train")) c.train = train_options_from_json(j.at("train"));
  if (j.contains("multistability")) c.multistability = multistability_config_from_json(j.at("multistability"));
  c.init = j.value("init", std::string());
  return c;
}

std::string describe_run(const RunConfig& c) {
  std::string task = c.task.name + " T=" + std::to_string(c.task.length);
  if (c.task.name == "denoising") task += " N=" + std::to_string(c.task.no_end);
  const int64_t warmup = c.multistability.warmup.steps;
  return c.model.cell + (c.model.double_layer ? " (double)" : "") + " " + std::to_string(c.model.layers) + "x" +
         std::to_string(c.model.hidden_size) +
         (warmup > 0 ? " (warmup " + std::to_string(warmup) + (c.model.double_layer ? ", partial)" : ")") : "") +
         " on " + task;
}

std::string config_path(const std::string& dir) { return dir + "/config.json"; }
std::string metrics_path(const std::string& dir) { return dir + "/metrics.jsonl"; }
std::string weights_path(const std::string& dir) { return dir + "/model.safetensors"; }
std::string report_path(const std::string& dir) { return dir + "/report.json"; }

void write_json_atomic(const std::string& path, const nlohmann::json& json) {
  write_file_atomic(path, json.dump(2) + "\n");
}

void save_run_config(const std::string& dir, const RunConfig& config) {
  write_json_atomic(config_path(dir), to_json(config));
}

RunConfig load_run_config(const std::string& dir) {
  const std::string path = config_path(dir);
  const std::string text = read_file(path, "run config");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw Error("run config '" + path + "' is not valid JSON (corrupt file?)");
  }
  try {
    return run_config_from_json(json);
  } catch (const Error& e) {
    throw Error("run config '" + path + "': " + e.what());
  }
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

LoadedRun load_run(const std::string& dir) {
  require(file_exists(dir), "checkpoint folder '" + dir + "' not found");
  LoadedRun run;
  run.config = load_run_config(dir);
  run.model = SequenceModel(run.config.model);
  load_weights(weights_path(dir), run.model);
  run.model->eval();
  return run;
}

}  // namespace neurocell
