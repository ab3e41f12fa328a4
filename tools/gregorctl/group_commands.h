// The `group` verbs: list, describe, delete and `offsets reset`, run against a cluster through
// its coordinator and partition leaders, with what to print and the exit code decided here.
#pragma once

#include "tools/gregorctl/broker_connections.h"
#include "tools/gregorctl/cli_args.h"
#include "tools/gregorctl/commands.h"

namespace gregor::tools {

// REQUIRES: cmd.verb is one of the kGroup* verbs.
// Group and partition errors are printed with Kafka's error names; any error makes exit code 1.
Report run_group_command(const Command& cmd, BrokerConnections& connections);

}  // namespace gregor::tools
