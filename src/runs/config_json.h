#pragma once
// The one reader of a run folder's config.json as JSON, for the loaders of every run kind
// (runs/*.cpp). Kept out of run_folder.h so that only those files depend on it.
#include <nlohmann/json.hpp>

#include <string>

#include "core/error.h"
#include "train/checkpoint.h"

namespace neurocell {

// DIR/config.json parsed; throws Error naming the file when it is missing or not valid JSON.
nlohmann::json read_run_config_json(const std::string& dir);

// The config of one kind from DIR/config.json by from_json, its errors prefixed with the file.
template <class FromJson>
auto load_run_config_of(const std::string& dir, FromJson from_json) {
  const auto json = read_run_config_json(dir);
  try {
    return from_json(json);
  } catch (const Error& e) {
    throw Error("run config '" + config_path(dir) + "': " + e.what());
  }
}

}  // namespace neurocell
