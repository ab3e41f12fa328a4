// storage::Log when a write fails half way (a full disk, an I/O error): the append answers an
// error and leaves no byte, index entry or offset behind, the next append takes the same
// offsets, and a restart finds exactly the batches that were acknowledged. A failed sync is
// never followed by a successful one.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "storage/log.h"
#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using testing::headers_of;
using testing::make_batch;
using testing::read_all;
using testing::TempDir;

// Puts `replacement` in the place of the process's open descriptor of `path`, so that calls on
// it fail: a read-only descriptor of the same file fails writes (EBADF), a pipe fails
// fdatasync (EINVAL). Puts a read-write descriptor of the file back when done.
class SwappedDescriptor {
 public:
  SwappedDescriptor(const std::filesystem::path& path, int replacement) : path_(path) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      const int fd = std::stoi(entry.path().filename().string());
      if (fd != replacement && std::filesystem::read_symlink(entry.path(), ec) == path_) fd_ = fd;
    }
    if (fd_ >= 0) ::dup2(replacement, fd_);
    ::close(replacement);
  }
  ~SwappedDescriptor() {
    if (fd_ < 0) return;
    int rw = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    ::dup2(rw, fd_);
    ::close(rw);
  }
  bool found() const { return fd_ >= 0; }

  static int read_only(const std::filesystem::path& path) {
    return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  static int pipe_end() {
    int fds[2];
    if (::pipe(fds) != 0) return -1;
    ::close(fds[1]);
    return fds[0];
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

class LogWriteFailureTest : public ::testing::Test {
 protected:
  std::filesystem::path dir() const { return tmp_.path() / "full-0"; }
  std::filesystem::path file(const char* ext) const {
    return dir() / (std::string("00000000000000000000") + ext);
  }
  std::shared_ptr<Log> open_log() {
    auto log = Log::open(dir(), config_, &clock_, /*recover=*/false);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *log : nullptr;
  }
  std::vector<int64_t> base_offsets(Log& log) {
    std::vector<int64_t> out;
    for (const auto& h : headers_of(read_all(log, 0))) out.push_back(h.base_offset);
    return out;
  }

  TempDir tmp_;
  FakeClock clock_;
  LogConfig config_;
};

TEST_F(LogWriteFailureTest, ATornLogWriteIsCutAndItsOffsetsAreReused) {
  auto log = open_log();
  std::string first = make_batch(2, 1000);
  ASSERT_TRUE(log->append(first).ok());
  const auto size_before = std::filesystem::file_size(file(".log"));

  // The file may grow only 100 bytes more: the next batch is written in part, then EFBIG.
  struct rlimit old_limit;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit tight = old_limit;
  tight.rlim_cur = size_before + 100;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tight), 0);
  std::string torn = make_batch(5, 2000, 200);
  absl::Status failed = log->append(torn).status();
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ::signal(SIGXFSZ, old_handler);

  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(std::filesystem::file_size(file(".log")), size_before) << "torn bytes left behind";
  EXPECT_EQ(log->log_end_offset(), 2);
  std::string next = make_batch(3, 3000);
  auto info = log->append(next);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->base_offset, 2);
  EXPECT_EQ(base_offsets(*log), (std::vector<int64_t>{0, 2}));

  ASSERT_TRUE(log->close().ok());
  log = open_log();
  EXPECT_EQ(log->log_end_offset(), 5);
  EXPECT_EQ(base_offsets(*log), (std::vector<int64_t>{0, 2}));
}

TEST_F(LogWriteFailureTest, AFailedIndexWriteUndoesTheWholeAppend) {
  config_.index_interval_bytes = 0;  // every batch after the first gets index entries
  auto log = open_log();
  for (int64_t ts : {1000, 2000}) {
    std::string b = make_batch(2, ts);
    ASSERT_TRUE(log->append(b).ok());
  }
  const auto size_before = std::filesystem::file_size(file(".log"));
  const auto max_ts_before = log->max_timestamp_offset();
  {
    // The offset index takes the batch's entry, then the time index write fails: the batch,
    // that entry and its timestamp must all go.
    auto path = std::filesystem::canonical(file(".timeindex"));
    SwappedDescriptor blocked(path, SwappedDescriptor::read_only(path));
    ASSERT_TRUE(blocked.found());
    std::string b = make_batch(4, 9000);
    absl::Status failed = log->append(b).status();
    EXPECT_FALSE(failed.ok());
  }
  EXPECT_EQ(log->log_end_offset(), 4);
  EXPECT_EQ(std::filesystem::file_size(file(".log")), size_before);
  EXPECT_EQ(log->max_timestamp_offset(), max_ts_before);

  std::string again = make_batch(1, 3000);
  auto info = log->append(again);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->base_offset, 4);
  // Offset 5 does not exist: the dropped entry for the failed batch (offsets 4-7) must not
  // send a reader to a position past the log's end.
  auto at4 = log->read(4, 1 << 20, true);
  ASSERT_TRUE(at4.ok()) << at4.status();
  EXPECT_GT(at4->bytes, 0);
  EXPECT_EQ(base_offsets(*log), (std::vector<int64_t>{0, 2, 4}));

  // A clean restart trusts the indexes: they must match the log.
  ASSERT_TRUE(log->close().ok());
  log = open_log();
  EXPECT_EQ(log->log_end_offset(), 5);
  EXPECT_EQ(base_offsets(*log), (std::vector<int64_t>{0, 2, 4}));
}

TEST_F(LogWriteFailureTest, AfterOneFailedSyncNoLaterFlushSucceeds) {
  auto log = open_log();
  std::string b = make_batch(2, 1000);
  ASSERT_TRUE(log->append(b).ok());
  {
    auto path = std::filesystem::canonical(file(".log"));
    SwappedDescriptor broken(path, SwappedDescriptor::pipe_end());
    ASSERT_TRUE(broken.found());
    EXPECT_FALSE(log->flush().ok());
  }
  // The descriptor works again, but the kernel may have dropped what it failed to write: the
  // log must not claim those bytes durable, now or for anything appended after them.
  EXPECT_FALSE(log->flush().ok());
  std::string more = make_batch(1, 2000);
  ASSERT_TRUE(log->append(more).ok());
  EXPECT_FALSE(log->flush().ok());
  EXPECT_EQ(log->flushed_offset(), 0);
  // Closing reports it too, so shutdown writes no clean-shutdown marker.
  EXPECT_FALSE(log->close().ok());
}

}  // namespace
}  // namespace gregor::storage
