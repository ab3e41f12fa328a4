// Encoding, decoding and the files of producer state snapshots.
#include "storage/producer_snapshot.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "protocol/crc32c.h"
#include "storage/file.h"
#include "storage/segment.h"

namespace gregor::storage {

namespace {
constexpr int16_t kSnapshotVersion = 1;
constexpr size_t kCrcOffset = 2;
constexpr size_t kEntriesOffset = 6;  // the CRC covers from here (the count) to the end
constexpr size_t kEntrySize = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;

void put_be(std::string& s, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>(v >> (8 * i)));
}
int64_t get_be(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  const int shift = 64 - 8 * bytes;
  return static_cast<int64_t>(v << shift) >> shift;
}
}  // namespace

std::string encode_producer_snapshot(const std::vector<ProducerSnapshotEntry>& entries) {
  std::string out;
  out.reserve(kEntriesOffset + 4 + entries.size() * kEntrySize);
  put_be(out, static_cast<uint16_t>(kSnapshotVersion), 2);
  put_be(out, 0, 4);  // CRC, filled below
  put_be(out, static_cast<uint32_t>(entries.size()), 4);
  for (const ProducerSnapshotEntry& e : entries) {
    put_be(out, static_cast<uint64_t>(e.producer_id), 8);
    put_be(out, static_cast<uint16_t>(e.epoch), 2);
    put_be(out, static_cast<uint32_t>(e.last_sequence), 4);
    put_be(out, static_cast<uint64_t>(e.last_offset), 8);
    put_be(out, static_cast<uint32_t>(e.offset_delta), 4);
    put_be(out, static_cast<uint64_t>(e.timestamp), 8);
    put_be(out, static_cast<uint32_t>(e.coordinator_epoch), 4);
    put_be(out, static_cast<uint64_t>(e.current_txn_first_offset), 8);
  }
  uint32_t crc = protocol::crc32c(out.data() + kEntriesOffset, out.size() - kEntriesOffset);
  for (int i = 0; i < 4; ++i)
    out[kCrcOffset + static_cast<size_t>(i)] = static_cast<char>(crc >> (8 * (3 - i)));
  return out;
}

absl::StatusOr<std::vector<ProducerSnapshotEntry>> decode_producer_snapshot(
    std::string_view bytes) {
  if (bytes.size() < kEntriesOffset + 4) return absl::DataLossError("snapshot too short");
  if (get_be(bytes.data(), 2) != kSnapshotVersion) {
    return absl::DataLossError(absl::StrCat("unknown snapshot version ", get_be(bytes.data(), 2)));
  }
  const auto stored = static_cast<uint32_t>(get_be(bytes.data() + kCrcOffset, 4));
  const uint32_t computed =
      protocol::crc32c(bytes.data() + kEntriesOffset, bytes.size() - kEntriesOffset);
  if (stored != computed) return absl::DataLossError("snapshot CRC mismatch");
  const int64_t count = get_be(bytes.data() + kEntriesOffset, 4);
  if (count < 0 || bytes.size() != kEntriesOffset + 4 + static_cast<size_t>(count) * kEntrySize) {
    return absl::DataLossError(absl::StrCat("snapshot size does not match its count ", count));
  }
  std::vector<ProducerSnapshotEntry> entries;
  entries.reserve(static_cast<size_t>(count));
  const char* p = bytes.data() + kEntriesOffset + 4;
  for (int64_t i = 0; i < count; ++i, p += kEntrySize) {
    ProducerSnapshotEntry e;
    e.producer_id = get_be(p, 8);
    e.epoch = static_cast<int16_t>(get_be(p + 8, 2));
    e.last_sequence = static_cast<int32_t>(get_be(p + 10, 4));
    e.last_offset = get_be(p + 14, 8);
    e.offset_delta = static_cast<int32_t>(get_be(p + 22, 4));
    e.timestamp = get_be(p + 26, 8);
    e.coordinator_epoch = static_cast<int32_t>(get_be(p + 34, 4));
    e.current_txn_first_offset = get_be(p + 38, 8);
    if (e.producer_id < 0 || e.offset_delta < 0) {
      return absl::DataLossError(absl::StrCat("snapshot entry ", i, " is invalid"));
    }
    entries.push_back(e);
  }
  return entries;
}

std::filesystem::path producer_snapshot_path(const std::filesystem::path& dir, int64_t offset) {
  return dir / (segment_file_stem(offset) + kProducerSnapshotSuffix);
}

absl::Status write_producer_snapshot(const std::filesystem::path& dir, int64_t offset,
                                     const std::vector<ProducerSnapshotEntry>& entries) {
  return write_file_atomically(producer_snapshot_path(dir, offset),
                               encode_producer_snapshot(entries));
}

absl::StatusOr<std::vector<ProducerSnapshotEntry>> read_producer_snapshot(
    const std::filesystem::path& dir, int64_t offset) {
  const std::filesystem::path path = producer_snapshot_path(dir, offset);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::UnavailableError(absl::StrCat("read ", path.string()));
  auto entries = decode_producer_snapshot(bytes);
  if (!entries.ok()) {
    return absl::DataLossError(
        absl::StrCat(path.string(), ": ", std::string(entries.status().message())));
  }
  return entries;
}

std::vector<int64_t> list_producer_snapshots(const std::filesystem::path& dir) {
  std::vector<int64_t> offsets;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::filesystem::path& p = entry.path();
    const std::string stem = p.stem().string();
    if (p.extension() != kProducerSnapshotSuffix || stem.size() != 20) continue;
    int64_t v = 0;
    auto [ptr, err] = std::from_chars(stem.data(), stem.data() + stem.size(), v);
    if (err == std::errc() && ptr == stem.data() + stem.size() && v >= 0) offsets.push_back(v);
  }
  std::sort(offsets.begin(), offsets.end());
  return offsets;
}

void delete_producer_snapshot(const std::filesystem::path& dir, int64_t offset) {
  std::error_code ec;
  std::filesystem::remove(producer_snapshot_path(dir, offset), ec);
}

}  // namespace gregor::storage
