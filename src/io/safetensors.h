#pragma once
// safetensors files (https://huggingface.co/docs/safetensors): 8-byte little-endian header
// length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
// {string: string}}, then the raw little-endian data. Readable by Python's safetensors and by
// any tool that reads the format.
#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace neurocell {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

std::string encode_safetensors(const NamedTensors& tensors,
                               const std::map<std::string, std::string>& metadata = {});
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});  // atomic
// Tensors in file order; throws Error naming the file and the problem on any corruption.
NamedTensors read_safetensors(const std::string& path);
NamedTensors parse_safetensors(const std::string& bytes, const std::string& what);

}  // namespace neurocell
