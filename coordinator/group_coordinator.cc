// GroupCoordinator: construction, persistence to and replay from __consumer_offsets, timers,
// and the read-only views (ListGroups, DescribeGroups).
#include "coordinator/group_coordinator.h"

#include "coordinator/group_records.h"
#include "spdlog/spdlog.h"
#include "storage/file.h"

namespace gregor::coordinator {

GroupCoordinator::GroupCoordinator(GroupConfig config, const storage::Clock* clock, GroupLog* log)
    : config_(config),
      clock_(clock),
      log_(log),
      next_offsets_check_ms_(clock->now_ms() + config.offsets_retention_check_interval_ms),
      rng_(std::random_device{}()) {
  GREGOR_INVARIANT(config_.offsets_topic_num_partitions > 0);
}

int32_t GroupCoordinator::partition_for(const std::string& group_id) const {
  return offsets_partition_for(group_id, config_.offsets_topic_num_partitions);
}

std::shared_ptr<Group> GroupCoordinator::find(const std::string& group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second;
}

void GroupCoordinator::maybe_erase_unused(const std::shared_ptr<Group>& g) {
  // A group that was created by a request that failed and never persisted anything.
  if (g->is(GroupState::kEmpty) && g->empty() && g->pending_members().empty() &&
      !g->has_offsets() && g->generation_id == 0 && find(g->id()) == g) {
    groups_.erase(g->id());
  }
}

void GroupCoordinator::append(const std::string& group_id, std::vector<GroupRecord> records,
                              LockedDone done, Deferred& out) {
  const int32_t partition = partition_for(group_id);
  out.add([this, partition, records = std::move(records), done = std::move(done)]() mutable {
    log_->append(partition, std::move(records), [this, done = std::move(done)](absl::Status st) {
      Deferred later;
      {
        std::lock_guard<std::mutex> lock(mu_);
        done(std::move(st), later);
      }
      later.run();
    });
  });
}

void GroupCoordinator::append_transactional(const std::string& group_id,
                                            std::vector<GroupRecord> records, int64_t producer_id,
                                            int16_t producer_epoch, storage::TxnVerifier verify,
                                            LockedDone done, Deferred& out) {
  const int32_t partition = partition_for(group_id);
  out.add([this, partition, records = std::move(records), producer_id, producer_epoch,
           verify = std::move(verify), done = std::move(done)]() mutable {
    log_->append_transactional(partition, std::move(records), producer_id, producer_epoch,
                               std::move(verify), [this, done = std::move(done)](absl::Status st) {
                                 Deferred later;
                                 {
                                   std::lock_guard<std::mutex> lock(mu_);
                                   done(std::move(st), later);
                                 }
                                 later.run();
                               });
  });
}

void GroupCoordinator::store_group(const Group& g,
                                   const std::map<std::string, std::string>& assignment,
                                   LockedDone done, Deferred& out) {
  protocol::msg::GroupMetadataValue v;
  v.protocol_type = g.protocol_type.value_or("");
  v.generation = g.generation_id;
  v.protocol = g.protocol_name;
  v.leader = g.leader_id;
  v.current_state_timestamp = g.state_timestamp_ms().value_or(-1);
  for (const auto& [id, m] : g.members()) {
    protocol::msg::GroupMetadataValue::MemberMetadata mm;
    mm.member_id = id;
    mm.group_instance_id = m.group_instance_id;
    mm.client_id = m.client_id;
    mm.client_host = m.client_host;
    mm.rebalance_timeout = m.rebalance_timeout_ms;
    mm.session_timeout = m.session_timeout_ms;
    const std::string* md = g.protocol_name ? m.metadata(*g.protocol_name) : nullptr;
    mm.subscription = md ? *md : std::string();
    auto it = assignment.find(id);
    mm.assignment = it == assignment.end() ? std::string() : it->second;
    v.members.push_back(std::move(mm));
  }
  std::vector<GroupRecord> records;
  records.push_back({encode_group_key({g.id()}), encode_group_value(v)});
  append(g.id(), std::move(records), std::move(done), out);
}

absl::Status GroupCoordinator::load(int32_t offsets_partition, std::string_view key,
                                    std::optional<std::string_view> value) {
  return load_record(offsets_partition, std::nullopt, key, value);
}

absl::Status GroupCoordinator::load_transactional(int32_t offsets_partition, int64_t producer_id,
                                                  std::string_view key,
                                                  std::optional<std::string_view> value) {
  return load_record(offsets_partition, producer_id, key, value);
}

void GroupCoordinator::load_control(int32_t offsets_partition, int64_t producer_id, bool commit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> bare;
  for (const auto& [id, g] : groups_) {
    if (partition_for(id) != offsets_partition || !g->complete_txn(producer_id, commit)) continue;
    if (g->empty() && g->generation_id == 0 && !g->protocol_type && !g->has_offsets()) {
      bare.push_back(id);
    }
  }
  for (const std::string& id : bare) groups_.erase(id);
}

absl::Status GroupCoordinator::load_record(int32_t offsets_partition,
                                           std::optional<int64_t> producer_id,
                                           std::string_view key_bytes,
                                           std::optional<std::string_view> value) {
  absl::StatusOr<RecordKey> key = decode_key(key_bytes);
  if (!key.ok()) return key.status();
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_->now_ms();
  // Records are loaded in log order, after which appends continue the numbering.
  const int64_t log_seq = next_log_seq_++;
  auto get_or_create = [&](const std::string& id) {
    std::shared_ptr<Group> g = find(id);
    if (!g) {
      g = std::make_shared<Group>(id, now);
      g->load_state(GroupState::kEmpty, std::nullopt);
      groups_[id] = g;
    }
    return g;
  };
  auto is_bare = [](const Group& g) {
    return g.empty() && g.generation_id == 0 && !g.protocol_type && !g.has_offsets();
  };
  if (const auto* ok = std::get_if<OffsetKey>(&*key)) {
    if (partition_for(ok->group) != offsets_partition) {
      spdlog::warn("__consumer_offsets-{}: offset of group {} belongs to partition {}",
                   offsets_partition, ok->group, partition_for(ok->group));
    }
    const TopicPartition tp{ok->topic, ok->partition};
    if (!value) {
      if (std::shared_ptr<Group> g = find(ok->group)) {
        if (producer_id) {
          auto it = g->pending_txn_offsets.find(*producer_id);
          if (it != g->pending_txn_offsets.end()) {
            it->second.erase(tp);
            if (it->second.empty()) g->pending_txn_offsets.erase(it);
          }
        } else {
          // As in memory: a plain tombstone (OffsetDelete, retention, group deletion) drops
          // the pending offsets of that partition too.
          g->remove_offsets(tp);
        }
        if (is_bare(*g)) groups_.erase(ok->group);
      }
      return absl::OkStatus();
    }
    auto v = decode_offset_value(*value);
    if (!v.ok()) return v.status();
    CommittedOffset c;
    c.offset = v->offset;
    c.leader_epoch = v->leader_epoch;
    c.metadata = std::move(v->metadata);
    c.commit_timestamp_ms = v->commit_timestamp;
    if (v->expire_timestamp >= 0) c.expire_timestamp_ms = v->expire_timestamp;
    c.log_seq = log_seq;
    std::shared_ptr<Group> g = get_or_create(ok->group);
    if (producer_id) {
      g->pending_txn_offsets[*producer_id][tp] = PendingTxnOffset{std::move(c), true};
    } else {
      g->offsets[tp] = std::move(c);
    }
    return absl::OkStatus();
  }
  const auto& gk = std::get<GroupKey>(*key);
  if (!value) {
    if (std::shared_ptr<Group> g = find(gk.group)) {
      if (!g->has_offsets()) {
        groups_.erase(gk.group);
      } else {
        // The offsets outlive the metadata: keep them in a fresh Empty group.
        auto fresh = std::make_shared<Group>(gk.group, now);
        fresh->load_state(GroupState::kEmpty, std::nullopt);
        fresh->offsets = std::move(g->offsets);
        fresh->pending_txn_offsets = std::move(g->pending_txn_offsets);
        groups_[gk.group] = fresh;
      }
    }
    return absl::OkStatus();
  }
  auto v = decode_group_value(*value);
  if (!v.ok()) return v.status();
  std::shared_ptr<Group> old = find(gk.group);
  auto g = std::make_shared<Group>(gk.group, now);
  if (old) {
    g->offsets = std::move(old->offsets);
    g->pending_txn_offsets = std::move(old->pending_txn_offsets);
  }
  g->generation_id = v->generation;
  g->protocol_name = v->protocol;
  for (auto& mm : v->members) {
    Member m;
    m.member_id = mm.member_id;
    m.group_instance_id = mm.group_instance_id;
    m.client_id = std::move(mm.client_id);
    m.client_host = std::move(mm.client_host);
    m.session_timeout_ms = mm.session_timeout;
    // Version 0 had no rebalance timeout; Kafka then uses the session timeout.
    m.rebalance_timeout_ms = mm.rebalance_timeout > 0 ? mm.rebalance_timeout : mm.session_timeout;
    m.protocol_type = v->protocol_type;
    m.protocols.push_back({v->protocol.value_or(""), std::move(mm.subscription)});
    m.assignment = std::move(mm.assignment);
    m.last_heartbeat_ms = now;
    if (!g->has(m.member_id)) g->add(std::move(m));
  }
  g->protocol_type.reset();
  if (!v->protocol_type.empty()) g->protocol_type = v->protocol_type;
  g->leader_id = v->leader;
  if (g->leader_id && !g->has(*g->leader_id)) g->leader_id.reset();
  if (!g->leader_id && !g->empty()) g->leader_id = g->members().begin()->first;
  const std::optional<int64_t> ts = v->current_state_timestamp >= 0
                                        ? std::optional<int64_t>(v->current_state_timestamp)
                                        : std::nullopt;
  g->load_state(g->empty() ? GroupState::kEmpty : GroupState::kStable, ts);
  g->refresh_subscribed_topics();
  groups_[gk.group] = g;
  return absl::OkStatus();
}

void GroupCoordinator::tick() {
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_->now_ms();
    std::vector<std::shared_ptr<Group>> all;
    all.reserve(groups_.size());
    for (const auto& [id, g] : groups_) all.push_back(g);
    for (const auto& g : all) {
      expire_group_timers(g, now, out);
      maybe_erase_unused(g);
    }
    if (now >= next_offsets_check_ms_) {
      expire_offsets(now, out);
      next_offsets_check_ms_ = now + config_.offsets_retention_check_interval_ms;
    }
  }
  out.run();
}

int64_t GroupCoordinator::next_deadline_ms() const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t next = next_offsets_check_ms_;
  for (const auto& [gid, g] : groups_) {
    for (const auto& [id, deadline] : g->pending_members()) {
      next = std::min(next, deadline);
    }
    for (const auto& [id, m] : g->members()) next = std::min(next, member_deadline(m));
    if (g->is(GroupState::kPreparingRebalance) && g->join_deadline_ms >= 0) {
      next = std::min(next, g->join_deadline_ms);
    }
    if (g->sync_deadline_ms >= 0 &&
        (g->is(GroupState::kCompletingRebalance) || g->is(GroupState::kStable))) {
      next = std::min(next, g->sync_deadline_ms);
    }
  }
  return next;
}

std::vector<GroupListing> GroupCoordinator::list_groups(
    const std::vector<std::string>& states) const {
  std::set<GroupState> wanted;
  for (const std::string& s : states) {
    if (auto st = parse_group_state(s)) wanted.insert(*st);
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<GroupListing> out;
  for (const auto& [id, g] : groups_) {
    if (!states.empty() && !wanted.count(g->state())) continue;
    out.push_back({id, g->protocol_type.value_or(""), std::string(group_state_name(g->state()))});
  }
  return out;
}

GroupDescription GroupCoordinator::describe_group(const std::string& group_id) const {
  GroupDescription d;
  d.group_id = group_id;
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Group> g = find(group_id);
  if (!g) {
    d.state = group_state_name(GroupState::kDead);
    return d;
  }
  d.state = group_state_name(g->state());
  d.protocol_type = g->protocol_type.value_or("");
  const bool stable = g->is(GroupState::kStable);
  if (stable) d.protocol = g->protocol_name.value_or("");
  for (const auto& [id, m] : g->members()) {
    MemberDescription md{id, m.group_instance_id, m.client_id, m.client_host, "", ""};
    if (stable) {
      const std::string* meta = m.metadata(d.protocol);
      md.metadata = meta ? *meta : std::string();
      md.assignment = m.assignment;
    }
    d.members.push_back(std::move(md));
  }
  return d;
}

}  // namespace gregor::coordinator
