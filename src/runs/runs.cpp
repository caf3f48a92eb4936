#include "runs/runs.h"

#include <torch/torch.h>

#include "analysis/gates.h"
#include "core/error.h"
#include "io/files.h"
#include "io/ncm_export.h"
#include "runs/config_json.h"
#include "train/classify.h"

namespace neurocell::runs {

namespace {

RunResult eval_of_kind(const std::string& dir, const EvalOptions& options) {
  require(options.test_size >= 0 && options.test_size <= 10'000'000,
          "--test-size must be >= 1 and <= 10000000 (got " + std::to_string(options.test_size) + "; 0 = the run's own)");
  switch (detect_run_kind(dir)) {
    case RunKind::spiking: return eval_spiking(dir, options.test_size);
    case RunKind::sequence_classification: return eval_sequence_classification(dir, options.test_size);
    case RunKind::tmaze:
      throw Error("'" + dir + "' is a T-maze run: its greedy evaluation at every length is in its report.json "
                  "(eval re-evaluates regression, sequence-classification and SRC runs)");
    case RunKind::dataset:
      require(options.test_size == 0, "--test-size: a dataset run is scored on its whole test split");
      return eval_dataset(dir);
    case RunKind::regression: break;
  }
  return eval_regression(dir, options.test_size);
}

RunResult export_of_kind(const std::string& dir, const std::string& out_path, const ExportOptions& options) {
  const auto& integer = options.integer;
  require(options.overwrite || !file_exists(out_path), "'" + out_path + "' exists: pass --overwrite to replace it");
  const RunKind kind = detect_run_kind(dir);
  if (kind == RunKind::spiking) return export_spiking(dir, out_path, integer);
  require(integer.weight_bits == 0 && !integer.leaky && !integer.trained_bias,
          "--integer-bits, --leaky and --trained-bias export the integer SRC: '" + dir + "' is not an SRC run");
  LoadedRun run;
  if (kind != RunKind::regression) {  // their own configs, the same models
    run.model = load_sequence_model_of_run(dir);
    run.config.model = run.model->config;
  } else {
    run = load_run(dir);
  }
  const std::string bytes = ncm_bytes(run.model);
  write_file_atomic(out_path, bytes);
  const auto& m = run.config.model;
  RunResult result;
  result.text = strprintf("wrote %s: %s, %lld layers of %lld, input %lld, output %lld, %lld parameters, %zu bytes\n",
                          out_path.c_str(), m.cell.c_str(), static_cast<long long>(m.layers),
                          static_cast<long long>(m.hidden_size), static_cast<long long>(m.input_size),
                          static_cast<long long>(m.output_size), static_cast<long long>(parameter_count(*run.model)),
                          bytes.size());
  return result;
}

}  // namespace

RunResult train_config(const nlohmann::json& given, const std::string& out_dir, ExistingRun existing) {
  require(given.is_object(), "a run config is a JSON object (as a run folder's config.json)");
  // The model's input and output widths are the task's (the run functions set them); a config
  // written by hand may leave them out.
  nlohmann::json config = given;
  if (config.contains("model") && config["model"].is_object())
    for (const char* key : {"input_size", "output_size"})
      if (!config["model"].contains(key)) config["model"][key] = 1;
  const std::string kind = config.contains("kind") && config.at("kind").is_string()
                               ? config.at("kind").get<std::string>()
                               : run_kind_name(RunKind::regression);
  if (kind == run_kind_name(RunKind::regression)) return train(run_config_from_json(config), out_dir, existing);
  if (kind == run_kind_name(RunKind::sequence_classification))
    return train(sequence_classification_config_from_json(config), out_dir, existing);
  if (kind == run_kind_name(RunKind::spiking)) return train(spiking_run_config_from_json(config), out_dir, existing);
  if (kind == run_kind_name(RunKind::dataset)) return train(dataset_run_config_from_json(config), out_dir, existing);
  throw Error("run config: kind '" + kind + "' cannot be trained from a config (regression, " +
              "sequence-classification, spiking or dataset; T-maze runs: neurocell tmaze)");
}

// A training stopped before its first validation left a resume checkpoint but no weights yet:
// say that rather than "model.safetensors not found".
static void require_weights_of_unfinished(const std::string& dir) {
  require(!file_exists(resume_path(dir)) || file_exists(weights_path(dir)),
          "'" + dir + "' is an unfinished run stopped before its first validation: it has no weights yet " +
              "(continue it with the same train command and --resume)");
}

RunResult eval(const std::string& dir, const EvalOptions& options) {
  require_weights_of_unfinished(dir);
  auto result = eval_of_kind(dir, options);
  mark_if_unfinished(dir, result);
  return result;
}

RunResult export_ncm(const std::string& dir, const std::string& out_path, const ExportOptions& options) {
  require_weights_of_unfinished(dir);
  auto result = export_of_kind(dir, out_path, options);
  mark_if_unfinished(dir, result);
  return result;
}

namespace {

void check_run_input(const torch::Tensor& x, int64_t width, const std::string& input_name) {
  require(x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kFloat64,
          "'" + input_name + "' must hold float32 or float64 values");
  require(x.dim() == 3, "'" + input_name + "' must have shape (T, B, I=" + std::to_string(width) + "), got " +
                            std::to_string(x.dim()) + " dimensions " + c10::str(x.sizes()));
  require(x.size(2) == width, "'" + input_name + "' has input width I=" + std::to_string(x.size(2)) +
                                  " but the model reads I=" + std::to_string(width) + " (shape must be (T, B, " +
                                  std::to_string(width) + "))");
  require(x.size(0) >= 1 && x.size(1) >= 1, "'" + input_name + "' is empty (T and B must be >= 1)");
  require(torch::isfinite(x).all().item<bool>(), "'" + input_name + "' contains NaN or Inf values");
}

}  // namespace

torch::Tensor run_states(const std::string& dir, const torch::Tensor& x, const std::string& input_name) {
  auto loaded = load_model(dir);
  torch::NoGradGuard no_grad;
  if (loaded.src) {  // every layer's states: SRC spikes, i, h, h_s; LIF spikes, u
    check_run_input(x, loaded.src->config.input_size, input_name);
    loaded.src->to(x.scalar_type());
    std::vector<torch::Tensor> parts;
    for (const auto& states : loaded.src->layer_states(x)) parts.insert(parts.end(), states.begin(), states.end());
    return torch::cat(parts, 2);  // (T, B, sum over layers of 4 H_l (SRC) or 2 H_l (LIF))
  }
  check_run_input(x, loaded.sequence->config.input_size, input_name);
  loaded.sequence->to(x.scalar_type());
  return loaded.sequence->all_states(x);  // (T, B, S)
}

torch::Tensor run_predictions(const std::string& dir, const torch::Tensor& x, const std::string& input_name) {
  auto loaded = load_model(dir);
  torch::NoGradGuard no_grad;
  if (loaded.src) {  // the class scores so far: the spike counts of the readout layer up to each step
    auto& m = loaded.src;
    check_run_input(x, m->config.input_size, input_name);
    m->to(x.scalar_type());
    const double scale = m->config.logit_scale > 0 ? m->config.logit_scale : 1.0 / m->config.readout_factor;
    const auto spikes = m->output_spikes(x);                        // (T, B, C * readout_factor)
    return torch::matmul(spikes.cumsum(0), m->readout.t()) * scale;  // (T, B, C)
  }
  auto& m = loaded.sequence;
  check_run_input(x, m->config.input_size, input_name);
  m->to(x.scalar_type());
  const auto outputs = m->stack->forward(x);
  return m->readout->forward(outputs.back().h);  // (T, B, O): the readout of every step
}

torch::Tensor run_gates(const std::string& dir, const torch::Tensor& x, const std::string& input_name) {
  auto loaded = load_model(dir);
  require(!loaded.src, "--gates: an SRC run has no a_t, c_t gates (they are BRC's and nBRC's); '" + dir + "' is an SRC run");
  auto& m = loaded.sequence;
  check_run_input(x, m->config.input_size, input_name);
  m->to(x.scalar_type());
  const auto gates = analysis::bistable_gates(m, x);
  std::vector<torch::Tensor> parts;
  for (size_t l = 0; l < gates.a.size(); ++l) parts.insert(parts.end(), {gates.a[l], gates.c[l]});
  return torch::cat(parts, 2);  // (T, B, sum over layers of 2 H)
}

LoadedModel load_model(const std::string& dir) {
  LoadedModel loaded;
  loaded.kind = detect_run_kind(dir);
  loaded.config = read_run_config_json(dir);
  switch (loaded.kind) {
    case RunKind::spiking: loaded.src = load_src_classifier(dir, load_spiking_config(dir)); break;
    case RunKind::sequence_classification:
    case RunKind::tmaze:
    case RunKind::dataset: loaded.sequence = load_sequence_model_of_run(dir); break;
    case RunKind::regression: loaded.sequence = load_run(dir).model; break;
  }
  if (loaded.sequence) loaded.sequence->eval();
  return loaded;
}

namespace {

// config["model"] is the model's own description, given or filled in; anything else is refused.
void describe_model_in(nlohmann::json& config, const nlohmann::json& model) {
  if (!config.contains("model")) {
    config["model"] = model;
    return;
  }
  auto given = config.at("model"), own = model;
  given.erase("impl");
  own.erase("impl");
  require(given == own, "the run config's \"model\" " + config.at("model").dump() +
                            " does not describe the model being saved " + model.dump() +
                            " (leave \"model\" out to have it filled in)");
}

void write_saved_report(RunWriter& writer, RunKind kind, const torch::nn::Module& model) {
  writer.write_report({{"kind", run_kind_name(kind)}, {"saved", true}, {"parameters", parameter_count(model)}});
}

}  // namespace

void save_model(const std::string& dir, nlohmann::json config, SequenceModel& model, bool overwrite) {
  require(config.is_object(), "run config must be a JSON object");
  const std::string kind_name = config.value("kind", run_kind_name(RunKind::regression));
  describe_model_in(config, to_json(model->config));
  RunWriter writer(dir, overwrite);
  RunKind kind = RunKind::regression;
  if (kind_name == run_kind_name(RunKind::regression)) {
    auto run = run_config_from_json(config);
    run.model.validate();
    run.task.validate();
    run.train.validate();
    const auto task = make_task(run.task);
    require(task->input_size == run.model.input_size && task->output_size == run.model.output_size,
            "task " + run.task.name + " reads " + std::to_string(task->input_size) + " inputs and writes " +
                std::to_string(task->output_size) + " outputs, the model " + std::to_string(run.model.input_size) +
                " and " + std::to_string(run.model.output_size));
    writer.write_config(to_json(run));
  } else if (kind_name == run_kind_name(RunKind::sequence_classification)) {
    kind = RunKind::sequence_classification;
    auto run = sequence_classification_config_from_json(config);
    run.model.validate();
    run.task.validate();
    run.train.validate();
    writer.write_config(to_json(run));
  } else {
    throw Error("a SequenceModel is saved as a \"regression\" or \"sequence-classification\" run, not \"" +
                kind_name + "\"");
  }
  save_weights(writer.weights_path(), model);
  write_saved_report(writer, kind, *model);
}

void save_model(const std::string& dir, nlohmann::json config, SrcClassifier& model, bool overwrite) {
  require(config.is_object(), "run config must be a JSON object");
  require(config.value("kind", run_kind_name(RunKind::spiking)) == run_kind_name(RunKind::spiking),
          "an SRC classifier is saved as a \"spiking\" run");
  describe_model_in(config, to_json(model->config));
  auto run = spiking_run_config_from_json(config);
  run.model.validate();
  run.task.validate();
  run.train.validate();
  RunWriter writer(dir, overwrite);
  writer.write_config(to_json(run));
  save_src_weights(writer.weights_path(), model);
  write_saved_report(writer, RunKind::spiking, *model);
}

}  // namespace neurocell::runs
