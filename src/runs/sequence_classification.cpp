#include "runs/sequence_classification.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>

#include "core/error.h"
#include "io/files.h"
#include "runs/config_json.h"
#include "tasks/mnist.h"
#include "train/classify.h"

namespace neurocell {

namespace {

std::string permutation_path(const std::string& dir) { return dir + "/permutation.json"; }

}  // namespace

nlohmann::json to_json(const SequenceClassificationConfig& c) {
  return {{"kind", run_kind_name(RunKind::sequence_classification)}, {"model", neurocell::to_json(c.model)}, {"task", neurocell::to_json(c.task)},
          {"train", neurocell::to_json(c.train)}};
}

SequenceClassificationConfig sequence_classification_config_from_json(const nlohmann::json& j) {
  SequenceClassificationConfig c;
  try {
    c.model = model_config_from_json(j.at("model"));
    c.task = image_sequence_task_from_json(j.at("task"));
    c.train = train_options_from_json(j.at("train"));
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

RunResult train(SequenceClassificationConfig config, const std::string& out_dir, ExistingRun existing) {
  config.task.validate();
  config.train.validate();
  config.model.input_size = config.task.input_size();
  config.model.output_size = 10;
  config.model.validate();
  require(config.model.cell != "src", "SRC classifies spiking MNIST: use --task spiking-mnist");
  RunWriter run(out_dir, existing);
  const int64_t threads = configure_threads(config.train.threads);
  torch::manual_seed(config.train.seed);
  SequenceModel model(config.model);
  run.write_config(to_json(config));
  run.write_json("permutation.json", {{"seed", config.task.permutation_seed},
                                      {"permuted", config.task.permuted()},
                                      {"permutation", task_permutation(config.task)}});

  const auto report = train_image_classifier(sequence_image_classifier(model, config.task), config.task.dataset,
                                             config.train, run.training_output(config.train.checkpoint_every),
                                             config.task.train_size);
  save_weights(run.weights_path(), model);
  auto report_json = neurocell::to_json(report);
  report_json.update({{"kind", run_kind_name(RunKind::sequence_classification)},
                      {"task", neurocell::to_json(config.task)},
                      {"cell", config.model.cell},
                      {"model", neurocell::to_json(config.model)},
                      {"parameters", parameter_count(*model)},
                      {"steps_planned", config.train.steps},
                      {"threads", threads},
                      {"seed", config.train.seed}});
  run.write_report(report_json);
  return classifier_run_result(report, report_json, describe(config), out_dir);
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
