#include "io/nmnist.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "io/files.h"

namespace neurocell {

std::vector<NmnistEvent> parse_nmnist_events(const std::string& bytes, const std::string& what) {
  require(bytes.size() % 5 == 0, what + ": " + std::to_string(bytes.size()) +
                                     " bytes is not a whole number of 5-byte N-MNIST events (x, y, polarity + "
                                     "24-bit timestamp); is this an N-MNIST .bin file?");
  std::vector<NmnistEvent> events(bytes.size() / 5);
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  for (size_t k = 0; k < events.size(); ++k, b += 5) {
    NmnistEvent& e = events[k];
    e.x = b[0], e.y = b[1];
    require(e.x < kNmnistSide && e.y < kNmnistSide,
            what + ": event " + std::to_string(k) + " is at (" + std::to_string(e.x) + ", " + std::to_string(e.y) +
                "), outside the 34 x 34 sensor; is this an N-MNIST .bin file?");
    const uint32_t word = (uint32_t{b[2]} << 16) | (uint32_t{b[3]} << 8) | uint32_t{b[4]};
    e.on = (word >> 23) & 1u;
    e.t_us = word & 0x7FFFFFu;
  }
  return events;
}

torch::Tensor bin_nmnist_events(const std::vector<NmnistEvent>& events, int64_t steps, int64_t duration_us) {
  require(steps >= 1 && steps <= 100000, "N-MNIST: the number of frames must be in 1..100000");
  require(duration_us >= 1, "N-MNIST: the binned duration must be >= 1 microsecond");
  auto frames = torch::zeros({steps, kNmnistInputs}, torch::kUInt8);
  auto f = frames.accessor<uint8_t, 2>();
  for (const auto& e : events) {
    if (e.t_us >= static_cast<uint64_t>(duration_us)) continue;
    const int64_t step = static_cast<int64_t>(e.t_us) * steps / duration_us;
    f[step][(e.on ? kNmnistSide * kNmnistSide : 0) + e.y * kNmnistSide + e.x] = 1;
  }
  return frames;
}

torch::Tensor pack_nmnist_frames(const torch::Tensor& frames) {
  require(frames.size(-1) == kNmnistInputs, "N-MNIST frames must have 2312 inputs");
  auto sizes = frames.sizes().vec();
  sizes.back() = kNmnistPackedBytes;
  sizes.push_back(8);
  const auto bits = frames.to(torch::kUInt8).reshape(sizes);  // (..., 289, 8)
  const auto weights = torch::tensor({1, 2, 4, 8, 16, 32, 64, 128}, torch::kUInt8);
  return (bits * weights).sum(-1).to(torch::kUInt8);  // at most 255: one bit each
}

torch::Tensor unpack_nmnist_frames(const torch::Tensor& packed) {
  require(packed.size(-1) == kNmnistPackedBytes && packed.scalar_type() == torch::kUInt8,
          "packed N-MNIST frames must be uint8 with 289 bytes per frame");
  const auto weights = torch::tensor({1, 2, 4, 8, 16, 32, 64, 128}, torch::kUInt8);
  auto sizes = packed.sizes().vec();
  sizes.back() = kNmnistInputs;
  return packed.unsqueeze(-1).bitwise_and(weights).ne(0).to(torch::kUInt8).reshape(sizes);
}

NmnistSplit load_nmnist_split(const std::string& dir, bool train, int64_t steps, int64_t duration_us,
                              int64_t limit_per_digit) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(dir) / (train ? "Train" : "Test");
  std::error_code ec;
  require(fs::is_directory(root, ec), "N-MNIST: no folder '" + root.string() +
                                          "' (expected DIR/Train/0..9/*.bin and DIR/Test/0..9/*.bin)");
  std::vector<std::pair<std::string, int64_t>> files;  // path, digit
  for (int64_t digit = 0; digit < 10; ++digit) {
    const fs::path folder = root / std::to_string(digit);
    require(fs::is_directory(folder, ec), "N-MNIST: no folder '" + folder.string() + "' (one per digit 0..9)");
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder))
      if (entry.is_regular_file() && entry.path().extension() == ".bin") names.push_back(entry.path().string());
    std::sort(names.begin(), names.end());
    require(!names.empty(), "N-MNIST: '" + folder.string() + "' holds no .bin file");
    if (limit_per_digit > 0 && static_cast<int64_t>(names.size()) > limit_per_digit) names.resize(limit_per_digit);
    for (auto& name : names) files.emplace_back(std::move(name), digit);
  }
  NmnistSplit split;
  split.packed = torch::empty({static_cast<int64_t>(files.size()), steps, kNmnistPackedBytes}, torch::kUInt8);
  split.labels = torch::empty({static_cast<int64_t>(files.size())}, torch::kLong);
  for (size_t k = 0; k < files.size(); ++k) {
    const auto& [path, digit] = files[k];
    split.packed[static_cast<int64_t>(k)].copy_(pack_nmnist_frames(
        bin_nmnist_events(parse_nmnist_events(read_file(path, "N-MNIST file"), "'" + path + "'"), steps, duration_us)));
    split.labels[static_cast<int64_t>(k)] = digit;
  }
  return split;
}

}  // namespace neurocell
