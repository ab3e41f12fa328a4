// Table and JSON renderers for topic listings, descriptions and create/delete results.
#include "tools/gregorctl/output.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/gregorctl/topic_errors.h"

namespace gregor::tools {

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size(), 0);
  auto widen = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  };
  widen(header);
  for (const auto& row : rows) widen(row);
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < width.size(); ++i) {
      std::string_view cell = i < row.size() ? std::string_view(row[i]) : std::string_view();
      line += cell;
      if (i + 1 < width.size()) line.append(width[i] - cell.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  emit(header);
  for (const auto& row : rows) emit(row);
  return out;
}

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string topic_id_string(const protocol::Uuid& id) {
  if (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; })) return "";
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : id) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3f];
  return out;
}

std::string join_ids(const std::vector<int32_t>& ids) {
  return absl::StrJoin(ids, ",");
}

namespace {

std::string json_ids(const std::vector<int32_t>& ids) {
  return absl::StrCat("[", absl::StrJoin(ids, ","), "]");
}

std::string json_optional_string(const std::optional<std::string>& s) {
  return s ? json_quote(*s) : "null";
}

std::string json_topic_summary(const TopicInfo& t) {
  return absl::StrCat("\"name\":", json_quote(t.name), ",\"topic_id\":", json_quote(t.topic_id),
                      ",\"internal\":", t.internal ? "true" : "false",
                      ",\"partition_count\":", t.partitions.size(),
                      ",\"replication_factor\":", t.replication_factor());
}

}  // namespace

std::string render_topic_list(const std::vector<TopicInfo>& topics, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::vector<std::string> items;
    for (const TopicInfo& t : topics)
      items.push_back(absl::StrCat("{", json_topic_summary(t), "}"));
    return absl::StrCat("{\"topics\":[", absl::StrJoin(items, ","), "]}\n");
  }
  std::vector<std::vector<std::string>> rows;
  for (const TopicInfo& t : topics) {
    rows.push_back({t.name, absl::StrCat(t.partitions.size()), absl::StrCat(t.replication_factor()),
                    t.topic_id.empty() ? "-" : t.topic_id});
  }
  return format_table({"TOPIC", "PARTITIONS", "REPLICATION-FACTOR", "TOPIC-ID"}, rows);
}

std::string render_topic_describe(const std::vector<TopicInfo>& topics, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::vector<std::string> items;
    for (const TopicInfo& t : topics) {
      std::vector<std::string> parts;
      for (const PartitionInfo& p : t.partitions) {
        parts.push_back(absl::StrCat(
            "{\"partition\":", p.partition, ",\"leader\":", p.leader,
            ",\"leader_epoch\":", p.leader_epoch, ",\"replicas\":", json_ids(p.replicas),
            ",\"isr\":", json_ids(p.isr), ",\"offline_replicas\":", json_ids(p.offline_replicas),
            ",\"error\":", p.error_code == 0 ? "null" : json_quote(error_name(p.error_code)), "}"));
      }
      items.push_back(absl::StrCat("{", json_topic_summary(t), ",\"partitions\":[",
                                   absl::StrJoin(parts, ","), "]}"));
    }
    return absl::StrCat("{\"topics\":[", absl::StrJoin(items, ","), "]}\n");
  }
  std::string out;
  for (size_t i = 0; i < topics.size(); ++i) {
    const TopicInfo& t = topics[i];
    if (i > 0) out += '\n';
    absl::StrAppend(&out, "Topic: ", t.name, "  TopicId: ", t.topic_id.empty() ? "-" : t.topic_id,
                    "  PartitionCount: ", t.partitions.size(),
                    "  ReplicationFactor: ", t.replication_factor(),
                    t.internal ? "  Internal: true" : "", "\n");
    std::vector<std::vector<std::string>> rows;
    for (const PartitionInfo& p : t.partitions) {
      rows.push_back({absl::StrCat(p.partition), p.leader < 0 ? "none" : absl::StrCat(p.leader),
                      join_ids(p.replicas), join_ids(p.isr),
                      p.error_code == 0 ? "" : error_name(p.error_code)});
    }
    out += format_table({"PARTITION", "LEADER", "REPLICAS", "ISR", "ERROR"}, rows);
  }
  return out;
}

std::string_view status_name(ResultStatus s) {
  switch (s) {
    case ResultStatus::kCreated:
      return "created";
    case ResultStatus::kValid:
      return "valid";
    case ResultStatus::kExists:
      return "exists";
    case ResultStatus::kDeleted:
      return "deleted";
    case ResultStatus::kError:
      return "error";
  }
  return "error";
}

std::string render_results(const std::vector<ResultLine>& results, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::vector<std::string> items;
    for (const ResultLine& r : results) {
      bool failed = r.status == ResultStatus::kError;
      items.push_back(
          absl::StrCat("{\"name\":", json_quote(r.result.name),
                       ",\"status\":", json_quote(status_name(r.status)),
                       ",\"error\":", failed ? json_quote(error_name(r.result.error_code)) : "null",
                       ",\"error_code\":", r.result.error_code,
                       ",\"error_message\":", json_optional_string(r.result.error_message), "}"));
    }
    return absl::StrCat("{\"results\":[", absl::StrJoin(items, ","), "]}\n");
  }
  std::string out;
  for (const ResultLine& r : results) {
    const std::string& n = r.result.name;
    switch (r.status) {
      case ResultStatus::kCreated:
        absl::StrAppend(&out, "Created topic ", n, ".\n");
        break;
      case ResultStatus::kValid:
        absl::StrAppend(&out, "Topic ", n, " is valid (not created: --validate-only).\n");
        break;
      case ResultStatus::kExists:
        absl::StrAppend(&out, "Topic ", n, " already exists.\n");
        break;
      case ResultStatus::kDeleted:
        absl::StrAppend(&out, "Deleted topic ", n, ".\n");
        break;
      case ResultStatus::kError:
        break;  // reported on stderr by the caller
    }
  }
  return out;
}

}  // namespace gregor::tools
