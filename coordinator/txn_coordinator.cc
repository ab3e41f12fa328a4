// TxnCoordinator: the transitions of Kafka's transaction state machine. Each transition is
// computed under mu_, written to __transaction_state with the entry marked pending (other
// requests answer CONCURRENT_TRANSACTIONS meanwhile), and applied once durable. While a decided
// transaction's markers are written, the id's requests are parked instead and run again after.
#include "coordinator/txn_coordinator.h"

#include <algorithm>
#include <limits>

#include "coordinator/group_records.h"
#include "coordinator/txn_records.h"
#include "spdlog/spdlog.h"

namespace gregor::coordinator {
namespace {

constexpr int16_t kMaxEpoch = std::numeric_limits<int16_t>::max();
// One coordinator serves every transactional id, so its epoch never changes.
constexpr int32_t kCoordinatorEpoch = 0;

// Kafka allocates a new producer id rather than let the epoch reach Short.MaxValue, which a
// fence still needs to be able to bump to.
bool epoch_exhausted(int16_t epoch) {
  return epoch >= kMaxEpoch - 1;
}

bool is_prepare(TxnState s) {
  return s == TxnState::kPrepareCommit || s == TxnState::kPrepareAbort;
}

}  // namespace

std::string_view txn_state_name(TxnState state) {
  switch (state) {
    case TxnState::kEmpty:
      return "Empty";
    case TxnState::kOngoing:
      return "Ongoing";
    case TxnState::kPrepareCommit:
      return "PrepareCommit";
    case TxnState::kPrepareAbort:
      return "PrepareAbort";
    case TxnState::kCompleteCommit:
      return "CompleteCommit";
    case TxnState::kCompleteAbort:
      return "CompleteAbort";
    case TxnState::kDead:
      return "Dead";
    case TxnState::kPrepareEpochFence:
      return "PrepareEpochFence";
  }
  return "Unknown";
}

std::optional<TxnState> txn_state_from_name(std::string_view name) {
  for (int8_t s = 0; s <= static_cast<int8_t>(TxnState::kPrepareEpochFence); ++s) {
    if (txn_state_name(static_cast<TxnState>(s)) == name) return static_cast<TxnState>(s);
  }
  return std::nullopt;
}

TxnCoordinator::TxnCoordinator(TxnConfig config, const storage::Clock* clock, TxnLog* log,
                               TxnMarkerWriter* markers, ProducerIdSource ids)
    : config_(config), clock_(clock), log_(log), markers_(markers), ids_(std::move(ids)) {
  const int64_t now = clock_->now_ms();
  next_abort_check_ms_ = now + config_.abort_check_interval_ms;
  next_expire_check_ms_ = now + config_.expire_check_interval_ms;
}

int32_t TxnCoordinator::partition_for(std::string_view transactional_id) const {
  // The same hashing as __consumer_offsets (Utils.abs(hashCode) % partitions).
  return offsets_partition_for(transactional_id, config_.state_log_partitions);
}

void TxnCoordinator::run(Actions& actions) {
  for (auto& a : actions) a();
  actions.clear();
}

// ---- InitProducerId ----

void TxnCoordinator::init_producer_id(const InitProducerIdRequest& req,
                                      InitProducerIdCallback done) {
  auto fail = [&done](ErrorCode e) {
    InitProducerIdResult r;
    r.error = e;
    done(r);
  };
  if (!req.transactional_id) {
    absl::StatusOr<int64_t> id = ids_();
    if (!id.ok()) {
      spdlog::error("producer id allocation failed: {}", std::string(id.status().message()));
      return fail(ErrorCode::kCoordinatorNotAvailable);
    }
    return done(InitProducerIdResult{ErrorCode::kNone, *id, 0});
  }
  const std::string& tid = *req.transactional_id;
  if (tid.empty()) return fail(ErrorCode::kInvalidRequest);
  if (req.timeout_ms <= 0 || req.timeout_ms > config_.max_timeout_ms) {
    return fail(ErrorCode::kInvalidTransactionTimeout);
  }
  bool known;
  {
    std::lock_guard lock(mu_);
    known = txns_.contains(tid);
  }
  std::optional<int64_t> fresh_id;
  if (!known) {
    // Allocated outside mu_: a new block means a metadata-log write.
    absl::StatusOr<int64_t> id = ids_();
    if (!id.ok()) return fail(ErrorCode::kCoordinatorNotAvailable);
    fresh_id = *id;
  }

  Actions actions;
  std::optional<ErrorCode> error;
  {
    std::lock_guard lock(mu_);
    const int64_t now = clock_->now_ms();
    auto it = txns_.find(tid);
    if (it == txns_.end()) {
      if (!fresh_id) {
        // Expired between the two looks; the client retries.
        error = ErrorCode::kConcurrentTransactions;
      } else {
        Entry e;
        e.md.transactional_id = tid;
        e.md.producer_id = *fresh_id;
        e.md.timeout_ms = req.timeout_ms;
        e.md.last_update_ms = now;
        it = txns_.emplace(tid, std::move(e)).first;
      }
    }
    if (!error) {
      Entry& e = it->second;
      TxnMetadata& md = e.md;
      const bool expected = req.producer_id >= 0;
      const bool valid_id =
          md.producer_epoch == -1 || req.producer_id == md.producer_id ||
          (req.producer_id == md.previous_producer_id && epoch_exhausted(req.producer_epoch));
      if (writing_markers(e)) {
        e.parked.push_back([this, req, done] { init_producer_id(req, done); });
      } else if (e.pending || is_prepare(md.state)) {
        error = ErrorCode::kConcurrentTransactions;
      } else if (expected && !valid_id) {
        error = ErrorCode::kProducerFenced;
      } else if (md.state == TxnState::kOngoing) {
        // A new producer instance: fence the old epoch and abort its transaction. The answer
        // is CONCURRENT_TRANSACTIONS; the retry then bumps the epoch once more.
        if (md.producer_epoch < kMaxEpoch) ++md.producer_epoch;
        md.last_producer_epoch = -1;
        spdlog::info("transactional id {}: fencing epoch {} and aborting its transaction", tid,
                     md.producer_epoch - 1);
        begin_end(
            e, false,
            [done](ErrorCode err) {
              InitProducerIdResult r;
              r.error = err == ErrorCode::kNone ? ErrorCode::kConcurrentTransactions : err;
              done(r);
            },
            actions);
      } else {
        TxnMetadata next = md;
        if (epoch_exhausted(md.producer_epoch) &&
            (!expected || req.producer_epoch == md.producer_epoch)) {
          absl::StatusOr<int64_t> id = ids_();
          if (!id.ok()) {
            error = ErrorCode::kCoordinatorNotAvailable;
          } else {
            next.previous_producer_id = md.producer_id;
            next.producer_id = *id;
            next.producer_epoch = 0;
            next.last_producer_epoch = -1;
          }
        } else if (!expected) {
          next.producer_epoch = static_cast<int16_t>(md.producer_epoch + 1);
          next.last_producer_epoch = -1;
        } else if (md.producer_epoch == -1 || req.producer_epoch == md.producer_epoch) {
          next.producer_epoch = static_cast<int16_t>(md.producer_epoch + 1);
          next.last_producer_epoch = md.producer_epoch;
        } else if (req.producer_epoch == md.last_producer_epoch) {
          // A retry of a bump whose answer was lost: the epoch stays.
        } else {
          error = ErrorCode::kProducerFenced;
        }
        if (!error) {
          next.state = TxnState::kEmpty;
          next.partitions.clear();
          next.timeout_ms = req.timeout_ms;
          next.start_ms = -1;
          next.last_update_ms = now;
          persist(
              next,
              [done, next](ErrorCode err) {
                InitProducerIdResult r;
                r.error = err;
                if (err == ErrorCode::kNone) {
                  r.producer_id = next.producer_id;
                  r.producer_epoch = next.producer_epoch;
                }
                done(r);
              },
              actions);
        }
      }
    }
  }
  run(actions);
  if (error) fail(*error);
}

// ---- AddPartitionsToTxn / AddOffsetsToTxn ----

void TxnCoordinator::add_partitions(const std::string& tid, int64_t producer_id,
                                    int16_t producer_epoch,
                                    const std::vector<TopicPartition>& partitions,
                                    TxnCallback done) {
  if (tid.empty()) return done(ErrorCode::kInvalidRequest);
  Actions actions;
  std::optional<ErrorCode> answer;
  {
    std::lock_guard lock(mu_);
    auto it = txns_.find(tid);
    if (it == txns_.end() || it->second.md.producer_id != producer_id) {
      answer = ErrorCode::kInvalidProducerIdMapping;
    } else {
      Entry& e = it->second;
      const TxnMetadata& md = e.md;
      if (md.producer_epoch != producer_epoch) {
        answer = ErrorCode::kProducerFenced;
      } else if (writing_markers(e)) {
        // The producer heard of its last commit or abort before the markers were written;
        // answering CONCURRENT_TRANSACTIONS would make it back off (librdkafka: 100 ms).
        e.parked.push_back(
            [this, tid, producer_id, producer_epoch, partitions, done = std::move(done)]() mutable {
              add_partitions(tid, producer_id, producer_epoch, partitions, std::move(done));
            });
      } else if (e.pending || is_prepare(md.state)) {
        answer = ErrorCode::kConcurrentTransactions;
      } else if (md.state == TxnState::kOngoing &&
                 std::all_of(partitions.begin(), partitions.end(), [&](const TopicPartition& tp) {
                   return md.partitions.contains(tp);
                 })) {
        answer = ErrorCode::kNone;
      } else {
        TxnMetadata next = md;
        const int64_t now = clock_->now_ms();
        if (md.state != TxnState::kOngoing) {
          next.partitions.clear();
          next.start_ms = now;
        }
        next.state = TxnState::kOngoing;
        next.partitions.insert(partitions.begin(), partitions.end());
        next.last_update_ms = now;
        persist(next, std::move(done), actions);
      }
    }
  }
  run(actions);
  if (answer) done(*answer);
}

// ---- EndTxn ----

void TxnCoordinator::end_txn(const std::string& tid, int64_t producer_id, int16_t producer_epoch,
                             bool commit, TxnCallback done) {
  if (tid.empty()) return done(ErrorCode::kInvalidRequest);
  Actions actions;
  std::optional<ErrorCode> answer;
  {
    std::lock_guard lock(mu_);
    auto it = txns_.find(tid);
    if (it == txns_.end() || it->second.md.producer_id != producer_id) {
      answer = ErrorCode::kInvalidProducerIdMapping;
    } else {
      Entry& e = it->second;
      const TxnState s = e.md.state;
      if (e.md.producer_epoch != producer_epoch) {
        answer = ErrorCode::kProducerFenced;
      } else if (writing_markers(e)) {
        // A retry; once the markers are written it gets the answer for the completed state.
        e.parked.push_back(
            [this, tid, producer_id, producer_epoch, commit, done = std::move(done)]() mutable {
              end_txn(tid, producer_id, producer_epoch, commit, std::move(done));
            });
      } else if (e.pending) {
        answer = ErrorCode::kConcurrentTransactions;
      } else if (s == TxnState::kOngoing) {
        begin_end(e, commit, std::move(done), actions);
      } else if ((s == TxnState::kCompleteCommit && commit) ||
                 (s == TxnState::kCompleteAbort && !commit)) {
        answer = ErrorCode::kNone;  // a retry of an end that completed
      } else if ((s == TxnState::kPrepareCommit && commit) ||
                 (s == TxnState::kPrepareAbort && !commit)) {
        answer = ErrorCode::kConcurrentTransactions;
      } else {
        spdlog::info("transactional id {}: EndTxn({}) in state {}", tid,
                     commit ? "commit" : "abort", txn_state_name(s));
        answer = ErrorCode::kInvalidTxnState;
      }
    }
  }
  run(actions);
  if (answer) done(*answer);
}

void TxnCoordinator::begin_end(Entry& e, bool commit, std::function<void(ErrorCode)> then,
                               Actions& out) {
  TxnMetadata next = e.md;
  next.state = commit ? TxnState::kPrepareCommit : TxnState::kPrepareAbort;
  next.last_update_ms = clock_->now_ms();
  persist(
      next,
      [this, next, then = std::move(then)](ErrorCode err) {
        // The decision is durable: like Kafka, answer now and write the markers after. A
        // crash before they are durable replays the Prepare state and complete_load() writes
        // them again.
        then(err);
        if (err != ErrorCode::kNone) return;
        Actions actions;
        {
          std::lock_guard lock(mu_);
          send_markers(next, actions);
        }
        run(actions);
      },
      out);
}

bool TxnCoordinator::writing_markers(const Entry& e) {
  return is_prepare(e.md.state) && !e.markers_failed;
}

void TxnCoordinator::unpark(const std::string& tid, Actions& out) {
  auto it = txns_.find(tid);
  if (it == txns_.end()) return;
  for (auto& request : it->second.parked) out.push_back(std::move(request));
  it->second.parked.clear();
}

void TxnCoordinator::send_markers(const TxnMetadata& prepared, Actions& out) {
  auto it = txns_.find(prepared.transactional_id);
  if (it == txns_.end()) return;
  it->second.pending = true;
  it->second.markers_failed = false;
  const bool commit = prepared.state == TxnState::kPrepareCommit;
  std::vector<TopicPartition> partitions(prepared.partitions.begin(), prepared.partitions.end());
  out.push_back([this, prepared, commit, partitions = std::move(partitions)]() mutable {
    markers_->write_markers(
        prepared.producer_id, prepared.producer_epoch, commit, kCoordinatorEpoch,
        std::move(partitions), [this, prepared, commit](absl::Status st) {
          Actions actions;
          {
            std::lock_guard lock(mu_);
            auto it = txns_.find(prepared.transactional_id);
            if (it == txns_.end()) {
              // Nothing left to answer.
            } else if (!st.ok()) {
              // The client was answered success (the decision is durable); tick() retries the
              // markers and the id answers CONCURRENT_TRANSACTIONS until they are written.
              spdlog::warn("transactional id {}: writing {} markers failed: {}",
                           prepared.transactional_id, commit ? "commit" : "abort",
                           std::string(st.message()));
              it->second.pending = false;
              it->second.markers_failed = true;
              unpark(prepared.transactional_id, actions);
            } else {
              // The Complete state is not waited for. A crash that loses it leaves the Prepare
              // state in the log and complete_load() writes the markers again, which changes
              // nothing. The entry keeps its Prepare state (so the id's requests park) only
              // until the record is in the log, so that the next transition is appended after
              // it and its fdatasync covers this one.
              TxnMetadata complete = it->second.md;
              complete.state = commit ? TxnState::kCompleteCommit : TxnState::kCompleteAbort;
              complete.partitions.clear();
              complete.last_update_ms = clock_->now_ms();
              const std::string tid = prepared.transactional_id;
              append_state(
                  complete,
                  [tid](absl::Status st) {
                    if (!st.ok()) {
                      spdlog::warn("transactional id {}: writing the Complete state failed: {}",
                                   tid, std::string(st.message()));
                    }
                  },
                  actions);
              actions.push_back([this, complete] {
                Actions parked;
                {
                  std::lock_guard lock(mu_);
                  auto e = txns_.find(complete.transactional_id);
                  if (e != txns_.end()) {
                    e->second.md = complete;
                    e->second.pending = false;
                  }
                  unpark(complete.transactional_id, parked);
                }
                run(parked);
              });
            }
          }
          run(actions);
        });
  });
}

// ---- persistence ----

void TxnCoordinator::append_state(const TxnMetadata& md, std::function<void(absl::Status)> done,
                                  Actions& out) {
  out.push_back([this, partition = partition_for(md.transactional_id),
                 key = encode_txn_key(md.transactional_id), value = encode_txn_value(md),
                 done = std::move(done)]() mutable {
    log_->append(partition, std::move(key), std::move(value), std::move(done));
  });
}

void TxnCoordinator::persist(const TxnMetadata& next, std::function<void(ErrorCode)> then,
                             Actions& out) {
  txns_[next.transactional_id].pending = true;
  append_state(
      next,
      [this, next, then = std::move(then)](absl::Status st) {
        {
          std::lock_guard lock(mu_);
          auto it = txns_.find(next.transactional_id);
          if (it != txns_.end()) {
            it->second.pending = false;
            if (st.ok()) it->second.md = next;
          }
        }
        if (!st.ok()) {
          spdlog::warn("transactional id {}: writing {} failed: {}", next.transactional_id,
                       txn_state_name(next.state), std::string(st.message()));
        }
        then(st.ok() ? ErrorCode::kNone : ErrorCode::kCoordinatorNotAvailable);
      },
      out);
}

absl::Status TxnCoordinator::load(std::string_view key, std::optional<std::string_view> value) {
  absl::StatusOr<std::string> tid = decode_txn_key(key);
  if (!tid.ok()) return tid.status();
  std::lock_guard lock(mu_);
  if (!value) {
    txns_.erase(*tid);
    return absl::OkStatus();
  }
  absl::StatusOr<TxnMetadata> md = decode_txn_value(*tid, *value);
  if (!md.ok()) return md.status();
  Entry& e = txns_[*tid];
  // In-memory fields survive within one run; after a restart they start unknown, as in Kafka
  // before KIP-360's fields were persisted.
  md->previous_producer_id = e.md.producer_id != md->producer_id ? e.md.producer_id : -1;
  e.md = std::move(*md);
  e.pending = false;
  return absl::OkStatus();
}

void TxnCoordinator::complete_load() {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    for (auto& [tid, e] : txns_) {
      if (!is_prepare(e.md.state)) continue;
      spdlog::info("transactional id {}: completing {} after restart", tid,
                   txn_state_name(e.md.state));
      send_markers(e.md, actions);
    }
  }
  run(actions);
}

// ---- timers ----

void TxnCoordinator::abort_timed_out(int64_t now, Actions& out) {
  for (auto& [tid, e] : txns_) {
    if (e.pending) continue;
    if (e.markers_failed && is_prepare(e.md.state)) {
      send_markers(e.md, out);
      continue;
    }
    if (e.md.state != TxnState::kOngoing || e.md.start_ms + e.md.timeout_ms > now) continue;
    spdlog::info("transactional id {}: aborting transaction of producer {} after {} ms timeout",
                 tid, e.md.producer_id, e.md.timeout_ms);
    // The bump fences the producer: its next request gets PRODUCER_FENCED.
    if (e.md.producer_epoch < kMaxEpoch) ++e.md.producer_epoch;
    e.md.last_producer_epoch = -1;
    begin_end(
        e, false, [](ErrorCode) {}, out);
  }
}

void TxnCoordinator::expire_ids(int64_t now, Actions& out) {
  for (auto& [tid, e] : txns_) {
    const TxnState s = e.md.state;
    if (e.pending || (s != TxnState::kEmpty && s != TxnState::kCompleteCommit &&
                      s != TxnState::kCompleteAbort)) {
      continue;
    }
    if (e.md.last_update_ms + config_.id_expiration_ms > now) continue;
    e.pending = true;
    const int32_t partition = partition_for(tid);
    const int64_t last_update = e.md.last_update_ms;
    out.push_back([this, partition, tid = tid, last_update] {
      log_->append(partition, encode_txn_key(tid), std::nullopt,
                   [this, tid, last_update](absl::Status st) {
                     std::lock_guard lock(mu_);
                     auto it = txns_.find(tid);
                     if (it == txns_.end()) return;
                     it->second.pending = false;
                     if (st.ok() && it->second.md.last_update_ms == last_update) {
                       spdlog::info("transactional id {} expired", tid);
                       txns_.erase(it);
                     }
                   });
    });
  }
}

void TxnCoordinator::tick() {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    const int64_t now = clock_->now_ms();
    if (now >= next_abort_check_ms_) {
      next_abort_check_ms_ = now + config_.abort_check_interval_ms;
      abort_timed_out(now, actions);
    }
    if (now >= next_expire_check_ms_) {
      next_expire_check_ms_ = now + config_.expire_check_interval_ms;
      expire_ids(now, actions);
    }
  }
  run(actions);
}

int64_t TxnCoordinator::next_deadline_ms() const {
  std::lock_guard lock(mu_);
  return std::min(next_abort_check_ms_, next_expire_check_ms_);
}

// ---- queries ----

ErrorCode TxnCoordinator::verify_partition(const std::string& tid, int64_t producer_id,
                                           int16_t producer_epoch,
                                           const TopicPartition& partition) const {
  if (tid.empty()) return ErrorCode::kInvalidRequest;
  std::lock_guard lock(mu_);
  auto it = txns_.find(tid);
  if (it == txns_.end() || it->second.md.producer_id != producer_id) {
    return ErrorCode::kInvalidProducerIdMapping;
  }
  const TxnMetadata& md = it->second.md;
  if (md.producer_epoch != producer_epoch) return ErrorCode::kProducerFenced;
  if (is_prepare(md.state)) return ErrorCode::kConcurrentTransactions;
  // A pending transition is not waited for: partitions join the set only once durable and
  // leave it only after their markers are written, which needs the log's lock the caller holds.
  if (md.state != TxnState::kOngoing || !md.partitions.contains(partition)) {
    return ErrorCode::kInvalidTxnState;
  }
  return ErrorCode::kNone;
}

TxnDescription TxnCoordinator::describe(const std::string& tid) const {
  TxnDescription d;
  if (tid.empty()) {
    d.error = ErrorCode::kInvalidRequest;
    return d;
  }
  std::lock_guard lock(mu_);
  auto it = txns_.find(tid);
  if (it == txns_.end() || it->second.md.state == TxnState::kDead) {
    d.error = ErrorCode::kTransactionalIdNotFound;
    d.metadata.transactional_id = tid;
    return d;
  }
  d.metadata = it->second.md;
  return d;
}

std::vector<TxnListing> TxnCoordinator::list(const std::vector<TxnState>& states,
                                             const std::vector<int64_t>& producer_ids,
                                             int64_t min_duration_ms) const {
  std::vector<TxnListing> out;
  std::lock_guard lock(mu_);
  const int64_t now = clock_->now_ms();
  for (const auto& [tid, e] : txns_) {
    const TxnMetadata& md = e.md;
    if (!states.empty() && std::find(states.begin(), states.end(), md.state) == states.end())
      continue;
    if (!producer_ids.empty() &&
        std::find(producer_ids.begin(), producer_ids.end(), md.producer_id) == producer_ids.end())
      continue;
    // Kafka's duration filter covers running transactions only.
    if (min_duration_ms >= 0 &&
        (md.state != TxnState::kOngoing || now - md.start_ms < min_duration_ms))
      continue;
    out.push_back(TxnListing{tid, md.producer_id, md.state});
  }
  return out;
}

}  // namespace gregor::coordinator
