#pragma once
// `neurocell bench --scan`: the scans of kernels/scan.h (MRU family, minGRU, LRU core), chunked
// and sequential, timed in one process against a parallel memcpy of the same bytes (these
// kernels are bound by memory traffic), and the wrapper and the LibTorch reference at the
// smallest shape.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace neurocell {

struct ScanBenchShape {
  std::string name;
  int64_t batch, steps, hidden;  // B, T, H
};

struct ScanBenchOptions {
  // "long": few lanes, long sequences (what the chunked scan is for); "batch": many lanes.
  std::vector<ScanBenchShape> shapes = {{"long", 16, 65536, 256}, {"batch", 64, 1024, 256}};
  std::vector<std::string> cells;  // empty = scan_bench_default_cells()
  int64_t repetitions = 5;
  std::string dtype = "float32";
  std::vector<int64_t> threads = {1, 2};
};

// Bytes per element of (T, B, H), counted as the sequential algorithm's minimum traffic (each
// array read or written once): forward MRU reads u, writes h (2 values); minGRU reads
// [z_pre | h_tilde], writes h (3); LRU reads g, writes s, real and imaginary parts (4). The
// backward adds MRU: u, h, dL/dh read, dL/du written (4); minGRU 6; LRU: s, dL/ds read, dL/dg
// written (6). The chunked algorithm moves more (the reduce reads the drive once more), so
// these are effective rates, comparable between the two algorithms.
double scan_bytes_per_element(const std::string& cell, bool with_backward, int64_t value_size);

// The registry's default scan cells (fq-bmru is timed when named).
std::vector<std::string> scan_bench_default_cells();

// Runs the benchmark, prints a table to stdout, returns the results as JSON. Sets LibTorch's
// threads to each entry of options.threads in turn and restores them. Rows "chunked" and
// "sequential" time the kernels on outputs allocated once (the quantity to hold against
// memcpy: through the autograd wrapper every GiB-sized output is a fresh allocation, whose
// first touch costs a page fault per 4 KiB, about 0.65 s per GiB on this machine). At the
// smallest shape (at most 2^25 elements), rows "api" (the wrapper, automatic algorithm,
// allocations included) and "reference" (LibTorch ops) go through autograd.
nlohmann::json run_scan_benchmark(const ScanBenchOptions& options);

}  // namespace neurocell
