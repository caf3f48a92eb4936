#include "io/safetensors_header.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/error.h"

namespace neurocell {

namespace {

struct DtypeSize {
  const char* name;
  uint64_t bytes;
};
const DtypeSize kDtypeSizes[] = {{"F32", 4}, {"F64", 8}, {"I64", 8}, {"I32", 4},
                                 {"U8", 1},  {"I8", 1},  {"I16", 2}, {"BOOL", 1}};
constexpr uint64_t kMaxSafetensorsElements = uint64_t{1} << 40;

}  // namespace

SafetensorsHeader parse_safetensors_header(const std::string& bytes, const std::string& what) {
  const std::string bad = what + " is not a valid safetensors file: ";
  require(bytes.size() >= 8, bad + "shorter than its 8-byte header length");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  require(n <= bytes.size() - 8, bad + "header length " + std::to_string(n) +
                                     " exceeds the file size (truncated or corrupt)");
  SafetensorsHeader out;
  out.data_offset = 8 + n;
  const std::string text = bytes.substr(8, n);
  // nlohmann's parser ends the input at a NUL byte: text after one would pass unseen.
  require(text.find('\0') == std::string::npos, bad + "header holds a NUL byte");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw Error(bad + "header is not valid JSON");
  }
  require(header.is_object(), bad + "header is not a JSON object");
  const uint64_t data_size = bytes.size() - out.data_offset;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      require(info.is_object(), bad + "\"__metadata__\" must be a map of strings to strings");
      for (const auto& [key, value] : info.items()) {
        require(value.is_string(), bad + "\"__metadata__\" entry '" + key + "' is not a string");
        out.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string tensor = bad + "tensor '" + name + "' ";
    require(info.is_object() && info.contains("dtype") && info.contains("shape") && info.contains("data_offsets"),
            tensor + "needs \"dtype\", \"shape\" and \"data_offsets\"");
    const auto& dtype = info.at("dtype");
    const auto& shape = info.at("shape");
    const auto& offsets = info.at("data_offsets");
    require(dtype.is_string(), tensor + "has a \"dtype\" that is not a string");
    SafetensorsEntry e;
    e.name = name;
    e.dtype = dtype.get<std::string>();
    uint64_t item = 0;
    for (const auto& d : kDtypeSizes)
      if (e.dtype == d.name) item = d.bytes;
    require(item != 0, tensor + "has unsupported dtype " + e.dtype);
    require(shape.is_array() && shape.size() <= 32, tensor + "has a \"shape\" that is not a list of dims");
    uint64_t count = 1;
    for (const auto& d : shape) {
      require(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0),
              tensor + "has a \"shape\" that is not a list of non-negative integers");
      const uint64_t v = d.get<uint64_t>();
      require(v == 0 || count <= kMaxSafetensorsElements / v, tensor + "has an implausibly large shape");
      count *= v;
      e.shape.push_back(static_cast<int64_t>(v));
    }
    require(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
                offsets[1].is_number_unsigned(),
            tensor + "has \"data_offsets\" that are not two non-negative integers");
    e.begin = offsets[0].get<uint64_t>();
    e.end = offsets[1].get<uint64_t>();
    require(e.begin <= e.end && e.end <= data_size, tensor + "points outside the data (truncated or corrupt)");
    require(count * item == e.end - e.begin, tensor + "size does not match its shape");
    out.entries.push_back(std::move(e));
  }
  std::sort(out.entries.begin(), out.entries.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  // The ranges must tile [0, data_size): an overlap would alias two tensors' weights, and a
  // gap or trailing bytes mean the file is not what its header says.
  uint64_t next = 0;
  for (const auto& e : out.entries) {
    require(e.begin == next, e.begin < next ? bad + "tensor '" + e.name + "' overlaps the tensor before it"
                                            : bad + "the data has unused bytes before tensor '" + e.name + "'");
    next = e.end;
  }
  require(next == data_size, bad + "holds " + std::to_string(data_size - next) +
                                 " bytes after its last tensor (corrupt, or appended to)");
  return out;
}

}  // namespace neurocell
