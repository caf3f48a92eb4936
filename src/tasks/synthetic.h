#pragma once
// Synthetic long-memory tasks of tasks.md, generated on the fly from a seed.
// A batch holds inputs (T, B, I) and the targets of the last K steps (K, B, O): the model's
// readout is applied to its last K states and the loss is the MSE on those steps only
// (the mask of the denoising task).
#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace neurocell {

struct Batch {
  torch::Tensor inputs;   // (T, B, I)
  torch::Tensor targets;  // (K, B, O)
  torch::Tensor mask;     // (K, B, O) loss weights >= 0 (your own data's mask), or undefined: all count
};

struct TaskConfig {
  std::string name = "copy-first-input";  // copy-first-input | copy-single-value | copy-single-bit | denoising | denoising-2020
  int64_t length = 100;                   // T (denoising-2020: real steps, plus one cue step)
  int64_t no_end = 0;                     // denoising: no relevant value in the last N steps
  // denoising: the cue's index is T - cue_offset. 5: on the first output step, as both authors'
  // per-step versions; 6: one step before it, what neurocell generated until 2026-12 (the
  // run configs written then have no "cue_offset" and read as 6, so they evaluate unchanged).
  int64_t cue_offset = 5;
  void validate() const;
};
nlohmann::json to_json(const TaskConfig& config);
TaskConfig task_config_from_json(const nlohmann::json& json);
const std::vector<std::string>& task_names();

class Task {
 public:
  virtual ~Task() = default;
  // A batch drawn from `generator` (deterministic for a given generator state).
  virtual Batch sample(int64_t batch_size, torch::Generator& generator) const = 0;
  // The fixed validation (stream 1) and test (stream 2) sets: by default n samples drawn in
  // batches from make_generator(seed, stream); a task over a data file returns its own
  // splits instead (io/dataset.h).
  virtual std::vector<Batch> fixed_set(int64_t n, int64_t batch_size, uint64_t seed, uint64_t stream) const;
  int64_t input_size = 1, output_size = 1;
  int64_t readout_steps = 1;  // K
  TaskConfig config;
};

std::unique_ptr<Task> make_task(const TaskConfig& config);

// A CPU generator seeded with `seed`, for stream `stream` (0 = training, 1 = validation,
// 2 = test): the splits never share samples and each is reproducible on its own.
torch::Generator make_generator(uint64_t seed, uint64_t stream);

// A fixed set of n samples in batches of at most batch_size (validation and test sets).
std::vector<Batch> make_fixed_set(const Task& task, int64_t n, int64_t batch_size,
                                  uint64_t seed, uint64_t stream);

}  // namespace neurocell
