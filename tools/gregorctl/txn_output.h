// Rendering of the txn verbs' results: aligned tables for people, JSON for scripts.
// The JSON shapes are a contract with scripts and tests; they are documented in tools/README.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/gregorctl/group_model.h"
#include "tools/gregorctl/output.h"
#include "tools/gregorctl/txn_model.h"

namespace gregor::tools {

// A transaction as `txn list` shows it: with the broker that coordinates it.
struct ListedTxn {
  TxnListing listing;
  int32_t coordinator = -1;
};

struct DescribedTxn {
  TxnDescription description;
  Coordinator coordinator;
};

// What `txn abort` wrote.
struct AbortOutcome {
  TxnMarker marker;
  std::optional<int64_t> start_offset;  // when the transaction was named by its start offset
};

std::string render_txn_list(const std::vector<ListedTxn>& txns, OutputFormat format);
// `now_ms` gives each running transaction's duration so far.
std::string render_txn_describe(const std::vector<DescribedTxn>& txns, int64_t now_ms,
                                OutputFormat format);
std::string render_producers(const TopicPartition& partition,
                             const std::vector<ProducerState>& producers, OutputFormat format);
std::string render_abort(const AbortOutcome& outcome, OutputFormat format);

}  // namespace gregor::tools
