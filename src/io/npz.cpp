#include "io/npz.h"

#include <utility>
#include <vector>

#include "core/error.h"
#include "io/files.h"
#include "io/npy.h"
#include "io/zip.h"

namespace neurocell {

namespace {

std::map<std::string, torch::Tensor> parse_archive(const ZipArchive& zip) {
  std::map<std::string, torch::Tensor> arrays;
  for (const auto& name : zip.names()) {
    if (!name.empty() && name.back() == '/') continue;  // a folder entry holds no array
    const bool npy = name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0;
    const std::string key = npy ? name.substr(0, name.size() - 4) : name;
    require(!arrays.count(key), zip.what() + ": two entries give the key '" + key + "'");
    arrays[key] = parse_npy(zip.read(name), zip.what() + ": entry '" + name + "'");
  }
  return arrays;
}

}  // namespace

std::map<std::string, torch::Tensor> read_npz(const std::string& path) {
  return parse_archive(ZipArchive::open(path));
}

std::map<std::string, torch::Tensor> parse_npz(std::string bytes, const std::string& what) {
  return parse_archive(ZipArchive::from_bytes(std::move(bytes), what));
}

std::string encode_npz(const std::map<std::string, torch::Tensor>& arrays) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& [key, tensor] : arrays) {
    require(!key.empty(), "npz: empty array name");
    entries.emplace_back(key + ".npy", encode_npy(tensor));
  }
  return zip_bytes(entries);
}

void write_npz(const std::string& path, const std::map<std::string, torch::Tensor>& arrays) {
  write_file_atomic(path, encode_npz(arrays));
}

}  // namespace neurocell
