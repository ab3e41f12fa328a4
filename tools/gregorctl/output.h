// Rendering of gregorctl results: aligned tables for people, JSON for scripts.
// The JSON shapes are a contract with scripts and tests; they are documented in tools/README.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/wire.h"
#include "tools/gregorctl/topic_model.h"

namespace gregor::tools {

enum class OutputFormat { kTable, kJson };

// Columns padded to their widest cell and separated by two spaces; no trailing blanks.
// Every line ends with '\n'. Rows shorter than the header are padded with empty cells.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

// A JSON string literal with the quotes, escaping what RFC 8259 requires.
std::string json_quote(std::string_view s);

// Kafka's text form of a topic id: URL-safe base64 without padding (22 characters).
// The all-zero id (no id) renders as "".
std::string topic_id_string(const protocol::Uuid& id);

// "1,2,3".
std::string join_ids(const std::vector<int32_t>& ids);

// `topic list`: names with partition count and replication factor.
std::string render_topic_list(const std::vector<TopicInfo>& topics, OutputFormat format);
// `topic describe`: one summary line and one partition table per topic.
std::string render_topic_describe(const std::vector<TopicInfo>& topics, OutputFormat format);

// What `topic create` / `topic delete` did to each topic. Successful results print as
// "Created topic x." (or "Deleted ..."); failed ones are left to the caller's error output in
// table form and listed with their error in JSON.
enum class ResultStatus { kCreated, kValid, kExists, kDeleted, kError };
// "created", "valid", "exists", "deleted", "error": the JSON "status" values.
std::string_view status_name(ResultStatus s);

struct ResultLine {
  TopicResult result;
  ResultStatus status = ResultStatus::kError;
};
std::string render_results(const std::vector<ResultLine>& results, OutputFormat format);

}  // namespace gregor::tools
