#include "io/npy.h"

#include <torch/torch.h>

#include <cstring>
#include <regex>

#include "core/error.h"
#include "io/files.h"

namespace neurocell {

namespace {

const char kMagic[] = "\x93NUMPY";

struct DtypeInfo {
  const char* descr;
  torch::ScalarType type;
  size_t bytes;
};
const DtypeInfo kDtypes[] = {{"<f4", torch::kFloat32, 4}, {"<f8", torch::kFloat64, 8},
                             {"<i8", torch::kInt64, 8},   {"<i4", torch::kInt32, 4},
                             {"|u1", torch::kUInt8, 1},   {"<u1", torch::kUInt8, 1},
                             {"|b1", torch::kBool, 1}};

}  // namespace

torch::Tensor parse_npy(const std::string& bytes, const std::string& what) {
  const std::string bad = what + " is not a valid .npy file: ";
  require(bytes.size() >= 10 && std::memcmp(bytes.data(), kMagic, 6) == 0,
          bad + "missing the \\x93NUMPY magic");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    require(bytes.size() >= 12, bad + "truncated header");
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    header_start = 12;
  } else {
    throw Error(bad + "unsupported format version " + std::to_string(major));
  }
  require(header_start + header_len <= bytes.size(), bad + "truncated header");
  const std::string header = bytes.substr(header_start, header_len);

  std::smatch m;
  require(std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([^']*)'")),
          bad + "header has no 'descr'");
  const std::string descr = m[1];
  const DtypeInfo* dtype = nullptr;
  for (const auto& d : kDtypes)
    if (descr == d.descr) dtype = &d;
  require(dtype != nullptr, what + ": unsupported dtype '" + descr +
                                "' (use little-endian float32 '<f4' or float64 '<f8')");
  require(std::regex_search(header, m, std::regex("'fortran_order'\\s*:\\s*(True|False)")),
          bad + "header has no 'fortran_order'");
  require(m[1] == "False", what + ": Fortran-order arrays are not supported (save with "
                                  "np.ascontiguousarray)");
  require(std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)")),
          bad + "header has no 'shape'");
  std::vector<int64_t> shape;
  const std::string dims = m[1];
  std::regex number("\\d+");
  int64_t count = 1;
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), number); it != std::sregex_iterator(); ++it) {
    const int64_t d = std::stoll(it->str());
    shape.push_back(d);
    require(d == 0 || count <= (int64_t{1} << 40) / d, bad + "shape is implausibly large");
    count *= d;
  }
  const size_t data_start = header_start + header_len;
  const size_t expected = static_cast<size_t>(count) * dtype->bytes;
  require(bytes.size() - data_start == expected,
          bad + "holds " + std::to_string(bytes.size() - data_start) + " data bytes but shape and dtype need " +
              std::to_string(expected) + " (truncated or corrupt file)");
  auto tensor = torch::empty(shape, torch::TensorOptions().dtype(dtype->type));
  if (expected > 0) std::memcpy(tensor.data_ptr(), bytes.data() + data_start, expected);
  return tensor;
}

torch::Tensor read_npy(const std::string& path) {
  return parse_npy(read_file(path, "array file"), "'" + path + "'");
}

std::string encode_npy(const torch::Tensor& input) {
  const auto tensor = input.detach().cpu().contiguous();
  const DtypeInfo* dtype = nullptr;
  for (const auto& d : kDtypes)
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
  std::string out(kMagic, 6);
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
