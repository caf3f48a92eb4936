#include "runs/runs.h"

#include <torch/torch.h>

#include "core/error.h"
#include "io/files.h"
#include "io/ncm_export.h"

namespace neurocell::runs {

RunResult eval(const std::string& dir, const EvalOptions& options) {
  switch (detect_run_kind(dir)) {
    case RunKind::spiking: return eval_spiking(dir, options.test_size);
    case RunKind::sequence_classification: return eval_sequence_classification(dir, options.test_size);
    case RunKind::tmaze:
      throw Error("'" + dir + "' is a T-maze run: its greedy evaluation at every length is in its report.json "
                  "(eval re-evaluates regression, sequence-classification and SRC runs)");
    case RunKind::regression: break;
  }
  return eval_regression(dir, options.test_size);
}

RunResult export_ncm(const std::string& dir, const std::string& out_path, const ExportOptions& options) {
  const auto& integer = options.integer;
  require(options.overwrite || !file_exists(out_path), "'" + out_path + "' exists: pass --overwrite to replace it");
  const RunKind kind = detect_run_kind(dir);
  if (kind == RunKind::spiking) return export_spiking(dir, out_path, integer);
  require(integer.weight_bits == 0 && !integer.leaky && !integer.trained_bias,
          "--integer-bits, --leaky and --trained-bias export the integer SRC: '" + dir + "' is not an SRC run");
  LoadedRun run;
  if (kind == RunKind::sequence_classification || kind == RunKind::tmaze) {  // their own configs, the same models
    run.model = load_sequence_model_of_run(dir);
    run.config.model = run.model->config;
  } else {
    run = load_run(dir);
  }
  const std::string bytes = ncm_bytes(run.model);
  write_file_atomic(out_path, bytes);
  const auto& m = run.config.model;
  RunResult result;
  result.text = strprintf("wrote %s: %s, %lld layers of %lld, input %lld, output %lld, %lld parameters, %zu bytes\n",
                          out_path.c_str(), m.cell.c_str(), static_cast<long long>(m.layers),
                          static_cast<long long>(m.hidden_size), static_cast<long long>(m.input_size),
                          static_cast<long long>(m.output_size), static_cast<long long>(parameter_count(*run.model)),
                          bytes.size());
  return result;
}

torch::Tensor run_states(const std::string& dir, const torch::Tensor& input, const std::string& input_name) {
  require(detect_run_kind(dir) != RunKind::spiking,
          "'" + dir + "' is an SRC run: `run` supports the regression cells only so far "
          "(use `plot raster` to look at SRC spikes)");
  auto run = load_run(dir);
  const auto& x = input;
  const int64_t width = run.config.model.input_size;
  require(x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kFloat64,
          "'" + input_name + "' must hold float32 or float64 values");
  require(x.dim() == 3, "'" + input_name + "' must have shape (T, B, I=" + std::to_string(width) + "), got " +
                            std::to_string(x.dim()) + " dimensions " + c10::str(x.sizes()));
  require(x.size(2) == width, "'" + input_name + "' has input width I=" + std::to_string(x.size(2)) +
                                  " but the model reads I=" + std::to_string(width) + " (shape must be (T, B, " +
                                  std::to_string(width) + "))");
  require(x.size(0) >= 1 && x.size(1) >= 1, "'" + input_name + "' is empty (T and B must be >= 1)");
  require(torch::isfinite(x).all().item<bool>(), "'" + input_name + "' contains NaN or Inf values");
  run.model->to(x.scalar_type());
  torch::NoGradGuard no_grad;
  return run.model->all_states(x);  // (T, B, S)
}

}  // namespace neurocell::runs
