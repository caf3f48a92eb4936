#include "analysis/fixed_points.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "analysis/vaa.h"
#include "core/error.h"

namespace neurocell::analysis {

void FixedPointOptions::validate() const {
  require(starts >= 1, "--starts must be >= 1");
  require(max_steps >= 1, "--max-steps must be >= 1");
  require(tolerance > 0 && eps > 0, "fixed-point tolerance and eps must be positive");
}

namespace {

// Random start states (n, S): h uniform in [-1, 1] (the cells' h lives there), the second
// state uniform in [-2, 2] (LSTM's c is unbounded, but grows by at most 1 per step).
torch::Tensor random_starts(SequenceModel& model, int64_t n, torch::Generator& generator) {
  std::vector<RecurrentState> states;
  for (const auto& layer : model->stack->layers) {
    RecurrentState s;
    const int64_t H = layer->hidden_size();
    s.h = torch::rand({n, H}, generator, torch::kFloat64) * 2 - 1;
    if (layer->has_second_state())
      s.c = torch::rand({n, layer->second_state_size()}, generator, torch::kFloat64) * 4 - 2;
    states.push_back(s);
  }
  return join_states(states);
}

torch::Tensor step(SequenceModel& model, const torch::Tensor& z, const torch::Tensor& input, int64_t steps) {
  return join_states(settle(model, split_states(model, z), input, steps, steps));
}

// The model in float64 for the duration of a scope (iterating to 1e-9 needs it).
class Float64Scope {
 public:
  explicit Float64Scope(SequenceModel& model) : model_(model), dtype_(model->readout->weight.scalar_type()) {
    model_->to(torch::kFloat64);
  }
  ~Float64Scope() { model_->to(dtype_); }

 private:
  SequenceModel& model_;
  torch::ScalarType dtype_;
};

}  // namespace

torch::Tensor one_step_jacobian(SequenceModel& model, const torch::Tensor& z, const torch::Tensor& input) {
  torch::AutoGradMode enable_grad(true);
  const int64_t S = z.size(0);
  // S copies of z: the gradient of sum_i F(copy_i)[i] with respect to copy i is row i of J.
  const auto copies = z.to(torch::kFloat64).unsqueeze(0).expand({S, S}).clone().requires_grad_(true);
  const auto next = step(model, copies, input.to(torch::kFloat64), 1);
  return torch::autograd::grad({next.diagonal().sum()}, {copies})[0];
}

FixedPointReport find_fixed_points(SequenceModel& model, const torch::Tensor& input, const FixedPointOptions& options) {
  options.validate();
  require(input.dim() == 1 && input.size(0) == model->config.input_size,
          "the constant input must have the model's input width " + std::to_string(model->config.input_size));
  Float64Scope float64(model);
  const bool was_training = model->is_training();
  model->eval();
  const auto u = input.to(torch::kFloat64);
  auto generator = analysis_generator(options.seed, 3);
  auto z = random_starts(model, options.starts, generator);
  torch::Tensor residual;
  {
    torch::NoGradGuard no_grad;
    const int64_t block = 100;
    for (int64_t done = 0; done < options.max_steps; done += block + 1) {
      z = step(model, z, u, block);
      const auto next = step(model, z, u, 1);
      residual = (next - z).norm(2, {1});
      z = next;
      if ((residual < options.tolerance).all().item<bool>()) break;
    }
  }
  FixedPointReport report;
  const auto converged = residual < options.tolerance;
  report.unconverged = options.starts - converged.sum().item<int64_t>();
  const auto ends = z.index({converged});
  std::vector<torch::Tensor> representatives;
  for (int64_t i = 0; i < ends.size(0); ++i) {
    size_t k = 0;
    for (; k < representatives.size(); ++k)
      if ((ends[i] - representatives[k]).norm().item<double>() < options.eps) break;
    if (k == representatives.size()) {
      representatives.push_back(ends[i]);
      report.points.emplace_back();
    }
    ++report.points[k].basin;
  }
  for (size_t k = 0; k < representatives.size(); ++k) {
    auto& p = report.points[k];
    const auto jacobian = one_step_jacobian(model, representatives[k], u);
    p.spectral_radius = torch::linalg::eigvals(jacobian).abs().max().item<double>();
    p.stable = p.spectral_radius < 1;
    const auto state = representatives[k].contiguous();
    p.state.assign(state.data_ptr<double>(), state.data_ptr<double>() + state.numel());
  }
  std::stable_sort(report.points.begin(), report.points.end(),
                   [](const FixedPoint& a, const FixedPoint& b) { return a.basin > b.basin; });
  model->train(was_training);
  return report;
}

namespace {

// Every root of g on [lo, hi]: sign changes on a grid of `grid` intervals, refined by
// bisection to machine precision.
template <class G>
std::vector<double> roots_on_grid(G&& g, double lo, double hi, int64_t grid) {
  std::vector<double> roots;
  double x0 = lo, g0 = g(lo);
  for (int64_t i = 1; i <= grid; ++i) {
    const double x1 = lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(grid), g1 = g(x1);
    if (g0 == 0) {
      roots.push_back(x0);
    } else if ((g0 < 0) != (g1 < 0) && g1 != 0) {
      double a = x0, b = x1, ga = g0;
      for (int it = 0; it < 200 && b - a > 1e-15; ++it) {
        const double m = 0.5 * (a + b), gm = g(m);
        if ((gm < 0) == (ga < 0)) {
          a = m, ga = gm;
        } else {
          b = m;
        }
      }
      roots.push_back(0.5 * (a + b));
    }
    x0 = x1, g0 = g1;
  }
  if (g0 == 0) roots.push_back(x0);
  return roots;
}

double grid_value(double lo, double hi, int64_t n, int64_t i) {
  return n == 1 ? lo : lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n - 1);
}

}  // namespace

std::vector<UnitFixedPoint> brc_unit_fixed_points(double a, double u_min, double u_max, int64_t n) {
  require(n >= 1 && u_min <= u_max, "--u-range must be LO:HI[:N] with LO <= HI and N >= 1");
  std::vector<UnitFixedPoint> points;
  for (int64_t i = 0; i < n; ++i) {
    const double u = grid_value(u_min, u_max, n, i);
    // tanh(u + a h) - h is > 0 at h = -1 and < 0 at h = 1: every fixed point lies inside.
    for (double h : roots_on_grid([&](double h) { return std::tanh(u + a * h) - h; }, -1.0, 1.0, 4000))
      points.push_back({u, h, a * (1 - h * h) < 1});
  }
  return points;
}

double brc_bistable_half_width(double a) {
  if (a <= 1) return 0;
  const double h_c = std::sqrt(1 - 1 / a);
  return a * h_c - std::atanh(h_c);
}

std::vector<UnitFixedPoint> src_unit_fixed_points(double r, double r_s, double bias, double z_hyp, double z_dep,
                                                  double x_min, double x_max, int64_t n) {
  require(n >= 1 && x_min <= x_max, "--u-range must be LO:HI[:N] with LO <= HI and N >= 1");
  std::vector<UnitFixedPoint> points;
  for (int64_t i = 0; i < n; ++i) {
    const double x = grid_value(x_min, x_max, n, i);
    for (double h : roots_on_grid([&](double h) { return std::tanh(x + (r + r_s) * h + bias) - h; }, -1.0, 1.0,
                                  4000)) {
      // Jacobian [[r s, r_s s], [1 - z, z]], s = 1 - h^2: Jury's test for a 2x2 map.
      const double s = 1 - h * h, z = h > 0.5 ? z_dep : z_hyp;
      const double trace = r * s + z, det = s * (r * z - r_s * (1 - z));
      points.push_back({x, h, std::abs(det) < 1 && std::abs(trace) < 1 + det});
    }
  }
  return points;
}

}  // namespace neurocell::analysis
