#pragma once
// The files of a run folder (runs/run_folder.h says what each kind of run writes), the
// atomic JSON writer, and a SequenceModel's weights by parameter name.
#include <nlohmann/json_fwd.hpp>

#include <string>

#include "nn/model.h"

namespace neurocell {

std::string config_path(const std::string& dir);
std::string metrics_path(const std::string& dir);
std::string weights_path(const std::string& dir);
std::string report_path(const std::string& dir);
std::string resume_path(const std::string& dir);  // DIR/resume.safetensors (train/resume.h)
std::string lock_path(const std::string& dir);    // DIR/.lock (runs/run_folder.h)

void write_json_atomic(const std::string& path, const nlohmann::json& json);

// Parameters by their module path ("stack.layer0.weight_ih", "readout.weight", ...).
void save_weights(const std::string& path, SequenceModel& model);
// Loads weights into a model of the right architecture; names, shapes and finiteness checked.
void load_weights(const std::string& path, SequenceModel& model);

}  // namespace neurocell
