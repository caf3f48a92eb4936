#include "io/ncm_export.h"

#include <zlib.h>

#include <cstring>
#include <sstream>

#include "core/error.h"
#include "nn/scan_layers.h"

namespace neurocell {

namespace {

void append_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

// The constants the runtime's layers need, read from the model's own blocks.
struct ScanConstants {
  int64_t cmru_levels = fused::MruOptions{}.levels;
  double theta_on = fused::MruOptions{}.theta_on, theta_off = fused::MruOptions{}.theta_off;
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

// "tensor NAME f32 DIMS" lines into the header and the float32 data, in one order.
void append_tensor(std::ostringstream& header, std::string& data, const std::string& name, const torch::Tensor& value) {
  const auto t = value.detach().to(torch::kFloat32).contiguous();
  require(torch::isfinite(t).all().item<bool>(), "cannot export: tensor " + name + " holds NaN or Inf");
  header << "tensor " << name << " f32";
  for (const auto d : t.sizes()) header << " " << d;
  header << "\n";
  const auto* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    uint32_t u;
    std::memcpy(&u, p + i, 4);
    append_u32(data, u);
  }
}

// Magic, version, header, data, CRC-32.
std::string frame(const std::string& text, const std::string& data) {
  std::string out("NCM\0", 4);
  append_u32(out, 1);  // version
  append_u32(out, static_cast<uint32_t>(text.size()));
  out += text;
  out += data;
  const uint32_t crc = static_cast<uint32_t>(
      ::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(out.data()), static_cast<uInt>(out.size())));
  append_u32(out, crc);
  return out;
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
  std::string data;
  for (const auto& item : model->named_parameters()) append_tensor(header, data, item.key(), item.value());
  return frame(header.str(), data);
}

std::string ncm_bytes(SrcClassifier& model) {
  const auto& config = model->config;
  std::ostringstream header;
  header.precision(9);
  header << "model src-classifier\ncell src\ninput " << config.input_size << "\nhidden " << config.hidden_size
         << "\noutput " << config.classes << "\nlayers " << config.layers << "\n";
  for (int64_t l = 0; l < config.layers; ++l)
    header << "layer " << l << " src " << (l == 0 ? config.input_size : config.layer_width(l - 1)) << " "
           << config.layer_width(l) << "\n";
  const double scale = config.logit_scale > 0 ? config.logit_scale : 1.0 / config.readout_factor;
  header << "constant src_alpha " << config.cell.alpha << "\nconstant logit_scale " << scale << "\n";
  std::string data;
  for (const auto& item : model->named_parameters()) append_tensor(header, data, item.key(), item.value());
  for (const auto& item : model->named_buffers()) append_tensor(header, data, item.key(), item.value());
  return frame(header.str(), data);
}

}  // namespace neurocell
