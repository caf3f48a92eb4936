#pragma once
// Your own data as a task: sequences and their targets in a NumPy .npz file (docs/tasks.md,
// "Your own data"), for `neurocell train --data FILE.npz`.
//
//   inputs        (N, T, I) float32/float64, or (T, N, I) with layout "TNI"
//   targets       (N, O) or (N, K, O) float: regression of the last K states' readout (K = 1
//                 for (N, O)); or
//   labels        (N) integers 0..C-1: classification of the last state's readout (C classes)
//   mask          optional, with targets: loss weights >= 0 of the shape of targets, or of
//                 targets without its last axis (one weight for all O outputs)
//   val_inputs, val_targets | val_labels, val_mask     optional validation split (else
//                                            validation_fraction of the rows, drawn by split_seed)
//   test_inputs, test_targets | test_labels, test_mask optional test split (else validation's)
// Any other array is refused. Inputs are used as float32.
#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "tasks/synthetic.h"

namespace neurocell {

struct DatasetConfig {
  std::string path;                  // the .npz file
  std::string layout = "NTI";        // of every *inputs array: NTI = (N, T, I), TNI = (T, N, I)
  double validation_fraction = 0.1;  // without val_* arrays: this fraction of the rows validates
  uint64_t split_seed = 1;           // ... drawn with this seed
  // The file as trained on (set by load_dataset when 0): eval refuses a file that changed.
  uint32_t crc32 = 0;
  int64_t bytes = 0;
  void validate() const;             // throws Error naming the bad field
};
nlohmann::json to_json(const DatasetConfig& config);
DatasetConfig dataset_config_from_json(const nlohmann::json& json);

// The arrays of a data file, split, as float32 (labels int64), rows first.
struct Dataset {
  bool classification = false;
  int64_t input_size = 0, length = 0;  // I, T
  int64_t output_size = 0;             // O (regression) or C classes (classification)
  int64_t readout_steps = 1;           // K
  torch::Tensor train_inputs, validation_inputs, test_inputs;     // (N, T, I)
  torch::Tensor train_targets, validation_targets, test_targets;  // (N, K, O) float or (N) int64
  torch::Tensor train_mask, validation_mask, test_mask;           // (N, K, O) weights, or undefined
  bool test_is_validation = false;     // the file has no test_* arrays
};
// Reads and checks the file (shapes, dtypes, finiteness, labels in range, unknown arrays);
// fills config.crc32/bytes when 0, else refuses a file whose checksum differs.
Dataset load_dataset(DatasetConfig& config);

// A regression dataset as a Task: training batches drawn with replacement from the training
// rows, fixed_set() stream 1 = the validation split, stream 2 = the test split, whole.
std::unique_ptr<Task> make_dataset_task(const Dataset& dataset);

}  // namespace neurocell
