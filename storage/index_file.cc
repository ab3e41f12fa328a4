// Fixed-size-entry index files: open with padding detection, append, binary search, resize.
#include "storage/index_file.h"

#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace gregor::storage {

void put_be32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (24 - 8 * i));
}
void put_be64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (56 - 8 * i));
}
uint32_t get_be32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t get_be64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

absl::StatusOr<std::unique_ptr<IndexFile>> IndexFile::open(const std::filesystem::path& path,
                                                           int entry_size, int64_t max_bytes,
                                                           IsPadding is_padding) {
  absl::StatusOr<std::shared_ptr<File>> file = File::open(path, /*create=*/true);
  if (!file.ok()) return file.status();
  int64_t max_entries = std::max<int64_t>(1, max_bytes / entry_size);
  std::unique_ptr<IndexFile> index(new IndexFile(path, *file, entry_size, max_entries));
  absl::StatusOr<int64_t> size = (*file)->size();
  if (!size.ok()) return size.status();
  index->length_ok_ = *size % entry_size == 0;
  int64_t n = *size / entry_size;
  if (n > 1) {
    // Written entries form a prefix; padding starts at the first entry (after #0) that reads
    // as padding. Binary search for it.
    std::vector<char> buf(entry_size);
    int64_t lo = 1, hi = n;  // first padding index lies in [lo, hi]
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      absl::Status s = (*file)->pread_exact(buf.data(), entry_size, mid * entry_size);
      if (!s.ok()) return s;
      if (is_padding(buf.data())) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    n = lo;
  }
  index->entries_.store(n, std::memory_order_release);
  return index;
}

absl::Status IndexFile::read(int64_t i, char* buf) const {
  return file_->pread_exact(buf, entry_size_, i * entry_size_);
}

absl::Status IndexFile::append(const char* entry, bool force) {
  int64_t n = entries();
  if (n >= max_entries_ && !force)
    return absl::InternalError(absl::StrCat(path_.string(), " is full"));
  absl::Status s = file_->pwrite_all(std::string_view(entry, entry_size_), n * entry_size_);
  if (!s.ok()) return s;
  entries_.store(n + 1, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> IndexFile::search_last(
    int64_t n, const std::function<bool(const char*)>& before) const {
  std::vector<char> buf(entry_size_);
  int64_t lo = 0, hi = n;  // answer + 1 lies in [lo, hi]
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    absl::Status s = read(mid, buf.data());
    if (!s.ok()) return s;
    if (before(buf.data())) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo - 1;
}

absl::Status IndexFile::reset() {
  entries_.store(0, std::memory_order_release);
  length_ok_ = true;
  return file_->truncate(0);
}

absl::Status IndexFile::drop_from(int64_t n) {
  const int64_t had = entries();
  if (n >= had) return absl::OkStatus();
  entries_.store(n, std::memory_order_release);
  // These bytes were just written, so their blocks exist: zeroing them needs no new space.
  std::string zeros(static_cast<size_t>((had - n) * entry_size_), '\0');
  return file_->pwrite_all(zeros, n * entry_size_);
}

absl::Status IndexFile::preallocate() {
  return file_->preallocate(max_entries_ * entry_size_);
}

absl::Status IndexFile::trim() {
  return file_->truncate(entries() * entry_size_);
}

absl::Status IndexFile::unlink() {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", path_);
  return absl::OkStatus();
}

}  // namespace gregor::storage
