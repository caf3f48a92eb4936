// Streams a .ncm model one time step at a time, with nothing but the runtime:
//   ncm_stream MODEL.ncm < inputs.txt      one line of input_size numbers per step in, one
//                                          line of output_size numbers per step out
//   ncm_stream MODEL.ncm --time STEPS      latency: ns per step over STEPS random steps (N(0, 1)
//                                          inputs; for SRC, 0/1 spikes at 3.3 % density, that
//                                          of rate-coded MNIST)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "neurocell_runtime.h"

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 4 && std::strcmp(argv[2], "--time") == 0)) {
    std::fprintf(stderr, "usage: %s MODEL.ncm [--time STEPS] (inputs on stdin, one step per line)\n", argv[0]);
    return 2;
  }
  try {
    ncrt::Stream stream(ncrt::Model::load(argv[1]));
    const auto& model = stream.model();
    const int64_t I = model.input_size(), O = model.output_size();
    if (argc == 4) {
      const long steps = std::atol(argv[3]);
      if (steps <= 0) throw ncrt::Error("--time needs a positive number of steps");
      std::mt19937 random(1);
      std::normal_distribution<float> normal;
      std::bernoulli_distribution spike(0.033);
      const bool spiking = model.cell() == "src";
      std::vector<float> inputs(static_cast<size_t>(I) * 1024);
      for (auto& v : inputs) v = spiking ? static_cast<float>(spike(random)) : normal(random);
      float checksum = 0;
      const auto start = std::chrono::steady_clock::now();
      for (long t = 0; t < steps; ++t) checksum += stream.step(inputs.data() + (t % 1024) * I)[0];
      const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
      std::printf("%s, %lld layers of %lld, input %lld%s: %.0f ns per step over %ld steps (checksum %g)\n",
                  model.cell().c_str(), static_cast<long long>(model.layers()),
                  static_cast<long long>(model.hidden_size()), static_cast<long long>(I),
                  spiking ? " (spikes, density 0.033)" : "", ns / steps, steps, checksum);
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
        throw ncrt::Error("input line " + std::to_string(number) + ": expected " + std::to_string(I) + " numbers");
      const float* y = stream.step(x.data());
      for (int64_t k = 0; k < O; ++k) std::printf(k ? " %.7g" : "%.7g", y[k]);
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
