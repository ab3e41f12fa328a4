// Joining members, committed offsets and log end offsets into describe rows, and the group
// tables and JSON for empty and error cases.
#include "tools/gregorctl/group_output.h"

#include <gtest/gtest.h>

namespace gregor::tools {
namespace {

TEST(GroupOutput, RowsJoinOwnersOffsetsAndErrors) {
  GroupDescription d;
  d.members = {{"m1", std::nullopt, "c1", "/h1", {"t"}, {{"t", {1, 0}}}},
               {"m2", std::nullopt, "c2", "/h2", {"t"}, {}}};
  GroupOffsets committed;
  committed.offsets[{"t", 0}] = CommittedOffset{12, "", 0};  // past the log end: negative lag
  committed.offsets[{"a", 3}] = CommittedOffset{-1, std::nullopt, 0};
  committed.offsets[{"t", 1}] = CommittedOffset{-1, std::nullopt, 3};
  std::map<TopicPartition, OffsetLookup> log_end;
  log_end[{"t", 0}] = {0, 10};
  log_end[{"t", 1}] = {6, -1};
  auto rows = build_offset_rows(d, committed, log_end);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].partition, (TopicPartition{"a", 3}));
  EXPECT_FALSE(rows[0].committed.has_value());
  EXPECT_FALSE(rows[0].member_id.has_value());
  EXPECT_EQ(rows[1].partition, (TopicPartition{"t", 0}));
  EXPECT_EQ(rows[1].lag(), -2);
  EXPECT_EQ(rows[1].member_id, "m1");
  EXPECT_EQ(rows[2].error_code, 3);  // OffsetFetch's error wins over ListOffsets'
  EXPECT_FALSE(rows[2].log_end.has_value());
  EXPECT_FALSE(rows[3].partition.has_value());
  EXPECT_EQ(rows[3].member_id, "m2");
}

TEST(GroupOutput, EmptyResults) {
  EXPECT_EQ(render_group_list({}, OutputFormat::kTable), "GROUP  PROTOCOL-TYPE  STATE\n");
  EXPECT_EQ(render_group_list({}, OutputFormat::kJson), "{\"groups\":[]}\n");
  EXPECT_EQ(render_group_describe({}, OutputFormat::kJson), "{\"groups\":[]}\n");
  EXPECT_EQ(render_group_delete({}, OutputFormat::kTable), "");
  EXPECT_EQ(render_reset("g", {}, false, OutputFormat::kJson),
            "{\"group_id\":\"g\",\"executed\":false,\"partitions\":[]}\n");
}

TEST(GroupOutput, ResetShowsCommitErrors) {
  std::vector<ResetLine> lines = {{{"t", 0}, 5, 0}, {{"t", 1}, 6, 25}};
  EXPECT_EQ(render_reset("g", lines, true, OutputFormat::kTable),
            "GROUP  TOPIC  PARTITION  NEW-OFFSET  ERROR\n"
            "g      t      0          5\n"
            "g      t      1          6           UNKNOWN_MEMBER_ID\n");
  EXPECT_NE(render_reset("g", lines, true, OutputFormat::kJson)
                .find("\"new_offset\":6,\"error\":\"UNKNOWN_MEMBER_ID\""),
            std::string::npos);
}

TEST(GroupOutput, JsonEscapesIds) {
  GroupListing g{"a\"b", "", std::nullopt};
  EXPECT_EQ(render_group_list({g}, OutputFormat::kJson),
            "{\"groups\":[{\"group_id\":\"a\\\"b\",\"protocol_type\":\"\",\"state\":null}]}\n");
  EXPECT_EQ(render_group_list({g}, OutputFormat::kTable),
            "GROUP  PROTOCOL-TYPE  STATE\na\"b    -              -\n");
}

}  // namespace
}  // namespace gregor::tools
