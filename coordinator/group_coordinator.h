// The group coordinator: Kafka's classic consumer-group protocol (JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup, static membership) and the offset store, as a library without I/O.
// Time comes from an injected storage::Clock; the broker calls tick() when next_deadline_ms()
// passes. Group metadata and offsets are persisted through a GroupLog as __consumer_offsets
// records and rebuilt at start with load().
//
// Thread-safety: every public method may be called from any thread. One mutex (mu_) guards all
// groups and timers. Callbacks (JoinCallback, SyncCallback, ...) and GroupLog::append are always
// invoked with mu_ released, from the thread of the call that completed them (a join, a leave,
// tick(), or a GroupLog `done`). Each callback is invoked exactly once.
// Lifetime: the GroupLog and clock must outlive the coordinator, and every append's `done` must
// have run before the coordinator is destroyed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "coordinator/group.h"
#include "coordinator/group_log.h"
#include "coordinator/group_types.h"
#include "storage/clock.h"

namespace gregor::coordinator {

class GroupCoordinator {
 public:
  GroupCoordinator(GroupConfig config, const storage::Clock* clock, GroupLog* log);
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // JoinGroup. `done` runs when the rebalance completes, or at once on an error,
  // MEMBER_ID_REQUIRED, or a rejoin that needs no rebalance. Errors: INVALID_GROUP_ID,
  // INVALID_SESSION_TIMEOUT, UNKNOWN_MEMBER_ID, INCONSISTENT_GROUP_PROTOCOL, MEMBER_ID_REQUIRED,
  // GROUP_MAX_SIZE_REACHED, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS (a second JoinGroup from
  // the same member supersedes a waiting one, which gets this error).
  void join_group(JoinGroupRequest request, JoinCallback done);
  // SyncGroup. Followers wait for the leader's assignment; the leader's assignment is persisted
  // before anyone is answered. Errors: INVALID_GROUP_ID, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
  // FENCED_INSTANCE_ID, INCONSISTENT_GROUP_PROTOCOL (v5 type/name), REBALANCE_IN_PROGRESS.
  void sync_group(SyncGroupRequest request, SyncCallback done);
  // Heartbeat; resets the member's session timer. Answers at once.
  ErrorCode heartbeat(const HeartbeatRequest& request);
  // LeaveGroup for one or many members (by member id, or by group.instance.id with an empty
  // member id). Other members' JoinGroups may complete inside this call.
  LeaveGroupResult leave_group(const std::string& group_id,
                               const std::vector<LeavingMember>& members);

  // OffsetCommit v2-8. `done` runs after the offsets are durable in the GroupLog, with one
  // entry per requested partition in request order.
  void commit_offsets(OffsetCommitRequest request, OffsetCommitCallback done);
  // TxnOffsetCommit: the offsets are appended as a transactional batch of `producer_id` and
  // stay pending (invisible to OffsetFetch) until complete_txn() for that producer. `done` runs
  // after the append is durable, one entry per requested partition in request order. An unknown
  // group is created Empty. Errors: INVALID_GROUP_ID (empty id), COORDINATOR_NOT_AVAILABLE,
  // and with member information (v3+) UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
  // ILLEGAL_GENERATION; per partition OFFSET_METADATA_TOO_LARGE; a failed append answers the
  // Kafka code the log attached (storage/kafka_error.h, e.g. INVALID_PRODUCER_EPOCH), else
  // COORDINATOR_NOT_AVAILABLE.
  void commit_txn_offsets(TxnOffsetCommitRequest request, OffsetCommitCallback done);
  // The transaction of `producer_id` ended (its marker is in `offsets_partition`): for every
  // group of that partition, its pending offsets from that producer become committed (each
  // only if its record is newer in the log than the committed offset of its partition) or,
  // on abort, are dropped. A second call for the same outcome changes nothing.
  void complete_txn(int32_t offsets_partition, int64_t producer_id, bool commit);

  // OffsetFetch; `topics` nullopt = every committed offset of the group. Unknown partitions
  // answer offset -1. With `require_stable` (v7+), a partition with a pending transactional
  // offset answers UNSTABLE_OFFSET_COMMIT and offset -1.
  OffsetFetchResult fetch_offsets(const std::string& group_id,
                                  const std::optional<std::vector<OffsetFetchTopic>>& topics,
                                  bool require_stable);
  OffsetFetchResult fetch_offsets(const std::string& group_id,
                                  const std::optional<std::vector<OffsetFetchTopic>>& topics) {
    return fetch_offsets(group_id, topics, false);
  }
  // OffsetDelete v0: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, or per partition
  // GROUP_SUBSCRIBED_TO_TOPIC. `done` runs after the tombstones are written.
  void delete_offsets(const std::string& group_id, const std::vector<TopicPartition>& partitions,
                      OffsetDeleteCallback done);
  // DeleteGroups: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP or NONE per group, in request order.
  void delete_groups(const std::vector<std::string>& group_ids, DeleteGroupsCallback done);

  // ListGroups; `states` empty = all, else Kafka state names (case-insensitive).
  std::vector<GroupListing> list_groups(const std::vector<std::string>& states) const;
  GroupDescription describe_group(const std::string& group_id) const;

  // Runs every timer that is due: join/initial-delay completion, sync timeouts, session and
  // pending-member expiry, offset retention. Completed callbacks run before it returns.
  void tick();
  // When tick() next has work to do (ms of the clock).
  int64_t next_deadline_ms() const;

  // Replays one __consumer_offsets record (in log order; value nullopt = tombstone); the last
  // value per key wins. A malformed record changes nothing and is reported. Loaded groups with
  // members are Stable and their session timers start now.
  // REQUIRES: the groups of `offsets_partition` are not being served yet (broker start-up).
  absl::Status load(int32_t offsets_partition, std::string_view key,
                    std::optional<std::string_view> value);
  // Replays one record of a transactional batch of `producer_id`: an offset becomes pending
  // for that producer (a tombstone removes its pending offset). Group records load as in load().
  // Pending offsets without a marker stay pending after loading: the transaction coordinator
  // sends the marker again after its own load. REQUIRES: as load().
  absl::Status load_transactional(int32_t offsets_partition, int64_t producer_id,
                                  std::string_view key, std::optional<std::string_view> value);
  // Replays a commit or abort marker (control batch) of `producer_id`: as complete_txn().
  // REQUIRES: as load().
  void load_control(int32_t offsets_partition, int64_t producer_id, bool commit);

  // The __consumer_offsets partition that holds `group_id`.
  int32_t partition_for(const std::string& group_id) const;
  const GroupConfig& config() const { return config_; }

 private:
  // Work to do once mu_ is released: callbacks and GroupLog appends.
  class Deferred {
   public:
    void add(std::function<void()> f) { actions_.push_back(std::move(f)); }
    void run() {
      for (auto& f : actions_) f();
      actions_.clear();
    }

   private:
    std::vector<std::function<void()>> actions_;
  };
  // A GroupLog completion that runs under mu_ and may defer more work.
  using LockedDone = std::function<void(absl::Status, Deferred&)>;

  // Membership (group_join.cc, group_session.cc). All REQUIRE mu_ held.
  void join_new_member(const std::shared_ptr<Group>& g, JoinGroupRequest& req, JoinCallback done,
                       Deferred& out);
  void join_static_member(const std::shared_ptr<Group>& g, JoinGroupRequest& req,
                          const std::string& new_member_id, JoinCallback done, Deferred& out);
  void join_current_member(const std::shared_ptr<Group>& g, JoinGroupRequest& req,
                           JoinCallback done, Deferred& out);
  void add_member_and_rebalance(const std::shared_ptr<Group>& g, const JoinGroupRequest& req,
                                const std::string& member_id, JoinCallback done, Deferred& out);
  void update_member_and_rebalance(const std::shared_ptr<Group>& g, Member& m,
                                   const JoinGroupRequest& req, JoinCallback done, Deferred& out);
  void update_member(Member& m, const JoinGroupRequest& req, JoinCallback done, Deferred& out);
  void maybe_prepare_rebalance(const std::shared_ptr<Group>& g, Deferred& out);
  void prepare_rebalance(const std::shared_ptr<Group>& g, Deferred& out);
  void maybe_complete_join(const std::shared_ptr<Group>& g, Deferred& out);
  void complete_join(const std::shared_ptr<Group>& g, Deferred& out);
  void remove_member_and_update_group(const std::shared_ptr<Group>& g, const std::string& member_id,
                                      Deferred& out);
  void reset_and_propagate_assignment_error(Group& g, ErrorCode error, Deferred& out);
  void set_and_propagate_assignment(Group& g, const std::map<std::string, std::string>& assignment,
                                    Deferred& out);
  JoinGroupResult join_result(const Group& g, const std::string& member_id, bool with_members,
                              const std::string& leader) const;
  std::string new_member_id(const std::string& prefix);
  void expire_group_timers(const std::shared_ptr<Group>& g, int64_t now, Deferred& out);
  bool member_keep_alive(const Member& m, int64_t now) const;
  int64_t member_deadline(const Member& m) const;

  // Persistence and offsets (group_coordinator.cc, group_offsets.cc). REQUIRE mu_ held.
  // Writes the group's metadata (with `assignment` per member) and calls `done` under mu_.
  void store_group(const Group& g, const std::map<std::string, std::string>& assignment,
                   LockedDone done, Deferred& out);
  void append(const std::string& group_id, std::vector<GroupRecord> records, LockedDone done,
              Deferred& out);
  void append_transactional(const std::string& group_id, std::vector<GroupRecord> records,
                            int64_t producer_id, int16_t producer_epoch,
                            storage::TxnVerifier verify, LockedDone done, Deferred& out);
  absl::Status load_record(int32_t offsets_partition, std::optional<int64_t> producer_id,
                           std::string_view key, std::optional<std::string_view> value);
  std::shared_ptr<Group> find(const std::string& group_id) const;
  void expire_offsets(int64_t now, Deferred& out);
  void maybe_erase_unused(const std::shared_ptr<Group>& g);

  const GroupConfig config_;
  const storage::Clock* const clock_;
  GroupLog* const log_;

  mutable std::mutex mu_;  // guards everything below and every Group
  std::map<std::string, std::shared_ptr<Group>> groups_;
  int64_t next_offsets_check_ms_;
  // Numbers offset records in the order they are appended (or loaded) to __consumer_offsets;
  // CommittedOffset::log_seq. GroupLog::append reports no offset, so the order is the order in
  // which appends are issued under mu_; two threads committing the same partition of the same
  // group at once may see the log keep them the other way round, as the clients would anyway.
  int64_t next_log_seq_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace gregor::coordinator
