#include "io/npy_header.h"

#include <cstring>

#include "core/error.h"

namespace neurocell {

namespace {

constexpr int64_t kMaxNpyElements = int64_t{1} << 40;

struct DtypeBytes {
  const char* descr;
  size_t bytes;
};
const DtypeBytes kDtypeBytes[] = {{"<f4", 4}, {"<f8", 8}, {"<i8", 8}, {"<i4", 4},
                                  {"|u1", 1}, {"<u1", 1}, {"|b1", 1}};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The text after `'key':` (spaces skipped) in the header dict, or npos. Scanned by hand: the
// std::regex this replaced recursed once per character and overflowed the stack on a long
// header (found by tests/fuzz/fuzz_npy).
size_t value_of(const std::string& header, const std::string& key) {
  const std::string quoted = "'" + key + "'";
  for (size_t at = header.find(quoted); at != std::string::npos; at = header.find(quoted, at + 1)) {
    size_t i = at + quoted.size();
    while (i < header.size() && is_space(header[i])) ++i;
    if (i >= header.size() || header[i] != ':') continue;
    ++i;
    while (i < header.size() && is_space(header[i])) ++i;
    return i;
  }
  return std::string::npos;
}

// The text from `at` (which must hold `open`) to the next `close`, exclusive; false if absent.
bool delimited(const std::string& header, size_t at, char open, char close, std::string& out) {
  if (at == std::string::npos || at >= header.size() || header[at] != open) return false;
  const size_t end = header.find(close, at + 1);
  if (end == std::string::npos) return false;
  out = header.substr(at + 1, end - at - 1);
  return true;
}

}  // namespace

std::vector<int64_t> parse_npy_shape(const std::string& tuple, const std::string& bad) {
  // Split at commas by hand: a regex for digits would read "-5" as 5 and "2. 1" as 2, 1.
  std::vector<std::string> items;
  std::string current;
  for (char c : tuple) {
    if (c == ',') {
      items.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  items.push_back(current);
  auto trim = [](std::string s) {
    while (!s.empty() && is_space(s.back())) s.pop_back();
    size_t i = 0;
    while (i < s.size() && is_space(s[i])) ++i;
    return s.substr(i);
  };
  for (auto& item : items) item = trim(item);
  const std::string shown = "shape (" + (tuple.size() > 40 ? tuple.substr(0, 40) + "..." : tuple) + ")";
  // "(5,)" and "()" leave one empty item at the end; "(5, 2)" none. Any other empty one is wrong.
  if (items.back().empty() && (items.size() > 1 || tuple.find_first_not_of(" \t\r\n") == std::string::npos))
    items.pop_back();
  std::vector<int64_t> shape;
  int64_t count = 1;
  for (const auto& item : items) {
    require(!item.empty() && item.find_first_not_of("0123456789") == std::string::npos,
            bad + shown + " must list non-negative whole numbers separated by commas");
    int64_t d = 0;
    for (char c : item) {
      require(d <= (kMaxNpyElements - (c - '0')) / 10, bad + shown + " is implausibly large");
      d = d * 10 + (c - '0');
    }
    require(d == 0 || count <= kMaxNpyElements / d, bad + shown + " is implausibly large");
    count *= d;
    shape.push_back(d);
  }
  require(shape.size() <= 32, bad + shown + " has more than 32 dimensions");
  return shape;
}

NpyHeader parse_npy_header(const std::string& bytes, const std::string& what) {
  const std::string bad = what + " is not a valid .npy file: ";
  require(bytes.size() >= 10 && std::memcmp(bytes.data(), kNpyMagic, 6) == 0,
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
  require(header_len <= bytes.size() - header_start, bad + "truncated header");
  const std::string header = bytes.substr(header_start, header_len);

  NpyHeader out;
  require(delimited(header, value_of(header, "descr"), '\'', '\'', out.descr), bad + "header has no 'descr'");
  for (const auto& d : kDtypeBytes)
    if (out.descr == d.descr) out.item_bytes = d.bytes;
  require(out.item_bytes != 0, what + ": unsupported dtype '" + out.descr.substr(0, 20) +
                                   "' (use little-endian float32 '<f4' or float64 '<f8')");
  const size_t order = value_of(header, "fortran_order");
  const bool fortran = order != std::string::npos && header.compare(order, 4, "True") == 0;
  require(fortran || (order != std::string::npos && header.compare(order, 5, "False") == 0),
          bad + "header has no 'fortran_order'");
  require(!fortran, what + ": Fortran-order arrays are not supported (save with np.ascontiguousarray)");
  std::string tuple;
  require(delimited(header, value_of(header, "shape"), '(', ')', tuple), bad + "header has no 'shape'");
  out.shape = parse_npy_shape(tuple, bad);
  size_t count = 1;
  for (int64_t d : out.shape) count *= static_cast<size_t>(d);  // <= 2^40 by parse_npy_shape
  out.data_offset = header_start + header_len;
  const size_t expected = count * out.item_bytes;
  require(bytes.size() - out.data_offset == expected,
          bad + "holds " + std::to_string(bytes.size() - out.data_offset) +
              " data bytes but shape and dtype need " + std::to_string(expected) + " (truncated or corrupt file)");
  return out;
}

}  // namespace neurocell
