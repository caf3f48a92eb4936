// `neurocell attractors`: fixed points of a trained network under a constant input, as a
// markdown table (basin, spectral radius of the Jacobian, stability, a few state values), or
// the bifurcation diagram of one cellular unit (fixed points versus the constant input, stable
// and unstable branches; the bistable (BRC) or spiking (SRC) range found).
#include "cli/commands/commands.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "analysis/fixed_points.h"
#include "nn/cell_registry.h"
#include "core/error.h"
#include "io/files.h"
#include "plot/gnuplot.h"
#include "runs/run_folder.h"
#include "train/multistability.h"
#include "core/progress.h"

namespace neurocell::cli {

namespace {

// The cells with a one-unit bifurcation diagram, from the registry.
std::vector<std::string> unit_diagram_cells() {
  return cell_names_where([](const CellInfo& c) { return c.unit_diagram; });
}

struct UnitDiagramOptions {
  std::string cell = "brc";      // a cell with a unit diagram in the registry: brc | src
  double a = 1.5;                // BRC feedback
  double r = 2, r_s = -7, bias = -6, z_hyp = 0.9, z_dep = 0;  // SRC constants
  std::string range = "-2:2:401";  // LO:HI[:N] of the input u (BRC) or x (SRC)
  std::string out;               // picture (.png/.svg); empty = table only
};

struct AttractorsCommand {
  std::string checkpoint;
  std::vector<double> input;  // empty = zeros
  analysis::FixedPointOptions fixed_points;
  UnitDiagramOptions unit;
  CLI::Option* cell_option = nullptr;
  int64_t threads = 0;
};

// "LO:HI" or "LO:HI:N" -> (lo, hi, n); n defaults to 401.
std::tuple<double, double, int64_t> parse_range(const std::string& text) {
  double lo = 0, hi = 0;
  long long n = 401;
  char tail = 0;
  const int fields = std::sscanf(text.c_str(), "%lf:%lf:%lld%c", &lo, &hi, &n, &tail);
  require((fields == 2 || fields == 3) && std::isfinite(lo) && std::isfinite(hi) && lo <= hi && n >= 1 &&
              n <= 1000000,
          "--u-range must be LO:HI or LO:HI:N with LO <= HI and 1 <= N <= 1e6 (got '" + text + "')");
  return {lo, hi, n};
}

void command_attractors_network(const std::string& dir, const std::vector<double>& input,
                               const analysis::FixedPointOptions& options) {
  auto run = load_run(dir);
  const int64_t width = run.config.model.input_size;
  require(input.empty() || static_cast<int64_t>(input.size()) == width,
          "--input must have " + std::to_string(width) + " comma-separated values (the model's input width), got " +
              std::to_string(input.size()));
  auto u = torch::zeros({width}, torch::kFloat64);
  for (size_t k = 0; k < input.size(); ++k) {
    require(std::isfinite(input[k]), "--input values must be finite numbers");
    u[static_cast<int64_t>(k)] = input[k];
  }
  const auto start = std::chrono::steady_clock::now();
  const auto report = analysis::find_fixed_points(run.model, u, options);
  int64_t stable = 0;
  for (const auto& p : report.points) stable += p.stable;
  std::ostringstream shown;
  for (int64_t k = 0; k < width; ++k) shown << (k ? "," : "") << u[k].item<double>();
  std::printf("fixed points of %s under constant input [%s]: %zu found from %lld starts (%lld did not converge in "
              "%lld steps), %lld stable, %.1f s\n",
              describe_run(run.config).c_str(), shown.str().c_str(), report.points.size(),
              static_cast<long long>(options.starts), static_cast<long long>(report.unconverged),
              static_cast<long long>(options.max_steps), static_cast<long long>(stable), training::seconds_since(start));
  std::printf("| # | basin (starts) | spectral radius | stable | state: first values of layer 1 |\n|---|---|---|---|---|\n");
  for (size_t k = 0; k < report.points.size(); ++k) {
    const auto& p = report.points[k];
    std::string values;
    for (size_t i = 0; i < std::min<size_t>(4, p.state.size()); ++i) {
      char v[32];
      std::snprintf(v, sizeof v, "%s%.4f", i ? ", " : "", p.state[i]);
      values += v;
    }
    std::printf("| %zu | %lld | %.4f | %s | %s%s |\n", k + 1, static_cast<long long>(p.basin), p.spectral_radius,
                p.stable ? "yes" : "no", values.c_str(), p.state.size() > 4 ? ", ..." : "");
  }
}

void command_attractors_unit(const UnitDiagramOptions& o) {
  require(cell_info(o.cell).unit_diagram, "--cell must be one of " + join_cell_names(unit_diagram_cells()) +
                                             " for a unit's bifurcation diagram (got '" + o.cell + "')");
  const auto [lo, hi, n] = parse_range(o.range);
  require(std::isfinite(o.a), "--a must be a finite number");
  const bool brc = cell_info(o.cell).kind == CellKind::brc;  // else SRC, the registry's other unit diagram
  const auto points = brc ? analysis::brc_unit_fixed_points(o.a, lo, hi, n)
                          : analysis::src_unit_fixed_points(o.r, o.r_s, o.bias, o.z_hyp, o.z_dep, lo, hi, n);
  // Per input value: how many stable fixed points.
  std::map<double, int> stable_count;
  for (const auto& p : points) stable_count[p.u] += p.stable;
  for (int64_t i = 0; i < n; ++i) stable_count.emplace(n == 1 ? lo : lo + (hi - lo) * i / double(n - 1), 0);
  // BRC: bistable where two stable points coexist; SRC: spiking where none is stable.
  double first = NAN, last = NAN;
  for (const auto& [u, count] : stable_count)
    if (brc ? count >= 2 : count == 0) {
      if (std::isnan(first)) first = u;
      last = u;
    }
  const char* var = brc ? "u" : "x";
  if (brc) {
    const double half = analysis::brc_bistable_half_width(o.a);
    std::printf("BRC unit h = tanh(u + a h), a = %g: ", o.a);
    if (std::isnan(first))
      std::printf("monostable for every u in [%g, %g]", lo, hi);
    else
      std::printf("bistable for u in [%.4f, %.4f] on the grid", first, last);
    std::printf("; analytic bistable range: %s\n",
                half > 0 ? ("|u| < " + std::to_string(half)).c_str() : "none (a <= 1: monostable)");
  } else {
    std::printf("SRC unit (r %g, r_s %g, b %g, z_hyp %g, z_dep %g): ", o.r, o.r_s, o.bias, o.z_hyp, o.z_dep);
    if (std::isnan(first))
      std::printf("a stable resting equilibrium for every x in [%g, %g]\n", lo, hi);
    else
      std::printf("no stable equilibrium (spiking) for x in [%.4f, %.4f] on the grid\n", first, last);
  }
  if (o.out.empty()) return;

  GnuplotFigure figure(o.out, 800, 520);
  std::ostringstream stable, unstable;
  for (const auto& p : points) (p.stable ? stable : unstable) << p.u << " " << p.h << "\n";
  const auto stable_file = figure.data("stable.dat", stable.str());
  const auto unstable_file = figure.data("unstable.dat", unstable.str());
  std::ostringstream body;
  body << "set xlabel '" << var << (brc ? " (constant input)" : " (soft-saturated input current)") << "'\n"
       << "set ylabel 'fixed point h*'\nset yrange [-1.05:1.05]\nset grid\nset key bottom right\n";
  if (brc) {
    char title[160];
    std::snprintf(title, sizeof title, "BRC unit, h = tanh(u + a h) with a = %g: fixed points versus u", o.a);
    body << "set title '" << title << "'\n";
    const double half = analysis::brc_bistable_half_width(o.a);
    if (half > 0)
      body << "set arrow from " << -half << ",-1.05 to " << -half << ",1.05 nohead dt 3 lc rgb 'gray40'\n"
           << "set arrow from " << half << ",-1.05 to " << half << ",1.05 nohead dt 3 lc rgb 'gray40'\n";
  } else {
    body << "set title 'SRC unit: equilibrium h* = h_s* versus x (unstable: the neuron spikes)'\n";
  }
  body << "plot '" << stable_file << "' using 1:2 with points pt 7 ps 0.35 lc rgb 'black' title 'stable', '"
       << unstable_file << "' using 1:2 with points pt 6 ps 0.35 lc rgb 'red' title 'unstable'";
  figure.render(body.str());
  std::printf("wrote %s\n", o.out.c_str());
}

}  // namespace

void register_attractors(CLI::App& app) {
  auto options = std::make_shared<AttractorsCommand>();
  auto& o = *options;
  auto* attractors = app.add_subcommand(
      "attractors", "Fixed points of a trained network (--checkpoint), or one unit's bifurcation diagram (--cell)");
  auto* attractors_checkpoint = attractors->add_option("--checkpoint", o.checkpoint, "Run folder");
  attractors->add_option("--input", o.input, "Constant input, comma-separated (default: zeros)")
      ->delimiter(',');
  attractors->add_option("--starts", o.fixed_points.starts, "Random start states")->capture_default_str();
  attractors->add_option("--max-steps", o.fixed_points.max_steps, "Iterations before giving up on a start")
      ->capture_default_str();
  attractors->add_option("--seed", o.fixed_points.seed, "Seed of the start states")->capture_default_str();
  o.cell_option = attractors->add_option("--cell", o.unit.cell, "Unit: " + join_cell_names(unit_diagram_cells(), " | "))
                              ->check(CLI::IsMember(unit_diagram_cells()));
  o.cell_option->excludes(attractors_checkpoint);
  attractors->add_option("--a", o.unit.a, "BRC unit: feedback a (bistable range exists for a > 1)")->capture_default_str();
  attractors->add_option("--u-range", o.unit.range, "Input range LO:HI[:N] (BRC: u, SRC: x)")->capture_default_str();
  attractors->add_option("--bias", o.unit.bias, "SRC unit: bias b")->capture_default_str();
  attractors->add_option("--out", o.unit.out, "Unit: picture file (.png or .svg)");
  add_threads_option(attractors, o.threads);
  attractors->callback([options] {
    const auto& o = *options;
    if (!o.checkpoint.empty()) {
      configure_threads(o.threads);
      return command_attractors_network(o.checkpoint, o.input, o.fixed_points);
    }
    require(o.cell_option->count() > 0,
            "attractors needs --checkpoint DIR (fixed points of a trained network) or --cell brc|src "
            "(bifurcation diagram of one unit)");
    command_attractors_unit(o.unit);
  });
}

}  // namespace neurocell::cli
