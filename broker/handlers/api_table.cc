// The one table of APIs Gregor serves. The listed ranges are a compatibility surface of their
// own (../shared/PROTOCOL-NOTES.md): librdkafka 2.0.2 turns features off unless exact old
// versions are listed, so minimums stay low even where old versions are only rejected.
#include "broker/handlers/handlers.h"

namespace gregor::broker {

const std::vector<ApiEntry>& api_table() {
  static const std::vector<ApiEntry> table = {
      // Produce v0-2 are listed (librdkafka's compression check asks for 0..0) and answered
      // with UNSUPPORTED_VERSION, as Kafka 4.0 does (KAFKA-18659).
      {0, 0, 9, handle_produce},
      // Fetch stays at 12: v13+ switches the Java client to topic IDs.
      {1, 4, 12, handle_fetch},
      {2, 1, 8, handle_list_offsets},
      {3, 0, 12, handle_metadata},
      // Group APIs: librdkafka 2.0.2 enables its group consumer only when the v0 versions of
      // JoinGroup, SyncGroup, Heartbeat and LeaveGroup are listed, OffsetCommit covers 1-2
      // and OffsetFetch lists 1.
      {8, 2, 8, handle_offset_commit},
      {9, 1, 8, handle_offset_fetch},
      {10, 0, 4, handle_find_coordinator},
      {11, 0, 9, handle_join_group},
      {12, 0, 4, handle_heartbeat},
      {13, 0, 5, handle_leave_group},
      {14, 0, 5, handle_sync_group},
      {15, 0, 5, handle_describe_groups},
      {16, 0, 4, handle_list_groups},
      {18, 0, 3, handle_api_versions},
      {19, 0, 7, handle_create_topics},
      {20, 0, 6, handle_delete_topics},
      // Idempotence and transactions. librdkafka 2.0.2 keeps its idempotent producer off unless
      // InitProducerId v0 is listed; AddPartitionsToTxn stops at 3 (v4+ is KIP-890's
      // broker-to-broker form).
      {22, 0, 4, handle_init_producer_id},
      {24, 0, 3, handle_add_partitions_to_txn},
      {25, 0, 3, handle_add_offsets_to_txn},
      {26, 0, 3, handle_end_txn},
      // Kafka's coordinators send WriteTxnMarkers to partition leaders; ours is served for
      // aborting hanging transactions by hand (kafka-transactions.sh, gregorctl txn abort).
      {27, 0, 1, handle_write_txn_markers},
      {28, 0, 3, handle_txn_offset_commit},
      {42, 0, 2, handle_delete_groups},
      {47, 0, 0, handle_offset_delete},
      {61, 0, 0, handle_describe_producers},
      {65, 0, 0, handle_describe_transactions},
      {66, 0, 1, handle_list_transactions},
  };
  return table;
}

const ApiEntry* find_api(int16_t api_key) {
  for (const ApiEntry& e : api_table()) {
    if (e.api_key == api_key) return &e;
  }
  return nullptr;
}

}  // namespace gregor::broker
