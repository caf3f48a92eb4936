#include "io/npy.h"

#include <torch/torch.h>

#include <cstring>

#include "core/error.h"
#include "io/files.h"
#include "io/npy_header.h"

namespace neurocell {

namespace {


struct DtypeInfo {
  const char* descr;
  torch::ScalarType type;
  size_t bytes;
};
const DtypeInfo kNpyDtypes[] = {{"<f4", torch::kFloat32, 4}, {"<f8", torch::kFloat64, 8},
                             {"<i8", torch::kInt64, 8},   {"<i4", torch::kInt32, 4},
                             {"|u1", torch::kUInt8, 1},   {"<u1", torch::kUInt8, 1},
                             {"|b1", torch::kBool, 1}};

}  // namespace

torch::Tensor parse_npy(const std::string& bytes, const std::string& what) {
  const NpyHeader header = parse_npy_header(bytes, what);
  const DtypeInfo* dtype = nullptr;
  for (const auto& d : kNpyDtypes)
    if (header.descr == d.descr) dtype = &d;
  require(dtype != nullptr, what + ": unsupported dtype '" + header.descr + "'");
  auto tensor = torch::empty(header.shape, torch::TensorOptions().dtype(dtype->type));
  const size_t size = bytes.size() - header.data_offset;  // numel * item bytes, checked by the header
  if (size > 0) std::memcpy(tensor.data_ptr(), bytes.data() + header.data_offset, size);
  return tensor;
}

torch::Tensor read_npy(const std::string& path) {
  return parse_npy(read_file(path, "array file"), "'" + path + "'");
}

std::string encode_npy(const torch::Tensor& input) {
  const auto tensor = input.detach().cpu().contiguous();
  const DtypeInfo* dtype = nullptr;
  for (const auto& d : kNpyDtypes)
    if (d.type == tensor.scalar_type() && !dtype) dtype = &d;
  require(dtype != nullptr, "cannot save dtype " + std::string(c10::toString(tensor.scalar_type())) +
                                " as .npy");
  std::string shape = "(";
  for (int64_t i = 0; i < tensor.dim(); ++i)
    shape += std::to_string(tensor.size(i)) + (tensor.dim() == 1 ? "," : (i + 1 < tensor.dim() ? ", " : ""));
  shape += ")";
  std::string header = std::string("{'descr': '") + dtype->descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so that magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out(kNpyMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(static_cast<const char*>(tensor.data_ptr()), tensor.numel() * dtype->bytes);
  return out;
}

void write_npy(const std::string& path, const torch::Tensor& tensor) {
  write_file_atomic(path, encode_npy(tensor));
}

}  // namespace neurocell
