#include "train/classify.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

#include "core/error.h"
#include "io/nmnist.h"
#include "io/safetensors.h"
#include "tasks/mnist.h"
#include "train/checkpoint.h"
#include "core/progress.h"
#include "train/resume.h"

namespace neurocell {

using namespace training;

bool is_spiking_task(const std::string& name) {
  return name == "spiking-mnist" || name == "spiking-fashion-mnist" || name == "spiking-nmnist";
}

std::string SpikingTaskConfig::dataset() const {
  return name == "spiking-fashion-mnist" ? "fashion-mnist" : nmnist() ? "nmnist" : "mnist";
}

int64_t SpikingTaskConfig::input_size() const { return nmnist() ? kNmnistInputs : 784; }

void SpikingTaskConfig::validate() const {
  require(is_spiking_task(name),
          "unknown spiking task '" + name + "' (valid: spiking-mnist, spiking-fashion-mnist, spiking-nmnist)");
  if (!nmnist()) return coding.validate();
  require(!nmnist_dir.empty(), "--task spiking-nmnist needs --nmnist-dir DIR, your N-MNIST folder (DIR/Train, DIR/Test)");
  require(nmnist_steps >= 1 && nmnist_steps <= 10000, "--nmnist-steps must be in 1..10000 frames");
  require(nmnist_duration_us >= 1000 && nmnist_duration_us <= 10000000,
          "--nmnist-duration must be in 1000..10000000 microseconds (a recording lasts about 300 000)");
}

nlohmann::json to_json(const SpikingTaskConfig& c) {
  if (c.nmnist())
    return {{"name", c.name}, {"nmnist_dir", c.nmnist_dir}, {"frames", c.nmnist_steps},
            {"duration_us", c.nmnist_duration_us}};
  return {{"name", c.name},
          {"prefix", c.coding.prefix},
          {"steps", c.coding.steps},
          {"gain", c.coding.gain},
          {"subsample", c.coding.subsample}};
}

SpikingTaskConfig spiking_task_config_from_json(const nlohmann::json& j) {
  SpikingTaskConfig c;
  try {
    c.name = j.at("name").get<std::string>();
    c.coding.prefix = j.value("prefix", c.coding.prefix);
    c.coding.steps = j.value("steps", c.coding.steps);
    c.coding.gain = j.value("gain", c.coding.gain);
    c.coding.subsample = j.value("subsample", c.coding.subsample);
    c.nmnist_dir = j.value("nmnist_dir", c.nmnist_dir);
    c.nmnist_steps = j.value("frames", c.nmnist_steps);
    c.nmnist_duration_us = j.value("duration_us", c.nmnist_duration_us);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("spiking task config: ") + e.what());
  }
  c.validate();
  return c;
}

namespace {

NamedTensors src_tensors(SrcClassifier& model) {
  NamedTensors out;
  for (const auto& p : model->named_parameters()) out.emplace_back(p.key(), p.value().detach());
  for (const auto& b : model->named_buffers()) out.emplace_back(b.key(), b.value().detach());
  return out;
}

ImageClassifier spiking_image_classifier(SrcClassifier& model, const RateCoding& coding) {
  ImageClassifier c;
  c.module = model.get();
  c.logits = [model, coding](const torch::Tensor& images, torch::Generator& generator) mutable {
    return model->forward(rate_code(images, coding, generator).to(model->readout.scalar_type()));
  };
  c.after_update = [model]() mutable { model->clamp_biases(); };  // b <= bias_max after each update (cells.md)
  c.save_weights = [model](const std::string& path) mutable { save_src_weights(path, model); };
  return c;
}

// N-MNIST: the "images" are bit-packed frames (B, T, 289) (io/nmnist.h), unpacked per batch.
ImageClassifier nmnist_classifier(SrcClassifier& model) {
  ImageClassifier c;
  c.module = model.get();
  c.logits = [model](const torch::Tensor& packed, torch::Generator&) mutable {
    const auto spikes = unpack_nmnist_frames(packed).permute({1, 0, 2});  // (T, B, 2312)
    return model->forward(spikes.to(model->readout.scalar_type()));
  };
  c.after_update = [model]() mutable { model->clamp_biases(); };
  c.save_weights = [model](const std::string& path) mutable { save_src_weights(path, model); };
  return c;
}

ImageSet nmnist_set(const SpikingTaskConfig& task, bool train) {
  auto split = load_nmnist_split(task.nmnist_dir, train, task.nmnist_steps, task.nmnist_duration_us);
  // the recordings are stored digit by digit: a fixed shuffle, so validation (the last rows)
  // holds every digit
  if (train) {
    auto generator = make_generator(7, 3);
    const auto order = torch::randperm(split.labels.size(0), generator, torch::kLong);
    split.packed = split.packed.index_select(0, order);
    split.labels = split.labels.index_select(0, order);
  }
  return {split.packed, split.labels};
}

}  // namespace

void save_src_weights(const std::string& path, SrcClassifier& model) { write_safetensors(path, src_tensors(model)); }

void load_src_weights(const std::string& path, SrcClassifier& model) {
  const auto loaded = read_safetensors(path);
  std::map<std::string, torch::Tensor> by_name(loaded.begin(), loaded.end());
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : src_tensors(model)) {
    const auto it = by_name.find(name);
    require(it != by_name.end(), "'" + path + "' has no tensor '" + name + "' (not a checkpoint of this model)");
    require(it->second.sizes() == tensor.sizes(), "'" + path + "': tensor '" + name + "' has shape " +
                                                      c10::str(it->second.sizes()) + ", the model expects " +
                                                      c10::str(tensor.sizes()));
    require(torch::isfinite(it->second).all().item<bool>(), "'" + path + "': tensor '" + name + "' holds NaN/Inf");
    tensor.copy_(it->second);
  }
}

nlohmann::json to_json(const ClassifierReport& report) {
  nlohmann::json json = {{"steps_done", report.steps_done},
          {"skipped_updates", report.skipped_updates},
          {"early_stopped", report.early_stopped},
          {"best_step", report.best_step},
          {"resumed_from", report.resumed_from},
          {"validation", {{"accuracy", report.best_validation_accuracy}}},
          {"test", {{"accuracy", report.test_accuracy}, {"images", report.test_images}}},
          {"train_images_per_s", report.train_images_per_second},
          {"wall_time_s", report.wall_seconds}};
  if (!report.divergence.empty()) json["diverged"] = report.divergence;
  return json;
}

double image_accuracy(const ImageClassifier& classifier, const ImageSet& set, int64_t first, int64_t count,
                      torch::Generator generator) {
  torch::NoGradGuard no_grad;
  int64_t correct = 0;
  for (int64_t b = first; b < first + count; b += kEvaluationBatch) {
    const int64_t n = std::min(kEvaluationBatch, first + count - b);
    const auto predicted = classifier.logits(set.images.narrow(0, b, n), generator).argmax(1);
    correct += predicted.eq(set.labels.narrow(0, b, n)).sum().item<int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(count);
}

double evaluate_accuracy(SrcClassifier& model, const SpikingTaskConfig& task, bool train_split, int64_t first,
                         int64_t limit, uint64_t seed, uint64_t stream) {
  const auto set = task.nmnist() ? nmnist_set(task, train_split) : load_mnist_split(task.dataset(), train_split);
  const int64_t available = set.labels.size(0) - first;
  const int64_t count = limit > 0 ? std::min(limit, available) : available;
  require(count >= 1, "no images to evaluate");
  const auto classifier = task.nmnist() ? nmnist_classifier(model) : spiking_image_classifier(model, task.coding);
  return image_accuracy(classifier, set, first, count, make_generator(seed, stream));
}

ClassifierReport train_spiking_classifier(SrcClassifier& model, const SpikingTaskConfig& task,
                                          const TrainOptions& options, const TrainOutput& output) {
  task.validate();
  require(model->config.input_size == task.input_size(),
          "the SRC network reads " + std::to_string(model->config.input_size) + " inputs but " + task.name + " has " +
              std::to_string(task.input_size()));
  if (task.nmnist())
    return train_classifier(nmnist_classifier(model), nmnist_set(task, true), [&task] { return nmnist_set(task, false); },
                            options, output);
  return train_image_classifier(spiking_image_classifier(model, task.coding), task.dataset(), options, output);
}

ImageClassifier sequence_image_classifier(SequenceModel& model, const ImageSequenceTaskConfig& task) {
  task.validate();
  ImageClassifier c;
  c.module = model.get();
  const auto permutation = task_permutation(task);
  c.logits = [model, task, permutation](const torch::Tensor& images, torch::Generator&) mutable {
    return model->forward(images_to_sequences(images, task, permutation), 1)[0];  // (B, classes)
  };
  c.save_weights = [model](const std::string& path) mutable { save_weights(path, model); };
  return c;
}

ClassifierReport train_image_classifier(const ImageClassifier& classifier, const std::string& dataset,
                                        const TrainOptions& options, const TrainOutput& output, int64_t train_size) {
  return train_classifier(classifier, load_mnist_split(dataset, true), [&dataset] { return load_mnist_split(dataset, false); },
                          options, output, train_size);
}

ClassifierReport train_classifier(const ImageClassifier& classifier, const ImageSet& train_set,
                                  const std::function<ImageSet()>& test_split, const TrainOptions& options,
                                  const TrainOutput& output, int64_t train_size) {
  options.validate();
  const auto start = Clock::now();
  const int64_t total = train_set.labels.size(0);
  require(options.validation_size < total, "--val-size must be smaller than the training split (" +
                                               std::to_string(total) + " images)");
  const int64_t available = total - options.validation_size;
  const int64_t train_count = train_size > 0 ? std::min(train_size, available) : available;
  torch::nn::Module& model = *classifier.module;

  // The batch source: epochs over the first train_count images, each in a fresh shuffle.
  torch::Tensor order;
  int64_t cursor = train_count;  // start a new epoch at the first step
  int64_t images_seen = 0;
  double chance_loss = 0;  // ln K: the cross-entropy of a uniform guess, known at the first batch

  SupervisedProblem problem;
  problem.module = &model;
  problem.loss = [&](torch::Generator& generator) {
    if (cursor + options.batch_size > train_count) {  // new epoch: a fresh shuffle
      order = torch::randperm(train_count, generator, torch::kLong);
      cursor = 0;
    }
    const auto index = order.narrow(0, cursor, std::min(options.batch_size, train_count));
    cursor += options.batch_size;
    images_seen += index.size(0);
    const auto logits = classifier.logits(train_set.images.index_select(0, index), generator);
    chance_loss = std::log(static_cast<double>(logits.size(1)));
    return torch::nn::functional::cross_entropy(logits, train_set.labels.index_select(0, index));
  };
  problem.score = "validation_accuracy";
  problem.higher_is_better = true;
  problem.progress_label = "val accuracy";
  problem.validate = [&] {
    model.eval();
    const double accuracy = image_accuracy(classifier, train_set, available, options.validation_size,
                                           make_generator(options.seed, 1));
    model.train();
    return accuracy;
  };
  problem.watch = [&](DivergenceWatch& watch, double, double mean_loss, int64_t step) {
    if (!std::isnan(mean_loss)) watch.observe_error("training loss", mean_loss, chance_loss, step);
  };
  problem.after_update = classifier.after_update;
  problem.save_weights = classifier.save_weights;
  problem.metrics_fields = [&](nlohmann::json& line, int64_t, double training_seconds) {
    line["epoch"] = static_cast<double>(images_seen) / train_count;
    line["train_images_per_s"] = images_seen / training_seconds;
  };
  problem.save_state = [&](TrainingState& s) {
    s.integers["images_seen"] = images_seen;
    s.integers["cursor"] = cursor;
    if (order.defined()) s.extra["order"] = order;
  };
  problem.restore_state = [&](const TrainingState& s) {
    images_seen = s.integer("images_seen");
    cursor = s.integer("cursor");
    const auto it = s.extra.find("order");
    if (it != s.extra.end()) order = it->second.clone();
  };
  const auto loop = train_supervised(problem, options, output);

  ClassifierReport report;
  static_cast<LoopSummary&>(report) = loop;
  report.best_validation_accuracy = loop.best_score;
  model.eval();
  const auto test_set = test_split();
  report.test_images = std::min<int64_t>(options.test_size, test_set.labels.size(0));
  report.test_accuracy = image_accuracy(classifier, test_set, 0, report.test_images, make_generator(options.seed, 2));
  report.train_images_per_second = images_seen / loop.training_seconds;
  report.wall_seconds = loop.earlier_seconds + seconds_since(start);
  return report;
}

}  // namespace neurocell
