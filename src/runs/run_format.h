#pragma once
// The text of a run folder's config.json, checked before any run kind reads it. No LibTorch
// (tests/fuzz builds it alone); runs/config_json.h is the reader the loaders use.
#include <nlohmann/json.hpp>

#include <string>

namespace neurocell {

// The "format" tag every writer puts in config.json; a config without one (written before the
// tag) is still read.
inline constexpr const char* kRunFormat = "neurocell-run-1";

// `text` parsed strictly (no NUL, no trailing text), a JSON object, its "format" tag checked;
// `path` names the file in errors.
nlohmann::json parse_run_config_text(const std::string& text, const std::string& path);

}  // namespace neurocell
