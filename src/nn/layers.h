#pragma once
// Recurrent layers with torch::nn conventions: each owns its parameters, is initialised as
// documented in cells.md, and maps a time-major sequence x (T, B, I) and an optional initial
// state to every state of the sequence (T, B, H).
#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace neurocell {

// The recurrent cells (docs/cells.md). The first five run step by step (fused BPTT kernels);
// then the scan family, built as blocks (nn/scan_layers.h); SRC has its own layers
// (nn/spiking.h). Names, families and factories: nn/cell_registry.h, the one list.
enum class CellKind {
  brc, nbrc, gru, lstm, mgu,                          // sequential cells
  bmru, cmru, acmru, fq_bmru, mingru, lru,            // scan blocks
  hybrid_bmru_lru, hybrid_cmru_lru, hybrid_acmru_lru, // an MRU block and an LRU block side by side
  src, lif                                            // spiking: SRC and the LIF baseline
};

// Which code computes a layer: the fused kernels with hand-written backward (kernels/, the
// default) or the plain LibTorch reference (reference/, the ground truth). Same results.
enum class Impl { fused, reference };
Impl parse_impl(const std::string& name);  // "fused" | "reference"

// Initial or final state of one layer. h is the layer's output state (B, H). c is a second
// state, (B, C) with C = second_state_size(): LSTM's memory cell (C = H), or a scan block's
// recurrent core (MRU/minGRU: its h, C = H; LRU: [Re s; Im s], C = 2N), whose output h is then
// a function of the core state and the current input. Undefined means "start from zeros".
struct RecurrentState {
  torch::Tensor h;  // (B, H)
  torch::Tensor c;  // (B, C), cells with a second state only
};

struct SequenceOutput {
  torch::Tensor h;  // (T, B, H): output after each step
  torch::Tensor c;  // (T, B, C): second state after each step; undefined for cells without one
  RecurrentState last() const;
};

// Options that change how a layer is initialised, not what it computes.
struct LayerInit {
  bool orthogonal_recurrent = false;  // nBRC: orthogonal W_a, W_c as in the 2020 scripts
  int64_t chrono_max_length = 0;      // LSTM: chrono init with T_max (0 = PyTorch default)
  bool chrono_authors = false;        // LSTM chrono as the warmup code (see LstmLayerImpl)
  // GRU, LSTM: the Keras scheme both authors' GRUs use, per gate: Glorot-uniform input
  // weights, orthogonal recurrent weights, zero biases (LSTM: forget bias 1, Keras'
  // unit_forget_bias). false: torch::nn's U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias.
  bool keras = false;
};

class RecurrentLayerImpl : public torch::nn::Module {
 public:
  RecurrentLayerImpl(CellKind kind, int64_t input_size, int64_t hidden_size);
  // x (T, B, I) -> states (T, B, H). Checks shapes and dtypes and names what is wrong.
  SequenceOutput forward(const torch::Tensor& x, const RecurrentState& initial = {});

  CellKind kind() const { return kind_; }
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  // Width of the second state c (0: none). LSTM: H; scan blocks: their core state.
  virtual int64_t second_state_size() const { return kind_ == CellKind::lstm ? hidden_size_ : 0; }
  bool has_second_state() const { return second_state_size() > 0; }
  virtual void set_impl(Impl impl) { impl_ = impl; }
  Impl impl() const { return impl_; }

 protected:
  // Called with validated inputs; initial.h (and .c for LSTM) are defined (B, H).
  virtual SequenceOutput forward_impl(const torch::Tensor& x, const RecurrentState& initial) = 0;
  // The fused kernels run on CPU tensors; anything else (e.g. CUDA) takes the reference.
  bool use_fused(const torch::Tensor& x) const { return impl_ == Impl::fused && x.device().is_cpu(); }

 private:
  Impl impl_ = Impl::fused;
  CellKind kind_;
  int64_t input_size_, hidden_size_;
};
using RecurrentLayer = std::shared_ptr<RecurrentLayerImpl>;

class BrcLayerImpl : public RecurrentLayerImpl {
 public:
  BrcLayerImpl(int64_t input_size, int64_t hidden_size);
  torch::Tensor weight_ih;  // (3H, I) [U_a; U_c; U_h], Glorot-uniform per block
  torch::Tensor bias;       // (3H) [b_a; b_c; b_h], zeros
  torch::Tensor w_a, w_c;   // (H), ones
 protected:
  SequenceOutput forward_impl(const torch::Tensor& x, const RecurrentState& initial) override;
};

class NbrcLayerImpl : public RecurrentLayerImpl {
 public:
  NbrcLayerImpl(int64_t input_size, int64_t hidden_size, const LayerInit& init = {});
  torch::Tensor weight_ih;  // (3H, I) [U_a; U_c; U_h], Glorot-uniform per block
  torch::Tensor weight_hh;  // (2H, H) [W_a; W_c], Glorot-uniform (or orthogonal) per block
  torch::Tensor bias;       // (3H) [b_a; b_c; b_h], zeros
 protected:
  SequenceOutput forward_impl(const torch::Tensor& x, const RecurrentState& initial) override;
};

// GRU and LSTM keep torch::nn's parameter names, layout and default initialisation
// (uniform(-1/sqrt(H), 1/sqrt(H))), so weights copy across unchanged; LayerInit::keras gives
// the authors' initialisation instead.
class GruLayerImpl : public RecurrentLayerImpl {
 public:
  GruLayerImpl(int64_t input_size, int64_t hidden_size, const LayerInit& init = {});
  torch::Tensor weight_ih, weight_hh;  // (3H, I), (3H, H) [r; z; n]
  torch::Tensor bias_ih, bias_hh;      // (3H)
 protected:
  SequenceOutput forward_impl(const torch::Tensor& x, const RecurrentState& initial) override;
};

class LstmLayerImpl : public RecurrentLayerImpl {
 public:
  LstmLayerImpl(int64_t input_size, int64_t hidden_size, const LayerInit& init = {});
  torch::Tensor weight_ih, weight_hh;  // (4H, I), (4H, H) [i; f; g; o]
  torch::Tensor bias_ih, bias_hh;      // (4H)
 protected:
  SequenceOutput forward_impl(const torch::Tensor& x, const RecurrentState& initial) override;
};

class MguLayerImpl : public RecurrentLayerImpl {
 public:
  MguLayerImpl(int64_t input_size, int64_t hidden_size);
  torch::Tensor weight_ih;  // (2H, I) [U_f; U_h], Glorot-uniform per block
  torch::Tensor weight_hh;  // (2H, H) [W_f; W_h], Glorot-uniform per block
  torch::Tensor bias;       // (2H), zeros
 protected:
  SequenceOutput forward_impl(const torch::Tensor& x, const RecurrentState& initial) override;
};

// Two independent cells reading the same input; outputs (and second states) concatenated
// [first; second] along the last axis. A double layer (two cells of one kind, H/2 each) is what
// partial warmup drives (multistability.md); a hybrid (kind hybrid_*) pairs an MRU block with
// an LRU block (cells.md section 4).
class DoubleLayerImpl : public RecurrentLayerImpl {
 public:
  DoubleLayerImpl(RecurrentLayer first, RecurrentLayer second);
  DoubleLayerImpl(CellKind kind, RecurrentLayer first, RecurrentLayer second);
  void set_impl(Impl impl) override;
  int64_t second_state_size() const override;
  RecurrentLayer first, second;
 protected:
  SequenceOutput forward_impl(const torch::Tensor& x, const RecurrentState& initial) override;
};

// L layers; layer l+1 reads the states of layer l.
class RecurrentStackImpl : public torch::nn::Module {
 public:
  RecurrentStackImpl(CellKind kind, int64_t input_size, int64_t hidden_size, int64_t layers,
                     bool double_layer = false, const LayerInit& init = {});
  // x (T, B, I) -> one SequenceOutput per layer. initial: empty, or one state per layer.
  std::vector<SequenceOutput> forward(const torch::Tensor& x,
                                      const std::vector<RecurrentState>& initial = {});
  void set_impl(Impl impl);
  std::vector<RecurrentLayer> layers;
};
TORCH_MODULE(RecurrentStack);

}  // namespace neurocell
