#pragma once
// File helpers that never leave a half-written file: write to a temporary file in the same
// folder, flush it to disk, then rename it over the destination (atomic on POSIX).
#include <string>

namespace neurocell {

std::string read_file(const std::string& path, const std::string& what);  // throws Error
void write_file_atomic(const std::string& path, const std::string& bytes);
void ensure_directory(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace neurocell
