// .npy header and data length (io/npy_header.h), the layer every .npy and .npz read goes through.
#include "fuzz_common.h"

#include "core/error.h"
#include "io/npy_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto header = neurocell::parse_npy_header(fuzz_bytes(data, size), "fuzz.npy");
    size_t count = 1;
    for (int64_t d : header.shape) count *= static_cast<size_t>(d);
    // What the parser promises the tensor reader: the data is exactly numel * item bytes.
    if (header.data_offset + count * header.item_bytes != size) __builtin_trap();
  } catch (const neurocell::Error&) {
  }
  return 0;
}
