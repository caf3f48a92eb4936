// The ZIP reader (io/zip.h) behind .npz files and the SRC authors' zipped models; every entry
// is read (inflated and CRC-checked), and entries named *.npy go through the .npy header parser
// as in an .npz.
#include "fuzz_common.h"

#include "core/error.h"
#include "io/npy_header.h"
#include "io/zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto zip = neurocell::ZipArchive::from_bytes(fuzz_bytes(data, size), "fuzz.zip");
    for (const auto& name : zip.names()) {
      try {
        const std::string bytes = zip.read(name);
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
          neurocell::parse_npy_header(bytes, "fuzz.zip: " + name);
      } catch (const neurocell::Error&) {
      }
    }
  } catch (const neurocell::Error&) {
  }
  return 0;
}
