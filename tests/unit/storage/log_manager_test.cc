// LogManager: placement across log dirs, get/remove, checkpoints and the clean-shutdown
// marker, recovery after an unclean stop, dir locking, background flush.
#include "storage/log_manager.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using testing::make_batch;
using testing::TempDir;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class LogManagerTest : public ::testing::Test {
 protected:
  LogManagerOptions options() {
    LogManagerOptions o;
    o.log_dirs = {tmp_.path() / "d1", tmp_.path() / "d2"};
    return o;
  }
  std::unique_ptr<LogManager> open() {
    auto m = LogManager::open(options(), &clock_);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? std::move(*m) : nullptr;
  }
  void append(Log& log, int n) {
    for (int i = 0; i < n; ++i) {
      std::string b = make_batch(1, 1000 + i);
      ASSERT_TRUE(log.append(b).ok());
    }
  }
  TempDir tmp_;
  FakeClock clock_;
  LogConfig config_;
};

TEST(PartitionDirTest, ParsesFromTheLastDash) {
  EXPECT_EQ(parse_partition_dir("a-b.c-7"), (TopicPartition{"a-b.c", 7}));
  EXPECT_EQ(parse_partition_dir("__consumer_offsets-49"),
            (TopicPartition{"__consumer_offsets", 49}));
  EXPECT_FALSE(parse_partition_dir("topic"));
  EXPECT_FALSE(parse_partition_dir("topic-"));
  EXPECT_FALSE(parse_partition_dir("-3"));
  EXPECT_FALSE(parse_partition_dir("topic-x"));
  EXPECT_FALSE(parse_partition_dir("bad topic-1"));
}

TEST_F(LogManagerTest, CreatesAcrossDirsGetsAndRemoves) {
  auto m = open();
  auto a = m->get_or_create("a-b.c", 0, config_);
  auto b = m->get_or_create("a-b.c", 1, config_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->dir().parent_path(), (*b)->dir().parent_path());  // fewest partitions wins
  EXPECT_EQ((*a)->dir().filename(), "a-b.c-0");
  EXPECT_EQ(m->get("a-b.c", 0), *a);
  EXPECT_EQ(*m->get_or_create("a-b.c", 0, config_), *a);
  EXPECT_EQ(m->get("a-b.c", 2), nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(m->get_or_create("a/b", 0, config_).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(m->get_or_create("ok", -1, config_).status()));

  append(**a, 3);
  std::filesystem::path dir = (*a)->dir();
  ASSERT_TRUE(m->remove("a-b.c", 0).ok());
  EXPECT_EQ(m->get("a-b.c", 0), nullptr);
  EXPECT_FALSE(std::filesystem::exists(dir));
  std::string b2 = make_batch(1, 1);
  EXPECT_FALSE((*a)->append(b2).ok());  // a handler still holding it gets an error
  int renamed = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.parent_path())) {
    std::string name = e.path().filename().string();
    if (name.starts_with("a-b.c-0.") && name.ends_with("-delete")) ++renamed;
  }
  EXPECT_EQ(renamed, 1);
  m->delete_pending();
  renamed = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.parent_path())) {
    if (e.path().filename().string().ends_with("-delete")) ++renamed;
  }
  EXPECT_EQ(renamed, 0);
  EXPECT_TRUE(absl::IsNotFound(m->remove("a-b.c", 0)));
  // Re-created from scratch.
  auto again = m->get_or_create("a-b.c", 0, config_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->log_end_offset(), 0);
  ASSERT_TRUE(m->shutdown().ok());
}

TEST_F(LogManagerTest, CleanShutdownWritesCheckpointsAndMarker) {
  {
    auto m = open();
    auto log = m->get_or_create("orders", 2, config_);
    ASSERT_TRUE(log.ok());
    append(**log, 7);
    ASSERT_TRUE(m->shutdown().ok());
    ASSERT_TRUE(m->shutdown().ok());  // idempotent
    std::filesystem::path d = (*log)->dir().parent_path();
    EXPECT_TRUE(std::filesystem::exists(d / kCleanShutdownMarker));
    EXPECT_EQ(slurp(d / kRecoveryPointCheckpoint), "0\n1\norders 2 7\n");
    EXPECT_EQ(slurp(d / kLogStartOffsetCheckpoint), "0\n1\norders 2 0\n");
  }
  auto m = open();
  for (const auto& d : options().log_dirs) {
    EXPECT_FALSE(std::filesystem::exists(d / kCleanShutdownMarker));  // a crash now recovers
  }
  EXPECT_EQ(m->on_disk_partitions(), (std::vector<TopicPartition>{{"orders", 2}}));
  auto log = m->get_or_create("orders", 2, config_);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->recovered_batches(), 0);
  EXPECT_EQ((*log)->log_end_offset(), 7);
  ASSERT_TRUE(m->shutdown().ok());
}

TEST_F(LogManagerTest, UncleanStopRecoversOnNextOpen) {
  {
    auto m = open();
    auto log = m->get_or_create("t", 0, config_);
    ASSERT_TRUE(log.ok());
    append(**log, 5);
  }  // no shutdown(): no marker
  auto m = open();
  auto log = m->get_or_create("t", 0, config_);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->recovered_batches(), 5);
  EXPECT_EQ((*log)->log_end_offset(), 5);
  ASSERT_TRUE(m->shutdown().ok());
}

TEST_F(LogManagerTest, UnopenedPartitionsAreRecoveredBeforeTheMarker) {
  {
    auto m = open();
    auto log = m->get_or_create("t", 0, config_);
    append(**log, 5);
  }
  std::filesystem::path seg;
  for (const auto& d : options().log_dirs) {
    if (std::filesystem::exists(d / "t-0")) seg = d / "t-0" / "00000000000000000000.log";
  }
  std::filesystem::resize_file(seg, std::filesystem::file_size(seg) - 5);
  {
    auto m = open();
    ASSERT_TRUE(m->shutdown().ok());  // never opened t-0, but must not mark it clean unscanned
  }
  auto m = open();
  auto log = m->get_or_create("t", 0, config_);
  EXPECT_EQ((*log)->log_end_offset(), 4);
  EXPECT_EQ((*log)->recovered_batches(), 0);
}

TEST_F(LogManagerTest, LeavesTheClusterMetadataLogAlone) {
  std::filesystem::path md = options().log_dirs[0] / kClusterMetadataDir;
  std::filesystem::create_directories(md);
  {
    auto m = open();
    auto log = m->get_or_create("t", 0, config_);
    ASSERT_TRUE(log.ok());
  }  // unclean
  auto m = open();
  EXPECT_EQ(m->on_disk_partitions(), (std::vector<TopicPartition>{{"t", 0}}));
  ASSERT_TRUE(m->shutdown().ok());
  EXPECT_TRUE(std::filesystem::is_empty(md));  // not opened, not recovered, not checkpointed
  EXPECT_EQ(slurp(options().log_dirs[0] / kRecoveryPointCheckpoint).find("__cluster_metadata"),
            std::string::npos);
}

TEST_F(LogManagerTest, LogStartOffsetSurvivesRestart) {
  config_.segment_bytes = 300;
  {
    auto m = open();
    auto log = m->get_or_create("t", 0, config_);
    append(**log, 20);
    LogConfig c = config_;
    c.retention_bytes = 400;
    (*log)->update_config(c);
    EXPECT_GT(m->run_retention(), 0);
    EXPECT_GT((*log)->log_start_offset(), 0);
    ASSERT_TRUE(m->shutdown().ok());
  }
  auto m = open();
  auto log = m->get_or_create("t", 0, config_);
  int64_t start = (*log)->log_start_offset();
  EXPECT_GT(start, 0);
  EXPECT_EQ(slurp((*log)->dir().parent_path() / kLogStartOffsetCheckpoint),
            "0\n1\nt 0 " + std::to_string(start) + "\n");
}

TEST_F(LogManagerTest, LogDirIsLocked) {
  auto m = open();
  auto second = LogManager::open(options(), &clock_);
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
}

TEST_F(LogManagerTest, BackgroundFlushHonoursFlushMs) {
  LogManagerOptions o = options();
  o.flush_scheduler_interval_ms = 5;
  auto m = LogManager::open(o, &clock_);
  ASSERT_TRUE(m.ok());
  config_.flush_interval_ms = 0;
  auto log = (*m)->get_or_create("t", 0, config_);
  append(**log, 3);
  (*m)->start_background();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*log)->flushed_offset() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ((*log)->flushed_offset(), 3);
  ASSERT_TRUE((*m)->shutdown().ok());
}

TEST_F(LogManagerTest, FlusherThroughManager) {
  auto m = open();
  auto log = m->get_or_create("t", 0, config_);
  append(**log, 2);
  absl::Mutex mu;
  bool done = false;
  m->flusher().request(*log, 1, [&](absl::Status s) {
    EXPECT_TRUE(s.ok());
    absl::MutexLock l(&mu);
    done = true;
  });
  absl::MutexLock l(&mu);
  EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(10)));
}

}  // namespace
}  // namespace gregor::storage
