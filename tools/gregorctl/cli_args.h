// gregorctl's command line: verbs and options in the shape of kafka-topics.sh, parsed into a
// plain Command so that main() only dispatches and tests need no broker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/gregorctl/output.h"

namespace gregor::tools {

enum class Verb { kTopicCreate, kTopicList, kTopicDescribe, kTopicDelete };

struct Command {
  Verb verb = Verb::kTopicList;
  std::string bootstrap_server = "localhost:9092";
  OutputFormat output = OutputFormat::kTable;
  int32_t timeout_ms = 30000;       // per request, and for connecting
  std::vector<std::string> topics;  // create: exactly one; describe: any; delete: at least one
  int32_t partitions = -1;          // -1: the broker's default (CreateTopics v4+)
  int16_t replication_factor = -1;  // -1: the broker's default (CreateTopics v4+)
  std::vector<std::pair<std::string, std::string>> configs;  // --config k=v, in order given
  bool if_not_exists = false;
  bool validate_only = false;
  bool exclude_internal = false;  // list/describe: leave out __consumer_offsets and the like
};

// Either a command to run, or what to print and the exit code (help: 0, usage errors: nonzero).
struct ParseOutcome {
  std::optional<Command> command;
  int exit_code = 0;
  std::string out;  // for stdout (help text)
  std::string err;  // for stderr (usage errors)
};

ParseOutcome parse_command_line(int argc, const char* const* argv);

// "k=v" -> {k, v}; the value may contain '=' and may be empty, the key may not.
absl::StatusOr<std::pair<std::string, std::string>> parse_config_entry(std::string_view entry);

}  // namespace gregor::tools
