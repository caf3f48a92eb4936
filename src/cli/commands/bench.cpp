// `neurocell bench`: fused kernels against the reference and torch::nn (forward+backward), or
// with --scan the scans against a sequential pass and a memcpy of the same bytes.
#include "cli/commands/commands.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>

#include "bench/bench.h"
#include "bench/bench_scan.h"
#include "cli/cli.h"
#include "nn/cell_registry.h"
#include "runs/runs.h"

namespace neurocell::cli {

namespace {

struct BenchCommand {
  BenchOptions options;
  ScanBenchOptions scan_options;
  std::string json, shapes;
  std::vector<std::string> cells;
  bool scan = false;
  int64_t threads = 0;
  const std::vector<std::string>* args = nullptr;
};

// "copy:100:600:1:100,wide:64:200:64:128" -> shapes.
std::vector<BenchShape> parse_bench_shapes(const std::string& text) {
  std::vector<BenchShape> shapes;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    BenchShape s;
    char name[64] = {0};
    long long b, t, i, h;
    require(std::sscanf(item.c_str(), "%63[^:]:%lld:%lld:%lld:%lld", name, &b, &t, &i, &h) == 5 && b > 0 && t > 0 &&
                i > 0 && h > 0,
            "--shapes: '" + item + "' is not NAME:B:T:I:H with positive sizes");
    shapes.push_back({name, b, t, i, h});
  }
  require(!shapes.empty(), "--shapes: no shape given");
  return shapes;
}

// "long:16:65536:256,batch:64:1024:256" -> scan benchmark shapes.
std::vector<ScanBenchShape> parse_scan_bench_shapes(const std::string& text) {
  std::vector<ScanBenchShape> shapes;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    char name[64] = {0};
    long long b, t, h;
    require(std::sscanf(item.c_str(), "%63[^:]:%lld:%lld:%lld", name, &b, &t, &h) == 4 && b > 0 && t > 0 && h > 0,
            "--shapes (with --scan): '" + item + "' is not NAME:B:T:H with positive sizes");
    shapes.push_back({name, b, t, h});
  }
  require(!shapes.empty(), "--shapes: no shape given");
  return shapes;
}

void bench_callback(BenchCommand o) {  // a copy: the defaults are replaced by the options given
  const int64_t used = configure_threads(o.threads);
  nlohmann::json json;
  if (o.scan) {
    if (!o.cells.empty()) {
      o.scan_options.cells.clear();
      for (const auto& c : o.cells) {
        require(cell_info(c).scan(), "bench --scan times the scan cells (" +
                                         join_cell_names(cell_names_where([](const CellInfo& i) { return i.scan(); })) +
                                         "), not " + c);
        o.scan_options.cells.push_back(c);
      }
    }
    if (!o.shapes.empty()) o.scan_options.shapes = parse_scan_bench_shapes(o.shapes);
    o.scan_options.repetitions = o.options.repetitions;
    o.scan_options.dtype = o.options.dtype;
    json = run_scan_benchmark(o.scan_options);
  } else {
    if (!o.cells.empty()) o.options.cells = o.cells;
    for (const auto& c : o.options.cells)
      require(c == "src" || !is_scan_kind(parse_cell_kind(c)),
              c + " is a scan cell: time it with `neurocell bench --scan --cells " + c + "`");
    if (!o.shapes.empty()) o.options.shapes = parse_bench_shapes(o.shapes);
    json = run_benchmark(o.options);
  }
  json["threads"] = used;
  json["command"] = "neurocell bench" + [&] {
    std::string a;
    for (const auto& s : *o.args)
      if (s != "bench") a += " " + s;
    return a;
  }();
  if (!o.json.empty()) write_json_atomic(o.json, json);
}

}  // namespace

void register_bench(CLI::App& app, const std::vector<std::string>& args) {
  auto options = std::make_shared<BenchCommand>();
  auto& o = *options;
  o.args = &args;
  auto* bench = app.add_subcommand("bench", "Time fused kernels vs reference vs torch::nn (forward+backward)");
  bench->add_option("--cells", o.cells,
                    "Cells to time (default: " + join_cell_names(bench_default_cells(), ",") +
                        "; src: its own table, spike input; with --scan: " +
                        join_cell_names(scan_bench_default_cells(), ",") + ", or any scan cell)")
      ->check(CLI::IsMember(cli_cell_choices()))->delimiter(',');
  bench->add_flag("--scan", o.scan,
                  "Time the scans (MRU family, minGRU, LRU core): chunked vs sequential vs a memcpy of the same bytes");
  bench->add_option("--shapes", o.shapes,
                    "Shapes NAME:B:T:I:H,... (default copy, smnist, wide); with --scan NAME:B:T:H,... (default long, batch)");
  bench->add_option("--scan-threads", o.scan_options.threads, "With --scan: thread counts to time")
      ->delimiter(',')->capture_default_str();
  bench->add_option("--reps", o.options.repetitions, "Timed repetitions (median)")->capture_default_str();
  bench->add_option("--dtype", o.options.dtype, "float32 | float64")->capture_default_str();
  bench->add_option("--json", o.json, "Also write the results to this JSON file");
  add_threads_option(bench, o.threads);
  bench->callback([options] { bench_callback(*options); });
}

}  // namespace neurocell::cli
