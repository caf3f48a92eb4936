// The SRC authors' model format (io/authors_src.h): config.json and arrays.npz, checked
// together. The input is split at its first 0xFF byte (which JSON text never holds):
// config text before it, the .npz bytes after it.
#include "fuzz_common.h"

#include "core/error.h"
#include "io/authors_src.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = fuzz_bytes(data, size);
  const size_t split = bytes.find('\xff');
  const std::string config = bytes.substr(0, split);
  const std::string npz = split == std::string::npos ? std::string() : bytes.substr(split + 1);
  try {
    neurocell::parse_authors_src_model(config, npz, "fuzz.zip");
  } catch (const neurocell::Error&) {
  }
  return 0;
}
