// storage::Segment reads and their ReadHints: a read that goes on where an earlier one ended
// starts from the remembered position (no index search), and every path returns the same
// whole batches as a cold read.
#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "gtest/gtest.h"
#include "storage/read_hints.h"
#include "storage/segment.h"
#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using testing::headers_of;
using testing::make_batch;
using testing::read_slice;
using testing::TempDir;

TEST(ReadHintsTest, FindsWhatWasRememberedAndEachReaderKeepsOneSlot) {
  ReadHints hints;
  EXPECT_FALSE(hints.find(10).has_value());
  hints.remember(0, 10, 500);
  EXPECT_EQ(hints.find(10), 500);
  // The same reader goes on: its slot moves forward instead of taking another.
  hints.remember(10, 20, 900);
  EXPECT_FALSE(hints.find(10).has_value());
  EXPECT_EQ(hints.find(20), 900);
  // Eight other readers take the remaining slots and then reuse the oldest, never this one's
  // newest position unless the slots run out.
  for (int i = 0; i < 7; ++i) hints.remember(1000 + i, 2000 + i, 3000 + i);
  EXPECT_EQ(hints.find(20), 900);
  EXPECT_EQ(hints.find(2006), 3006);
  hints.clear();
  EXPECT_FALSE(hints.find(20).has_value());
}

class SegmentReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Index entry every batch, so that a wrong index would mislead every search.
    auto seg = Segment::open(tmp_.path(), 0, 1 << 20, /*index_interval_bytes=*/1);
    ASSERT_TRUE(seg.ok()) << seg.status();
    seg_ = *seg;
    ASSERT_TRUE(seg_->preallocate_indexes().ok());
  }

  // Appends a batch of `records` records at the segment's next offset.
  void append(int records) {
    std::string b = make_batch(records, 1000);
    int64_t base = seg_->next_offset();
    protocol::set_base_offset(b.data(), base);
    BatchInfo info{base, base + records - 1, 1000 + records - 1, static_cast<int64_t>(b.size())};
    ASSERT_TRUE(seg_->append(b, std::span<const BatchInfo>(&info, 1)).ok());
  }

  std::vector<protocol::RecordBatchHeader> read(int64_t offset, int64_t max_bytes) {
    auto slice = seg_->read(offset, max_bytes, true, seg_->size(), seg_->next_offset());
    EXPECT_TRUE(slice.ok()) << slice.status();
    if (!slice.ok() || slice->size == 0) return {};
    return headers_of(read_slice(*slice));
  }

  // Overwrites every index entry with one that points into the middle of the first batch: a
  // read that searches the index from now on finds nothing at that position.
  void break_offset_index() {
    int fd = ::open((tmp_.path() / "00000000000000000000.index").c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    std::vector<char> garbage(4096, '\0');
    for (size_t i = 0; i < garbage.size(); i += 8) {
      garbage[i + 3] = 1;  // relative offset 1
      garbage[i + 7] = 7;  // position 7: inside the first batch's header
    }
    ASSERT_EQ(::pwrite(fd, garbage.data(), garbage.size(), 0), 4096);
    ::close(fd);
  }

  TempDir tmp_;
  std::shared_ptr<Segment> seg_;
};

TEST_F(SegmentReadTest, SequentialReaderGoesOnWithoutTheIndex) {
  for (int i = 0; i < 4; ++i) append(3);  // offsets 0-11
  auto first = read(0, 1 << 20);
  ASSERT_EQ(first.size(), 4u);
  break_offset_index();
  // Offset 12 is where the first read ended; the batches appended since are found from there.
  append(2);
  append(2);  // offsets 12-15
  auto next = read(12, 1 << 20);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].base_offset, 12);
  EXPECT_EQ(next[1].base_offset, 14);
  // A read that has to search lands on the broken index and finds nothing: the check above
  // would fail without the hint.
  EXPECT_TRUE(read(6, 1 << 20).empty());
}

TEST_F(SegmentReadTest, ReadCutByMaxBytesRemembersWhereItStopped) {
  for (int i = 0; i < 5; ++i) append(3);  // offsets 0-14
  const int64_t batch = static_cast<int64_t>(make_batch(3, 1000).size());
  auto part = read(0, 2 * batch + 1);
  ASSERT_EQ(part.size(), 2u);
  EXPECT_EQ(part[1].base_offset, 3);
  break_offset_index();
  auto rest = read(6, 1 << 20);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].base_offset, 6);
  EXPECT_EQ(rest[2].base_offset, 12);
}

TEST_F(SegmentReadTest, OversizedFirstBatchIsReturnedAndRemembered) {
  append(3);
  append(3);
  auto one = read(0, 10);  // smaller than any batch: KIP-74 returns the first one whole
  ASSERT_EQ(one.size(), 1u);
  break_offset_index();
  auto next = read(3, 10);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].base_offset, 3);
}

TEST_F(SegmentReadTest, HintedAndColdReadsReturnTheSameBytes) {
  for (int i = 0; i < 6; ++i) append(i + 1);
  // Cold reads of every offset, from a fresh segment object (no hints), against reads that go
  // on from the previous one.
  std::vector<std::string> sequential;
  int64_t offset = 0;
  while (offset < seg_->next_offset()) {
    auto slice = seg_->read(offset, 1, true, seg_->size(), seg_->next_offset());
    ASSERT_TRUE(slice.ok());
    sequential.push_back(read_slice(*slice));
    offset = headers_of(sequential.back()).back().last_offset() + 1;
  }
  auto fresh = Segment::open(tmp_.path(), 0, 1 << 20, 1);
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE((*fresh)->load().ok());
  offset = 0;
  for (const std::string& expected : sequential) {
    auto slice = (*fresh)->read(offset, 1, true, (*fresh)->size(), (*fresh)->next_offset());
    ASSERT_TRUE(slice.ok());
    EXPECT_EQ(read_slice(*slice), expected);
    offset = headers_of(expected).back().last_offset() + 1;
  }
}

TEST_F(SegmentReadTest, TranslateAnswersFromTheHint) {
  // read_committed bounds every read by the LSO's position, which the previous read of a
  // consumer waiting at the LSO has just remembered.
  for (int i = 0; i < 4; ++i) append(3);
  const int64_t batch = static_cast<int64_t>(make_batch(3, 1000).size());
  auto slice = seg_->read(0, 1 << 20, true, 2 * batch, 6);  // bounded as if the LSO were 6
  ASSERT_TRUE(slice.ok());
  EXPECT_EQ(slice->size, 2 * batch);
  break_offset_index();
  auto at = seg_->translate(6, seg_->size());
  ASSERT_TRUE(at.ok());
  ASSERT_TRUE(at->has_value());
  EXPECT_EQ(**at, 2 * batch);
  // Bounded below the hint: no batch there holds offset 6.
  at = seg_->translate(6, batch);
  ASSERT_TRUE(at.ok());
  EXPECT_FALSE(at->has_value());
}

TEST_F(SegmentReadTest, ReadAtTheEndIsEmptyAndLaterAppendsAreFound) {
  append(3);
  auto all = read(0, 1 << 20);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(read(3, 1 << 20).empty());
  append(4);
  auto next = read(3, 1 << 20);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].base_offset, 3);
}

}  // namespace
}  // namespace gregor::storage
