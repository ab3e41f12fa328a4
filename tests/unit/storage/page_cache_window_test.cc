// PageCacheWindow: what lies a window behind the end of a file leaves the page cache once
// written, the window itself stays, the bytes are unchanged, a file cut shorter (recovery) or a
// window of 0 are handled, and a failed writeback is kept for the segment's flush to report.
#include "storage/page_cache_window.h"

#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/log.h"
#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using testing::make_batch;
using testing::read_slice;
using testing::TempDir;

constexpr int64_t kMiB = 1 << 20;
constexpr int64_t kPage = 4096;

// Fraction of the pages in [from, to) that are in the page cache.
double resident_fraction(const File& file, int64_t from, int64_t to) {
  from -= from % kPage;  // mmap wants a page-aligned offset
  const size_t len = static_cast<size_t>(to - from);
  void* map = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, file.fd(), from);
  EXPECT_NE(map, MAP_FAILED);
  if (map == MAP_FAILED) return -1;
  std::vector<unsigned char> pages((len + kPage - 1) / kPage);
  EXPECT_EQ(::mincore(map, len, pages.data()), 0);
  ::munmap(map, len);
  size_t resident = 0;
  for (unsigned char p : pages) resident += p & 1;
  return static_cast<double>(resident) / static_cast<double>(pages.size());
}

class PageCacheWindowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    struct statfs fs;
    ASSERT_EQ(::statfs(tmp_.path().c_str(), &fs), 0);
    // tmpfs has no disk to write back to: its pages are the data and are never evicted.
    if (fs.f_type == TMPFS_MAGIC) GTEST_SKIP() << "temp dir is on tmpfs";
    auto f = File::open(tmp_.path() / "segment.log", true);
    ASSERT_TRUE(f.ok()) << f.status();
    file_ = *f;
  }

  // Appends `total` bytes in odd-sized writes, advancing the window after each like the log.
  std::string write(int64_t total, int64_t window) {
    std::string all;
    const int64_t step = 100'003;
    while (static_cast<int64_t>(all.size()) < total) {
      std::string chunk(static_cast<size_t>(step), static_cast<char>('a' + all.size() / step % 26));
      EXPECT_TRUE(file_->pwrite_all(chunk, static_cast<int64_t>(all.size())).ok());
      all += chunk;
      window_.advance(*file_, static_cast<int64_t>(all.size()), window);
    }
    return all;
  }

  TempDir tmp_;
  std::shared_ptr<File> file_;
  PageCacheWindow window_;
};

TEST_F(PageCacheWindowTest, EvictsWhatIsBehindTheWindowAndKeepsTheWindow) {
  const std::string data = write(12 * kMiB, 2 * kMiB);
  const int64_t size = static_cast<int64_t>(data.size());
  // Eviction works in 2 MiB-aligned steps behind the window: everything before 8 MiB is out.
  EXPECT_LT(resident_fraction(*file_, 0, 8 * kMiB), 0.05);
  EXPECT_GT(resident_fraction(*file_, size - 2 * kMiB, size), 0.95);
  std::string back(data.size(), '\0');
  ASSERT_TRUE(file_->pread_exact(back.data(), back.size(), 0).ok());
  EXPECT_EQ(back, data);
  EXPECT_TRUE(window_.error().ok());
}

TEST_F(PageCacheWindowTest, ZeroWindowKeepsEverything) {
  const std::string data = write(6 * kMiB, 0);
  EXPECT_GT(resident_fraction(*file_, 0, static_cast<int64_t>(data.size())), 0.95);
}

TEST_F(PageCacheWindowTest, FileCutShorterStartsOverFromTheNewEnd) {
  write(8 * kMiB, kMiB);
  ASSERT_TRUE(file_->truncate(kMiB + 123).ok());
  window_.advance(*file_, kMiB + 123, kMiB);
  // Writing on from the cut end evicts again once a window behind it.
  std::string more(static_cast<size_t>(6 * kMiB), 'z');
  ASSERT_TRUE(file_->pwrite_all(more, kMiB + 123).ok());
  window_.advance(*file_, kMiB + 123 + 6 * kMiB, kMiB);
  EXPECT_LT(resident_fraction(*file_, 2 * kMiB, 6 * kMiB), 0.05);
  std::string back(more.size(), '\0');
  ASSERT_TRUE(file_->pread_exact(back.data(), back.size(), kMiB + 123).ok());
  EXPECT_EQ(back, more);
}

TEST(PageCacheWindowErrorTest, AFailedWritebackIsKept) {
  // sync_file_range fails on a FIFO (ESPIPE), standing in for a disk that fails writeback.
  TempDir tmp;
  const std::filesystem::path fifo = tmp.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto f = File::open(fifo, false);  // O_RDWR: does not wait for the other end
  ASSERT_TRUE(f.ok()) << f.status();
  PageCacheWindow window;
  window.advance(**f, 4 * kMiB, kMiB);
  absl::Status s = window.error();
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_NE(s.message().find("sync_file_range"), std::string::npos) << s;
  window.advance(**f, 8 * kMiB, kMiB);  // stays failed, tries nothing more
  EXPECT_TRUE(absl::IsDataLoss(window.error()));
}

TEST(PageCacheWindowLogTest, LogWithASmallWindowReadsBackEveryBatch) {
  TempDir tmp;
  FakeClock clock;
  LogConfig config;
  config.page_cache_window_bytes = kMiB;
  config.segment_bytes = 4 * kMiB;  // rolls, so older segments are read from disk too
  auto log = Log::open(tmp.path() / "t-0", config, &clock, false);
  ASSERT_TRUE(log.ok()) << log.status();
  for (int i = 0; i < 200; ++i) {
    std::string b = make_batch(50, 1000 + i, 1000);
    ASSERT_TRUE((*log)->append(b).ok());
  }
  ASSERT_TRUE((*log)->flush().ok());
  std::string read;
  int64_t offset = 0;
  while (offset < (*log)->log_end_offset()) {
    auto r = (*log)->read(offset, 1 << 20, true);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_FALSE(r->slices.empty());
    for (const auto& s : r->slices) {
      std::string bytes = read_slice(s);
      for (const auto& h : testing::headers_of(bytes)) offset = h.base_offset + h.records_count;
      read += bytes;
    }
  }
  EXPECT_EQ(testing::headers_of(read).size(), 200u);
  EXPECT_EQ(offset, 200 * 50);
}

}  // namespace
}  // namespace gregor::storage
