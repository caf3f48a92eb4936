#include "nn/cell_registry.h"

#include <torch/torch.h>

#include "core/error.h"
#include "nn/scan_layers.h"

namespace neurocell {

namespace {

int64_t no_second_state(int64_t) { return 0; }
int64_t same_width(int64_t hidden) { return hidden; }
int64_t complex_width(int64_t hidden) { return 2 * hidden; }        // LRU: [Re s; Im s]
int64_t hybrid_width(int64_t hidden) { return hidden / 2 + hidden; }  // MRU half H/2 + LRU half 2 (H/2)

template <CellKind kind>
RecurrentLayer scan_block(int64_t input, int64_t hidden, const LayerInit&) {
  return make_scan_block(kind, input, hidden);
}

// An MRU block and an LRU block of H/2 each, reading the same input.
template <CellKind kind, CellKind memory>
RecurrentLayer hybrid(int64_t input, int64_t hidden, const LayerInit&) {
  require(hidden >= 2 && hidden % 2 == 0,
          "a hybrid cell needs an even hidden size (an MRU block and an LRU block of H/2 each), got " +
              std::to_string(hidden));
  return std::make_shared<DoubleLayerImpl>(kind, make_scan_block(memory, input, hidden / 2),
                                           make_scan_block(CellKind::lru, input, hidden / 2));
}

std::vector<CellInfo> make_registry() {
  using F = CellFamily;
  std::vector<CellInfo> r;
  // kind, name, family, description, input gates, recurrent gates, second state, factory,
  // benchmark default, surrogate gradient, one-unit bifurcation diagram
  r.push_back({CellKind::brc, "brc", F::bistable, "bistable recurrent cell (cellular feedback), Vecoven et al.",
               3, 0, no_second_state,
               [](int64_t i, int64_t h, const LayerInit&) -> RecurrentLayer { return std::make_shared<BrcLayerImpl>(i, h); },
               true, false, true});
  r.push_back({CellKind::nbrc, "nbrc", F::bistable, "recurrently neuromodulated BRC, Vecoven et al.", 3, 2,
               no_second_state,
               [](int64_t i, int64_t h, const LayerInit& init) -> RecurrentLayer {
                 return std::make_shared<NbrcLayerImpl>(i, h, init);
               },
               true});
  r.push_back({CellKind::gru, "gru", F::gated, "gated recurrent unit (torch::nn layout)", 3, 3, no_second_state,
               [](int64_t i, int64_t h, const LayerInit& init) -> RecurrentLayer {
                 return std::make_shared<GruLayerImpl>(i, h, init);
               },
               true});
  r.push_back({CellKind::lstm, "lstm", F::gated, "long short-term memory (torch::nn layout)", 4, 4, same_width,
               [](int64_t i, int64_t h, const LayerInit& init) -> RecurrentLayer {
                 return std::make_shared<LstmLayerImpl>(i, h, init);
               },
               true});
  r.push_back({CellKind::mgu, "mgu", F::gated, "minimal gated unit", 2, 2, no_second_state,
               [](int64_t i, int64_t h, const LayerInit&) -> RecurrentLayer { return std::make_shared<MguLayerImpl>(i, h); },
               true});
  r.push_back({CellKind::bmru, "bmru", F::mru, "bistable memory recurrent unit, states {-1, 0, 1}", 1, 0, same_width,
               scan_block<CellKind::bmru>, true, true});
  r.push_back({CellKind::cmru, "cmru", F::mru, "cumulative memory recurrent unit", 1, 0, same_width,
               scan_block<CellKind::cmru>, true, true});
  r.push_back({CellKind::acmru, "acmru", F::mru, "relaxed (alpha) cumulative memory recurrent unit", 1, 0, same_width,
               scan_block<CellKind::acmru>, true, true});
  r.push_back({CellKind::fq_bmru, "fq-bmru", F::mru, "first-quadrant BMRU, the analog hardware form", 1, 0, same_width,
               scan_block<CellKind::fq_bmru>, false, true});
  r.push_back({CellKind::mingru, "mingru", F::mingru, "minimal GRU (parallel scan)", 2, 0, same_width,
               scan_block<CellKind::mingru>, true});
  r.push_back({CellKind::lru, "lru", F::lru, "linear recurrent unit (complex diagonal)", 2, 0, complex_width,
               scan_block<CellKind::lru>, true});
  r.push_back({CellKind::hybrid_bmru_lru, "hybrid-bmru-lru", F::hybrid, "a BMRU block and an LRU block, H/2 each", 0, 0,
               hybrid_width, hybrid<CellKind::hybrid_bmru_lru, CellKind::bmru>, false, true});
  r.push_back({CellKind::hybrid_cmru_lru, "hybrid-cmru-lru", F::hybrid, "a CMRU block and an LRU block, H/2 each", 0, 0,
               hybrid_width, hybrid<CellKind::hybrid_cmru_lru, CellKind::cmru>, false, true});
  r.push_back({CellKind::hybrid_acmru_lru, "hybrid-acmru-lru", F::hybrid, "an aCMRU block and an LRU block, H/2 each",
               0, 0, hybrid_width, hybrid<CellKind::hybrid_acmru_lru, CellKind::acmru>, false, true});
  r.push_back({CellKind::src, "src", F::spiking, "spiking recurrent cell (rate-coded MNIST), De Geeter et al.", 1, 0,
               no_second_state, nullptr, false, true, true});
  r.push_back({CellKind::lif, "lif", F::spiking, "leaky integrate-and-fire baseline (snnTorch's Leaky, surrogate gradient)",
               1, 0, no_second_state, nullptr, false, true});
  // Kernel costs (CellInfo::KernelCost) of the sequential cells. Streamed values, G input gates
  // and S saved values per unit: drive written by the projection GEMM and read (2G), h written
  // and read back (2), saved gates written and read (2S), dL/dh read (1), dL/d drive written
  // and read by the weight-gradient GEMMs (2G); BRC keeps only h and reads dL/dh (3); GRU adds
  // dL/d(W_hh h + b_hh) (3H, written and read: 6), LSTM c (2).
  const auto set_cost = [&](CellKind kind, CellInfo::KernelCost cost) {
    for (auto& c : r)
      if (c.kind == kind) c.cost = cost;
  };
  set_cost(CellKind::brc, {3, 3, 3});     // a = 1 + tanh, c = sigmoid, n = tanh; recomputed backward
  set_cost(CellKind::nbrc, {3, 0, 21});   // G 3, S 3 [a, c, n]
  set_cost(CellKind::gru, {3, 0, 29});    // r, z sigmoid, n tanh; G 3, S 4 [r, z, n, W_n h + b_hn]
  set_cost(CellKind::lstm, {5, 0, 31});   // i, f, o sigmoid, g tanh, tanh(c); G 4, S 5
  set_cost(CellKind::mgu, {2, 0, 17});    // f sigmoid, n tanh; G 2, S 3 [f, n, f h]
  return r;
}

}  // namespace

std::string cell_family_name(CellFamily family) {
  switch (family) {
    case CellFamily::bistable: return "bistable";
    case CellFamily::gated: return "gated";
    case CellFamily::mru: return "mru";
    case CellFamily::mingru: return "mingru";
    case CellFamily::lru: return "lru";
    case CellFamily::hybrid: return "hybrid";
    case CellFamily::spiking: return "spiking";
  }
  return "?";
}

const std::vector<CellInfo>& cell_registry() {
  static const std::vector<CellInfo> registry = make_registry();
  return registry;
}

const CellInfo& cell_info(CellKind kind) {
  for (const auto& c : cell_registry())
    if (c.kind == kind) return c;
  throw Error("cell kind " + std::to_string(static_cast<int>(kind)) + " is not in the registry");
}

const CellInfo& cell_info(const std::string& name) {
  for (const auto& c : cell_registry())
    if (c.name == name) return c;
  throw Error("unknown cell '" + name + "' (valid: " + join_cell_names(cell_kind_names()) + ")");
}

CellKind parse_cell_kind(const std::string& name) { return cell_info(name).kind; }

std::string cell_kind_name(CellKind kind) { return cell_info(kind).name; }

const std::vector<std::string>& cell_kind_names() {
  static const std::vector<std::string> names = cell_names_where([](const CellInfo&) { return true; });
  return names;
}

std::string join_cell_names(const std::vector<std::string>& names, const std::string& separator) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : separator) + n;
  return out;
}

bool is_hybrid_kind(CellKind kind) { return cell_info(kind).hybrid(); }

bool is_scan_kind(CellKind kind) {
  const auto& c = cell_info(kind);
  return c.scan() || c.hybrid();
}

RecurrentLayer make_layer(CellKind kind, int64_t input_size, int64_t hidden_size, bool double_layer,
                          const LayerInit& init) {
  const auto& cell = cell_info(kind);
  require(cell.sequence_model(), "'" + cell.name + "' is not a layer of a sequence model: " + cell.name +
                                     " trains with --task spiking-mnist or spiking-fashion-mnist");
  if (double_layer) {
    require(hidden_size >= 2 && hidden_size % 2 == 0,
            "a double layer needs an even hidden size (two halves of H/2), got " + std::to_string(hidden_size));
    return std::make_shared<DoubleLayerImpl>(cell.make(input_size, hidden_size / 2, init),
                                             cell.make(input_size, hidden_size / 2, init));
  }
  return cell.make(input_size, hidden_size, init);
}

}  // namespace neurocell
