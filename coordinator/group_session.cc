// GroupCoordinator: SyncGroup, Heartbeat, LeaveGroup and the member timers (session expiry,
// pending member ids, rebalance and sync deadlines), as Kafka's classic GroupCoordinator runs them.
#include <algorithm>

#include "coordinator/group_callbacks.h"
#include "coordinator/group_coordinator.h"
#include "spdlog/spdlog.h"

namespace gregor::coordinator {
namespace {

// A member that joined but has not been answered is dropped after this long (Kafka's
// NewMemberJoinTimeoutMs), so a client that disconnects mid-join does not block rebalances.
constexpr int64_t kNewMemberJoinTimeoutMs = 5 * 60 * 1000;

}  // namespace

using internal::join_error;
using internal::take;

void GroupCoordinator::reset_and_propagate_assignment_error(Group& g, ErrorCode error,
                                                            Deferred& out) {
  for (auto& [id, m] : g.mutable_members()) {
    m.assignment.clear();
    if (m.awaiting_sync) {
      SyncGroupResult r;
      r.error = error;
      out.add([cb = take(m.awaiting_sync), r] { cb(r); });
    }
  }
}

void GroupCoordinator::set_and_propagate_assignment(
    Group& g, const std::map<std::string, std::string>& assignment, Deferred& out) {
  const int64_t now = clock_->now_ms();
  for (auto& [id, m] : g.mutable_members()) {
    auto it = assignment.find(id);
    m.assignment = it == assignment.end() ? std::string() : it->second;
    if (m.awaiting_sync) {
      SyncGroupResult r;
      r.protocol_type = g.protocol_type;
      r.protocol_name = g.protocol_name;
      r.assignment = m.assignment;
      out.add([cb = take(m.awaiting_sync), r = std::move(r)] { cb(r); });
      m.last_heartbeat_ms = now;
    }
  }
}

void GroupCoordinator::sync_group(SyncGroupRequest req, SyncCallback done) {
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto fail = [&](ErrorCode e) {
      SyncGroupResult r;
      r.error = e;
      out.add([done, r] { done(r); });
    };
    std::shared_ptr<Group> g = req.group_id.empty() ? nullptr : find(req.group_id);
    Member* m = g ? g->get(req.member_id) : nullptr;
    if (req.group_id.empty()) {
      fail(ErrorCode::kInvalidGroupId);
    } else if (!g) {
      fail(ErrorCode::kUnknownMemberId);
    } else if (g->is(GroupState::kDead)) {
      fail(ErrorCode::kCoordinatorNotAvailable);
    } else if (auto error = g->validate_member(req.member_id, req.group_instance_id)) {
      fail(*error);
    } else if (req.generation_id != g->generation_id) {
      fail(ErrorCode::kIllegalGeneration);
    } else if ((req.protocol_type && req.protocol_type != g->protocol_type) ||
               (req.protocol_name && req.protocol_name != g->protocol_name)) {
      fail(ErrorCode::kInconsistentGroupProtocol);
    } else {
      switch (g->state()) {
        case GroupState::kEmpty:
        case GroupState::kDead:
          fail(ErrorCode::kUnknownMemberId);
          break;
        case GroupState::kPreparingRebalance:
          fail(ErrorCode::kRebalanceInProgress);
          break;
        case GroupState::kStable: {
          SyncGroupResult r;
          r.protocol_type = g->protocol_type;
          r.protocol_name = g->protocol_name;
          r.assignment = m->assignment;
          out.add([done, r = std::move(r)] { done(r); });
          m->last_heartbeat_ms = clock_->now_ms();
          g->pending_sync_members().erase(req.member_id);
          break;
        }
        case GroupState::kCompletingRebalance: {
          if (m->awaiting_sync) {
            SyncGroupResult r;
            r.error = ErrorCode::kRebalanceInProgress;
            out.add([cb = take(m->awaiting_sync), r] { cb(r); });
          }
          m->awaiting_sync = std::move(done);
          g->pending_sync_members().erase(req.member_id);
          if (g->leader_id != req.member_id) break;
          std::map<std::string, std::string> assignment;
          for (const auto& [id, member] : g->members()) assignment[id];
          for (auto& [id, bytes] : req.assignments) {
            if (assignment.count(id)) assignment[id] = std::move(bytes);
          }
          const int32_t generation = g->generation_id;
          // Everyone is answered only once the assignment is durable.
          store_group(
              *g, assignment,
              [this, g, generation, assignment](absl::Status st, Deferred& out) {
                if (!g->is(GroupState::kCompletingRebalance) || g->generation_id != generation)
                  return;
                if (!st.ok()) {
                  spdlog::warn("group {}: storing the assignment failed: {}", g->id(),
                               st.ToString());
                  reset_and_propagate_assignment_error(*g, ErrorCode::kCoordinatorNotAvailable,
                                                       out);
                  maybe_prepare_rebalance(g, out);
                  return;
                }
                set_and_propagate_assignment(*g, assignment, out);
                g->transition_to(GroupState::kStable, clock_->now_ms());
              },
              out);
          break;
        }
      }
    }
  }
  out.run();
}

ErrorCode GroupCoordinator::heartbeat(const HeartbeatRequest& req) {
  std::lock_guard<std::mutex> lock(mu_);
  if (req.group_id.empty()) return ErrorCode::kInvalidGroupId;
  std::shared_ptr<Group> g = find(req.group_id);
  if (!g) return ErrorCode::kUnknownMemberId;
  if (g->is(GroupState::kDead)) return ErrorCode::kCoordinatorNotAvailable;
  if (auto error = g->validate_member(req.member_id, req.group_instance_id)) return *error;
  Member* m = g->get(req.member_id);
  if (req.generation_id != g->generation_id) return ErrorCode::kIllegalGeneration;
  switch (g->state()) {
    case GroupState::kEmpty:
    case GroupState::kDead:
      return ErrorCode::kUnknownMemberId;
    case GroupState::kPreparingRebalance:
      m->last_heartbeat_ms = clock_->now_ms();
      return ErrorCode::kRebalanceInProgress;
    case GroupState::kCompletingRebalance:
      // Members may heartbeat between their JoinGroup answer and SyncGroup (Kafka 2.5+).
    case GroupState::kStable:
      m->last_heartbeat_ms = clock_->now_ms();
      return ErrorCode::kNone;
  }
  return ErrorCode::kUnknownServerError;
}

LeaveGroupResult GroupCoordinator::leave_group(const std::string& group_id,
                                               const std::vector<LeavingMember>& members) {
  LeaveGroupResult result;
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<Group> g = group_id.empty() ? nullptr : find(group_id);
    if (group_id.empty()) {
      result.error = ErrorCode::kInvalidGroupId;
    } else if (!g) {
      result.member_errors.assign(members.size(), ErrorCode::kUnknownMemberId);
    } else if (g->is(GroupState::kDead)) {
      result.error = ErrorCode::kCoordinatorNotAvailable;
    } else {
      for (const LeavingMember& lm : members) {
        ErrorCode e = ErrorCode::kNone;
        if (lm.member_id.empty()) {
          // Administrative removal of a static member by its group.instance.id.
          const std::optional<std::string> id =
              lm.group_instance_id ? g->static_member_id(*lm.group_instance_id) : std::nullopt;
          if (id) {
            spdlog::info("group {}: static member {} removed", g->id(), *id);
            remove_member_and_update_group(g, *id, out);
          } else {
            e = ErrorCode::kUnknownMemberId;
          }
        } else if (g->pending_members().erase(lm.member_id)) {
          maybe_complete_join(g, out);
        } else if (auto error = g->validate_member(lm.member_id, lm.group_instance_id)) {
          e = *error;
        } else {
          spdlog::info("group {}: member {} leaves", g->id(), lm.member_id);
          remove_member_and_update_group(g, lm.member_id, out);
        }
        result.member_errors.push_back(e);
      }
    }
  }
  out.run();
  return result;
}

bool GroupCoordinator::member_keep_alive(const Member& m, int64_t now) const {
  if (m.awaiting_join) return !m.is_new || now < m.last_heartbeat_ms + kNewMemberJoinTimeoutMs;
  if (m.awaiting_sync) return true;
  return now < m.last_heartbeat_ms + m.session_timeout_ms;
}

int64_t GroupCoordinator::member_deadline(const Member& m) const {
  if (m.awaiting_join) {
    return m.is_new ? m.last_heartbeat_ms + kNewMemberJoinTimeoutMs : INT64_MAX;
  }
  if (m.awaiting_sync) return INT64_MAX;
  return m.last_heartbeat_ms + m.session_timeout_ms;
}

void GroupCoordinator::expire_group_timers(const std::shared_ptr<Group>& g, int64_t now,
                                           Deferred& out) {
  auto& pending = g->pending_members();
  for (auto it = pending.begin(); it != pending.end();) {
    it = it->second <= now ? pending.erase(it) : std::next(it);
  }
  std::vector<std::string> expired;
  for (const auto& [id, m] : g->members()) {
    if (!member_keep_alive(m, now)) expired.push_back(id);
  }
  for (const std::string& id : expired) {
    spdlog::info("group {}: member {} session expired", g->id(), id);
    remove_member_and_update_group(g, id, out);
  }
  if (g->is(GroupState::kPreparingRebalance) && g->join_deadline_ms >= 0 &&
      now >= g->join_deadline_ms) {
    if (g->initial_delay_active && g->new_member_added && g->initial_delay_remaining_ms > 0) {
      const int64_t delay = std::min<int64_t>(config_.group_initial_rebalance_delay_ms,
                                              g->initial_delay_remaining_ms);
      g->initial_delay_remaining_ms = std::max<int64_t>(g->initial_delay_remaining_ms - delay, 0);
      g->new_member_added = false;
      g->join_deadline_ms = now + delay;
    } else {
      complete_join(g, out);
    }
  }
  maybe_complete_join(g, out);
  if ((g->is(GroupState::kCompletingRebalance) || g->is(GroupState::kStable)) &&
      g->sync_deadline_ms >= 0 && now >= g->sync_deadline_ms) {
    g->sync_deadline_ms = -1;
    if (!g->pending_sync_members().empty()) {
      const std::set<std::string> late = g->pending_sync_members();
      for (const std::string& id : late) {
        spdlog::info("group {}: member {} did not sync in time, removing it", g->id(), id);
        Member* m = g->get(id);
        if (m && m->awaiting_join) {
          out.add([cb = take(m->awaiting_join), r = join_error(id, ErrorCode::kUnknownMemberId)] {
            cb(r);
          });
        }
        g->remove(id);
      }
      prepare_rebalance(g, out);
    }
  }
}

}  // namespace gregor::coordinator
