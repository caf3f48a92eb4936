#include "io/ncm_export.h"

#include <sstream>
#include <utility>
#include <vector>

#include "nn/cell_registry.h"
#include "core/error.h"
#include "neurocell_runtime.h"
#include "nn/scan_layers.h"

namespace neurocell {

namespace {

// The constants the runtime's layers need, read from the model's own blocks.
struct ScanConstants {
  int64_t cmru_levels = MruOptions{}.levels;
  double theta_on = MruOptions{}.theta_on, theta_off = MruOptions{}.theta_off;
  double layer_norm_eps = 1e-5;
};

void collect_constants(const RecurrentLayer& layer, ScanConstants& k) {
  if (auto pair = std::dynamic_pointer_cast<DoubleLayerImpl>(layer)) {
    collect_constants(pair->first, k), collect_constants(pair->second, k);
    return;
  }
  if (auto block = std::dynamic_pointer_cast<ScanBlockImpl>(layer)) k.layer_norm_eps = block->norm->options.eps();
  if (auto mru = std::dynamic_pointer_cast<MruBlockImpl>(layer)) {
    k.cmru_levels = mru->options.levels;
    k.theta_on = mru->options.theta_on, k.theta_off = mru->options.theta_off;
  }
}

// A parameter or buffer as a float32 tensor of the file.
std::pair<std::string, ncrt::NcmTensor> file_tensor(const std::string& name, const torch::Tensor& value) {
  const auto t = value.detach().to(torch::kFloat32).contiguous();
  require(torch::isfinite(t).all().item<bool>(), "cannot export: tensor " + name + " holds NaN or Inf");
  ncrt::NcmTensor out;
  out.shape.assign(t.sizes().begin(), t.sizes().end());
  out.floats.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  return {name, std::move(out)};
}

}  // namespace

std::string ncm_bytes(SequenceModel& model) {
  const auto& config = model->config;
  std::ostringstream header;
  header.precision(9);
  header << "model sequence\ncell " << config.cell << "\ninput " << config.input_size << "\nhidden "
         << config.hidden_size << "\noutput " << config.output_size << "\nlayers " << config.layers << "\n";
  ScanConstants constants;
  const auto& layers = model->stack->layers;
  for (size_t l = 0; l < layers.size(); ++l) {
    header << "layer " << l << " ";
    if (auto pair = std::dynamic_pointer_cast<DoubleLayerImpl>(layers[l]))
      header << "pair " << cell_kind_name(pair->first->kind()) << " " << cell_kind_name(pair->second->kind());
    else
      header << cell_kind_name(layers[l]->kind());
    header << " " << layers[l]->input_size() << " " << layers[l]->hidden_size() << "\n";
    collect_constants(layers[l], constants);
  }
  header << "constant cmru_levels " << constants.cmru_levels << "\nconstant fq_theta_on " << constants.theta_on
         << "\nconstant fq_theta_off " << constants.theta_off << "\nconstant layer_norm_eps " << constants.layer_norm_eps
         << "\n";
  std::vector<std::pair<std::string, ncrt::NcmTensor>> tensors;
  for (const auto& item : model->named_parameters()) tensors.push_back(file_tensor(item.key(), item.value()));
  return ncrt::write_ncm(header.str(), tensors);
}

std::string ncm_bytes(SrcClassifier& model) {
  const auto& config = model->config;
  std::ostringstream header;
  header.precision(9);
  // The same classifier whichever the spiking cell: the cell line, its layers and its constants differ.
  const std::string& cell = config.cell_name;
  header << "model src-classifier\ncell " << cell << "\ninput " << config.input_size << "\nhidden "
         << config.hidden_size << "\noutput " << config.classes << "\nlayers " << config.layers << "\n";
  for (int64_t l = 0; l < config.layers; ++l)
    header << "layer " << l << " " << cell << " " << (l == 0 ? config.input_size : config.layer_width(l - 1)) << " "
           << config.layer_width(l) << "\n";
  const double scale = config.logit_scale > 0 ? config.logit_scale : 1.0 / config.readout_factor;
  if (model->lif())
    header << "constant lif_beta " << config.lif.beta << "\nconstant lif_threshold " << config.lif.threshold << "\n";
  else
    header << "constant src_alpha " << config.cell.alpha << "\n";
  header << "constant logit_scale " << scale << "\n";
  std::vector<std::pair<std::string, ncrt::NcmTensor>> tensors;
  for (const auto& item : model->named_parameters()) tensors.push_back(file_tensor(item.key(), item.value()));
  for (const auto& item : model->named_buffers()) tensors.push_back(file_tensor(item.key(), item.value()));
  return ncrt::write_ncm(header.str(), tensors);
}

}  // namespace neurocell
