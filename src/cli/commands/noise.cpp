// `neurocell noise`: SRC test accuracy with r and r_s of every neuron perturbed by
// N(0, sigma^2) (fresh draws per repeat), one markdown row per sigma: the SRC paper's
// robustness-to-noise experiment.
#include "cli/commands/commands.h"

#include <torch/torch.h>

#include <cmath>

#include "runs/runs.h"

namespace neurocell::cli {

namespace {

struct NoiseCommand {
  std::string checkpoint;
  std::vector<double> sigmas = {0, 0.1, 0.2, 0.5, 1.0};
  int64_t repeats = 3, eval_test_size = 0, threads = 0;
};

void command_noise(const std::string& dir, const std::vector<double>& sigmas, int64_t repeats, int64_t test_size) {
  require(!sigmas.empty(), "--sigma: give at least one noise level");
  require(repeats >= 1, "--repeats must be >= 1");
  for (double sigma : sigmas) require(std::isfinite(sigma) && sigma >= 0, "--sigma values must be >= 0");
  const auto config = load_spiking_config(dir);
  require(config.model.cell_name == "src", "noise perturbs SRC's r and r_s; '" + dir + "' is a " +
                                               config.model.cell_name + " run, which has neither: give an SRC run");
  require(!config.model.cell.integer(), "noise perturbs the float cell's r and r_s; '" + dir +
                                            "' runs the FPGA design's integer arithmetic, whose constants are fixed: "
                                            "give a float SRC run");
  auto model = load_src_classifier(dir, config);
  std::vector<std::pair<torch::Tensor, torch::Tensor>> clean;
  for (auto& layer : model->layers) clean.emplace_back(layer->r.clone(), layer->r_s.clone());
  auto noise_generator = make_generator(config.train.seed, 3);
  std::printf("| sigma | mean accuracy | min | max | repeats |\n|---|---|---|---|---|\n");
  for (double sigma : sigmas) {
    double sum = 0, lo = 1, hi = 0;
    for (int64_t k = 0; k < repeats; ++k) {
      {
        torch::NoGradGuard no_grad;
        for (size_t l = 0; l < model->layers.size(); ++l) {
          auto& layer = model->layers[l];
          layer->r.copy_(clean[l].first + sigma * torch::randn(clean[l].first.sizes(), noise_generator));
          layer->r_s.copy_(clean[l].second + sigma * torch::randn(clean[l].second.sizes(), noise_generator));
        }
      }
      const double a = evaluate_accuracy(model, config.task, false, 0, test_size, config.train.seed, 2);
      sum += a, lo = std::min(lo, a), hi = std::max(hi, a);
    }
    std::printf("| %g | %.4f | %.4f | %.4f | %lld |\n", sigma, sum / repeats, lo, hi, static_cast<long long>(repeats));
    std::fflush(stdout);
  }
}

}  // namespace

void register_noise(CLI::App& app) {
  auto options = std::make_shared<NoiseCommand>();
  auto& o = *options;
  auto* noise = app.add_subcommand("noise", "SRC: test accuracy with r, r_s perturbed per neuron by Gaussian noise");
  noise->add_option("--checkpoint", o.checkpoint, "SRC run folder")->required();
  noise->add_option("--sigma", o.sigmas, "Noise standard deviations")->delimiter(',')->capture_default_str();
  noise->add_option("--repeats", o.repeats, "Noise draws per sigma")->capture_default_str();
  noise->add_option("--test-size", o.eval_test_size, "Test images (default: all)");
  noise->add_option("--threads", o.threads, "CPU threads (0 = every core)");
  noise->callback([options] {
    configure_threads(options->threads);
    command_noise(options->checkpoint, options->sigmas, options->repeats, options->eval_test_size);
  });
}

}  // namespace neurocell::cli
