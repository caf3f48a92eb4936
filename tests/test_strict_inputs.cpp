// Every reproducer of the reliability review's bad-input sweep (shared/reviews/reliability.md,
// section 1: hangs, silent acceptance of garbage, poor messages) as a test: each gives a clean
// one-line error naming the file, key or flag, or the right result.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <limits>

#include "core/error.h"
#include "core/strict_json.h"
#include "integer_src.h"
#include "io/authors_src.h"
#include "io/files.h"
#include "io/ncm_export.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/safetensors.h"
#include "io/zip.h"
#include "neurocell_runtime.h"
#include "nn/cell_registry.h"
#include "nn/model.h"
#include "runs/suite.h"
#include "test_util.h"

namespace neurocell {
namespace {

using testing::cli;
using testing::TempDir;

// `f` throws Error (or ncrt::Error) whose one-line message contains every fragment.
template <class F>
void expect_refused(F f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "accepted; expected an error containing '" << fragments.at(0) << "'";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.find("json.exception"), std::string::npos) << message;
    for (const auto& fragment : fragments) EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

std::string npy_with_shape(const std::string& shape, int64_t floats) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + std::string(static_cast<size_t>(floats) * 4, '\0');
}

TEST(StrictInputs, NpyShapeIsParsedStrictly) {
  EXPECT_EQ(parse_npy(npy_with_shape("(5, 2, 1)", 10), "a.npy").sizes(), c10::IntArrayRef({5, 2, 1}));
  EXPECT_EQ(parse_npy(npy_with_shape("(3,)", 3), "a.npy").sizes(), c10::IntArrayRef({3}));
  EXPECT_EQ(parse_npy(npy_with_shape("()", 1), "a.npy").dim(), 0);
  // Review: "(-5, 2, 1)" and "(5, 2. 1)" were read as (5, 2, 1).
  expect_refused([] { parse_npy(npy_with_shape("(-5, 2, 1)", 10), "'x.npy'"); }, {"'x.npy'", "shape (-5, 2, 1)"});
  expect_refused([] { parse_npy(npy_with_shape("(5, 2. 1)", 10), "'x.npy'"); }, {"'x.npy'", "whole numbers"});
  expect_refused([] { parse_npy(npy_with_shape("(5,, 2)", 10), "'x.npy'"); }, {"'x.npy'", "whole numbers"});
  expect_refused([] { parse_npy(npy_with_shape("(+5, 2)", 10), "'x.npy'"); }, {"'x.npy'", "whole numbers"});
  // A 99-digit dimension said "error: stoll".
  expect_refused([] { parse_npy(npy_with_shape("(" + std::string(99, '9') + ",)", 0), "'x.npy'"); },
               {"'x.npy'", "implausibly large"});
  expect_refused([] { parse_npy(npy_with_shape("(1099511627777,)", 0), "'x.npy'"); }, {"implausibly large"});
  // A long header overflowed the stack of the std::regex that read it (found by fuzz_npy).
  for (const std::string& header : {"{'descr': '" + std::string(1 << 20, 'a') + "'}",
                                    "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::string(1 << 20, '1') + ")}"}) {
    std::string bytes("\x93NUMPY\x02\x00", 8);
    for (int i = 0; i < 4; ++i) bytes += static_cast<char>((header.size() >> (8 * i)) & 0xff);
    expect_refused([&] { parse_npy(bytes + header, "'x.npy'"); }, {"'x.npy'"});
  }
}

TEST(StrictInputs, NpzEntryWithNegativeDimIsRefused) {
  const auto zip = zip_bytes({{"l0_bias.npy", npy_with_shape("(-12,)", 12)}});
  expect_refused([&] { parse_npz(zip, "'m.zip': arrays.npz"); }, {"'m.zip': arrays.npz", "shape (-12,)"});
}

// The bytes of a safetensors file with `header` as its JSON and `data` after it.
std::string safetensors_with(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

TEST(StrictInputs, SafetensorsLayoutAndMetadataAreChecked) {
  const NamedTensors tensors = {{"a", torch::ones({2, 2})}, {"b", torch::arange(3, torch::kLong)}};
  const std::string good = encode_safetensors(tensors, {{"format", "neurocell"}});
  const auto read = parse_safetensors(good, "'m.safetensors'");
  ASSERT_EQ(read.size(), 2u);
  EXPECT_TRUE(torch::equal(read[1].second, tensors[1].second));
  // 36 bytes appended after the data.
  expect_refused([&] { parse_safetensors(good + std::string(36, 'x'), "'m.safetensors'"); },
               {"'m.safetensors'", "36 bytes after its last tensor"});
  const std::string data(16 + 24, '\0');
  // The second tensor's data_offsets equal to the first's (aliased weights).
  expect_refused([&] {
    parse_safetensors(safetensors_with(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                                       R"("b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                                       data.substr(0, 16)),
                      "'m.safetensors'");
  }, {"'m.safetensors'", "overlaps"});
  // A gap between two tensors.
  expect_refused([&] {
    parse_safetensors(safetensors_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}})",
                                       data.substr(0, 24)),
                      "'m.safetensors'");
  }, {"unused bytes before tensor 'b'"});
  // Metadata that is not a string-to-string map.
  expect_refused([&] {
    parse_safetensors(safetensors_with(R"({"__metadata__":{"x":[1,{"y":null}]},)"
                                       R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                                       data.substr(0, 8)),
                      "'m.safetensors'");
  }, {"'m.safetensors'", "\"__metadata__\" entry 'x' is not a string"});
  expect_refused([&] {
    parse_safetensors(safetensors_with(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data.substr(0, 8)),
                      "'m.safetensors'");
  }, {"tensor 'a'", "non-negative integers"});
}

// A 2-step regression run (brc 1x8, T = 5) in DIR, as the review's runs/rel/base.
void train_base(const std::string& dir) {
  const auto r = cli({"train", "--task", "copy-first-input", "--cell", "brc", "--layers", "1", "--hidden", "8",
                      "--length", "5", "--batch", "8", "--steps", "2", "--val-size", "8", "--test-size", "8",
                      "--quiet", "--out", dir});
  ASSERT_EQ(r.code, 0) << r.err;
}

// DIR/config.json with `from` replaced by `to` (which must occur).
void edit_config(const std::string& dir, const std::string& from, const std::string& to) {
  std::string text = read_file(dir + "/config.json", "config");
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from << " not in " << text;
  text.replace(at, from.size(), to);
  write_file_atomic(dir + "/config.json", text);
}

// `neurocell ARGS` fails with one line on stderr holding every fragment.
void expect_cli_error(const std::vector<std::string>& args, const std::vector<std::string>& fragments) {
  const auto r = cli(args);
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
  for (const auto& fragment : fragments) EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
}

TEST(StrictInputs, RunConfigIsReadStrictly) {
  TempDir tmp;
  const std::string base = tmp.path("base");
  train_base(base);
  const std::string original = read_file(base + "/config.json", "config");
  ASSERT_EQ(cli({"eval", "--checkpoint", base}).code, 0);
  auto restore = [&] { write_file_atomic(base + "/config.json", original); };

  edit_config(base, "\"neurocell-run-1\"", "\"neurocell-run-999\"");
  expect_cli_error({"eval", "--checkpoint", base}, {"config.json", "\"format\"", "neurocell-run-999"});
  restore();
  edit_config(base, "\"hidden_size\": 8,", "\"hidden_size\": 8.5,");
  expect_cli_error({"eval", "--checkpoint", base}, {"config.json", "\"model.hidden_size\" must be a whole number"});
  restore();
  edit_config(base, "\"hidden_size\": 8,", "\"hidden_size\": 9223372036854775808,");
  expect_cli_error({"eval", "--checkpoint", base}, {"config.json", "\"model.hidden_size\" is out of range"});
  restore();
  edit_config(base, "\"cell\": \"brc\"", "\"cell\": 7");
  expect_cli_error({"eval", "--checkpoint", base}, {"config.json", "\"model.cell\" must be a string"});
  restore();
  write_file_atomic(base + "/config.json", original + std::string("\0GARBAGE\0GARBAGE", 16));
  expect_cli_error({"eval", "--checkpoint", base}, {"config.json", "NUL byte"});
  restore();
  // H2: a test size from the config that would exhaust memory.
  edit_config(base, "\"test_size\": 8,", "\"test_size\": 10000000000000,");
  expect_cli_error({"eval", "--checkpoint", base}, {"config.json", "--test-size must be >= 1 and <= 10000000"});
  restore();
  // A config without a format tag (written before the tag) is still read.
  auto json = nlohmann::json::parse(original);
  json.erase("format");
  write_file_atomic(base + "/config.json", json.dump());
  EXPECT_EQ(cli({"eval", "--checkpoint", base}).code, 0);
}

TEST(StrictInputs, EvalTestSizeIsBoundedAndNeverSilentlyIgnored) {
  TempDir tmp;
  const std::string base = tmp.path("base");
  train_base(base);
  for (const std::string size : {"0", "-5", "99999999999999"})  // H1: the last one grew without bound
    expect_cli_error({"eval", "--checkpoint", base, "--test-size", size}, {"--test-size", "(got " + size + ")"});
  EXPECT_EQ(cli({"eval", "--checkpoint", base, "--test-size", "4"}).code, 0);
}

TEST(StrictInputs, HugeLearningRateIsRefusedBeforeAnythingIsWritten) {
  TempDir tmp;
  expect_cli_error({"train", "--task", "copy-first-input", "--cell", "gru", "--layers", "1", "--hidden", "4", "--length",
                    "5", "--steps", "2", "--lr", "1e38", "--quiet", "--out", tmp.path("run")},
                   {"--lr"});
  EXPECT_FALSE(file_exists(tmp.path("run") + "/config.json"));
  EXPECT_FALSE(file_exists(tmp.path("run") + "/metrics.jsonl"));
}

// A one-layer authors' SRC model (input 4, 2 neurons, 2 classes) as config.json text and npz bytes.
std::pair<nlohmann::json, std::map<std::string, torch::Tensor>> authors_model() {
  std::map<std::string, torch::Tensor> arrays;
  arrays["l0_forward_weights"] = torch::full({2, 4}, 0.5);
  for (const std::string name : {"bias", "rho", "r", "rs", "initial_h", "initial_hs"}) arrays["l0_" + name] = torch::full({2}, 0.1);
  arrays["l0_zs_dep"] = torch::full({1, 2}, 0.1);
  arrays["l0_zs_hyp"] = torch::full({1, 2}, 0.1);
  arrays["l0_initial_i"] = torch::zeros({1, 2, 1});
  arrays["readout"] = torch::eye(2);
  const nlohmann::json config = {
      {"cell_config", {{"alphas", {0.9}}, {"bias_max", -4.0}, {"activation", "surrogate_relu"}, {"type", "src"}}},
      {"dataset_config",
       {{"encoding", "rate"}, {"seq_length", 30}, {"prefix_length", 3}, {"suffix_length", 0}, {"rate_gain", 0.25},
        {"name", "mnist"}}},
      {"input_size", 4}, {"hidden_size", 2}, {"hidden_layers", 0}, {"output_size", 2}, {"readout_input_factor", 1}};
  return {config, arrays};
}

TEST(StrictInputs, AuthorsSrcImportRefusesNanWeightsAndLongPrefixes) {
  auto [config, arrays] = authors_model();
  const auto model = parse_authors_src_model(config.dump(), encode_npz(arrays), "'m.zip'");
  EXPECT_EQ(model.layers.size(), 1u);
  auto nan = arrays;
  nan["l0_forward_weights"] = torch::full({2, 4}, std::numeric_limits<float>::quiet_NaN());
  expect_refused([&] { parse_authors_src_model(config.dump(), encode_npz(nan), "'m.zip'"); },
               {"'m.zip': arrays.npz", "l0_forward_weights", "NaN or Inf"});
  auto inf = arrays;
  inf["readout"] = torch::full({2, 2}, std::numeric_limits<float>::infinity());
  expect_refused([&] { parse_authors_src_model(config.dump(), encode_npz(inf), "'m.zip'"); }, {"'readout'", "NaN or Inf"});
  auto long_prefix = config;
  long_prefix["dataset_config"]["prefix_length"] = 50;
  expect_refused([&] { parse_authors_src_model(long_prefix.dump(), encode_npz(arrays), "'m.zip'"); },
               {"'m.zip': config.json", "prefix_length 50 exceeds dataset_config.seq_length 30"});
  expect_refused([&] { parse_authors_src_model(config.dump() + std::string("\0x", 2), encode_npz(arrays), "'m.zip'"); },
               {"'m.zip': config.json", "NUL byte"});
}

// The .ncm of a 1x2 GRU with the header line starting with `from` replaced by `to` (CRC
// recomputed, as the review did).
std::string ncm_with_header_edit(const std::string& from, const std::string& to) {
  ModelConfig config;
  config.cell = "gru", config.input_size = 1, config.hidden_size = 2, config.layers = 1, config.output_size = 1;
  SequenceModel model(config);
  std::string bytes = ncm_bytes(model);
  bytes.resize(bytes.size() - 4);
  size_t header_size = 0;
  for (int i = 0; i < 4; ++i) header_size |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  std::string header = bytes.substr(12, header_size);
  const size_t at = header.find("\n" + from) + 1;
  EXPECT_NE(at, 0u) << header;
  if (at != 0) header.replace(at, header.find('\n', at) - at, to);
  std::string out = bytes.substr(0, 8);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  out += header + bytes.substr(12 + header_size);
  const uint32_t crc = ncrt::crc32(reinterpret_cast<const unsigned char*>(out.data()), out.size());
  for (int i = 0; i < 4; ++i) out += static_cast<char>((crc >> (8 * i)) & 0xff);
  return out;
}

TEST(StrictInputs, NcmHeaderCellLineAndConstantsAreChecked) {
  EXPECT_EQ(ncrt::Model::parse(ncm_with_header_edit("cell", "cell gru"), "m.ncm").cell(), "gru");
  expect_refused([] { ncrt::Model::parse(ncm_with_header_edit("cell", std::string("cell g\0ru", 9)), "m.ncm"); },
               {"m.ncm", "'cell' line"});
  expect_refused([] { ncrt::Model::parse(ncm_with_header_edit("cell", "cell lstm"), "m.ncm"); },
               {"m.ncm", "layer 0 is 'gru' but the header says cell 'lstm'"});
  expect_refused([] { ncrt::Model::parse(ncm_with_header_edit("cell", ""), "m.ncm"); }, {"m.ncm", "'cell' line"});
  // Said "constant cmru_levels must be >= 2" (wrapped to a negative number).
  expect_refused([] {
    ncrt::Model::parse(ncm_with_header_edit("constant cmru_levels", "constant cmru_levels 99999999999999999999"),
                       "m.ncm");
  }, {"m.ncm", "cmru_levels must be a whole number from 2 to 1000000, got 99999999999999999999"});
  expect_refused([] { ncrt::Model::parse(ncm_with_header_edit("constant cmru_levels", "constant cmru_levels 2.5"), "m.ncm"); },
               {"cmru_levels must be a whole number"});
}

TEST(StrictInputs, NcmStreamTimeBeyond64BitsIsRefused) {
  TempDir tmp;
  const std::string file = tmp.path("m.ncm");
  write_file_atomic(file, ncm_with_header_edit("cell", "cell gru"));
  for (const std::string steps : {"99999999999999999999", "1e3", "-1", "0", "12x"}) {
    const std::string command = std::string(NCM_STREAM_BINARY) + " " + file + " --time " + steps + " > /dev/null 2> " +
                                tmp.path("err.txt");
    EXPECT_NE(std::system(command.c_str()), 0) << steps;
    EXPECT_NE(read_file(tmp.path("err.txt"), "stderr").find("--time needs a whole number of steps"), std::string::npos)
        << steps << ": " << read_file(tmp.path("err.txt"), "stderr");
  }
  const std::string ok = std::string(NCM_STREAM_BINARY) + " " + file + " --time 100 > /dev/null";
  EXPECT_EQ(std::system(ok.c_str()), 0);
}

// A one-experiment suite (copy T = 5, brc 1x4, 2 steps) with `edit` applied to its experiment.
std::string suite_text(const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json experiment = {{"id", "copy-5"}, {"metric", "mse"}, {"cells", {"brc"}}, {"seeds", {1}},
                               {"args", {{"--task", "copy-first-input"}, {"--length", 5}, {"--hidden", 4},
                                         {"--layers", 1}, {"--steps", 2}}}};
  edit(experiment);
  return nlohmann::json{{"name", "tiny"}, {"experiments", {experiment}}}.dump();
}

suites::Suite parse(const std::string& text) {
  return suites::parse_suite_text(text, "suite file 's.json'", "full", cell_kind_names());
}

// The three budgets (full, quick, paper), the suite-wide "cell_args" (e.g. the papers' GRU
// initialisation for every GRU) and the measured seconds per run that --list prints.
TEST(StrictInputs, SuiteBudgetsAndCellArgs) {
  auto text = [](const std::function<void(nlohmann::json&)>& edit_suite) {
    nlohmann::json experiment = {
        {"id", "copy"},
        {"metric", "mse"},
        {"cells", {"brc", "gru"}},
        {"seeds", {1}},
        {"args", {{"--task", "copy-first-input"}, {"--length", 5}, {"--hidden", 4}, {"--steps", 2}}},
        {"quick", {{"args", {{"--steps", 1}}}}},
        {"paper", {{"title", "copy, paper"}, {"args", {{"--steps", 30000}, {"--batch", 100}}}, {"seeds", {1, 2}}}},
        {"seconds_per_run", {{"full", 10}, {"paper", 7200}}}};
    nlohmann::json suite = {{"name", "tiny"}, {"experiments", {experiment}}};
    edit_suite(suite);
    return suite.dump();
  };
  const auto cells = cell_kind_names();
  const auto plain = text([](nlohmann::json& s) { s["cell_args"] = {{"gru", {{"--weights-init", "keras"}}}}; });
  const auto paper = suites::parse_suite_text(plain, "s", "paper", cells);
  EXPECT_EQ(paper.experiments[0].title, "copy, paper");
  EXPECT_EQ(paper.experiments[0].seconds_per_run, 7200);
  const auto runs = suites::plan(paper, "OUT", 1);
  ASSERT_EQ(runs.size(), 4u);  // 2 cells x 2 seeds
  auto has = [](const suites::Run& r, const std::string& flag, const std::string& value) {
    for (size_t i = 0; i + 1 < r.argv.size(); ++i)
      if (r.argv[i] == flag) return r.argv[i + 1] == value;
    return false;
  };
  EXPECT_TRUE(has(runs[0], "--steps", "30000"));
  EXPECT_FALSE(has(runs[0], "--weights-init", "keras"));  // brc
  EXPECT_TRUE(has(runs[2], "--weights-init", "keras"));   // gru: the suite's cell_args
  EXPECT_TRUE(has(suites::plan(suites::parse_suite_text(plain, "s", "quick", cells), "OUT", 1)[0], "--steps", "1"));
  EXPECT_EQ(suites::parse_suite_text(plain, "s", "quick", cells).experiments[0].seconds_per_run, 0);  // not measured

  auto refused = [&](const std::string& suite_text, const std::string& budget, const std::string& text_in_error) {
    try {
      suites::parse_suite_text(suite_text, "s", budget, cells);
      ADD_FAILURE() << "accepted; expected an error with: " << text_in_error;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(text_in_error), std::string::npos) << e.what();
    }
  };
  refused(plain, "huge", "unknown suite budget 'huge'");
  refused(text([](nlohmann::json& s) {
            s["experiments"][0].erase("paper");
            s["experiments"][0]["paper_note"] = "the MRU papers' budgets are not public";
          }),
          "paper", "has no \"paper\" budget: the MRU papers' budgets are not public");
  refused(text([](nlohmann::json& s) { s["cell_args"] = {{"xyz", nlohmann::json::object()}}; }), "full",
          "unknown cell 'xyz' in \"cell_args\"");
  refused(text([](nlohmann::json& s) { s["cell_args"] = {{"gru", {{"--cell", "lstm"}}}}; }), "full", "may not set --cell");
  refused(text([](nlohmann::json& s) { s["cell_args"] = {{"gru", {{"--out", "x"}}}}; }), "full", "may not set --out");
  refused(text([](nlohmann::json& s) { s["experiments"][0]["seconds_per_run"] = {{"paper", -1}}; }), "full",
          "must be a positive number of seconds");
  refused(text([](nlohmann::json& s) { s["experiments"][0]["paper"]["args"] = {{"steps", 3}}; }), "full",
          "is not a --flag");  // every budget is checked, whichever runs
}

TEST(StrictInputs, SuiteFilesAreCheckedWhenRead) {
  const auto ok = parse(suite_text([](nlohmann::json&) {}));
  ASSERT_EQ(suites::plan(ok, "OUT", 1).size(), 1u);
  EXPECT_EQ(suites::plan(ok, "OUT", 1)[0].dir, "OUT/copy-5/brc-s1");
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> bad = {
      {[](nlohmann::json& e) { e["cells"] = {"xyz"}; }, "unknown cell 'xyz'"},
      {[](nlohmann::json& e) { e["cells"] = {"brc; touch PWNED"}; }, "unknown cell 'brc; touch PWNED'"},
      {[](nlohmann::json& e) { e["seeds"] = nlohmann::json::array(); }, "\"seeds\" must be a non-empty list"},
      {[](nlohmann::json& e) { e["seeds"] = {1, 1}; }, "lists seed 1 twice"},
      {[](nlohmann::json& e) { e["id"] = "../../escape"; }, "\"id\" must be a folder name"},
      {[](nlohmann::json& e) { e["id"] = ""; }, "\"id\" must be a folder name"},
      {[](nlohmann::json& e) { e["id"] = ".."; }, "\"id\" must be a folder name"},
      {[](nlohmann::json& e) { e["args"]["rm"] = "-rf"; }, "args key 'rm' is not a --flag"},
      {[](nlohmann::json& e) { e["args"][")-val-size"] = 8; }, "args key ')-val-size' is not a --flag"},
      {[](nlohmann::json& e) { e["args"]["--steps"] = {{"a", 1}}; }, "\"--steps\" must be a string, a number"},
      {[](nlohmann::json& e) { e["args"]["--steps"] = nullptr; }, "\"--steps\" must be a string, a number"},
      {[](nlohmann::json& e) { e["args"]["--out"] = "elsewhere"; }, "may not set --out"},
      {[](nlohmann::json& e) { e.erase("metric"); }, "needs \"metric\""},
      {[](nlohmann::json& e) { e["id"] = 5; }, "\"id\" must be a string"},
      {[](nlohmann::json& e) { e["variants"] = {{{"name", "a/b"}}}; }, "variant name 'a/b' must be a folder name"},
  };
  for (const auto& [edit, fragment] : bad)
    expect_refused([&] { parse(suite_text(edit)); }, {"suite file 's.json'", fragment});
  // Two experiments with one id would share one folder.
  auto two = nlohmann::json::parse(suite_text([](nlohmann::json&) {}));
  two["experiments"].push_back(two["experiments"][0]);
  expect_refused([&] { parse(two.dump()); }, {"experiment 'copy-5'", "two experiments have this id"});
  expect_refused([&] { parse(suite_text([](nlohmann::json&) {}) + std::string("\0GARBAGE", 8)); }, {"NUL byte"});
  expect_refused([&] { parse(suite_text([](nlohmann::json&) {}) + "GARBAGE"); }, {"is not valid JSON"});
}

TEST(StrictInputs, SuiteListRefusesAnEscapingId) {
  TempDir tmp;
  write_file_atomic(tmp.path("s.json"), suite_text([](nlohmann::json& e) { e["id"] = "../../escape"; }));
  expect_cli_error({"reproduce", "--suite-file", tmp.path("s.json"), "--quick", "--out", tmp.path("out"), "--list"},
                   {"\"id\" must be a folder name"});
  write_file_atomic(tmp.path("s.json"), suite_text([](nlohmann::json&) {}));
  EXPECT_EQ(cli({"reproduce", "--suite-file", tmp.path("s.json"), "--out", tmp.path("out"), "--list"}).code, 0);
}

TEST(StrictInputs, JsonErrorTextDropsLibraryTags) {
  try {
    nlohmann::json::parse("{}").at("name");
    FAIL();
  } catch (const nlohmann::json::exception& e) {
    EXPECT_EQ(json_error_text(e), "key 'name' not found");
  }
}

// NEUROCELL_CPU_CAPABILITY is read once per process, so this runs the built program.
TEST(StrictInputs, ABadCpuCopyIsRefusedBeforeAnythingIsWritten) {
  TempDir dir;
  const std::string command = std::string("NEUROCELL_CPU_CAPABILITY=avx3 ") + NEUROCELL_BINARY +
                              " train --task copy-first-input --cell brc --layers 1 --hidden 8 --length 10 --steps 2"
                              " --batch 4 --val-size 4 --test-size 4 --quiet --out " + dir.path("run") + " 2> " +
                              dir.path("err");
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  std::ifstream err(dir.path("err"));
  const std::string message((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  EXPECT_NE(message.find("NEUROCELL_CPU_CAPABILITY=avx3 is not a CPU copy; use default, avx2 or avx512"),
            std::string::npos) << message;
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << message;
  EXPECT_FALSE(std::filesystem::exists(dir.path("run"))) << "a run folder was started";
}

}  // namespace
}  // namespace neurocell
