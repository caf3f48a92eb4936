#pragma once
// The MNIST family as sequences for the recurrent cells (tasks.md, "Sequence classification"):
//   smnist     784 steps of one pixel (row-major), then `black` appended zero pixels
//   psmnist    the same with the pixels in a fixed order drawn from `permutation_seed`
//   row-mnist  28 steps of one row of 28 pixels, then `black` appended zero rows
//   prow-mnist the same with the rows permuted
//   psmnist-rows the psmnist pixel sequence cut into 28 steps of 28 pixels (the warmup paper's
//              "row MNIST", glambrechts/warmup datasets.py:310-334), then `black` zero steps
// on MNIST or Fashion-MNIST; the class is read from the last step (cross-entropy).
// Pixels are x / 255 (scaling "unit", the BRC paper's 2020 scripts: appended steps are black)
// or x / 255 - 0.5 (scaling "centred", the warmup paper and the BRC 2021 code: appended steps
// are 0, a mid-grey, as there). The permutation is computed here from its seed, by neurocell's
// own generator (Fisher-Yates over splitmix64) or by numpy's (numpy_permutation: the BRC 2021
// code's np.random.seed(1); np.random.permutation(784)), independent of LibTorch's generators,
// and stored with every run, which refuses to load if the stored one and the recomputed one
// ever differ.
#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace neurocell {

struct ImageSequenceTaskConfig {
  std::string name = "smnist";    // smnist | psmnist | row-mnist | prow-mnist
  std::string dataset = "mnist";  // mnist | fashion-mnist
  int64_t black = 0;              // appended zero steps (pixels, or rows for row-mnist)
  uint64_t permutation_seed = 1;  // psmnist, prow-mnist, psmnist-rows
  std::string permutation = "splitmix";  // splitmix (neurocell's) | numpy (RandomState(seed).permutation)
  std::string scaling = "unit";          // unit: x / 255 | centred: x / 255 - 0.5
  int64_t train_size = 0;         // training images used (0 = all but the validation ones)
  void validate() const;
  bool rows() const;      // 28 pixels per step (row-mnist, prow-mnist, psmnist-rows)
  bool permuted() const;
  int64_t units() const;       // what the permutation orders: 784 pixels, or 28 rows
  int64_t length() const;      // T
  int64_t input_size() const;  // 1 or 28
};
nlohmann::json to_json(const ImageSequenceTaskConfig& config);
ImageSequenceTaskConfig image_sequence_task_from_json(const nlohmann::json& json);
const std::vector<std::string>& image_sequence_task_names();
bool is_image_sequence_task(const std::string& name);

// A uniformly random permutation of 0..n-1, the same on every machine for a given seed.
std::vector<int64_t> seeded_permutation(uint64_t seed, int64_t n);
// numpy.random.RandomState(seed).permutation(n), computed here: the legacy MT19937 seeded with
// init_genrand(seed) (std::mt19937's seeding), then numpy's shuffle (for i = n-1..1 swap i with
// j drawn uniformly from 0..i by masked rejection of 32-bit outputs). seed < 2^32.
std::vector<int64_t> numpy_permutation(uint64_t seed, int64_t n);
// The permutation of the steps' units (784 pixels or 28 rows); the identity when not permuted.
std::vector<int64_t> task_permutation(const ImageSequenceTaskConfig& config);

// images (B, 784) uint8 -> sequences (T, B, I) float32: permuted, scaled, black steps appended.
torch::Tensor images_to_sequences(const torch::Tensor& images, const ImageSequenceTaskConfig& config,
                                  const std::vector<int64_t>& permutation);

}  // namespace neurocell
