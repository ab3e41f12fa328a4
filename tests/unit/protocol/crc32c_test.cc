// Tests for CRC-32C: published check values and agreement of the hardware and table paths.
#include "protocol/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace gregor::protocol {
namespace {

TEST(Crc32c, CheckValue) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(internal::crc32c_portable("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
}

// RFC 3720 appendix B.4 test vectors.
TEST(Crc32c, Rfc3720Vectors) {
  std::vector<uint8_t> buf(32, 0);
  EXPECT_EQ(crc32c(buf.data(), buf.size()), 0x8A9136AAu);
  std::fill(buf.begin(), buf.end(), 0xff);
  EXPECT_EQ(crc32c(buf.data(), buf.size()), 0x62A8AB43u);
  for (size_t i = 0; i < 32; ++i) buf[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c(buf.data(), buf.size()), 0x46DD794Eu);
  for (size_t i = 0; i < 32; ++i) buf[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(crc32c(buf.data(), buf.size()), 0x113FDB5Cu);
  const uint8_t iscsi_read[48] = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                  0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(crc32c(iscsi_read, sizeof(iscsi_read)), 0xD9963A56u);
  EXPECT_EQ(internal::crc32c_portable(iscsi_read, sizeof(iscsi_read)), 0xD9963A56u);
}

TEST(Crc32c, ExtendsInPieces) {
  const std::string s = "The quick brown fox jumps over the lazy dog, twice over.";
  uint32_t whole = crc32c(s.data(), s.size());
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    uint32_t c = crc32c(s.data(), cut);
    EXPECT_EQ(crc32c(s.data() + cut, s.size() - cut, c), whole) << cut;
  }
}

TEST(Crc32c, HardwareMatchesPortable) {
  std::mt19937 rng(7);
  // Long enough for the three-chain blocks of both sizes, with every kind of remainder.
  std::vector<uint8_t> buf(3 * 2048 * 2 + 3 * 128 + 100 + 16);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 9; ++offset) {
    for (size_t len = 0; len < 300; ++len) {
      ASSERT_EQ(crc32c(buf.data() + offset, len),
                internal::crc32c_portable(buf.data() + offset, len))
          << offset << " " << len;
    }
    for (size_t len : {383u, 384u, 385u, 6143u, 6144u, 6145u, 6144u + 384u + 7u}) {
      ASSERT_EQ(crc32c(buf.data() + offset, len),
                internal::crc32c_portable(buf.data() + offset, len))
          << offset << " " << len;
    }
    size_t len = buf.size() - 16;
    ASSERT_EQ(crc32c(buf.data() + offset, len),
              internal::crc32c_portable(buf.data() + offset, len));
    uint32_t first = crc32c(buf.data() + offset, 1000);
    ASSERT_EQ(crc32c(buf.data() + offset + 1000, len - 1000, first),
              internal::crc32c_portable(buf.data() + offset, len));
  }
  if (!internal::crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2: only the table path ran";
}

}  // namespace
}  // namespace gregor::protocol
