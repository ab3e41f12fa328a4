// GroupCoordinator's offset store: OffsetCommit, OffsetFetch, OffsetDelete, DeleteGroups and
// offset retention (Kafka 2.1+ rules: an Empty group's offsets expire from when it emptied).
#include <set>

#include "coordinator/consumer_protocol.h"
#include "coordinator/group_coordinator.h"
#include "coordinator/group_records.h"
#include "spdlog/spdlog.h"
#include "storage/kafka_error.h"

namespace gregor::coordinator {
namespace {

GroupRecord offset_tombstone(const std::string& group, const TopicPartition& tp) {
  return {encode_offset_key({group, tp.topic, tp.partition}), std::nullopt};
}

using StagedOffsets = std::vector<std::pair<TopicPartition, CommittedOffset>>;

// The records of one OffsetCommit or TxnOffsetCommit, and the offsets they carry (numbered
// `log_seq`). A partition whose metadata is too large gets OFFSET_METADATA_TOO_LARGE in
// `results` (same order as `partitions`) and no record.
void stage_offsets(const std::string& group_id, std::vector<OffsetCommitPartition>& partitions,
                   int64_t now, std::optional<int64_t> expire_timestamp_ms,
                   int32_t metadata_max_bytes, int64_t log_seq,
                   std::vector<TopicPartitionError>& results, std::vector<GroupRecord>& records,
                   StagedOffsets& staged) {
  for (size_t i = 0; i < partitions.size(); ++i) {
    auto& p = partitions[i];
    std::string metadata = p.metadata.value_or("");
    if (metadata.size() > static_cast<size_t>(metadata_max_bytes)) {
      results[i].error = ErrorCode::kOffsetMetadataTooLarge;
      continue;
    }
    CommittedOffset c;
    c.offset = p.offset;
    c.leader_epoch = p.leader_epoch;
    c.metadata = std::move(metadata);
    c.commit_timestamp_ms = now;
    c.expire_timestamp_ms = expire_timestamp_ms;
    c.log_seq = log_seq;
    protocol::msg::OffsetCommitValue v;
    v.offset = c.offset;
    v.leader_epoch = c.leader_epoch;
    v.metadata = c.metadata;
    v.commit_timestamp = c.commit_timestamp_ms;
    v.expire_timestamp = c.expire_timestamp_ms.value_or(-1);
    records.push_back(
        {encode_offset_key({group_id, p.topic, p.partition}), encode_offset_value(v)});
    staged.push_back({TopicPartition{p.topic, p.partition}, std::move(c)});
  }
}

std::vector<TopicPartitionError> partition_results(
    const std::vector<OffsetCommitPartition>& partitions) {
  std::vector<TopicPartitionError> results;
  results.reserve(partitions.size());
  for (const auto& p : partitions) results.push_back({p.topic, p.partition, ErrorCode::kNone});
  return results;
}

}  // namespace

void GroupCoordinator::commit_offsets(OffsetCommitRequest req, OffsetCommitCallback done) {
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_->now_ms();
    std::vector<TopicPartitionError> results = partition_results(req.partitions);
    auto respond_all = [&](ErrorCode e) {
      for (auto& r : results) r.error = e;
      out.add([done, results] { done(results); });
    };

    std::shared_ptr<Group> g = find(req.group_id);
    const bool member_commit =
        req.generation_id >= 0 || !req.member_id.empty() || req.group_instance_id.has_value();
    ErrorCode error = ErrorCode::kNone;
    if (!g) {
      // Without a group only a simple (admin/standalone) commit may create one.
      if (req.generation_id < 0) {
        g = std::make_shared<Group>(req.group_id, now);
        groups_[req.group_id] = g;
      } else {
        error = ErrorCode::kIllegalGeneration;
      }
    }
    if (error == ErrorCode::kNone) {
      if (g->is(GroupState::kDead)) {
        error = ErrorCode::kCoordinatorNotAvailable;
      } else if (req.generation_id < 0 && g->is(GroupState::kEmpty)) {
        // An admin client or a consumer without group management: fine while nobody is a member.
      } else if (member_commit) {
        if (auto e = g->validate_member(req.member_id, req.group_instance_id)) {
          error = *e;
        } else if (req.generation_id != g->generation_id) {
          error = ErrorCode::kIllegalGeneration;
        }
      } else if (!g->is(GroupState::kEmpty)) {
        error = ErrorCode::kUnknownMemberId;  // the group is managed: commits need a member
      }
    }
    if (error == ErrorCode::kNone && g->is(GroupState::kCompletingRebalance)) {
      // The member has its new generation but not its assignment yet.
      error = ErrorCode::kRebalanceInProgress;
    }
    if (error != ErrorCode::kNone) {
      respond_all(error);
      if (g) maybe_erase_unused(g);
    } else {
      if (Member* m = g->get(req.member_id)) m->last_heartbeat_ms = now;
      std::vector<GroupRecord> records;
      StagedOffsets staged;
      std::optional<int64_t> expire;
      if (req.retention_time_ms >= 0) expire = now + req.retention_time_ms;
      stage_offsets(req.group_id, req.partitions, now, expire, config_.offset_metadata_max_bytes,
                    next_log_seq_++, results, records, staged);
      if (records.empty()) {
        out.add([done, results] { done(results); });
        maybe_erase_unused(g);
      } else {
        append(
            req.group_id, std::move(records),
            [this, g, staged = std::move(staged), results = std::move(results), done](
                absl::Status st, Deferred& later) mutable {
              if (st.ok()) {
                // The group may have been dropped meanwhile (erased as unused, deleted):
                // the offsets are durable, so they belong in memory too.
                std::shared_ptr<Group> cur = find(g->id());
                if (!cur) groups_[g->id()] = cur = g;
                for (auto& [tp, c] : staged) {
                  // A commit issued later may have completed first: keep the newer one.
                  auto it = cur->offsets.find(tp);
                  if (it == cur->offsets.end() || it->second.log_seq < c.log_seq) {
                    cur->offsets[tp] = std::move(c);
                  }
                }
              } else {
                spdlog::warn("group {}: offset commit failed: {}", g->id(), st.ToString());
                for (auto& r : results) {
                  if (r.error == ErrorCode::kNone) r.error = ErrorCode::kCoordinatorNotAvailable;
                }
              }
              later.add([done, results = std::move(results)] { done(results); });
            },
            out);
      }
    }
  }
  out.run();
}

void GroupCoordinator::commit_txn_offsets(TxnOffsetCommitRequest req, OffsetCommitCallback done) {
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_->now_ms();
    std::vector<TopicPartitionError> results = partition_results(req.partitions);
    auto respond_all = [&](ErrorCode e) {
      for (auto& r : results) r.error = e;
      out.add([done, results] { done(results); });
    };
    std::shared_ptr<Group> g;
    ErrorCode error = ErrorCode::kNone;
    if (req.group_id.empty()) {
      error = ErrorCode::kInvalidGroupId;
    } else if (g = find(req.group_id); !g) {
      // Kafka accepts a transactional commit for any group, as it does simple commits.
      g = std::make_shared<Group>(req.group_id, now);
      groups_[req.group_id] = g;
    }
    if (error == ErrorCode::kNone) {
      if (g->is(GroupState::kDead)) {
        error = ErrorCode::kCoordinatorNotAvailable;
      } else if (req.generation_id >= 0 || !req.member_id.empty() ||
                 req.group_instance_id.has_value()) {
        // v3+ clients (KIP-447) send their consumer's member id and generation: a zombie
        // from an older generation is fenced like an OffsetCommit would be.
        if (auto e = g->validate_member(req.member_id, req.group_instance_id)) {
          error = *e;
        } else if (req.generation_id != g->generation_id) {
          error = ErrorCode::kIllegalGeneration;
        }
      }
      // Without member information a commit is accepted whatever the group's state: v0-2
      // clients cannot send any (Kafka's validateOffsetCommit, isTransactional).
    }
    if (error != ErrorCode::kNone) {
      respond_all(error);
      if (g) maybe_erase_unused(g);
    } else {
      std::vector<GroupRecord> records;
      StagedOffsets staged;
      const int64_t log_seq = next_log_seq_++;
      stage_offsets(req.group_id, req.partitions, now, std::nullopt,
                    config_.offset_metadata_max_bytes, log_seq, results, records, staged);
      if (records.empty()) {
        out.add([done, results] { done(results); });
        maybe_erase_unused(g);
      } else {
        // Pending from now on (Kafka's prepareTxnOffsetCommit): OffsetFetch with require_stable
        // already answers UNSTABLE_OFFSET_COMMIT, and deleting the group drops it.
        std::vector<TopicPartition> tps;
        auto& pending = g->pending_txn_offsets[req.producer_id];
        for (auto& [tp, c] : staged) {
          tps.push_back(tp);
          pending[tp] = PendingTxnOffset{std::move(c), false};
        }
        const int64_t producer_id = req.producer_id;
        append_transactional(
            req.group_id, std::move(records), producer_id, req.producer_epoch,
            std::move(req.verify),
            [this, id = req.group_id, producer_id, log_seq, tps = std::move(tps),
             results = std::move(results), done](absl::Status st, Deferred& later) mutable {
              // Only this commit's own entries: a later commit of the same partition, the
              // transaction's end or the group's deletion may have replaced or removed them.
              std::shared_ptr<Group> g = find(id);
              if (g && g->pending_txn_offsets.count(producer_id)) {
                auto pit = g->pending_txn_offsets.find(producer_id);
                for (const TopicPartition& tp : tps) {
                  auto it = pit->second.find(tp);
                  if (it == pit->second.end() || it->second.offset.log_seq != log_seq) continue;
                  if (st.ok()) {
                    it->second.appended = true;
                  } else {
                    pit->second.erase(it);
                  }
                }
                if (pit->second.empty()) g->pending_txn_offsets.erase(pit);
              }
              if (!st.ok()) {
                spdlog::warn("group {}: transactional offset commit failed: {}", id, st.ToString());
                // The log's producer checks (INVALID_PRODUCER_EPOCH for a fenced producer)
                // reach the client as they are, as in Kafka.
                const ErrorCode e =
                    storage::kafka_error_code(st).value_or(ErrorCode::kCoordinatorNotAvailable);
                for (auto& r : results) {
                  if (r.error == ErrorCode::kNone) r.error = e;
                }
                if (g) maybe_erase_unused(g);
              }
              later.add([done, results = std::move(results)] { done(results); });
            },
            out);
      }
    }
  }
  out.run();
}

void GroupCoordinator::complete_txn(int32_t offsets_partition, int64_t producer_id, bool commit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Group>> completed;
  for (const auto& [id, g] : groups_) {
    if (partition_for(id) == offsets_partition && g->complete_txn(producer_id, commit)) {
      completed.push_back(g);
    }
  }
  // A group that only ever had these offsets, now aborted, is gone, as after a replay.
  for (const auto& g : completed) maybe_erase_unused(g);
}

OffsetFetchResult GroupCoordinator::fetch_offsets(
    const std::string& group_id, const std::optional<std::vector<OffsetFetchTopic>>& topics,
    bool require_stable) {
  std::lock_guard<std::mutex> lock(mu_);
  OffsetFetchResult result;
  std::shared_ptr<Group> g = find(group_id);
  if (g && g->is(GroupState::kDead)) g = nullptr;
  auto unstable = [&](const TopicPartition& tp) {
    return require_stable && g->has_pending_txn_offset(tp);
  };
  if (!topics) {
    // As Kafka: the partitions with a committed offset, so a partition whose only offset is
    // pending is not listed.
    if (g) {
      for (const auto& [tp, c] : g->offsets) {
        if (unstable(tp)) {
          result.partitions.push_back(
              {tp.topic, tp.partition, -1, -1, "", ErrorCode::kUnstableOffsetCommit});
        } else {
          result.partitions.push_back(
              {tp.topic, tp.partition, c.offset, c.leader_epoch, c.metadata, ErrorCode::kNone});
        }
      }
    }
    return result;
  }
  for (const OffsetFetchTopic& t : *topics) {
    for (int32_t p : t.partitions) {
      FetchedOffset f{t.topic, p, -1, -1, "", ErrorCode::kNone};
      if (g && unstable({t.topic, p})) {
        f.error = ErrorCode::kUnstableOffsetCommit;
      } else if (g) {
        auto it = g->offsets.find({t.topic, p});
        if (it != g->offsets.end()) {
          f.offset = it->second.offset;
          f.leader_epoch = it->second.leader_epoch;
          f.metadata = it->second.metadata;
        }
      }
      result.partitions.push_back(std::move(f));
    }
  }
  return result;
}

void GroupCoordinator::delete_offsets(const std::string& group_id,
                                      const std::vector<TopicPartition>& partitions,
                                      OffsetDeleteCallback done) {
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    OffsetDeleteResult result;
    std::shared_ptr<Group> g = group_id.empty() ? nullptr : find(group_id);
    std::vector<GroupRecord> records;
    if (group_id.empty()) {
      result.error = ErrorCode::kInvalidGroupId;
    } else if (!g || g->is(GroupState::kDead)) {
      result.error = ErrorCode::kGroupIdNotFound;
    } else if (!g->is(GroupState::kEmpty) && g->protocol_type != kConsumerProtocolType) {
      result.error = ErrorCode::kNonEmptyGroup;
    } else {
      for (const TopicPartition& tp : partitions) {
        ErrorCode e = ErrorCode::kNone;
        // Unknown subscriptions (unparsable metadata) count as subscribing to everything.
        if (!g->is(GroupState::kEmpty) &&
            (!g->subscribed_topics || g->subscribed_topics->count(tp.topic))) {
          e = kGroupSubscribedToTopic;
        } else if (g->remove_offsets(tp)) {
          records.push_back(offset_tombstone(group_id, tp));
        }
        result.partitions.push_back({tp.topic, tp.partition, e});
      }
    }
    if (records.empty()) {
      out.add([done, result] { done(result); });
    } else {
      append(
          group_id, std::move(records),
          [done, result](absl::Status st, Deferred& later) {
            if (!st.ok()) spdlog::warn("offset delete tombstones failed: {}", st.ToString());
            later.add([done, result] { done(result); });
          },
          out);
    }
  }
  out.run();
}

void GroupCoordinator::delete_groups(const std::vector<std::string>& group_ids,
                                     DeleteGroupsCallback done) {
  struct Pending {
    std::vector<std::pair<std::string, ErrorCode>> results;
    size_t remaining = 0;
  };
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto pending = std::make_shared<Pending>();
    std::vector<std::pair<std::string, std::vector<GroupRecord>>> writes;
    const int64_t now = clock_->now_ms();
    for (const std::string& id : group_ids) {
      std::shared_ptr<Group> g = find(id);
      ErrorCode e = ErrorCode::kNone;
      if (!g || g->is(GroupState::kDead)) {
        e = ErrorCode::kGroupIdNotFound;
      } else if (!g->is(GroupState::kEmpty)) {
        e = ErrorCode::kNonEmptyGroup;
      } else {
        // Pending transactional offsets go too; their tombstones drop them again on replay.
        std::set<TopicPartition> partitions;
        for (const auto& [tp, c] : g->offsets) partitions.insert(tp);
        for (const auto& [pid, pending] : g->pending_txn_offsets) {
          for (const auto& [tp, p] : pending) partitions.insert(tp);
        }
        std::vector<GroupRecord> records;
        for (const TopicPartition& tp : partitions) records.push_back(offset_tombstone(id, tp));
        records.push_back({encode_group_key({id}), std::nullopt});
        g->offsets.clear();
        g->pending_txn_offsets.clear();
        g->transition_to(GroupState::kDead, now);
        groups_.erase(id);
        writes.push_back({id, std::move(records)});
      }
      pending->results.push_back({id, e});
    }
    pending->remaining = writes.size();
    if (writes.empty()) {
      out.add([done, pending] { done(pending->results); });
    }
    for (auto& [id, records] : writes) {
      append(
          id, std::move(records),
          [done, pending, id = id](absl::Status st, Deferred& later) {
            if (!st.ok()) spdlog::warn("group {}: delete tombstones failed: {}", id, st.ToString());
            if (--pending->remaining == 0) later.add([done, pending] { done(pending->results); });
          },
          out);
    }
  }
  out.run();
}

void GroupCoordinator::expire_offsets(int64_t now, Deferred& out) {
  const int64_t retention = config_.offsets_retention_ms;
  std::vector<std::shared_ptr<Group>> all;
  for (const auto& [id, g] : groups_) all.push_back(g);
  for (const auto& g : all) {
    // Which offsets may expire, and from when (Kafka's GroupMetadata.removeExpiredOffsets).
    bool from_state_change = false;
    bool skip_subscribed = false;
    if (g->protocol_type && g->is(GroupState::kEmpty)) {
      from_state_change = true;
    } else if (g->protocol_type == kConsumerProtocolType && g->subscribed_topics &&
               g->is(GroupState::kStable)) {
      skip_subscribed = true;
    } else if (g->protocol_type) {
      continue;
    }
    std::vector<TopicPartition> expired;
    for (const auto& [tp, c] : g->offsets) {
      if (skip_subscribed && g->subscribed_topics->count(tp.topic)) continue;
      const int64_t base = from_state_change
                               ? g->state_timestamp_ms().value_or(c.commit_timestamp_ms)
                               : c.commit_timestamp_ms;
      if (c.expire_timestamp_ms ? now >= *c.expire_timestamp_ms : now - base >= retention) {
        expired.push_back(tp);
      }
    }
    std::vector<GroupRecord> records;
    for (const TopicPartition& tp : expired) {
      // Its pending transactional offsets expire with it, as in Kafka's removeOffsets.
      records.push_back(offset_tombstone(g->id(), tp));
      g->remove_offsets(tp);
    }
    // A group with pending transactional offsets waits for its transactions (Kafka's hasOffsets).
    if (g->is(GroupState::kEmpty) && !g->has_offsets() && g->pending_members().empty()) {
      spdlog::info("group {}: empty and without offsets, removing it", g->id());
      records.push_back({encode_group_key({g->id()}), std::nullopt});
      g->transition_to(GroupState::kDead, now);
      groups_.erase(g->id());
    }
    if (!records.empty()) {
      append(
          g->id(), std::move(records),
          [id = g->id()](absl::Status st, Deferred&) {
            if (!st.ok()) spdlog::warn("group {}: expiry tombstones failed: {}", id, st.ToString());
          },
          out);
    }
  }
}

}  // namespace gregor::coordinator
