// The `topic` verbs: run_command() talks to the broker; the report_* functions turn the answers
// into stdout text, stderr text and an exit code, and need no broker (so tests call them).
#pragma once

#include <string>
#include <vector>

#include "tools/gregorctl/cli_args.h"
#include "tools/gregorctl/topic_model.h"

namespace gregor::tools {

// What the process prints and returns. exit_code is 0 on success and 1 on any error.
struct Report {
  std::string out;
  std::string err;
  int exit_code = 0;
};

// --if-not-exists turns TOPIC_ALREADY_EXISTS into success; --validate-only reports "valid".
Report report_create(const Command& cmd, const std::vector<TopicResult>& results);
Report report_delete(const Command& cmd, const std::vector<TopicResult>& results);
// Topics with an error are left out of the output and reported on stderr (exit 1).
Report report_list(const Command& cmd, const ClusterMetadata& metadata);
Report report_describe(const Command& cmd, const ClusterMetadata& metadata);

// Connects to cmd.bootstrap_server and runs the verb. Connection and protocol failures become
// "Error: ..." on stderr with exit code 1.
Report run_command(const Command& cmd);

}  // namespace gregor::tools
