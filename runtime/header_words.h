#pragma once
// Internal to the runtime (not installed): a word of a .ncm header line as a number, with an
// error that names where it is. Shared by the container reader (tensor dimensions) and the
// model reader (sizes, constants).
#include <cmath>
#include <cstdint>
#include <exception>
#include <string>

#include "error.h"

namespace ncrt::detail {

inline int64_t parse_int(const std::string& word, const std::string& where) {
  try {
    size_t used = 0;
    const long long v = std::stoll(word, &used);
    if (used == word.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error(where + ": '" + word + "' is not an integer");
}

inline double parse_number(const std::string& word, const std::string& where) {
  try {
    size_t used = 0;
    const double v = std::stod(word, &used);
    if (used == word.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw Error(where + ": '" + word + "' is not a finite number");
}

}  // namespace ncrt::detail
