// Test helpers for the group coordinator: an in-memory GroupLog, a coordinator on a FakeClock,
// and callbacks that capture their single answer.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coordinator/group_coordinator.h"
#include "protocol/wire.h"
#include "storage/clock.h"

namespace gregor::coordinator::testing {

// Records every append; completes at once unless `hold` is set (then complete_held() does).
// The coordinator calls append() outside its own mutex, from any thread, so the fake locks.
// Transactional appends keep their producer; write_marker() adds a commit/abort marker as the
// transaction coordinator would, so that replay_into() sees what a real partition holds.
class FakeGroupLog : public GroupLog {
 public:
  struct Append {
    int32_t partition;
    std::vector<GroupRecord> records;
    std::optional<int64_t> producer_id;  // set for transactional batches and markers
    int16_t producer_epoch = -1;
    std::optional<bool> marker;  // a control batch: true = commit, false = abort
  };
  void append(int32_t partition, std::vector<GroupRecord> records,
              std::function<void(absl::Status)> done) override {
    add({partition, std::move(records), std::nullopt, -1, std::nullopt}, std::move(done));
  }
  // Like the partition log, asks `verify` only when the batch opens the producer's
  // transaction in the partition (until a marker closes it).
  void append_transactional(int32_t partition, std::vector<GroupRecord> records,
                            int64_t producer_id, int16_t producer_epoch,
                            storage::TxnVerifier verify,
                            std::function<void(absl::Status)> done) override {
    bool opens;
    {
      std::lock_guard lock(mu);
      opens = open_txns.insert({partition, producer_id}).second;
    }
    if (opens && verify) {
      if (absl::Status v = verify(producer_id, producer_epoch); !v.ok()) {
        std::lock_guard lock(mu);
        open_txns.erase({partition, producer_id});
        ++verify_refusals;
        return done(v);
      }
    }
    add({partition, std::move(records), producer_id, producer_epoch, std::nullopt},
        std::move(done));
  }
  void write_marker(int32_t partition, int64_t producer_id, int16_t producer_epoch, bool commit) {
    std::lock_guard lock(mu);
    open_txns.erase({partition, producer_id});
    appends.push_back({partition, {}, producer_id, producer_epoch, commit});
  }
  void add(Append a, std::function<void(absl::Status)> done) {
    {
      std::lock_guard lock(mu);
      appends.push_back(std::move(a));
      if (hold) {
        held.push_back(std::move(done));
        return;
      }
    }
    done(fail ? absl::UnavailableError("disk on fire") : absl::OkStatus());
  }
  void complete_held(absl::Status st = absl::OkStatus()) {
    std::vector<std::function<void(absl::Status)>> all;
    {
      std::lock_guard lock(mu);
      all = std::move(held);
      held.clear();
    }
    for (auto& d : all) d(st);
  }
  // Replays everything appended into `c`, in order.
  void replay_into(GroupCoordinator& c) const {
    for (const auto& a : appends) {
      if (a.marker) {
        c.load_control(a.partition, *a.producer_id, *a.marker);
        continue;
      }
      for (const auto& r : a.records) {
        std::optional<std::string_view> v;
        if (r.value) v = *r.value;
        if (a.producer_id) {
          ASSERT_TRUE(c.load_transactional(a.partition, *a.producer_id, r.key, v).ok());
        } else {
          ASSERT_TRUE(c.load(a.partition, r.key, v).ok());
        }
      }
    }
  }

  std::mutex mu;  // guards appends, held and open_txns while threads append
  std::vector<Append> appends;
  std::vector<std::function<void(absl::Status)>> held;
  std::set<std::pair<int32_t, int64_t>> open_txns;  // (partition, producer id)
  int verify_refusals = 0;
  bool hold = false;
  bool fail = false;
};

// Subscription bytes of the "consumer" protocol: version 0, topics, null user data.
inline std::string subscription(const std::vector<std::string>& topics) {
  protocol::OutputBuffer out;
  protocol::Writer w(out);
  w.int16(0);
  w.array_length(static_cast<int32_t>(topics.size()), false);
  for (const auto& t : topics) w.string(t, false);
  w.nullable_bytes(std::nullopt, false);
  return out.flatten();
}

template <typename T>
struct Answer {
  std::shared_ptr<std::optional<T>> value = std::make_shared<std::optional<T>>();
  std::shared_ptr<int> calls = std::make_shared<int>(0);
  std::function<void(T)> callback() {
    return [v = value, c = calls](T t) {
      ++*c;
      *v = std::move(t);
    };
  }
  bool ready() const { return value->has_value(); }
  const T& operator*() const { return **value; }
  const T* operator->() const { return &**value; }
};

class GroupFixture : public ::testing::Test {
 protected:
  GroupFixture() { reset(); }

  void reset(GroupConfig cfg = default_config()) {
    config = cfg;
    coord = std::make_unique<GroupCoordinator>(config, &clock, &log);
  }
  static GroupConfig default_config() {
    GroupConfig c;
    c.group_initial_rebalance_delay_ms = 0;
    return c;
  }

  JoinGroupRequest join_request(const std::string& group, const std::string& member_id,
                                std::vector<Protocol> protocols = {{"range", subscription({"t"})}},
                                std::optional<std::string> instance = std::nullopt) {
    JoinGroupRequest r;
    r.group_id = group;
    r.member_id = member_id;
    r.group_instance_id = std::move(instance);
    r.client_id = "client";
    r.client_host = "/127.0.0.1";
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 30000;
    r.protocol_type = "consumer";
    r.protocols = std::move(protocols);
    r.require_known_member_id = true;
    return r;
  }

  Answer<JoinGroupResult> join(JoinGroupRequest r) {
    Answer<JoinGroupResult> a;
    coord->join_group(std::move(r), a.callback());
    return a;
  }
  Answer<JoinGroupResult> join(const std::string& group, const std::string& member_id) {
    return join(join_request(group, member_id));
  }
  // The KIP-394 dance: first join gets an id, the second join (answered later) uses it.
  std::pair<std::string, Answer<JoinGroupResult>> join_new(const std::string& group) {
    auto first = join(group, "");
    EXPECT_TRUE(first.ready());
    EXPECT_EQ((*first).error, ErrorCode::kMemberIdRequired);
    std::string id = (*first).member_id;
    return {id, join(group, id)};
  }
  Answer<SyncGroupResult> sync(const std::string& group, const std::string& member_id,
                               int32_t generation,
                               std::vector<std::pair<std::string, std::string>> assignments = {}) {
    SyncGroupRequest r;
    r.group_id = group;
    r.member_id = member_id;
    r.generation_id = generation;
    r.assignments = std::move(assignments);
    Answer<SyncGroupResult> a;
    coord->sync_group(std::move(r), a.callback());
    return a;
  }
  ErrorCode heartbeat(const std::string& group, const std::string& member_id, int32_t generation) {
    return coord->heartbeat({group, generation, member_id, std::nullopt});
  }
  // One member joined and synced: the group is Stable at generation 1.
  std::string stable_single(const std::string& group) {
    auto [id, j] = join_new(group);
    EXPECT_TRUE(j.ready());
    auto s = sync(group, id, j->generation_id, {{id, "assignment-" + id}});
    EXPECT_TRUE(s.ready());
    return id;
  }
  // Two members, both synced; returns {leader, follower}.
  std::pair<std::string, std::string> stable_pair(const std::string& group) {
    const std::string a = stable_single(group);
    auto [b, jb] = join_new(group);
    EXPECT_FALSE(jb.ready());
    auto ja = join(group, a);
    EXPECT_TRUE(ja.ready() && jb.ready());
    auto sb = sync(group, b, jb->generation_id);
    auto sa = sync(group, a, ja->generation_id, {{a, "A"}, {b, "B"}});
    EXPECT_TRUE(sa.ready() && sb.ready());
    EXPECT_EQ(state(group), "Stable");
    return {a, b};
  }
  // Advances the clock and runs due timers.
  void advance(int64_t ms) {
    clock.advance(ms);
    coord->tick();
    // tick() handled everything due: a broker timer never spins.
    EXPECT_GT(coord->next_deadline_ms(), clock.now_ms());
  }
  std::string state(const std::string& group) { return coord->describe_group(group).state; }

  storage::FakeClock clock;
  FakeGroupLog log;
  GroupConfig config;
  std::unique_ptr<GroupCoordinator> coord;
};

}  // namespace gregor::coordinator::testing
