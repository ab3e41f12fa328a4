// Table and JSON renderers for group listings, descriptions, deletions and offset resets.
#include "tools/gregorctl/group_output.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/gregorctl/topic_errors.h"

namespace gregor::tools {

namespace {

std::string dash_or(const std::optional<int64_t>& v) {
  return v ? absl::StrCat(*v) : "-";
}

std::string json_number_or_null(const std::optional<int64_t>& v) {
  return v ? absl::StrCat(*v) : "null";
}

std::string json_string_or_null(const std::optional<std::string>& s) {
  return s ? json_quote(*s) : "null";
}

std::string json_error(int16_t code) {
  return code == 0 ? "null" : json_quote(error_name(code));
}

std::string json_strings(const std::vector<std::string>& list) {
  std::vector<std::string> items;
  for (const std::string& s : list) items.push_back(json_quote(s));
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

std::string json_member(const GroupMember& m) {
  std::vector<std::string> assignment;
  for (const TopicPartitions& tp : m.assignment) {
    assignment.push_back(absl::StrCat("{\"topic\":", json_quote(tp.topic), ",\"partitions\":[",
                                      absl::StrJoin(tp.partitions, ","), "]}"));
  }
  return absl::StrCat("{\"member_id\":", json_quote(m.member_id),
                      ",\"group_instance_id\":", json_string_or_null(m.group_instance_id),
                      ",\"client_id\":", json_quote(m.client_id),
                      ",\"host\":", json_quote(m.client_host),
                      ",\"subscription\":", json_strings(m.subscription), ",\"assignment\":[",
                      absl::StrJoin(assignment, ","), "]}");
}

std::string json_offset_row(const GroupOffsetRow& row) {
  return absl::StrCat("{\"topic\":", json_quote(row.partition->topic),
                      ",\"partition\":", row.partition->partition,
                      ",\"committed_offset\":", json_number_or_null(row.committed),
                      ",\"log_end_offset\":", json_number_or_null(row.log_end),
                      ",\"lag\":", json_number_or_null(row.lag()),
                      ",\"member_id\":", json_string_or_null(row.member_id),
                      ",\"client_id\":", row.member_id ? json_quote(row.client_id) : "null",
                      ",\"host\":", row.member_id ? json_quote(row.host) : "null",
                      ",\"error\":", json_error(row.error_code), "}");
}

}  // namespace

std::vector<GroupOffsetRow> build_offset_rows(
    const GroupDescription& group, const GroupOffsets& committed,
    const std::map<TopicPartition, OffsetLookup>& log_end) {
  std::map<TopicPartition, GroupOffsetRow> by_partition;
  std::vector<GroupOffsetRow> idle_members;
  for (const GroupMember& m : group.members) {
    bool owns_any = false;
    for (const TopicPartitions& tps : m.assignment) {
      for (int32_t p : tps.partitions) {
        owns_any = true;
        GroupOffsetRow& row = by_partition[{tps.topic, p}];
        row.member_id = m.member_id;
        row.client_id = m.client_id;
        row.host = m.client_host;
      }
    }
    if (!owns_any) {
      GroupOffsetRow row;
      row.member_id = m.member_id;
      row.client_id = m.client_id;
      row.host = m.client_host;
      idle_members.push_back(std::move(row));
    }
  }
  for (const auto& [tp, c] : committed.offsets) {
    GroupOffsetRow& row = by_partition[tp];
    if (c.error_code != 0) {
      row.error_code = c.error_code;
    } else if (c.offset >= 0) {
      row.committed = c.offset;
    }
  }
  std::vector<GroupOffsetRow> rows;
  for (auto& [tp, row] : by_partition) {
    row.partition = tp;
    auto it = log_end.find(tp);
    if (it != log_end.end()) {
      if (it->second.error_code != 0) {
        if (row.error_code == 0) row.error_code = it->second.error_code;
      } else if (it->second.offset >= 0) {
        row.log_end = it->second.offset;
      }
    }
    rows.push_back(std::move(row));
  }
  for (GroupOffsetRow& row : idle_members) rows.push_back(std::move(row));
  return rows;
}

std::string render_group_list(const std::vector<GroupListing>& groups, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::vector<std::string> items;
    for (const GroupListing& g : groups) {
      items.push_back(absl::StrCat("{\"group_id\":", json_quote(g.group_id),
                                   ",\"protocol_type\":", json_quote(g.protocol_type),
                                   ",\"state\":", json_string_or_null(g.state), "}"));
    }
    return absl::StrCat("{\"groups\":[", absl::StrJoin(items, ","), "]}\n");
  }
  std::vector<std::vector<std::string>> rows;
  for (const GroupListing& g : groups) {
    rows.push_back(
        {g.group_id, g.protocol_type.empty() ? "-" : g.protocol_type, g.state.value_or("-")});
  }
  return format_table({"GROUP", "PROTOCOL-TYPE", "STATE"}, rows);
}

std::string render_group_describe(const std::vector<DescribedGroup>& groups, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::vector<std::string> items;
    for (const DescribedGroup& g : groups) {
      const GroupDescription& d = g.description;
      std::vector<std::string> members;
      for (const GroupMember& m : d.members) members.push_back(json_member(m));
      std::vector<std::string> offsets;
      for (const GroupOffsetRow& row : g.rows) {
        if (row.partition) offsets.push_back(json_offset_row(row));
      }
      items.push_back(absl::StrCat(
          "{\"group_id\":", json_quote(d.group_id), ",\"state\":", json_quote(d.state),
          ",\"protocol_type\":", json_quote(d.protocol_type),
          ",\"protocol\":", json_quote(d.protocol), ",\"member_count\":", d.members.size(),
          ",\"coordinator\":{\"node_id\":", g.coordinator.node_id,
          ",\"host\":", json_quote(g.coordinator.address.host),
          ",\"port\":", g.coordinator.address.port, "},\"members\":[", absl::StrJoin(members, ","),
          "],\"offsets\":[", absl::StrJoin(offsets, ","), "]}"));
    }
    return absl::StrCat("{\"groups\":[", absl::StrJoin(items, ","), "]}\n");
  }
  std::string out;
  for (size_t i = 0; i < groups.size(); ++i) {
    const GroupDescription& d = groups[i].description;
    if (i > 0) out += '\n';
    absl::StrAppend(&out, "Group: ", d.group_id, "  State: ", d.state,
                    "  ProtocolType: ", d.protocol_type.empty() ? "-" : d.protocol_type,
                    "  Protocol: ", d.protocol.empty() ? "-" : d.protocol,
                    "  Members: ", d.members.size(),
                    "  Coordinator: ", groups[i].coordinator.node_id, " (",
                    groups[i].coordinator.address.to_string(), ")\n");
    std::vector<std::vector<std::string>> rows;
    for (const GroupOffsetRow& row : groups[i].rows) {
      rows.push_back({row.partition ? row.partition->topic : "-",
                      row.partition ? absl::StrCat(row.partition->partition) : "-",
                      dash_or(row.committed), dash_or(row.log_end), dash_or(row.lag()),
                      row.member_id.value_or("-"), row.member_id ? row.client_id : "-",
                      row.member_id ? row.host : "-"});
    }
    out += format_table({"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                         "MEMBER-ID", "CLIENT-ID", "HOST"},
                        rows);
  }
  return out;
}

std::string render_group_delete(const std::vector<GroupResult>& results, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::vector<std::string> items;
    for (const GroupResult& r : results) {
      items.push_back(absl::StrCat("{\"group_id\":", json_quote(r.group_id), ",\"status\":\"",
                                   r.error_code == 0 ? "deleted" : "error",
                                   "\",\"error\":", json_error(r.error_code),
                                   ",\"error_code\":", r.error_code, "}"));
    }
    return absl::StrCat("{\"results\":[", absl::StrJoin(items, ","), "]}\n");
  }
  std::string out;
  for (const GroupResult& r : results) {
    if (r.error_code == 0) absl::StrAppend(&out, "Deleted group ", r.group_id, ".\n");
  }
  return out;
}

std::string render_reset(const std::string& group, const std::vector<ResetLine>& lines,
                         bool executed, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::vector<std::string> items;
    for (const ResetLine& l : lines) {
      items.push_back(absl::StrCat(
          "{\"topic\":", json_quote(l.partition.topic), ",\"partition\":", l.partition.partition,
          ",\"new_offset\":", l.new_offset, ",\"error\":", json_error(l.error_code), "}"));
    }
    return absl::StrCat("{\"group_id\":", json_quote(group),
                        ",\"executed\":", executed ? "true" : "false", ",\"partitions\":[",
                        absl::StrJoin(items, ","), "]}\n");
  }
  std::vector<std::vector<std::string>> rows;
  for (const ResetLine& l : lines) {
    rows.push_back({group, l.partition.topic, absl::StrCat(l.partition.partition),
                    absl::StrCat(l.new_offset), l.error_code == 0 ? "" : error_name(l.error_code)});
  }
  return format_table({"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET", "ERROR"}, rows);
}

}  // namespace gregor::tools
