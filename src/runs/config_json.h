#pragma once
// The one reader of a run folder's config.json as JSON, for the loaders of every run kind
// (runs/*.cpp). Kept out of run_folder.h so that only those files depend on it.
#include <nlohmann/json.hpp>

#include <string>

#include "core/error.h"
#include "core/strict_json.h"
#include "runs/run_format.h"
#include "train/checkpoint.h"

namespace neurocell {

// DIR/config.json parsed; throws Error naming the file when it is missing or not valid JSON.
nlohmann::json read_run_config_json(const std::string& dir);

// The config of one kind from DIR/config.json by from_json, its errors prefixed with the file.
// Before from_json sees it, every key's type is checked against what to_json writes for a
// default config (so "hidden_size": 8.5 is refused, not read as 8); nlohmann's exception
// tags never reach the message.
template <class FromJson>
auto load_run_config_of(const std::string& dir, FromJson from_json) {
  const auto json = read_run_config_json(dir);
  using Config = decltype(from_json(json));
  const std::string what = "run config '" + config_path(dir) + "'";
  check_json_types(json, to_json(Config{}), what);
  try {
    return from_json(json);
  } catch (const Error& e) {
    throw Error(what + ": " + json_error_text(e));
  } catch (const nlohmann::json::exception& e) {
    throw Error(what + ": " + json_error_text(e));
  }
}

}  // namespace neurocell
