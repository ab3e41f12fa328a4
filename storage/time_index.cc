// Time index: append-when-growing, lookup by binary search, sanity check.
#include "storage/time_index.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace gregor::storage {

absl::StatusOr<std::unique_ptr<TimeIndex>> TimeIndex::open(const std::filesystem::path& path,
                                                           int64_t base_offset, int64_t max_bytes) {
  auto file =
      IndexFile::open(path, kEntrySize, max_bytes, [](const char* e) { return get_be64(e) == 0; });
  if (!file.ok()) return file.status();
  std::unique_ptr<TimeIndex> index(new TimeIndex(std::move(*file), base_offset));
  auto last = index->last_entry();
  if (!last.ok()) return last.status();
  index->last_timestamp_ = last->timestamp;
  return index;
}

TimeIndex::Entry TimeIndex::decode(const char* e) const {
  return Entry{static_cast<int64_t>(get_be64(e)),
               base_offset_ + static_cast<int32_t>(get_be32(e + 8))};
}

absl::Status TimeIndex::reset() {
  last_timestamp_ = -1;
  return file_->reset();
}

absl::Status TimeIndex::maybe_append(int64_t timestamp, int64_t offset, bool force) {
  if (timestamp <= last_timestamp_) return absl::OkStatus();
  int64_t relative = offset - base_offset_;
  GREGOR_INVARIANT(relative >= 0 && relative <= std::numeric_limits<int32_t>::max());
  char e[kEntrySize];
  put_be64(e, static_cast<uint64_t>(timestamp));
  put_be32(e + 8, static_cast<uint32_t>(relative));
  absl::Status s = file_->append(e, force);
  if (s.ok()) last_timestamp_ = timestamp;
  return s;
}

absl::StatusOr<TimeIndex::Entry> TimeIndex::lookup_before(int64_t ts) const {
  int64_t n = file_->entries();
  auto i = file_->search_last(n, [&](const char* e) { return decode(e).timestamp < ts; });
  if (!i.ok()) return i.status();
  if (*i < 0) return Entry{-1, base_offset_};
  char e[kEntrySize];
  absl::Status s = file_->read(*i, e);
  if (!s.ok()) return s;
  return decode(e);
}

absl::StatusOr<TimeIndex::Entry> TimeIndex::last_entry() const {
  int64_t n = file_->entries();
  if (n == 0) return Entry{-1, base_offset_};
  char e[kEntrySize];
  absl::Status s = file_->read(n - 1, e);
  if (!s.ok()) return s;
  return decode(e);
}

absl::Status TimeIndex::sanity_check(int64_t next_offset) const {
  if (!file_->length_ok()) {
    return absl::DataLossError(
        absl::StrCat(file_->path().string(), ": length not a multiple of 12"));
  }
  int64_t n = file_->entries();
  if (n == 0) return absl::OkStatus();
  char first[kEntrySize], last[kEntrySize];
  absl::Status s = file_->read(0, first);
  if (s.ok()) s = file_->read(n - 1, last);
  if (!s.ok()) return s;
  Entry a = decode(first), b = decode(last);
  if (a.offset < base_offset_ || b.timestamp < a.timestamp || b.offset >= next_offset ||
      a.timestamp < 0 || (n > 1 && b.timestamp == a.timestamp)) {
    return absl::DataLossError(absl::StrCat(file_->path().string(), ": entries out of range"));
  }
  return absl::OkStatus();
}

}  // namespace gregor::storage
