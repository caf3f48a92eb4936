#include "io/safetensors.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstring>

#include "core/error.h"
#include "io/files.h"
#include "io/safetensors_header.h"

namespace neurocell {

namespace {

struct DtypeName {
  const char* name;
  torch::ScalarType type;
};
const DtypeName kSafetensorsDtypes[] = {{"F32", torch::kFloat32}, {"F64", torch::kFloat64},
                             {"I64", torch::kInt64},   {"I32", torch::kInt32},
                             {"U8", torch::kUInt8},    {"I8", torch::kInt8},
                             {"I16", torch::kInt16},   {"BOOL", torch::kBool}};

const char* dtype_name(torch::ScalarType type) {
  for (const auto& d : kSafetensorsDtypes)
    if (d.type == type) return d.name;
  throw Error("safetensors: cannot store dtype " + std::string(c10::toString(type)));
}

}  // namespace

std::string encode_safetensors(const NamedTensors& tensors,
                               const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> contiguous;
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    require(name != "__metadata__" && !header.contains(name),
            "safetensors: duplicate or reserved tensor name '" + name + "'");
    auto c = t.detach().cpu().contiguous();
    const size_t bytes = c.numel() * c.element_size();
    header[name] = {{"dtype", dtype_name(c.scalar_type())},
                    {"shape", c.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(c);
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // the format aligns the data to 8 bytes
  std::string out(8, '\0');
  const uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += json;
  for (const auto& c : contiguous)
    out.append(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
  return out;
}

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, encode_safetensors(tensors, metadata));
}

NamedTensors parse_safetensors(const std::string& bytes, const std::string& what) {
  const SafetensorsHeader header = parse_safetensors_header(bytes, what);
  const char* data = bytes.data() + header.data_offset;
  NamedTensors out;
  for (const auto& e : header.entries) {  // in data order
    const DtypeName* d = nullptr;
    for (const auto& candidate : kSafetensorsDtypes)
      if (e.dtype == candidate.name) d = &candidate;
    require(d != nullptr, what + ": tensor '" + e.name + "' has unsupported dtype " + e.dtype);
    auto tensor = torch::empty(e.shape, torch::TensorOptions().dtype(d->type));
    if (e.end > e.begin) std::memcpy(tensor.data_ptr(), data + e.begin, e.end - e.begin);
    out.emplace_back(e.name, tensor);
  }
  return out;
}

NamedTensors read_safetensors(const std::string& path) {
  return parse_safetensors(read_file(path, "checkpoint"), "'" + path + "'");
}

}  // namespace neurocell
