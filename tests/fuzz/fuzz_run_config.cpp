// A run folder's config.json: the strict text parser and format tag (runs/run_format.h), then
// the type check every loader applies (core/strict_json.h) against the JSON a regression
// run writes for its defaults (reference_config.json, what to_json(RunConfig{}) gives).
#include "fuzz_common.h"

#include "core/error.h"
#include "core/strict_json.h"
#include "runs/run_format.h"

namespace {

const char kReference[] = R"({"format": "neurocell-run-1", "kind": "regression",
  "model": {"cell": "nbrc", "input_size": 1, "hidden_size": 100, "layers": 2, "output_size": 1,
            "double_layer": false, "orthogonal_recurrent": false, "chrono_max_length": 0, "impl": "fused"},
  "task": {"name": "copy-first-input", "length": 300, "no_end": 200},
  "train": {"steps": 1000, "batch_size": 32, "learning_rate": 0.001, "lr_schedule": "constant",
            "clip_norm": 1.0, "skip_nonfinite": true, "eval_every": 100, "validation_size": 1000,
            "test_size": 1000, "patience": 0, "seed": 1, "threads": 0},
  "multistability": {}})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto reference = nlohmann::json::parse(kReference);
  try {
    const auto json = neurocell::parse_run_config_text(fuzz_bytes(data, size), "fuzz/config.json");
    neurocell::check_json_types(json, reference, "fuzz/config.json");
  } catch (const neurocell::Error&) {
  }
  return 0;
}
