// MNIST's IDX reader (tasks/mnist.h, read_idx), plain and gzip: the input is written to a file
// (read_idx reads paths, through zlib) and read as 1-d (labels) and 3-d (images).
#include "fuzz_common.h"

#include <unistd.h>

#include <cstdio>

#include "core/error.h"
#include "tasks/mnist.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/neurocell-fuzz-idx-" + std::to_string(getpid());
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return 0;
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  for (int64_t dims : {1, 3}) {
    try {
      neurocell::read_idx(path, dims);
    } catch (const neurocell::Error&) {
    }
  }
  return 0;
}
