// Offset index: relative-offset encoding, lookup by binary search, sanity check.
#include "storage/offset_index.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace gregor::storage {

absl::StatusOr<std::unique_ptr<OffsetIndex>> OffsetIndex::open(const std::filesystem::path& path,
                                                               int64_t base_offset,
                                                               int64_t max_bytes) {
  auto file =
      IndexFile::open(path, kEntrySize, max_bytes, [](const char* e) { return get_be32(e) == 0; });
  if (!file.ok()) return file.status();
  return std::unique_ptr<OffsetIndex>(new OffsetIndex(std::move(*file), base_offset));
}

OffsetIndex::Entry OffsetIndex::decode(const char* e) const {
  return Entry{base_offset_ + static_cast<int32_t>(get_be32(e)),
               static_cast<int32_t>(get_be32(e + 4))};
}

absl::Status OffsetIndex::append(int64_t offset, int64_t position) {
  int64_t relative = offset - base_offset_;
  GREGOR_INVARIANT(relative >= 0 && relative <= std::numeric_limits<int32_t>::max());
  GREGOR_INVARIANT(position >= 0 && position <= std::numeric_limits<int32_t>::max());
  char e[kEntrySize];
  put_be32(e, static_cast<uint32_t>(relative));
  put_be32(e + 4, static_cast<uint32_t>(position));
  return file_->append(e);
}

absl::StatusOr<OffsetIndex::Entry> OffsetIndex::lookup(int64_t target) const {
  int64_t n = file_->entries();
  auto i = file_->search_last(n, [&](const char* e) { return decode(e).offset <= target; });
  if (!i.ok()) return i.status();
  if (*i < 0) return Entry{base_offset_, 0};
  char e[kEntrySize];
  absl::Status s = file_->read(*i, e);
  if (!s.ok()) return s;
  return decode(e);
}

absl::StatusOr<OffsetIndex::Entry> OffsetIndex::last_entry() const {
  int64_t n = file_->entries();
  if (n == 0) return Entry{base_offset_, 0};
  char e[kEntrySize];
  absl::Status s = file_->read(n - 1, e);
  if (!s.ok()) return s;
  return decode(e);
}

absl::Status OffsetIndex::sanity_check(int64_t log_size) const {
  if (!file_->length_ok()) {
    return absl::DataLossError(
        absl::StrCat(file_->path().string(), ": length not a multiple of 8"));
  }
  int64_t n = file_->entries();
  if (n == 0) return absl::OkStatus();
  char first[kEntrySize], last[kEntrySize];
  absl::Status s = file_->read(0, first);
  if (s.ok()) s = file_->read(n - 1, last);
  if (!s.ok()) return s;
  Entry a = decode(first), b = decode(last);
  if (a.offset < base_offset_ || b.offset < a.offset || a.position < 0 || b.position < a.position ||
      b.position >= log_size || (n > 1 && b.offset == a.offset)) {
    return absl::DataLossError(absl::StrCat(file_->path().string(), ": entries out of range"));
  }
  return absl::OkStatus();
}

}  // namespace gregor::storage
