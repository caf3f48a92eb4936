#pragma once
// The byte-level half of the .npy reader: magic, version, header dict and the data length,
// without LibTorch (so that tests/fuzz builds it quickly). io/npy.h turns the result into a
// tensor.
#include <cstdint>
#include <string>
#include <vector>

namespace neurocell {

// The first six bytes of every .npy file.
inline constexpr char kNpyMagic[] = "\x93NUMPY";

struct NpyHeader {
  std::string descr;           // e.g. "<f4", one of the dtypes npy.cpp reads
  size_t item_bytes = 0;       // bytes per element of descr
  std::vector<int64_t> shape;  // C order; () is a scalar
  size_t data_offset = 0;      // where the data starts; bytes.size() - data_offset = numel * item_bytes
};

// Parses and checks everything but the values; throws Error naming `what` and the problem.
NpyHeader parse_npy_header(const std::string& bytes, const std::string& what);

// The dims of a header's shape tuple text, e.g. "5, 2, 1" or "5," or "": decimal digits
// only, separated by commas (one trailing comma allowed), at most 2^40 elements in all.
std::vector<int64_t> parse_npy_shape(const std::string& tuple, const std::string& bad);

}  // namespace neurocell
