// Positional file I/O for segments and indexes; every error names the file and the call.
#include "storage/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace gregor::storage {

absl::Status errno_status(std::string_view what, const std::filesystem::path& path) {
  int err = errno;
  std::string msg = absl::StrCat(std::string(what), " ", path.string(), ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  // A full disk (ENOSPC, EDQUOT) is Unavailable like any other I/O failure, so clients hear
  // KAFKA_STORAGE_ERROR and retry, as from Kafka; ResourceExhausted would say
  // MESSAGE_TOO_LARGE, which producers treat as final for the record.
  return absl::UnavailableError(msg);
}

void invariant_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "storage invariant failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

absl::StatusOr<std::shared_ptr<File>> File::open(const std::filesystem::path& path, bool create) {
  int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return errno_status("open", path);
  return std::shared_ptr<File>(new File(fd, path));
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<int64_t> File::size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return errno_status("fstat", path_);
  return static_cast<int64_t>(st.st_size);
}

absl::StatusOr<size_t> File::pread(void* buf, size_t n, int64_t pos) const {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, static_cast<char*>(buf) + done, n - done, pos + done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno_status("pread", path_);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

absl::Status File::pread_exact(void* buf, size_t n, int64_t pos) const {
  absl::StatusOr<size_t> got = pread(buf, n, pos);
  if (!got.ok()) return got.status();
  if (*got != n) {
    return absl::DataLossError(absl::StrCat("short read: wanted ", n, " bytes at ", pos));
  }
  return absl::OkStatus();
}

absl::Status File::pwrite_all(std::string_view data, int64_t pos) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t r = ::pwrite(fd_, data.data() + done, data.size() - done, pos + done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno_status("pwrite", path_);
    }
    done += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

absl::Status File::truncate(int64_t size) {
  if (::ftruncate(fd_, size) != 0) return errno_status("ftruncate", path_);
  return absl::OkStatus();
}

absl::Status File::preallocate(int64_t size) {
  // A sparse extension, as Kafka's RandomAccessFile.setLength does: allocating the blocks
  // (posix_fallocate) cost 20 MiB of disk per partition before a single record arrived, a full
  // GiB for the 50 partitions of __consumer_offsets. Entries are written in order, and a
  // crash leaves zero padding either way.
  return truncate(size);
}

absl::Status File::datasync() {
  if (::fdatasync(fd_) != 0) return errno_status("fdatasync", path_);
  return absl::OkStatus();
}

absl::Status sync_dir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status("open dir", dir);
  int r = ::fsync(fd);
  ::close(fd);
  if (r != 0) return errno_status("fsync dir", dir);
  return absl::OkStatus();
}

absl::Status write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno_status("open", tmp);
    size_t done = 0;
    while (done < contents.size()) {
      ssize_t r = ::write(fd, contents.data() + done, contents.size() - done);
      if (r < 0) {
        if (errno == EINTR) continue;
        absl::Status s = errno_status("write", tmp);
        ::close(fd);
        return s;
      }
      done += static_cast<size_t>(r);
    }
    if (::fsync(fd) != 0) {
      absl::Status s = errno_status("fsync", tmp);
      ::close(fd);
      return s;
    }
    ::close(fd);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_status("rename", tmp);
  return sync_dir(path.parent_path());
}

}  // namespace gregor::storage
