#include "tasks/image_sequences.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "core/error.h"

namespace neurocell {

namespace {

constexpr int64_t kImageSide = 28, kPixels = 28 * 28;

uint64_t next_splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

const std::vector<std::string>& image_sequence_task_names() {
  static const std::vector<std::string> names = {"smnist", "psmnist", "row-mnist", "prow-mnist", "psmnist-rows"};
  return names;
}

bool is_image_sequence_task(const std::string& name) {
  const auto& names = image_sequence_task_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

void ImageSequenceTaskConfig::validate() const {
  require(is_image_sequence_task(name), "unknown sequence classification task '" + name +
                                            "' (valid: smnist, psmnist, row-mnist, prow-mnist, psmnist-rows)");
  require(dataset == "mnist" || dataset == "fashion-mnist",
          "--dataset must be mnist or fashion-mnist (got '" + dataset + "')");
  require(black >= 0 && black <= 100000, "--black must be in 0..100000 appended steps (got " + std::to_string(black) + ")");
  require(train_size >= 0, "--train-size must be >= 0 (0 = every training image)");
  require(permutation == "splitmix" || permutation == "numpy",
          "--permutation must be splitmix (neurocell's) or numpy (numpy's RandomState(seed)), got '" + permutation + "'");
  require(permutation == "splitmix" || permutation_seed <= 0xffffffffULL,
          "--permutation numpy needs a --permutation-seed below 2^32 (numpy's legacy seeding)");
  require(scaling == "unit" || scaling == "centred",
          "--pixels must be unit (x/255) or centred (x/255 - 0.5), got '" + scaling + "'");
}

bool ImageSequenceTaskConfig::rows() const { return name == "row-mnist" || name == "prow-mnist" || name == "psmnist-rows"; }
bool ImageSequenceTaskConfig::permuted() const { return name == "psmnist" || name == "prow-mnist" || name == "psmnist-rows"; }
int64_t ImageSequenceTaskConfig::units() const { return name == "row-mnist" || name == "prow-mnist" ? kImageSide : kPixels; }
int64_t ImageSequenceTaskConfig::length() const { return (rows() ? kImageSide : kPixels) + black; }
int64_t ImageSequenceTaskConfig::input_size() const { return rows() ? kImageSide : 1; }

nlohmann::json to_json(const ImageSequenceTaskConfig& c) {
  return {{"name", c.name},
          {"dataset", c.dataset},
          {"black", c.black},
          {"permutation_seed", c.permutation_seed},
          {"permutation", c.permutation},
          {"scaling", c.scaling},
          {"train_size", c.train_size}};
}

ImageSequenceTaskConfig image_sequence_task_from_json(const nlohmann::json& j) {
  ImageSequenceTaskConfig c;
  try {
    c.name = j.at("name").get<std::string>();
    c.dataset = j.value("dataset", c.dataset);
    c.black = j.value("black", c.black);
    c.permutation_seed = j.value("permutation_seed", c.permutation_seed);
    c.train_size = j.value("train_size", c.train_size);
    // absent in runs made before they existed: what those runs used
    c.permutation = j.value("permutation", c.permutation);
    c.scaling = j.value("scaling", c.scaling);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("sequence classification task config: ") + e.what());
  }
  c.validate();
  return c;
}

std::vector<int64_t> seeded_permutation(uint64_t seed, int64_t n) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  uint64_t state = seed;
  for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates; the modulo bias is below 2^-50 here
    const auto j = static_cast<int64_t>(next_splitmix64(state) % static_cast<uint64_t>(i + 1));
    std::swap(p[i], p[j]);
  }
  return p;
}

std::vector<int64_t> numpy_permutation(uint64_t seed, int64_t n) {
  require(seed <= 0xffffffffULL, "numpy_permutation: numpy's legacy seed must be below 2^32");
  std::mt19937 mt(static_cast<std::mt19937::result_type>(seed));  // = numpy's mt19937_seed (init_genrand)
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) {
    // numpy's random_interval(i): the smallest all-ones mask >= i, 32-bit draws until <= i
    uint64_t mask = static_cast<uint64_t>(i);
    for (int shift = 1; shift <= 32; shift *= 2) mask |= mask >> shift;
    uint64_t j;
    do j = mt() & mask;
    while (j > static_cast<uint64_t>(i));
    std::swap(p[static_cast<size_t>(i)], p[j]);
  }
  return p;
}

std::vector<int64_t> task_permutation(const ImageSequenceTaskConfig& config) {
  const int64_t n = config.units();
  if (config.permuted())
    return config.permutation == "numpy" ? numpy_permutation(config.permutation_seed, n)
                                         : seeded_permutation(config.permutation_seed, n);
  std::vector<int64_t> identity(static_cast<size_t>(n));
  std::iota(identity.begin(), identity.end(), 0);
  return identity;
}

torch::Tensor images_to_sequences(const torch::Tensor& images, const ImageSequenceTaskConfig& config,
                                  const std::vector<int64_t>& permutation) {
  require(images.dim() == 2 && images.size(1) == kPixels, "images must be (B, 784)");
  const int64_t B = images.size(0), units = config.units(), I = config.input_size();
  require(static_cast<int64_t>(permutation.size()) == units, "the permutation must have one entry per permuted unit");
  auto pixels = images.to(torch::kFloat32).div_(255.0f);
  if (config.scaling == "centred") pixels.sub_(0.5f);
  const auto order = torch::tensor(permutation, torch::kLong);
  auto ordered = pixels.view({B, units, kPixels / units}).index_select(1, order);  // (B, units, 784/units)
  auto steps = ordered.reshape({B, kPixels / I, I}).permute({1, 0, 2});            // (784/I, B, I)
  // appended steps are 0 after the scaling, as in the authors' code (grey when centred)
  if (config.black > 0) steps = torch::cat({steps, torch::zeros({config.black, B, I})}, 0);
  return steps.contiguous();
}

}  // namespace neurocell
