// A reproduce suite file (runs/suite.h): parsed at each budget (full, --quick, --paper), then planned; every
// planned run folder must stay under --out.
#include "fuzz_common.h"

#include "core/error.h"
#include "runs/suite.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> cells = {"brc", "nbrc", "gru", "lstm", "src"};
  const std::string text = fuzz_bytes(data, size);
  for (const char* budget : {"full", "quick", "paper"}) {
    try {
      const auto suite = neurocell::suites::parse_suite_text(text, "fuzz suite", budget, cells);
      for (const auto& run : neurocell::suites::plan(suite, "OUT", 1))
        if (run.dir.compare(0, 4, "OUT/") != 0 || run.dir.find("/../") != std::string::npos ||
            run.dir.find("//") != std::string::npos)
          __builtin_trap();
    } catch (const neurocell::Error&) {
    }
  }
  return 0;
}
