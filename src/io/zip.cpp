#include "io/zip.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <functional>

#include "core/error.h"
#include "io/files.h"

namespace neurocell {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50,
                   kEnd64Sig = 0x06064b50, kLocator64Sig = 0x07064b50;
constexpr uint32_t kMax32 = 0xffffffffu;
constexpr uint16_t kMax16 = 0xffff, kZip64ExtraId = 0x0001;
// zlib counts in uInt: feed it at most this much at a time.
constexpr uint64_t kChunk = 1u << 30;

uint64_t get(const std::string& b, uint64_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}

void put(std::string& b, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::string hex32(uint32_t v) {
  char s[16];
  std::snprintf(s, sizeof s, "0x%08x", v);
  return s;
}


// Raw deflate stream (no zlib header) of exactly `size` output bytes; `fail` gets the reason.
std::string inflate_raw(const char* in, uint64_t in_size, uint64_t size, const std::function<void(const std::string&)>& fail) {
  z_stream s{};
  if (inflateInit2(&s, -MAX_WBITS) != Z_OK) fail("cannot initialise zlib");
  // One spare byte: a stream longer than declared shows up as total_out > size.
  std::string out(size + 1, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in));
  s.next_out = reinterpret_cast<Bytef*>(&out[0]);
  uint64_t in_left = in_size, out_left = size + 1;
  int ret = Z_OK;
  while (ret == Z_OK) {
    if (s.avail_in == 0 && in_left > 0) {
      s.avail_in = static_cast<uInt>(std::min(kChunk, in_left));
      in_left -= s.avail_in;
    }
    if (s.avail_out == 0 && out_left > 0) {
      s.avail_out = static_cast<uInt>(std::min(kChunk, out_left));
      out_left -= s.avail_out;
    }
    ret = inflate(&s, Z_NO_FLUSH);
  }
  const uint64_t produced = s.total_out;
  const std::string message = s.msg ? s.msg : "";
  inflateEnd(&s);
  if (produced > size) fail("inflates to more than the " + std::to_string(size) + " bytes declared");
  if (ret == Z_BUF_ERROR) fail("deflate data ends early (truncated or corrupt)");
  if (ret != Z_STREAM_END) fail("corrupt deflate data (" + (message.empty() ? "zlib error " + std::to_string(ret) : message) + ")");
  if (produced != size)
    fail("inflates to " + std::to_string(produced) + " bytes, the central directory declares " + std::to_string(size));
  out.resize(size);
  return out;
}

std::string deflate_raw(const std::string& in) {
  z_stream s{};
  require(deflateInit2(&s, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK, "zip: cannot initialise zlib");
  std::string out;
  char buffer[1 << 16];
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  uint64_t in_left = in.size();
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    if (s.avail_in == 0 && in_left > 0) {
      s.avail_in = static_cast<uInt>(std::min(kChunk, in_left));
      in_left -= s.avail_in;
    }
    s.next_out = reinterpret_cast<Bytef*>(buffer);
    s.avail_out = sizeof buffer;
    ret = deflate(&s, in_left == 0 ? Z_FINISH : Z_NO_FLUSH);
    if (ret == Z_STREAM_ERROR) break;
    out.append(buffer, sizeof buffer - s.avail_out);
  }
  deflateEnd(&s);
  require(ret == Z_STREAM_END, "zip: zlib deflate failed");
  return out;
}

}  // namespace

ZipArchive ZipArchive::open(const std::string& path) {
  return from_bytes(read_file(path, "archive"), "'" + path + "'");
}

ZipArchive ZipArchive::from_bytes(std::string bytes, std::string what) {
  ZipArchive zip;
  zip.bytes_ = std::move(bytes);
  zip.what_ = std::move(what);
  zip.parse_central_directory();
  return zip;
}

void ZipArchive::parse_central_directory() {
  const std::string& b = bytes_;
  const uint64_t n = b.size();
  const auto fail = [&](const std::string& why) { throw Error(what_ + ": " + why); };
  // The EOCD record (22 bytes + a comment of up to 64 KiB) ends the file: search backwards,
  // preferring a record whose comment reaches exactly the end of the file.
  int64_t end = -1;
  if (n >= 22) {
    const int64_t lowest = std::max<int64_t>(0, static_cast<int64_t>(n) - 22 - kMax16);
    for (int64_t at = static_cast<int64_t>(n) - 22; at >= lowest; --at) {
      if (get(b, at, 4) != kEndSig) continue;
      if (end < 0) end = at;
      if (static_cast<uint64_t>(at) + 22 + get(b, at + 20, 2) == n) {
        end = at;
        break;
      }
    }
  }
  if (end < 0) fail("not a ZIP archive, or truncated (no end-of-central-directory record)");
  uint64_t disk = get(b, end + 4, 2), cd_disk = get(b, end + 6, 2), count = get(b, end + 10, 2);
  uint64_t cd_size = get(b, end + 12, 4), cd_offset = get(b, end + 16, 4);
  // ZIP64: a locator right before the EOCD points at the 64-bit end record.
  if (end >= 20 && get(b, end - 20, 4) == kLocator64Sig) {
    const uint64_t at = get(b, end - 20 + 8, 8);
    // Written as a subtraction: `at + 56` wraps for an offset near 2^64 (found by fuzz_zip).
    if (at > static_cast<uint64_t>(end) || static_cast<uint64_t>(end) - at < 56 || get(b, at, 4) != kEnd64Sig)
      fail("bad ZIP64 end-of-central-directory record (truncated or corrupt)");
    disk = get(b, at + 16, 4);
    cd_disk = get(b, at + 20, 4);
    count = get(b, at + 32, 8);
    cd_size = get(b, at + 40, 8);
    cd_offset = get(b, at + 48, 8);
  } else if (count == kMax16 || cd_size == kMax32 || cd_offset == kMax32) {
    fail("ZIP64 archive without its end-of-central-directory locator (truncated or corrupt)");
  }
  if (disk != 0 || cd_disk != 0) fail("split (multi-disk) archives are not supported");
  if (cd_offset > n || cd_size > n - cd_offset)
    fail("truncated (the central directory runs past the end of the file)");

  uint64_t at = cd_offset;
  const uint64_t cd_end = cd_offset + cd_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (at + 46 > cd_end) fail("truncated central directory (entry " + std::to_string(i) + " of " + std::to_string(count) + ")");
    if (get(b, at, 4) != kCentralSig) fail("bad central-directory signature at entry " + std::to_string(i));
    Entry e;
    e.flags = static_cast<uint16_t>(get(b, at + 8, 2));
    e.method = static_cast<uint16_t>(get(b, at + 10, 2));
    e.crc = static_cast<uint32_t>(get(b, at + 16, 4));
    e.compressed_size = get(b, at + 20, 4);
    e.size = get(b, at + 24, 4);
    const uint64_t name_len = get(b, at + 28, 2), extra_len = get(b, at + 30, 2), comment_len = get(b, at + 32, 2);
    e.local_offset = get(b, at + 42, 4);
    if (at + 46 + name_len + extra_len + comment_len > cd_end)
      fail("truncated central directory (entry " + std::to_string(i) + " of " + std::to_string(count) + ")");
    e.name = b.substr(at + 46, name_len);
    // ZIP64 extra field: the 64-bit values of exactly the fields saturated at 0xFFFFFFFF, in order.
    const bool need_size = e.size == kMax32, need_csize = e.compressed_size == kMax32, need_offset = e.local_offset == kMax32;
    bool found = false;
    for (uint64_t x = at + 46 + name_len, x_end = x + extra_len; x + 4 <= x_end;) {
      const uint64_t id = get(b, x, 2), len = get(b, x + 2, 2);
      if (x + 4 + len > x_end) break;
      if (id == kZip64ExtraId) {
        uint64_t p = x + 4;
        const uint64_t p_end = p + len;
        const auto take = [&](bool needed, uint64_t& field) {
          if (!needed) return;
          if (p + 8 > p_end) fail("entry '" + e.name + "': ZIP64 extra field too short");
          field = get(b, p, 8);
          p += 8;
        };
        take(need_size, e.size);
        take(need_csize, e.compressed_size);
        take(need_offset, e.local_offset);
        found = true;
      }
      x += 4 + len;
    }
    if ((need_size || need_csize || need_offset) && !found)
      fail("entry '" + e.name + "': sizes saturated at 0xFFFFFFFF but no ZIP64 extra field");
    for (const auto& other : entries_)
      if (other.name == e.name) fail("duplicate entry '" + e.name + "'");
    entries_.push_back(std::move(e));
    at += 46 + name_len + extra_len + comment_len;
  }
}

std::vector<std::string> ZipArchive::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.name);
  return out;
}

bool ZipArchive::contains(const std::string& name) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; });
}

const ZipArchive::Entry& ZipArchive::entry(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return e;
  std::string listing;
  for (size_t i = 0; i < entries_.size() && i < 8; ++i) listing += (i ? ", " : "") + entries_[i].name;
  if (entries_.size() > 8) listing += ", ...";
  throw Error(what_ + ": no entry '" + name + "' (it holds: " + (listing.empty() ? "nothing" : listing) + ")");
}

std::string ZipArchive::read(const std::string& name) const {
  const Entry& e = entry(name);
  const std::string& b = bytes_;
  const auto fail = [&](const std::string& why) { throw Error(what_ + ": entry '" + name + "': " + why); };
  if (e.flags & 1) fail("encrypted entries are not supported");
  if (e.method != 0 && e.method != 8)
    fail("unsupported compression method " + std::to_string(e.method) + " (only stored = 0 and deflate = 8)");
  const uint64_t at = e.local_offset;
  if (at > b.size() || b.size() - at < 30) fail("truncated (local header past the end of the file)");
  if (get(b, at, 4) != kLocalSig) fail("bad local header signature (corrupt archive)");
  const uint64_t name_len = get(b, at + 26, 2), extra_len = get(b, at + 28, 2);
  if (b.size() - at < 30 + name_len + extra_len) fail("truncated (local header past the end of the file)");
  if (b.compare(at + 30, name_len, e.name) != 0) fail("local header names a different entry (corrupt archive)");
  // Sizes and CRC come from the central directory: the local copies may be zero (data
  // descriptor) or 0xFFFFFFFF (numpy's forced ZIP64).
  const uint64_t start = at + 30 + name_len + extra_len;
  if (start > b.size() || b.size() - start < e.compressed_size)
    fail("truncated (needs " + std::to_string(e.compressed_size) + " bytes of data, the file ends before)");
  std::string data;
  if (e.method == 0) {
    if (e.compressed_size != e.size)
      fail("stored entry with compressed size " + std::to_string(e.compressed_size) + " != size " + std::to_string(e.size));
    data = b.substr(start, e.size);
  } else {
    // Deflate expands at most ~1032:1: refuse a corrupt declared size before allocating it.
    if (e.size / 1032 > e.compressed_size + 1)
      fail("declares " + std::to_string(e.size) + " bytes from " + std::to_string(e.compressed_size) +
           " compressed (corrupt archive)");
    data = inflate_raw(b.data() + start, e.compressed_size, e.size, fail);
  }
  const uint32_t crc = crc32_of(data.data(), data.size());
  if (crc != e.crc) fail("CRC-32 mismatch (stored " + hex32(e.crc) + ", computed " + hex32(crc) + "): corrupt archive");
  return data;
}

std::string zip_bytes(const std::vector<std::pair<std::string, std::string>>& entries, const ZipWriteOptions& options) {
  std::string out, central;
  const uint16_t kDate1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01, the earliest DOS date
  for (const auto& [name, contents] : entries) {
    require(!name.empty() && name.size() < kMax16, "zip: bad entry name '" + name + "'");
    const std::string data = options.deflate ? deflate_raw(contents) : contents;
    const uint32_t crc = crc32_of(contents.data(), contents.size());
    const uint64_t offset = out.size();
    const bool zip64 = options.force_zip64 || contents.size() >= kMax32 || data.size() >= kMax32 || offset >= kMax32;
    const bool utf8 = std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    const uint16_t method = options.deflate ? 8 : 0, version = zip64 ? 45 : 20, flags = utf8 ? (1 << 11) : 0;
    // Local header: ZIP64 sizes in its extra field when needed (as Python's zipfile does).
    put(out, kLocalSig, 4);
    put(out, version, 2);
    put(out, flags, 2);
    put(out, method, 2);
    put(out, 0, 2);
    put(out, kDate1980, 2);
    put(out, crc, 4);
    put(out, zip64 ? kMax32 : data.size(), 4);
    put(out, zip64 ? kMax32 : contents.size(), 4);
    put(out, name.size(), 2);
    put(out, zip64 ? 20 : 0, 2);
    out += name;
    if (zip64) {
      put(out, kZip64ExtraId, 2);
      put(out, 16, 2);
      put(out, contents.size(), 8);
      put(out, data.size(), 8);
    }
    out += data;
    // Central header: all three 64-bit values in the extra field when ZIP64.
    put(central, kCentralSig, 4);
    put(central, (3 << 8) | version, 2);  // made by: Unix
    put(central, version, 2);
    put(central, flags, 2);
    put(central, method, 2);
    put(central, 0, 2);
    put(central, kDate1980, 2);
    put(central, crc, 4);
    put(central, zip64 ? kMax32 : data.size(), 4);
    put(central, zip64 ? kMax32 : contents.size(), 4);
    put(central, name.size(), 2);
    put(central, zip64 ? 28 : 0, 2);
    put(central, 0, 2);  // comment
    put(central, 0, 2);  // disk
    put(central, 0, 2);  // internal attributes
    put(central, 0100644u << 16, 4);  // external attributes: a regular file, rw-r--r--
    put(central, zip64 ? kMax32 : offset, 4);
    central += name;
    if (zip64) {
      put(central, kZip64ExtraId, 2);
      put(central, 24, 2);
      put(central, contents.size(), 8);
      put(central, data.size(), 8);
      put(central, offset, 8);
    }
  }
  const uint64_t cd_offset = out.size(), cd_size = central.size(), count = entries.size();
  out += central;
  const bool zip64 = options.force_zip64 || count >= kMax16 || cd_offset >= kMax32 || cd_size >= kMax32;
  if (zip64) {
    const uint64_t end64 = out.size();
    put(out, kEnd64Sig, 4);
    put(out, 44, 8);  // size of the rest of this record
    put(out, (3 << 8) | 45, 2);
    put(out, 45, 2);
    put(out, 0, 4);
    put(out, 0, 4);
    put(out, count, 8);
    put(out, count, 8);
    put(out, cd_size, 8);
    put(out, cd_offset, 8);
    put(out, kLocator64Sig, 4);
    put(out, 0, 4);
    put(out, end64, 8);
    put(out, 1, 4);
  }
  put(out, kEndSig, 4);
  put(out, 0, 2);
  put(out, 0, 2);
  put(out, zip64 ? kMax16 : count, 2);
  put(out, zip64 ? kMax16 : count, 2);
  put(out, zip64 ? kMax32 : cd_size, 4);
  put(out, zip64 ? kMax32 : cd_offset, 4);
  put(out, 0, 2);
  return out;
}

uint32_t crc32_of(const char* data, uint64_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (uint64_t done = 0; done < size;) {
    const uint64_t n = std::min(kChunk, size - done);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data + done), static_cast<uInt>(n));
    done += n;
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace neurocell
