// The wording of group and partition errors and which of them are worth asking again.
#include "tools/gregorctl/group_errors.h"

#include <gtest/gtest.h>

namespace gregor::tools {
namespace {

TEST(GroupErrors, Phrases) {
  EXPECT_EQ(describe_group_error("g", 68), "group 'g' is not empty (NON_EMPTY_GROUP)");
  EXPECT_EQ(describe_group_error("g", 69), "group 'g' does not exist (GROUP_ID_NOT_FOUND)");
  EXPECT_EQ(describe_group_error("", 24), "invalid group id '' (INVALID_GROUP_ID)");
  EXPECT_EQ(describe_group_error("g", 30),
            "not authorized to access group 'g' (GROUP_AUTHORIZATION_FAILED)");
  EXPECT_EQ(describe_group_error("g", 25), "group 'g' has active members (UNKNOWN_MEMBER_ID)");
  EXPECT_EQ(describe_group_error("g", 999), "group 'g' (UNKNOWN_ERROR_999)");
  EXPECT_EQ(describe_partition_error("t", 2, 3),
            "partition 't-2' does not exist (UNKNOWN_TOPIC_OR_PARTITION)");
  EXPECT_EQ(describe_partition_error("t", 0, 6),
            "partition 't-0' has no leader right now (NOT_LEADER_OR_FOLLOWER)");
}

TEST(GroupErrors, Retriable) {
  EXPECT_TRUE(is_retriable_group_error(14));
  EXPECT_TRUE(is_retriable_group_error(15));
  EXPECT_TRUE(is_retriable_group_error(16));
  EXPECT_FALSE(is_retriable_group_error(68));
  EXPECT_FALSE(is_retriable_group_error(0));
}

}  // namespace
}  // namespace gregor::tools
