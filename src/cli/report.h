#pragma once
// `neurocell report`: markdown tables of finished run folders, from their report.json.
#include <string>
#include <vector>

namespace neurocell {

// One row per run (regression runs: test MSE, chance, VAA when measured; SRC runs: accuracy,
// throughput). With summary, regression runs that differ only by their seed share one row:
// mean, min and max of the test MSE over seeds, how many are solved (MSE < 0.01), mean VAA.
int command_report(const std::vector<std::string>& dirs, bool summary);

}  // namespace neurocell
