#include "io/safetensors.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "io/files.h"

namespace neurocell {

namespace {

struct DtypeName {
  const char* name;
  torch::ScalarType type;
};
const DtypeName kDtypes[] = {{"F32", torch::kFloat32}, {"F64", torch::kFloat64},
                             {"I64", torch::kInt64},   {"I32", torch::kInt32},
                             {"U8", torch::kUInt8},    {"I8", torch::kInt8},
                             {"I16", torch::kInt16},   {"BOOL", torch::kBool}};

const char* dtype_name(torch::ScalarType type) {
  for (const auto& d : kDtypes)
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
  const std::string bad = what + " is not a valid safetensors file: ";
  require(bytes.size() >= 8, bad + "shorter than its 8-byte header length");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  require(n <= bytes.size() - 8, bad + "header length " + std::to_string(n) +
                                     " exceeds the file size (truncated or corrupt)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const nlohmann::json::exception&) {
    throw Error(bad + "header is not valid JSON");
  }
  require(header.is_object(), bad + "header is not a JSON object");
  const size_t data_size = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;
  struct Entry {
    size_t begin;
    std::string name;
    torch::Tensor tensor;
  };
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    try {
      const std::string dtype = info.at("dtype").get<std::string>();
      const auto shape = info.at("shape").get<std::vector<int64_t>>();
      const auto offsets = info.at("data_offsets").get<std::vector<uint64_t>>();
      const DtypeName* d = nullptr;
      for (const auto& candidate : kDtypes)
        if (dtype == candidate.name) d = &candidate;
      require(d != nullptr, bad + "tensor '" + name + "' has unsupported dtype " + dtype);
      require(offsets.size() == 2 && offsets[0] <= offsets[1] && offsets[1] <= data_size,
              bad + "tensor '" + name + "' points outside the data (truncated or corrupt)");
      auto tensor = torch::empty(shape, torch::TensorOptions().dtype(d->type));
      require(static_cast<uint64_t>(tensor.numel() * tensor.element_size()) == offsets[1] - offsets[0],
              bad + "tensor '" + name + "' size does not match its shape");
      if (tensor.numel() > 0) std::memcpy(tensor.data_ptr(), data + offsets[0], offsets[1] - offsets[0]);
      entries.push_back({offsets[0], name, tensor});
    } catch (const nlohmann::json::exception&) {
      throw Error(bad + "tensor '" + name + "' has a malformed entry");
    } catch (const c10::Error&) {
      throw Error(bad + "tensor '" + name + "' has an invalid shape");
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  NamedTensors out;
  for (auto& e : entries) out.emplace_back(e.name, e.tensor);
  return out;
}

NamedTensors read_safetensors(const std::string& path) {
  return parse_safetensors(read_file(path, "checkpoint"), "'" + path + "'");
}

}  // namespace neurocell
