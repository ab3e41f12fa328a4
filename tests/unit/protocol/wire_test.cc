// Primitive encodings: fixed ints, varints (zig-zag and unsigned), strings, bytes, arrays,
// UUIDs, tagged fields, and the reader's behaviour on truncated or lying input.
#include "protocol/wire.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>

namespace gregor::protocol {
namespace {

std::string encode(const std::function<void(Writer&)>& f) {
  OutputBuffer out;
  Writer w(out);
  f(w);
  return out.flatten();
}

TEST(Wire, FixedIntsAreBigEndian) {
  std::string b = encode([](Writer& w) {
    w.int16(0x0102);
    w.int32(0x03040506);
    w.int64(-2);
  });
  ASSERT_EQ(b.size(), 14u);
  EXPECT_EQ(b.substr(0, 6), std::string("\x01\x02\x03\x04\x05\x06", 6));
  Reader r(b);
  EXPECT_EQ(r.int16(), 0x0102);
  EXPECT_EQ(r.int32(), 0x03040506);
  EXPECT_EQ(r.int64(), -2);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Wire, VarintsMatchProtobufZigZag) {
  // Known encodings: 0 -> 00, -1 -> 01, 1 -> 02, 63 -> 7e, -64 -> 7f, 64 -> 80 01, 300 -> d8 04.
  struct Case {
    int64_t v;
    std::string bytes;
  } cases[] = {{0, "\x00"},   {-1, "\x01"},     {1, "\x02"},      {63, "\x7e"},
               {-64, "\x7f"}, {64, "\x80\x01"}, {300, "\xd8\x04"}};
  for (const Case& c : cases) {
    std::string expect = c.v == 0 ? std::string(1, '\0') : c.bytes;
    EXPECT_EQ(encode([&](Writer& w) { w.varint(static_cast<int32_t>(c.v)); }), expect) << c.v;
    EXPECT_EQ(encode([&](Writer& w) { w.varlong(c.v); }), expect) << c.v;
  }
  for (int64_t v : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                    int64_t{-123456789012}, int64_t{0}}) {
    std::string b = encode([&](Writer& w) { w.varlong(v); });
    Reader r(b);
    EXPECT_EQ(r.varlong(), v);
    EXPECT_TRUE(r.ok());
  }
  for (int32_t v : {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}) {
    std::string b = encode([&](Writer& w) { w.varint(v); });
    Reader r(b);
    EXPECT_EQ(r.varint(), v);
  }
}

TEST(Wire, UnsignedVarint) {
  EXPECT_EQ(encode([](Writer& w) { w.uvarint(127); }), "\x7f");
  EXPECT_EQ(encode([](Writer& w) { w.uvarint(128); }), std::string("\x80\x01", 2));
  std::string b = encode([](Writer& w) { w.uvarint(UINT32_MAX); });
  Reader r(b);
  EXPECT_EQ(r.uvarint(), UINT32_MAX);
  EXPECT_TRUE(r.ok());
}

TEST(Wire, UnterminatedVarintFails) {
  std::string b("\x80\x80\x80", 3);
  Reader r(b);
  r.uvarint();
  EXPECT_FALSE(r.ok());
}

TEST(Wire, ClassicAndCompactStrings) {
  std::string b = encode([](Writer& w) {
    w.string("abc", false);
    w.string("abc", true);
    w.nullable_string(std::nullopt, false);
    w.nullable_string(std::nullopt, true);
  });
  EXPECT_EQ(b, std::string("\x00\x03"
                           "abc"
                           "\x04"
                           "abc"
                           "\xff\xff"
                           "\x00",
                           12));
  Reader r(b);
  EXPECT_EQ(r.string(false), "abc");
  EXPECT_EQ(r.string(true), "abc");
  EXPECT_EQ(r.nullable_string(false), std::nullopt);
  EXPECT_EQ(r.nullable_string(true), std::nullopt);
  EXPECT_TRUE(r.ok());
}

TEST(Wire, BytesAndNullBytes) {
  std::string b = encode([](Writer& w) {
    w.bytes(std::string("\x00\x01", 2), false);
    w.nullable_bytes(std::nullopt, false);
    w.bytes("x", true);
  });
  Reader r(b);
  EXPECT_EQ(r.bytes(false), std::string("\x00\x01", 2));
  EXPECT_EQ(r.nullable_bytes(false), std::nullopt);
  EXPECT_EQ(r.bytes(true), "x");
  EXPECT_TRUE(r.ok());
}

TEST(Wire, NullForNonNullableStringFails) {
  std::string b("\xff\xff", 2);
  Reader r(b);
  r.string(false);
  EXPECT_FALSE(r.ok());
}

TEST(Wire, LyingLengthsFailWithoutReadingPastTheEnd) {
  std::string b(
      "\x00\x10"
      "ab",
      4);  // claims 16 bytes, has 2
  Reader r(b);
  r.string(false);
  EXPECT_FALSE(r.ok());
  std::string arr("\x7f\xff\xff\xff", 4);  // 2^31-1 elements in zero bytes
  Reader ra(arr);
  ra.array_length(false);
  EXPECT_FALSE(ra.ok());
  std::string neg("\xff\xff\xff\xfe", 4);
  Reader rn(neg);
  rn.nullable_bytes(false);
  EXPECT_FALSE(rn.ok());
}

TEST(Wire, ArraysClassicAndCompact) {
  std::string b = encode([](Writer& w) {
    w.array_length(2, false);
    w.int8(1);
    w.int8(2);
    w.array_length(-1, true);
    w.array_length(1, true);
    w.int8(3);
  });
  Reader r(b);
  EXPECT_EQ(r.array_length(false), 2);
  r.int8();
  r.int8();
  EXPECT_EQ(r.array_length(true), -1);
  EXPECT_EQ(r.array_length(true), 1);
  EXPECT_EQ(r.int8(), 3);
  EXPECT_TRUE(r.ok());
}

TEST(Wire, UuidAndTaggedFieldsAreSkipped) {
  Uuid u{};
  for (size_t i = 0; i < u.size(); ++i) u[i] = static_cast<uint8_t>(i);
  std::string b = encode([&](Writer& w) {
    w.uuid(u);
    w.uvarint(2);  // two tagged fields
    w.uvarint(0);
    w.uvarint(3);
    w.raw("abc");
    w.uvarint(5);
    w.uvarint(0);
    w.int32(42);
  });
  Reader r(b);
  EXPECT_EQ(r.uuid(), u);
  r.skip_tagged_fields();
  EXPECT_EQ(r.int32(), 42);
  EXPECT_TRUE(r.ok());
}

TEST(Wire, ReadingPastTheEndIsSticky) {
  std::string b("\x01", 1);
  Reader r(b);
  EXPECT_EQ(r.int32(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.int8(), 0);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace gregor::protocol
