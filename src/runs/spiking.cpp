#include "runs/spiking.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "io/authors_src.h"
#include "io/files.h"
#include "runs/config_json.h"
#include "integer_src.h"
#include "io/ncm_export.h"
#include "tasks/mnist.h"

namespace neurocell {

nlohmann::json to_json(const SpikingRunConfig& c) {
  auto train = neurocell::to_json(c.train);
  return {{"format", "neurocell-run-1"},
          {"kind", run_kind_name(RunKind::spiking)},
          {"model", neurocell::to_json(c.model)},
          {"task", neurocell::to_json(c.task)},
          {"train", train},
          {"sparse_input", c.sparse_input}};
}

SpikingRunConfig spiking_run_config_from_json(const nlohmann::json& j) {
  require(j.is_object() && j.contains("model") && j.contains("task"), "an SRC run config must hold \"model\" and \"task\"");
  SpikingRunConfig c;
  c.model = src_classifier_config_from_json(j.at("model"));
  c.task = spiking_task_config_from_json(j.at("task"));
  if (j.contains("train")) c.train = train_options_from_json(j.at("train"));
  c.sparse_input = j.value("sparse_input", true);
  return c;
}

SpikingRunConfig load_spiking_config(const std::string& dir) {
  return load_run_config_of(dir, spiking_run_config_from_json);
}

SrcClassifier build_src_classifier(const SpikingRunConfig& c) {
  SrcClassifier model(c.model);
  model->set_sparse_input(c.sparse_input);
  return model;
}

std::string describe(const SpikingRunConfig& c) {
  std::string widths = std::to_string(c.model.input_size);
  for (int64_t l = 0; l < c.model.layers; ++l) widths += "-" + std::to_string(c.model.layer_width(l));
  return c.model.cell_name + " " + widths + "-" + std::to_string(c.model.classes) + " on " + c.task.name;
}

SrcClassifier load_src_classifier(const std::string& dir, const SpikingRunConfig& config) {
  auto model = build_src_classifier(config);
  load_src_weights(weights_path(dir), model);
  model->eval();
  return model;
}

namespace runs {

RunResult train(SpikingRunConfig config, const std::string& out_dir, ExistingRun existing) {
  config.task.validate();
  config.model.input_size = config.task.input_size();  // 784 pixels, or N-MNIST's 2 x 34 x 34
  config.model.validate();
  if (config.task.nmnist())  // before the run folder is made: a wrong --nmnist-dir writes nothing
    require(file_exists(config.task.nmnist_dir + "/Train") && file_exists(config.task.nmnist_dir + "/Test"),
            "--nmnist-dir '" + config.task.nmnist_dir + "' has no Train and Test folders (N-MNIST's layout: "
            "DIR/Train/0..9/*.bin, DIR/Test/0..9/*.bin)");
  config.train.validate();
  RunWriter run(out_dir, existing);
  const int64_t threads = configure_threads(config.train.threads);
  torch::manual_seed(config.train.seed);
  auto model = build_src_classifier(config);
  run.write_config(to_json(config));

  const auto report = train_spiking_classifier(model, config.task, config.train,
                                               run.training_output(config.train.checkpoint_every));
  save_src_weights(run.weights_path(), model);
  auto report_json = neurocell::to_json(report);
  report_json.update({{"kind", run_kind_name(RunKind::spiking)},
                      {"task", neurocell::to_json(config.task)},
                      {"cell", config.model.cell_name},
                      {"model", neurocell::to_json(config.model)},
                      {"parameters", parameter_count(*model)},
                      {"steps_planned", config.train.steps},
                      {"sparse_input", config.sparse_input},
                      {"threads", threads},
                      {"seed", config.train.seed}});
  run.write_report(report_json);
  auto result = classifier_run_result(report, report_json, describe(config), out_dir);
  result.text = strprintf("accuracy: %.4f\n", report.test_accuracy) + result.text;
  return result;
}

RunResult export_spiking(const std::string& dir, const std::string& out_path, const IntegerExportOptions& integer) {
  const auto config = load_spiking_config(dir);
  auto model = build_src_classifier(config);
  load_src_weights(weights_path(dir), model);
  std::string bytes = ncm_bytes(model);
  std::string kind = "float32";
  if (integer.weight_bits != 0) {
    require(!model->lif(), "--integer-bits exports the integer SRC design; '" + dir +
                               "' is a LIF run: export it without --integer-bits (float .ncm)");
    require(integer.weight_bits >= 2 && integer.weight_bits <= 14, "--integer-bits must be in 2..14");
    ncrt::IntegerSrcOptions o;
    o.weight_bits = static_cast<int>(integer.weight_bits);
    o.leaky_accumulators = integer.leaky;
    o.trained_bias = integer.trained_bias;
    bytes = ncrt::IntegerSrc::from_model(ncrt::Model::parse(bytes, dir), o).ncm_bytes();
    kind = "integer, " + std::to_string(integer.weight_bits) + "-bit weights";
  } else {
    require(!integer.leaky && !integer.trained_bias, "--leaky and --trained-bias need --integer-bits");
    require(!model->config.cell.integer(), "'" + dir + "' was trained in the FPGA design's integer arithmetic, which "
                                           "the float .ncm does not run: export it with --integer-bits " +
                                           std::to_string(model->config.cell.weight_bits));
  }
  write_file_atomic(out_path, bytes);
  RunResult result;
  result.text = strprintf("wrote %s: %s (%s), %zu bytes\n", out_path.c_str(), describe(config).c_str(), kind.c_str(),
                          bytes.size());
  return result;
}

RunResult eval_spiking(const std::string& dir, int64_t test_size) {
  const auto config = load_spiking_config(dir);
  auto model = load_src_classifier(dir, config);
  const auto start = std::chrono::steady_clock::now();
  RunResult result;
  result.value = evaluate_accuracy(model, config.task, false, 0, test_size, config.train.seed, 2);
  result.text = strprintf("accuracy: %.4f\n", result.value) +
                strprintf("result: test accuracy %.4f | %s, %.1f s\n", result.value, describe(config).c_str(),
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return result;
}

RunResult eval_import(const std::string& path, const std::string& task_name, int64_t test_size,
                      const std::string& out_dir) {
  const auto imported = read_authors_src_model(path);
  require(imported.encoding == "rate", "'" + path + "': dataset_config.encoding is '" + imported.encoding +
                                           "'; only rate-coded models can be evaluated here");
  require(imported.suffix_length == 0, "'" + path + "': dataset_config.suffix_length " +
                                          std::to_string(imported.suffix_length) + " is not supported (only 0)");
  const bool fashion_model = imported.dataset_name.find("fashion") != std::string::npos;
  require(fashion_model == (task_name == "spiking-fashion-mnist"),
          "'" + path + "' was trained on '" + imported.dataset_name + "': use --task " +
              (fashion_model ? "spiking-fashion-mnist" : "spiking-mnist"));
  SpikingRunConfig config;
  config.task.name = task_name;
  config.task.coding.prefix = imported.prefix_length;
  config.task.coding.steps = imported.seq_length;
  config.task.coding.gain = imported.rate_gain;
  config.task.validate();
  const auto& layers = imported.layers;
  const int64_t L = static_cast<int64_t>(layers.size());
  config.model.input_size = layers.front().at("forward_weights").size(1);
  config.model.layers = L;
  config.model.classes = imported.readout.size(0);
  const int64_t last = layers.back().at("forward_weights").size(0);
  require(last % config.model.classes == 0, "'" + path + "': the last layer's width " + std::to_string(last) +
                                                " is not a multiple of the " +
                                                std::to_string(config.model.classes) + " classes of the readout");
  config.model.readout_factor = last / config.model.classes;
  config.model.hidden_size = L > 1 ? layers.front().at("forward_weights").size(0) : last;
  for (int64_t l = 0; l + 1 < L; ++l)
    require(layers[l].at("forward_weights").size(0) == config.model.hidden_size,
            "'" + path + "': hidden layers of different widths are not supported");
  // alphas: one value for every layer, or one per layer.
  require(imported.alphas.size() <= 1 || static_cast<int64_t>(imported.alphas.size()) == L,
          "'" + path + "': cell_config.alphas has " + std::to_string(imported.alphas.size()) + " values for " +
              std::to_string(L) + " layers (give 1, or one per layer)");
  config.model.cell.alpha = imported.alphas.empty() ? 0.9 : imported.alphas.front();
  config.model.cell.bias_max = imported.bias_max;
  config.model.cell.bias_init = std::min(config.model.cell.bias_init, imported.bias_max);
  auto model = build_src_classifier(config);
  {
    torch::NoGradGuard no_grad;
    for (int64_t l = 0; l < L; ++l) {
      auto& layer = model->layers[l];
      const auto& a = layers[l];
      if (imported.alphas.size() > 1) layer->options.alpha = imported.alphas[l];
      layer->weight.copy_(a.at("forward_weights"));
      layer->bias.copy_(a.at("bias"));
      layer->rho.copy_(a.at("rho"));
      layer->r.copy_(a.at("r"));
      layer->r_s.copy_(a.at("rs"));
      layer->z_dep.copy_(a.at("zs_dep"));
      layer->z_hyp.copy_(a.at("zs_hyp"));
      layer->initial_i.copy_(a.at("initial_i"));
      layer->initial_h.copy_(a.at("initial_h"));
      layer->initial_hs.copy_(a.at("initial_hs"));
    }
    model->readout.copy_(imported.readout);
  }
  model->eval();
  const auto start = std::chrono::steady_clock::now();
  RunResult result;
  result.value = evaluate_accuracy(model, config.task, false, 0, test_size, config.train.seed, 2);
  result.text = strprintf("accuracy: %.4f\n", result.value) +
                strprintf("result: test accuracy %.4f | imported %s, %.1f s\n", result.value, describe(config).c_str(),
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!out_dir.empty()) {
    for (double a : imported.alphas)
      require(a == config.model.cell.alpha, "--out: per-layer alphas cannot be stored in a run folder yet");
    require(!file_exists(config_path(out_dir)), "'" + out_dir + "' already holds a run: choose another --out");
    ensure_directory(out_dir);
    save_src_weights(weights_path(out_dir), model);
    write_json_atomic(config_path(out_dir), to_json(config));  // last: a folder with a config is complete
    result.text += "saved as a neurocell run folder: " + out_dir + "\n";
  }
  return result;
}

}  // namespace runs

}  // namespace neurocell
