#include "cli/spiking_commands.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "io/authors_src.h"
#include "io/files.h"
#include "integer_src.h"
#include "io/ncm_export.h"
#include "plot/gnuplot.h"
#include "tasks/mnist.h"
#include "tasks/synthetic.h"
#include "train/checkpoint.h"

namespace neurocell {

namespace {

nlohmann::json to_json(const SpikingRunConfig& c) {
  auto train = neurocell::to_json(c.train);
  return {{"format", "neurocell-run-1"},
          {"model", neurocell::to_json(c.model)},
          {"task", neurocell::to_json(c.task)},
          {"train", train},
          {"sparse_input", c.sparse_input}};
}

SpikingRunConfig load_spiking_config(const std::string& dir) {
  const auto text = read_file(config_path(dir), "run config (config.json)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw Error("'" + config_path(dir) + "' is not valid JSON (corrupt run folder?)");
  }
  require(j.is_object() && j.contains("model") && j.contains("task"),
          "'" + config_path(dir) + "' must hold \"model\" and \"task\"");
  SpikingRunConfig c;
  c.model = src_classifier_config_from_json(j.at("model"));
  c.task = spiking_task_config_from_json(j.at("task"));
  if (j.contains("train")) c.train = train_options_from_json(j.at("train"));
  c.sparse_input = j.value("sparse_input", true);
  return c;
}

SrcClassifier build(const SpikingRunConfig& c) {
  SrcClassifier model(c.model);
  for (auto& layer : model->layers) layer->sparse_input = c.sparse_input;
  return model;
}

std::string describe(const SpikingRunConfig& c) {
  std::string widths = std::to_string(c.model.input_size);
  for (int64_t l = 0; l < c.model.layers; ++l) widths += "-" + std::to_string(c.model.layer_width(l));
  return "src " + widths + "-" + std::to_string(c.model.classes) + " on " + c.task.name;
}

int64_t parameter_count(SrcClassifier& model) {
  int64_t n = 0;
  for (const auto& p : model->parameters()) n += p.numel();
  return n;
}

}  // namespace

bool is_spiking_run(const std::string& dir) {
  if (!file_exists(config_path(dir))) return false;
  try {
    const auto j = nlohmann::json::parse(read_file(config_path(dir), "run config"));
    return j.contains("model") && j.at("model").value("cell", std::string()) == "src";
  } catch (const nlohmann::json::exception&) {
    return false;  // the regression loader reports the corruption
  }
}

int command_train_spiking(SpikingRunConfig config, const std::string& out_dir, bool overwrite) {
  config.model.validate();
  config.task.validate();
  config.train.validate();
  require(!out_dir.empty(), "--out DIR is required: the folder that receives the run");
  require(overwrite || !file_exists(config_path(out_dir)),
          "'" + out_dir + "' already holds a run (config.json): choose another --out, or add --overwrite");
  const int64_t threads = configure_threads(config.train.threads);
  torch::manual_seed(config.train.seed);
  auto model = build(config);
  ensure_directory(out_dir);
  write_json_atomic(config_path(out_dir), to_json(config));

  const auto report = train_spiking_classifier(model, config.task, config.train, out_dir);
  save_src_weights(weights_path(out_dir), model);
  auto report_json = neurocell::to_json(report);
  report_json.update({{"task", neurocell::to_json(config.task)},
                      {"cell", "src"},
                      {"model", neurocell::to_json(config.model)},
                      {"parameters", parameter_count(model)},
                      {"steps_planned", config.train.steps},
                      {"sparse_input", config.sparse_input},
                      {"threads", threads},
                      {"seed", config.train.seed}});
  write_json_atomic(report_path(out_dir), report_json);
  std::printf("accuracy: %.4f\n", report.test_accuracy);
  std::printf("result: test accuracy %.4f (chance 0.1, %lld images) | %s, %lld steps (%lld skipped), %.0f train "
              "images/s, %.1f s, run in %s\n",
              report.test_accuracy, static_cast<long long>(report.test_images), describe(config).c_str(),
              static_cast<long long>(report.steps_done), static_cast<long long>(report.skipped_updates),
              report.train_images_per_second, report.wall_seconds, out_dir.c_str());
  return 0;
}

int command_export_spiking(const std::string& dir, const std::string& out_path, const IntegerExportOptions& integer) {
  const auto config = load_spiking_config(dir);
  auto model = build(config);
  load_src_weights(weights_path(dir), model);
  std::string bytes = ncm_bytes(model);
  std::string kind = "float32";
  if (integer.weight_bits != 0) {
    require(integer.weight_bits >= 2 && integer.weight_bits <= 14, "--integer-bits must be in 2..14");
    ncrt::IntegerSrcOptions o;
    o.weight_bits = static_cast<int>(integer.weight_bits);
    o.leaky_accumulators = integer.leaky;
    o.trained_bias = integer.trained_bias;
    bytes = ncrt::IntegerSrc::from_model(ncrt::Model::parse(bytes, dir), o).ncm_bytes();
    kind = "integer, " + std::to_string(integer.weight_bits) + "-bit weights";
  } else {
    require(!integer.leaky && !integer.trained_bias, "--leaky and --trained-bias need --integer-bits");
  }
  write_file_atomic(out_path, bytes);
  std::printf("wrote %s: %s (%s), %zu bytes\n", out_path.c_str(), describe(config).c_str(), kind.c_str(), bytes.size());
  return 0;
}

int command_integer_src(const std::string& dir, const IntegerSrcEvalOptions& options) {
  const auto config = load_spiking_config(dir);
  auto model = build(config);
  load_src_weights(weights_path(dir), model);
  model->eval();
  const int64_t full = config.task.coding.prefix + config.task.coding.steps;
  require(config.task.coding.subsample == 0, "integer-src sub-samples the full trace itself: train with the full trace");
  for (auto steps : options.trace_steps)
    require(steps >= 1 && full % steps == 0, "--trace-steps: " + std::to_string(steps) + " does not divide the " +
                                                 std::to_string(full) + "-step trace");
  for (auto bits : options.weight_bits) require(bits >= 2 && bits <= 14, "--bits must be in 2..14");
  const auto compiled = ncrt::Model::parse(ncm_bytes(model), dir);
  std::vector<ncrt::IntegerSrc> networks;
  for (auto bits : options.weight_bits) {
    ncrt::IntegerSrcOptions o;
    o.weight_bits = static_cast<int>(bits);
    o.leaky_accumulators = options.leaky;
    o.trained_bias = options.trained_bias;
    networks.push_back(ncrt::IntegerSrc::from_model(compiled, o));
  }

  // The test images, rate-coded exactly as evaluation does (same batches, same generator).
  const auto set = load_mnist_split(config.task.dataset(), false);
  const int64_t count = options.test_size > 0 ? std::min(options.test_size, set.labels.size(0)) : set.labels.size(0);
  const int64_t I = config.model.input_size;
  auto generator = make_generator(config.train.seed, 2);
  std::vector<int64_t> correct(options.trace_steps.size() * networks.size(), 0);
  std::vector<ncrt::OpCounts> counts(correct.size());
  int64_t float_correct = 0;
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  for (int64_t b = 0; b < count; b += kEvaluationBatch) {
    const int64_t n = std::min(kEvaluationBatch, count - b);
    const auto spikes = rate_code(set.images.narrow(0, b, n), config.task.coding, generator);  // (T, n, I)
    float_correct += model->forward(spikes).argmax(1).eq(set.labels.narrow(0, b, n)).sum().item<int64_t>();
    const auto frames = spikes.permute({1, 0, 2}).to(torch::kUInt8).contiguous();  // (n, T, I)
    for (int64_t k = 0; k < n; ++k) {
      const uint8_t* image = frames.data_ptr<uint8_t>() + k * full * I;
      const std::vector<uint8_t> trace(image, image + full * I);
      const int64_t label = set.labels[b + k].item<int64_t>();
      for (size_t s = 0; s < options.trace_steps.size(); ++s) {
        const int64_t steps = options.trace_steps[s];
        const auto kept = ncrt::subsample_trace(trace, full, I, steps, options.rising_edges);
        for (size_t q = 0; q < networks.size(); ++q) {
          auto& net = networks[q];
          net.reset();
          const ncrt::OpCounts before = net.counts();
          for (int64_t t = 0; t < steps; ++t) net.step(kept.data() + t * I);
          correct[s * networks.size() + q] += net.prediction() == label;
          auto& c = counts[s * networks.size() + q];
          c.macs += net.counts().macs - before.macs;
          c.input_events += net.counts().input_events - before.input_events;
          c.spikes += net.counts().spikes - before.spikes;
          c.state_updates += net.counts().state_updates - before.state_updates;
        }
      }
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s, %lld test images, %s accumulators, bias %s%s\n\n", describe(config).c_str(),
              static_cast<long long>(count), options.leaky ? "leaky" : "pure",
              options.trained_bias ? "trained (x1000)" : "-3000 (reference design)",
              options.rising_edges ? ", rising edges only" : "");
  // Operations per digit (energy proxy): synaptic additions (input and hidden spikes select weight
  // rows, readout votes), input spikes, neuron spikes, state values written.
  std::printf("| arithmetic | trace steps | weight bits | accuracy | additions / digit | input spikes / digit | "
              "spikes / digit | state updates / digit |\n|---|---|---|---|---|---|---|---|\n");
  std::printf("| float32 | %lld | 32 | %.4f | | | | |\n", static_cast<long long>(full),
              static_cast<double>(float_correct) / static_cast<double>(count));
  const double n = static_cast<double>(count);
  for (size_t s = 0; s < options.trace_steps.size(); ++s)
    for (size_t q = 0; q < networks.size(); ++q) {
      const auto& c = counts[s * networks.size() + q];
      std::printf("| integer | %lld | %lld | %.4f | %.0f | %.0f | %.0f | %.0f |\n",
                  static_cast<long long>(options.trace_steps[s]), static_cast<long long>(options.weight_bits[q]),
                  static_cast<double>(correct[s * networks.size() + q]) / n, c.macs / n, c.input_events / n,
                  c.spikes / n, c.state_updates / n);
    }
  std::printf("\n%.1f s\n", seconds);
  return 0;
}

int command_eval_spiking(const std::string& dir, int64_t test_size) {
  const auto config = load_spiking_config(dir);
  auto model = build(config);
  load_src_weights(weights_path(dir), model);
  model->eval();
  const auto start = std::chrono::steady_clock::now();
  const double accuracy = evaluate_accuracy(model, config.task, false, 0, test_size, config.train.seed, 2);
  std::printf("accuracy: %.4f\n", accuracy);
  std::printf("result: test accuracy %.4f | %s, %.1f s\n", accuracy, describe(config).c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return 0;
}

int command_eval_import(const std::string& path, const std::string& task_name, int64_t test_size,
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
  auto model = build(config);
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
  const double accuracy = evaluate_accuracy(model, config.task, false, 0, test_size, config.train.seed, 2);
  std::printf("accuracy: %.4f\n", accuracy);
  std::printf("result: test accuracy %.4f | imported %s, %.1f s\n", accuracy, describe(config).c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!out_dir.empty()) {
    for (double a : imported.alphas)
      require(a == config.model.cell.alpha, "--out: per-layer alphas cannot be stored in a run folder yet");
    require(!file_exists(config_path(out_dir)), "'" + out_dir + "' already holds a run: choose another --out");
    ensure_directory(out_dir);
    save_src_weights(weights_path(out_dir), model);
    write_json_atomic(config_path(out_dir), to_json(config));  // last: a folder with a config is complete
    std::printf("saved as a neurocell run folder: %s\n", out_dir.c_str());
  }
  return 0;
}

int command_noise(const std::string& dir, const std::vector<double>& sigmas, int64_t repeats, int64_t test_size) {
  require(!sigmas.empty(), "--sigma: give at least one noise level");
  require(repeats >= 1, "--repeats must be >= 1");
  for (double sigma : sigmas) require(std::isfinite(sigma) && sigma >= 0, "--sigma values must be >= 0");
  const auto config = load_spiking_config(dir);
  auto model = build(config);
  load_src_weights(weights_path(dir), model);
  model->eval();
  std::vector<std::pair<torch::Tensor, torch::Tensor>> clean;
  for (auto& layer : model->layers) clean.emplace_back(layer->r.clone(), layer->r_s.clone());
  auto noise_generator = make_generator(config.train.seed, 3);
  std::printf("| sigma | mean accuracy | min | max | repeats |\n|---|---|---|---|---|\n");
  for (double sigma : sigmas) {
    double sum = 0, lo = 1, hi = 0;
    for (int64_t k = 0; k < repeats; ++k) {
      {
        torch::NoGradGuard no_grad;
        for (size_t l = 0; l < model->layers.size(); ++l) {
          auto& layer = model->layers[l];
          layer->r.copy_(clean[l].first + sigma * torch::randn(clean[l].first.sizes(), noise_generator));
          layer->r_s.copy_(clean[l].second + sigma * torch::randn(clean[l].second.sizes(), noise_generator));
        }
      }
      const double a = evaluate_accuracy(model, config.task, false, 0, test_size, config.train.seed, 2);
      sum += a, lo = std::min(lo, a), hi = std::max(hi, a);
    }
    std::printf("| %g | %.4f | %.4f | %.4f | %lld |\n", sigma, sum / repeats, lo, hi, static_cast<long long>(repeats));
    std::fflush(stdout);
  }
  return 0;
}

int command_plot_raster(const std::string& dir, int64_t image_index, const std::string& out_path) {
  const auto config = load_spiking_config(dir);
  GnuplotFigure figure(out_path, 900, 260 * static_cast<int>(config.model.layers + 1));
  auto model = build(config);
  load_src_weights(weights_path(dir), model);
  model->eval();
  const auto test = load_mnist_split(config.task.dataset(), false);
  require(image_index >= 0 && image_index < test.labels.size(0),
          "--index must be in [0, " + std::to_string(test.labels.size(0)) + ")");
  auto generator = make_generator(config.train.seed, 2);
  torch::NoGradGuard no_grad;
  const auto input = rate_code(test.images.narrow(0, image_index, 1), config.task.coding, generator);
  const auto layers = model->all_layers(input.to(model->readout.scalar_type()));
  const auto logits = model->forward(input.to(model->readout.scalar_type()));
  const int64_t label = test.labels[image_index].item<int64_t>(), predicted = logits.argmax(1).item<int64_t>();

  // One data block per panel: "t neuron" for every spike (input 1, SRC output > 1/2: an SRC
  // spike drives h close to +1, so the threshold separates spikes from the resting state).
  std::vector<std::string> panels;
  auto add_panel = [&](const torch::Tensor& events /* (T, N) */, const std::string& title, double threshold) {
    std::ostringstream data;
    const auto hits = (events > threshold).nonzero();
    for (int64_t k = 0; k < hits.size(0); ++k) data << hits[k][0].item<int64_t>() << " " << hits[k][1].item<int64_t>() << "\n";
    const auto file = figure.data("panel" + std::to_string(panels.size()) + ".dat", data.str());
    panels.push_back("set title '" + title + "'; set ylabel 'neuron'; plot [0:" + std::to_string(events.size(0)) +
                     "] '" + file + "' using 1:2 with points pt 5 ps 0.3 lc rgb 'black' notitle");
  };
  add_panel(input.select(1, 0), "input spikes (test image " + std::to_string(image_index) + ", label " +
                                    std::to_string(label) + ")", 0.5);
  for (size_t l = 0; l < layers.size(); ++l)
    add_panel(layers[l].spikes.select(1, 0), "SRC layer " + std::to_string(l + 1) +
                  (l + 1 == layers.size() ? " (neuron j votes for class j mod 10; predicted " +
                                                std::to_string(predicted) + ")" : ""), 0.5);
  std::string body = "set multiplot layout " + std::to_string(panels.size()) + ",1\nset xlabel 'time step'\n";
  for (const auto& p : panels) body += p + "\n";
  figure.render(body + "unset multiplot");
  std::printf("wrote %s: spike raster of test image %lld (label %lld, predicted %lld)\n", out_path.c_str(),
              static_cast<long long>(image_index), static_cast<long long>(label), static_cast<long long>(predicted));
  return 0;
}

}  // namespace neurocell
