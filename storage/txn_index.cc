// TxnIndex: the aborted-transaction entries of one segment, on disk and in memory.
#include "storage/txn_index.h"

#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace gregor::storage {

namespace {
constexpr int16_t kTxnIndexVersion = 0;

void put_be(std::string& s, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t get_be(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string encode(const AbortedTxnEntry& e) {
  std::string out;
  put_be(out, static_cast<uint16_t>(kTxnIndexVersion), 2);
  put_be(out, static_cast<uint64_t>(e.producer_id), 8);
  put_be(out, static_cast<uint64_t>(e.first_offset), 8);
  put_be(out, static_cast<uint64_t>(e.last_offset), 8);
  put_be(out, static_cast<uint64_t>(e.last_stable_offset), 8);
  return out;
}
}  // namespace

absl::StatusOr<std::unique_ptr<TxnIndex>> TxnIndex::open(std::filesystem::path path) {
  std::unique_ptr<TxnIndex> index(new TxnIndex(path));
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return index;
  auto file = File::open(path, /*create=*/false);
  if (!file.ok()) return file.status();
  auto size = (*file)->size();
  if (!size.ok()) return size.status();
  if (*size % kTxnIndexEntrySize != 0) {
    return absl::DataLossError(
        absl::StrCat(path.string(), ": size ", *size, " is not a whole number of entries"));
  }
  std::string bytes(static_cast<size_t>(*size), '\0');
  absl::Status s = (*file)->pread_exact(bytes.data(), bytes.size(), 0);
  if (!s.ok()) return s;
  absl::MutexLock l(&index->mu_);
  for (size_t pos = 0; pos < bytes.size(); pos += kTxnIndexEntrySize) {
    const char* p = bytes.data() + pos;
    AbortedTxnEntry e;
    const auto version = static_cast<int16_t>(get_be(p, 2));
    e.producer_id = static_cast<int64_t>(get_be(p + 2, 8));
    e.first_offset = static_cast<int64_t>(get_be(p + 10, 8));
    e.last_offset = static_cast<int64_t>(get_be(p + 18, 8));
    e.last_stable_offset = static_cast<int64_t>(get_be(p + 26, 8));
    const bool ordered =
        index->entries_.empty() || e.last_offset > index->entries_.back().last_offset;
    if (version != kTxnIndexVersion || e.first_offset > e.last_offset || !ordered) {
      return absl::DataLossError(absl::StrCat(path.string(), ": bad entry at byte ", pos));
    }
    index->entries_.push_back(e);
  }
  index->file_ = std::move(*file);
  return index;
}

std::unique_ptr<TxnIndex> TxnIndex::empty(std::filesystem::path path) {
  return std::unique_ptr<TxnIndex>(new TxnIndex(std::move(path)));
}

absl::Status TxnIndex::append(const AbortedTxnEntry& entry) {
  absl::MutexLock l(&mu_);
  // Entries loaded from disk are input, not our invariant: refuse rather than abort.
  if (!entries_.empty() && entry.last_offset <= entries_.back().last_offset) {
    return absl::DataLossError(absl::StrCat(path_.string(), ": entry at ", entry.last_offset,
                                            " after one at ", entries_.back().last_offset));
  }
  if (!file_) {
    // A file left by an earlier life of this index (empty() ignored it) is replaced.
    auto file = File::open(path_, /*create=*/true);
    if (!file.ok()) return file.status();
    absl::Status s = (*file)->truncate(0);
    if (!s.ok()) return s;
    file_ = std::move(*file);
  }
  absl::Status s =
      file_->pwrite_all(encode(entry), static_cast<int64_t>(entries_.size()) * kTxnIndexEntrySize);
  if (!s.ok()) return s;
  entries_.push_back(entry);
  dirty_ = true;
  return absl::OkStatus();
}

bool TxnIndex::collect(int64_t fetch_offset, int64_t upper_bound,
                       std::vector<AbortedTxnEntry>* out) const {
  absl::MutexLock l(&mu_);
  for (const AbortedTxnEntry& e : entries_) {
    if (e.last_offset >= fetch_offset && e.first_offset < upper_bound) out->push_back(e);
    if (e.last_stable_offset >= upper_bound) return true;
  }
  return false;
}

std::vector<AbortedTxnEntry> TxnIndex::entries() const {
  absl::MutexLock l(&mu_);
  return entries_;
}

absl::Status TxnIndex::reset() {
  absl::MutexLock l(&mu_);
  entries_.clear();
  dirty_ = false;
  file_.reset();
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", path_);
  return absl::OkStatus();
}

absl::Status TxnIndex::write_file(const std::filesystem::path& path,
                                  const std::vector<AbortedTxnEntry>& entries) {
  std::string bytes;
  for (const AbortedTxnEntry& e : entries) bytes += encode(e);
  auto file = File::open(path, /*create=*/true);
  if (!file.ok()) return file.status();
  absl::Status s = (*file)->truncate(0);
  if (s.ok()) s = (*file)->pwrite_all(bytes, 0);
  if (s.ok()) s = (*file)->datasync();
  return s;
}

absl::Status TxnIndex::flush() {
  std::shared_ptr<File> file;
  {
    absl::MutexLock l(&mu_);
    if (!dirty_ || !file_) return absl::OkStatus();
    dirty_ = false;
    file = file_;
  }
  absl::Status s = file->datasync();
  if (!s.ok()) {
    absl::MutexLock l(&mu_);
    dirty_ = true;
  }
  return s;
}

absl::Status TxnIndex::unlink() {
  absl::MutexLock l(&mu_);
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return errno_status("unlink", path_);
  return absl::OkStatus();
}

}  // namespace gregor::storage
