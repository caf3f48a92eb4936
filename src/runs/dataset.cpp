#include "runs/dataset.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>

#include "core/error.h"
#include "io/files.h"
#include "runs/config_json.h"
#include "runs/sequence_classification.h"
#include "train/classify.h"
#include "core/progress.h"

namespace neurocell {

nlohmann::json to_json(const DatasetRunConfig& c) {
  return {{"format", "neurocell-run-1"},
          {"kind", run_kind_name(RunKind::dataset)},
          {"model", to_json(c.model)},
          {"data", to_json(c.data)},
          {"train", to_json(c.train)}};
}

DatasetRunConfig dataset_run_config_from_json(const nlohmann::json& j) {
  require(j.is_object() && j.contains("model") && j.contains("data"), "a dataset run config must hold \"model\" and \"data\"");
  DatasetRunConfig c;
  c.model = model_config_from_json(j.at("model"));
  c.data = dataset_config_from_json(j.at("data"));
  if (j.contains("train")) c.train = train_options_from_json(j.at("train"));
  return c;
}

DatasetRunConfig load_dataset_run_config(const std::string& dir) {
  return load_run_config_of(dir, dataset_run_config_from_json);
}

std::string describe(const DatasetRunConfig& c, const Dataset& d) {
  const std::string file = std::filesystem::path(c.data.path).filename().string();
  return c.model.cell + (c.model.double_layer ? " (double)" : "") + " " + std::to_string(c.model.layers) + "x" +
         std::to_string(c.model.hidden_size) + " on " + file + " (" +
         (d.classification ? "classification, " + std::to_string(d.output_size) + " classes"
                           : "regression, " + std::to_string(d.output_size) + " outputs") +
         ", T=" + std::to_string(d.length) + ")";
}

namespace {

// The classifier loop's view of a sequence model on rows (B, T, I): the last state's readout.
ImageClassifier sequence_classifier(SequenceModel& model) {
  ImageClassifier c;
  c.module = model.get();
  c.logits = [model](const torch::Tensor& rows, torch::Generator&) mutable {
    return model->forward(rows.transpose(0, 1), 1)[0];  // (B, C)
  };
  c.save_weights = [model](const std::string& path) mutable { save_weights(path, model); };
  return c;
}

// The share of the most frequent class: what a constant prediction scores.
double majority_accuracy(const torch::Tensor& labels, int64_t classes) {
  return torch::bincount(labels, {}, classes).max().item<double>() / static_cast<double>(labels.size(0));
}

std::string split_name(const Dataset& d) { return d.test_is_validation ? "validation split (the file has no test_*)" : "test split"; }

}  // namespace

namespace runs {

RunResult train(DatasetRunConfig config, const std::string& out_dir, ExistingRun existing) {
  config.data.validate();
  config.train.validate();
  require(config.model.cell != "src", "--data trains the sequence-model cells; the SRC classifier reads spike trains "
                                      "(--task spiking-mnist)");
  config.data.path = std::filesystem::absolute(config.data.path).lexically_normal().string();
  const auto data = load_dataset(config.data);  // fills the file's CRC-32 and size
  config.model.input_size = data.input_size;
  config.model.output_size = data.output_size;
  config.model.validate();
  config.train.validation_size = data.validation_inputs.size(0);
  config.train.test_size = data.test_inputs.size(0);
  RunWriter run(out_dir, existing);
  const int64_t threads = configure_threads(config.train.threads);
  torch::manual_seed(config.train.seed);
  SequenceModel model(config.model);
  run.write_config(to_json(config));
  const auto start = std::chrono::steady_clock::now();

  nlohmann::json report = {{"kind", run_kind_name(RunKind::dataset)},
                           {"problem", data.classification ? "classification" : "regression"},
                           {"cell", config.model.cell},
                           {"model", to_json(config.model)},
                           {"parameters", parameter_count(*model)},
                           {"steps_planned", config.train.steps},
                           {"threads", threads},
                           {"seed", config.train.seed},
                           {"test_is_validation", data.test_is_validation}};
  RunResult result;
  if (!data.classification) {
    const auto task = make_dataset_task(data);
    const auto r = train_model(model, *task, config.train, run.training_output(config.train.checkpoint_every));
    save_weights(run.weights_path(), model);  // best validation weights (restored)
    report.update({{"steps_done", r.steps_done},
                   {"skipped_updates", r.skipped_updates},
                   {"early_stopped", r.early_stopped},
                   {"best_step", r.best_step},
                   {"resumed_from", r.resumed_from},
                   {"validation", {{"mse", r.best_validation_mse}}},
                   {"test", {{"mse", r.test_mse}, {"chance_mse", r.chance_mse}, {"samples", config.train.test_size}}},
                   {"training_time_s", r.wall_seconds}});
    if (!r.divergence.empty()) report["diverged"] = r.divergence;
    result.value = r.test_mse;
    result.text = strprintf("result: test MSE %.6g (chance %.4g, %lld sequences of the %s) | %s, %lld steps (%lld skipped), "
                            "%.1f s, run in %s\n",
                            r.test_mse, r.chance_mse, static_cast<long long>(config.train.test_size),
                            split_name(data).c_str(), describe(config, data).c_str(),
                            static_cast<long long>(r.steps_done), static_cast<long long>(r.skipped_updates),
                            training::seconds_since(start), out_dir.c_str());
  } else {
    // The classifier loop validates on the last validation_size rows of its training set.
    const ImageSet train_set{torch::cat({data.train_inputs, data.validation_inputs}),
                             torch::cat({data.train_targets, data.validation_targets})};
    const auto r = train_classifier(sequence_classifier(model), train_set,
                                    [&data] { return ImageSet{data.test_inputs, data.test_targets}; }, config.train,
                                    run.training_output(config.train.checkpoint_every));
    save_weights(run.weights_path(), model);
    const double chance = majority_accuracy(data.test_targets, data.output_size);
    report.update(to_json(r));
    report["test"] = {{"accuracy", r.test_accuracy}, {"chance_accuracy", chance}, {"samples", r.test_images}};
    result.value = r.test_accuracy;
    result.text = strprintf("result: test accuracy %.4f (chance %.4f, %lld sequences of the %s) | %s, %lld steps "
                            "(%lld skipped), %.1f s, run in %s\n",
                            r.test_accuracy, chance, static_cast<long long>(r.test_images), split_name(data).c_str(),
                            describe(config, data).c_str(), static_cast<long long>(r.steps_done),
                            static_cast<long long>(r.skipped_updates), training::seconds_since(start), out_dir.c_str());
  }
  report["wall_time_s"] = training::seconds_since(start);
  run.write_report(report);
  result.report = report;
  return result;
}

RunResult eval_dataset(const std::string& dir) {
  auto config = load_dataset_run_config(dir);
  const auto data = load_dataset(config.data);  // refuses a file that changed
  auto model = load_sequence_model_of_run(dir);
  model->eval();
  const auto start = std::chrono::steady_clock::now();
  RunResult result;
  if (!data.classification) {
    const auto task = make_dataset_task(data);
    const auto test = make_fixed_set(*task, 0, evaluation_batch_size(config.train.batch_size, data.length),
                                     config.train.seed, 2);
    result.value = evaluate_mse(model, test, data.readout_steps);
    result.text = strprintf("result: test MSE %.6g (chance %.4g, %lld sequences of the %s) | %s, %.1f s\n", result.value,
                            chance_mse(test), static_cast<long long>(data.test_inputs.size(0)), split_name(data).c_str(),
                            describe(config, data).c_str(), training::seconds_since(start));
  } else {
    const ImageSet test{data.test_inputs, data.test_targets};
    result.value = image_accuracy(sequence_classifier(model), test, 0, data.test_inputs.size(0),
                                  make_generator(config.train.seed, 2));
    result.text = strprintf("result: test accuracy %.4f (chance %.4f, %lld sequences of the %s) | %s, %.1f s\n",
                            result.value, majority_accuracy(data.test_targets, data.output_size),
                            static_cast<long long>(data.test_inputs.size(0)), split_name(data).c_str(),
                            describe(config, data).c_str(), training::seconds_since(start));
  }
  return result;
}

}  // namespace runs

}  // namespace neurocell
