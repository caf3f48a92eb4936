#include "runs/run_folder.h"

#include "runs/config_json.h"

#include <torch/torch.h>

#include <cstdarg>
#include <cstdio>

#include "core/error.h"
#include "io/files.h"

namespace neurocell {

std::string run_kind_name(RunKind kind) {
  switch (kind) {
    case RunKind::regression: return "regression";
    case RunKind::sequence_classification: return "sequence-classification";
    case RunKind::spiking: return "spiking";
    case RunKind::tmaze: return "tmaze";
    case RunKind::dataset: return "dataset";
  }
  throw Error("unknown run kind");
}

RunKind detect_run_kind(const std::string& dir) {
  if (!file_exists(config_path(dir))) return RunKind::regression;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(config_path(dir), "run config"));
  } catch (const nlohmann::json::exception&) {
    return RunKind::regression;  // load_run reports the corruption
  }
  if (!j.is_object()) return RunKind::regression;
  if (j.contains("kind") && j.at("kind").is_string()) {
    const auto name = j.at("kind").get<std::string>();
    for (auto kind : {RunKind::regression, RunKind::sequence_classification, RunKind::spiking, RunKind::tmaze,
                      RunKind::dataset})
      if (name == run_kind_name(kind)) return kind;
    throw Error("run config '" + config_path(dir) + "': unknown \"kind\" '" + name +
                "' (regression, sequence-classification, spiking, tmaze or dataset)");
  }
  // Written before "kind": regression runs, and SRC runs named by their cell.
  const bool src = j.contains("model") && j.at("model").is_object() &&
                   j.at("model").value("cell", std::string()) == "src";
  return src ? RunKind::spiking : RunKind::regression;
}

nlohmann::json to_json(const RunConfig& c) {
  nlohmann::json j = {{"format", "neurocell-run-1"},
                      {"kind", run_kind_name(RunKind::regression)},
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

void save_run_config(const std::string& dir, const RunConfig& config) {
  write_json_atomic(config_path(dir), to_json(config));
}

RunConfig load_run_config(const std::string& dir) {
  return load_run_config_of(dir, run_config_from_json);
}

LoadedRun load_run(const std::string& dir) {
  require(file_exists(dir), "checkpoint folder '" + dir + "' not found");
  const RunKind kind = detect_run_kind(dir);
  require(kind == RunKind::regression,
          "'" + dir + "' is a " + run_kind_name(kind) + " run: this command works on regression runs (a synthetic " +
              "task: train --task copy-first-input | copy-single-value | denoising ...); eval, export and run read " +
              "every kind");
  LoadedRun run;
  run.config = load_run_config(dir);
  run.model = SequenceModel(run.config.model);
  load_weights(weights_path(dir), run.model);
  run.model->eval();
  return run;
}

RunWriter::RunWriter(std::string dir, bool overwrite) : dir_(std::move(dir)) {
  require(!dir_.empty(), "--out DIR is required: the folder that receives the run");
  require(overwrite || !file_exists(config_path(dir_)),
          "'" + dir_ + "' already holds a run (config.json): choose another --out, or add --overwrite");
}

void RunWriter::create() {
  if (!created_) ensure_directory(dir_);
  created_ = true;
}

void RunWriter::write_config(const nlohmann::json& config) {
  create();
  write_json_atomic(config_path(dir_), config);
}

void RunWriter::write_json(const std::string& name, const nlohmann::json& json) {
  create();
  write_json_atomic(dir_ + "/" + name, json);
}

std::ostream& RunWriter::metrics() {
  if (!metrics_.is_open()) {
    create();
    metrics_.open(metrics_path(dir_), std::ios::trunc);
    require(metrics_.good(), "cannot write '" + metrics_path(dir_) + "'");
  }
  return metrics_;
}

TrainOutput RunWriter::training_output() {
  create();
  return {&metrics(), weights_path()};
}

std::string RunWriter::weights_path() const { return neurocell::weights_path(dir_); }

void RunWriter::write_report(const nlohmann::json& report) {
  if (metrics_.is_open()) metrics_.close();
  create();
  write_json_atomic(report_path(dir_), report);
}

std::string strprintf(const char* format, ...) {
  va_list args, again;
  va_start(args, format);
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string text(static_cast<size_t>(std::max(n, 0)) + 1, '\0');
  std::vsnprintf(text.data(), text.size(), format, again);
  va_end(again);
  text.resize(static_cast<size_t>(std::max(n, 0)));
  return text;
}

RunResult classifier_run_result(const ClassifierReport& report, const nlohmann::json& report_json,
                                const std::string& description, const std::string& out_dir) {
  RunResult result;
  result.value = report.test_accuracy;
  result.report = report_json;
  result.text = strprintf("result: test accuracy %.4f (chance 0.1, %lld images) | %s, %lld steps (%lld skipped), "
                          "%.0f train images/s, %.1f s, run in %s\n",
                          report.test_accuracy, static_cast<long long>(report.test_images), description.c_str(),
                          static_cast<long long>(report.steps_done), static_cast<long long>(report.skipped_updates),
                          report.train_images_per_second, report.wall_seconds, out_dir.c_str());
  return result;
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace neurocell
