#pragma once
// NumPy .npy arrays (format versions 1, 2, 3): little-endian float32/float64 (and integer
// types for data files), C order. Errors name the file and what is wrong with it.
#include <torch/types.h>

#include <string>

namespace neurocell {

// Parses the bytes of a .npy file; `what` names the source in error messages.
torch::Tensor parse_npy(const std::string& bytes, const std::string& what);
torch::Tensor read_npy(const std::string& path);
std::string encode_npy(const torch::Tensor& tensor);       // float32/float64/int64/uint8
void write_npy(const std::string& path, const torch::Tensor& tensor);  // atomic

}  // namespace neurocell
