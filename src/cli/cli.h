#pragma once
// The `neurocell` command line, as a function so that tests can run it in-process.
#include <string>
#include <vector>

namespace neurocell {

// args excludes the program name. Returns the process exit code; errors are printed as one
// line "neurocell: error: ..." on stderr.
int run_cli(const std::vector<std::string>& args);

// The values `--cell` accepts (train, bench): the cell registry's names.
std::vector<std::string> cli_cell_choices();

}  // namespace neurocell
