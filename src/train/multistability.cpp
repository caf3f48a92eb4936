#include "train/multistability.h"

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

nlohmann::json measure_and_log_vaa(SequenceModel& model, const Task& task, const analysis::VaaOptions& options,
                                   const std::string& stage, int64_t step, std::ostream* metrics) {
  const auto start = Clock::now();
  const auto result = analysis::measure_vaa(model, training_inputs(task), options);
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

nlohmann::json run_warmup(SequenceModel& model, const Task& task, const analysis::WarmupOptions& options,
                          std::ostream* metrics, bool progress) {
  const auto start = Clock::now();
  ProgressBar bar(options.steps, progress, "mean VAA*", "warmup loss");
  int64_t skipped = 0;
  analysis::WarmupStep last;
  analysis::warmup(model, training_inputs(task), options, [&](const analysis::WarmupStep& s) {
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

}  // namespace neurocell
