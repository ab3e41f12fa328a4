// One consumer group's state as Kafka's classic protocol keeps it (GroupMetadata): the state
// machine, the members and their protocols, the generation, the leader, and the committed offsets.
// Thread-safety: none; a Group is owned by the GroupCoordinator and touched only under its mutex.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/group_types.h"

namespace gregor::coordinator {

enum class GroupState { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };

// Kafka's names ("Empty", "PreparingRebalance", ...), as ListGroups/DescribeGroups report them.
std::string_view group_state_name(GroupState s);
// Case-insensitive, as ListGroups v4's states filter is parsed.
std::optional<GroupState> parse_group_state(std::string_view name);

struct Member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  std::string protocol_type;
  std::vector<Protocol> protocols;
  std::string assignment;
  JoinCallback awaiting_join;  // set while this member's JoinGroup waits for the rebalance
  SyncCallback awaiting_sync;  // set while its SyncGroup waits for the leader's assignment
  bool is_new = false;         // joined in the current rebalance, no JoinGroup answer yet
  int64_t last_heartbeat_ms = 0;

  // The metadata this member sent for `protocol`, or nullptr.
  const std::string* metadata(std::string_view protocol) const;
  // Same protocol names and metadata in the same order.
  bool matches(const std::vector<Protocol>& protocols) const;
};

struct CommittedOffset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = 0;
  std::optional<int64_t> expire_timestamp_ms;  // from OffsetCommit v2-4 retention_time_ms
  // Position of its record in __consumer_offsets as the coordinator numbers appends and loaded
  // records (GroupCoordinator::next_log_seq_): an offset replaces a committed one only if newer,
  // as Kafka compares the records' batch offsets.
  int64_t log_seq = -1;
};

// A transactional offset (TxnOffsetCommit) waiting for its transaction's commit or abort.
struct PendingTxnOffset {
  CommittedOffset offset;
  bool appended = false;  // false while its append is in flight
};

class Group {
 public:
  Group(std::string group_id, int64_t now_ms);

  const std::string& id() const { return id_; }
  GroupState state() const { return state_; }
  bool is(GroupState s) const { return state_ == s; }
  // When the group entered its current state (Kafka's currentStateTimestamp).
  std::optional<int64_t> state_timestamp_ms() const { return state_timestamp_ms_; }
  // REQUIRES: `to` is a legal successor of the current state (Kafka's validPreviousStates).
  void transition_to(GroupState to, int64_t now_ms);
  // Sets the state without the transition check: replaying __consumer_offsets.
  void load_state(GroupState s, std::optional<int64_t> timestamp_ms);
  // Stable, CompletingRebalance and Empty may start a rebalance.
  bool can_rebalance() const;

  // Members.
  bool has(const std::string& member_id) const { return members_.count(member_id) > 0; }
  Member* get(const std::string& member_id);
  const std::map<std::string, Member>& members() const { return members_; }
  std::map<std::string, Member>& mutable_members() { return members_; }
  bool empty() const { return members_.empty(); }
  // Adds and makes it leader if there is none; the first member sets the protocol type.
  // REQUIRES: not already a member.
  void add(Member m);
  // Removes a member and its static id; picks another leader if it led.
  void remove(const std::string& member_id);
  // Gives a static member a new member id, keeping everything else.
  // REQUIRES: `instance_id` maps to `old_id`.
  Member& replace_static_member(const std::string& instance_id, const std::string& old_id,
                                const std::string& new_id);
  std::optional<std::string> static_member_id(const std::string& instance_id) const;
  // A member id that does not match the id registered for this group.instance.id.
  bool is_static_member_fenced(const std::string& member_id,
                               const std::optional<std::string>& instance_id) const;
  // Kafka's validateCurrentMember: with an instance id, it must be registered (else
  // UNKNOWN_MEMBER_ID) and map to `member_id` (else FENCED_INSTANCE_ID); the member must exist.
  std::optional<ErrorCode> validate_member(const std::string& member_id,
                                           const std::optional<std::string>& instance_id) const;
  int num_awaiting_join() const;
  // All members (and no pending member) have sent JoinGroup in this rebalance.
  bool has_all_members_joined() const;
  // The largest rebalance timeout of the members: how long a rebalance may wait.
  int32_t rebalance_timeout_ms() const;
  // If the leader has not rejoined, makes any rejoined member leader. False if none rejoined.
  bool maybe_elect_new_joined_leader();

  // Protocols.
  // An empty group takes any non-empty type and list; otherwise the type must match and one of
  // the offered protocols must be supported by every member.
  bool supports_protocols(const std::string& protocol_type,
                          const std::vector<Protocol>& protocols) const;
  // Each member votes for its most preferred protocol among those all members support; the
  // most votes win (ties go to the name that sorts first). REQUIRES: !empty().
  std::string select_protocol() const;
  // Bumps the generation; CompletingRebalance with a selected protocol, or Empty if no members.
  void init_next_generation(int64_t now_ms);
  // Each member's metadata for the selected protocol (what the leader receives).
  std::vector<JoinGroupMember> current_member_metadata() const;
  // Recomputes subscribed_topics from the members' metadata for the selected protocol.
  void refresh_subscribed_topics();

  // Pending members: ids handed out with MEMBER_ID_REQUIRED, to their expiry deadline.
  std::map<std::string, int64_t>& pending_members() { return pending_members_; }
  const std::map<std::string, int64_t>& pending_members() const { return pending_members_; }
  // Members that got the JoinGroup answer but have not sent SyncGroup yet.
  std::set<std::string>& pending_sync_members() { return pending_sync_; }
  const std::set<std::string>& pending_sync_members() const { return pending_sync_; }

  int32_t generation_id = 0;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::optional<std::string> leader_id;
  // For "consumer" groups: topics the members subscribe to in this generation; nullopt when
  // unknown (every topic then counts as subscribed).
  std::optional<std::set<std::string>> subscribed_topics;
  std::map<TopicPartition, CommittedOffset> offsets;
  // Transactional offsets by producer id, invisible to OffsetFetch until their transaction
  // commits (Kafka's pendingTransactionalOffsetCommits).
  std::map<int64_t, std::map<TopicPartition, PendingTxnOffset>> pending_txn_offsets;

  // Offsets, committed or pending: a group with any is not removed as unused.
  bool has_offsets() const { return !offsets.empty() || !pending_txn_offsets.empty(); }
  bool has_pending_txn_offset(const TopicPartition& tp) const;
  // The transaction of `producer_id` ended: on commit its appended pending offsets become
  // committed where newer (log_seq) than the committed one; on abort they are dropped. Offsets
  // still being appended are dropped either way. False if the producer had none.
  bool complete_txn(int64_t producer_id, bool commit);
  // Drops the committed and every pending offset of `tp` (OffsetDelete, retention, deletion,
  // Kafka's removeOffsets). True if anything was removed.
  bool remove_offsets(const TopicPartition& tp);

  // Timers, in ms of the coordinator's clock; -1 = not armed.
  int64_t join_deadline_ms = -1;  // PreparingRebalance: complete the join
  bool initial_delay_active = false;
  int64_t initial_delay_remaining_ms = 0;
  bool new_member_added = false;
  int64_t sync_deadline_ms = -1;  // pending_sync_members must have synced by then

 private:
  std::string id_;
  GroupState state_ = GroupState::kEmpty;
  std::optional<int64_t> state_timestamp_ms_;
  std::map<std::string, Member> members_;
  std::map<std::string, std::string> static_members_;  // group.instance.id -> member id
  std::map<std::string, int64_t> pending_members_;
  std::set<std::string> pending_sync_;
};

}  // namespace gregor::coordinator
