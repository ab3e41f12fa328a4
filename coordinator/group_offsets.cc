// GroupCoordinator's offset store: OffsetCommit, OffsetFetch, OffsetDelete, DeleteGroups and
// offset retention (Kafka 2.1+ rules: an Empty group's offsets expire from when it emptied).
#include "coordinator/consumer_protocol.h"
#include "coordinator/group_coordinator.h"
#include "coordinator/group_records.h"
#include "spdlog/spdlog.h"

namespace gregor::coordinator {
namespace {

GroupRecord offset_tombstone(const std::string& group, const TopicPartition& tp) {
  return {encode_offset_key({group, tp.topic, tp.partition}), std::nullopt};
}

}  // namespace

void GroupCoordinator::commit_offsets(OffsetCommitRequest req, OffsetCommitCallback done) {
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_->now_ms();
    std::vector<TopicPartitionError> results;
    results.reserve(req.partitions.size());
    for (const auto& p : req.partitions)
      results.push_back({p.topic, p.partition, ErrorCode::kNone});
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
      std::vector<std::pair<TopicPartition, CommittedOffset>> staged;
      for (size_t i = 0; i < req.partitions.size(); ++i) {
        auto& p = req.partitions[i];
        std::string metadata = p.metadata.value_or("");
        if (metadata.size() > static_cast<size_t>(config_.offset_metadata_max_bytes)) {
          results[i].error = ErrorCode::kOffsetMetadataTooLarge;
          continue;
        }
        CommittedOffset c;
        c.offset = p.offset;
        c.leader_epoch = p.leader_epoch;
        c.metadata = std::move(metadata);
        c.commit_timestamp_ms = now;
        if (req.retention_time_ms >= 0) c.expire_timestamp_ms = now + req.retention_time_ms;
        protocol::msg::OffsetCommitValue v;
        v.offset = c.offset;
        v.leader_epoch = c.leader_epoch;
        v.metadata = c.metadata;
        v.commit_timestamp = c.commit_timestamp_ms;
        v.expire_timestamp = c.expire_timestamp_ms.value_or(-1);
        records.push_back(
            {encode_offset_key({req.group_id, p.topic, p.partition}), encode_offset_value(v)});
        staged.push_back({TopicPartition{p.topic, p.partition}, std::move(c)});
      }
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
                for (auto& [tp, c] : staged) cur->offsets[tp] = std::move(c);
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

OffsetFetchResult GroupCoordinator::fetch_offsets(
    const std::string& group_id, const std::optional<std::vector<OffsetFetchTopic>>& topics) {
  std::lock_guard<std::mutex> lock(mu_);
  OffsetFetchResult result;
  std::shared_ptr<Group> g = find(group_id);
  if (g && g->is(GroupState::kDead)) g = nullptr;
  if (!topics) {
    if (g) {
      for (const auto& [tp, c] : g->offsets) {
        result.partitions.push_back(
            {tp.topic, tp.partition, c.offset, c.leader_epoch, c.metadata, ErrorCode::kNone});
      }
    }
    return result;
  }
  for (const OffsetFetchTopic& t : *topics) {
    for (int32_t p : t.partitions) {
      FetchedOffset f{t.topic, p, -1, -1, "", ErrorCode::kNone};
      if (g) {
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
        } else if (g->offsets.erase(tp)) {
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
        std::vector<GroupRecord> records;
        for (const auto& [tp, c] : g->offsets) records.push_back(offset_tombstone(id, tp));
        records.push_back({encode_group_key({id}), std::nullopt});
        g->offsets.clear();
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
    std::vector<GroupRecord> records;
    for (auto it = g->offsets.begin(); it != g->offsets.end();) {
      const auto& [tp, c] = *it;
      bool expired = false;
      if (!(skip_subscribed && g->subscribed_topics->count(tp.topic))) {
        const int64_t base = from_state_change
                                 ? g->state_timestamp_ms().value_or(c.commit_timestamp_ms)
                                 : c.commit_timestamp_ms;
        expired = c.expire_timestamp_ms ? now >= *c.expire_timestamp_ms : now - base >= retention;
      }
      if (expired) {
        records.push_back(offset_tombstone(g->id(), tp));
        it = g->offsets.erase(it);
      } else {
        ++it;
      }
    }
    if (g->is(GroupState::kEmpty) && g->offsets.empty() && g->pending_members().empty()) {
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
