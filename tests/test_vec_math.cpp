// The kernels' float32 vector exp, tanh and sigmoid (cells/vec_exp.h, cells/pointwise.h)
// against double-precision libm, in every CPU copy this machine can run: the maximum error in
// ulps of the correctly rounded float result over every 61st float bit pattern (all signs and
// exponents, so the extremes, infinities, NaNs and subnormals too), and the special values.
// (Every 61st pattern: 70 M inputs per function and copy; a prime stride so that the low
// mantissa bits vary too.)
// The bounds are the ones docs/kernels.md states.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/cpu/kernels_cpu.h"

namespace neurocell {
namespace {

using ArrayFn = void (*)(const float*, float*, int64_t);
struct Copy {
  std::string name;
  bool runs;
  kernels::VecMath math;
  void (*rate_code)(const kernels::RateCodeArgs&);
};

std::vector<Copy> copies() {
  using kernels::CpuCopy;
  return {{"DEFAULT", true, kernels::vec_math(CpuCopy::baseline), kernels::DEFAULT::rate_code_spikes},
          {"AVX2", kernels::cpu_can_run(CpuCopy::avx2), kernels::vec_math(CpuCopy::avx2),
           kernels::AVX2::rate_code_spikes},
          {"AVX512", kernels::cpu_can_run(CpuCopy::avx512), kernels::vec_math(CpuCopy::avx512),
           kernels::AVX512::rate_code_spikes}};
}

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// |got - exact| in units of the last place of the float nearest to `exact` (subnormal ulps
// below 2^-126). Infinite or NaN exact values must be matched exactly (returns 0 or +inf).
double ulps(float got, double exact) {
  if (std::isnan(exact)) return std::isnan(got) ? 0 : INFINITY;
  const double rounded = static_cast<float>(exact);
  if (std::isinf(rounded)) return got == rounded ? 0 : INFINITY;
  if (std::isnan(got)) return INFINITY;
  const int exponent = rounded == 0 ? -126 : std::max(std::ilogb(rounded), -126);
  return std::fabs(got - exact) / std::ldexp(1.0, exponent - 23);
}

struct Worst {
  double ulps = 0;
  float at = 0;
};

// Runs fn over every `stride`-th bit pattern (offset so that all residues get visited across
// the three functions) and returns the largest error against `exact` where `counted(x)`.
template <class Exact, class Counted>
Worst max_error(ArrayFn fn, Exact exact, Counted counted, uint32_t stride, uint32_t offset) {
  constexpr int64_t chunk = 1 << 16;
  std::vector<float> x(chunk), y(chunk);
  Worst worst;
  uint64_t bits = offset;
  while (bits < (uint64_t(1) << 32)) {
    int64_t n = 0;
    for (; n < chunk && bits < (uint64_t(1) << 32); ++n, bits += stride) x[n] = from_bits(static_cast<uint32_t>(bits));
    fn(x.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      if (!counted(x[i])) continue;
      const double e = ulps(y[i], exact(static_cast<double>(x[i])));
      if (e > worst.ulps || std::isnan(e)) worst = {e, x[i]};
    }
  }
  return worst;
}

std::vector<float> apply(ArrayFn fn, std::vector<float> x) {
  std::vector<float> y(x.size());
  fn(x.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

const float inf = std::numeric_limits<float>::infinity();
const float nan = std::numeric_limits<float>::quiet_NaN();
const float tiny = std::numeric_limits<float>::denorm_min();

TEST(VecMath, ExpWithinTwoUlpsOverTheFloatRange) {
  for (const auto& c : copies()) {
    if (!c.runs) continue;
    const auto w = max_error(c.math.exp, [](double x) { return std::exp(x); }, [](float) { return true; }, 61, 3);
    EXPECT_LE(w.ulps, 2.0) << c.name << " exp at " << w.at;
    std::printf("%s exp: at most %.3f ulp (at %.9g)\n", c.name.c_str(), w.ulps, w.at);
    const auto y = apply(c.math.exp, {nan, inf, -inf, 0.0f, -0.0f, tiny, -tiny, 88.72f, 88.73f, -103.0f, -104.0f, -87.5f});
    EXPECT_TRUE(std::isnan(y[0])) << c.name;
    EXPECT_EQ(y[1], inf) << c.name;
    EXPECT_EQ(y[2], 0.0f) << c.name;
    EXPECT_EQ(y[3], 1.0f) << c.name;
    EXPECT_EQ(y[4], 1.0f) << c.name;
    EXPECT_EQ(y[5], 1.0f) << c.name;
    EXPECT_EQ(y[6], 1.0f) << c.name;
    EXPECT_TRUE(std::isfinite(y[7])) << c.name << " exp(88.72) overflowed";
    EXPECT_EQ(y[8], inf) << c.name;
    EXPECT_GT(y[9], 0.0f) << c.name << " exp(-103) is a subnormal, not 0";
    EXPECT_EQ(y[10], 0.0f) << c.name;
    EXPECT_LT(std::fabs(y[11] - std::exp(-87.5)) / std::exp(-87.5), 1e-6) << c.name << " subnormal range";
  }
}

TEST(VecMath, TanhWithinThreeUlpsOverTheFloatRange) {
  for (const auto& c : copies()) {
    if (!c.runs) continue;
    const auto w = max_error(c.math.tanh, [](double x) { return std::tanh(x); }, [](float) { return true; }, 61, 7);
    EXPECT_LE(w.ulps, 3.0) << c.name << " tanh at " << w.at;
    std::printf("%s tanh: at most %.3f ulp (at %.9g)\n", c.name.c_str(), w.ulps, w.at);
    const auto y = apply(c.math.tanh, {nan, inf, -inf, 0.0f, -0.0f, tiny, -tiny, 1e-30f, 20.0f, -20.0f});
    EXPECT_TRUE(std::isnan(y[0])) << c.name;
    EXPECT_EQ(y[1], 1.0f) << c.name;
    EXPECT_EQ(y[2], -1.0f) << c.name;
    EXPECT_EQ(y[3], 0.0f) << c.name;
    EXPECT_EQ(y[5], tiny) << c.name << " tanh keeps subnormals";
    EXPECT_EQ(y[6], -tiny) << c.name;
    EXPECT_EQ(y[7], 1e-30f) << c.name;
    EXPECT_EQ(y[8], 1.0f) << c.name;
    EXPECT_EQ(y[9], -1.0f) << c.name;
  }
}

TEST(VecMath, SigmoidWithinFourUlpsAboveFloatMin) {
  for (const auto& c : copies()) {
    if (!c.runs) continue;
    // Where the true sigmoid is a subnormal (x < -87.3) the result is stated in absolute terms.
    const auto w = max_error(c.math.sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); },
                             [](float x) { return std::isnan(x) || x >= -87.3f; }, 61, 11);
    // exp's 1.24 ulp can count double in the sigmoid's binade, plus the sum's and the division's roundings.
    EXPECT_LE(w.ulps, 4.0) << c.name << " sigmoid at " << w.at;
    std::printf("%s sigmoid: at most %.3f ulp (at %.9g)\n", c.name.c_str(), w.ulps, w.at);
    const auto y = apply(c.math.sigmoid, {nan, inf, -inf, 0.0f, 20.0f, -20.0f, -88.0f, -100.0f, -1e30f});
    EXPECT_TRUE(std::isnan(y[0])) << c.name;
    EXPECT_EQ(y[1], 1.0f) << c.name;
    EXPECT_EQ(y[2], 0.0f) << c.name;
    EXPECT_EQ(y[3], 0.5f) << c.name;
    EXPECT_EQ(y[4], 1.0f) << c.name;
    EXPECT_LT(std::fabs(y[5] - std::exp(-20.0)) / std::exp(-20.0), 3e-7) << c.name;
    EXPECT_LE(std::fabs(y[6] - 1 / (1 + std::exp(88.0))), 1.2e-38) << c.name;
    EXPECT_EQ(y[7], 0.0f) << c.name;
    EXPECT_EQ(y[8], 0.0f) << c.name;
  }
}

// The rate coder's counter-based stream (kernels_cpu.h, RateCodeArgs) is the same in every copy:
// the AVX-512 copy draws 32 values per iteration, the others word by word, and a row whose
// length is no multiple of 32 (or of 4) mixes both.
TEST(RateCoding, EveryCpuCopyDrawsTheSameSpikes) {
  const int64_t row = 2 * 784 + 3, steps = 5;
  std::vector<uint32_t> threshold(row);
  for (int64_t j = 0; j < row; ++j) threshold[j] = static_cast<uint32_t>((j * 2654435761u) % 65537u);
  auto draw = [&](void (*kernel)(const kernels::RateCodeArgs&), int64_t step0) {
    std::vector<float> out(steps * row, -1.0f);
    kernels::RateCodeArgs args;
    args.threshold = threshold.data();
    args.out = out.data();
    args.row = row, args.step0 = step0, args.step1 = steps, args.seed = 12345;
    kernel(args);
    return out;
  };
  const auto expected = draw(kernels::DEFAULT::rate_code_spikes, 0);
  double spikes = 0;
  for (int64_t i = 0; i < steps * row; ++i) {
    ASSERT_TRUE(expected[i] == 0.0f || expected[i] == 1.0f);
    spikes += expected[i];
  }
  EXPECT_GT(spikes, 0.3 * steps * row);  // thresholds spread over [0, 65536]: about half spike
  EXPECT_LT(spikes, 0.7 * steps * row);
  // Drawing from step 2 on gives steps 2.. exactly (any thread can draw any step).
  const auto later = draw(kernels::DEFAULT::rate_code_spikes, 2);
  for (int64_t i = 2 * row; i < steps * row; ++i) ASSERT_EQ(later[i], expected[i]) << i;
  for (const auto& c : copies()) {
    if (!c.runs) continue;
    EXPECT_TRUE(draw(c.rate_code, 0) == expected) << c.name;
  }
}

}  // namespace
}  // namespace neurocell
