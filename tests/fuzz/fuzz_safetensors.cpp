// safetensors header and data layout (io/safetensors_header.h), read by every checkpoint load.
#include "fuzz_common.h"

#include "core/error.h"
#include "io/safetensors_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto header = neurocell::parse_safetensors_header(fuzz_bytes(data, size), "fuzz.safetensors");
    // What the tensor reader relies on: the ranges tile the data exactly, in order.
    uint64_t next = 0;
    for (const auto& e : header.entries) {
      if (e.begin != next || e.end < e.begin) __builtin_trap();
      next = e.end;
    }
    if (header.data_offset + next != size) __builtin_trap();
  } catch (const neurocell::Error&) {
  }
  return 0;
}
