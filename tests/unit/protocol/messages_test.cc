// Round-trip and truncation tests for every generated message codec in every version it has,
// driven by the generated test_fill.h so that a new schema is covered without new test code.
#include <concepts>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

#include <gtest/gtest.h>

#include "protocol/messages/api_table.h"
#include "protocol/messages/api_versions_request.h"
#include "protocol/messages/test_fill.h"

namespace gregor::protocol::msg {
namespace {

template <typename T>
std::string encode(const T& m, int16_t version) {
  OutputBuffer out;
  Writer w(out);
  m.encode(w, version);
  return out.flatten();
}

template <typename T>
void check_round_trip(int16_t version, int seed) {
  T original;
  testing::fill(original, version, seed);
  const std::string bytes = encode(original, version);

  T decoded;
  Reader r(bytes);
  decoded.decode(r, version);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(encode(decoded, version), bytes);
  if constexpr (std::equality_comparable<T>) {
    EXPECT_TRUE(decoded == original);
  }

  // Every strict prefix must fail cleanly. The prefix is copied into an exact-size heap block so
  // that AddressSanitizer catches any read past it.
  for (size_t len = 0; len < bytes.size(); ++len) {
    std::vector<char> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
    Reader pr(prefix.data(), prefix.size());
    T partial;
    partial.decode(pr, version);
    EXPECT_FALSE(pr.ok()) << "prefix of " << len << " of " << bytes.size() << " bytes decoded";
  }
}

TEST(MessagesTest, EveryMessageRoundTripsInEveryVersion) {
  int messages = 0;
  testing::for_each_message([&](auto proto) {
    using T = decltype(proto);
    ++messages;
    for (int16_t v = T::kMinVersion; v <= T::kMaxVersion; ++v) {
      for (int seed = 0; seed < 3; ++seed) {
        SCOPED_TRACE(std::string(typeid(T).name()) + " v" + std::to_string(v) + " seed " +
                     std::to_string(seed));
        check_round_trip<T>(v, seed);
      }
    }
  });
  EXPECT_GE(messages, 20);
}

// Corrupts single bytes of valid encodings: decoding must never crash or read out of bounds (ASan),
// and whatever decodes cleanly must encode again.
TEST(MessagesTest, CorruptedInputNeverCrashes) {
  std::mt19937 rng(20261125);  // fixed seed: a failure replays exactly
  testing::for_each_message([&](auto proto) {
    using T = decltype(proto);
    for (int16_t v = T::kMinVersion; v <= T::kMaxVersion; ++v) {
      T original;
      testing::fill(original, v, 1);
      const std::string bytes = encode(original, v);
      for (int round = 0; round < 50 && !bytes.empty(); ++round) {
        std::vector<char> corrupt(bytes.begin(), bytes.end());
        const size_t at = rng() % corrupt.size();
        corrupt[at] = static_cast<char>(rng());
        Reader r(corrupt.data(), corrupt.size());
        T decoded;
        decoded.decode(r, v);
        if (r.ok()) encode(decoded, v);
      }
    }
  });
}

TEST(MessagesTest, UnknownTaggedFieldsAreSkipped) {
  // ApiVersionsRequest v3: two compact strings, then one unknown tag (7) carrying 2 bytes.
  const std::string body(
      "\x02"
      "a"
      "\x02"
      "b"
      "\x01"
      "\x07"
      "\x02"
      "xy",
      9);
  ApiVersionsRequest m;
  Reader r(body);
  m.decode(r, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(m.client_software_name, "a");
  EXPECT_EQ(m.client_software_version, "b");
}

TEST(MessagesTest, TaggedFieldLengthPastEndFails) {
  const std::string body(
      "\x02"
      "a"
      "\x02"
      "b"
      "\x01"
      "\x07"
      "\x05"
      "xy",
      9);
  ApiVersionsRequest m;
  Reader r(body);
  m.decode(r, 3);
  EXPECT_FALSE(r.ok());
}

TEST(MessagesTest, LyingArrayCountFailsWithoutAllocating) {
  // MetadataRequest v1 claiming two billion topics in a 4-byte body.
  const std::string body("\x7f\xff\xff\xff", 4);
  MetadataRequest m;
  Reader r(body);
  m.decode(r, 1);
  EXPECT_FALSE(r.ok());
}

TEST(ApiTableTest, HeaderVersions) {
  EXPECT_EQ(request_header_version(0, 8), 1);  // Produce v8: classic
  EXPECT_EQ(request_header_version(0, 9), 2);  // Produce v9: flexible
  EXPECT_EQ(response_header_version(0, 8), 0);
  EXPECT_EQ(response_header_version(0, 9), 1);
  EXPECT_EQ(request_header_version(18, 3), 2);   // ApiVersions v3 request is flexible...
  EXPECT_EQ(response_header_version(18, 3), 0);  // ...but its response header never is.
  EXPECT_EQ(request_header_version(1, 11), 1);
  EXPECT_EQ(request_header_version(1, 12), 2);
  EXPECT_EQ(request_header_version(999, 0), 1);
  EXPECT_EQ(response_header_version(999, 0), 0);
}

TEST(ApiTableTest, NamesAndRanges) {
  EXPECT_EQ(api_name(0), "Produce");
  EXPECT_EQ(api_name(18), "ApiVersions");
  EXPECT_EQ(api_name(19), "CreateTopics");
  EXPECT_EQ(api_name(-1), "");
  const ApiSchemaInfo* fetch = find_api_schema(1);
  ASSERT_NE(fetch, nullptr);
  EXPECT_EQ(fetch->min_version, 0);
  EXPECT_EQ(fetch->max_version, 12);
  EXPECT_EQ(fetch->first_flexible_version, 12);
  int16_t previous = -1;
  for (const ApiSchemaInfo& api : api_schemas()) {
    EXPECT_GT(api.api_key, previous);
    previous = api.api_key;
  }
}

}  // namespace
}  // namespace gregor::protocol::msg
