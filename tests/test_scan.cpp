// Scans of kernels/scan.h (MRU family, minGRU, LRU core). The chunked scan (automatic and small
// chunks, so that chunk boundaries fall everywhere) and the sequential kernel against the
// LibTorch reference loop: forward values bit for bit where the arithmetic is exact (BMRU,
// CMRU with 2 levels, fq-BMRU, CMRU with 5 levels from h0 on its levels), 1e-12 in float64
// otherwise (aCMRU, CMRU with 4 or 5 levels, minGRU, LRU), and every gradient to 1e-10
// in float64 against autograd through the reference. Also: the reference against finite
// differences where it is smooth, a BMRU unit holding its bit for a million steps, the
// clamped-add composition as a property, and bad inputs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

#include <nlohmann/json.hpp>

#include "bench/bench_scan.h"
#include "cells/mru.h"
#include "core/error.h"
#include "kernels/scan.h"
#include "nn/cell_registry.h"
#include "reference/scan_reference.h"
#include "test_util.h"

namespace neurocell {
namespace {

using testing::expect_error_containing;



struct Schedule {
  ScanAlgorithm algorithm;
  int64_t chunk;
};
// Sequential, chunked with the automatic plan, and chunks of 1, 3, 7 and 64 steps.
const Schedule kSchedules[] = {{ScanAlgorithm::sequential, 0}, {ScanAlgorithm::chunked, 0},
                               {ScanAlgorithm::chunked, 1},    {ScanAlgorithm::chunked, 3},
                               {ScanAlgorithm::chunked, 7},    {ScanAlgorithm::chunked, 64}};

std::string name_of(const Schedule& s) {
  if (s.algorithm == ScanAlgorithm::sequential) return "sequential";
  return "chunked/" + (s.chunk ? std::to_string(s.chunk) : std::string("auto"));
}

struct ScanShape {
  int64_t T, B, H;
};
// T = 1, primes, non-multiples of the chunks; B = 1; odd H on both sides of the SIMD width.
const ScanShape kScanShapes[] = {{1, 1, 1}, {13, 1, 5}, {97, 1, 3}, {130, 2, 17}, {31, 4, 9}};

std::string name_of(const ScanShape& s) {
  return "T=" + std::to_string(s.T) + " B=" + std::to_string(s.B) + " H=" + std::to_string(s.H);
}

const char* name_of(MruKind kind) {
  switch (kind) {
    case MruKind::bmru: return "bmru";
    case MruKind::cmru: return "cmru";
    case MruKind::acmru: return "acmru";
    case MruKind::fq_bmru: return "fq_bmru";
  }
  return "?";
}

// Largest |a - b| (0 for two empty tensors).
double max_error(const torch::Tensor& a, const torch::Tensor& b) {
  return a.numel() ? (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>() : 0.0;
}

void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, double tolerance, const std::string& what) {
  ASSERT_TRUE(actual.defined() && expected.defined()) << what;
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const auto bound = tolerance * (1 + expected.abs());
  EXPECT_TRUE(((actual - expected).abs() <= bound).all().item<bool>())
      << what << ": max error " << max_error(actual, expected);
}

// ---- MRU

struct MruInputs {
  torch::Tensor drive, beta, alpha, h0;
};

// Mostly holds with occasional sets, so that held runs cross chunk boundaries, and h0 partly
// outside [-1, 1] (CMRU's first step must clip it).
MruInputs make_mru_inputs(MruKind kind, const ScanShape& s, torch::ScalarType dtype, uint64_t seed) {
  torch::manual_seed(seed);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto sets = torch::rand({s.T, s.B, s.H}, f64) < 0.15;
  MruInputs in;
  if (kind == MruKind::fq_bmru) {
    // Holds: p in (-1.1, -0.1), i.e. softplus(p) inside (0.25, 0.75).
    in.drive = torch::where(sets, torch::randn({s.T, s.B, s.H}, f64) * 3,
                            -0.6 + 0.5 * (2 * torch::rand({s.T, s.B, s.H}, f64) - 1));
  } else {
    in.drive = torch::where(sets, torch::randn({s.T, s.B, s.H}, f64) * 2,
                            0.25 * (2 * torch::rand({s.T, s.B, s.H}, f64) - 1));
    in.beta = 0.3 + 0.7 * torch::rand({s.H}, f64);
  }
  if (kind == MruKind::acmru) in.alpha = 0.1 + 0.9 * torch::rand({s.H}, f64);
  in.h0 = 3 * torch::rand({s.B, s.H}, f64) - 1.5;
  for (auto* t : {&in.drive, &in.beta, &in.alpha, &in.h0})
    if (t->defined()) *t = t->to(dtype);
  return in;
}

MruOptions mru_options(MruKind kind, int64_t levels, const Schedule& schedule) {
  MruOptions o;
  o.kind = kind;
  o.levels = levels;
  o.tau = 0.7;
  o.algorithm = schedule.algorithm;
  o.chunk = schedule.chunk;
  return o;
}

// h, then the gradients of sum(h * probe) with respect to drive, beta, alpha, h0 (those used).
std::vector<torch::Tensor> run_mru(const MruInputs& in, const MruOptions& options, bool use_fused,
                                   const torch::Tensor& probe) {
  std::vector<torch::Tensor> leaves;
  auto leaf = [&](const torch::Tensor& t) {
    if (!t.defined()) return t;
    leaves.push_back(t.clone().requires_grad_(true));
    return leaves.back();
  };
  const auto drive = leaf(in.drive), beta = leaf(in.beta), alpha = leaf(in.alpha), h0 = leaf(in.h0);
  const auto h = use_fused ? fused::mru_scan(drive, beta, alpha, h0, options)
                           : reference::mru_scan(drive, beta, alpha, h0, options);
  std::vector<torch::Tensor> out = {h.detach()};
  for (const auto& g : torch::autograd::grad({(h * probe).sum()}, leaves)) out.push_back(g);
  return out;
}

struct MruCase {
  MruKind kind;
  int64_t levels;
  bool exact;    // forward equal bit for bit
  bool on_grid;  // h0 on the CMRU levels (then every add of CMRU with dyadic spacing is exact)
};
const MruCase kMruCases[] = {{MruKind::bmru, 2, true, false},  {MruKind::cmru, 2, true, false},
                             {MruKind::cmru, 5, false, false}, {MruKind::cmru, 5, true, true},
                             {MruKind::cmru, 4, false, false}, {MruKind::acmru, 2, false, false},
                             {MruKind::fq_bmru, 2, true, false}};

std::string name_of(const MruCase& c) {
  return std::string(name_of(c.kind)) + " levels " + std::to_string(c.levels) + (c.on_grid ? " h0 on the levels" : "");
}

MruInputs make_mru_inputs(const MruCase& c, const ScanShape& s, torch::ScalarType dtype, uint64_t seed) {
  auto in = make_mru_inputs(c.kind, s, dtype, seed);
  const double delta = 2.0 / static_cast<double>(c.levels - 1);
  if (c.on_grid) in.h0 = torch::clamp(torch::round(in.h0 / delta) * delta, -1, 1);
  return in;
}

TEST(ScanForward, MruChunkedEqualsSequentialEqualsReference) {
  for (const auto& c : kMruCases) {
    for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
      if (!c.exact && dtype == torch::kFloat32) continue;
      for (const auto& s : kScanShapes) {
        const auto in = make_mru_inputs(c, s, dtype, 100 + s.T);
        torch::NoGradGuard no_grad;
        const auto expected = reference::mru_scan(in.drive, in.beta, in.alpha, in.h0, mru_options(c.kind, c.levels, {}));
        for (const auto& schedule : kSchedules) {
          const auto h = fused::mru_scan(in.drive, in.beta, in.alpha, in.h0, mru_options(c.kind, c.levels, schedule));
          const std::string what = name_of(c) + " " + c10::toString(dtype) + " " + name_of(s) + " " + name_of(schedule);
          if (c.exact) {
            EXPECT_TRUE(torch::equal(h, expected)) << what << ": max error " << max_error(h, expected);
          } else {
            EXPECT_LE(max_error(h, expected), 1e-12) << what;
          }
        }
      }
    }
  }
}

// The automatic chunk plan depends on the number of threads: check it on 1, 3 and 4 as well.
TEST(ScanForward, ChunkedIndependentOfThreadCount) {
  const int threads = at::get_num_threads();
  const ScanShape s{211, 1, 6};
  for (int n : {1, 3, 4}) {
    at::set_num_threads(n);
    for (const auto& c : kMruCases) {
      const auto in = make_mru_inputs(c, s, torch::kFloat64, 7);
      torch::NoGradGuard no_grad;
      const auto expected = reference::mru_scan(in.drive, in.beta, in.alpha, in.h0, mru_options(c.kind, c.levels, {}));
      const auto h = fused::mru_scan(in.drive, in.beta, in.alpha, in.h0,
                                     mru_options(c.kind, c.levels, {ScanAlgorithm::chunked, 0}));
      EXPECT_LE(max_error(h, expected), c.exact ? 0.0 : 1e-12) << name_of(c) << " on " << n << " threads";
    }
  }
  at::set_num_threads(threads);
}

TEST(ScanBackward, MruMatchesReferenceAutograd) {
  for (const auto& c : kMruCases) {
    for (const auto& s : kScanShapes) {
      const auto in = make_mru_inputs(c, s, torch::kFloat64, 200 + s.T);
      const auto probe = torch::randn({s.T, s.B, s.H}, torch::kFloat64);
      const auto expected = run_mru(in, mru_options(c.kind, c.levels, {}), false, probe);
      for (const auto& schedule : kSchedules) {
        const auto got = run_mru(in, mru_options(c.kind, c.levels, schedule), true, probe);
        ASSERT_EQ(got.size(), expected.size());
        for (size_t i = 1; i < got.size(); ++i)
          expect_close(got[i], expected[i], 1e-10,
                       name_of(c) + " " + name_of(s) + " " + name_of(schedule) + ": gradient " + std::to_string(i));
      }
    }
  }
}

// The surrogate gradients of the reference, written out for one BMRU step by hand.
TEST(ScanReference, BmruSurrogateByHand) {
  const double u = 0.8, beta = 0.5, tau = 0.7, h0 = -1;
  auto drive = torch::full({1, 1, 1}, u, torch::kFloat64).requires_grad_(true);
  auto b = torch::full({1}, beta, torch::kFloat64).requires_grad_(true);
  auto h = torch::full({1, 1}, h0, torch::kFloat64).requires_grad_(true);
  MruOptions o;
  o.tau = tau;
  const auto out = reference::mru_scan(drive, b, torch::Tensor(), h, o);
  EXPECT_EQ(out.item<double>(), 1.0);
  out.sum().backward();
  const double m = 1 / (1 + std::exp(-(u - beta) / tau)), s = std::tanh(u / tau), dm = m * (1 - m) / tau;
  EXPECT_NEAR(h.grad().item<double>(), 1 - m, 1e-15);
  EXPECT_NEAR(drive.grad().item<double>(), dm * (s - h0) + m * (1 - s * s) / tau, 1e-15);
  EXPECT_NEAR(b.grad().item<double>(), -dm * (s - h0), 1e-15);
}

// A unit set once and then driven by holds (|u| <= beta) keeps its value bit for bit.
TEST(ScanBmru, HoldsItsBitForAMillionSteps) {
  const int64_t T = 1000000, H = 3;
  torch::manual_seed(5);
  const auto beta = torch::full({H}, 0.5f);
  auto drive = (torch::rand({T, 1, H}) * 2 - 1) * 0.5f;  // |u| <= beta: hold
  drive[0] = torch::tensor({3.0f, -2.0f, 0.9f}).view({1, H});
  const auto h0 = torch::zeros({1, H});
  const auto expected = torch::tensor({1.0f, -1.0f, 1.0f}).view({1, 1, H}).expand({T, 1, H});
  torch::NoGradGuard no_grad;
  for (auto algorithm : {ScanAlgorithm::automatic, ScanAlgorithm::sequential, ScanAlgorithm::chunked}) {
    for (auto kind : {MruKind::bmru, MruKind::cmru}) {
      MruOptions o;
      o.kind = kind;
      o.algorithm = algorithm;
      EXPECT_TRUE(torch::equal(fused::mru_scan(drive, beta, torch::Tensor(), h0, o), expected)) << name_of(kind);
    }
  }
}

// ---- minGRU

TEST(ScanForward, MinGruChunkedEqualsSequentialEqualsReference) {
  for (const auto& s : kScanShapes) {
    torch::manual_seed(300 + s.T);
    const auto drive = torch::randn({s.T, s.B, 2 * s.H}, torch::kFloat64) * 2;
    const auto h0 = torch::randn({s.B, s.H}, torch::kFloat64);
    torch::NoGradGuard no_grad;
    const auto expected = reference::mingru_scan(drive, h0);
    for (const auto& schedule : kSchedules)
      EXPECT_LE(max_error(fused::mingru_scan(drive, h0, schedule.algorithm, schedule.chunk), expected), 1e-12)
          << name_of(s) << " " << name_of(schedule);
  }
}

TEST(ScanBackward, MinGruMatchesReferenceAutograd) {
  for (const auto& s : kScanShapes) {
    torch::manual_seed(400 + s.T);
    const auto drive = torch::randn({s.T, s.B, 2 * s.H}, torch::kFloat64) * 2;
    const auto h0 = torch::randn({s.B, s.H}, torch::kFloat64);
    const auto probe = torch::randn({s.T, s.B, s.H}, torch::kFloat64);
    auto grads = [&](bool use_fused, const Schedule& schedule) {
      auto d = drive.clone().requires_grad_(true), h = h0.clone().requires_grad_(true);
      const auto out = use_fused ? fused::mingru_scan(d, h, schedule.algorithm, schedule.chunk) : reference::mingru_scan(d, h);
      return torch::autograd::grad({(out * probe).sum()}, {d, h});
    };
    const auto expected = grads(false, {});
    for (const auto& schedule : kSchedules) {
      const auto got = grads(true, schedule);
      for (size_t i = 0; i < got.size(); ++i)
        expect_close(got[i], expected[i], 1e-10, name_of(s) + " " + name_of(schedule) + ": gradient " + std::to_string(i));
    }
  }
}

TEST(ScanReference, MinGruMatchesFiniteDifferences) {
  torch::manual_seed(8);
  testing::expect_gradients_match_finite_differences(
      [](const std::vector<torch::Tensor>& in) { return reference::mingru_scan(in[0], in[1]); },
      {torch::randn({5, 2, 6}), torch::randn({2, 3})});
}

// ---- LRU core

struct ComplexInputs {
  torch::Tensor g_re, g_im, lambda_re, lambda_im, s0_re, s0_im;
  std::vector<torch::Tensor> all() const { return {g_re, g_im, lambda_re, lambda_im, s0_re, s0_im}; }
};

ComplexInputs make_complex_inputs(const ScanShape& s, uint64_t seed) {
  torch::manual_seed(seed);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  // |lambda| in [0.5, 0.999], any phase: the LRU's ring.
  const auto radius = 0.5 + 0.499 * torch::rand({s.H}, f64), phase = 6.28 * torch::rand({s.H}, f64);
  return {torch::randn({s.T, s.B, s.H}, f64),   torch::randn({s.T, s.B, s.H}, f64), radius * torch::cos(phase),
          radius * torch::sin(phase),           torch::randn({s.B, s.H}, f64),      torch::randn({s.B, s.H}, f64)};
}

std::pair<torch::Tensor, torch::Tensor> run_complex(const std::vector<torch::Tensor>& in, bool use_fused,
                                                    const Schedule& schedule) {
  if (use_fused)
    return fused::complex_diagonal_scan(in[0], in[1], in[2], in[3], in[4], in[5], schedule.algorithm, schedule.chunk);
  return reference::complex_diagonal_scan(in[0], in[1], in[2], in[3], in[4], in[5]);
}

TEST(ScanForward, ComplexDiagonalChunkedEqualsSequentialEqualsReference) {
  for (const auto& s : kScanShapes) {
    const auto in = make_complex_inputs(s, 500 + s.T);
    torch::NoGradGuard no_grad;
    const auto expected = run_complex(in.all(), false, {});
    for (const auto& schedule : kSchedules) {
      const auto got = run_complex(in.all(), true, schedule);
      EXPECT_LE(max_error(got.first, expected.first), 1e-12) << name_of(s) << " " << name_of(schedule);
      EXPECT_LE(max_error(got.second, expected.second), 1e-12) << name_of(s) << " " << name_of(schedule);
    }
  }
}

TEST(ScanBackward, ComplexDiagonalMatchesReferenceAutograd) {
  for (const auto& s : kScanShapes) {
    const auto in = make_complex_inputs(s, 600 + s.T);
    const auto probe_re = torch::randn({s.T, s.B, s.H}, torch::kFloat64),
               probe_im = torch::randn({s.T, s.B, s.H}, torch::kFloat64);
    auto grads = [&](bool use_fused, const Schedule& schedule) {
      std::vector<torch::Tensor> leaves;
      for (const auto& t : in.all()) leaves.push_back(t.clone().requires_grad_(true));
      const auto out = run_complex(leaves, use_fused, schedule);
      return torch::autograd::grad({(out.first * probe_re + out.second * probe_im).sum()}, leaves);
    };
    const auto expected = grads(false, {});
    for (const auto& schedule : kSchedules) {
      const auto got = grads(true, schedule);
      for (size_t i = 0; i < got.size(); ++i)
        expect_close(got[i], expected[i], 1e-10, name_of(s) + " " + name_of(schedule) + ": gradient " + std::to_string(i));
    }
  }
}

TEST(ScanReference, ComplexDiagonalMatchesFiniteDifferences) {
  const auto in = make_complex_inputs({4, 2, 3}, 9);
  testing::expect_gradients_match_finite_differences(
      [](const std::vector<torch::Tensor>& x) {
        const auto s = reference::complex_diagonal_scan(x[0], x[1], x[2], x[3], x[4], x[5]);
        return torch::cat({s.first, s.second}, 2);
      },
      in.all());
}

// More lanes than one kernel block holds (16384), so that blocks and threads start mid-row.
TEST(ScanBackward, ManyLanesMatchReference) {
  const ScanShape s{5, 3, 5463};
  const Schedule schedules[] = {{ScanAlgorithm::sequential, 0}, {ScanAlgorithm::chunked, 0}, {ScanAlgorithm::chunked, 2}};
  for (const auto& c : {MruCase{MruKind::bmru, 2, true, false}, MruCase{MruKind::cmru, 4, false, false},
                        MruCase{MruKind::acmru, 2, false, false}, MruCase{MruKind::fq_bmru, 2, true, false}}) {
    const auto in = make_mru_inputs(c, s, torch::kFloat64, 31);
    const auto probe = torch::randn({s.T, s.B, s.H}, torch::kFloat64);
    const auto expected = run_mru(in, mru_options(c.kind, c.levels, {}), false, probe);
    for (const auto& schedule : schedules) {
      const auto got = run_mru(in, mru_options(c.kind, c.levels, schedule), true, probe);
      EXPECT_LE(max_error(got[0], expected[0]), c.exact ? 0.0 : 1e-12) << name_of(c) << " " << name_of(schedule);
      for (size_t i = 1; i < got.size(); ++i)
        expect_close(got[i], expected[i], 1e-10, name_of(c) + " " + name_of(schedule) + ": gradient " + std::to_string(i));
    }
  }
  torch::manual_seed(32);
  const auto drive = torch::randn({s.T, s.B, 2 * s.H}, torch::kFloat64), h0 = torch::randn({s.B, s.H}, torch::kFloat64);
  const auto probe = torch::randn({s.T, s.B, s.H}, torch::kFloat64);
  const auto complex_in = make_complex_inputs(s, 33);
  auto mingru = [&](bool use_fused, const Schedule& schedule) {
    auto d = drive.clone().requires_grad_(true), h = h0.clone().requires_grad_(true);
    const auto out = use_fused ? fused::mingru_scan(d, h, schedule.algorithm, schedule.chunk) : reference::mingru_scan(d, h);
    auto values = torch::autograd::grad({(out * probe).sum()}, {d, h});
    values.push_back(out.detach());
    return values;
  };
  auto lru = [&](bool use_fused, const Schedule& schedule) {
    std::vector<torch::Tensor> leaves;
    for (const auto& t : complex_in.all()) leaves.push_back(t.clone().requires_grad_(true));
    const auto out = run_complex(leaves, use_fused, schedule);
    auto values = torch::autograd::grad({(out.first * probe + out.second * probe * 0.5).sum()}, leaves);
    values.push_back(out.first.detach());
    values.push_back(out.second.detach());
    return values;
  };
  const auto expected_mingru = mingru(false, {}), expected_lru = lru(false, {});
  for (const auto& schedule : schedules) {
    const auto got_mingru = mingru(true, schedule), got_lru = lru(true, schedule);
    for (size_t i = 0; i < got_mingru.size(); ++i)
      expect_close(got_mingru[i], expected_mingru[i], 1e-10, "mingru " + name_of(schedule) + ": value " + std::to_string(i));
    for (size_t i = 0; i < got_lru.size(); ++i)
      expect_close(got_lru[i], expected_lru[i], 1e-10, "lru " + name_of(schedule) + ": value " + std::to_string(i));
  }
}

// ---- The clamped-add composition

cells::ClampedAdd<double> random_clamped_add(std::mt19937_64& rng, bool dyadic) {
  std::uniform_real_distribution<double> uniform(-2, 2);
  std::uniform_int_distribution<int> eighths(-16, 16), pick(0, 5);
  auto value = [&] { return dyadic ? eighths(rng) / 8.0 : uniform(rng); };
  double lo = value(), hi = value();
  if (lo > hi) std::swap(lo, hi);
  if (pick(rng) == 0) lo = -INFINITY;
  if (pick(rng) == 0) hi = INFINITY;
  return {value(), lo, hi};
}

TEST(ScanCompose, ClampedAddIsAssociative) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> eighths(-24, 24);
  for (bool dyadic : {true, false}) {
    const double tolerance = dyadic ? 0.0 : 1e-12;
    for (int trial = 0; trial < 20000; ++trial) {
      const auto f = random_clamped_add(rng, dyadic), g = random_clamped_add(rng, dyadic),
                 h = random_clamped_add(rng, dyadic);
      const auto left = cells::compose(cells::compose(f, g), h), right = cells::compose(f, cells::compose(g, h));
      ASSERT_NEAR(left.add, right.add, tolerance) << trial;
      ASSERT_TRUE(left.lo == right.lo || std::abs(left.lo - right.lo) <= tolerance) << trial;
      ASSERT_TRUE(left.hi == right.hi || std::abs(left.hi - right.hi) <= tolerance) << trial;
      // The composed map is the maps applied one after the other.
      const double x = eighths(rng) / 8.0;
      ASSERT_NEAR(cells::apply(left, x), cells::apply(h, cells::apply(g, cells::apply(f, x))), tolerance) << trial;
    }
  }
}

TEST(ScanCompose, IdentityIsNeutral) {
  std::mt19937_64 rng(43);
  const auto identity = cells::clamped_add_identity<double>();
  for (int trial = 0; trial < 1000; ++trial) {
    const auto f = random_clamped_add(rng, trial % 2 == 0);
    for (const auto& composed : {cells::compose(identity, f), cells::compose(f, identity)}) {
      EXPECT_EQ(composed.add, f.add);
      EXPECT_EQ(composed.lo, f.lo);
      EXPECT_EQ(composed.hi, f.hi);
    }
  }
}

TEST(ScanCompose, AffineIsAssociative) {
  std::mt19937_64 rng(44);
  std::uniform_real_distribution<double> uniform(-1.5, 1.5);
  for (int trial = 0; trial < 1000; ++trial) {
    const cells::Affine<double> f{uniform(rng), uniform(rng)}, g{uniform(rng), uniform(rng)}, h{uniform(rng), uniform(rng)};
    const auto left = cells::compose(cells::compose(f, g), h), right = cells::compose(f, cells::compose(g, h));
    EXPECT_NEAR(left.a, right.a, 1e-14);
    EXPECT_NEAR(left.b, right.b, 1e-14);
  }
}

// ---- Bad inputs: one-line errors naming the argument.

TEST(ScanErrors, BadInputsAreRejected) {
  const auto drive = torch::randn({5, 2, 3}), beta = torch::rand({3}), h0 = torch::zeros({2, 3});
  MruOptions o;
  expect_error_containing([&] { fused::mru_scan(drive, beta, {}, torch::zeros({2, 4}), o); }, "h0 must be (B, H) = (2, 3), got (2, 4)");
  expect_error_containing([&] { fused::mru_scan(drive, torch::rand({4}), {}, h0, o); }, "beta must be (H) = (3)");
  expect_error_containing([&] { fused::mru_scan(drive, {}, {}, h0, o); }, "beta is required");
  expect_error_containing([&] { fused::mru_scan(drive.to(torch::kFloat64), beta, {}, h0, o); }, "h0 must have the dtype of drive");
  expect_error_containing([&] { fused::mru_scan(drive.to(torch::kInt32), beta, {}, h0, o); }, "float32 or float64");
  expect_error_containing([&] { fused::mru_scan(drive[0], beta, {}, h0, o); }, "drive must be (T, B, H)");
  expect_error_containing([&] { fused::mru_scan(torch::randn({0, 2, 3}), beta, {}, h0, o); }, "must not be empty");
  o.kind = MruKind::acmru;
  expect_error_containing([&] { fused::mru_scan(drive, beta, {}, h0, o); }, "alpha is required");
  o.kind = MruKind::cmru;
  expect_error_containing([&] { fused::mru_scan(drive, beta, torch::rand({3}), h0, o); }, "alpha is used by acmru only");
  o.levels = 1;
  expect_error_containing([&] { fused::mru_scan(drive, beta, {}, h0, o); }, "levels must be >= 2");
  o = {};
  o.chunk = -1;
  expect_error_containing([&] { fused::mru_scan(drive, beta, {}, h0, o); }, "chunk must be >= 0");
  expect_error_containing([&] { fused::mingru_scan(torch::randn({5, 2, 5}), h0); }, "(T, B, 2H)");
  expect_error_containing([&] { fused::mingru_scan(torch::randn({5, 2, 6}), torch::zeros({3, 3})); }, "h0 must be (B, H) = (2, 3)");
  const auto g = torch::randn({5, 2, 3}), lambda = torch::rand({3}), s0 = torch::zeros({2, 3});
  expect_error_containing([&] { fused::complex_diagonal_scan(g, g, lambda, torch::rand({2}), s0, s0); }, "lambda_im must be (N) = (3)");
  expect_error_containing([&] { fused::complex_diagonal_scan(g, g.to(torch::kFloat64), lambda, lambda, s0, s0); },
               "g_im must have the dtype of g_re");
  expect_error_containing([&] { fused::complex_diagonal_scan(g, g, lambda, lambda, s0, torch::zeros({1, 3})); }, "s0_im must be (B, N)");
}

// `bench --scan` at tiny shapes (disabled: a benchmark, not a test; run it with
// --gtest_also_run_disabled_tests to check the benchmark code itself).
TEST(ScanBench, DISABLED_RunsAtTinyShapes) {
  ScanBenchOptions options;
  options.shapes = {{"long", 1, 4096, 8}, {"batch", 4, 64, 8}};
  options.cells = cell_names_where([](const CellInfo& c) { return c.scan(); });
  options.repetitions = 1;
  const auto out = run_scan_benchmark(options);
  // Per shape, cell and thread count: chunked and sequential rows, plus api and reference at the smaller shape.
  EXPECT_EQ(out["results"].size(), 6u * 2u * (2u + 4u));
  for (const auto& row : out["results"]) EXPECT_GT(row["forward_backward_gbps"].get<double>(), 0) << row.dump();
}

}  // namespace
}  // namespace neurocell
