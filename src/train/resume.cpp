#include "train/resume.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"
#include "core/interrupt.h"
#include "io/files.h"
#include "io/safetensors.h"
#include "io/safetensors_header.h"

namespace neurocell {

namespace {

constexpr const char* kFormat = "neurocell-resume-1";

std::string adam_key(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

torch::Generator& default_generator() {
  return const_cast<torch::Generator&>(at::detail::getDefaultCPUGenerator());
}

}  // namespace

double TrainingState::real(const std::string& name) const {
  const auto it = reals.find(name);
  require(it != reals.end(), "resume checkpoint lacks the counter '" + name + "' (written by another neurocell?)");
  return it->second;
}

int64_t TrainingState::integer(const std::string& name) const {
  const auto it = integers.find(name);
  require(it != integers.end(), "resume checkpoint lacks the counter '" + name + "' (written by another neurocell?)");
  return it->second;
}

void save_training_state(const std::string& path, const TrainingState& s) {
  NamedTensors tensors;
  for (size_t i = 0; i < s.params.size(); ++i) tensors.emplace_back("param." + std::to_string(i), s.params[i]);
  for (size_t i = 0; i < s.best_params.size(); ++i) tensors.emplace_back("best." + std::to_string(i), s.best_params[i]);
  for (size_t i = 0; i < s.exp_avg.size(); ++i)
    if (s.exp_avg[i].defined()) {
      tensors.emplace_back("adam.exp_avg." + std::to_string(i), s.exp_avg[i]);
      tensors.emplace_back("adam.exp_avg_sq." + std::to_string(i), s.exp_avg_sq[i]);
    }
  if (s.loop_generator.defined()) tensors.emplace_back("rng.loop", s.loop_generator);
  tensors.emplace_back("rng.default", s.default_generator);
  std::vector<double> reals;
  nlohmann::json real_names = nlohmann::json::array();
  for (const auto& [name, value] : s.reals) {
    real_names.push_back(name);
    reals.push_back(value);
  }
  tensors.emplace_back("reals", torch::tensor(reals, torch::kFloat64));
  for (const auto& [name, tensor] : s.extra) tensors.emplace_back("extra." + name, tensor);
  const nlohmann::json state = {{"step", s.step},
                                {"names", s.names},
                                {"adam_steps", s.adam_steps},
                                {"reals", real_names},
                                {"integers", s.integers},
                                {"extra", [&] {
                                   nlohmann::json names = nlohmann::json::array();
                                   for (const auto& item : s.extra) names.push_back(item.first);
                                   return names;
                                 }()},
                                {"divergence", s.divergence},
                                {"run", s.run},
                                {"metrics_bytes", s.metrics_bytes}};
  write_safetensors(path, tensors, {{"format", kFormat}, {"state", state.dump()}});
}

TrainingState load_training_state(const std::string& path) {
  const auto stored = read_safetensors(path);
  std::map<std::string, torch::Tensor> by_name(stored.begin(), stored.end());
  const auto tensor = [&](const std::string& name) {
    const auto it = by_name.find(name);
    require(it != by_name.end(), "resume checkpoint '" + path + "' lacks tensor '" + name + "' (corrupt file?)");
    return it->second;
  };
  // The state JSON lives in the metadata, which read_safetensors does not return.
  const auto header = parse_safetensors_header(read_file(path, "resume checkpoint"), "'" + path + "'");
  const auto format = header.metadata.find("format"), state_text = header.metadata.find("state");
  require(format != header.metadata.end() && format->second == kFormat && state_text != header.metadata.end(),
          "resume checkpoint '" + path + "' is not in format " + kFormat + ": train again with --overwrite");
  try {
    const auto state = nlohmann::json::parse(state_text->second);
    TrainingState s;
    s.step = state.at("step").get<int64_t>();
    s.names = state.at("names").get<std::vector<std::string>>();
    s.adam_steps = state.at("adam_steps").get<std::vector<int64_t>>();
    s.integers = state.at("integers").get<std::map<std::string, int64_t>>();
    s.run = state.at("run");
    s.divergence = state.at("divergence").get<std::string>();
    s.metrics_bytes = state.at("metrics_bytes").get<uint64_t>();
    require(s.adam_steps.size() == s.names.size(), "resume checkpoint '" + path + "': adam_steps do not fit names");
    const bool has_best = by_name.count("best.0") > 0;
    for (size_t i = 0; i < s.names.size(); ++i) {
      s.params.push_back(tensor("param." + std::to_string(i)));
      if (has_best) s.best_params.push_back(tensor("best." + std::to_string(i)));
      const bool has_adam = s.adam_steps[i] >= 0;
      s.exp_avg.push_back(has_adam ? tensor("adam.exp_avg." + std::to_string(i)) : torch::Tensor());
      s.exp_avg_sq.push_back(has_adam ? tensor("adam.exp_avg_sq." + std::to_string(i)) : torch::Tensor());
    }
    if (by_name.count("rng.loop")) s.loop_generator = tensor("rng.loop");
    s.default_generator = tensor("rng.default");
    const auto names = state.at("reals").get<std::vector<std::string>>();
    const auto reals = tensor("reals");
    require(reals.scalar_type() == torch::kFloat64 && reals.numel() == static_cast<int64_t>(names.size()),
            "resume checkpoint '" + path + "': the counters do not fit their names");
    for (size_t i = 0; i < names.size(); ++i) s.reals[names[i]] = reals[static_cast<int64_t>(i)].item<double>();
    for (const auto& name : state.at("extra").get<std::vector<std::string>>()) s.extra[name] = tensor("extra." + name);
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw Error("resume checkpoint '" + path + "' has a corrupt state (" + e.what() + "): train again with --overwrite");
  }
}

torch::Tensor text_tensor(const std::string& text) {
  return torch::tensor(std::vector<int64_t>(text.begin(), text.end()), torch::kInt64).to(torch::kUInt8);
}

std::string tensor_text(const torch::Tensor& t) {
  const auto bytes = t.to(torch::kUInt8).contiguous();
  return std::string(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), static_cast<size_t>(bytes.numel()));
}

Checkpointer::Checkpointer(const TrainOutput& output, torch::nn::Module& module, torch::optim::Adam& optimizer,
                           torch::Generator* generator)
    : Checkpointer(output, module, std::vector<torch::optim::Adam*>{&optimizer}, generator) {}

Checkpointer::Checkpointer(const TrainOutput& output, torch::nn::Module& module,
                           std::vector<torch::optim::Adam*> optimizers, torch::Generator* generator)
    : output_(output), module_(module), optimizers_(std::move(optimizers)), generator_(generator) {
  require(!optimizers_.empty(), "internal: a checkpointer needs an optimiser");
}

namespace {

// The optimiser whose parameter groups hold p (the first one when none does: Adam then
// keeps the state under p's key, unused, as a single optimiser would).
torch::optim::Adam& owner_of(const std::vector<torch::optim::Adam*>& optimizers, const torch::Tensor& p) {
  for (auto* optimizer : optimizers)
    for (const auto& group : optimizer->param_groups())
      for (const auto& q : group.params())
        if (q.unsafeGetTensorImpl() == p.unsafeGetTensorImpl()) return *optimizer;
  return *optimizers.front();
}

}  // namespace

const TrainingState* Checkpointer::restore() {
  const TrainingState* s = output_.resume_from;
  if (!s) return nullptr;
  const auto named = module_.named_parameters();
  std::vector<std::string> names;
  for (const auto& item : named) names.push_back(item.key());
  require(names == s->names, "the resume checkpoint holds another model's parameters: train again with --overwrite");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < named.size(); ++i) {
    auto p = named[i].value();
    require(p.sizes() == s->params[i].sizes() && p.scalar_type() == s->params[i].scalar_type(),
            "the resume checkpoint's '" + names[i] + "' has shape " + c10::str(s->params[i].sizes()) +
                ", the model's " + c10::str(p.sizes()) + ": train again with --overwrite");
    p.copy_(s->params[i]);
    if (s->adam_steps[i] < 0) continue;
    auto adam = std::make_unique<torch::optim::AdamParamState>();
    adam->step(s->adam_steps[i]);
    adam->exp_avg(s->exp_avg[i].clone());
    adam->exp_avg_sq(s->exp_avg_sq[i].clone());
    owner_of(optimizers_, p).state()[adam_key(p)] = std::move(adam);
  }
  if (generator_) {
    require(s->loop_generator.defined(), "the resume checkpoint has no generator state (corrupt file?)");
    generator_->set_state(s->loop_generator);
  }
  default_generator().set_state(s->default_generator);
  return s;
}

void Checkpointer::after_update(int64_t step, int64_t steps, bool validated,
                                const std::function<void(TrainingState&)>& fill) {
  const int signal = stop_signal();
  if (signal == 0) {
    if (output_.resume_path.empty() || step >= steps) return;  // the last update ends the run anyway
    const bool due = output_.checkpoint_every > 0 ? step % output_.checkpoint_every == 0 : validated;
    if (due) write(step, fill);
    return;
  }
  if (output_.resume_path.empty())
    throw Interrupted(std::string("interrupted by ") + signal_name(signal) + " after update " + std::to_string(step) +
                          " of " + std::to_string(steps) + " (nothing saved: the training has no run folder)",
                      signal);
  write(step, fill);
  throw Interrupted(std::string("interrupted by ") + signal_name(signal) + " after update " + std::to_string(step) +
                        " of " + std::to_string(steps) + ": the training state is saved in " + output_.resume_path +
                        "; continue it with the same command and --resume",
                    signal);
}

void Checkpointer::write(int64_t step, const std::function<void(TrainingState&)>& fill) {
  TrainingState s;
  s.step = step;
  for (const auto& item : module_.named_parameters()) {
    const auto& p = item.value();
    s.names.push_back(item.key());
    s.params.push_back(p.detach());
    const auto& state = owner_of(optimizers_, p).state();
    const auto it = state.find(adam_key(p));
    if (it == state.end()) {
      s.exp_avg.emplace_back();
      s.exp_avg_sq.emplace_back();
      s.adam_steps.push_back(-1);
      continue;
    }
    const auto& adam = static_cast<const torch::optim::AdamParamState&>(*it->second);
    require(!adam.max_exp_avg_sq().defined(), "resume checkpoints do not support Adam's amsgrad");
    s.exp_avg.push_back(adam.exp_avg());
    s.exp_avg_sq.push_back(adam.exp_avg_sq());
    s.adam_steps.push_back(adam.step());
  }
  if (generator_) s.loop_generator = generator_->get_state();
  s.default_generator = default_generator().get_state();
  fill(s);
  if (output_.run_state) s.run = *output_.run_state;
  if (output_.metrics) {
    output_.metrics->flush();
    s.metrics_bytes = static_cast<uint64_t>(output_.metrics->tellp());
  }
  require(s.best_params.empty() || s.best_params.size() == s.params.size(),
          "internal: a checkpoint holds the best weights of every parameter or of none");
  save_training_state(output_.resume_path, s);
}

}  // namespace neurocell
