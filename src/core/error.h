#pragma once
// One error type for everything a user can get wrong (flags, shapes, files). The CLI prints
// its message on one line and exits non-zero; the message names the problem and the fix.
#include <stdexcept>
#include <string>

namespace neurocell {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

inline void require(bool condition, const std::string& message) {
  if (!condition) throw Error(message);
}

}  // namespace neurocell
