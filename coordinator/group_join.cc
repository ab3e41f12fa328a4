// GroupCoordinator: JoinGroup and the rebalance state machine (prepare, complete, generations),
// following Kafka's classic GroupCoordinator (KIP-345, KIP-394, KIP-134, KIP-814).
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "coordinator/group_callbacks.h"
#include "coordinator/group_coordinator.h"
#include "spdlog/spdlog.h"
#include "storage/file.h"

namespace gregor::coordinator {

using internal::join_error;
using internal::take;

void GroupCoordinator::join_group(JoinGroupRequest req, JoinCallback done) {
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_->now_ms();
    auto fail = [&](ErrorCode e, const std::string& member_id) {
      out.add([done, r = join_error(member_id, e)] { done(r); });
    };
    if (req.rebalance_timeout_ms < 0) req.rebalance_timeout_ms = req.session_timeout_ms;
    std::shared_ptr<Group> g;
    if (req.group_id.empty()) {
      fail(ErrorCode::kInvalidGroupId, req.member_id);
    } else if (req.session_timeout_ms < config_.group_min_session_timeout_ms ||
               req.session_timeout_ms > config_.group_max_session_timeout_ms) {
      fail(ErrorCode::kInvalidSessionTimeout, req.member_id);
    } else if (g = find(req.group_id); !g && !req.member_id.empty()) {
      // Only a member without an id may create a group.
      fail(ErrorCode::kUnknownMemberId, req.member_id);
    } else {
      if (!g) {
        g = std::make_shared<Group>(req.group_id, now);
        groups_[req.group_id] = g;
      }
      const Member* m = g->get(req.member_id);
      bool accept = true;
      switch (g->state()) {
        case GroupState::kEmpty:
        case GroupState::kDead:
          break;
        case GroupState::kPreparingRebalance:
          accept =
              (m != nullptr && m->awaiting_join) || g->num_awaiting_join() < config_.group_max_size;
          break;
        case GroupState::kCompletingRebalance:
        case GroupState::kStable:
          accept =
              m != nullptr || g->members().size() < static_cast<size_t>(config_.group_max_size);
          break;
      }
      if (!accept) {
        remove_member_and_update_group(g, req.member_id, out);
        fail(ErrorCode::kGroupMaxSizeReached, "");
      } else if (req.member_id.empty()) {
        join_new_member(g, req, std::move(done), out);
      } else {
        join_current_member(g, req, std::move(done), out);
      }
      maybe_complete_join(g, out);
      maybe_erase_unused(g);
    }
  }
  out.run();
}

void GroupCoordinator::join_new_member(const std::shared_ptr<Group>& g, JoinGroupRequest& req,
                                       JoinCallback done, Deferred& out) {
  auto respond = [&](JoinGroupResult r) { out.add([done, r = std::move(r)] { done(r); }); };
  if (g->is(GroupState::kDead)) {
    respond(join_error("", ErrorCode::kCoordinatorNotAvailable));
  } else if (!g->supports_protocols(req.protocol_type, req.protocols)) {
    respond(join_error("", ErrorCode::kInconsistentGroupProtocol));
  } else {
    const std::string id = new_member_id(req.group_instance_id.value_or(req.client_id));
    if (req.group_instance_id) {
      join_static_member(g, req, id, std::move(done), out);
    } else if (req.require_known_member_id) {
      // KIP-394: the member must come back with this id; until then it blocks the rebalance
      // for at most its session timeout.
      g->pending_members()[id] = clock_->now_ms() + req.session_timeout_ms;
      respond(join_error(id, ErrorCode::kMemberIdRequired));
    } else {
      add_member_and_rebalance(g, req, id, std::move(done), out);
    }
  }
}

void GroupCoordinator::join_static_member(const std::shared_ptr<Group>& g, JoinGroupRequest& req,
                                          const std::string& new_id, JoinCallback done,
                                          Deferred& out) {
  const std::string& instance = *req.group_instance_id;
  const std::optional<std::string> old_id = g->static_member_id(instance);
  if (!old_id) {
    add_member_and_rebalance(g, req, new_id, std::move(done), out);
    return;
  }
  Member* old = g->get(*old_id);
  GREGOR_INVARIANT(old != nullptr);
  // The old incarnation of this instance is fenced: answer whatever it is waiting for.
  if (old->awaiting_join) {
    out.add([cb = take(old->awaiting_join), r = join_error(*old_id, ErrorCode::kFencedInstanceId)] {
      cb(r);
    });
  }
  if (old->awaiting_sync) {
    SyncGroupResult r;
    r.error = ErrorCode::kFencedInstanceId;
    out.add([cb = take(old->awaiting_sync), r] { cb(r); });
  }
  const std::string old_leader = g->leader_id.value_or("");
  const int32_t old_rebalance_timeout = old->rebalance_timeout_ms;
  const int32_t old_session_timeout = old->session_timeout_ms;
  Member& m = g->replace_static_member(instance, *old_id, new_id);
  m.last_heartbeat_ms = clock_->now_ms();

  switch (g->state()) {
    case GroupState::kStable: {
      const std::vector<Protocol> old_protocols = m.protocols;
      m.protocols = req.protocols;
      if (g->select_protocol() != g->protocol_name) {
        // Kafka's rule: only a change of the group's selected protocol forces a rebalance.
        m.protocols = old_protocols;
        update_member_and_rebalance(g, m, req, std::move(done), out);
        return;
      }
      m.rebalance_timeout_ms = req.rebalance_timeout_ms;
      m.session_timeout_ms = req.session_timeout_ms;
      // Parked like a JoinGroup: if a rebalance completes before the write, that answers it.
      m.awaiting_join = std::move(done);
      std::map<std::string, std::string> assignment;
      for (const auto& [id, member] : g->members()) assignment[id] = member.assignment;
      // No rebalance: the new id is persisted, then the member gets the current generation.
      store_group(
          *g, assignment,
          [this, g, instance, old_id = *old_id, new_id, old_leader, old_protocols,
           old_rebalance_timeout, old_session_timeout,
           skip = req.supports_skip_assignment](absl::Status st, Deferred& out) {
            Member* m = g->get(new_id);
            if (m == nullptr || !m->awaiting_join) return;  // already answered (left, rebalanced)
            JoinCallback cb = take(m->awaiting_join);
            if (!st.ok()) {
              spdlog::warn("group {}: storing static member {} failed: {}", g->id(), new_id,
                           st.ToString());
              Member& back = g->replace_static_member(instance, new_id, old_id);
              back.protocols = old_protocols;
              back.rebalance_timeout_ms = old_rebalance_timeout;
              back.session_timeout_ms = old_session_timeout;
              out.add([cb, r = join_error("", ErrorCode::kCoordinatorNotAvailable)] { cb(r); });
              return;
            }
            JoinGroupResult r;
            if (skip) {
              // KIP-814: a static leader gets the members but must not reassign.
              const std::string leader = g->leader_id.value_or("");
              r = join_result(*g, new_id, leader == new_id, leader);
              r.skip_assignment = leader == new_id;
            } else {
              // Older clients: return the old leader id, so a rejoining leader does not see itself
              // as leader and run an assignment a Stable group would not propagate.
              r = join_result(*g, new_id, false, old_leader);
            }
            out.add([cb, r = std::move(r)] { cb(r); });
          },
          out);
      return;
    }
    case GroupState::kCompletingRebalance:
      // The leader may already be assigning with the old id; only a new rebalance gives the
      // new id an assignment.
      update_member_and_rebalance(g, m, req, std::move(done), out);
      return;
    case GroupState::kPreparingRebalance:
      update_member(m, req, std::move(done), out);
      return;
    case GroupState::kEmpty:
    case GroupState::kDead:
      break;
  }
  GREGOR_INVARIANT((false) && "a group with a static member is neither Empty nor Dead");
}

void GroupCoordinator::join_current_member(const std::shared_ptr<Group>& g, JoinGroupRequest& req,
                                           JoinCallback done, Deferred& out) {
  const std::string& id = req.member_id;
  auto respond = [&](JoinGroupResult r) { out.add([done, r = std::move(r)] { done(r); }); };
  if (g->is(GroupState::kDead)) {
    respond(join_error(id, ErrorCode::kCoordinatorNotAvailable));
  } else if (!g->supports_protocols(req.protocol_type, req.protocols)) {
    respond(join_error(id, ErrorCode::kInconsistentGroupProtocol));
  } else if (g->pending_members().count(id)) {
    if (req.group_instance_id) {
      respond(join_error(id, ErrorCode::kUnknownMemberId));  // pending ids are never static
    } else {
      add_member_and_rebalance(g, req, id, std::move(done), out);
    }
  } else if (auto error = g->validate_member(id, req.group_instance_id)) {
    respond(join_error(id, *error));
  } else {
    Member& m = *g->get(id);
    switch (g->state()) {
      case GroupState::kPreparingRebalance:
        update_member_and_rebalance(g, m, req, std::move(done), out);
        break;
      case GroupState::kCompletingRebalance:
        if (m.matches(req.protocols)) {
          // It lost the JoinGroup answer; repeat it.
          const std::string leader = g->leader_id.value_or("");
          respond(join_result(*g, id, leader == id, leader));
        } else {
          update_member_and_rebalance(g, m, req, std::move(done), out);
        }
        break;
      case GroupState::kStable:
        // The leader rejoining forces a rebalance: that is how it reacts to metadata changes
        // its members' subscriptions do not show.
        if (g->leader_id == id || !m.matches(req.protocols)) {
          update_member_and_rebalance(g, m, req, std::move(done), out);
        } else {
          respond(join_result(*g, id, false, g->leader_id.value_or("")));
        }
        break;
      case GroupState::kEmpty:
      case GroupState::kDead:
        respond(join_error(id, ErrorCode::kUnknownMemberId));
        break;
    }
  }
}

void GroupCoordinator::add_member_and_rebalance(const std::shared_ptr<Group>& g,
                                                const JoinGroupRequest& req,
                                                const std::string& member_id, JoinCallback done,
                                                Deferred& out) {
  Member m;
  m.member_id = member_id;
  m.group_instance_id = req.group_instance_id;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.session_timeout_ms = req.session_timeout_ms;
  m.protocol_type = req.protocol_type;
  m.protocols = req.protocols;
  m.awaiting_join = std::move(done);
  m.is_new = true;
  m.last_heartbeat_ms = clock_->now_ms();
  // KIP-134: members arriving during the first rebalance's delay extend it.
  if (g->is(GroupState::kPreparingRebalance) && g->generation_id == 0) g->new_member_added = true;
  g->add(std::move(m));
  maybe_prepare_rebalance(g, out);
}

void GroupCoordinator::update_member(Member& m, const JoinGroupRequest& req, JoinCallback done,
                                     Deferred& out) {
  if (m.awaiting_join) {
    // A second JoinGroup supersedes the first; the first still gets exactly one answer.
    out.add([cb = take(m.awaiting_join),
             r = join_error(m.member_id, ErrorCode::kRebalanceInProgress)] { cb(r); });
  }
  m.protocols = req.protocols;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.session_timeout_ms = req.session_timeout_ms;
  m.awaiting_join = std::move(done);
}

void GroupCoordinator::update_member_and_rebalance(const std::shared_ptr<Group>& g, Member& m,
                                                   const JoinGroupRequest& req, JoinCallback done,
                                                   Deferred& out) {
  update_member(m, req, std::move(done), out);
  maybe_prepare_rebalance(g, out);
}

void GroupCoordinator::maybe_prepare_rebalance(const std::shared_ptr<Group>& g, Deferred& out) {
  if (g->can_rebalance()) prepare_rebalance(g, out);
}

void GroupCoordinator::prepare_rebalance(const std::shared_ptr<Group>& g, Deferred& out) {
  if (g->is(GroupState::kCompletingRebalance)) {
    reset_and_propagate_assignment_error(*g, ErrorCode::kRebalanceInProgress, out);
  }
  g->pending_sync_members().clear();
  g->sync_deadline_ms = -1;
  const int64_t now = clock_->now_ms();
  const int64_t timeout = g->rebalance_timeout_ms();
  const int64_t initial = config_.group_initial_rebalance_delay_ms;
  if (g->is(GroupState::kEmpty) && initial > 0) {
    g->initial_delay_active = true;
    g->new_member_added = false;
    g->initial_delay_remaining_ms = std::max<int64_t>(timeout - initial, 0);
    g->join_deadline_ms = now + std::min(initial, timeout);
  } else {
    g->initial_delay_active = false;
    g->join_deadline_ms = now + timeout;
  }
  g->transition_to(GroupState::kPreparingRebalance, now);
  maybe_complete_join(g, out);
}

void GroupCoordinator::maybe_complete_join(const std::shared_ptr<Group>& g, Deferred& out) {
  if (g->is(GroupState::kPreparingRebalance) && !g->initial_delay_active &&
      g->has_all_members_joined()) {
    complete_join(g, out);
  }
}

void GroupCoordinator::complete_join(const std::shared_ptr<Group>& g, Deferred& out) {
  GREGOR_INVARIANT(g->is(GroupState::kPreparingRebalance));
  const int64_t now = clock_->now_ms();
  // Dynamic members that did not rejoin in time are out; static ones keep their place until
  // their session expires.
  std::vector<std::string> gone;
  for (const auto& [id, m] : g->members()) {
    if (!m.awaiting_join && !m.group_instance_id) gone.push_back(id);
  }
  for (const std::string& id : gone) {
    spdlog::info("group {}: member {} did not rejoin in time, removing it", g->id(), id);
    g->remove(id);
  }
  g->initial_delay_active = false;
  if (!g->maybe_elect_new_joined_leader() && !g->empty()) {
    // Only static members that have not rejoined remain: wait another round for them.
    g->join_deadline_ms = now + g->rebalance_timeout_ms();
    return;
  }
  g->join_deadline_ms = -1;
  g->init_next_generation(now);
  if (g->is(GroupState::kEmpty)) {
    store_group(
        *g, {},
        [id = g->id()](absl::Status st, Deferred&) {
          if (!st.ok())
            spdlog::warn("group {}: storing the empty group failed: {}", id, st.ToString());
        },
        out);
    return;
  }
  spdlog::info("group {}: generation {} with {} members, protocol {}", g->id(), g->generation_id,
               g->members().size(), g->protocol_name.value_or(""));
  const std::string leader = g->leader_id.value_or("");
  for (auto& [id, m] : g->mutable_members()) {
    if (m.awaiting_join) {
      out.add(
          [cb = take(m.awaiting_join), r = join_result(*g, id, id == leader, leader)] { cb(r); });
    }
    m.last_heartbeat_ms = now;
    m.is_new = false;
    g->pending_sync_members().insert(id);
  }
  g->sync_deadline_ms = now + g->rebalance_timeout_ms();
}

void GroupCoordinator::remove_member_and_update_group(const std::shared_ptr<Group>& g,
                                                      const std::string& member_id, Deferred& out) {
  Member* m = g->get(member_id);
  if (m == nullptr) return;
  if (m->awaiting_join) {
    out.add([cb = take(m->awaiting_join), r = join_error(member_id, ErrorCode::kUnknownMemberId)] {
      cb(r);
    });
  }
  if (m->awaiting_sync) {
    SyncGroupResult r;
    r.error = ErrorCode::kUnknownMemberId;
    out.add([cb = take(m->awaiting_sync), r] { cb(r); });
  }
  g->remove(member_id);
  switch (g->state()) {
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      maybe_prepare_rebalance(g, out);
      break;
    case GroupState::kPreparingRebalance:
      maybe_complete_join(g, out);
      break;
    case GroupState::kEmpty:
    case GroupState::kDead:
      break;
  }
}

JoinGroupResult GroupCoordinator::join_result(const Group& g, const std::string& member_id,
                                              bool with_members, const std::string& leader) const {
  JoinGroupResult r;
  r.generation_id = g.generation_id;
  r.protocol_type = g.protocol_type;
  r.protocol_name = g.protocol_name;
  r.leader_id = leader;
  r.member_id = member_id;
  if (with_members) r.members = g.current_member_metadata();
  return r;
}

std::string GroupCoordinator::new_member_id(const std::string& prefix) {
  const uint64_t hi = (uint64_t{rng_()} & ~uint64_t{0xF000}) | uint64_t{0x4000};  // version 4
  const uint64_t lo = (uint64_t{rng_()} & ~(uint64_t{0xC000} << 48)) | (uint64_t{0x8000} << 48);
  char buf[40];
  std::snprintf(buf, sizeof buf,
                "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64, hi >> 32,
                (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48,
                static_cast<uint64_t>(lo & 0xFFFFFFFFFFFFULL));
  return prefix + "-" + buf;
}

}  // namespace gregor::coordinator
