// Tests for the .txnindex: Kafka's 34-byte entries on disk, lazy creation, collect's overlap
// and completion rules, and corruption detection.
#include "storage/txn_index.h"

#include <gtest/gtest.h>

#include <fstream>

#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using testing::TempDir;

std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(TxnIndexTest, EntriesAreKafkasLayout) {
  TempDir dir;
  auto path = dir.path() / "00000000000000000000.txnindex";
  auto index = TxnIndex::open(path);
  ASSERT_TRUE(index.ok());
  EXPECT_FALSE(std::filesystem::exists(path));  // created on the first entry
  ASSERT_TRUE((*index)->append({0x0102030405060708, 5, 9, 10}).ok());
  std::string bytes = file_bytes(path);
  ASSERT_EQ(bytes.size(), 34u);
  const std::string expected(
      "\0\0"
      "\x01\x02\x03\x04\x05\x06\x07\x08"
      "\0\0\0\0\0\0\0\x05"
      "\0\0\0\0\0\0\0\x09"
      "\0\0\0\0\0\0\0\x0a",
      34);
  EXPECT_EQ(bytes, expected);
  ASSERT_TRUE((*index)->append({2, 11, 20, 21}).ok());
  EXPECT_TRUE(absl::IsDataLoss((*index)->append({3, 12, 20, 21})));  // not after the last
  ASSERT_TRUE((*index)->flush().ok());
  auto reopened = TxnIndex::open(path);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->entries(), (*index)->entries());
  ASSERT_TRUE((*reopened)->reset().ok());
  EXPECT_TRUE((*reopened)->entries().empty());
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(TxnIndexTest, CollectReturnsOverlapsAndStopsAtTheUpperBound) {
  TempDir dir;
  auto index = TxnIndex::open(dir.path() / "x.txnindex");
  ASSERT_TRUE(index.ok());
  // Producer 2's transaction was still open when producer 1's abort was written: LSO 5.
  ASSERT_TRUE((*index)->append({1, 0, 10, 5}).ok());
  ASSERT_TRUE((*index)->append({2, 5, 30, 31}).ok());
  ASSERT_TRUE((*index)->append({3, 40, 50, 51}).ok());
  std::vector<AbortedTxnEntry> out;
  // [12, 35): only producer 2's range overlaps; entry 3's LSO 51 ends the search.
  EXPECT_TRUE((*index)->collect(12, 35, &out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].producer_id, 2);
  out.clear();
  // [0, 6): both started before 6; entry 1's LSO 5 does not end the search, entry 2's does.
  EXPECT_TRUE((*index)->collect(0, 6, &out));
  ASSERT_EQ(out.size(), 2u);
  out.clear();
  // Past every entry: incomplete, a later segment may hold more.
  EXPECT_FALSE((*index)->collect(51, 60, &out));
  EXPECT_TRUE(out.empty());
}

TEST(TxnIndexTest, CorruptFilesAreDataLoss) {
  TempDir dir;
  auto path = dir.path() / "y.txnindex";
  ASSERT_TRUE(TxnIndex::write_file(path, {{1, 0, 10, 11}, {2, 3, 12, 13}}).ok());
  EXPECT_TRUE(TxnIndex::open(path).ok());
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << "x";
  }
  EXPECT_TRUE(absl::IsDataLoss(TxnIndex::open(path).status()));
  ASSERT_TRUE(TxnIndex::write_file(path, {{1, 0, 10, 11}, {2, 3, 9, 13}}).ok());  // out of order
  EXPECT_TRUE(absl::IsDataLoss(TxnIndex::open(path).status()));
}

}  // namespace
}  // namespace gregor::storage
