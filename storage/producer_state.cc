// ProducerStateManager: Kafka's idempotence and transaction rules for appends, expiry and the
// conversion to and from snapshot entries.
#include "storage/producer_state.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "storage/file.h"
#include "storage/kafka_error.h"

namespace gregor::storage {

namespace {
constexpr int32_t kMaxSeq = std::numeric_limits<int32_t>::max();
using protocol::ErrorCode;

bool in_sequence(int32_t last_seq, int32_t next_seq) {
  return static_cast<int64_t>(next_seq) == static_cast<int64_t>(last_seq) + 1 ||
         (next_seq == 0 && last_seq == kMaxSeq);
}

// A new epoch forgets the batches of the old one (Kafka's maybeUpdateProducerEpoch).
void set_epoch(ProducerEntry& e, int16_t epoch) {
  if (e.epoch != epoch) {
    e.epoch = epoch;
    e.batches.clear();
  }
}
}  // namespace

int32_t increment_sequence(int32_t seq, int32_t by) {
  if (seq > kMaxSeq - by) return by - (kMaxSeq - seq) - 1;
  return seq + by;
}

int32_t decrement_sequence(int32_t seq, int32_t by) {
  if (seq < by) return kMaxSeq - (by - seq) + 1;
  return seq - by;
}

ProducerBatchFacts ProducerBatchFacts::from_header(const protocol::RecordBatchHeader& h) {
  ProducerBatchFacts b;
  b.producer_id = h.producer_id;
  b.epoch = h.producer_epoch;
  b.first_seq = h.base_sequence;
  b.last_seq = h.base_sequence < 0 ? h.base_sequence
                                   : increment_sequence(h.base_sequence, h.last_offset_delta);
  b.first_offset = h.base_offset;
  b.last_offset = h.last_offset();
  b.max_timestamp = h.max_timestamp;
  b.transactional = h.is_transactional();
  b.control = h.is_control();
  return b;
}

std::optional<ProducerBatch> ProducerStateManager::find_duplicate(
    const ProducerBatchFacts& b) const {
  const ProducerEntry* e = find(b.producer_id);
  if (e == nullptr || e->epoch != b.epoch) return std::nullopt;
  for (const ProducerBatch& cached : e->batches) {
    if (cached.first_seq == b.first_seq && cached.last_seq == b.last_seq) return cached;
  }
  return std::nullopt;
}

absl::StatusOr<ProducerUpdate> ProducerStateManager::prepare(const ProducerBatchFacts& b,
                                                             AppendOrigin origin) const {
  GREGOR_INVARIANT(b.producer_id >= 0);
  const ProducerEntry* current = find(b.producer_id);
  ProducerUpdate u;
  u.producer_id = b.producer_id;
  if (current != nullptr) u.entry = *current;
  ProducerEntry& e = u.entry;
  const bool checked = origin != AppendOrigin::kReplication;

  if (checked && b.epoch < e.epoch) {
    return kafka_error(
        ErrorCode::kInvalidProducerEpoch,
        absl::StrCat("epoch ", b.epoch, " of producer ", b.producer_id, " at offset ",
                     b.first_offset, " is older than its epoch ", e.epoch));
  }

  if (b.control) {
    // A control batch that is not a transaction marker (or has no record left) changes nothing.
    if (!b.marker) return u;
    if (checked && e.coordinator_epoch > b.marker->coordinator_epoch) {
      return kafka_error(
          ErrorCode::kTransactionCoordinatorFenced,
          absl::StrCat("coordinator epoch ", b.marker->coordinator_epoch, " for producer ",
                       b.producer_id, " is older than ", e.coordinator_epoch));
    }
    // A marker for a producer with no transaction here is written and completes nothing.
    if (e.current_txn_first_offset) {
      u.completed = CompletedTxn{b.producer_id, *e.current_txn_first_offset, b.first_offset,
                                 !b.marker->commit};
    }
    set_epoch(e, b.epoch);
    e.coordinator_epoch = b.marker->coordinator_epoch;
    e.last_timestamp = b.max_timestamp;
    e.current_txn_first_offset.reset();
    return u;
  }

  if (origin == AppendOrigin::kClient) {
    if (b.epoch != e.epoch) {
      // A known producer's new epoch starts at sequence 0; an unknown one may start anywhere.
      if (b.first_seq != 0 && e.epoch != -1) {
        return kafka_error(ErrorCode::kOutOfOrderSequenceNumber,
                           absl::StrCat("sequence ", b.first_seq, " for new epoch ", b.epoch,
                                        " of producer ", b.producer_id, " (expected 0)"));
      }
    } else if (e.epoch != -1 && !in_sequence(e.last_seq(), b.first_seq)) {
      return kafka_error(
          ErrorCode::kOutOfOrderSequenceNumber,
          absl::StrCat("sequence ", b.first_seq, " of producer ", b.producer_id, " at offset ",
                       b.first_offset, " does not follow ", e.last_seq()));
    }
  }
  if (checked && e.current_txn_first_offset && !b.transactional) {
    return kafka_error(
        ErrorCode::kInvalidTxnState,
        absl::StrCat("non-transactional batch from producer ", b.producer_id,
                     " during its transaction started at ", *e.current_txn_first_offset));
  }
  set_epoch(e, b.epoch);
  e.batches.push_back(
      ProducerBatch{b.first_seq, b.last_seq, b.first_offset, b.last_offset, b.max_timestamp});
  if (e.batches.size() > kProducerBatchesRetained) e.batches.pop_front();
  e.last_timestamp = b.max_timestamp;
  if (b.transactional && !e.current_txn_first_offset) {
    e.current_txn_first_offset = b.first_offset;
    u.started_txn = b.first_offset;
  }
  return u;
}

void ProducerStateManager::apply(ProducerUpdate update) {
  if (update.completed) ongoing_.erase(update.completed->first_offset);
  if (update.started_txn) ongoing_[*update.started_txn] = update.producer_id;
  producers_[update.producer_id] = std::move(update.entry);
}

std::optional<CompletedTxn> ProducerStateManager::replay(const ProducerBatchFacts& b) {
  absl::StatusOr<ProducerUpdate> u = prepare(b, AppendOrigin::kReplication);
  GREGOR_INVARIANT(u.ok());
  std::optional<CompletedTxn> completed = u->completed;
  apply(*std::move(u));
  return completed;
}

std::optional<int64_t> ProducerStateManager::first_unstable_offset() const {
  if (ongoing_.empty()) return std::nullopt;
  return ongoing_.begin()->first;
}

const ProducerEntry* ProducerStateManager::find(int64_t producer_id) const {
  auto it = producers_.find(producer_id);
  return it == producers_.end() ? nullptr : &it->second;
}

int ProducerStateManager::remove_expired(int64_t now_ms, int64_t expiration_ms) {
  int removed = 0;
  for (auto it = producers_.begin(); it != producers_.end();) {
    if (!it->second.current_txn_first_offset &&
        now_ms - it->second.last_timestamp >= expiration_ms) {
      it = producers_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

void ProducerStateManager::clear() {
  producers_.clear();
  ongoing_.clear();
}

std::vector<ProducerSnapshotEntry> ProducerStateManager::to_snapshot() const {
  std::vector<ProducerSnapshotEntry> out;
  out.reserve(producers_.size());
  for (const auto& [id, e] : producers_) {
    ProducerSnapshotEntry s;
    s.producer_id = id;
    s.epoch = e.epoch;
    s.last_sequence = e.last_seq();
    if (!e.batches.empty()) {
      s.last_offset = e.batches.back().last_offset;
      s.offset_delta =
          static_cast<int32_t>(e.batches.back().last_offset - e.batches.back().first_offset);
    }
    s.timestamp = e.last_timestamp;
    s.coordinator_epoch = e.coordinator_epoch;
    s.current_txn_first_offset = e.current_txn_first_offset.value_or(-1);
    out.push_back(s);
  }
  return out;
}

void ProducerStateManager::load_snapshot(const std::vector<ProducerSnapshotEntry>& entries,
                                         int64_t now_ms, int64_t expiration_ms) {
  clear();
  for (const ProducerSnapshotEntry& s : entries) {
    const bool in_txn = s.current_txn_first_offset >= 0;
    if (!in_txn && now_ms - s.timestamp >= expiration_ms) continue;
    ProducerEntry e;
    e.epoch = s.epoch;
    if (s.last_offset >= 0) {
      const int32_t first_seq = s.last_sequence < 0
                                    ? s.last_sequence
                                    : decrement_sequence(s.last_sequence, s.offset_delta);
      e.batches.push_back(ProducerBatch{first_seq, s.last_sequence, s.last_offset - s.offset_delta,
                                        s.last_offset, s.timestamp});
    }
    e.last_timestamp = s.timestamp;
    e.coordinator_epoch = s.coordinator_epoch;
    if (in_txn) {
      e.current_txn_first_offset = s.current_txn_first_offset;
      ongoing_[s.current_txn_first_offset] = s.producer_id;
    }
    producers_[s.producer_id] = std::move(e);
  }
}

}  // namespace gregor::storage
