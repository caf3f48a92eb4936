#include "runs/run_folder.h"

#include "runs/config_json.h"

#include <torch/torch.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "io/files.h"
#include "train/resume.h"

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
    require(name != "meta-rl", "'" + dir + "' is a meta-RL run (neurocell meta-rl): its agent is an actor-critic, not one "
                               "sequence model, so eval, export, run and the analyses do not read it; its evaluation on "
                               "new tasks is in report.json (neurocell report " + dir + ")");
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
  if (c.task.name == "denoising" || c.task.name == "denoising-2020") task += " N=" + std::to_string(c.task.no_end);
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

std::vector<std::string> run_file_names() {
  return {"config.json", "metrics.jsonl", "model.safetensors", "report.json", "resume.safetensors", "permutation.json"};
}

namespace {

// The first place where two configs differ, as "train.lr: 0.001 here, 0.01 in the run".
std::string first_difference(const nlohmann::json& given, const nlohmann::json& stored, const std::string& at) {
  if (given.is_object() && stored.is_object()) {
    for (const auto& [key, value] : given.items()) {
      const std::string path = at.empty() ? key : at + "." + key;
      if (!stored.contains(key)) return path + ": " + value.dump() + " here, absent in the run";
      const auto difference = first_difference(value, stored.at(key), path);
      if (!difference.empty()) return difference;
    }
    for (const auto& [key, value] : stored.items())
      if (!given.contains(key)) return (at.empty() ? key : at + "." + key) + ": absent here, " + value.dump() + " in the run";
    return "";
  }
  return given == stored ? "" : at + ": " + given.dump() + " here, " + stored.dump() + " in the run";
}

// A config as it decides a run's numbers: how often checkpoints are written does not.
nlohmann::json comparable(nlohmann::json config) {
  for (const char* loop : {"train", "drqn"})
    if (config.is_object() && config.contains(loop) && config[loop].is_object()) config[loop].erase("checkpoint_every");
  return config;
}

}  // namespace

RunWriter::RunWriter(std::string dir, ExistingRun existing) : dir_(std::move(dir)), existing_(existing) {
  require(!dir_.empty(), "--out DIR is required: the folder that receives the run");
  if (std::filesystem::is_directory(dir_)) lock();
  try {
    require(existing_ != ExistingRun::refuse || !file_exists(config_path(dir_)),
            "'" + dir_ + "' already holds a run (config.json): choose another --out, add --resume to continue it, or " +
                "--overwrite to replace it");
    require(existing_ != ExistingRun::resume || !file_exists(report_path(dir_)),
            "nothing to resume: '" + dir_ + "' holds a finished run (report.json); choose another --out, or " +
                "--overwrite to train it again");
  } catch (...) {
    ::close(lock_fd_);  // no destructor runs for a constructor that throws
    lock_fd_ = -1;
    throw;
  }
}

RunWriter::~RunWriter() {
  if (metrics_.is_open()) metrics_.close();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

void RunWriter::lock() {
  if (lock_fd_ >= 0) return;
  const std::string path = lock_path(dir_);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  require(fd >= 0, "cannot create '" + path + "': " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    const ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    std::string owner = n > 0 ? std::string(pid, static_cast<size_t>(n)) : std::string("?");
    while (!owner.empty() && (owner.back() == '\n' || owner.back() == ' ')) owner.pop_back();
    throw Error("'" + dir_ + "' is in use: another neurocell process (pid " + owner +
                ") is writing this run; wait for it to end or stop it, or choose another --out");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The pid is only for the message above; the lock itself holds.
  }
  lock_fd_ = fd;
}

void RunWriter::create() {
  if (created_) return;
  ensure_directory(dir_);
  lock();
  created_ = true;
  // The first write of a new run removes whatever an old one left (--overwrite, or a run
  // folder without config.json), so two runs' files never mix. A resume decides in write_config.
  if (existing_ != ExistingRun::resume) remove_run_files();
}

void RunWriter::remove_run_files() {
  for (const auto& name : run_file_names()) {
    std::error_code ec;
    std::filesystem::remove(dir_ + "/" + name, ec);
    require(!ec, "cannot remove the old run's '" + dir_ + "/" + name + "': " + ec.message());
  }
}

void RunWriter::write_config(const nlohmann::json& config) {
  create();
  if (existing_ == ExistingRun::resume && file_exists(config_path(dir_))) {
    const auto stored = read_run_config_json(dir_);
    const auto difference = first_difference(comparable(config), comparable(stored), "");
    require(difference.empty(), "cannot resume '" + dir_ + "': it was started with another config (" + difference +
                                    "); give the flags it was started with, or --overwrite to start afresh");
    if (file_exists(resume_path(dir_))) {
      resume_ = std::make_unique<TrainingState>(load_training_state(resume_path(dir_)));
      return;  // config.json stays as written at the start
    }
    // Killed before its first checkpoint: nothing to continue, start afresh below.
  }
  if (existing_ == ExistingRun::resume) remove_run_files();  // a fresh start: no file of the old one stays
  write_json_atomic(config_path(dir_), config);
}

void RunWriter::write_json(const std::string& name, const nlohmann::json& json) {
  create();
  write_json_atomic(dir_ + "/" + name, json);
}

std::ostream& RunWriter::metrics() {
  if (!metrics_.is_open()) {
    create();
    const std::string path = metrics_path(dir_);
    if (resume_) {
      // Cut back to the checkpoint: the lines after it are written again by the resumed run.
      std::error_code ec;
      const auto size = std::filesystem::file_size(path, ec);
      require(!ec && size >= resume_->metrics_bytes,
              "cannot resume '" + dir_ + "': metrics.jsonl is shorter than at the checkpoint (edited?); --overwrite");
      std::filesystem::resize_file(path, resume_->metrics_bytes);
      metrics_.open(path, std::ios::in | std::ios::out);
      metrics_.seekp(static_cast<std::streamoff>(resume_->metrics_bytes));
    } else {
      metrics_.open(path, std::ios::trunc);
    }
    require(metrics_.good(), "cannot write '" + path + "'");
  }
  return metrics_;
}

TrainOutput RunWriter::training_output(int64_t checkpoint_every, const nlohmann::json* run_state) {
  create();
  TrainOutput output;
  output.metrics = &metrics();
  output.weights_path = weights_path();
  output.resume_path = resume_path(dir_);
  output.checkpoint_every = checkpoint_every;
  output.resume_from = resume_.get();
  output.run_state = run_state;
  return output;
}

std::string RunWriter::weights_path() const { return neurocell::weights_path(dir_); }

void RunWriter::write_report(const nlohmann::json& report) {
  if (metrics_.is_open()) metrics_.close();
  create();
  write_json_atomic(report_path(dir_), report);
  std::error_code ec;
  std::filesystem::remove(resume_path(dir_), ec);  // finished: nothing to resume
}

void mark_if_unfinished(const std::string& dir, RunResult& result) {
  if (file_exists(report_path(dir))) return;
  result.unfinished = true;
  result.warnings.push_back("'" + dir + "' is an unfinished run (no report.json: its training was stopped, or is still " +
                            "running): these are the weights of its best validation so far" +
                            (file_exists(resume_path(dir)) ? "; continue it with the same train command and --resume" : ""));
  auto& text = result.text;
  const size_t end = !text.empty() && text.back() == '\n' ? text.size() - 1 : text.size();
  text.insert(end, " (unfinished run)");
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
