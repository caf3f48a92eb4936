#pragma once
// Helpers shared by the tests: finite-difference gradient checks (what
// torch.autograd.gradcheck does in Python) and temporary folders.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "core/error.h"
#include "tasks/mnist.h"

namespace neurocell::testing {

// autograd's gradient of loss() with respect to each leaf against central finite differences,
// element by element, perturbing the leaves in place (so module parameters work too; float64).
// A leaf whose index is in `may_be_unused` may get no gradient; it is then skipped.
inline void expect_leaf_gradients_match_finite_differences(const std::function<torch::Tensor()>& loss,
                                                           const std::vector<torch::Tensor>& leaves,
                                                           const std::string& what,
                                                           const std::vector<size_t>& may_be_unused = {},
                                                           double eps = 1e-6, double tolerance = 1e-7) {
  const auto analytic = torch::autograd::grad({loss()}, leaves, {}, false, false, /*allow_unused=*/true);
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < leaves.size(); ++k) {
    const bool unused_ok = std::count(may_be_unused.begin(), may_be_unused.end(), k) > 0;
    ASSERT_TRUE(analytic[k].defined() || unused_ok) << what << "no gradient for input " << k;
    if (!analytic[k].defined()) continue;
    auto flat = leaves[k].view(-1);
    const auto grad = analytic[k].reshape(-1);
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double saved = flat[i].item<double>();
      flat[i] = saved + eps;
      const double plus = loss().item<double>();
      flat[i] = saved - eps;
      const double minus = loss().item<double>();
      flat[i] = saved;
      const double numeric = (plus - minus) / (2 * eps);
      EXPECT_NEAR(grad[i].item<double>(), numeric, tolerance * std::max(1.0, std::abs(numeric)))
          << what << "input " << k << ", element " << i;
    }
  }
}

// Checks d(sum(f(inputs) * probe))/d(input) from autograd against central finite
// differences, element by element, for every input (float64, tiny sizes).
inline void expect_gradients_match_finite_differences(
    const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& f,
    std::vector<torch::Tensor> inputs, double eps = 1e-6, double tolerance = 1e-7) {
  for (auto& x : inputs) x = x.detach().to(torch::kFloat64).requires_grad_(true);
  const auto probe = torch::randn_like(f(inputs));
  expect_leaf_gradients_match_finite_differences([&] { return (f(inputs) * probe).sum(); }, inputs, "", {}, eps,
                                                 tolerance);
}

// f() must throw a neurocell Error whose message is one line and contains every fragment.
inline void expect_error_containing(const std::function<void()>& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing '" << fragments.at(0) << "'";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
    for (const auto& fragment : fragments) EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}
inline void expect_error_containing(const std::function<void()>& f, const char* fragment) {
  expect_error_containing(f, std::vector<std::string>{fragment});
}

// Whether MNIST is installed (scripts/install.sh); tests that need it skip otherwise.
inline bool have_mnist() {
  try {
    load_mnist_split("mnist", false);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// The command line in-process, with its exit code and captured output.
struct CliResult {
  int code;
  std::string out, err;
};

inline CliResult cli(const std::vector<std::string>& args) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int code = run_cli(args);
  return {code, ::testing::internal::GetCapturedStdout(), ::testing::internal::GetCapturedStderr()};
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("neurocell_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path(const std::string& name = "") const { return name.empty() ? path_.string() : (path_ / name).string(); }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::filesystem::path path_;
};

}  // namespace neurocell::testing
