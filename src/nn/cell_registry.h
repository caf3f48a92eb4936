#pragma once
// The one list of the cells neurocell implements. Everything that names or lists cells reads
// it: the command line's --cell choices and help, config validation, the layer factory, the
// benchmarks' default cells, the .ncm exporter, and the conformance test
// (tests/test_cell_conformance.cpp), which runs every check on every registered cell. Adding
// a cell is one row here plus its math, kernels and layer class (docs/adding-a-cell.md).
#include <cstdint>
#include <string>
#include <vector>

#include "nn/layers.h"

namespace neurocell {

// How a cell computes, which decides its kernels, its layer class and what it can be used in.
enum class CellFamily {
  bistable,  // BRC, nBRC: sequential, fused BPTT kernels (docs/cells.md section 1)
  gated,     // GRU, LSTM, MGU: sequential, fused BPTT kernels (section 1, baselines)
  mru,       // BMRU, CMRU, aCMRU, fq-BMRU: parallel scan inside a scan block (section 4)
  mingru,    // minGRU: parallel scan inside a scan block (section 3)
  lru,       // LRU: complex diagonal scan inside a scan block (section 3)
  hybrid,    // an MRU block and an LRU block side by side, H/2 each (section 4, "Hybrids")
  spiking,   // SRC, LIF: their own layers and classifier (nn/spiking.h, section 2)
};
std::string cell_family_name(CellFamily family);

struct CellInfo {
  CellKind kind;
  std::string name;         // as in --cell, config.json, .ncm headers and the runtime
  CellFamily family;
  std::string description;  // one line, for help texts and docs
  // Gate rows per unit of the input projection, (input_gates * H, I), and of the recurrent
  // matrix, (recurrent_gates * H, H); 0 = none (BRC's feedback is per unit). What `bench`
  // counts as GEMM work. Scan blocks: their core projection's rows per unit, no recurrence.
  int64_t input_gates = 0, recurrent_gates = 0;
  // Width of the second state c (RecurrentState) of one layer of H units; 0 = none.
  int64_t (*second_state_width)(int64_t hidden) = nullptr;
  // One layer of I inputs and H units; nullptr for the spiking cells (SRC, LIF), which are no
  // SequenceModel cells (they train on spike trains through SrcClassifier).
  RecurrentLayer (*make)(int64_t input, int64_t hidden, const LayerInit& init) = nullptr;
  // In the default cell list of `neurocell bench` (sequential) or `bench --scan` (scan).
  bool benchmark_default = false;
  // Trained through a surrogate gradient (hard thresholds, spikes): the backward is not the
  // forward's derivative; finite differences check it under the surrogate relaxation
  // (ops/surrogate_relaxation.h), the smooth forward of which it is the derivative.
  bool surrogate_gradient = false;
  // Has an analytic one-unit bifurcation diagram (`attractors --cell`, analysis/fixed_points.h).
  bool unit_diagram = false;
  // What one fused forward + backward costs per unit and time step besides its GEMMs, for the
  // bound `neurocell bench` prints (sequential cells; zero for the others):
  //   transcendentals: exp, tanh or sigmoid evaluations (one vector exp each in the kernels),
  //     forward and backward (BRC's backward recomputes its gates, the others read them back);
  //   streamed_values: values of the (T, B, .) arrays written or read once each, in units of
  //     H per step (drive, h, the saved gates, dL/dh, dL/d drive; kernels_cpu.h's layouts).
  struct KernelCost {
    int64_t transcendentals_forward = 0, transcendentals_backward = 0, streamed_values = 0;
  } cost;

  bool sequential() const { return family == CellFamily::bistable || family == CellFamily::gated; }
  bool scan() const { return family == CellFamily::mru || family == CellFamily::mingru || family == CellFamily::lru; }
  bool hybrid() const { return family == CellFamily::hybrid; }
  bool spiking() const { return family == CellFamily::spiking; }
  bool sequence_model() const { return make != nullptr; }  // a layer of SequenceModel
};

// Every cell, in the order of docs/cells.md.
const std::vector<CellInfo>& cell_registry();
// The row of a kind, or of a name (throws Error listing the valid names).
const CellInfo& cell_info(CellKind kind);
const CellInfo& cell_info(const std::string& name);

// "brc" -> CellKind::brc; throws Error listing the valid names otherwise.
CellKind parse_cell_kind(const std::string& name);
std::string cell_kind_name(CellKind kind);
// Every registered name, the spiking cells included (the command line's --cell choices).
const std::vector<std::string>& cell_kind_names();
// The names of the cells of which `pred` holds, in registry order.
template <class Pred>
std::vector<std::string> cell_names_where(Pred pred) {
  std::vector<std::string> out;
  for (const auto& c : cell_registry())
    if (pred(c)) out.push_back(c.name);
  return out;
}
// "brc | nbrc | ...": the names joined for a help text or an error message.
std::string join_cell_names(const std::vector<std::string>& names, const std::string& separator = ", ");

bool is_scan_kind(CellKind kind);    // the scan blocks and the hybrids
bool is_hybrid_kind(CellKind kind);

// One layer of `kind`; with double_layer, two of width hidden_size/2 side by side (a pair).
// Throws Error for the spiking cells, which have their own layers (nn/spiking.h).
RecurrentLayer make_layer(CellKind kind, int64_t input_size, int64_t hidden_size,
                          bool double_layer = false, const LayerInit& init = {});

}  // namespace neurocell
