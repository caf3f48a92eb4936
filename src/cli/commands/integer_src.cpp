// `neurocell integer-src`: MNIST test accuracy of an SRC run computed as on the FPGA
// (runtime/integer_src.h): for every trace length and weight bit width, one markdown row, after
// the float network's own accuracy on the same spikes.
#include "cli/commands/commands.h"

#include <torch/torch.h>

#include <chrono>

#include "integer_src.h"
#include "io/ncm_export.h"
#include "runs/runs.h"
#include "tasks/mnist.h"

namespace neurocell::cli {

namespace {

struct IntegerSrcEvalOptions {
  std::vector<int64_t> trace_steps = {220, 110, 55, 44, 22};
  std::vector<int64_t> weight_bits = {8, 5, 4};
  bool leaky = false, trained_bias = false, rising_edges = false;
  int64_t test_size = 0;  // 0 = the whole test split
};

struct IntegerSrcCommand {
  std::string checkpoint;
  IntegerSrcEvalOptions options;
  int64_t threads = 0;
};

void command_integer_src(const std::string& dir, const IntegerSrcEvalOptions& options) {
  const auto config = load_spiking_config(dir);
  require(config.model.cell_name == "src", "integer-src runs the FPGA design of SRC; '" + dir + "' is a " +
                                               config.model.cell_name + " run: give an SRC run (--cell src)");
  require(!config.task.nmnist(), "integer-src runs the FPGA design on rate-coded MNIST; '" + dir + "' is an N-MNIST run");
  auto model = load_src_classifier(dir, config);
  const int64_t full = config.task.coding.prefix + config.task.coding.steps;
  require(config.task.coding.subsample == 0, "integer-src sub-samples the full trace itself: train with the full trace");
  for (auto steps : options.trace_steps)
    require(steps >= 1 && full % steps == 0, "--trace-steps: " + std::to_string(steps) + " does not divide the " +
                                                 std::to_string(full) + "-step trace");
  for (auto bits : options.weight_bits) require(bits >= 2 && bits <= 14, "--bits must be in 2..14");
  const auto compiled = ncrt::Model::parse(ncm_bytes(model), dir);
  std::vector<ncrt::IntegerSrc> networks;
  for (auto bits : options.weight_bits) {
    ncrt::IntegerSrcOptions o;
    o.weight_bits = static_cast<int>(bits);
    o.leaky_accumulators = options.leaky;
    o.trained_bias = options.trained_bias;
    networks.push_back(ncrt::IntegerSrc::from_model(compiled, o));
  }

  // The test images, rate-coded exactly as evaluation does (same batches, same generator).
  const auto set = load_mnist_split(config.task.dataset(), false);
  const int64_t count = options.test_size > 0 ? std::min(options.test_size, set.labels.size(0)) : set.labels.size(0);
  const int64_t I = config.model.input_size;
  auto generator = make_generator(config.train.seed, 2);
  std::vector<int64_t> correct(options.trace_steps.size() * networks.size(), 0);
  std::vector<ncrt::OpCounts> counts(correct.size());
  int64_t float_correct = 0;
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  for (int64_t b = 0; b < count; b += kEvaluationBatch) {
    const int64_t n = std::min(kEvaluationBatch, count - b);
    const auto spikes = rate_code(set.images.narrow(0, b, n), config.task.coding, generator);  // (T, n, I)
    float_correct += model->forward(spikes).argmax(1).eq(set.labels.narrow(0, b, n)).sum().item<int64_t>();
    const auto frames = spikes.permute({1, 0, 2}).to(torch::kUInt8).contiguous();  // (n, T, I)
    for (int64_t k = 0; k < n; ++k) {
      const uint8_t* image = frames.data_ptr<uint8_t>() + k * full * I;
      const std::vector<uint8_t> trace(image, image + full * I);
      const int64_t label = set.labels[b + k].item<int64_t>();
      for (size_t s = 0; s < options.trace_steps.size(); ++s) {
        const int64_t steps = options.trace_steps[s];
        const auto kept = ncrt::subsample_trace(trace, full, I, steps, options.rising_edges);
        for (size_t q = 0; q < networks.size(); ++q) {
          auto& net = networks[q];
          net.reset();
          const ncrt::OpCounts before = net.counts();
          for (int64_t t = 0; t < steps; ++t) net.step(kept.data() + t * I);
          correct[s * networks.size() + q] += net.prediction() == label;
          auto& c = counts[s * networks.size() + q];
          c.macs += net.counts().macs - before.macs;
          c.input_events += net.counts().input_events - before.input_events;
          c.spikes += net.counts().spikes - before.spikes;
          c.state_updates += net.counts().state_updates - before.state_updates;
        }
      }
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s, %lld test images, %s accumulators, bias %s%s\n\n", describe(config).c_str(),
              static_cast<long long>(count), options.leaky ? "leaky" : "pure",
              options.trained_bias ? "trained (round(500 b))" : "-3000 (reference design)",
              options.rising_edges ? ", rising edges only" : "");
  // Operations per digit (energy proxy): synaptic additions (input and hidden spikes select weight
  // rows, readout votes), input spikes, neuron spikes, state values written.
  std::printf("| arithmetic | trace steps | weight bits | accuracy | additions / digit | input spikes / digit | "
              "spikes / digit | state updates / digit |\n|---|---|---|---|---|---|---|---|\n");
  // A run trained through the integer arithmetic (--arithmetic integer): its own forward is the
  // integer network at the trained weight width (ties of the class scores aside).
  const auto& cell = config.model.cell;
  std::printf("| %s | %lld | %d | %.4f | | | | |\n", cell.integer() ? "trained (integer)" : "float32",
              static_cast<long long>(full), cell.integer() ? cell.weight_bits : 32,
              static_cast<double>(float_correct) / static_cast<double>(count));
  const double n = static_cast<double>(count);
  for (size_t s = 0; s < options.trace_steps.size(); ++s)
    for (size_t q = 0; q < networks.size(); ++q) {
      const auto& c = counts[s * networks.size() + q];
      std::printf("| integer | %lld | %lld | %.4f | %.0f | %.0f | %.0f | %.0f |\n",
                  static_cast<long long>(options.trace_steps[s]), static_cast<long long>(options.weight_bits[q]),
                  static_cast<double>(correct[s * networks.size() + q]) / n, c.macs / n, c.input_events / n,
                  c.spikes / n, c.state_updates / n);
    }
  std::printf("\n%.1f s\n", seconds);
}

}  // namespace

void register_integer_src(CLI::App& app) {
  auto command = std::make_shared<IntegerSrcCommand>();
  auto& integer_options = command->options;
  auto* integer_src = app.add_subcommand(
      "integer-src", "SRC: MNIST test accuracy with the FPGA's integer arithmetic (runtime/integer_src.h)");
  integer_src->add_option("--checkpoint", command->checkpoint, "SRC run folder")->required();
  integer_src->add_option("--trace-steps", integer_options.trace_steps, "Trace lengths (divisors of the full trace)")
      ->delimiter(',')->capture_default_str();
  integer_src->add_option("--bits", integer_options.weight_bits, "Weight magnitude bits")->delimiter(',')
      ->capture_default_str();
  integer_src->add_flag("--leaky", integer_options.leaky, "Leaky accumulators (acc -= acc >> 5 every step)");
  integer_src->add_flag("--trained-bias", integer_options.trained_bias,
                        "Per-neuron bias round(500 b) instead of the reference design's -3000 (b = -6 gives -3000)");
  integer_src->add_flag("--rising-edges", integer_options.rising_edges,
                        "Keep only rising edges of the sub-sampled input spikes");
  integer_src->add_option("--test-size", integer_options.test_size, "Test images (default: all)");
  integer_src->add_option("--threads", command->threads, "CPU threads (0 = every core)");
  integer_src->callback([command] {
    configure_threads(command->threads);
    require(detect_run_kind(command->checkpoint) == RunKind::spiking,
            "integer-src needs an SRC run folder (trained with --cell src)");
    command_integer_src(command->checkpoint, command->options);
  });
}

}  // namespace neurocell::cli
