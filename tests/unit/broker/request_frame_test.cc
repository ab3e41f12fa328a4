#include "broker/request_frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace gregor::broker {
namespace {

TEST(RequestFrame, GrowingInStepsKeepsTheBytesReadSoFar) {
  const size_t total = 10 * 1000 + 7;
  RequestFrame f;
  while (f.size() < total) {
    size_t at = f.size();
    size_t step = std::min<size_t>(1000, total - at);
    f.resize(at + step, total);
    for (size_t i = 0; i < step; ++i) f.data()[at + i] = static_cast<char>('a' + (at + i) % 26);
  }
  for (size_t i = 0; i < total; ++i) ASSERT_EQ(f.view()[i], static_cast<char>('a' + i % 26)) << i;
  EXPECT_EQ(f.span().size(), total);
  EXPECT_EQ(f.span().data(), f.data());
}

TEST(RequestFrame, ShrinkingKeepsTheFront) {
  RequestFrame f;
  f.resize(4, 4);
  std::memcpy(f.data(), "abcd", 4);
  f.resize(2, 4);
  EXPECT_EQ(f.view(), "ab");
}

TEST(RequestFrame, EmptyByDefault) {
  RequestFrame f;
  EXPECT_EQ(f.size(), 0u);
  EXPECT_TRUE(f.view().empty());
}

}  // namespace
}  // namespace gregor::broker
