// The .ncm container: the frame, the header lines and the tensors (see ncm_format.h).
#include "ncm_format.h"

#include <array>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "header_words.h"

namespace ncrt {

using detail::parse_int;

uint32_t crc32(const unsigned char* data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

namespace {

constexpr char kMagic[4] = {'N', 'C', 'M', '\0'};
constexpr uint32_t kVersion = 1;

// ---- Reading the file

uint32_t read_u32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

}  // namespace

std::string read_file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(path + ": cannot open the model file (write one with `neurocell export --checkpoint DIR --out FILE.ncm`)");
  std::ostringstream content;
  content << file.rdbuf();
  if (file.bad()) throw Error(path + ": read error");
  return content.str();
}

int64_t NcmTensor::count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string NcmFile::value(const std::string& key) const {
  for (const auto& line : lines)
    if (line.words.size() >= 2 && line.words[0] == key) return line.words[1];
  return "";
}

namespace {

int dtype_bytes(const std::string& dtype) {
  if (dtype == "f32" || dtype == "i32") return 4;
  if (dtype == "i16") return 2;
  if (dtype == "i8") return 1;
  return 0;
}

void append_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

}  // namespace

NcmFile read_ncm(const std::string& bytes, const std::string& what) {
  // Frame: magic, version, header length, header, data, checksum.
  if (bytes.size() < 16) throw Error(what + ": truncated (" + std::to_string(bytes.size()) + " bytes), not a .ncm model");
  if (std::memcmp(bytes.data(), kMagic, 4) != 0) throw Error(what + ": not a .ncm model (bad magic bytes)");
  const uint32_t version = read_u32(bytes, 4);
  if (version != kVersion)
    throw Error(what + ": .ncm version " + std::to_string(version) + ", this runtime reads version " +
                std::to_string(kVersion) + " (re-export with the matching neurocell)");
  const uint64_t header_bytes = read_u32(bytes, 8);
  if (12 + header_bytes + 4 > bytes.size()) throw Error(what + ": truncated (the header runs past the end of the file)");
  const uint32_t stored_crc = read_u32(bytes, bytes.size() - 4);
  const uint32_t actual_crc = crc32(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size() - 4);

  NcmFile file;
  std::istringstream header(bytes.substr(12, header_bytes));
  std::string line;
  uint64_t data_bytes = 0;
  for (int number = 1; std::getline(header, line); ++number) {
    const std::string where = what + ": header line " + std::to_string(number);
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string word; words >> word;) w.push_back(word);
    if (w.empty()) continue;
    if (w[0] != "tensor") {
      file.lines.push_back({number, w});
      continue;
    }
    if (w.size() < 4) throw Error(where + ": expected 'tensor NAME DTYPE DIM...'");
    NcmTensor t;
    t.dtype = w[2];
    if (dtype_bytes(t.dtype) == 0)
      throw Error(where + ": tensor '" + w[1] + "' has dtype '" + w[2] + "' (this runtime reads f32, i8, i16, i32)");
    for (size_t i = 3; i < w.size(); ++i) {
      t.shape.push_back(parse_int(w[i], where));
      if (t.shape.back() <= 0 || t.shape.back() > (int64_t{1} << 31)) throw Error(where + ": impossible dimension " + w[i]);
    }
    uint64_t count = 1;
    for (int64_t d : t.shape) count *= static_cast<uint64_t>(d);
    if (count > (uint64_t{1} << 32)) throw Error(what + ": tensor '" + w[1] + "' is impossibly large");
    data_bytes += count * static_cast<uint64_t>(dtype_bytes(t.dtype));
    if (!file.tensors.emplace(w[1], std::move(t)).second) throw Error(what + ": tensor '" + w[1] + "' appears twice");
    file.tensor_order.push_back(w[1]);
  }

  // Tensor data: exactly the bytes the header announces, then the checksum.
  const uint64_t expected = 12 + header_bytes + data_bytes + 4;
  if (bytes.size() < expected)
    throw Error(what + ": truncated: the header announces " + std::to_string(expected) + " bytes, the file has " +
                std::to_string(bytes.size()) + " (re-export or copy the file again)");
  if (bytes.size() > expected)
    throw Error(what + ": " + std::to_string(bytes.size() - expected) + " unexpected bytes after the tensors (corrupt file)");
  if (stored_crc != actual_crc) throw Error(what + ": checksum mismatch, the file is corrupt (re-export or copy it again)");

  size_t at = 12 + header_bytes;
  for (const auto& name : file.tensor_order) {
    auto& t = file.tensors[name];
    const auto count = static_cast<size_t>(t.count());
    const int size = dtype_bytes(t.dtype);
    if (t.dtype == "f32") t.floats.resize(count);
    else t.ints.resize(count);
    for (size_t i = 0; i < count; ++i, at += size) {
      if (t.dtype == "f32") {
        const uint32_t u = read_u32(bytes, at);
        std::memcpy(&t.floats[i], &u, 4);
        if (!std::isfinite(t.floats[i])) throw Error(what + ": tensor '" + name + "' holds a NaN or infinite value");
      } else {
        uint32_t u = 0;
        for (int b = size - 1; b >= 0; --b) u = (u << 8) | static_cast<unsigned char>(bytes[at + b]);
        const int shift = 32 - 8 * size;  // sign-extend
        t.ints[i] = static_cast<int32_t>(u << shift) >> shift;
      }
    }
  }
  return file;
}

std::string write_ncm(const std::string& header_lines, const std::vector<std::pair<std::string, NcmTensor>>& tensors) {
  std::string text = header_lines, data;
  if (!text.empty() && text.back() != '\n') text += '\n';
  for (const auto& [name, t] : tensors) {
    const int size = dtype_bytes(t.dtype);
    if (size == 0) throw Error("tensor '" + name + "': unknown dtype '" + t.dtype + "'");
    const bool floats = t.dtype == "f32";
    if (static_cast<int64_t>(floats ? t.floats.size() : t.ints.size()) != t.count())
      throw Error("tensor '" + name + "': its values do not fill its shape");
    text += "tensor " + name + " " + t.dtype;
    for (int64_t d : t.shape) text += " " + std::to_string(d);
    text += "\n";
    const int64_t lo = size == 1 ? -128 : size == 2 ? -32768 : INT32_MIN, hi = size == 1 ? 127 : size == 2 ? 32767 : INT32_MAX;
    for (int64_t i = 0; i < t.count(); ++i) {
      uint32_t u;
      if (floats) {
        if (!std::isfinite(t.floats[i])) throw Error("tensor '" + name + "' holds NaN or Inf");
        std::memcpy(&u, &t.floats[i], 4);
      } else {
        if (t.ints[i] < lo || t.ints[i] > hi)
          throw Error("tensor '" + name + "': " + std::to_string(t.ints[i]) + " does not fit in " + t.dtype);
        u = static_cast<uint32_t>(t.ints[i]);
      }
      for (int b = 0; b < size; ++b) data.push_back(static_cast<char>((u >> (8 * b)) & 0xFFu));
    }
  }
  std::string out(kMagic, 4);
  append_u32(out, kVersion);
  append_u32(out, static_cast<uint32_t>(text.size()));
  out += text;
  out += data;
  append_u32(out, crc32(reinterpret_cast<const unsigned char*>(out.data()), out.size()));
  return out;
}

}  // namespace ncrt
