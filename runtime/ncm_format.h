#pragma once
// The .ncm container (the frame, the header's lines, the tensors; the format is described in
// neurocell_runtime.h): what the model reader, the integer SRC and the library's exporter read
// and write. Public; neurocell_runtime.h includes it.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "error.h"

namespace ncrt {

// CRC-32 as zlib computes it (the file checksum), exposed for writers and tests.
uint32_t crc32(const unsigned char* data, size_t size, uint32_t crc = 0);

// ---- The .ncm container itself, for writers and for the integer variants (integer_src.h).
// Tensor dtypes: f32 (floats, finite), i8, i16, i32 (integers, little-endian two's complement).
struct NcmTensor {
  std::string dtype = "f32";
  std::vector<int64_t> shape;
  std::vector<float> floats;   // dtype f32
  std::vector<int32_t> ints;   // dtype i8, i16, i32
  int64_t count() const;
};
struct NcmFile {
  struct Line {
    int number;                      // in the header, from 1
    std::vector<std::string> words;  // every header line but the tensor lines
  };
  std::vector<Line> lines;
  std::vector<std::string> tensor_order;
  std::map<std::string, NcmTensor> tensors;
  std::string value(const std::string& key) const;  // the word after `key`, "" when absent
};
// Checks the frame (size, magic, version, lengths, checksum) and every tensor (shape, dtype,
// range of the integers, finiteness of the floats). Throws Error naming `what`.
NcmFile read_ncm(const std::string& bytes, const std::string& what);
// The bytes of a file: header text lines (no tensor lines: they are written from `tensors`),
// then the tensors in order, then the checksum. Throws Error for a value its dtype cannot hold.
std::string write_ncm(const std::string& header_lines, const std::vector<std::pair<std::string, NcmTensor>>& tensors);
// The whole content of a file, with an error that names it.
std::string read_file_bytes(const std::string& path);

}  // namespace ncrt
