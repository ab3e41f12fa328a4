// Client-side framing: request header v1/v2 bytes, response header v0/v1 split, size bounds;
// and the parsing of bootstrap server lists.
#include "tools/gregorctl/frame.h"

#include <gtest/gtest.h>

#include "tools/gregorctl/blocking_socket.h"

namespace gregor::tools {
namespace {

TEST(Frame, RequestHeaderV1) {
  RequestHeader h{3, 1, 7, "ab", 1};
  std::string f = encode_request_frame(h, "BODY");
  std::string expect(
      "\x00\x00\x00\x10"  // size 16
      "\x00\x03\x00\x01"  // api key 3, version 1
      "\x00\x00\x00\x07"  // correlation id
      "\x00\x02"
      "ab"
      "BODY",
      20);
  EXPECT_EQ(f, expect);
}

TEST(Frame, RequestHeaderV2AddsTaggedFieldsButKeepsClassicClientId) {
  RequestHeader h{19, 5, 1, "c", 2};
  std::string f = encode_request_frame(h, "");
  std::string expect(
      "\x00\x00\x00\x0c\x00\x13\x00\x05\x00\x00\x00\x01\x00\x01"
      "c\x00",
      16);
  EXPECT_EQ(f, expect);
}

TEST(Frame, ResponseHeaders) {
  std::string v0("\x00\x00\x00\x09xyz", 7);
  auto r0 = decode_response_frame(v0, 0);
  ASSERT_TRUE(r0.ok());
  EXPECT_EQ(r0->correlation_id, 9);
  EXPECT_EQ(r0->body, "xyz");

  // v1: one tagged field (tag 5, 2 bytes) that must be skipped.
  std::string v1("\x00\x00\x00\x0a\x01\x05\x02QQxyz", 12);
  auto r1 = decode_response_frame(v1, 1);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->correlation_id, 10);
  EXPECT_EQ(r1->body, "xyz");

  EXPECT_FALSE(decode_response_frame(std::string("\x00\x01", 2), 0).ok());
  EXPECT_FALSE(decode_response_frame(std::string("\x00\x00\x00\x01\x03\x01", 6), 1).ok());
}

TEST(Frame, SizeBounds) {
  EXPECT_EQ(*decode_frame_size(std::string("\x00\x00\x01\x00", 4), 1024), 256);
  EXPECT_FALSE(decode_frame_size(std::string("\x00\x00\x04\x01", 4), 1024).ok());
  EXPECT_FALSE(decode_frame_size(std::string("\xff\xff\xff\xff", 4), 1024).ok());
  EXPECT_FALSE(decode_frame_size(std::string("\x00\x00\x00\x02", 4), 1024).ok());
  // "HTTP" read as a size: someone pointed us at a web server.
  EXPECT_FALSE(decode_frame_size("HTTP", 100 << 20).ok());
}

TEST(BootstrapServers, Parse) {
  auto one = parse_bootstrap_servers("localhost:9092");
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].host, "localhost");
  EXPECT_EQ((*one)[0].port, 9092);

  auto many = parse_bootstrap_servers(" a:1, [::1]:2 ,,b.example:65535");
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 3u);
  EXPECT_EQ((*many)[1].host, "::1");
  EXPECT_EQ((*many)[1].to_string(), "[::1]:2");
  EXPECT_EQ((*many)[2].port, 65535);

  for (const char* bad :
       {"", "host", "host:", ":9092", "h:0", "h:65536", "h:9x", "::1:9092", "[::1]9092", ","}) {
    EXPECT_FALSE(parse_bootstrap_servers(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace gregor::tools
