// The metadata log: topics created and deleted survive a reopen by replay, and errors are
// the ones the handlers map to Kafka codes.
#include "coordinator/cluster_metadata.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "coordinator/producer_ids.h"

namespace gregor::coordinator {
namespace {

class ClusterMetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gregor-md-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<ClusterMetadata> open() {
    auto md = ClusterMetadata::open(dir_ / "__cluster_metadata-0", &clock_);
    EXPECT_TRUE(md.ok()) << md.status();
    return std::move(*md);
  }
  std::filesystem::path dir_;
  storage::FakeClock clock_;
};

TEST_F(ClusterMetadataTest, CreateReplayDelete) {
  protocol::Uuid id{};
  {
    auto md = open();
    auto t = md->create_topic("orders", 3, {{"retention.ms", "1000"}}, 7);
    ASSERT_TRUE(t.ok()) << t.status();
    id = t->topic_id;
    EXPECT_NE(id, protocol::Uuid{});
    ASSERT_EQ(t->partitions.size(), 3u);
    EXPECT_EQ(t->partitions[2].leader, 7);
    EXPECT_TRUE(md->create_topic("other", 1, {}, 7).ok());
    EXPECT_TRUE(absl::IsAlreadyExists(md->create_topic("orders", 1, {}, 7).status()));
    ASSERT_TRUE(md->close().ok());
  }
  {
    auto md = open();
    EXPECT_EQ(md->replayed_records(), 1 + 3 + 1 + 1 + 1);
    auto t = md->topic("orders");
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->topic_id, id);
    EXPECT_EQ(t->partitions.size(), 3u);
    EXPECT_EQ(t->configs.at("retention.ms"), "1000");
    EXPECT_TRUE(md->topic_by_id(id).has_value());
    ASSERT_TRUE(md->delete_topic("orders").ok());
    EXPECT_TRUE(absl::IsNotFound(md->delete_topic("orders")));
    ASSERT_TRUE(md->close().ok());
  }
  {
    auto md = open();
    EXPECT_FALSE(md->topic("orders").has_value());
    EXPECT_TRUE(md->topic("other").has_value());
    EXPECT_EQ(md->topics().size(), 1u);
  }
}

TEST_F(ClusterMetadataTest, ProducerIdBlocksNeverRepeatAcrossRestarts) {
  std::set<int64_t> seen;
  for (int run = 0; run < 3; ++run) {
    auto md = open();
    ProducerIdManager ids([&](int32_t n) { return md->allocate_producer_ids(n, 1); }, 10);
    // A restart abandons the rest of the block in hand, as Kafka does.
    for (int i = 0; i < 25; ++i) {
      auto id = ids.next();
      ASSERT_TRUE(id.ok()) << id.status();
      EXPECT_TRUE(seen.insert(*id).second) << "id " << *id << " handed out twice";
    }
    ASSERT_TRUE(md->close().ok());
  }
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), 2 * 30 + 24);
}

}  // namespace
}  // namespace gregor::coordinator
