#pragma once
// The byte-level half of the safetensors reader: header length, JSON header, metadata and
// the layout of the data, without LibTorch (so that tests/fuzz builds it quickly).
// io/safetensors.h turns the result into tensors.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace neurocell {

struct SafetensorsEntry {
  std::string name, dtype;     // dtype: F32, F64, I64, I32, U8, I8, I16 or BOOL
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // data_offsets, relative to data_offset
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // in data order
  std::map<std::string, std::string> metadata;
  size_t data_offset = 0;  // 8 + header length
};

// Checks what the reference reader checks: the header is a JSON object, "__metadata__" a
// string-to-string map, every shape matches its byte range, and the ranges tile the data
// exactly (no overlap, no gap, no trailing bytes). Throws Error naming `what`.
SafetensorsHeader parse_safetensors_header(const std::string& bytes, const std::string& what);

}  // namespace neurocell
