// Multistability toolkit: VAA on point sets with known clusters, VAA* against finite
// differences, warmup of a small GRU, partial warmup of double layers, fixed points of a
// BRC unit against the analytic bistable range and of a constructed network, and the CLI.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

#include "analysis/fixed_points.h"
#include "analysis/gates.h"
#include "analysis/vaa.h"
#include "analysis/warmup.h"
#include "core/error.h"
#include "io/files.h"
#include "nn/model.h"
#include "tasks/synthetic.h"
#include "test_util.h"
#include "runs/run_folder.h"
#include "train/checkpoint.h"

namespace neurocell {
namespace {

using testing::cli;
using testing::TempDir;

// Points in groups of the given sizes: group g sits at 10*g on every axis, members of one
// group within 1e-6 of each other (well inside eps = 1e-4).
torch::Tensor clustered_points(const std::vector<int64_t>& sizes, int64_t dims = 3) {
  std::vector<torch::Tensor> rows;
  for (size_t g = 0; g < sizes.size(); ++g)
    for (int64_t m = 0; m < sizes[g]; ++m)
      rows.push_back(torch::full({dims}, 10.0 * static_cast<double>(g), torch::kFloat64) +
                     1e-6 * static_cast<double>(m) * torch::ones({dims}, torch::kFloat64) / std::sqrt(double(dims)));
  return torch::stack(rows);
}

TEST(Vaa, DistinctPointsGiveOne) {
  EXPECT_DOUBLE_EQ(analysis::vaa(clustered_points({1, 1, 1, 1, 1})), 1.0);
  EXPECT_EQ(analysis::count_attractors(clustered_points({1, 1, 1, 1, 1})), 5);
}

TEST(Vaa, OneAttractorGivesOneOverN) {
  EXPECT_DOUBLE_EQ(analysis::vaa(clustered_points({7})), 1.0 / 7);
  EXPECT_EQ(analysis::count_attractors(clustered_points({7})), 1);
}

TEST(Vaa, KnownClusters) {
  // Groups of 3, 2 and 1 among n = 6: (3 * 1/3 + 2 * 1/2 + 1 * 1) / 6 = 1/2.
  EXPECT_DOUBLE_EQ(analysis::vaa(clustered_points({3, 2, 1})), 0.5);
  EXPECT_EQ(analysis::count_attractors(clustered_points({3, 2, 1})), 3);
  // Groups of 4 and 4: every sample shares its attractor with 3 others.
  EXPECT_DOUBLE_EQ(analysis::vaa(clustered_points({4, 4})), 0.25);
}

TEST(Vaa, EpsilonDecidesWhatIsOneAttractor) {
  const auto two = torch::tensor({{0.0, 0.0}, {0.0, 5e-5}}, torch::kFloat64);
  EXPECT_DOUBLE_EQ(analysis::vaa(two, 1e-4), 0.5);
  EXPECT_DOUBLE_EQ(analysis::vaa(two, 1e-5), 1.0);
}

TEST(Vaa, StarApproximatesVaaOnSeparatedClusters) {
  // Far apart (d >> eps), C_ij ~ eps/d: VAA* is within (n - 1) eps / d_min of VAA (here
  // d_min ~ 0.17 after tanh, so within 3e-3).
  for (const auto& sizes : std::vector<std::vector<int64_t>>{{1, 1, 1, 1}, {5}, {3, 2, 1}}) {
    const auto points = clustered_points(sizes) / 100;  // keep tanh away from saturation
    EXPECT_NEAR(analysis::vaa_star(points).item<double>(), analysis::vaa(points), 3e-3);
  }
}

TEST(Vaa, StarGradientMatchesFiniteDifferences) {
  torch::manual_seed(3);
  // Pairwise distances far from eps on both sides: two points within 1e-6, the rest spread.
  auto points = torch::randn({5, 3}, torch::kFloat64) * 0.5;
  points[1] = points[0] + 1e-6;
  testing::expect_gradients_match_finite_differences(
      [](const std::vector<torch::Tensor>& in) { return analysis::vaa_star(in[0]).reshape({1}); }, {points}, 1e-8,
      1e-5);
}

TEST(Vaa, StarIsFiniteAndDifferentiableOnIdenticalPoints) {
  auto points = torch::zeros({4, 3}, torch::kFloat64).requires_grad_(true);
  const auto star = analysis::vaa_star(points);
  EXPECT_DOUBLE_EQ(star.item<double>(), 0.25);
  star.backward();
  EXPECT_TRUE(torch::isfinite(points.grad()).all().item<bool>());
}

ModelConfig small_model(const std::string& cell, int64_t hidden, int64_t layers, bool double_layer = false) {
  ModelConfig c;
  c.cell = cell;
  c.input_size = 1;
  c.hidden_size = hidden;
  c.layers = layers;
  c.double_layer = double_layer;
  return c;
}

analysis::InputSampler copy_inputs(const Task& task) {
  return [&task](int64_t n, torch::Generator& g) { return task.sample(n, g).inputs; };
}

// Mean VAA* over the layers for one fixed batch and settling horizon.
double mean_vaa_star(SequenceModel& model, const Task& task, int64_t settle) {
  auto generator = make_generator(11, 0);
  const auto inputs = task.sample(32, generator).inputs;
  torch::NoGradGuard no_grad;
  double sum = 0;
  const auto stars = analysis::layer_vaa_star(model, inputs, settle, generator);
  for (const auto& s : stars) sum += s.item<double>();
  return sum / static_cast<double>(stars.size());
}

TEST(Warmup, RaisesVaaStarOfASmallGru) {
  torch::manual_seed(1);
  SequenceModel model(small_model("gru", 16, 1));
  TaskConfig tc;
  tc.length = 20;
  const auto task = make_task(tc);
  const double before = mean_vaa_star(model, *task, 200);
  EXPECT_LT(before, 0.2) << "a fresh GRU should be monostable";
  analysis::WarmupOptions options;
  options.steps = 100;
  analysis::warmup(model, copy_inputs(*task), options);
  const double after = mean_vaa_star(model, *task, 200);
  EXPECT_GE(after, 0.5) << "VAA* before warmup " << before;
}

TEST(Warmup, PartialWarmupLeavesTheSecondHalvesUnchanged) {
  torch::manual_seed(2);
  SequenceModel model(small_model("gru", 8, 2, true));
  ASSERT_TRUE(analysis::warmup_is_partial(model));
  TaskConfig tc;
  tc.length = 10;
  const auto task = make_task(tc);
  std::vector<torch::Tensor> first, second;
  for (const auto& layer : model->stack->layers) {
    const auto d = std::dynamic_pointer_cast<DoubleLayerImpl>(layer);
    for (const auto& p : d->first->parameters()) first.push_back(p.detach().clone());
    for (const auto& p : d->second->parameters()) second.push_back(p.detach().clone());
  }
  const auto readout = model->readout->weight.detach().clone();
  analysis::WarmupOptions options;
  options.steps = 5;
  analysis::warmup(model, copy_inputs(*task), options);
  size_t i = 0, k = 0;
  bool first_changed = false;
  for (const auto& layer : model->stack->layers) {
    const auto d = std::dynamic_pointer_cast<DoubleLayerImpl>(layer);
    for (const auto& p : d->first->parameters()) first_changed |= !torch::equal(p, first[i++]);
    for (const auto& p : d->second->parameters()) EXPECT_TRUE(torch::equal(p, second[k++]));
  }
  EXPECT_TRUE(first_changed);
  EXPECT_TRUE(torch::equal(model->readout->weight, readout));
}

// The warmup authors' partial warmup (glambrechts/warmup models.py:224, 506-519): the same loss on
// the first halves, but one optimiser over every parameter, so the second half of every layer but
// the last moves through the next layer's start states; the last layer's second half and the
// readout get no gradient and stay.
TEST(Warmup, AuthorsPartialWarmupMovesTheLowerSecondHalves) {
  torch::manual_seed(2);
  SequenceModel model(small_model("gru", 8, 2, true));
  TaskConfig tc;
  tc.length = 10;
  const auto task = make_task(tc);
  auto second_half = [&](size_t l) {
    std::vector<torch::Tensor> params;
    for (const auto& p : std::dynamic_pointer_cast<DoubleLayerImpl>(model->stack->layers[l])->second->parameters())
      params.push_back(p.detach().clone());
    return params;
  };
  const auto lower = second_half(0), upper = second_half(1);
  const auto readout = model->readout->weight.detach().clone();
  analysis::WarmupOptions options;
  options.steps = 5;
  options.partial = "authors";
  analysis::warmup(model, copy_inputs(*task), options);
  const auto lower_after = second_half(0), upper_after = second_half(1);
  bool lower_changed = false;
  for (size_t i = 0; i < lower.size(); ++i) lower_changed |= !torch::equal(lower[i], lower_after[i]);
  EXPECT_TRUE(lower_changed) << "the first layer's second half feeds the second layer's start states";
  for (size_t i = 0; i < upper.size(); ++i) EXPECT_TRUE(torch::equal(upper[i], upper_after[i]));
  EXPECT_TRUE(torch::equal(model->readout->weight, readout));
  options.partial = "both";
  EXPECT_THROW(options.validate(), Error);
  EXPECT_EQ(analysis::to_json(options).at("partial"), "both");
  EXPECT_FALSE(analysis::to_json(analysis::WarmupOptions{}).contains("partial"));  // earlier configs read the same
}

// a_t and c_t are the gates the cell used: the update h_t = c_t h_{t-1} + (1 - c_t) tanh(U_h x_t +
// a_t h_{t-1} + b_h) rebuilt from them gives the layer's own (fused) output, for BRC and nBRC,
// single and double layers; a_t > 1 marks the bistable units.
TEST(GateTraces, RebuildTheLayersOutputs) {
  for (const std::string cell : {"brc", "nbrc"})
    for (bool double_layer : {false, true}) {
      torch::manual_seed(7);
      auto config = small_model(cell, 6, 2, double_layer);
      config.input_size = 2;
      SequenceModel model(config);
      model->to(torch::kFloat64);
      {
        torch::NoGradGuard no_grad;  // larger drives, so some units are bistable
        for (auto& p : model->stack->parameters()) p.mul_(3.0);
      }
      const auto x = torch::randn({9, 4, 2}, torch::kFloat64);
      ASSERT_TRUE(analysis::has_bistable_gates(model));
      const auto gates = analysis::bistable_gates(model, x);
      const auto outputs = model->stack->forward(x);
      ASSERT_EQ(gates.a.size(), 2u);
      torch::Tensor input = x;
      for (size_t l = 0; l < 2; ++l) {
        const auto h = outputs[l].h;
        const auto a = gates.a[l], c = gates.c[l];
        ASSERT_EQ(a.sizes(), h.sizes());
        EXPECT_TRUE((a >= 0).all().item<bool>() && (a <= 2).all().item<bool>());
        EXPECT_TRUE((c >= 0).all().item<bool>() && (c <= 1).all().item<bool>());
        // the candidate's drive U_h x + b_h of each half, from the layer's parameters
        std::vector<RecurrentLayer> parts = {model->stack->layers[l]};
        if (double_layer) {
          auto d = std::dynamic_pointer_cast<DoubleLayerImpl>(parts[0]);
          parts = {d->first, d->second};
        }
        std::vector<torch::Tensor> drives;
        for (const auto& part : parts) {
          const auto params = part->named_parameters();
          const int64_t H = part->hidden_size();
          drives.push_back(torch::matmul(input, params["weight_ih"].narrow(0, 2 * H, H).t()) +
                           params["bias"].narrow(0, 2 * H, H));
        }
        const auto drive_h = torch::cat(drives, 2);
        auto previous = torch::zeros({4, h.size(2)}, torch::kFloat64);
        for (int64_t t = 0; t < 9; ++t) {
          const auto rebuilt = c[t] * previous + (1 - c[t]) * torch::tanh(drive_h[t] + a[t] * previous);
          EXPECT_TRUE(torch::allclose(rebuilt, h[t], 1e-10, 1e-12)) << cell << " layer " << l << " t " << t;
          previous = h[t];
        }
        input = h;
      }
      const double fraction = analysis::bistable_fraction(gates);
      EXPECT_GT(fraction, 0.0) << cell;
      EXPECT_LT(fraction, 1.0) << cell;
    }
  SequenceModel gru(small_model("gru", 4, 1));
  EXPECT_THROW(analysis::bistable_gates(gru, torch::zeros({3, 2, 1})), Error);
}

TEST(Warmup, FullWarmupUpdatesEveryLayer) {
  torch::manual_seed(4);
  SequenceModel model(small_model("brc", 6, 2));
  EXPECT_FALSE(analysis::warmup_is_partial(model));
  TaskConfig tc;
  tc.length = 10;
  const auto task = make_task(tc);
  std::vector<torch::Tensor> before;
  for (const auto& p : model->stack->parameters()) before.push_back(p.detach().clone());
  analysis::WarmupOptions options;
  options.steps = 3;
  const auto log = analysis::warmup(model, copy_inputs(*task), options);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].vaa_star.size(), 2u);
  EXPECT_EQ(log[0].settle_steps, 1);  // S_0 ~ U{1..1}
  for (const auto& s : log) EXPECT_LE(s.settle_steps, 1 + 10 * (s.step - 1));
  size_t i = 0;
  for (const auto& layer : model->stack->layers) {
    bool changed = false;
    for (const auto& p : layer->parameters()) changed |= !torch::equal(p, before[i++]);
    EXPECT_TRUE(changed);
  }
}

TEST(Vaa, MeasurementIsDeterministicAndLeavesTheModelUnchanged) {
  torch::manual_seed(5);
  SequenceModel model(small_model("lstm", 5, 2));
  TaskConfig tc;
  tc.length = 12;
  const auto task = make_task(tc);
  analysis::VaaOptions o;
  o.samples = 16, o.settle_steps = 300, o.batches = 2;
  const auto weights = model->stack->layers[0]->parameters()[0].detach().clone();
  const auto a = analysis::measure_vaa(model, copy_inputs(*task), o);
  const auto b = analysis::measure_vaa(model, copy_inputs(*task), o);
  EXPECT_EQ(a.vaa, b.vaa);
  EXPECT_GE(a.vaa, 1.0 / 16 - 1e-12);
  EXPECT_LE(a.vaa, 1.0);
  EXPECT_TRUE(torch::equal(weights, model->stack->layers[0]->parameters()[0]));
}

TEST(Vaa, JoinAndSplitStatesRoundTrip) {
  SequenceModel model(small_model("lstm", 3, 2));
  const auto z = torch::randn({4, model->state_width()});
  const auto parts = analysis::split_states(model, z);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_TRUE(parts[0].c.defined());
  EXPECT_TRUE(torch::equal(analysis::join_states(parts), z));
  EXPECT_THROW(analysis::split_states(model, torch::randn({4, 5})), Error);
}

TEST(FixedPoints, BrcUnitRecoversTheAnalyticBistableRange) {
  for (double a : {1.2, 1.5, 3.0}) {
    const double half = analysis::brc_bistable_half_width(a);
    ASSERT_GT(half, 0);
    const int64_t n = 4001;
    const double lo = -2, hi = 2, spacing = (hi - lo) / (n - 1);
    const auto points = analysis::brc_unit_fixed_points(a, lo, hi, n);
    std::map<double, std::pair<int, int>> at;  // u -> (stable, unstable)
    for (const auto& p : points) {
      EXPECT_NEAR(std::tanh(p.u + a * p.h), p.h, 1e-12);
      (p.stable ? at[p.u].first : at[p.u].second)++;
    }
    double first = NAN, last = NAN;
    for (const auto& [u, counts] : at) {
      if (counts.first >= 2) {
        EXPECT_EQ(counts.second, 1) << "two stable points are separated by an unstable one, u = " << u;
        if (std::isnan(first)) first = u;
        last = u;
      } else {
        EXPECT_EQ(counts.first, 1) << "u = " << u;
      }
    }
    EXPECT_NEAR(first, -half, 2 * spacing) << "a = " << a;
    EXPECT_NEAR(last, half, 2 * spacing) << "a = " << a;
  }
}

TEST(FixedPoints, BrcUnitBelowOneIsMonostable) {
  EXPECT_EQ(analysis::brc_bistable_half_width(0.8), 0.0);
  for (const auto& p : analysis::brc_unit_fixed_points(0.8, -2, 2, 101)) EXPECT_TRUE(p.stable);
  EXPECT_EQ(analysis::brc_unit_fixed_points(0.8, -2, 2, 101).size(), 101u);
}

TEST(FixedPoints, SrcUnitRestsAtZeroInputAndSpikesUnderStrongInput) {
  const auto rest = analysis::src_unit_fixed_points(2, -7, -6, 0.9, 0, 0, 0, 1);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_TRUE(rest[0].stable);
  EXPECT_LT(rest[0].h, -0.8);
  const auto driven = analysis::src_unit_fixed_points(2, -7, -6, 0.9, 0, 3, 3, 1);
  ASSERT_EQ(driven.size(), 1u);
  EXPECT_FALSE(driven[0].stable);
}

TEST(FixedPoints, ConstructedBrcNetworkHasFourStableStates) {
  // Two BRC units with a = 1.5 and no input: each has the stable points +-h*, h* = tanh(1.5 h*).
  torch::manual_seed(6);
  SequenceModel model(small_model("brc", 2, 1));
  auto layer = std::dynamic_pointer_cast<BrcLayerImpl>(model->stack->layers[0]);
  {
    torch::NoGradGuard no_grad;
    layer->weight_ih.zero_();
    layer->bias.zero_();
    layer->bias.narrow(0, 0, 2).fill_(std::atanh(0.5));  // a = 1 + tanh(b_a) = 1.5
    layer->w_a.zero_();
    layer->w_c.zero_();
  }
  double h_star = 1;
  for (int i = 0; i < 200; ++i) h_star = std::tanh(1.5 * h_star);
  analysis::FixedPointOptions options;
  options.starts = 64;
  const auto report = analysis::find_fixed_points(model, torch::zeros({1}), options);
  EXPECT_EQ(report.unconverged, 0);
  ASSERT_EQ(report.points.size(), 4u);
  int64_t basins = 0;
  for (const auto& p : report.points) {
    EXPECT_TRUE(p.stable);
    EXPECT_LT(p.spectral_radius, 1);
    basins += p.basin;
    for (double v : p.state) EXPECT_NEAR(std::abs(v), h_star, 1e-8);
  }
  EXPECT_EQ(basins, 64);
  // The unstable origin: a Jacobian with radius c + (1 - c) a = 0.5 + 0.5 * 1.5 > 1.
  model->to(torch::kFloat64);
  const auto jacobian = analysis::one_step_jacobian(model, torch::zeros({2}, torch::kFloat64), torch::zeros({1}));
  // (b_a was stored in float32, so a = 1.5 to about 1e-8.)
  EXPECT_NEAR(torch::linalg::eigvals(jacobian).abs().max().item<double>(), 1.25, 1e-7);
}

// ---- Command line ----------------------------------------------------------------------

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path, "json")); }

TEST(MultistabilityCli, TrainWithWarmupLogsVaaAndPlots) {
  TempDir dir;
  const auto run = dir.path("run");
  const auto r = cli({"train", "--task", "copy-first-input", "--cell", "gru", "--layers", "1", "--hidden", "6",
                      "--length", "8", "--batch", "8", "--steps", "4", "--eval-every", "2", "--val-size", "16",
                      "--test-size", "16", "--warmup", "3", "--vaa-every", "2", "--vaa-settle", "20",
                      "--vaa-batches", "1", "--vaa-samples", "8", "--quiet", "--out", run});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("after warmup"), std::string::npos) << r.out;
  const auto report = read_json(run + "/report.json");
  for (const char* stage : {"initial", "after_warmup", "final"}) EXPECT_TRUE(report["vaa"].contains(stage)) << stage;
  EXPECT_EQ(report["warmup"]["steps"], 3);
  int warmup_lines = 0, vaa_lines = 0, training_with_vaa = 0;
  std::ifstream metrics(run + "/metrics.jsonl");
  for (std::string line; std::getline(metrics, line);) {
    const auto j = nlohmann::json::parse(line);
    const std::string phase = j.value("phase", "train");
    warmup_lines += phase == "warmup";
    vaa_lines += phase == "vaa";
    training_with_vaa += phase == "train" && j.contains("vaa");
  }
  EXPECT_EQ(warmup_lines, 3);
  EXPECT_EQ(vaa_lines, 3);
  EXPECT_EQ(training_with_vaa, 2);
  const auto picture = dir.path("vaa.png");
  const auto plot = cli({"plot", "vaa", "--checkpoint", run, "--out", picture});
  ASSERT_EQ(plot.code, 0) << plot.err;
  EXPECT_TRUE(file_exists(picture));

  // The same run loads with its multistability options, and `vaa` measures it.
  EXPECT_EQ(load_run_config(run).multistability.warmup.steps, 3);
  const auto v = cli({"vaa", "--checkpoint", run, "--vaa-settle", "20", "--vaa-batches", "1", "--vaa-samples", "8"});
  ASSERT_EQ(v.code, 0) << v.err;
  EXPECT_EQ(v.out.rfind("VAA ", 0), 0u) << v.out;
}

TEST(MultistabilityCli, WarmupWritesANewRunAndNeverTheOriginal) {
  TempDir dir;
  const auto run = dir.path("run"), warmed = dir.path("warmed");
  ASSERT_EQ(cli({"train", "--cell", "brc", "--layers", "1", "--hidden", "4", "--length", "6", "--batch", "4",
                 "--steps", "2", "--val-size", "8", "--test-size", "8", "--quiet", "--out", run})
                .code,
            0);
  const auto weights_before = read_file(run + "/model.safetensors", "weights");
  const auto same = cli({"warmup", "--checkpoint", run, "--out", run, "--steps", "2"});
  EXPECT_NE(same.code, 0);
  EXPECT_NE(same.err.find("another folder"), std::string::npos) << same.err;
  const auto r = cli({"warmup", "--checkpoint", run, "--out", warmed, "--steps", "2", "--vaa-settle", "10",
                      "--vaa-batches", "1", "--vaa-samples", "4", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_file(run + "/model.safetensors", "weights"), weights_before);
  const auto report = read_json(warmed + "/report.json");
  EXPECT_TRUE(report["vaa"].contains("after_warmup"));
  EXPECT_TRUE(report["test"].contains("mse"));
  EXPECT_EQ(cli({"eval", "--checkpoint", warmed}).code, 0);
  // Training can start from the warmed weights; a different architecture is refused.
  EXPECT_EQ(cli({"train", "--cell", "brc", "--layers", "1", "--hidden", "4", "--length", "6", "--batch", "4",
                 "--steps", "1", "--val-size", "8", "--test-size", "8", "--quiet", "--init", warmed, "--out",
                 dir.path("continued")})
                .code,
            0);
  const auto wrong = cli({"train", "--cell", "brc", "--layers", "1", "--hidden", "5", "--length", "6", "--quiet",
                          "--init", warmed, "--out", dir.path("wrong")});
  EXPECT_NE(wrong.code, 0);
  EXPECT_NE(wrong.err.find("different model"), std::string::npos) << wrong.err;
}

TEST(MultistabilityCli, UnitBifurcationDiagram) {
  TempDir dir;
  const auto picture = dir.path("bif.svg");
  const auto r = cli({"attractors", "--cell", "brc", "--a", "1.5", "--u-range", "-1:1:201", "--out", picture});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("bistable for u in"), std::string::npos) << r.out;
  EXPECT_TRUE(file_exists(picture));
  const auto src = cli({"attractors", "--cell", "src", "--u-range", "0:4:81"});
  ASSERT_EQ(src.code, 0) << src.err;
  EXPECT_NE(src.out.find("spiking"), std::string::npos) << src.out;
  // The choices are the registry's cells with a unit diagram, named in the refusal.
  const auto gru = cli({"attractors", "--cell", "gru"});
  EXPECT_NE(gru.code, 0);
  EXPECT_NE(gru.err.find("brc"), std::string::npos) << gru.err;
  EXPECT_NE(gru.err.find("src"), std::string::npos) << gru.err;
}

TEST(MultistabilityCli, NetworkFixedPoints) {
  TempDir dir;
  const auto run = dir.path("run");
  ASSERT_EQ(cli({"train", "--cell", "gru", "--layers", "1", "--hidden", "3", "--length", "5", "--batch", "4",
                 "--steps", "1", "--val-size", "8", "--test-size", "8", "--quiet", "--out", run})
                .code,
            0);
  const auto r = cli({"attractors", "--checkpoint", run, "--starts", "16", "--input", "0.5"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| 1 |"), std::string::npos) << r.out;
  const auto wrong = cli({"attractors", "--checkpoint", run, "--input", "1,2"});
  EXPECT_NE(wrong.code, 0);
  EXPECT_NE(wrong.err.find("input width"), std::string::npos) << wrong.err;
}

TEST(MultistabilityCli, BadInputIsRefusedClearly) {
  TempDir dir;
  const auto bad_range = cli({"attractors", "--cell", "brc", "--u-range", "2:1"});
  EXPECT_NE(bad_range.code, 0);
  EXPECT_NE(bad_range.err.find("--u-range"), std::string::npos) << bad_range.err;
  const auto nothing = cli({"attractors"});
  EXPECT_NE(nothing.code, 0);
  EXPECT_NE(nothing.err.find("--checkpoint"), std::string::npos) << nothing.err;
  const auto missing = cli({"vaa", "--checkpoint", dir.path("nope")});
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
  const auto bad_picture = cli({"attractors", "--cell", "brc", "--out", dir.path("x.jpg")});
  EXPECT_NE(bad_picture.code, 0);
  EXPECT_NE(bad_picture.err.find(".png or .svg"), std::string::npos) << bad_picture.err;
  EXPECT_FALSE(file_exists(dir.path("x.jpg")));
  const auto bad_warmup = cli({"train", "--cell", "gru", "--warmup", "-1", "--out", dir.path("w")});
  EXPECT_NE(bad_warmup.code, 0);
  EXPECT_FALSE(file_exists(dir.path("w") + "/config.json"));
  // A run without any VAA measurement has nothing to plot.
  const auto run = dir.path("plain");
  ASSERT_EQ(cli({"train", "--cell", "gru", "--layers", "1", "--hidden", "3", "--length", "5", "--batch", "4",
                 "--steps", "1", "--val-size", "8", "--test-size", "8", "--quiet", "--out", run})
                .code,
            0);
  const auto no_vaa = cli({"plot", "vaa", "--checkpoint", run, "--out", dir.path("v.png")});
  EXPECT_NE(no_vaa.code, 0);
  EXPECT_NE(no_vaa.err.find("no VAA"), std::string::npos) << no_vaa.err;
}

}  // namespace
}  // namespace neurocell
