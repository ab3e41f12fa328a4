// The `txn` verbs, in the shape of kafka-transactions.sh: list (every broker's transactions),
// describe (asks each transactional id's coordinator), producers (DescribeProducers at the
// partition's leader) and abort (an ABORT marker for a hanging transaction, written to the
// partition's leader with WriteTxnMarkers), with what to print and the exit code decided here.
#pragma once

#include <cstdint>

#include "tools/gregorctl/broker_connections.h"
#include "tools/gregorctl/cli_args.h"
#include "tools/gregorctl/commands.h"

namespace gregor::tools {

// REQUIRES: cmd.verb is one of the kTxn* verbs. `now_ms` (wall clock) gives `txn describe` the
// running time of each transaction. Kafka errors are printed with their names; any error makes
// exit code 1.
Report run_txn_command(const Command& cmd, BrokerConnections& connections, int64_t now_ms);

}  // namespace gregor::tools
