#pragma once
// The runtime's one exception type, thrown by every part of it (the .ncm container, the model
// reader, the layers, the analog noise, the integer SRC). Public; neurocell_runtime.h includes it.
#include <stdexcept>

namespace ncrt {

// Every failure to load or run a model: the message names the file, the problem and the fix.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ncrt
