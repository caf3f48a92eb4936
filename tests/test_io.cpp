// File formats: .npy and safetensors round trips, byte-level layout, corrupt files, and the
// checkpoint round trip of a model.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/files.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "runs/run_folder.h"
#include "train/checkpoint.h"
#include "test_util.h"

namespace neurocell {
namespace {

using testing::TempDir;
using testing::expect_error_containing;

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(Npy, RoundTripFloat32AndFloat64) {
  TempDir dir;
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    const auto x = torch::randn({3, 4, 5}, dtype);
    write_npy(dir.path("x.npy"), x);
    const auto y = read_npy(dir.path("x.npy"));
    EXPECT_EQ(y.scalar_type(), dtype);
    EXPECT_TRUE(torch::equal(x, y));
  }
  const auto scalar_like = torch::arange(7, torch::kInt64);
  write_npy(dir.path("i.npy"), scalar_like);
  EXPECT_TRUE(torch::equal(read_npy(dir.path("i.npy")), scalar_like));
}

TEST(Npy, HeaderIsWhatNumpyWrites) {
  const auto bytes = encode_npy(torch::zeros({2, 3}, torch::kFloat32));
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  EXPECT_NE(bytes.find("'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), std::string::npos);
  EXPECT_EQ(bytes.size(), 10 + header_len + 24);
}

TEST(Npy, CorruptFilesAreRejectedClearly) {
  TempDir dir;
  const auto good = encode_npy(torch::ones({4, 2, 1}));
  write_raw(dir.path("truncated.npy"), good.substr(0, good.size() - 3));
  expect_error_containing([&] { read_npy(dir.path("truncated.npy")); }, "truncated");
  write_raw(dir.path("garbage.npy"), "hello world, not an array");
  expect_error_containing([&] { read_npy(dir.path("garbage.npy")); }, "magic");
  std::string big_endian = good;
  big_endian.replace(big_endian.find("<f4"), 3, ">f4");
  write_raw(dir.path("be.npy"), big_endian);
  expect_error_containing([&] { read_npy(dir.path("be.npy")); }, "unsupported dtype");
  std::string fortran = good;
  fortran.replace(fortran.find("False"), 5, "True ");
  write_raw(dir.path("f.npy"), fortran);
  expect_error_containing([&] { read_npy(dir.path("f.npy")); }, "Fortran");
  expect_error_containing([&] { read_npy(dir.path("missing.npy")); }, "not found");
}

TEST(Safetensors, LayoutAndRoundTrip) {
  TempDir dir;
  NamedTensors tensors = {{"a.weight", torch::randn({3, 2})},
                          {"b", torch::randn({4}, torch::kFloat64)},
                          {"empty", torch::zeros({0, 3})}};
  write_safetensors(dir.path("m.safetensors"), tensors, {{"format", "neurocell"}});
  const auto bytes = read_file(dir.path("m.safetensors"), "test file");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  EXPECT_EQ(n % 8, 0u);
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["a.weight"]["dtype"], "F32");
  EXPECT_EQ(header["a.weight"]["shape"], nlohmann::json({3, 2}));
  EXPECT_EQ(header["a.weight"]["data_offsets"], nlohmann::json({0, 24}));
  EXPECT_EQ(header["b"]["dtype"], "F64");
  EXPECT_EQ(header["b"]["data_offsets"], nlohmann::json({24, 56}));
  EXPECT_EQ(header["__metadata__"]["format"], "neurocell");
  EXPECT_EQ(bytes.size(), 8 + n + 56);
  const auto back = read_safetensors(dir.path("m.safetensors"));
  ASSERT_EQ(back.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back[i].first, tensors[i].first);
    EXPECT_TRUE(torch::equal(back[i].second, tensors[i].second));
  }
}

TEST(Safetensors, CorruptFilesAreRejectedClearly) {
  TempDir dir;
  const auto good = encode_safetensors({{"w", torch::randn({10})}});
  write_raw(dir.path("cut.safetensors"), good.substr(0, good.size() - 8));
  expect_error_containing([&] { read_safetensors(dir.path("cut.safetensors")); }, "outside the data");
  write_raw(dir.path("short.safetensors"), "abc");
  expect_error_containing([&] { read_safetensors(dir.path("short.safetensors")); }, "shorter");
  std::string bad_json = good;
  bad_json[9] = '!';
  write_raw(dir.path("json.safetensors"), bad_json);
  expect_error_containing([&] { read_safetensors(dir.path("json.safetensors")); }, "not valid JSON");
  std::string huge = good;
  huge[7] = '\x7f';
  write_raw(dir.path("huge.safetensors"), huge);
  expect_error_containing([&] { read_safetensors(dir.path("huge.safetensors")); }, "exceeds the file size");
}

TEST(Checkpoint, MismatchedOrCorruptWeightsAreRejected) {
  TempDir dir;
  ModelConfig config;
  config.hidden_size = 8;
  SequenceModel small(config);
  config.hidden_size = 10;
  SequenceModel big(config);
  save_weights(dir.path("w.safetensors"), small);
  expect_error_containing([&] { load_weights(dir.path("w.safetensors"), big); }, "has shape");
  config.cell = "gru";
  SequenceModel other(config);
  expect_error_containing([&] { load_weights(dir.path("w.safetensors"), other); }, "lacks tensor");
  {
    torch::NoGradGuard g;
    small->readout->weight[0][0] = std::nan("");
  }
  save_weights(dir.path("nan.safetensors"), small);
  config.cell = "nbrc";
  config.hidden_size = 8;
  SequenceModel again(config);
  expect_error_containing([&] { load_weights(dir.path("nan.safetensors"), again); }, "NaN");
}

TEST(Checkpoint, RunConfigRoundTripAndErrors) {
  TempDir dir;
  RunConfig config;
  config.model.cell = "mgu";
  config.model.layers = 3;
  config.task = {"denoising", 50, 10};
  config.train.learning_rate = 3e-3;
  save_run_config(dir.path(), config);
  const auto back = load_run_config(dir.path());
  EXPECT_EQ(back.model.cell, "mgu");
  EXPECT_EQ(back.model.layers, 3);
  EXPECT_EQ(back.task.no_end, 10);
  EXPECT_DOUBLE_EQ(back.train.learning_rate, 3e-3);
  write_raw(dir.path("config.json"), "{\"model\": {\"cell\": \"brc\"");
  expect_error_containing([&] { load_run_config(dir.path()); }, "not valid JSON");
  write_raw(dir.path("config.json"), R"({"model": {"cell": "xyz", "input_size": 1, "hidden_size": 4, "layers": 1, "output_size": 1}, "task": {"name": "denoising", "length": 50}})");
  expect_error_containing([&] { load_run_config(dir.path()); }, "unknown cell 'xyz'");
}

TEST(Files, AtomicWriteLeavesNoTemporaryFile) {
  TempDir dir;
  write_file_atomic(dir.path("a.txt"), "first");
  write_file_atomic(dir.path("a.txt"), "second");
  EXPECT_EQ(read_file(dir.path("a.txt"), "file"), "second");
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
  EXPECT_THROW(write_file_atomic(dir.path("no/such/folder/a.txt"), "x"), Error);
}

}  // namespace
}  // namespace neurocell
