#include "train/trainer.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <thread>

#include "core/error.h"
#include "kernels/fused.h"
#include "train/checkpoint.h"
#include "core/progress.h"
#include "train/resume.h"

namespace neurocell {

using namespace training;

void TrainOptions::validate() const {
  require(steps >= 1, "--steps must be >= 1 (got " + std::to_string(steps) + ")");
  require(batch_size >= 1, "--batch must be >= 1 (got " + std::to_string(batch_size) + ")");
  // Above ~1e30 Adam's step (lr / (1 - beta1^t)) no longer fits a float and LibTorch throws mid-run.
  require(std::isfinite(learning_rate) && learning_rate > 0 && learning_rate <= 1e30,
          "--lr must be a positive number <= 1e30");
  require(lr_schedule == "constant" || lr_schedule == "cosine",
          "--lr-schedule must be constant or cosine (got '" + lr_schedule + "')");
  require(std::isfinite(clip_norm) && clip_norm >= 0, "--clip must be >= 0 (0 = off)");
  require(eval_every >= 1, "--eval-every must be >= 1");
  // Upper bounds as for --length: a typo must give a message, not exhaust memory.
  require(validation_size >= 1 && validation_size <= 10'000'000,
          "--val-size must be >= 1 and <= 10000000 (got " + std::to_string(validation_size) + ")");
  require(test_size >= 1 && test_size <= 10'000'000,
          "--test-size must be >= 1 and <= 10000000 (got " + std::to_string(test_size) + ")");
  require(patience >= 0, "--patience must be >= 0 (0 = off)");
  require(threads >= 0, "--threads must be >= 0 (0 = every core)");
  require(checkpoint_every >= 0, "--checkpoint-every must be >= 0 (0 = at every validation)");
}

nlohmann::json to_json(const TrainOptions& o) {
  return {{"steps", o.steps},
          {"batch_size", o.batch_size},
          {"learning_rate", o.learning_rate},
          {"lr_schedule", o.lr_schedule},
          {"clip_norm", o.clip_norm},
          {"skip_nonfinite", o.skip_nonfinite},
          {"eval_every", o.eval_every},
          {"validation_size", o.validation_size},
          {"test_size", o.test_size},
          {"patience", o.patience},
          {"seed", o.seed},
          {"threads", o.threads},
          {"checkpoint_every", o.checkpoint_every}};
}

TrainOptions train_options_from_json(const nlohmann::json& j) {
  TrainOptions o;
  try {
    o.steps = j.value("steps", o.steps);
    o.batch_size = j.value("batch_size", o.batch_size);
    o.learning_rate = j.value("learning_rate", o.learning_rate);
    o.lr_schedule = j.value("lr_schedule", o.lr_schedule);
    o.clip_norm = j.value("clip_norm", o.clip_norm);
    o.skip_nonfinite = j.value("skip_nonfinite", o.skip_nonfinite);
    o.eval_every = j.value("eval_every", o.eval_every);
    o.validation_size = j.value("validation_size", o.validation_size);
    o.test_size = j.value("test_size", o.test_size);
    o.patience = j.value("patience", o.patience);
    o.seed = j.value("seed", o.seed);
    o.threads = j.value("threads", o.threads);
    o.checkpoint_every = j.value("checkpoint_every", o.checkpoint_every);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("train options: ") + e.what());
  }
  o.validate();
  return o;
}

double scheduled_learning_rate(const TrainOptions& o, int64_t step) {
  if (o.lr_schedule != "cosine" || o.steps <= 1) return o.learning_rate;
  const double progress = static_cast<double>(step - 1) / static_cast<double>(o.steps - 1);  // 0 .. 1
  const double floor = 0.01 * o.learning_rate;
  return floor + (o.learning_rate - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

int64_t configure_threads(int64_t threads) {
  fused::use_single_threaded_blas();
  fused::keep_freed_memory_in_heap();
  const int64_t n = threads > 0 ? threads : std::max<int64_t>(1, std::thread::hardware_concurrency());
  torch::set_num_threads(static_cast<int>(n));
  return n;
}

torch::Tensor weighted_mse(const torch::Tensor& prediction, const torch::Tensor& targets, const torch::Tensor& mask) {
  // sum w (y - t)^2 / sum w; a batch whose weights are all zero contributes nothing.
  return (mask * (prediction - targets).pow(2)).sum() / mask.sum().clamp_min(1e-12);
}

double evaluate_mse(SequenceModel& model, const std::vector<Batch>& set, int64_t readout_steps) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  double sum = 0, weight = 0;
  const auto dtype = model->readout->weight.scalar_type();
  for (const auto& batch : set) {
    const auto out = model->forward(batch.inputs.to(dtype), readout_steps);
    const auto error = (out - batch.targets.to(dtype)).pow(2).to(torch::kFloat64);
    if (batch.mask.defined()) {
      const auto w = batch.mask.to(torch::kFloat64);
      sum += (w * error).sum().item<double>();
      weight += w.sum().item<double>();
    } else {
      sum += error.sum().item<double>();
      weight += static_cast<double>(batch.targets.numel());
    }
  }
  model->train(was_training);
  return sum / weight;
}

double chance_mse(const std::vector<Batch>& set) {
  std::vector<torch::Tensor> targets, weights;
  for (const auto& b : set) {
    targets.push_back(b.targets.to(torch::kFloat64).flatten());
    weights.push_back(b.mask.defined() ? b.mask.to(torch::kFloat64).flatten() : torch::ones_like(targets.back()));
  }
  const auto all = torch::cat(targets), w = torch::cat(weights);
  const auto mean = (w * all).sum() / w.sum();
  return ((w * (all - mean).pow(2)).sum() / w.sum()).item<double>();
}

int64_t evaluation_batch_size(int64_t training_batch, int64_t length) {
  const int64_t steps_per_batch = int64_t{1} << 19;
  return std::max(training_batch, std::min<int64_t>(500, steps_per_batch / std::max<int64_t>(length, 1)));
}

SupervisedResult train_supervised(const SupervisedProblem& problem, const TrainOptions& options,
                                  const TrainOutput& output) {
  options.validate();
  const auto start = Clock::now();
  torch::nn::Module& model = *problem.module;
  auto generator = make_generator(options.seed, 0);
  auto params = model.parameters();
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(options.learning_rate));
  const std::string best_score = "best_" + problem.score;
  const auto better = [&](double a, double b) { return problem.higher_is_better ? a > b : a < b; };

  SupervisedResult result;
  result.best_score = problem.higher_is_better ? -std::numeric_limits<double>::infinity()
                                               : std::numeric_limits<double>::infinity();
  auto best_params = snapshot(params);
  int64_t validations_without_improvement = 0, loss_count = 0, first_step = 1;
  double loss_sum = 0, last_validation = NAN;
  DivergenceWatch divergence(options.learning_rate);

  Checkpointer checkpoints(output, model, optimizer, &generator);
  if (const TrainingState* resumed = checkpoints.restore()) {
    first_step = resumed->step + 1;
    result.resumed_from = resumed->step;
    best_params = snapshot(resumed->best_params);
    result.skipped_updates = resumed->integer("skipped_updates");
    result.best_step = resumed->integer("best_step");
    validations_without_improvement = resumed->integer("validations_without_improvement");
    loss_count = resumed->integer("loss_count");
    result.best_score = resumed->real(best_score);
    loss_sum = resumed->real("loss_sum");
    last_validation = resumed->real("last_validation");
    result.earlier_seconds = resumed->real("elapsed_s");
    // (regression checkpoints written before the loops were merged have no training_seconds)
    if (resumed->reals.count("training_seconds")) result.training_seconds = resumed->real("training_seconds");
    divergence.restore(resumed->divergence);
    if (problem.restore_state) problem.restore_state(*resumed);
  }
  const auto elapsed = [&] { return result.earlier_seconds + seconds_since(start); };
  const auto fill = [&](TrainingState& s) {
    s.best_params = best_params;
    s.integers = {{"skipped_updates", result.skipped_updates},
                  {"best_step", result.best_step},
                  {"validations_without_improvement", validations_without_improvement},
                  {"loss_count", loss_count}};
    s.reals = {{best_score, result.best_score},
               {"loss_sum", loss_sum},
               {"last_validation", last_validation},
               {"training_seconds", result.training_seconds},
               {"elapsed_s", elapsed()}};
    s.divergence = divergence.reason();
    if (problem.save_state) problem.save_state(s);
  };
  ProgressBar progress(options.steps, options.progress, problem.progress_label);
  model.train();

  for (int64_t step = first_step; step <= options.steps; ++step) {
    const auto step_start = Clock::now();
    set_learning_rate(optimizer, scheduled_learning_rate(options, step));
    optimizer.zero_grad();
    const auto loss = problem.loss(generator);
    loss.backward();
    const double loss_value = loss.item<double>();
    divergence.observe_loss(loss_value, step);
    if (options.skip_nonfinite && (!std::isfinite(loss_value) || !gradients_finite(params))) {
      ++result.skipped_updates;  // the nBRC paper's rule: drop the whole update
    } else {
      if (options.clip_norm > 0) torch::nn::utils::clip_grad_norm_(params, options.clip_norm);
      optimizer.step();
      if (problem.after_update) problem.after_update();
      loss_sum += loss_value;
      ++loss_count;
    }
    result.training_seconds += seconds_since(step_start);
    result.steps_done = step;

    const bool validate = step % options.eval_every == 0 || step == options.steps;
    if (validate) {
      last_validation = problem.validate();
      const double mean_loss = loss_count ? loss_sum / loss_count : NAN;
      if (problem.watch) problem.watch(divergence, last_validation, mean_loss, step);
      if (better(last_validation, result.best_score)) {
        result.best_score = last_validation;
        result.best_step = step;
        best_params = snapshot(params);
        validations_without_improvement = 0;
        if (!output.weights_path.empty() && problem.save_weights) problem.save_weights(output.weights_path);
      } else {
        ++validations_without_improvement;
      }
      if (output.metrics) {
        nlohmann::json line = {{"step", step},
                               {"train_loss", mean_loss},
                               {problem.score, last_validation},
                               {best_score, result.best_score},
                               {"skipped_updates", result.skipped_updates},
                               {"elapsed_s", elapsed()}};
        if (!divergence.reason().empty()) line["diverged"] = divergence.reason();
        if (problem.metrics_fields) problem.metrics_fields(line, step, result.training_seconds);
        *output.metrics << line.dump() << "\n" << std::flush;
      }
      progress.update(step, mean_loss, last_validation);
      loss_sum = 0;
      loss_count = 0;
      if (options.patience > 0 && validations_without_improvement >= options.patience) {
        result.early_stopped = true;
        break;
      }
    } else {
      progress.update(step, loss_value, last_validation);
    }
    checkpoints.after_update(step, options.steps, validate, fill);
  }
  progress.finish();
  require_some_update(result.steps_done, result.skipped_updates, options.learning_rate);
  result.divergence = divergence.reason();
  {  // Restore the best validation weights (also the ones on disk).
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best_params[i]);
  }
  return result;
}

TrainReport train_model(SequenceModel& model, const Task& task, const TrainOptions& options,
                        const TrainOutput& output, const ValidationHook& on_validation) {
  options.validate();
  require(model->config.input_size == task.input_size && model->config.output_size == task.output_size,
          "model sizes (input " + std::to_string(model->config.input_size) + ", output " +
              std::to_string(model->config.output_size) + ") do not fit task " + task.config.name);
  const auto start = Clock::now();
  const int64_t eval_batch = evaluation_batch_size(options.batch_size, task.config.length);
  const auto validation = make_fixed_set(task, options.validation_size, eval_batch, options.seed, 1);
  const double validation_chance = chance_mse(validation);
  const auto dtype = model->readout->weight.scalar_type();

  SupervisedProblem problem;
  problem.module = model.ptr().get();
  problem.loss = [&](torch::Generator& generator) {
    const auto batch = task.sample(options.batch_size, generator);
    const auto prediction = model->forward(batch.inputs.to(dtype), task.readout_steps);
    return batch.mask.defined() ? weighted_mse(prediction, batch.targets.to(dtype), batch.mask.to(dtype))
                                : torch::mse_loss(prediction, batch.targets.to(dtype));
  };
  problem.validate = [&] { return evaluate_mse(model, validation, task.readout_steps); };
  problem.watch = [&](DivergenceWatch& watch, double validation_mse, double, int64_t step) {
    watch.observe_error("validation MSE", validation_mse, validation_chance, step);
  };
  problem.save_weights = [&](const std::string& path) { save_weights(path, model); };
  if (on_validation)
    problem.metrics_fields = [&](nlohmann::json& line, int64_t step, double) {
      const auto extra = on_validation(step);
      if (extra.is_object()) line.update(extra);
    };
  const auto loop = train_supervised(problem, options, output);

  TrainReport report;
  static_cast<LoopSummary&>(report) = loop;
  report.best_validation_mse = loop.best_score;
  const auto test = make_fixed_set(task, options.test_size, eval_batch, options.seed, 2);
  report.test_mse = evaluate_mse(model, test, task.readout_steps);
  report.chance_mse = chance_mse(test);
  report.wall_seconds = loop.earlier_seconds + seconds_since(start);
  return report;
}

}  // namespace neurocell
