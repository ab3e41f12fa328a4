// Tests for the compression codecs: round trips, the framings clients write (xerial snappy,
// concatenated gzip members, zstd frames without a content size), corrupt input and bombs.
#include "protocol/compression.h"

#include <gtest/gtest.h>
#include <snappy.h>
#include <zstd.h>

#include <random>
#include <string>

namespace gregor::protocol {
namespace {

constexpr size_t kMax = 64 << 20;

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string compressible(size_t n) {
  std::string s;
  s.reserve(n);
  for (size_t i = 0; s.size() < n; ++i) s += "record-" + std::to_string(i % 1000) + ";";
  s.resize(n);
  return s;
}

class Codec : public testing::TestWithParam<Compression> {};

TEST_P(Codec, RoundTrips) {
  for (const std::string& in :
       {std::string(), std::string("a"), std::string("hello, kafka"), random_bytes(1 << 20, 3),
        compressible(1 << 20), std::string(3 << 20, '\0')}) {
    absl::StatusOr<std::string> z = compress(GetParam(), in);
    ASSERT_TRUE(z.ok()) << z.status();
    absl::StatusOr<std::string> out = decompress(GetParam(), *z, kMax);
    ASSERT_TRUE(out.ok()) << out.status() << " size " << in.size();
    EXPECT_TRUE(*out == in) << "size " << in.size();
    // The exact size is allowed; one byte less is not (except for empty input).
    absl::StatusOr<std::string> exact = decompress(GetParam(), *z, in.size());
    EXPECT_TRUE(exact.ok()) << exact.status();
    if (!in.empty()) {
      EXPECT_EQ(decompress(GetParam(), *z, in.size() - 1).status().code(),
                absl::StatusCode::kResourceExhausted);
    }
  }
}

TEST_P(Codec, BombIsRefused) {
  absl::StatusOr<std::string> z = compress(GetParam(), std::string(32 << 20, 'z'));
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(decompress(GetParam(), *z, 1 << 20).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_P(Codec, CorruptInputIsAnError) {
  if (GetParam() == Compression::kNone) GTEST_SKIP();
  std::string in = compressible(200000);
  absl::StatusOr<std::string> z = compress(GetParam(), in);
  ASSERT_TRUE(z.ok());
  for (size_t cut : {size_t{0}, size_t{1}, size_t{5}, z->size() / 2, z->size() - 1}) {
    EXPECT_FALSE(decompress(GetParam(), z->substr(0, cut), kMax).ok()) << cut;
  }
  EXPECT_FALSE(decompress(GetParam(), random_bytes(5000, 9), kMax).ok());
  // Flipped bytes: snappy has no checksum so it may "succeed" with other data, but nothing
  // may crash or exceed the limit.
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    std::string bad = *z;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    absl::StatusOr<std::string> out = decompress(GetParam(), bad, 1 << 20);
    if (out.ok()) {
      EXPECT_LE(out->size(), size_t{1} << 20);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, Codec,
                         testing::Values(Compression::kNone, Compression::kGzip,
                                         Compression::kSnappy, Compression::kLz4,
                                         Compression::kZstd));

TEST(Compression, FramingMagics) {
  auto head = [](Compression c) { return compress(c, "abc")->substr(0, 4); };
  EXPECT_EQ(head(Compression::kGzip).substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(head(Compression::kLz4), "\x04\x22\x4d\x18");
  EXPECT_EQ(head(Compression::kZstd), "\x28\xb5\x2f\xfd");
}

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (24 - 8 * i));
  return s;
}

TEST(Compression, XerialSnappyFraming) {
  std::string a, b;
  snappy::Compress("hello ", 6, &a);
  snappy::Compress("world", 5, &b);
  std::string frame("\x82SNAPPY\x00", 8);
  frame += be32(1) + be32(1);  // version, minimum compatible version
  frame += be32(static_cast<uint32_t>(a.size())) + a;
  frame += be32(static_cast<uint32_t>(b.size())) + b;
  absl::StatusOr<std::string> out = decompress(Compression::kSnappy, frame, kMax);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "hello world");
  EXPECT_EQ(decompress(Compression::kSnappy, frame, 10).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(decompress(Compression::kSnappy, frame.substr(0, frame.size() - 2), kMax).ok());
  EXPECT_FALSE(decompress(Compression::kSnappy, frame.substr(0, 18), kMax).ok());
  std::string lying = frame.substr(0, 16) + be32(1000) + a;
  EXPECT_FALSE(decompress(Compression::kSnappy, lying, kMax).ok());
  // Header only: zero blocks, empty output.
  absl::StatusOr<std::string> empty = decompress(Compression::kSnappy, frame.substr(0, 16), kMax);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(Compression, ConcatenatedGzipMembers) {
  std::string z = *compress(Compression::kGzip, "first,") + *compress(Compression::kGzip, "second");
  absl::StatusOr<std::string> out = decompress(Compression::kGzip, z, kMax);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "first,second");
}

TEST(Compression, ZstdFrameWithoutContentSize) {
  std::string in = compressible(300000);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::string z(ZSTD_compressBound(in.size()), '\0');
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  ZSTD_outBuffer ob{z.data(), z.size(), 0};
  size_t rc = ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_end);
  ZSTD_freeCCtx(cctx);
  ASSERT_EQ(rc, 0u);
  z.resize(ob.pos);
  ASSERT_EQ(ZSTD_getFrameContentSize(z.data(), z.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  absl::StatusOr<std::string> out = decompress(Compression::kZstd, z, kMax);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(*out == in);
  EXPECT_EQ(decompress(Compression::kZstd, z, 1000).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(Compression, UnknownCodec) {
  EXPECT_EQ(compress(static_cast<Compression>(6), "x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(decompress(static_cast<Compression>(6), "x", kMax).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gregor::protocol
