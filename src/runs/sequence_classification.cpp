#include "runs/sequence_classification.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>

#include "core/error.h"
#include "io/files.h"
#include "runs/config_json.h"
#include "tasks/mnist.h"
#include "train/classify.h"
#include "train/resume.h"

namespace neurocell {

namespace {

std::string permutation_path(const std::string& dir) { return dir + "/permutation.json"; }

}  // namespace

nlohmann::json to_json(const SequenceClassificationConfig& c) {
  nlohmann::json j = {{"kind", run_kind_name(RunKind::sequence_classification)},
                      {"model", neurocell::to_json(c.model)},
                      {"task", neurocell::to_json(c.task)},
                      {"train", neurocell::to_json(c.train)}};
  if (c.multistability.active()) j["multistability"] = neurocell::to_json(c.multistability);
  return j;
}

SequenceClassificationConfig sequence_classification_config_from_json(const nlohmann::json& j) {
  SequenceClassificationConfig c;
  try {
    c.model = model_config_from_json(j.at("model"));
    c.task = image_sequence_task_from_json(j.at("task"));
    c.train = train_options_from_json(j.at("train"));
    if (j.contains("multistability")) c.multistability = multistability_config_from_json(j.at("multistability"));
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("sequence-classification run config: ") + e.what());
  }
  return c;
}

SequenceClassificationConfig load_sequence_classification_config(const std::string& dir) {
  return load_run_config_of(dir, sequence_classification_config_from_json);
}

std::string describe(const SequenceClassificationConfig& c) {
  std::string text = c.model.cell + " " + std::to_string(c.model.layers) + "x" + std::to_string(c.model.hidden_size) +
                     " on " + c.task.name + (c.task.dataset == "mnist" ? "" : " (" + c.task.dataset + ")") +
                     " T=" + std::to_string(c.task.length());
  if (c.task.black > 0) text += " (" + std::to_string(c.task.black) + " black)";
  if (c.multistability.warmup.steps > 0) text += " (warmup " + std::to_string(c.multistability.warmup.steps) + ")";
  return text;
}

SequenceModel load_sequence_model_of_run(const std::string& dir) {
  ModelConfig config;
  try {
    config = model_config_from_json(read_run_config_json(dir).at("model"));
  } catch (const nlohmann::json::exception& e) {
    throw Error("run config '" + config_path(dir) + "': " + e.what());
  }
  SequenceModel model(config);
  load_weights(weights_path(dir), model);
  return model;
}

std::vector<int64_t> load_run_permutation(const std::string& dir, const ImageSequenceTaskConfig& task) {
  const auto expected = task_permutation(task);
  std::vector<int64_t> stored;
  try {
    stored = nlohmann::json::parse(read_file(permutation_path(dir), "permutation")).at("permutation").get<std::vector<int64_t>>();
  } catch (const nlohmann::json::exception&) {
    throw Error("'" + permutation_path(dir) + "' is not a valid permutation file");
  }
  require(stored == expected, "'" + permutation_path(dir) + "' differs from the permutation of seed " +
                                  std::to_string(task.permutation_seed) +
                                  ": the run was made with another permutation generator; it cannot be evaluated here");
  return stored;
}

namespace runs {

// Warmup and VAA read input sequences of the training images (never their labels): images
// drawn uniformly from the ones that train (not the validation rows), as sequences.
analysis::InputSampler training_sequences(const ImageSet& train_set, const SequenceClassificationConfig& config,
                                          const std::vector<int64_t>& permutation) {
  const int64_t total = train_set.labels.size(0);
  const int64_t available = total - config.train.validation_size;
  const int64_t count = config.task.train_size > 0 ? std::min(config.task.train_size, available) : available;
  return [&train_set, &config, &permutation, count](int64_t n, torch::Generator& generator) {
    const auto rows = torch::randint(count, {n}, generator, torch::kLong);
    return images_to_sequences(train_set.images.index_select(0, rows), config.task, permutation);  // (T, n, I)
  };
}

RunResult train(SequenceClassificationConfig config, const std::string& out_dir, ExistingRun existing) {
  config.task.validate();
  config.train.validate();
  config.multistability.validate();
  require(config.multistability.every == 0,
          "--vaa-every is not available on the sequence MNIST tasks (VAA is measured before and after training "
          "there): leave it out");
  config.model.input_size = config.task.input_size();
  config.model.output_size = 10;
  config.model.validate();
  require(config.model.cell != "src", "SRC classifies spiking MNIST: use --task spiking-mnist");
  RunWriter run(out_dir, existing);
  const int64_t threads = configure_threads(config.train.threads);
  torch::manual_seed(config.train.seed);
  SequenceModel model(config.model);
  run.write_config(to_json(config));
  const auto permutation = task_permutation(config.task);
  run.write_json("permutation.json", {{"seed", config.task.permutation_seed},
                                      {"generator", config.task.permutation},
                                      {"permuted", config.task.permuted()},
                                      {"permutation", permutation}});

  const ImageSet train_set = load_mnist_split(config.task.dataset, true);
  MultistabilityPhases phases(model, training_sequences(train_set, config, permutation), config.multistability,
                              config.train.progress);
  phases.before_training(run.resume_state() ? &run.resume_state()->run : nullptr, run.metrics());
  const std::string dataset = config.task.dataset;
  const auto report = train_classifier(sequence_image_classifier(model, config.task), train_set,
                                       [&dataset] { return load_mnist_split(dataset, false); }, config.train,
                                       run.training_output(config.train.checkpoint_every, &phases.run_state()),
                                       config.task.train_size);
  save_weights(run.weights_path(), model);
  phases.after_training(report.steps_done, run.metrics());
  auto report_json = neurocell::to_json(report);
  report_json.update({{"kind", run_kind_name(RunKind::sequence_classification)},
                      {"task", neurocell::to_json(config.task)},
                      {"cell", config.model.cell},
                      {"model", neurocell::to_json(config.model)},
                      {"parameters", parameter_count(*model)},
                      {"steps_planned", config.train.steps},
                      {"threads", threads},
                      {"seed", config.train.seed}});
  phases.add_to_report(report_json);
  run.write_report(report_json);
  auto result = classifier_run_result(report, report_json, describe(config), out_dir);
  const std::string vaa = phases.summary();
  if (!vaa.empty() && !result.text.empty() && result.text.back() == '\n')
    result.text.insert(result.text.size() - 1, vaa);
  return result;
}

RunResult eval_sequence_classification(const std::string& dir, int64_t test_size) {
  const auto config = load_sequence_classification_config(dir);
  load_run_permutation(dir, config.task);
  SequenceModel model(config.model);
  load_weights(weights_path(dir), model);
  model->eval();
  const auto set = load_mnist_split(config.task.dataset, false);
  const int64_t count = std::min<int64_t>(test_size > 0 ? test_size : config.train.test_size, set.labels.size(0));
  RunResult result;
  result.value = image_accuracy(sequence_image_classifier(model, config.task), set, 0, count,
                                make_generator(config.train.seed, 2));
  result.text = strprintf("result: test accuracy %.4f (chance 0.1, %lld images) | %s, run in %s\n", result.value,
                          static_cast<long long>(count), describe(config).c_str(), dir.c_str());
  return result;
}

}  // namespace runs

}  // namespace neurocell
