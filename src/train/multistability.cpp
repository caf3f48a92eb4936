#include "train/multistability.h"

#include <cstdio>

#include "core/error.h"
#include "core/progress.h"

namespace neurocell {

using namespace training;

void MultistabilityConfig::validate() const {
  warmup.validate();
  if (active()) vaa.validate();
  require(every >= 0, "--vaa-every must be >= 0 (0 = never)");
}

nlohmann::json to_json(const MultistabilityConfig& c) {
  return {{"warmup", analysis::to_json(c.warmup)},
          {"vaa",
           {{"measure", c.measure},
            {"every", c.every},
            {"samples", c.vaa.samples},
            {"settle_steps", c.vaa.settle_steps},
            {"batches", c.vaa.batches},
            {"eps", c.vaa.eps},
            {"seed", c.vaa.seed}}}};
}

MultistabilityConfig multistability_config_from_json(const nlohmann::json& j) {
  MultistabilityConfig c;
  try {
    if (j.contains("warmup")) c.warmup = analysis::warmup_options_from_json(j.at("warmup"));
    if (j.contains("vaa")) {
      const auto& v = j.at("vaa");
      c.measure = v.value("measure", c.measure);
      c.every = v.value("every", c.every);
      c.vaa.samples = v.value("samples", c.vaa.samples);
      c.vaa.settle_steps = v.value("settle_steps", c.vaa.settle_steps);
      c.vaa.batches = v.value("batches", c.vaa.batches);
      c.vaa.eps = v.value("eps", c.vaa.eps);
      c.vaa.seed = v.value("seed", c.vaa.seed);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("multistability options: ") + e.what());
  }
  c.validate();
  return c;
}

analysis::InputSampler training_inputs(const Task& task) {
  return [&task](int64_t n, torch::Generator& generator) { return task.sample(n, generator).inputs; };
}

nlohmann::json measure_and_log_vaa(SequenceModel& model, const analysis::InputSampler& inputs,
                                   const analysis::VaaOptions& options, const std::string& stage, int64_t step,
                                   std::ostream* metrics) {
  const auto start = Clock::now();
  const auto result = analysis::measure_vaa(model, inputs, options);
  nlohmann::json line = {{"phase", "vaa"},
                         {"stage", stage},
                         {"step", step},
                         {"vaa", result.vaa},
                         {"attractors", result.attractors},
                         {"samples", options.samples},
                         {"settle_steps", options.settle_steps},
                         {"batches", options.batches},
                         {"wall_time_s", seconds_since(start)}};
  if (metrics) *metrics << line.dump() << "\n" << std::flush;
  return line;
}

nlohmann::json run_warmup(SequenceModel& model, const analysis::InputSampler& inputs,
                          const analysis::WarmupOptions& options, std::ostream* metrics, bool progress) {
  const auto start = Clock::now();
  ProgressBar bar(options.steps, progress, "mean VAA*", "warmup loss");
  int64_t skipped = 0;
  analysis::WarmupStep last;
  analysis::warmup(model, inputs, options, [&](const analysis::WarmupStep& s) {
    skipped += s.skipped;
    last = s;
    double mean_star = 0;
    for (double v : s.vaa_star) mean_star += v / static_cast<double>(s.vaa_star.size());
    if (metrics)
      *metrics << nlohmann::json{{"phase", "warmup"},       {"step", s.step},         {"settle_steps", s.settle_steps},
                                 {"loss", s.loss},          {"vaa_star", s.vaa_star}, {"skipped", s.skipped},
                                 {"elapsed_s", seconds_since(start)}}
                      .dump()
               << "\n";
    bar.update(s.step, s.loss, mean_star);
  });
  bar.finish();
  if (metrics) metrics->flush();
  return {{"steps", options.steps},
          {"skipped", skipped},
          {"loss", last.loss},
          {"vaa_star", last.vaa_star},
          {"partial", analysis::warmup_is_partial(model)},
          {"wall_time_s", seconds_since(start)}};
}

MultistabilityPhases::MultistabilityPhases(SequenceModel& model, analysis::InputSampler inputs,
                                           MultistabilityConfig config, bool progress)
    : model_(model), inputs_(std::move(inputs)), config_(std::move(config)) {
  config_.vaa.progress = progress;  // long measurements show a bar
  run_state_ = {{"vaa", vaa_}, {"warmup", warmup_}};
}

void MultistabilityPhases::before_training(const nlohmann::json* resumed, std::ostream& metrics) {
  if (resumed) {
    vaa_ = resumed->value("vaa", nlohmann::json::object());
    warmup_ = resumed->value("warmup", nlohmann::json());
  } else {
    if (measures()) vaa_["initial"] = measure_and_log_vaa(model_, inputs_, config_.vaa, "initial", 0, &metrics);
    if (config_.warmup.steps > 0) {
      warmup_ = run_warmup(model_, inputs_, config_.warmup, &metrics, config_.vaa.progress);
      vaa_["after_warmup"] = measure_and_log_vaa(model_, inputs_, config_.vaa, "after_warmup", 0, &metrics);
    }
  }
  run_state_ = {{"vaa", vaa_}, {"warmup", warmup_}};
}

std::function<nlohmann::json(int64_t)> MultistabilityPhases::validation_hook() {
  if (config_.every <= 0) return {};
  return [this](int64_t step) -> nlohmann::json {
    if (step % config_.every != 0) return nullptr;
    const auto line = measure_and_log_vaa(model_, inputs_, config_.vaa, "training", step, nullptr);
    return {{"vaa", line["vaa"]}, {"attractors", line["attractors"]}};
  };
}

void MultistabilityPhases::after_training(int64_t steps_done, std::ostream& metrics) {
  if (measures()) vaa_["final"] = measure_and_log_vaa(model_, inputs_, config_.vaa, "final", steps_done, &metrics);
}

void MultistabilityPhases::add_to_report(nlohmann::json& report) const {
  if (measures()) report["vaa"] = vaa_;
  if (config_.warmup.steps > 0) report["warmup"] = warmup_;
}

std::string MultistabilityPhases::summary() const {
  if (!measures() || !vaa_.contains("initial") || !vaa_.contains("final")) return "";
  const double before = vaa_["initial"]["vaa"].get<double>(), after = vaa_["final"]["vaa"].get<double>();
  char text[128];
  if (vaa_.contains("after_warmup"))
    std::snprintf(text, sizeof text, " | VAA %.3f initial, %.3f after warmup, %.3f trained", before,
                  vaa_["after_warmup"]["vaa"].get<double>(), after);
  else
    std::snprintf(text, sizeof text, " | VAA %.3f initial, %.3f trained", before, after);
  return text;
}

}  // namespace neurocell
