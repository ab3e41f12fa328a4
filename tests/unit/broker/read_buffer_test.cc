// broker::ReadBuffer: bytes survive compaction, and room() is what is left after them.
#include "broker/read_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace gregor::broker {
namespace {

void put(ReadBuffer& b, std::string_view s) {
  std::span<char> room = b.room();
  ASSERT_GE(room.size(), s.size());
  std::memcpy(room.data(), s.data(), s.size());
  b.commit(s.size());
}

TEST(ReadBufferTest, ConsumedBytesMakeRoomAndTheRestMovesToTheFront) {
  ReadBuffer b(8);
  EXPECT_EQ(b.room().size(), 8u);
  put(b, "abcdef");
  EXPECT_EQ(b.data(), "abcdef");
  EXPECT_EQ(b.room().size(), 2u);
  b.consume(4);
  EXPECT_EQ(b.data(), "ef");
  // The two unparsed bytes go to the front; six bytes of room follow them.
  EXPECT_EQ(b.room().size(), 6u);
  EXPECT_EQ(b.data(), "ef");
  put(b, "ghijkl");
  EXPECT_EQ(b.data(), "efghijkl");
  EXPECT_TRUE(b.room().empty());
  b.consume(8);
  EXPECT_TRUE(b.data().empty());
  EXPECT_EQ(b.room().size(), 8u);
}

TEST(ReadBufferTest, FramesSplitAcrossReadsComeOutWhole) {
  // Three 5-byte "frames" arriving in reads of 3 bytes, parsed as soon as each is complete.
  const std::string stream = "aaaaabbbbbccccc";
  ReadBuffer b(8);
  std::string parsed;
  for (size_t at = 0; at < stream.size(); at += 3) {
    put(b, stream.substr(at, 3));
    while (b.data().size() >= 5) {
      parsed += std::string(b.data().substr(0, 5)) + "|";
      b.consume(5);
    }
  }
  EXPECT_EQ(parsed, "aaaaa|bbbbb|ccccc|");
  EXPECT_TRUE(b.data().empty());
}

}  // namespace
}  // namespace gregor::broker
