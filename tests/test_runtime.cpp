// The dependency-free runtime (runtime/): a model exported to .ncm and streamed by the runtime
// gives the library's outputs to 1e-5 (every cell: test_cell_conformance.cpp); bad files (missing, truncated,
// corrupt, from an unknown model) are refused with errors that say what is wrong; `neurocell
// export` and the example streaming program work end to end.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>

#include "core/error.h"
#include "io/files.h"
#include "io/ncm_export.h"
#include "integer_src.h"
#include "ops/src_integer.h"
#include "neurocell_runtime.h"
#include "nn/model.h"
#include "nn/spiking.h"
#include "runtime_parity.h"
#include "test_util.h"
#include "runs/run_folder.h"
#include "train/checkpoint.h"

namespace neurocell {
namespace {

using testing::cli;
using testing::TempDir;
using testing::max_streaming_difference;

ModelConfig model_config(const std::string& cell, bool double_layer = false) {
  ModelConfig c;
  c.cell = cell;
  c.input_size = 3;
  c.hidden_size = 6;
  c.layers = 2;
  c.output_size = 2;
  c.double_layer = double_layer;
  return c;
}

// A model whose every parameter is moved off its initialisation (LayerNorm weights of 1 and
// biases of 0 would hide a wrong affine step).
SequenceModel perturbed_model(const ModelConfig& config, uint64_t seed) {
  torch::manual_seed(seed);
  SequenceModel model(config);
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) p.add_(0.2 * torch::randn_like(p));
  return model;
}

// Two SRC layers, 3 classes with 2 neurons each.
SrcClassifierConfig small_src_config(int64_t input, int64_t hidden) {
  SrcClassifierConfig config;
  config.input_size = input;
  config.hidden_size = hidden;
  config.layers = 2;
  config.classes = 3;
  config.readout_factor = 2;
  return config;
}

TEST(Runtime, Crc32IsZlibs) {
  const std::string text = "123456789";
  EXPECT_EQ(ncrt::crc32(reinterpret_cast<const unsigned char*>(text.data()), text.size()), 0xCBF43926u);
}

// A .ncm file with the given header, tensor data and a correct checksum (to test the header
// checks behind the checksum).
std::string u32(uint32_t v) {
  std::string s;
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
  return s;
}
std::string with_checksum(const std::string& body) {
  return body + u32(ncrt::crc32(reinterpret_cast<const unsigned char*>(body.data()), body.size()));
}
std::string framed(const std::string& header, const std::string& data) {
  return with_checksum(std::string("NCM\0", 4) + u32(1) + u32(static_cast<uint32_t>(header.size())) + header + data);
}

void expect_ncm_refused(const std::string& bytes, const std::string& fragment) {
  try {
    ncrt::Model::parse(bytes, "model.ncm");
    ADD_FAILURE() << "accepted a bad file; expected an error containing '" << fragment << "'";
  } catch (const ncrt::Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("model.ncm"), std::string::npos) << e.what();
  }
}

TEST(Runtime, BadFilesAreRefusedWithClearErrors) {
  auto model = perturbed_model(model_config("gru"), 1);
  const std::string good = ncm_bytes(model);
  ASSERT_NO_THROW(ncrt::Model::parse(good, "model.ncm"));

  expect_ncm_refused("", "truncated");
  expect_ncm_refused(good.substr(0, good.size() - 9), "truncated");
  expect_ncm_refused(good.substr(0, 40), "truncated");
  expect_ncm_refused(good + "xx", "unexpected bytes");
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  expect_ncm_refused(bad_magic, "not a .ncm");
  std::string future = good;
  future[4] = 9;
  expect_ncm_refused(future, "version 9");
  std::string flipped = good;
  flipped[good.size() - 20] ^= 0x10;
  expect_ncm_refused(flipped, "checksum");

  // Header problems behind a valid checksum.
  const std::string base = "model sequence\ncell gru\ninput 1\nhidden 2\noutput 1\nlayers 1\n";
  expect_ncm_refused(framed(base + "layer 0 transformer 1 2\n", ""), "'transformer' is not supported");
  expect_ncm_refused(framed(base + "layer 0 src 1 2\n", ""), "SRC layers need model src-classifier");
  expect_ncm_refused(framed(base + "layer 0 gru 1 2\n", ""), "'stack.layer0.weight_ih' is missing");
  expect_ncm_refused(framed(base + "layer 0 gru 1 2\ntensor readout.bias f32 1\n", std::string(4, '\0')),
                 "'stack.layer0.weight_ih' is missing");
  expect_ncm_refused(framed(base + "layer 0 gru 1 2\ntensor x f32 -1\n", ""), "impossible dimension");
  expect_ncm_refused(framed(base + "layer 0 gru 1 2\ntensor x f16 1\n", "ab"), "dtype 'f16'");
  expect_ncm_refused(framed(base + "layer 0 gru 1 2\nlayer 1 gru 2 2\n", ""), "announces 1 layers and describes 2");
  expect_ncm_refused(framed(base + "layer 0 gru 5 2\n", ""), "reads 5 features");
  expect_ncm_refused(framed(base + "layer 0 gru 1 2\ncolour blue\n", ""), "unknown item 'colour'");
  expect_ncm_refused(framed("model classifier\n", ""), "model kind 'classifier'");
  const float nan = std::nanf("");
  std::string nan_bytes(4, '\0');
  std::memcpy(&nan_bytes[0], &nan, 4);
  expect_ncm_refused(framed(base + "layer 0 gru 1 2\ntensor readout.bias f32 1\n", nan_bytes), "NaN");

  // A tensor of the wrong shape, and one that belongs to no layer.
  auto mgu = perturbed_model(model_config("mgu"), 1);
  std::string renamed = ncm_bytes(mgu);
  const auto at = renamed.find("stack.layer1.bias");
  ASSERT_NE(at, std::string::npos);
  renamed.replace(at, 17, "stack.layer1.bian");
  // recompute the checksum so that the header check, not the checksum, answers
  expect_ncm_refused(with_checksum(renamed.substr(0, renamed.size() - 4)), "'stack.layer1.bias' is missing");

  EXPECT_THROW(ncrt::Model::load("/nonexistent/model.ncm"), ncrt::Error);
}

TEST(Runtime, ExportCommandAndStreamingExample) {
  TempDir dir;
  const auto run = dir.path("run");
  const auto trained = cli({"train", "--task", "denoising", "--cell", "gru", "--layers", "2", "--hidden", "5",
                            "--length", "12", "--batch", "4", "--steps", "2", "--val-size", "8", "--test-size", "8",
                            "--quiet", "--out", run});
  ASSERT_EQ(trained.code, 0) << trained.err;
  const auto file = dir.path("model.ncm");
  const auto r = cli({"export", "--checkpoint", run, "--out", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote " + file), std::string::npos) << r.out;
  // never overwrites by accident; refuses what it cannot export
  const auto again = cli({"export", "--checkpoint", run, "--out", file});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("--overwrite"), std::string::npos) << again.err;
  EXPECT_EQ(cli({"export", "--checkpoint", run, "--out", file, "--overwrite"}).code, 0);
  const auto missing = cli({"export", "--checkpoint", dir.path("nothing"), "--out", dir.path("x.ncm")});
  EXPECT_NE(missing.code, 0);
  EXPECT_FALSE(file_exists(dir.path("x.ncm")));

  auto loaded = load_run(run);
  const auto compiled = ncrt::Model::load(file);
  EXPECT_LT(max_streaming_difference(loaded.model, compiled, 25, 5), 1e-5);

  // The example program: inputs on stdin, one step per line; outputs equal the library's.
  torch::manual_seed(2);
  const auto x = torch::randn({6, 1, 2});
  {
    std::ofstream in(dir.path("in.txt"));
    for (int64_t t = 0; t < 6; ++t) in << x[t][0][0].item<float>() << " " << x[t][0][1].item<float>() << "\n";
  }
  const std::string command = std::string(NCM_STREAM_BINARY) + " " + file + " < " + dir.path("in.txt") + " > " +
                              dir.path("out.txt") + " 2> " + dir.path("err.txt");
  ASSERT_EQ(std::system(command.c_str()), 0) << read_file(dir.path("err.txt"), "stderr");
  std::ifstream out(dir.path("out.txt"));
  torch::NoGradGuard no_grad;
  auto state = loaded.model->initial_state(1);
  for (int64_t t = 0; t < 6; ++t) {
    const auto expected = loaded.model->step(x[t], state).reshape(-1);
    for (int64_t k = 0; k < expected.numel(); ++k) {
      double v = 0;
      ASSERT_TRUE(out >> v) << "missing output at step " << t;
      EXPECT_NEAR(v, expected[k].item<double>(), 1e-5) << "step " << t;
    }
  }
  // a line of the wrong width is an error naming the line
  {
    std::ofstream in(dir.path("bad.txt"));
    in << "0.5 1\n0.5\n";
  }
  const std::string bad = std::string(NCM_STREAM_BINARY) + " " + file + " < " + dir.path("bad.txt") + " > /dev/null 2> " +
                          dir.path("err.txt");
  EXPECT_NE(std::system(bad.c_str()), 0);
  EXPECT_NE(read_file(dir.path("err.txt"), "stderr").find("input line 2: expected 2 numbers"), std::string::npos);
}

}  // namespace
}  // namespace neurocell

// ---- Integer SRC (runtime/integer_src.h, hardware.md)

namespace neurocell {
namespace {

// One neuron, two inputs, W = [200, -100], starting at h = 0, h_s = -800, reference constants
// (bias -3000, z_max 900, z_min 100). Frames [1,0], [0,1], [0,0], [0,1]; by hand:
//  t1: i = 200 -> I = 1023; z = 900 (h = 0 < 500);
//      h' = lin(1023 + 2 (0 + 3200 - 3000)) = lin(1423) = min(4269 >> 2, 1023) = 1023 (spike)
//      h_s' = 0 + ((-800 - 0) 900 >> 10) = floor(-703.1) = -704
//  t2: i = 200 - 12 - 6 - 100 = 82 -> I = 1023; z = 100 (h = 1023)
//      h' = lin(1023 + 2 (1023 + 2816 - 3000)) = lin(2701) -> 1023 (spike)
//      h_s' = 1023 + ((-704 - 1023) 100 >> 10) = 1023 + floor(-168.7) = 854
//  t3: i = 82 - 5 - 2 = 75 -> I = 1023; z = 100
//      h' = lin(1023 + 2 (1023 - 3416 - 3000)) = lin(-9763) -> -1024 (no spike)
//      h_s' = 1023 + ((854 - 1023) 100 >> 10) = 1023 + floor(-16.5) = 1006
//  t4: i = 75 - 4 - 2 - 100 = -31 -> I = -1024; z = 900 (h = -1024)
//      h' = lin(-1024 + 2 (-1024 - 4024 - 3000)) -> -1024
//      h_s' = -1024 + ((1006 + 1024) 900 >> 10) = -1024 + floor(1784.2) = 760
ncrt::IntegerSrc tiny_network(int32_t vote, bool leaky) {
  ncrt::IntegerSrcLayer layer;
  layer.input = 2, layer.hidden = 1;
  layer.weight = {200, -100};
  layer.bias = {-3000};
  layer.initial_h = {0};
  layer.initial_hs = {-800};
  ncrt::IntegerSrcOptions options;
  options.leaky_accumulators = leaky;
  return ncrt::IntegerSrc({layer}, {vote}, 1, options);
}

TEST(IntegerSrc, MatchesAHandComputedTrace) {
  auto net = tiny_network(10, false);
  const uint8_t frames[4][2] = {{1, 0}, {0, 1}, {0, 0}, {0, 1}};
  const int32_t i[4] = {200, 82, 75, -31}, h[4] = {1023, 1023, -1024, -1024}, h_s[4] = {-704, 854, 1006, 760};
  const int32_t acc[4] = {10, 20, 20, 20};
  for (int t = 0; t < 4; ++t) {
    net.step(frames[t]);
    const auto& s = net.states()[0];
    EXPECT_EQ(s.i[0], i[t]) << "step " << t + 1;
    EXPECT_EQ(s.h[0], h[t]) << "step " << t + 1;
    EXPECT_EQ(s.h_s[0], h_s[t]) << "step " << t + 1;
    EXPECT_EQ(s.spikes[0], h[t] >= 512 ? 1 : 0) << "step " << t + 1;
    EXPECT_EQ(net.accumulators()[0], acc[t]) << "step " << t + 1;
  }
  // operations: 3 input spikes adding one weight each, 2 neuron spikes each adding a vote;
  // i, h, h_s and the accumulator written at each of the 4 steps
  EXPECT_EQ(net.counts().input_events, 3u);
  EXPECT_EQ(net.counts().macs, 5u);
  EXPECT_EQ(net.counts().spikes, 2u);
  EXPECT_EQ(net.counts().state_updates, 16u);
  EXPECT_EQ(net.counts().steps, 4u);
  // leaky accumulators, votes of 100: 100; 100 - 3 + 100 = 197; 197 - 6 = 191; 191 - 5 = 186
  auto leaky = tiny_network(100, true);
  const int32_t leaky_acc[4] = {100, 197, 191, 186};
  for (int t = 0; t < 4; ++t) {
    leaky.step(frames[t]);
    EXPECT_EQ(leaky.accumulators()[0], leaky_acc[t]) << "step " << t + 1;
  }
  net.reset();
  EXPECT_EQ(net.states()[0].h_s[0], -800);
  EXPECT_EQ(net.accumulators()[0], 0);
}

TEST(IntegerSrc, QuantisationRoundTrips) {
  torch::manual_seed(3);
  const auto w = torch::randn({7, 13});
  std::vector<float> values(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
  for (int bits : {8, 5, 4}) {
    const auto q = ncrt::quantize_weights(values, 7, 13, bits);
    int32_t largest = 0;
    for (size_t k = 0; k < values.size(); ++k) {
      largest = std::max(largest, std::abs(q.values[k]));
      EXPECT_LE(std::abs(q.values[k] / q.scale - values[k]), 0.5 / q.scale + 1e-6) << bits << " bits";
    }
    EXPECT_EQ(largest, 1 << bits) << "the largest weight maps to 2^bits";
    // quantising the dequantised values gives the same integers
    std::vector<float> back;
    for (int32_t v : q.values) back.push_back(v / q.scale);
    EXPECT_EQ(ncrt::quantize_weights(back, 7, 13, bits).values, q.values);
  }
  EXPECT_THROW(ncrt::quantize_weights(values, 7, 13, 1), ncrt::Error);
  EXPECT_THROW(ncrt::quantize_weights(values, 7, 12, 8), ncrt::Error);
  EXPECT_EQ(ncrt::quantize_weights(std::vector<float>(6, 0.0f), 2, 3, 8).values, std::vector<int32_t>(6, 0));
}

TEST(IntegerSrc, FromAnExportedClassifier) {
  torch::manual_seed(5);
  SrcClassifier model(small_src_config(12, 6));
  const auto compiled = ncrt::Model::parse(ncm_bytes(model), "src.ncm");
  ncrt::IntegerSrcOptions options;
  options.weight_bits = 5;
  auto net = ncrt::IntegerSrc::from_model(compiled, options);
  ASSERT_EQ(net.layers().size(), 2u);
  EXPECT_EQ(net.layers()[0].hidden, 6);
  EXPECT_EQ(net.layers()[1].hidden, 6);  // 3 classes x 2
  const auto w0 = model->layers[0]->weight.contiguous();
  const auto q = ncrt::quantize_weights(std::vector<float>(w0.data_ptr<float>(), w0.data_ptr<float>() + w0.numel()), 6,
                                        12, 5);
  EXPECT_EQ(net.layers()[0].weight, q.values);
  // the frozen readout: 1 -> 10 for a neuron's own class, -0.1 -> -1 otherwise
  const std::vector<int32_t> votes = {10, -1, -1, 10, -1, -1, -1, 10, -1, -1, 10, -1, -1, -1, 10, -1, -1, 10};
  EXPECT_EQ(net.readout(), votes);
  EXPECT_EQ(net.layers()[0].bias, std::vector<int32_t>(6, -3000));
  std::vector<uint8_t> frame(12, 1);
  for (int t = 0; t < 30; ++t) net.step(frame.data());
  EXPECT_GE(net.prediction(), 0);
  EXPECT_LT(net.prediction(), 3);
  // a sequence model is not an SRC
  auto gru = perturbed_model(model_config("gru"), 1);
  EXPECT_THROW(ncrt::IntegerSrc::from_model(ncrt::Model::parse(ncm_bytes(gru), "gru.ncm"), options), ncrt::Error);
}

// An SRC classifier trained through the integer arithmetic (--arithmetic integer) runs in the
// runtime's IntegerSrc spike for spike: every layer's i, h, h_s and spikes at every step, for
// inputs strong enough to make both layers fire.
TEST(IntegerSrc, TrainingRunsTheRuntimesArithmetic) {
  torch::manual_seed(11);
  auto config = small_src_config(12, 6);
  config.cell.arithmetic = "integer";
  config.cell.train_bias = false;
  config.cell.weight_bits = 5;
  SrcClassifier model(config);
  {
    torch::NoGradGuard no_grad;  // larger weights than Glorot's so that the second layer fires too
    for (auto& layer : model->layers) layer->weight.normal_(0.2, 1.0);
  }
  const int64_t T = 40, B = 3;
  const auto x = torch::bernoulli(torch::full({T, B, 12}, 0.3));
  const auto layers = model->all_layers(x);
  ncrt::IntegerSrcOptions options;
  options.weight_bits = 5;
  auto net = ncrt::IntegerSrc::from_model(ncrt::Model::parse(ncm_bytes(model), "src.ncm"), options);
  int64_t spikes = 0;
  for (int64_t b = 0; b < B; ++b) {
    net.reset();
    for (int64_t t = 0; t < T; ++t) {
      std::vector<uint8_t> frame(12);
      for (int64_t k = 0; k < 12; ++k) frame[k] = x[t][b][k].item<float>() != 0;
      net.step(frame.data());
      for (size_t l = 0; l < layers.size(); ++l) {
        const auto& s = net.states()[l];
        const auto& q = layers[l];
        const float scale = net.layers()[l].weight_scale;
        for (int64_t j = 0; j < static_cast<int64_t>(s.h.size()); ++j) {
          const std::string where = "layer " + std::to_string(l) + " t " + std::to_string(t) + " b " +
                                    std::to_string(b) + " unit " + std::to_string(j);
          ASSERT_EQ(s.spikes[j], q.spikes[t][b][j].item<float>()) << where;
          ASSERT_EQ(s.h[j], std::lround(1000 * q.h[t][b][j].item<double>())) << where;
          ASSERT_EQ(s.h_s[j], std::lround(1000 * q.h_s[t][b][j].item<double>())) << where;
          ASSERT_EQ(s.i[j], std::lround(q.i[t][b][j].item<double>() * scale)) << where;
          spikes += s.spikes[j];
        }
      }
    }
  }
  EXPECT_GT(spikes, 20);
  // the initial states are the design's rest, not learned; the bias is the reference -3000
  EXPECT_FALSE(model->layers[0]->initial_h.requires_grad());
  EXPECT_EQ(net.layers()[0].bias, std::vector<int32_t>(6, -3000));
  // the rest: h = h_s with no input, below the threshold, and still after one more silent step
  ncrt::IntegerSrcNeuron rest{0, net.layers()[0].initial_h[0], net.layers()[0].initial_hs[0]};
  const auto before = rest;
  ncrt::integer_src_update(rest, 0, -3000, 900, 100);
  EXPECT_EQ(rest.h, before.h);
  EXPECT_EQ(rest.h_s, before.h_s);
  EXPECT_LT(rest.h, 512);
  // a trained bias is refused: the design's bias is a constant
  config.cell.train_bias = true;
  EXPECT_THROW(SrcClassifier{config}, Error);
}

// The surrogate backward of ops/src_integer.h, recomputed here from the forward's states with
// plain float64 tensor operations: dL/di_t = g_t dL/ds_t, filtered back through the leak
// 0.90625, then dW = scale sum_t dD_t^T x_t and dx = dD Wq (the kernel's GEMMs are float32: 1e-5).
TEST(IntegerSrc, SurrogateBackwardIsTheDocumentedOne) {
  torch::manual_seed(12);
  const int64_t T = 30, B = 2, I = 9, H = 5;
  const int bits = 6;
  IntegerSrcTrainingOptions o;
  o.weight_bits = bits;
  auto weight = torch::randn({H, I}, torch::kFloat64).requires_grad_();
  const auto x = torch::bernoulli(torch::full({T, B, I}, 0.4, torch::kFloat64)).requires_grad_();
  const auto bias = torch::full({H}, -6.0, torch::kFloat64);
  const auto [h_rest, hs_rest] = fused::integer_src_rest(-6.0, o);
  const auto h0 = torch::full({H}, h_rest, torch::kFloat64), hs0 = torch::full({H}, hs_rest, torch::kFloat64);
  const auto out = fused::integer_src_forward(x, weight, bias, h0, hs0, o);
  const auto d_spikes = torch::randn({T, B, H}, torch::kFloat64);
  (out.spikes * d_spikes).sum().backward();

  const auto w = weight.detach().to(torch::kFloat32).contiguous();
  const auto q = ncrt::quantize_weights(std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + w.numel()), H,
                                        I, bits);
  auto wq = torch::empty({H, I}, torch::kFloat64);
  for (int64_t k = 0; k < H * I; ++k) wq.view({-1})[k] = q.values[k];
  const double wh = 1000 * o.surrogate_h, wi = o.surrogate_i * (1 << bits);
  auto fs = [](const torch::Tensor& d) { return 1.0 / (1.0 + d.abs()).pow(2); };
  auto d_drive = torch::zeros({T, B, H}, torch::kFloat64);
  auto carry = torch::zeros({B, H}, torch::kFloat64);
  for (int64_t t = T - 1; t >= 0; --t) {
    const auto i_int = (out.i[t] * q.scale).round();
    const auto h_prev = t > 0 ? out.h[t - 1] * 1000 : h0.expand({B, H}) * 1000;
    const auto hs_prev = t > 0 ? out.h_s[t - 1] * 1000 : hs0.expand({B, H}) * 1000;
    const auto I_t = torch::where(i_int > 0, torch::full_like(i_int, 1023), torch::full_like(i_int, -1024));
    const auto v = I_t + 2 * (h_prev - 4 * hs_prev - 3000);
    const auto g = 0.75 / wh * fs((0.75 * v - 512) / wh) * 2047 / wi * fs(i_int / wi);
    carry = carry * 0.90625 + g * d_spikes[t];
    d_drive[t] = carry;
  }
  const auto flat = d_drive.view({T * B, H});
  EXPECT_TRUE(torch::allclose(weight.grad(), flat.t().mm(x.detach().view({T * B, I})) * q.scale, 1e-5, 1e-9));
  EXPECT_TRUE(torch::allclose(x.grad(), flat.mm(wq).view({T, B, I}), 1e-5, 1e-9));
  EXPECT_GT(weight.grad().abs().sum().item<double>(), 0);
  // the states carry no gradient; a non-spike input is refused
  EXPECT_FALSE(out.h.requires_grad());
  EXPECT_THROW(fused::integer_src_forward(x.detach() * 0.5, weight, bias, h0, hs0, o), Error);
}

// h' = lin(I + 2 (h - 4 h_s + bias)), h in thousandths: the bias is doubled, so b maps to 500 b and
// the authors' untrained b = -6 is exactly the reference design's -3000 (not 1000 b = -6000).
TEST(IntegerSrc, TrainedBiasMapsToFiveHundredTimesB) {
  EXPECT_EQ(ncrt::integer_bias(-6.0f), -3000);
  EXPECT_EQ(ncrt::integer_bias(-4.0f), -2000);
  EXPECT_EQ(ncrt::integer_bias(0.0011f), 1);
  EXPECT_EQ(ncrt::integer_bias(-1e9f), -32768);
  torch::manual_seed(5);
  SrcClassifier model(small_src_config(12, 6));
  {
    torch::NoGradGuard no_grad;
    model->layers[0]->bias.fill_(-6.0);
    model->layers[1]->bias.fill_(-5.0);
  }
  ncrt::IntegerSrcOptions options;
  options.trained_bias = true;
  auto net = ncrt::IntegerSrc::from_model(ncrt::Model::parse(ncm_bytes(model), "src.ncm"), options);
  EXPECT_EQ(net.layers()[0].bias, std::vector<int32_t>(6, -3000));
  EXPECT_EQ(net.layers()[1].bias, std::vector<int32_t>(6, -2500));
}

TEST(IntegerSrc, ExportedIntegerFileRoundTrips) {
  torch::manual_seed(6);
  SrcClassifier model(small_src_config(12, 6));
  {
    torch::NoGradGuard no_grad;
    for (auto& layer : model->layers) layer->weight.mul_(4);  // strong enough to spike
  }
  ncrt::IntegerSrcOptions options;
  options.weight_bits = 5;
  options.leaky_accumulators = true;
  const auto net = ncrt::IntegerSrc::from_model(ncrt::Model::parse(ncm_bytes(model), "src.ncm"), options);
  const std::string bytes = net.ncm_bytes();
  // quantised tensors are stored as integers, with their scales
  for (const char* line : {"tensor layer0.weight i16 6 12", "tensor layer0.weight_scale f32 1", "tensor readout i8 3 6",
                           "tensor layer1.bias i16 6", "constant weight_bits 5", "constant leaky_accumulators 1"})
    EXPECT_NE(bytes.find(line), std::string::npos) << line;
  auto a = net;
  auto b = ncrt::IntegerSrc::parse(bytes, "integer.ncm");
  EXPECT_EQ(b.layers()[0].weight, net.layers()[0].weight);
  EXPECT_FLOAT_EQ(b.layers()[0].weight_scale, net.layers()[0].weight_scale);
  EXPECT_EQ(b.readout(), net.readout());
  EXPECT_TRUE(b.options().leaky_accumulators);
  std::mt19937 random(3);
  std::bernoulli_distribution spike(0.3);
  uint64_t spikes = 0;
  for (int t = 0; t < 40; ++t) {
    std::vector<uint8_t> frame(12);
    for (auto& v : frame) v = spike(random);
    a.step(frame.data()), b.step(frame.data());
    ASSERT_EQ(a.accumulators(), b.accumulators()) << "step " << t;
    ASSERT_EQ(a.states()[1].h, b.states()[1].h) << "step " << t;
  }
  spikes = a.counts().spikes;
  EXPECT_GT(spikes, 0u);  // the comparison saw the network spike
  // each kind of file is refused by the other loader, with a pointer to the right one
  try {
    ncrt::Model::parse(bytes, "integer.ncm");
    ADD_FAILURE() << "a float loader took an integer model";
  } catch (const ncrt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("IntegerSrc::load"), std::string::npos) << e.what();
  }
  try {
    ncrt::IntegerSrc::parse(ncm_bytes(model), "float.ncm");
    ADD_FAILURE() << "the integer loader took a float model";
  } catch (const ncrt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--integer-bits"), std::string::npos) << e.what();
  }
  // truncated and corrupt integer files are refused like float ones
  EXPECT_THROW(ncrt::IntegerSrc::parse(bytes.substr(0, bytes.size() - 3), "cut.ncm"), ncrt::Error);
  std::string flipped = bytes;
  flipped[bytes.size() - 10] ^= 0x04;
  EXPECT_THROW(ncrt::IntegerSrc::parse(flipped, "flipped.ncm"), ncrt::Error);
  // an int8 tensor cannot hold 300
  ncrt::NcmTensor too_big;
  too_big.dtype = "i8", too_big.shape = {1}, too_big.ints = {300};
  EXPECT_THROW(ncrt::write_ncm("model integer-src\n", {{"readout", too_big}}), ncrt::Error);
}

TEST(IntegerSrc, SubsampledTraces) {
  // 8 frames of 2 pixels: pixel 0 always on, pixel 1 on at frames 0-3
  std::vector<uint8_t> frames;
  for (int t = 0; t < 8; ++t) frames.insert(frames.end(), {1, static_cast<uint8_t>(t < 4)});
  EXPECT_EQ(ncrt::subsample_trace(frames, 8, 2, 4, false), (std::vector<uint8_t>{1, 1, 1, 1, 1, 0, 1, 0}));
  // rising edges only: a pixel that stays on spikes once
  EXPECT_EQ(ncrt::subsample_trace(frames, 8, 2, 4, true), (std::vector<uint8_t>{1, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_THROW(ncrt::subsample_trace(frames, 8, 2, 3, false), ncrt::Error);
}

}  // namespace
}  // namespace neurocell
