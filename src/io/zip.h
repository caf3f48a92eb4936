#pragma once
// A small ZIP reader and writer, enough for .npz files (np.savez stores, np.savez_compressed
// deflates) and the zipped models of the SRC authors. zlib does the deflate; no other
// dependency. Reader: EOCD (with or without a trailing comment), ZIP64 end records and
// extra fields (numpy writes every local header as ZIP64), stored (0) and deflate (8)
// entries, sizes and CRC-32 checked on every read. Not supported: encryption, split archives.
// Every error is a neurocell::Error naming the archive, the entry and what is wrong.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace neurocell {

// zlib's CRC-32 of `size` bytes (any size: zlib takes at most 4 GiB per call).
uint32_t crc32_of(const char* data, uint64_t size);

class ZipArchive {
 public:
  static ZipArchive open(const std::string& path);
  // `what` names the source in error messages, e.g. "'model.zip': arrays.npz".
  static ZipArchive from_bytes(std::string bytes, std::string what);

  std::vector<std::string> names() const;  // in central-directory order, folders included
  bool contains(const std::string& name) const;
  std::string read(const std::string& name) const;  // uncompressed bytes, CRC-checked
  const std::string& what() const { return what_; }

 private:
  struct Entry {
    std::string name;
    uint64_t compressed_size, size, local_offset;
    uint32_t crc;
    uint16_t method, flags;
  };
  ZipArchive() = default;
  void parse_central_directory();
  const Entry& entry(const std::string& name) const;

  std::string bytes_, what_;
  std::vector<Entry> entries_;
};

struct ZipWriteOptions {
  bool deflate = false;      // method 8 (level 6) instead of stored
  bool force_zip64 = false;  // ZIP64 records even when small (as numpy does); else only when needed
};

// The bytes of an archive holding `entries` (name, contents) in that order. Deterministic:
// every timestamp is 1980-01-01 00:00.
std::string zip_bytes(const std::vector<std::pair<std::string, std::string>>& entries,
                      const ZipWriteOptions& options = {});

}  // namespace neurocell
