#include "runs/config_json.h"

#include "io/files.h"

namespace neurocell {

nlohmann::json read_run_config_json(const std::string& dir) {
  return parse_run_config_text(read_file(config_path(dir), "run config (config.json)"), config_path(dir));
}

}  // namespace neurocell
