// Group state, membership bookkeeping and protocol selection (Kafka's GroupMetadata rules).
#include "coordinator/group.h"

#include <algorithm>
#include <cctype>

#include "coordinator/consumer_protocol.h"
#include "storage/file.h"

namespace gregor::coordinator {

std::string_view group_state_name(GroupState s) {
  switch (s) {
    case GroupState::kEmpty:
      return "Empty";
    case GroupState::kPreparingRebalance:
      return "PreparingRebalance";
    case GroupState::kCompletingRebalance:
      return "CompletingRebalance";
    case GroupState::kStable:
      return "Stable";
    case GroupState::kDead:
      return "Dead";
  }
  return "Unknown";
}

std::optional<GroupState> parse_group_state(std::string_view name) {
  for (GroupState s : {GroupState::kEmpty, GroupState::kPreparingRebalance,
                       GroupState::kCompletingRebalance, GroupState::kStable, GroupState::kDead}) {
    const std::string_view n = group_state_name(s);
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return s;
    }
  }
  return std::nullopt;
}

const std::string* Member::metadata(std::string_view protocol) const {
  for (const Protocol& p : protocols) {
    if (p.name == protocol) return &p.metadata;
  }
  return nullptr;
}

bool Member::matches(const std::vector<Protocol>& other) const {
  return protocols == other;
}

Group::Group(std::string group_id, int64_t now_ms)
    : id_(std::move(group_id)), state_timestamp_ms_(now_ms) {}

void Group::transition_to(GroupState to, int64_t now_ms) {
  bool valid = false;
  switch (to) {
    case GroupState::kDead:
      valid = true;
      break;
    case GroupState::kCompletingRebalance:
      valid = state_ == GroupState::kPreparingRebalance;
      break;
    case GroupState::kStable:
      valid = state_ == GroupState::kCompletingRebalance;
      break;
    case GroupState::kPreparingRebalance:
      valid = can_rebalance();
      break;
    case GroupState::kEmpty:
      valid = state_ == GroupState::kPreparingRebalance;
      break;
  }
  GREGOR_INVARIANT((valid) && "illegal group state transition");
  (void)valid;
  state_ = to;
  state_timestamp_ms_ = now_ms;
}

void Group::load_state(GroupState s, std::optional<int64_t> timestamp_ms) {
  state_ = s;
  state_timestamp_ms_ = timestamp_ms;
}

bool Group::can_rebalance() const {
  return state_ == GroupState::kStable || state_ == GroupState::kCompletingRebalance ||
         state_ == GroupState::kEmpty;
}

Member* Group::get(const std::string& member_id) {
  auto it = members_.find(member_id);
  return it == members_.end() ? nullptr : &it->second;
}

void Group::add(Member m) {
  GREGOR_INVARIANT(!has(m.member_id));
  if (members_.empty()) protocol_type = m.protocol_type;
  if (!leader_id) leader_id = m.member_id;
  if (m.group_instance_id) static_members_[*m.group_instance_id] = m.member_id;
  pending_members_.erase(m.member_id);
  std::string id = m.member_id;
  members_.emplace(std::move(id), std::move(m));
}

void Group::remove(const std::string& member_id) {
  auto it = members_.find(member_id);
  if (it == members_.end()) return;
  if (it->second.group_instance_id) {
    auto s = static_members_.find(*it->second.group_instance_id);
    if (s != static_members_.end() && s->second == member_id) static_members_.erase(s);
  }
  members_.erase(it);
  pending_sync_.erase(member_id);
  if (leader_id == member_id) {
    leader_id.reset();
    if (!members_.empty()) leader_id = members_.begin()->first;
  }
}

Member& Group::replace_static_member(const std::string& instance_id, const std::string& old_id,
                                     const std::string& new_id) {
  GREGOR_INVARIANT(static_members_.count(instance_id) && static_members_[instance_id] == old_id);
  auto node = members_.extract(old_id);
  GREGOR_INVARIANT(!node.empty());
  node.key() = new_id;
  node.mapped().member_id = new_id;
  auto [it, inserted, unused] = members_.insert(std::move(node));
  GREGOR_INVARIANT(inserted);
  (void)inserted;
  static_members_[instance_id] = new_id;
  if (leader_id == old_id) leader_id = new_id;
  if (pending_sync_.erase(old_id)) pending_sync_.insert(new_id);
  return it->second;
}

std::optional<std::string> Group::static_member_id(const std::string& instance_id) const {
  auto it = static_members_.find(instance_id);
  if (it == static_members_.end()) return std::nullopt;
  return it->second;
}

bool Group::is_static_member_fenced(const std::string& member_id,
                                    const std::optional<std::string>& instance_id) const {
  if (!instance_id) return false;
  auto it = static_members_.find(*instance_id);
  return it != static_members_.end() && it->second != member_id;
}

std::optional<ErrorCode> Group::validate_member(
    const std::string& member_id, const std::optional<std::string>& instance_id) const {
  if (instance_id) {
    auto it = static_members_.find(*instance_id);
    if (it == static_members_.end()) return ErrorCode::kUnknownMemberId;
    if (it->second != member_id) return ErrorCode::kFencedInstanceId;
  }
  if (!has(member_id)) return ErrorCode::kUnknownMemberId;
  return std::nullopt;
}

int Group::num_awaiting_join() const {
  int n = 0;
  for (const auto& [id, m] : members_) n += m.awaiting_join ? 1 : 0;
  return n;
}

bool Group::has_all_members_joined() const {
  return static_cast<size_t>(num_awaiting_join()) == members_.size() && pending_members_.empty();
}

int32_t Group::rebalance_timeout_ms() const {
  int32_t t = 0;
  for (const auto& [id, m] : members_) t = std::max(t, m.rebalance_timeout_ms);
  return t;
}

bool Group::maybe_elect_new_joined_leader() {
  if (!leader_id) return false;
  const Member* leader = get(*leader_id);
  if (leader != nullptr && leader->awaiting_join) return true;
  for (const auto& [id, m] : members_) {
    if (m.awaiting_join) {
      leader_id = id;
      return true;
    }
  }
  return false;
}

bool Group::supports_protocols(const std::string& type,
                               const std::vector<Protocol>& protocols) const {
  if (members_.empty()) return !type.empty() && !protocols.empty();
  if (protocol_type != type) return false;
  for (const Protocol& p : protocols) {
    bool everyone = true;
    for (const auto& [id, m] : members_) {
      if (m.metadata(p.name) == nullptr) {
        everyone = false;
        break;
      }
    }
    if (everyone) return true;
  }
  return false;
}

std::string Group::select_protocol() const {
  GREGOR_INVARIANT(!members_.empty());
  std::set<std::string> candidates;
  for (const Protocol& p : members_.begin()->second.protocols) candidates.insert(p.name);
  for (const auto& [id, m] : members_) {
    std::set<std::string> mine;
    for (const Protocol& p : m.protocols) {
      if (candidates.count(p.name)) mine.insert(p.name);
    }
    candidates = std::move(mine);
  }
  // Every member passed supports_protocols when it joined, so a common protocol exists.
  GREGOR_INVARIANT(!candidates.empty());
  std::map<std::string, int> votes;
  for (const auto& [id, m] : members_) {
    for (const Protocol& p : m.protocols) {
      if (candidates.count(p.name)) {
        ++votes[p.name];
        break;
      }
    }
  }
  std::string best;
  int best_votes = -1;
  for (const auto& [name, n] : votes) {
    if (n > best_votes) best = name, best_votes = n;
  }
  return best;
}

void Group::init_next_generation(int64_t now_ms) {
  ++generation_id;
  if (!members_.empty()) {
    protocol_name = select_protocol();
    refresh_subscribed_topics();
    transition_to(GroupState::kCompletingRebalance, now_ms);
  } else {
    protocol_name.reset();
    subscribed_topics.reset();
    transition_to(GroupState::kEmpty, now_ms);
  }
}

void Group::refresh_subscribed_topics() {
  subscribed_topics.reset();
  if (protocol_type != kConsumerProtocolType || !protocol_name) return;
  std::set<std::string> all;
  for (const auto& [id, m] : members_) {
    const std::string* md = m.metadata(*protocol_name);
    if (md == nullptr) return;
    auto topics = parse_subscribed_topics(*md);
    if (!topics) return;
    all.insert(topics->begin(), topics->end());
  }
  subscribed_topics = std::move(all);
}

std::vector<JoinGroupMember> Group::current_member_metadata() const {
  std::vector<JoinGroupMember> out;
  out.reserve(members_.size());
  for (const auto& [id, m] : members_) {
    const std::string* md = protocol_name ? m.metadata(*protocol_name) : nullptr;
    out.push_back({id, m.group_instance_id, md ? *md : std::string()});
  }
  return out;
}

bool Group::has_pending_txn_offset(const TopicPartition& tp) const {
  for (const auto& [pid, offsets] : pending_txn_offsets) {
    if (offsets.count(tp)) return true;
  }
  return false;
}

bool Group::complete_txn(int64_t producer_id, bool commit) {
  auto it = pending_txn_offsets.find(producer_id);
  if (it == pending_txn_offsets.end()) return false;
  if (commit) {
    for (auto& [tp, p] : it->second) {
      // Kafka fails here (IllegalStateException): a marker cannot come before the producer had
      // its TxnOffsetCommit answer. Dropping the in-flight offset keeps the group consistent.
      if (!p.appended) continue;
      auto cur = offsets.find(tp);
      if (cur == offsets.end() || cur->second.log_seq < p.offset.log_seq) {
        offsets[tp] = std::move(p.offset);
      }
    }
  }
  pending_txn_offsets.erase(it);
  return true;
}

bool Group::remove_offsets(const TopicPartition& tp) {
  bool removed = offsets.erase(tp) > 0;
  for (auto it = pending_txn_offsets.begin(); it != pending_txn_offsets.end();) {
    removed |= it->second.erase(tp) > 0;
    it = it->second.empty() ? pending_txn_offsets.erase(it) : std::next(it);
  }
  return removed;
}

}  // namespace gregor::coordinator
