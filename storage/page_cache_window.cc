// PageCacheWindow: sync_file_range to start and await writeback, POSIX_FADV_DONTNEED to evict.
#include "storage/page_cache_window.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace gregor::storage {

namespace {
constexpr int64_t kPageBytes = 4096;
// The page cache holds a file in folios of up to 2 MiB, each aligned to its size, and
// DONTNEED drops only the folios wholly inside its range: ranges cut at 2 MiB boundaries
// leave none straddling two of them (unaligned ones left ~half the pages cached).
constexpr int64_t kEvictAlignBytes = 2 << 20;

int64_t floor_to(int64_t pos, int64_t unit) {
  return pos <= 0 ? 0 : pos - pos % unit;
}
int64_t page_floor(int64_t pos) {
  return floor_to(pos, kPageBytes);
}
}  // namespace

void PageCacheWindow::advance(const File& file, int64_t size, int64_t window) {
  if (window <= 0) return;
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock() || !error_.ok()) return;
  // Recovery may have cut the file below what was tracked.
  writeback_from_ = std::min(writeback_from_, page_floor(size));
  cached_from_ = std::min(cached_from_, floor_to(size, kEvictAlignBytes));
  auto failed = [&](const char* what) {
    error_ = absl::DataLossError(
        absl::StrCat(what, " of fd ", file.fd(), " failed: ", std::strerror(errno)));
    spdlog::error("{}", error_.ToString());
  };
  const int64_t whole = page_floor(size);
  if (whole - writeback_from_ >= kStepBytes) {
    if (::sync_file_range(file.fd(), writeback_from_, whole - writeback_from_,
                          SYNC_FILE_RANGE_WRITE) != 0) {
      return failed("sync_file_range(WRITE)");
    }
    writeback_from_ = whole;
  }
  const int64_t evict_to = floor_to(std::min(size - window, writeback_from_), kEvictAlignBytes);
  if (evict_to <= cached_from_) return;
  const int64_t len = evict_to - cached_from_;
  // DONTNEED skips dirty pages and pages under writeback: wait for those to be on disk first.
  if (::sync_file_range(
          file.fd(), cached_from_, len,
          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
    return failed("sync_file_range(WAIT)");
  }
  // Advice only: a failure costs memory, never data.
  (void)::posix_fadvise(file.fd(), cached_from_, len, POSIX_FADV_DONTNEED);
  cached_from_ = evict_to;
}

absl::Status PageCacheWindow::error() {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

}  // namespace gregor::storage
