#pragma once
// Dataset runs (RunKind::dataset): a SequenceModel trained on your own .npz file
// (io/dataset.h, `neurocell train --data FILE.npz`), as regression (targets: MSE, the
// regression loop) or classification (labels: cross-entropy, the classifier loop), in the
// same run folder as every other run.
#include <string>

#include "io/dataset.h"
#include "runs/run_folder.h"

namespace neurocell {

struct DatasetRunConfig {
  ModelConfig model;  // input_size and output_size come from the file
  DatasetConfig data;
  TrainOptions train;  // validation_size and test_size are set to the splits' sizes
};
nlohmann::json to_json(const DatasetRunConfig& config);
DatasetRunConfig dataset_run_config_from_json(const nlohmann::json& json);
DatasetRunConfig load_dataset_run_config(const std::string& dir);
// "gru 2x100 on data.npz (classification, 10 classes, T=28)"
std::string describe(const DatasetRunConfig& config, const Dataset& data);

namespace runs {
RunResult train(DatasetRunConfig config, const std::string& out_dir, ExistingRun existing);
// The run's test split (its validation split when the file has none) scored again.
RunResult eval_dataset(const std::string& dir);
}  // namespace runs

}  // namespace neurocell
