#include "tasks/synthetic.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/error.h"

namespace neurocell {

namespace {

constexpr int64_t kRelevantValues = 5;  // denoising: 5 values to recall

// copy-first-input: x_1..x_T ~ N(0, 1); target x_1, read from the last state.
class CopyFirstInput : public Task {
 public:
  Batch sample(int64_t batch, torch::Generator& gen) const override {
    auto x = torch::randn({config.length, batch, 1}, gen);
    auto target = x.narrow(0, 0, 1).clone();  // (1, B, 1)
    return {x, target, {}};
  }
};

// Single-value variant: zeros except one N(0, 1) value at a uniform position in [0, T-2]
// (0-based); target that value. The single-bit variant (the project's, for the analog-noise
// study: a memory whose recall is right or wrong) draws the value from {-1, +1} instead.
class CopySingleValue : public Task {
 public:
  explicit CopySingleValue(bool bit) : bit_(bit) {}
  Batch sample(int64_t batch, torch::Generator& gen) const override {
    const int64_t T = config.length;
    auto x = torch::zeros({T, batch, 1});
    auto values = bit_ ? torch::randint(0, 2, {batch}, gen, torch::kFloat32).mul_(2).sub_(1) : torch::randn({batch}, gen);
    auto positions = torch::randint(0, T - 1, {batch}, gen, torch::kLong);
    auto pos = positions.accessor<int64_t, 1>();
    auto xa = x.accessor<float, 3>();
    auto va = values.accessor<float, 1>();
    for (int64_t b = 0; b < batch; ++b) xa[pos[b]][b][0] = va[b];
    return {x, values.view({1, batch, 1}), {}};
  }

 private:
  bool bit_;
};

// Denoising: channel 0 is N(0, 1) noise at every step; channel 1 marks 5 relevant steps
// with 1 and the cue with -1 at index T - cue_offset: T-5, the first of the 5 output steps, as
// in the authors' per-step versions (glambrechts/warmup datasets.py:117-145, inputs[-5]; BRC
// 2021 datasets.py:105-121). The 5 relevant steps are drawn without replacement among the
// first min(T - N, cue) steps, so a marker is never both relevant and cue. The model must
// output the 5 relevant values, in time order, on the last 5 steps.
class Denoising : public Task {
 public:
  Batch sample(int64_t batch, torch::Generator& gen) const override {
    const int64_t T = config.length;
    const int64_t cue = T - config.cue_offset;  // 0-based
    const int64_t window = std::min(T - config.no_end, cue);
    auto x = torch::zeros({T, batch, 2});
    x.select(2, 0).copy_(torch::randn({T, batch}, gen));
    auto targets = torch::zeros({kRelevantValues, batch, 1});
    auto xa = x.accessor<float, 3>();
    auto ta = targets.accessor<float, 3>();
    for (int64_t b = 0; b < batch; ++b) {
      auto chosen = std::get<0>(torch::randperm(window, gen, torch::kLong)
                                    .narrow(0, 0, kRelevantValues)
                                    .sort());
      auto ca = chosen.accessor<int64_t, 1>();
      for (int64_t k = 0; k < kRelevantValues; ++k) {
        xa[ca[k]][b][1] = 1.0f;
        ta[k][b][0] = xa[ca[k]][b][0];
      }
      xa[cue][b][1] = -1.0f;
    }
    return {x, targets, {}};
  }
};

// The BRC paper's 2020 denoising (nvecoven/BRC@e258318 benchmark2.py:43-55): L real steps
// and one extra cue step (T = L + 1). Channel 0 is N(0, 1) on the real steps, 0 on the cue
// step; channel 1 is 0 on the 5 relevant steps, -1 on the other real steps and +1 on the cue
// step. The relevant steps are drawn among the first L - N; the 5 values, in time order, are
// read at once from the final state (one readout step of 5 outputs).
class Denoising2020 : public Task {
 public:
  Batch sample(int64_t batch, torch::Generator& gen) const override {
    const int64_t L = config.length, T = L + 1;
    auto x = torch::zeros({T, batch, 2});
    x.select(2, 0).narrow(0, 0, L).copy_(torch::randn({L, batch}, gen));
    x.select(2, 1).narrow(0, 0, L).fill_(-1.0f);
    x.select(2, 1)[L].fill_(1.0f);
    auto targets = torch::zeros({1, batch, kRelevantValues});
    auto xa = x.accessor<float, 3>();
    auto ta = targets.accessor<float, 3>();
    for (int64_t b = 0; b < batch; ++b) {
      auto chosen = std::get<0>(torch::randperm(L - config.no_end, gen, torch::kLong)
                                    .narrow(0, 0, kRelevantValues)
                                    .sort());
      auto ca = chosen.accessor<int64_t, 1>();
      for (int64_t k = 0; k < kRelevantValues; ++k) {
        xa[ca[k]][b][1] = 0.0f;
        ta[0][b][k] = xa[ca[k]][b][0];
      }
    }
    return {x, targets, {}};
  }
};

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names = {"copy-first-input", "copy-single-value",
                                                 "copy-single-bit", "denoising", "denoising-2020"};
  return names;
}

void TaskConfig::validate() const {
  bool known = false;
  std::string list;
  for (const auto& n : task_names()) {
    known |= (n == name);
    list += (list.empty() ? "" : ", ") + n;
  }
  require(known, "unknown task '" + name + "' (valid: " + list + ")");
  require(length <= 10'000'000, "--length " + std::to_string(length) + " is implausibly large");
  if (name == "copy-first-input") {
    require(length >= 1, "--length must be >= 1 for copy-first-input (got " + std::to_string(length) + ")");
  } else if (name == "copy-single-value" || name == "copy-single-bit") {
    require(length >= 2, "--length must be >= 2 for " + name + " (got " + std::to_string(length) + ")");
  } else if (name == "denoising-2020") {
    require(no_end >= 0, "--no-end must be >= 0 (got " + std::to_string(no_end) + ")");
    require(length - no_end >= kRelevantValues,
            "denoising-2020 needs room for 5 relevant steps before the no-end window: use --length >= no_end + 5 "
            "(got length " + std::to_string(length) + ", no-end " + std::to_string(no_end) + ")");
  } else {
    require(no_end >= 0, "--no-end must be >= 0 (got " + std::to_string(no_end) + ")");
    require(cue_offset == 5 || cue_offset == 6, "denoising: cue_offset must be 5 or 6 (got " +
                                                    std::to_string(cue_offset) + ")");
    require(length - no_end >= kRelevantValues && length - cue_offset >= kRelevantValues,
            "denoising needs room for 5 relevant steps before the cue and the no-end window: "
            "use --length >= max(10, no_end + 5) (got length " + std::to_string(length) +
                ", no-end " + std::to_string(no_end) + ")");
  }
}

nlohmann::json to_json(const TaskConfig& c) {
  nlohmann::json j = {{"name", c.name}, {"length", c.length}, {"no_end", c.no_end}};
  if (c.name == "denoising") j["cue_offset"] = c.cue_offset;
  return j;
}

TaskConfig task_config_from_json(const nlohmann::json& j) {
  TaskConfig c;
  try {
    c.name = j.at("name").get<std::string>();
    c.length = j.at("length").get<int64_t>();
    c.no_end = j.value("no_end", int64_t{0});
    // A denoising run config without it was written before the cue moved to T-5 (see TaskConfig).
    if (c.name == "denoising") c.cue_offset = j.value("cue_offset", int64_t{6});
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("task config: ") + e.what());
  }
  c.validate();
  return c;
}

std::unique_ptr<Task> make_task(const TaskConfig& config) {
  config.validate();
  std::unique_ptr<Task> task;
  if (config.name == "copy-first-input") {
    task = std::make_unique<CopyFirstInput>();
  } else if (config.name == "copy-single-value" || config.name == "copy-single-bit") {
    task = std::make_unique<CopySingleValue>(config.name == "copy-single-bit");
  } else if (config.name == "denoising-2020") {
    task = std::make_unique<Denoising2020>();
    task->input_size = 2;
    task->output_size = kRelevantValues;
  } else {
    task = std::make_unique<Denoising>();
    task->input_size = 2;
    task->readout_steps = kRelevantValues;
  }
  task->config = config;
  return task;
}

torch::Generator make_generator(uint64_t seed, uint64_t stream) {
  return at::make_generator<at::CPUGeneratorImpl>(splitmix64(seed * 4 + stream));
}

std::vector<Batch> Task::fixed_set(int64_t n, int64_t batch_size, uint64_t seed, uint64_t stream) const {
  require(n >= 1 && batch_size >= 1, "a data set needs at least one sample and a batch size >= 1");
  auto gen = make_generator(seed, stream);
  std::vector<Batch> batches;
  for (int64_t done = 0; done < n; done += batch_size) batches.push_back(sample(std::min(batch_size, n - done), gen));
  return batches;
}

std::vector<Batch> make_fixed_set(const Task& task, int64_t n, int64_t batch_size, uint64_t seed,
                                  uint64_t stream) {
  return task.fixed_set(n, batch_size, seed, stream);
}

}  // namespace neurocell
