// Offset and time index files: entry encoding, sparse lookup, padding after preallocation,
// sanity checks.
#include <fstream>

#include "gtest/gtest.h"
#include "storage/offset_index.h"
#include "storage/time_index.h"
#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using testing::TempDir;

TEST(OffsetIndexTest, LookupFindsLargestEntryAtOrBelowTarget) {
  TempDir tmp;
  auto index = OffsetIndex::open(tmp.path() / "00000000000000000100.index", 100, 1024);
  ASSERT_TRUE(index.ok()) << index.status();
  for (int i = 1; i <= 50; ++i) ASSERT_TRUE((*index)->append(100 + i * 10, i * 1000).ok());
  auto e = (*index)->lookup(99);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->offset, 100);  // nothing below: the segment start
  EXPECT_EQ(e->position, 0);
  e = (*index)->lookup(100 + 10 * 7 + 5);
  EXPECT_EQ(e->offset, 170);
  EXPECT_EQ(e->position, 7000);
  e = (*index)->lookup(100 + 10 * 7);
  EXPECT_EQ(e->offset, 170);
  e = (*index)->lookup(1'000'000);
  EXPECT_EQ(e->offset, 600);
  EXPECT_EQ(e->position, 50000);
}

TEST(OffsetIndexTest, BigEndianEightByteEntriesAndTrim) {
  TempDir tmp;
  auto path = tmp.path() / "00000000000000000000.index";
  auto index = OffsetIndex::open(path, 0, 80);
  ASSERT_TRUE(index.ok());
  ASSERT_TRUE((*index)->file().preallocate().ok());
  EXPECT_EQ(std::filesystem::file_size(path), 80u);
  ASSERT_TRUE((*index)->append(0x01020304, 0x0a0b0c0d).ok());
  ASSERT_TRUE((*index)->file().trim().ok());
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(bytes, std::string("\x01\x02\x03\x04\x0a\x0b\x0c\x0d", 8));
}

TEST(OffsetIndexTest, ReopenStopsAtPreallocationPadding) {
  TempDir tmp;
  auto path = tmp.path() / "00000000000000000000.index";
  {
    auto index = OffsetIndex::open(path, 0, 8 * 100);
    ASSERT_TRUE((*index)->file().preallocate().ok());
    for (int i = 1; i <= 7; ++i) ASSERT_TRUE((*index)->append(i, i * 100).ok());
  }  // not trimmed: as after a crash
  auto index = OffsetIndex::open(path, 0, 8 * 100);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ((*index)->entries(), 7);
  EXPECT_EQ((*index)->last_entry()->offset, 7);
  EXPECT_TRUE((*index)->sanity_check(10000).ok());
  EXPECT_FALSE((*index)->sanity_check(500).ok());  // positions past the log end
}

TEST(OffsetIndexTest, FullAndBadLength) {
  TempDir tmp;
  auto path = tmp.path() / "00000000000000000000.index";
  auto index = OffsetIndex::open(path, 0, 16);
  ASSERT_TRUE((*index)->append(1, 10).ok());
  ASSERT_TRUE((*index)->append(2, 20).ok());
  EXPECT_TRUE((*index)->full());
  EXPECT_FALSE((*index)->append(3, 30).ok());
  index->reset();
  std::filesystem::resize_file(path, 13);
  auto reopened = OffsetIndex::open(path, 0, 16);
  ASSERT_TRUE(reopened.ok());
  EXPECT_FALSE((*reopened)->sanity_check(1000).ok());
}

TEST(TimeIndexTest, AppendsOnlyWhenTimestampGrowsAndLooksUpStrictlyBefore) {
  TempDir tmp;
  auto index = TimeIndex::open(tmp.path() / "00000000000000000010.timeindex", 10, 1200);
  ASSERT_TRUE(index.ok());
  ASSERT_TRUE((*index)->maybe_append(1000, 12).ok());
  ASSERT_TRUE((*index)->maybe_append(1000, 13).ok());  // not larger: ignored
  ASSERT_TRUE((*index)->maybe_append(900, 14).ok());   // smaller: ignored
  ASSERT_TRUE((*index)->maybe_append(2000, 20).ok());
  ASSERT_TRUE((*index)->maybe_append(3000, 30).ok());
  EXPECT_EQ((*index)->entries(), 3);
  auto e = (*index)->lookup_before(1000);
  EXPECT_EQ(e->timestamp, -1);
  EXPECT_EQ(e->offset, 10);
  e = (*index)->lookup_before(2500);
  EXPECT_EQ(e->timestamp, 2000);
  EXPECT_EQ(e->offset, 20);
  e = (*index)->lookup_before(99999);
  EXPECT_EQ(e->offset, 30);
  EXPECT_EQ((*index)->last_entry()->timestamp, 3000);
  EXPECT_TRUE((*index)->sanity_check(31).ok());
  EXPECT_FALSE((*index)->sanity_check(25).ok());
}

}  // namespace
}  // namespace gregor::storage
