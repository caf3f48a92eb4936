#pragma once
// The subcommands of the multistability toolkit (multistability.md): vaa, warmup,
// attractors (of a trained network, or the bifurcation diagram of one unit) and plot vaa.
#include <string>
#include <vector>

#include "analysis/fixed_points.h"
#include "analysis/vaa.h"
#include "analysis/warmup.h"
#include "tasks/synthetic.h"

namespace neurocell {

// VAA of a run's model on its task (or another task of the same input width), printed as
// one line "VAA 0.xxxx (...)".
int command_vaa(const std::string& dir, const TaskConfig* task_override, const analysis::VaaOptions& options);

// Warms up the model of run `dir` and writes a new run folder `out_dir` (the original is
// never modified): config.json, model.safetensors, metrics.jsonl (warmup steps, VAA before
// and after) and report.json (VAA before/after, test MSE after warmup).
int command_warmup(const std::string& dir, const std::string& out_dir, bool overwrite,
                   const analysis::WarmupOptions& warmup, const analysis::VaaOptions& vaa, bool progress);

// Fixed points of a trained network under the constant input `input` (empty = zeros), as a
// markdown table: basin, spectral radius of the Jacobian, stability, a few state values.
int command_attractors_network(const std::string& dir, const std::vector<double>& input,
                               const analysis::FixedPointOptions& options);

struct UnitDiagramOptions {
  std::string cell = "brc";      // brc | src
  double a = 1.5;                // BRC feedback
  double r = 2, r_s = -7, bias = -6, z_hyp = 0.9, z_dep = 0;  // SRC constants
  std::string range = "-2:2:401";  // LO:HI[:N] of the input u (BRC) or x (SRC)
  std::string out;               // picture (.png/.svg); empty = table only
};
// Bifurcation diagram of one cellular unit: fixed points versus the constant input, stable
// and unstable branches; prints the bistable (BRC) or spiking (SRC) range found.
int command_attractors_unit(const UnitDiagramOptions& options);

// VAA over training from a run's metrics.jsonl: VAA* per layer during warmup, VAA measured
// before/after warmup and during training, next to the validation MSE.
int command_plot_vaa(const std::string& dir, const std::string& out_path);

}  // namespace neurocell
