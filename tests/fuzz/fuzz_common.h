#pragma once
// Shared by the libFuzzer targets: a parser's clean refusal is its one error type
// (neurocell::Error, or ncrt::Error in the runtime); anything else escaping a target (another
// exception, a sanitizer report, a crash, a hang, a leak) is a finding. An uncaught exception
// aborts, which libFuzzer reports as a crash with the input saved.
#include <cstddef>
#include <cstdint>
#include <string>

inline std::string fuzz_bytes(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}
