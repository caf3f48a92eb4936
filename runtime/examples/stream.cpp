// Streams a .ncm model one time step at a time, with nothing but the runtime:
//   ncm_stream MODEL.ncm < inputs.txt      one line of input_size numbers per step in, one
//                                          line of output_size numbers per step out (an integer
//                                          SRC: 0/1 spikes in, its class accumulators out)
//   ncm_stream MODEL.ncm --time STEPS      latency: ns per step over STEPS random steps (N(0, 1)
//                                          inputs; for SRC, 0/1 spikes at 3.3 % density, that
//                                          of rate-coded MNIST), then the operations per step
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <functional>
#include <memory>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "integer_src.h"
#include "neurocell_runtime.h"

namespace {

void print_counts(const ncrt::OpCounts& c) {
  const double n = static_cast<double>(c.steps);
  std::printf("per step: %.1f MACs (integer SRC: additions), %.1f state values written, %.2f spikes, %.2f input events\n",
              c.macs / n, c.state_updates / n, c.spikes / n, c.input_events / n);
}

}  // namespace

void print_help(std::FILE* to, const char* program) {
  std::fprintf(to,
               "usage: %s MODEL.ncm [--time STEPS]\n"
               "Streams a .ncm model (written by `neurocell export` or neurocell.export) one time step at a time.\n"
               "  %s MODEL.ncm < inputs.txt   one line of input_size numbers per step on stdin (integer SRC: 0/1\n"
               "                               spikes); one line of output_size numbers per step on stdout\n"
               "  %s MODEL.ncm --time STEPS   latency: ns per step over STEPS random steps, then the operations per step\n",
               program, program, program);
}

int main(int argc, char** argv) {
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    print_help(stdout, argv[0]);
    return 0;
  }
  if (argc != 2 && !(argc == 4 && std::strcmp(argv[2], "--time") == 0)) {
    print_help(stderr, argv[0]);
    return 2;
  }
  try {
    const std::string bytes = ncrt::read_file_bytes(argv[1]);
    const bool integer = ncrt::read_ncm(bytes, argv[1]).value("model") == "integer-src";
    // One step of whichever model the file holds: x (input_size floats) -> outputs.
    int64_t I = 0, O = 0;
    std::string description;
    bool spiking = integer;
    std::function<const float*(const float*, ncrt::OpCounts*)> step;
    std::vector<float> outputs;
    std::vector<uint8_t> spikes;
    std::unique_ptr<ncrt::IntegerSrc> integer_src;
    std::unique_ptr<ncrt::Model> model;
    std::vector<float> state, scratch;
    if (integer) {
      integer_src = std::make_unique<ncrt::IntegerSrc>(ncrt::IntegerSrc::parse(bytes, argv[1]));
      I = integer_src->input_size(), O = static_cast<int64_t>(integer_src->accumulators().size());
      description = "integer src, " + std::to_string(integer_src->layers().size()) + " layers, " +
                    std::to_string(integer_src->options().weight_bits) + "-bit weights";
      spikes.resize(I), outputs.resize(O);
      step = [&](const float* x, ncrt::OpCounts* counts) -> const float* {
        for (int64_t k = 0; k < I; ++k) spikes[k] = x[k] != 0.0f;
        const ncrt::OpCounts before = integer_src->counts();
        integer_src->step(spikes.data());
        if (counts) {
          const auto& after = integer_src->counts();
          counts->steps += 1, counts->macs += after.macs - before.macs, counts->spikes += after.spikes - before.spikes;
          counts->state_updates += after.state_updates - before.state_updates;
          counts->input_events += after.input_events - before.input_events;
        }
        for (int64_t c = 0; c < O; ++c) outputs[c] = static_cast<float>(integer_src->accumulators()[c]);
        return outputs.data();
      };
    } else {
      model = std::make_unique<ncrt::Model>(ncrt::Model::parse(bytes, argv[1]));
      I = model->input_size(), O = model->output_size();
      spiking = model->is_src_classifier();  // src or lif layers
      description = model->cell() + ", " + std::to_string(model->layers()) + " layers of " + std::to_string(model->hidden_size());
      state.resize(model->state_size()), scratch.resize(model->scratch_size()), outputs.resize(O);
      model->initial_state(state.data());
      step = [&](const float* x, ncrt::OpCounts* counts) -> const float* {
        ncrt::StepOptions options;
        options.counts = counts;
        model->step(x, state.data(), outputs.data(), scratch.data(), options);
        return outputs.data();
      };
    }
    if (argc == 4) {
      // Parsed strictly: atol clamps 99999999999999999999 to LONG_MAX and the loop never ends.
      char* end = nullptr;
      errno = 0;
      const long long parsed = std::strtoll(argv[3], &end, 10);
      if (errno == ERANGE || end == argv[3] || *end != '\0' || parsed <= 0 || parsed > 1'000'000'000LL)
        throw ncrt::Error(std::string("--time needs a whole number of steps from 1 to 1000000000, got '") + argv[3] + "'");
      const long steps = static_cast<long>(parsed);
      std::mt19937 random(1);
      std::normal_distribution<float> normal;
      std::bernoulli_distribution spike(0.033);
      std::vector<float> inputs(static_cast<size_t>(I) * 1024);
      for (auto& v : inputs) v = spiking ? static_cast<float>(spike(random)) : normal(random);
      float checksum = 0;
      const auto start = std::chrono::steady_clock::now();
      for (long t = 0; t < steps; ++t) checksum += step(inputs.data() + (t % 1024) * I, nullptr)[0];
      const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
      std::printf("%s, input %lld%s: %.0f ns per step over %ld steps (checksum %g)\n", description.c_str(),
                  static_cast<long long>(I), spiking ? " (spikes, density 0.033)" : "", ns / steps, steps, checksum);
      ncrt::OpCounts counts;  // counted apart so that counting does not slow the timed loop
      for (long t = 0; t < std::min(steps, 10000L); ++t) step(inputs.data() + (t % 1024) * I, &counts);
      print_counts(counts);
      return 0;
    }
    std::string line;
    std::vector<float> x(I);
    for (long number = 1; std::getline(std::cin, line); ++number) {
      std::istringstream words(line);
      int64_t n = 0;
      for (float v; n < I && words >> v;) x[n++] = v;
      std::string extra;
      if (n != I || (words >> extra))
        throw ncrt::Error("input line " + std::to_string(number) + ": expected " + std::to_string(I) +
                          (I == 1 ? " number" : " numbers") + " (the model's input size) separated by spaces, got " +
                          std::to_string(n) + (extra.empty() ? "" : " or more"));
      const float* y = step(x.data(), nullptr);
      for (int64_t k = 0; k < O; ++k) std::printf(k ? " %.7g" : "%.7g", y[k]);
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
