#pragma once
// NumPy .npz archives: a ZIP of .npy files (np.savez stores them, np.savez_compressed
// deflates them). Keys are the entry names without their ".npy" suffix, as np.load gives them.
#include <torch/types.h>

#include <map>
#include <string>

namespace neurocell {

std::map<std::string, torch::Tensor> read_npz(const std::string& path);
// `what` names the source in error messages, e.g. "'model.zip': arrays.npz".
std::map<std::string, torch::Tensor> parse_npz(std::string bytes, const std::string& what);
// Stored (uncompressed) entries with CRCs, dtypes as encode_npy allows.
std::string encode_npz(const std::map<std::string, torch::Tensor>& arrays);
void write_npz(const std::string& path, const std::map<std::string, torch::Tensor>& arrays);  // atomic

}  // namespace neurocell
