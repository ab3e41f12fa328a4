// Rendering of the group verbs' results: aligned tables for people, JSON for scripts.
// The JSON shapes are a contract with scripts and tests; they are documented in tools/README.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tools/gregorctl/group_admin.h"
#include "tools/gregorctl/group_model.h"
#include "tools/gregorctl/output.h"

namespace gregor::tools {

// One line of `group describe`: a partition the group is assigned or has an offset for, or a
// member that owns no partitions (partition unset).
struct GroupOffsetRow {
  std::optional<TopicPartition> partition;
  std::optional<int64_t> committed;      // unset: nothing committed
  std::optional<int64_t> log_end;        // unset: unknown (error_code says why, when known)
  std::optional<std::string> member_id;  // unset: no member owns it
  std::string client_id;
  std::string host;
  int16_t error_code = 0;  // from OffsetFetch or ListOffsets for this partition

  std::optional<int64_t> lag() const {
    if (!committed || !log_end) return std::nullopt;
    return *log_end - *committed;
  }
};

// Joins the members' assignments with the committed offsets and log end offsets. Partition
// rows come sorted by topic and partition, member-only rows after them in member order.
std::vector<GroupOffsetRow> build_offset_rows(
    const GroupDescription& group, const GroupOffsets& committed,
    const std::map<TopicPartition, OffsetLookup>& log_end);

struct DescribedGroup {
  GroupDescription description;
  Coordinator coordinator;
  std::vector<GroupOffsetRow> rows;
};

std::string render_group_list(const std::vector<GroupListing>& groups, OutputFormat format);
std::string render_group_describe(const std::vector<DescribedGroup>& groups, OutputFormat format);
// Successful deletions print "Deleted group g."; failures are left to the caller's stderr in
// table form and listed with their error in JSON.
std::string render_group_delete(const std::vector<GroupResult>& results, OutputFormat format);

struct ResetLine {
  TopicPartition partition;
  int64_t new_offset = 0;
  int16_t error_code = 0;  // from OffsetCommit (only with --execute)
};
// The plan (dry run) or what was committed (executed); JSON says which.
std::string render_reset(const std::string& group, const std::vector<ResetLine>& lines,
                         bool executed, OutputFormat format);

}  // namespace gregor::tools
