// ZIP archives, .npz files and the import of models saved by the SRC authors' code: round
// trips, archives written by Python's zipfile (the way np.savez writes them), corrupt files,
// and authors-format models in folder and zip forms.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/authors_src.h"
#include "io/files.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/zip.h"
#include "test_util.h"

namespace neurocell {
namespace {

using testing::TempDir;
using testing::expect_error_containing;
using Tensors = std::map<std::string, torch::Tensor>;

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

// Written by Python's zipfile exactly as np.savez / np.savez_compressed do (force_zip64 local
// headers: sizes 0xFFFFFFFF plus a ZIP64 extra field), with an archive comment. Entries:
// a.npy = float32 arange(6).reshape(2, 3), b.npy = float64 [0.5, -1.25, 3.0]. Being produced
// by another implementation, they check the reader independently of zip_bytes.
const char* const kPythonStoredHex =
    "504b03042d0000000000000021004fe9002affffffffffffffff05001400612e6e7079010010009800000000000000980000"
    "0000000000934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046"
    "616c73652c20277368617065273a2028322c2033292c207d2020202020202020202020202020202020202020202020202020"
    "20202020202020202020202020202020202020202020202020202020202020200a000000000000803f000000400000404000"
    "0080400000a040504b03042d0000000000000021009abd563affffffffffffffff05001400622e6e70790100100098000000"
    "000000009800000000000000934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72"
    "646572273a2046616c73652c20277368617065273a2028332c292c207d202020202020202020202020202020202020202020"
    "2020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000e03f0000"
    "00000000f4bf0000000000000840504b01022d032d0000000000000021004fe9002a98000000980000000500000000000000"
    "00000000800100000000612e6e7079504b01022d032d0000000000000021009abd563a980000009800000005000000000000"
    "00000000008001cf000000622e6e7079504b05060000000002000200660000009e01000019007772697474656e2062792070"
    "7974686f6e207a697066696c65"
    ;
const char* const kPythonDeflatedHex =
    "504b03042d0000000800000021004fe9002affffffffffffffff05001400612e6e7079010010009800000000000000550000"
    "00000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9366a2aea3a09e965f54529498179f5f94920a12774bcc"
    "294e058a17672416a402f91a463a0ac69a3a0ab50a64032e063068b007120e4004c40d40bcc00100504b03042d0000000800"
    "000021009abd563affffffffffffffff05001400622e6e707901001000980000000000000050000000000000009bec17ea1b"
    "10c9c850c650ad9e925a9c5ca46ea5a06e9366a1aea3a09e965f54529498179f5f94920a12774bcc294e058a17672416a402"
    "f91ac63a9a3a0ab50a14002e063078600fa1bfec87d01c0e00504b01022d032d0000000800000021004fe9002a5500000098"
    "000000050000000000000000000000800100000000612e6e7079504b01022d032d0000000800000021009abd563a50000000"
    "9800000005000000000000000000000080018c000000622e6e7079504b050600000000020002006600000013010000190077"
    "72697474656e20627920707974686f6e207a697066696c65"
    ;

std::string random_bytes(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (auto& c : s) c = static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
  return s;
}

TEST(Zip, RoundTripStoredDeflatedAndZip64) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "spike " + std::to_string(i % 7) + "\n";
  const std::vector<std::pair<std::string, std::string>> entries = {
      {"a.txt", text}, {"dir/b.bin", random_bytes(100000)}, {"empty", ""}};
  for (bool deflate : {false, true})
    for (bool zip64 : {false, true}) {
      const auto bytes = zip_bytes(entries, {deflate, zip64});
      const auto zip = ZipArchive::from_bytes(bytes, "test archive");
      EXPECT_EQ(zip.names(), (std::vector<std::string>{"a.txt", "dir/b.bin", "empty"}));
      for (const auto& [name, contents] : entries) {
        EXPECT_TRUE(zip.contains(name));
        EXPECT_EQ(zip.read(name), contents) << name << " deflate " << deflate << " zip64 " << zip64;
      }
      EXPECT_FALSE(zip.contains("a"));
      if (deflate) EXPECT_LT(bytes.size(), text.size() / 5 + 100000 + 1000);
    }
}

TEST(Zip, ReadsPythonZipfileOutputWithComment) {
  for (const char* hex : {kPythonStoredHex, kPythonDeflatedHex}) {
    const auto zip = ZipArchive::from_bytes(from_hex(hex), "python archive");
    EXPECT_EQ(zip.names(), (std::vector<std::string>{"a.npy", "b.npy"}));
    EXPECT_EQ(zip.read("a.npy").substr(0, 6), "\x93NUMPY");
  }
}

TEST(Zip, TrailingCommentIsSkipped) {
  auto bytes = zip_bytes({{"x", "payload"}});
  const std::string comment = "a comment that mentions PK\x05\x06 on purpose";
  bytes[bytes.size() - 2] = static_cast<char>(comment.size());
  bytes += comment;
  EXPECT_EQ(ZipArchive::from_bytes(bytes, "commented").read("x"), "payload");
}

TEST(Zip, Zip64LocatorOffsetNear2To64IsRefused) {
  // fuzz_zip's finding (tests/fuzz/corpus/zip/zip64_locator_offset_wraps): a ZIP64 locator whose
  // record offset is 2^64 - 1 made `offset + 56` wrap and the reader index past the buffer.
  // The EOCD sits at 100 (past 56, so the wrapped sum passed the old check), the locator before it.
  std::string bytes(122, '\0');
  const auto put = [&](size_t at, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  put(80, 0x07064b50, 4);    // the locator ...
  put(88, ~uint64_t{0}, 8);  // ... pointing at 2^64 - 1
  put(100, 0x06054b50, 4);   // the EOCD right after it
  expect_error_containing([&] { ZipArchive::from_bytes(bytes, "'wrap.zip'"); }, {"'wrap.zip'", "bad ZIP64"});
}

TEST(Zip, CorruptArchivesAreRejectedClearly) {
  const auto good = zip_bytes({{"greeting.txt", "hello world"}, {"other", "x"}});
  expect_error_containing([&] { ZipArchive::from_bytes(good.substr(0, good.size() - 5), "'cut.zip'"); },
                          {"'cut.zip'", "truncated"});
  expect_error_containing([&] { ZipArchive::from_bytes(good.substr(0, 30), "'cut.zip'"); }, {"truncated"});
  expect_error_containing([&] { ZipArchive::from_bytes("just some text, no archive", "'t.zip'"); },
                          {"not a ZIP archive"});
  std::string bad_crc = good;
  bad_crc[bad_crc.find("hello world")] = 'j';
  expect_error_containing([&] { ZipArchive::from_bytes(bad_crc, "'crc.zip'").read("greeting.txt"); },
                          {"'crc.zip'", "entry 'greeting.txt'", "CRC-32 mismatch"});
  expect_error_containing([&] { ZipArchive::from_bytes(good, "'g.zip'").read("nope"); },
                          {"'g.zip'", "no entry 'nope'", "greeting.txt"});
  std::string method = good;
  method[method.find(std::string("PK\x01\x02", 4)) + 10] = 12;  // bzip2
  expect_error_containing([&] { ZipArchive::from_bytes(method, "'m.zip'").read("greeting.txt"); },
                          {"entry 'greeting.txt'", "unsupported compression method 12"});
  std::string local = good;
  local[0] = 'X';
  expect_error_containing([&] { ZipArchive::from_bytes(local, "'l.zip'").read("greeting.txt"); },
                          {"entry 'greeting.txt'", "bad local header signature"});
  std::string cd = good;  // the central directory's offset points past the end
  cd[cd.size() - 6] = '\x7f';
  expect_error_containing([&] { ZipArchive::from_bytes(cd, "'cd.zip'"); }, {"'cd.zip'", "truncated"});

  std::string text;
  for (int i = 0; i < 500; ++i) text += "line " + std::to_string(i) + "\n";
  auto deflated = zip_bytes({{"t.txt", text}}, {true, false});
  const size_t data = 30 + 5;  // local header + name
  deflated.replace(data + 10, 4, "\xff\xff\xff\xff");
  expect_error_containing([&] { ZipArchive::from_bytes(deflated, "'d.zip'").read("t.txt"); }, {"entry 't.txt'"});
  auto short_deflate = zip_bytes({{"t.txt", text}}, {true, false});
  const auto central = short_deflate.find(std::string("PK\x01\x02", 4));
  short_deflate[central + 24] = static_cast<char>(short_deflate[central + 24] + 1);  // declared size + 1
  expect_error_containing([&] { ZipArchive::from_bytes(short_deflate, "'s.zip'").read("t.txt"); },
                          {"entry 't.txt'", "bytes"});
}

TEST(Npz, RoundTripSeveralDtypes) {
  TempDir dir;
  const Tensors arrays = {{"w", torch::randn({3, 4})},
                          {"b", torch::randn({5}, torch::kFloat64)},
                          {"index", torch::arange(7, torch::kInt64)},
                          {"scalar", torch::tensor(2.5f).reshape({})},
                          {"empty", torch::zeros({0, 3})}};
  write_npz(dir.path("a.npz"), arrays);
  const auto back = read_npz(dir.path("a.npz"));
  ASSERT_EQ(back.size(), arrays.size());
  for (const auto& [key, x] : arrays) {
    ASSERT_TRUE(back.count(key)) << key;
    EXPECT_EQ(back.at(key).scalar_type(), x.scalar_type()) << key;
    EXPECT_EQ(back.at(key).sizes(), x.sizes()) << key;
    EXPECT_TRUE(torch::equal(back.at(key), x)) << key;
  }
  // Stored entries named as np.savez names them.
  EXPECT_EQ(ZipArchive::open(dir.path("a.npz")).names(),
            (std::vector<std::string>{"b.npy", "empty.npy", "index.npy", "scalar.npy", "w.npy"}));
}

TEST(Npz, ReadsNumpyStyleArchivesStoredAndDeflated) {
  for (const char* hex : {kPythonStoredHex, kPythonDeflatedHex}) {
    const auto arrays = parse_npz(from_hex(hex), "python npz");
    ASSERT_EQ(arrays.size(), 2u);
    EXPECT_TRUE(torch::equal(arrays.at("a"), torch::arange(6, torch::kFloat32).reshape({2, 3})));
    EXPECT_TRUE(torch::equal(arrays.at("b"), torch::tensor({0.5, -1.25, 3.0}, torch::kFloat64)));
  }
  const auto x = torch::randn({64, 3});
  const auto deflated = zip_bytes({{"x.npy", encode_npy(x)}}, {true, true});
  EXPECT_TRUE(torch::equal(parse_npz(deflated, "deflated npz").at("x"), x));
}

TEST(Npz, CorruptArrayInsideNamesTheEntry) {
  TempDir dir;
  expect_error_containing([&] { parse_npz(zip_bytes({{"x.npy", "not an array"}}), "'bad.npz'"); },
                          {"'bad.npz'", "entry 'x.npy'", "magic"});
  const auto npy = encode_npy(torch::ones({4, 4}));
  expect_error_containing([&] { parse_npz(zip_bytes({{"y.npy", npy.substr(0, npy.size() - 8)}}), "'cut.npz'"); },
                          {"entry 'y.npy'", "truncated"});
  expect_error_containing([&] { read_npz(dir.path("missing.npz")); }, {"not found"});
}

// An authors-format model: layer widths {hidden, output_size * factor}, stored shapes as
// cells.md lists them.
Tensors authors_arrays(int64_t input, const std::vector<int64_t>& widths, int64_t classes) {
  Tensors a;
  int64_t in = input;
  for (size_t k = 0; k < widths.size(); ++k) {
    const int64_t H = widths[k];
    const std::string p = "l" + std::to_string(k) + "_";
    a[p + "forward_weights"] = torch::randn({H, in});
    a[p + "bias"] = torch::full({H}, -5.0f) + torch::rand({H});
    a[p + "rho"] = torch::full({H}, 3.0f);
    a[p + "r"] = torch::full({H}, 2.0f);
    a[p + "rs"] = torch::full({H}, -7.0f);
    a[p + "zs_dep"] = torch::zeros({1, H});
    a[p + "zs_hyp"] = torch::full({1, H}, 0.9f);
    a[p + "initial_i"] = torch::randn({1, H, 1});
    a[p + "initial_h"] = torch::randn({H});
    a[p + "initial_hs"] = torch::randn({H});
    in = H;
  }
  a["readout"] = torch::randn({classes, in});
  return a;
}

nlohmann::json authors_config(int64_t hidden_layers) {
  return {{"cell_config", {{"alphas", {0.9}}, {"bias_max", -4}, {"activation", "surrogate_relu"}, {"type", "src"}}},
          {"dataset_config",
           {{"encoding", "rate"}, {"seq_length", 200}, {"prefix_length", 20}, {"suffix_length", 0},
            {"rate_gain", 0.25}, {"name", "mnist"}}},
          {"input_size", 6}, {"hidden_size", 5}, {"hidden_layers", hidden_layers},
          {"output_size", 3}, {"readout_input_factor", 2}};
}

void write_folder(const std::string& dir, const nlohmann::json& config, const Tensors& arrays) {
  ensure_directory(dir);
  write_file_atomic(dir + "/config.json", config.dump(2));
  write_npz(dir + "/arrays.npz", arrays);
}

std::string write_zip(const std::string& path, const nlohmann::json& config, const Tensors& arrays,
                      const std::string& folder = "", bool deflate = false) {
  std::vector<std::pair<std::string, std::string>> entries;
  if (!folder.empty()) entries.emplace_back(folder, "");
  entries.emplace_back(folder + "config.json", config.dump());
  entries.emplace_back(folder + "arrays.npz", encode_npz(arrays));
  write_file_atomic(path, zip_bytes(entries, {deflate, false}));
  return path;
}

void expect_model_matches(const AuthorsSrcModel& m, const Tensors& arrays) {
  EXPECT_EQ(m.input_size, 6);
  EXPECT_EQ(m.hidden_size, 5);
  EXPECT_EQ(m.output_size, 3);
  EXPECT_EQ(m.readout_factor, 2);
  EXPECT_EQ(m.alphas, std::vector<double>{0.9});
  EXPECT_EQ(m.bias_max, -4);
  EXPECT_EQ(m.activation, "surrogate_relu");
  EXPECT_EQ(m.seq_length, 200);
  EXPECT_EQ(m.prefix_length, 20);
  EXPECT_EQ(m.suffix_length, 0);
  EXPECT_EQ(m.rate_gain, 0.25);
  EXPECT_EQ(m.dataset_name, "mnist");
  EXPECT_EQ(m.encoding, "rate");
  EXPECT_EQ(m.config.at("cell_config").at("type"), "src");
  ASSERT_EQ(m.layers.size(), 2u);
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{5, 6}, {6, 5}};
  for (size_t k = 0; k < 2; ++k) {
    const auto& layer = m.layers[k];
    const int64_t H = shapes[k].first;
    EXPECT_EQ(layer.size(), 10u);
    EXPECT_EQ(layer.at("forward_weights").sizes(), (std::vector<int64_t>{H, shapes[k].second}));
    for (const auto& [name, t] : layer) {
      EXPECT_EQ(t.scalar_type(), torch::kFloat32) << name;
      if (name != "forward_weights") EXPECT_EQ(t.sizes(), std::vector<int64_t>{H}) << name;
      EXPECT_TRUE(torch::equal(t, arrays.at("l" + std::to_string(k) + "_" + name).reshape(t.sizes()))) << name;
    }
  }
  EXPECT_TRUE(torch::equal(m.readout, arrays.at("readout")));
}

TEST(AuthorsImport, ReadsFolderAndZipForms) {
  TempDir dir;
  const auto arrays = authors_arrays(6, {5, 6}, 3);
  write_folder(dir.path("model"), authors_config(1), arrays);
  expect_model_matches(read_authors_src_model(dir.path("model")), arrays);
  expect_model_matches(read_authors_src_model(write_zip(dir.path("flat.zip"), authors_config(1), arrays)), arrays);
  expect_model_matches(
      read_authors_src_model(write_zip(dir.path("nested.zip"), authors_config(1), arrays, "run_42/", true)), arrays);
  // Squeezed per-neuron vectors are accepted too.
  auto squeezed = arrays;
  squeezed["l1_initial_i"] = arrays.at("l1_initial_i").reshape({6});
  expect_model_matches(read_authors_src_model(write_zip(dir.path("sq.zip"), authors_config(1), squeezed)), arrays);
}

TEST(AuthorsImport, HiddenLayersMayCountEveryLayer) {
  TempDir dir;
  const auto arrays = authors_arrays(6, {5, 6}, 3);
  expect_model_matches(read_authors_src_model(write_zip(dir.path("a.zip"), authors_config(2), arrays)), arrays);
  expect_error_containing([&] { read_authors_src_model(write_zip(dir.path("b.zip"), authors_config(3), arrays)); },
                          {"holds 2 SRC layers", "hidden_layers = 3"});
}

TEST(AuthorsImport, MissingKeysAndWrongShapesAreNamed) {
  TempDir dir;
  const auto good = authors_arrays(6, {5, 6}, 3);
  const auto config = authors_config(1);
  const auto expect_rejected = [&](Tensors arrays, const std::vector<std::string>& texts) {
    expect_error_containing([&] { read_authors_src_model(write_zip(dir.path("m.zip"), config, arrays)); }, texts);
  };
  auto a = good;
  a.erase("l1_rho");
  expect_rejected(a, {"m.zip", "arrays.npz", "missing key 'l1_rho'", "layer 1 of 2"});
  a = good;
  a.erase("readout");
  expect_rejected(a, {"missing key 'readout'"});
  a = good;
  a["l1_forward_weights"] = torch::randn({6, 4});
  expect_rejected(a, {"'l1_forward_weights' has shape [6, 4], expected [6, 5]"});
  a = good;
  a["l0_forward_weights"] = torch::randn({5, 7});
  expect_rejected(a, {"'l0_forward_weights'", "expected [5, 6]", "input_size = 6"});
  a = good;
  a["l0_zs_dep"] = torch::zeros({1, 4});
  expect_rejected(a, {"'l0_zs_dep' has shape [1, 4], expected [1, 5]"});
  a = good;
  a["l1_initial_i"] = torch::zeros({6, 1});
  expect_rejected(a, {"'l1_initial_i'", "expected [1, 6, 1]"});
  a = good;
  a["readout"] = torch::zeros({3, 5});
  expect_rejected(a, {"'readout' has shape [3, 5], expected [3, 6]"});
  a = good;
  a["l0_bias"] = a["l0_bias"].to(torch::kFloat64);
  expect_rejected(a, {"'l0_bias'", "expected float32"});
  // arrays the model would drop, and NaN weights, are refused
  a = good;
  a["l0_recurrent_weights"] = torch::zeros({5, 5});
  expect_rejected(a, {"unknown array 'l0_recurrent_weights'"});
  a = good;
  a["readout_bias"] = torch::zeros({3});
  expect_rejected(a, {"unknown array 'readout_bias'"});
  a = good;
  a["l0_forward_weights"] = a["l0_forward_weights"].clone();
  a["l0_forward_weights"][0][0] = NAN;
  expect_rejected(a, {"'l0_forward_weights' holds NaN"});
  a = good;
  a["l1_forward_weights"] = torch::randn({7, 5});  // neither hidden_size nor 2 * 3
  a["l1_bias"] = torch::zeros({7});
  expect_rejected(a, {"'l1_forward_weights'", "readout_input_factor * output_size = 6"});
}

TEST(AuthorsImport, BadConfigsAndPathsAreRejected) {
  TempDir dir;
  const auto arrays = authors_arrays(6, {5, 6}, 3);
  auto config = authors_config(1);
  config["cell_config"]["type"] = "brc";
  expect_error_containing([&] { read_authors_src_model(write_zip(dir.path("t.zip"), config, arrays)); },
                          {"config.json", "cell_config.type is 'brc'"});
  config = authors_config(1);
  config["dataset_config"].erase("rate_gain");
  expect_error_containing([&] { read_authors_src_model(write_zip(dir.path("r.zip"), config, arrays)); },
                          {"missing key 'dataset_config.rate_gain'"});
  // what neurocell's SRC cannot represent is refused, not dropped
  config = authors_config(1);
  config["cell_config"]["recurrence"] = "dense";
  expect_error_containing([&] { read_authors_src_model(write_zip(dir.path("c.zip"), config, arrays)); },
                          {"cell_config.recurrence", "no recurrent connections"});
  config["cell_config"]["recurrence"] = nullptr;  // the authors' exported model says null: fine
  EXPECT_NO_THROW(read_authors_src_model(write_zip(dir.path("c0.zip"), config, arrays)));
  config["cell_config"]["num_integrators_per_neuron"] = 2;
  expect_error_containing([&] { read_authors_src_model(write_zip(dir.path("i.zip"), config, arrays)); },
                          {"num_integrators_per_neuron is 2", "one input integrator"});
  config["cell_config"]["num_integrators_per_neuron"] = 1;
  EXPECT_NO_THROW(read_authors_src_model(write_zip(dir.path("i1.zip"), config, arrays)));
  config = authors_config(1);
  config["hidden_size"] = "five";
  expect_error_containing([&] { read_authors_src_model(write_zip(dir.path("h.zip"), config, arrays)); },
                          {"'hidden_size' must be an integer"});
  write_file_atomic(dir.path("j.zip"), zip_bytes({{"config.json", "{not json"}, {"arrays.npz", encode_npz(arrays)}}));
  expect_error_containing([&] { read_authors_src_model(dir.path("j.zip")); }, {"not valid JSON"});
  write_file_atomic(dir.path("n.zip"), zip_bytes({{"config.json", authors_config(1).dump()}}));
  expect_error_containing([&] { read_authors_src_model(dir.path("n.zip")); }, {"no arrays.npz"});
  ensure_directory(dir.path("half"));
  write_file_atomic(dir.path("half/config.json"), authors_config(1).dump());
  expect_error_containing([&] { read_authors_src_model(dir.path("half")); }, {"no arrays.npz"});
  expect_error_containing([&] { read_authors_src_model(dir.path("nothing_here")); }, {"not found"});
}

}  // namespace
}  // namespace neurocell
