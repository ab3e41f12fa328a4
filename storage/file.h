// A shared, RAII-owned file descriptor with the few positional I/O calls storage needs.
// Segments hand out std::shared_ptr<File> as FileSlice::keep_alive, so a file deleted by
// retention stays readable until the last fetch that references it has been sent.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gregor::storage {

// Thread-safety: pread/pwrite at disjoint ranges may run concurrently from any thread.
class File {
 public:
  // Opens read-write, creating the file when `create` is set.
  static absl::StatusOr<std::shared_ptr<File>> open(const std::filesystem::path& path, bool create);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  int fd() const { return fd_; }
  absl::StatusOr<int64_t> size() const;
  // Reads up to n bytes at pos; returns fewer only at end of file.
  absl::StatusOr<size_t> pread(void* buf, size_t n, int64_t pos) const;
  // Reads exactly n bytes or fails with DataLoss.
  absl::Status pread_exact(void* buf, size_t n, int64_t pos) const;
  absl::Status pwrite_all(std::string_view data, int64_t pos);
  absl::Status truncate(int64_t size);
  // Extends the file sparsely to `size` (ftruncate), as Kafka sizes its index files.
  absl::Status preallocate(int64_t size);
  absl::Status datasync();

 private:
  File(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::filesystem::path path_;  // as opened; names the file in error messages
};

// fsync of a directory, so that creates, renames and unlinks in it are durable.
absl::Status sync_dir(const std::filesystem::path& dir);

// Writes `contents` to path.tmp, fsyncs, renames over `path` and syncs the directory.
absl::Status write_file_atomically(const std::filesystem::path& path, std::string_view contents);

absl::Status errno_status(std::string_view what, const std::filesystem::path& path);

// Always-on invariant check (TigerBeetle style): storage state is corrupt if it fails.
[[noreturn]] void invariant_failed(const char* expr, const char* file, int line);
#define GREGOR_INVARIANT(cond) \
  ((cond) ? static_cast<void>(0) : ::gregor::storage::invariant_failed(#cond, __FILE__, __LINE__))

}  // namespace gregor::storage
