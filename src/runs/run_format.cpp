#include "runs/run_format.h"

#include "core/error.h"
#include "core/strict_json.h"

namespace neurocell {

nlohmann::json parse_run_config_text(const std::string& text, const std::string& path) {
  const std::string what = "run config '" + path + "'";
  auto json = parse_json_strict(text, what);
  require(json.is_object(), what + " is not a JSON object (corrupt run folder?)");
  if (json.contains("format")) {
    const auto& format = json.at("format");
    require(format.is_string() && format.get<std::string>() == kRunFormat,
            what + ": \"format\" is " + format.dump().substr(0, 60) + ", but this neurocell reads \"" + kRunFormat +
                "\" (written by another version, or corrupt)");
  }
  return json;
}

}  // namespace neurocell
