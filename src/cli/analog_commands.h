#pragma once
// `neurocell analog-noise`: trained sequence models (BMRU, CMRU, GRU, LRU...) evaluated as
// simulated analog hardware (analysis/analog_noise.h) on their memory task: accuracy versus
// drive noise, state noise, device mismatch and weight bits, with operation counts per
// inference; writes results.json, results.md and accuracy-vs-noise.png to --out.
#include <cstdint>
#include <string>
#include <vector>

namespace neurocell {

struct AnalogStudyOptions {
  std::vector<std::string> runs;  // run folders of one task (same name and length)
  std::vector<double> drive = {0, 0.1, 0.2, 0.3, 0.5, 1.0};
  std::vector<double> state = {0, 0.05, 0.1, 0.2, 0.3, 0.4};
  std::vector<double> mismatch = {0, 0.05, 0.1, 0.2, 0.4, 0.8};
  std::vector<int64_t> bits = {8, 6, 5, 4, 3, 2};
  int64_t chips = 5;          // noise draws / mismatch chips per level
  int64_t test_size = 500;
  double tolerance = 0.2;     // a sequence is recalled when every target is within this
  uint64_t seed = 1;
  std::string out;
  bool overwrite = false;
};

int command_analog_noise(const AnalogStudyOptions& options);

}  // namespace neurocell
