// The runtime's .ncm reader (runtime/ncm_format.h, ncrt::Model::parse, ncrt::IntegerSrc::parse).
// Each input is tried as given and with its CRC-32 recomputed, so that mutations reach the
// header and model checks behind the checksum; a model that loads takes one step.
#include "fuzz_common.h"

#include <vector>

#include "integer_src.h"
#include "neurocell_runtime.h"

namespace {

void try_model(const std::string& bytes) {
  try {
    const auto model = ncrt::Model::parse(bytes, "fuzz.ncm");
    // Sizes are bounded by the file (every weight is in it), so a step is affordable.
    std::vector<float> x(model.input_size(), 0.5f), state(model.state_size()), y(model.output_size()),
        scratch(model.scratch_size());
    model.initial_state(state.data());
    model.step(x.data(), state.data(), y.data(), scratch.data());
  } catch (const ncrt::Error&) {
  }
  try {
    ncrt::IntegerSrc::parse(bytes, "fuzz.ncm");
  } catch (const ncrt::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes = fuzz_bytes(data, size);
  try_model(bytes);
  if (bytes.size() >= 16) {
    const uint32_t crc = ncrt::crc32(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size() - 4);
    for (int i = 0; i < 4; ++i) bytes[bytes.size() - 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFFu);
    try_model(bytes);
  }
  return 0;
}
