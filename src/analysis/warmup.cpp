#include "analysis/warmup.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "analysis/vaa.h"
#include "nn/cell_registry.h"
#include "core/error.h"
#include "core/progress.h"

namespace neurocell::analysis {

void WarmupOptions::validate() const {
  require(steps >= 0, "--warmup must be >= 0 (0 = no warmup)");
  require(std::isfinite(learning_rate) && learning_rate > 0, "--warmup-lr must be a positive number");
  require(batch_size >= 2, "--warmup-batch must be >= 2 (VAA* compares samples)");
  require(target > 0 && target <= 1, "--warmup-target must be in (0, 1]");
  require(max_settle >= 1 && settle_growth >= 0, "--warmup-max-settle must be >= 1");
  require(eps > 0, "warmup eps must be positive");
  require(partial == "frozen" || partial == "authors",
          "--partial-warmup must be frozen (only the first halves move) or authors (every parameter, as the "
          "warmup code), got '" + partial + "'");
}

nlohmann::json to_json(const WarmupOptions& o) {
  nlohmann::json j = {{"steps", o.steps},   {"learning_rate", o.learning_rate}, {"batch_size", o.batch_size},
                      {"target", o.target}, {"max_settle", o.max_settle},       {"settle_growth", o.settle_growth},
                      {"eps", o.eps},       {"seed", o.seed}};
  if (o.partial != "frozen") j["partial"] = o.partial;  // so the configs of earlier runs read the same
  return j;
}

WarmupOptions warmup_options_from_json(const nlohmann::json& j) {
  WarmupOptions o;
  try {
    o.steps = j.value("steps", o.steps);
    o.learning_rate = j.value("learning_rate", o.learning_rate);
    o.batch_size = j.value("batch_size", o.batch_size);
    o.target = j.value("target", o.target);
    o.max_settle = j.value("max_settle", o.max_settle);
    o.settle_growth = j.value("settle_growth", o.settle_growth);
    o.eps = j.value("eps", o.eps);
    o.seed = j.value("seed", o.seed);
    o.partial = j.value("partial", o.partial);  // absent in runs made before it existed: frozen
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("warmup options: ") + e.what());
  }
  o.validate();
  return o;
}

namespace {

std::shared_ptr<DoubleLayerImpl> as_double(const RecurrentLayer& layer) {
  return std::dynamic_pointer_cast<DoubleLayerImpl>(layer);
}

}  // namespace

bool warmup_is_partial(SequenceModel& model) {
  for (const auto& layer : model->stack->layers)
    if (!as_double(layer) || is_hybrid_kind(layer->kind())) return false;  // a hybrid is warmed whole
  return true;
}

std::vector<torch::Tensor> warmup_parameters(SequenceModel& model, const std::string& partial) {
  if (!warmup_is_partial(model) || partial == "authors") return model->stack->parameters();
  std::vector<torch::Tensor> params;
  for (const auto& layer : model->stack->layers)
    for (const auto& p : as_double(layer)->first->parameters()) params.push_back(p);
  return params;
}

std::vector<torch::Tensor> layer_vaa_star(SequenceModel& model, const torch::Tensor& inputs, int64_t settle,
                                          torch::Generator& generator, double eps) {
  require(inputs.dim() == 3 && inputs.size(1) >= 2, "VAA* needs inputs (T, n, I) with n >= 2");
  require(settle >= 1, "VAA* needs at least one settling step");
  const int64_t T = inputs.size(0), n = inputs.size(1);
  const auto prefix = torch::randint(1, T + 1, {n}, generator, torch::kLong);
  const auto outputs = model->stack->forward(inputs.narrow(0, 0, prefix.max().item<int64_t>()));
  return layer_vaa_star_from(model, states_after_prefixes(outputs, prefix), settle, generator, eps);
}

std::vector<torch::Tensor> layer_vaa_star_from(SequenceModel& model, const std::vector<RecurrentState>& start,
                                               int64_t settle, torch::Generator& generator, double eps) {
  require(!start.empty() && start.front().h.size(0) >= 2, "VAA* needs start states of n >= 2 samples");
  require(settle >= 1, "VAA* needs at least one settling step");
  const int64_t n = start.front().h.size(0);
  const bool partial = warmup_is_partial(model);
  const auto dtype = start.front().h.scalar_type();
  std::vector<torch::Tensor> stars;
  for (size_t l = 0; l < model->stack->layers.size(); ++l) {
    RecurrentLayer driven = model->stack->layers[l];
    RecurrentState state = start[l];
    if (partial) {  // only the first half: its slice of the state, its own cell
      driven = as_double(driven)->first;
      state.h = state.h.narrow(1, 0, driven->hidden_size());
      state.c = driven->has_second_state() ? state.c.narrow(1, 0, driven->second_state_size()) : torch::Tensor();
    }
    const auto v = torch::randn({driven->input_size()}, generator, torch::kFloat64).to(dtype);
    const auto out = driven->forward(v.view({1, 1, -1}).expand({settle, n, driven->input_size()}), state);
    const auto last = out.last();
    stars.push_back(vaa_star(last.c.defined() ? torch::cat({last.h, last.c}, 1) : last.h, eps));
  }
  return stars;
}

std::vector<WarmupStep> warmup(SequenceModel& model, const InputSampler& inputs, const WarmupOptions& options,
                               const std::function<void(const WarmupStep&)>& on_step) {
  options.validate();
  auto params = warmup_parameters(model, options.partial);
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(options.learning_rate));
  auto generator = analysis_generator(options.seed, 2);
  const auto dtype = model->readout->weight.scalar_type();
  const bool was_training = model->is_training();
  model->train();
  std::vector<WarmupStep> log;
  for (int64_t k = 0; k < options.steps; ++k) {
    WarmupStep record;
    record.step = k + 1;
    const int64_t longest_settle = std::min(1 + options.settle_growth * k, options.max_settle);
    record.settle_steps = torch::randint(1, longest_settle + 1, {1}, generator, torch::kLong).item<int64_t>();
    const auto x = inputs(options.batch_size, generator).to(dtype);
    require(x.dim() == 3 && x.size(2) == model->config.input_size,
            "warmup: the inputs must be (T, n, I=" + std::to_string(model->config.input_size) + ")");
    optimizer.zero_grad();
    const auto stars = layer_vaa_star(model, x, record.settle_steps, generator, options.eps);
    auto loss = torch::zeros({}, stars.front().options());
    for (const auto& s : stars) {
      loss = loss + (s - options.target).pow(2);
      record.vaa_star.push_back(s.item<double>());
    }
    loss = loss / static_cast<double>(stars.size());
    loss.backward();
    record.loss = loss.item<double>();
    record.skipped = !std::isfinite(record.loss) || !training::gradients_finite(params);
    if (!record.skipped) optimizer.step();
    log.push_back(record);
    if (on_step) on_step(record);
  }
  model->train(was_training);
  return log;
}

}  // namespace neurocell::analysis
