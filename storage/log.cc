// storage::Log: appends with offset assignment, reads, timestamp lookups, group-able flushes
// and retention, on top of the segments held in Log::Impl.
#include "storage/log.h"

#include <sys/stat.h>

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "protocol/control_batch.h"
#include "protocol/record_batch.h"
#include "spdlog/spdlog.h"
#include "storage/batch_scanner.h"
#include "storage/log_impl.h"
#include "storage/producer_snapshot.h"

namespace gregor::storage {

namespace {
constexpr int64_t kMaxSegmentBytes = std::numeric_limits<int32_t>::max();
// A read considers the segment holding the offset and a few after it, in case the offset
// falls in a gap at the end of one (compacted or follower-written logs).
constexpr size_t kReadSegmentsAhead = 4;

// Producer state always keeps the two newest snapshots, whatever retention deleted.
constexpr size_t kSnapshotsKept = 2;

// Producer-state facts of a whole batch, with the marker of a control batch.
ProducerBatchFacts facts_of(const protocol::RecordBatchHeader& h, std::string_view batch) {
  ProducerBatchFacts f = ProducerBatchFacts::from_header(h);
  if (h.is_control()) f.marker = protocol::parse_control_batch(batch);
  return f;
}

int64_t file_mtime_ms(const std::filesystem::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}
}  // namespace

// ---- Impl: append ----

absl::StatusOr<Log::Impl::Parsed> Log::Impl::parse_client_batches(std::string_view batches,
                                                                  AppendOrigin origin) const {
  int32_t max_message_bytes;
  bool compact;
  {
    absl::ReaderMutexLock l(&mu_);
    max_message_bytes = config_.max_message_bytes;
    compact = config_.compact;
  }
  if (batches.empty()) return absl::InvalidArgumentError("no record batches");
  Parsed parsed;
  size_t pos = 0;
  while (pos < batches.size()) {
    std::string_view rest = batches.substr(pos);
    auto header = protocol::parse_batch_header(rest);
    // Kafka reads no batch at all from bytes cut inside one and answers INVALID_RECORD (the
    // request needs a batch per partition), which a producer does not retry; a length that
    // cannot be a batch's is corruption.
    if (rest.size() < protocol::kBatchHeaderSize ||
        (header.ok() && header->total_size() > rest.size())) {
      return absl::InvalidArgumentError(absl::StrCat("batch at byte ", pos, " is truncated"));
    }
    if (!header.ok()) {
      return absl::DataLossError(
          absl::StrCat("batch at byte ", pos, ": ", header.status().message()));
    }
    if (header->total_size() > static_cast<size_t>(max_message_bytes)) {
      return absl::ResourceExhaustedError(absl::StrCat("batch of ", header->total_size(),
                                                       " bytes exceeds max.message.bytes ",
                                                       max_message_bytes));
    }
    std::string_view batch = rest.substr(0, header->total_size());
    absl::Status s = protocol::validate_batch(batch, kMaxDecompressedBatchBytes);
    if (!s.ok()) return s;
    // LogValidator's rules for client batches.
    if (origin == AppendOrigin::kClient && header->is_control()) {
      return absl::InvalidArgumentError("clients may not write control records");
    }
    if (header->producer_id >= 0) {
      if (origin == AppendOrigin::kClient && header->base_sequence < 0) {
        return absl::InvalidArgumentError(absl::StrCat("invalid sequence number ",
                                                       header->base_sequence, " for producer ",
                                                       header->producer_id));
      }
      parsed.producer_batch = facts_of(*header, batch);
    }
    if (compact && !header->is_control()) {
      // Kafka refuses keyless records for compacted topics: compaction could never drop them.
      auto records = protocol::decode_records(batch, kMaxDecompressedBatchBytes);
      if (!records.ok()) return records.status();
      for (const protocol::Record& r : *records) {
        if (!r.key) {
          return absl::InvalidArgumentError("compacted topic: a record has a null key");
        }
      }
    }
    parsed.infos.push_back(BatchInfo{0, header->last_offset_delta, header->max_timestamp,
                                     static_cast<int64_t>(batch.size())});
    parsed.records += static_cast<int64_t>(header->last_offset_delta) + 1;
    pos += batch.size();
  }
  if (parsed.producer_batch && parsed.infos.size() > 1) {
    // Kafka allows one batch per partition in a produce request; we keep several for plain
    // producers, but producer state is checked and recorded per append.
    return absl::InvalidArgumentError(
        "a batch with a producer id must be the only batch for its partition");
  }
  return parsed;
}

std::shared_ptr<Segment> Log::Impl::active() const {
  GREGOR_INVARIANT(!segments_.empty());
  return segments_.rbegin()->second;
}

absl::Status Log::Impl::roll(int64_t new_base, int64_t now) {
  std::shared_ptr<Segment> old = active();
  GREGOR_INVARIANT(new_base >= old->next_offset());
  // Kafka snapshots producer state at every roll: recovery of the new segment starts here.
  absl::Status snap = take_snapshot(new_base);
  if (!snap.ok()) return snap;
  if (old->empty()) {
    // Nothing to keep: an empty segment is replaced rather than left behind.
    if (old->base_offset() == new_base) return absl::OkStatus();
    segments_.erase(old->base_offset());
    absl::Status s = old->delete_files();
    if (!s.ok()) return s;
  } else {
    absl::Status s = old->on_roll();
    if (!s.ok()) return s;
    unflushed_segments_.push_back(old);
  }
  auto seg =
      Segment::open(dir_, new_base, config_.segment_index_bytes, config_.index_interval_bytes);
  if (!seg.ok()) return seg.status();
  absl::Status s = (*seg)->preallocate_indexes();
  if (!s.ok()) return s;
  (*seg)->created_ms = now;
  segments_[new_base] = *seg;
  dir_dirty_ = true;
  spdlog::debug("{}: rolled to segment {}", dir_.string(), new_base);
  return absl::OkStatus();
}

absl::Status Log::Impl::maybe_roll(int64_t bytes, int64_t first_offset, int64_t last_offset,
                                   int64_t now) {
  std::shared_ptr<Segment> seg = active();
  const int64_t max_bytes = std::min(config_.segment_bytes, kMaxSegmentBytes);
  bool roll_needed =
      (!seg->empty() && (seg->size() + bytes > max_bytes ||
                         now - seg->created_ms >= config_.segment_ms || seg->indexes_full())) ||
      last_offset - seg->base_offset() > std::numeric_limits<int32_t>::max();
  if (!roll_needed) return absl::OkStatus();
  return roll(first_offset, now);
}

absl::StatusOr<AppendInfo> Log::Impl::write(std::string_view batches, const Parsed& parsed,
                                            int64_t now) {
  std::shared_ptr<Segment> seg = active();
  absl::Status s = seg->append(batches, parsed.infos);
  if (!s.ok()) return s;
  AppendInfo info;
  info.base_offset = parsed.infos.front().base_offset;
  info.last_offset = parsed.infos.back().last_offset;
  info.batch_count = static_cast<int32_t>(parsed.infos.size());
  for (const BatchInfo& b : parsed.infos)
    info.max_timestamp = std::max(info.max_timestamp, b.max_timestamp);
  if (config_.log_append_time) info.log_append_time = now;
  GREGOR_INVARIANT(info.last_offset >= log_end_offset_.load());
  log_end_offset_.store(info.last_offset + 1, std::memory_order_release);
  size_bytes_.fetch_add(static_cast<int64_t>(batches.size()));
  info.log_start_offset = log_start_offset_.load();
  unflushed_messages_ += parsed.records;
  return info;
}

absl::Status Log::Impl::apply_producer_update(ProducerUpdate update) {
  std::optional<CompletedTxn> done = update.completed;
  producer_state_.apply(std::move(update));
  absl::Status s = absl::OkStatus();
  if (done && done->aborted) {
    // Kafka's LSO for the entry: the oldest transaction still open, else past the marker.
    const int64_t lso = producer_state_.first_unstable_offset().value_or(done->last_offset + 1);
    s = active()->txn_index().append(
        AbortedTxnEntry{done->producer_id, done->first_offset, done->last_offset, lso});
  }
  publish_last_stable_offset();
  return s;
}

absl::Status Log::Impl::replay_batch(const ProducerBatchFacts& b, TxnIndex* txn_index) {
  std::optional<CompletedTxn> done = producer_state_.replay(b);
  if (!done || !done->aborted || txn_index == nullptr) return absl::OkStatus();
  const int64_t lso = producer_state_.first_unstable_offset().value_or(done->last_offset + 1);
  return txn_index->append(
      AbortedTxnEntry{done->producer_id, done->first_offset, done->last_offset, lso});
}

void Log::Impl::publish_last_stable_offset() {
  last_stable_offset_.store(
      producer_state_.first_unstable_offset().value_or(log_end_offset_.load()),
      std::memory_order_release);
}

absl::Status Log::Impl::take_snapshot(int64_t offset) {
  if (offset == last_snapshot_offset_) return absl::OkStatus();
  absl::Status s = write_producer_snapshot(dir_, offset, producer_state_.to_snapshot());
  if (s.ok()) last_snapshot_offset_ = offset;
  return s;
}

absl::StatusOr<AppendInfo> Log::Impl::append(std::span<char> batches, AppendOrigin origin,
                                             const TxnVerifier& verify) {
  const std::string_view bytes(batches.data(), batches.size());
  auto parsed = parse_client_batches(bytes, origin);
  if (!parsed.ok()) return parsed.status();
  bool flush_now = false;
  absl::StatusOr<AppendInfo> info;
  std::shared_ptr<Segment> written;
  int64_t cache_window = 0;
  {
    absl::MutexLock l(&mu_);
    if (closed_) return absl::UnavailableError(dir_.string() + " is closed");
    const int64_t now = clock_->now_ms();
    const int64_t first = log_end_offset_.load();
    std::optional<ProducerUpdate> update;
    if (parsed->producer_batch) {
      ProducerBatchFacts& f = *parsed->producer_batch;
      f.first_offset = first;
      f.last_offset = first + parsed->infos.front().last_offset;  // still lastOffsetDelta
      if (config_.log_append_time) f.max_timestamp = now;
      if (origin == AppendOrigin::kClient) {
        if (std::optional<ProducerBatch> dup = producer_state_.find_duplicate(f)) {
          AppendInfo d;
          d.base_offset = dup->first_offset;
          d.last_offset = dup->last_offset;
          d.log_append_time = config_.log_append_time ? dup->timestamp : -1;
          d.log_start_offset = log_start_offset_.load();
          d.batch_count = 1;
          d.max_timestamp = dup->timestamp;
          d.duplicate = true;
          return d;
        }
      }
      absl::StatusOr<ProducerUpdate> u = producer_state_.prepare(f, origin);
      if (!u.ok()) return u.status();
      if (verify && u->started_txn) {
        if (absl::Status v = verify(f.producer_id, f.epoch); !v.ok()) return v;
      }
      update = *std::move(u);
    }
    absl::Status s =
        maybe_roll(static_cast<int64_t>(batches.size()), first, first + parsed->records - 1, now);
    if (!s.ok()) return s;
    int64_t next = first;
    size_t pos = 0;
    for (BatchInfo& b : parsed->infos) {
      char* p = batches.data() + pos;
      protocol::set_base_offset(p, next);
      b.base_offset = next;
      b.last_offset = next + b.last_offset;  // held lastOffsetDelta until now
      if (config_.log_append_time) {
        protocol::set_log_append_time(p, static_cast<size_t>(b.size), now);
        b.max_timestamp = now;
      }
      next = b.last_offset + 1;
      pos += static_cast<size_t>(b.size);
    }
    info = write(bytes, *parsed, now);
    if (info.ok()) {
      s = update ? apply_producer_update(*std::move(update)) : absl::OkStatus();
      if (!update) publish_last_stable_offset();
      if (!s.ok()) info = s;
    }
    flush_now = info.ok() && unflushed_messages_ >= config_.flush_interval_messages;
    if (info.ok() && config_.page_cache_window_bytes > 0) {
      written = active();
      cache_window = config_.page_cache_window_bytes;
    }
  }
  if (written) written->release_pages_behind(cache_window);
  if (flush_now) {
    absl::Status s = flush();
    if (!s.ok()) return s;
  }
  return info;
}

absl::StatusOr<AppendInfo> Log::Impl::append_with_offsets(std::string_view batches) {
  if (batches.empty()) return absl::InvalidArgumentError("no record batches");
  Parsed parsed;
  std::vector<ProducerBatchFacts> producer_batches;
  size_t pos = 0;
  int64_t prev_last = -1;
  while (pos < batches.size()) {
    std::string_view rest = batches.substr(pos);
    auto h = protocol::parse_batch_header(rest);
    if (!h.ok() || h->total_size() > rest.size() || h->magic != protocol::kMagicV2 ||
        h->last_offset_delta < 0) {
      return absl::DataLossError(absl::StrCat("bad batch framing at byte ", pos));
    }
    std::string_view batch = rest.substr(0, h->total_size());
    if (!protocol::batch_crc_valid(batch)) {
      return absl::DataLossError(absl::StrCat("CRC mismatch in batch at byte ", pos));
    }
    if (h->base_offset <= prev_last) {
      return absl::InvalidArgumentError("batch offsets do not increase");
    }
    prev_last = h->last_offset();
    if (h->producer_id >= 0) producer_batches.push_back(facts_of(*h, batch));
    parsed.infos.push_back(BatchInfo{h->base_offset, h->last_offset(), h->max_timestamp,
                                     static_cast<int64_t>(batch.size())});
    parsed.records += static_cast<int64_t>(h->last_offset_delta) + 1;
    pos += batch.size();
  }
  absl::MutexLock l(&mu_);
  if (closed_) return absl::UnavailableError(dir_.string() + " is closed");
  const int64_t first = parsed.infos.front().base_offset;
  if (first < log_end_offset_.load()) {
    return absl::InvalidArgumentError(
        absl::StrCat("batches start at ", first, " below the log end ", log_end_offset_.load()));
  }
  const int64_t now = clock_->now_ms();
  absl::Status s = maybe_roll(static_cast<int64_t>(batches.size()), first, prev_last, now);
  if (!s.ok()) return s;
  absl::StatusOr<AppendInfo> info = write(batches, parsed, now);
  if (!info.ok()) return info;
  for (const ProducerBatchFacts& b : producer_batches) {
    s = replay_batch(b, &active()->txn_index());
    if (!s.ok()) break;
  }
  publish_last_stable_offset();
  if (!s.ok()) return s;
  return info;
}

// ---- Impl: reads ----

absl::StatusOr<ReadInfo> Log::Impl::read(int64_t offset, int64_t max_bytes, bool min_one_batch,
                                         bool read_committed) const {
  struct Candidate {
    std::shared_ptr<Segment> seg;
    int64_t size;         // bytes readable, snapshotted under the lock
    int64_t next_offset;  // the offset just past them
  };
  std::vector<Candidate> candidates;
  std::vector<std::shared_ptr<Segment>> txn_segments;  // read_committed: the holder onwards
  ReadInfo info;
  int64_t limit;
  {
    absl::ReaderMutexLock l(&mu_);
    if (closed_) return absl::UnavailableError(dir_.string() + " is closed");
    info.high_watermark = log_end_offset_.load();
    info.log_start_offset = log_start_offset_.load();
    info.last_stable_offset = producer_state_.first_unstable_offset().value_or(info.high_watermark);
    if (offset < info.log_start_offset || offset > info.high_watermark) {
      return absl::OutOfRangeError(absl::StrCat("offset ", offset, " is outside [",
                                                info.log_start_offset, ", ", info.high_watermark,
                                                "]"));
    }
    limit = read_committed ? info.last_stable_offset : info.high_watermark;
    if (offset >= limit) return info;
    auto it = segments_.upper_bound(offset);
    if (it != segments_.begin()) --it;
    for (auto c = it; c != segments_.end() && candidates.size() < kReadSegmentsAhead; ++c) {
      candidates.push_back({c->second, c->second->size(), c->second->next_offset()});
    }
    if (read_committed) {
      for (; it != segments_.end(); ++it) txn_segments.push_back(it->second);
    }
  }
  int64_t upper_bound = -1;  // one past the last offset returned
  for (const Candidate& c : candidates) {
    int64_t end = c.size;
    int64_t end_offset = c.next_offset;
    if (limit < c.next_offset) {
      // The LSO is a batch boundary: the batch starting there bounds the read.
      auto at = c.seg->translate(limit, end);
      if (!at.ok()) return at.status();
      if (*at) end = **at;
      end_offset = limit;
    }
    auto slice = c.seg->read(offset, max_bytes, min_one_batch, end, end_offset);
    if (!slice.ok()) return slice.status();
    if (slice->size > 0) {
      if (read_committed) {
        const int64_t stop = slice->position + slice->size;
        upper_bound = end_offset;
        if (stop < end) {
          BatchScanner scanner(*c.seg->log_file(), stop, end);
          protocol::RecordBatchHeader h;
          auto r = scanner.next(&h);
          if (!r.ok()) return r.status();
          if (*r == BatchScanner::Result::kBatch) upper_bound = h.base_offset;
        }
      }
      info.bytes = slice->size;
      info.slices.push_back(std::move(*slice));
      break;
    }
  }
  if (upper_bound > offset) {
    // Kafka's collectAbortedTransactions: segment by segment until an entry's LSO shows that
    // later segments cannot hold a transaction overlapping the range.
    std::vector<AbortedTxnEntry> entries;
    for (const auto& seg : txn_segments) {
      if (seg->txn_index().collect(offset, upper_bound, &entries)) break;
    }
    for (const AbortedTxnEntry& e : entries) {
      info.aborted.push_back(AbortedTxn{e.producer_id, e.first_offset});
    }
  }
  return info;
}

std::pair<int64_t, int64_t> Log::Impl::offset_for_timestamp(int64_t ts) const {
  std::vector<std::pair<std::shared_ptr<Segment>, int64_t>> segs;
  {
    absl::ReaderMutexLock l(&mu_);
    for (const auto& [base, seg] : segments_) segs.emplace_back(seg, seg->size());
  }
  for (const auto& [seg, end] : segs) {
    if (seg->max_timestamp() < ts) continue;
    auto found = seg->find_offset_by_timestamp(ts, end);
    if (!found.ok()) {
      spdlog::warn("{}: timestamp lookup failed: {}", dir_.string(), found.status().ToString());
      return {-1, -1};
    }
    if (*found) return **found;
  }
  return {-1, -1};
}

std::pair<int64_t, int64_t> Log::Impl::max_timestamp_offset() const {
  std::shared_ptr<Segment> best;
  int64_t end = 0;
  {
    absl::ReaderMutexLock l(&mu_);
    for (const auto& [base, seg] : segments_) {
      if (seg->max_timestamp() >= 0 && (!best || seg->max_timestamp() > best->max_timestamp())) {
        best = seg;
        end = seg->size();
      }
    }
  }
  if (!best) return {-1, -1};
  // The segment knows the batch; the record inside it comes from decoding that batch.
  auto found = best->find_offset_by_timestamp(best->max_timestamp(), end);
  if (found.ok() && *found) return **found;
  return {best->offset_of_max_timestamp(), best->max_timestamp()};
}

// ---- Impl: durability and retention ----

absl::Status Log::Impl::flush() {
  absl::MutexLock f(&flush_mu_);
  std::vector<std::shared_ptr<Segment>> segs;
  std::shared_ptr<Segment> act;
  int64_t target;
  bool sync_directory;
  {
    absl::MutexLock l(&mu_);
    target = log_end_offset_.load();
    if (target <= flushed_offset_.load() && unflushed_segments_.empty()) return absl::OkStatus();
    segs.swap(unflushed_segments_);
    act = active();
    segs.push_back(act);
    unflushed_messages_ = 0;
    last_flush_ms_ = clock_->now_ms();
    sync_directory = dir_dirty_;
    dir_dirty_ = false;
  }
  absl::Status result = absl::OkStatus();
  for (const auto& seg : segs) {
    absl::Status s = seg->flush();
    if (s.ok()) s = seg != act ? seg->flush_indexes() : seg->txn_index().flush();
    if (!s.ok() && result.ok()) result = s;
  }
  if (result.ok() && sync_directory) result = sync_dir(dir_);
  flush_count_.fetch_add(1);
  if (!result.ok()) {
    absl::MutexLock l(&mu_);
    dir_dirty_ = dir_dirty_ || sync_directory;
    for (const auto& seg : segs) {
      if (seg != act) unflushed_segments_.push_back(seg);
    }
    return result;
  }
  int64_t prev = flushed_offset_.load();
  while (prev < target && !flushed_offset_.compare_exchange_weak(prev, target)) {
  }
  return absl::OkStatus();
}

absl::Status Log::Impl::flush_if_due() {
  {
    absl::MutexLock l(&mu_);
    if (closed_ || log_end_offset_.load() <= flushed_offset_.load()) return absl::OkStatus();
    if (clock_->now_ms() - last_flush_ms_ < config_.flush_interval_ms) return absl::OkStatus();
  }
  return flush();
}

absl::StatusOr<int> Log::Impl::apply_retention() {
  std::vector<std::shared_ptr<Segment>> doomed;
  {
    absl::MutexLock l(&mu_);
    if (closed_) return 0;
    const int64_t now = clock_->now_ms();
    std::shared_ptr<Segment> act = active();
    if (!act->empty() && (now - act->created_ms >= config_.segment_ms ||
                          act->size() >= std::min(config_.segment_bytes, kMaxSegmentBytes))) {
      absl::Status s = roll(log_end_offset_.load(), now);
      if (!s.ok()) return s;
      act = active();
    }
    int64_t excess =
        config_.retention_bytes >= 0 ? size_bytes_.load() - config_.retention_bytes : -1;
    while (segments_.size() > 1) {
      std::shared_ptr<Segment> seg = segments_.begin()->second;
      int64_t ts =
          seg->max_timestamp() >= 0 ? seg->max_timestamp() : file_mtime_ms(seg->log_path());
      bool expired = config_.retention_ms >= 0 && now - ts > config_.retention_ms;
      bool too_big = excess >= 0 && excess - seg->size() >= 0;
      if (!expired && !too_big) break;
      excess -= seg->size();
      size_bytes_.fetch_sub(seg->size());
      segments_.erase(segments_.begin());
      std::erase(unflushed_segments_, seg);
      doomed.push_back(seg);
    }
    int64_t first = segments_.begin()->second->base_offset();
    if (first > log_start_offset_.load()) log_start_offset_.store(first);
    if (!doomed.empty()) {
      // Snapshots go with their segments; the newest ones always stay.
      std::vector<int64_t> snaps = list_producer_snapshots(dir_);
      for (size_t i = 0; i + kSnapshotsKept < snaps.size() && snaps[i] < first; ++i) {
        delete_producer_snapshot(dir_, snaps[i]);
      }
    }
  }
  // Unlinked outside the lock; in-flight fetches keep their descriptors (FileSlice keep_alive).
  for (const auto& seg : doomed) {
    absl::Status s = seg->delete_files();
    if (!s.ok()) spdlog::warn("{}: deleting segment failed: {}", dir_.string(), s.ToString());
    spdlog::info("{}: deleted segment {} by retention", dir_.string(), seg->base_offset());
  }
  return static_cast<int>(doomed.size());
}

absl::Status Log::Impl::close() {
  {
    absl::MutexLock l(&mu_);
    if (closed_) return absl::OkStatus();
  }
  absl::Status s = flush();
  absl::MutexLock l(&mu_);
  closed_ = true;
  // The next open loads this and scans nothing.
  absl::Status snap = take_snapshot(log_end_offset_.load());
  if (s.ok()) s = snap;
  // The indexes are trusted on the next (clean) open, so they must reach the disk first.
  std::shared_ptr<Segment> act = active();
  absl::Status t = act->on_roll();
  if (t.ok()) t = act->flush_indexes();
  for (const auto& seg : unflushed_segments_) {
    absl::Status u = seg->flush();
    if (u.ok()) u = seg->flush_indexes();
    if (t.ok()) t = u;
  }
  unflushed_segments_.clear();
  return s.ok() ? t : s;
}

// ---- Log: forwarding ----

Log::Log(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Log::~Log() = default;

absl::StatusOr<std::shared_ptr<Log>> Log::open(const std::filesystem::path& dir,
                                               const LogConfig& config, const Clock* clock,
                                               bool recover) {
  LogOpenOptions options;
  options.recover = recover;
  return open(dir, config, clock, options);
}

absl::StatusOr<std::shared_ptr<Log>> Log::open(const std::filesystem::path& dir,
                                               const LogConfig& config, const Clock* clock,
                                               const LogOpenOptions& options) {
  auto impl = std::make_unique<Impl>(dir, config, clock);
  absl::Status s = impl->load(options);
  if (!s.ok()) return s;
  return std::shared_ptr<Log>(new Log(std::move(impl)));
}

absl::StatusOr<AppendInfo> Log::append(std::span<char> batches, AppendOrigin origin,
                                       const TxnVerifier& verify) {
  return impl_->append(batches, origin, verify);
}
absl::StatusOr<AppendInfo> Log::append_control(int64_t producer_id, int16_t producer_epoch,
                                               bool commit, int32_t coordinator_epoch) {
  std::string marker = protocol::make_control_batch(producer_id, producer_epoch, commit,
                                                    coordinator_epoch, impl_->clock_->now_ms());
  return impl_->append(marker, AppendOrigin::kCoordinator, {});
}
absl::StatusOr<AppendInfo> Log::append_with_offsets(std::string_view batches) {
  return impl_->append_with_offsets(batches);
}
absl::StatusOr<ReadInfo> Log::read(int64_t offset, int64_t max_bytes, bool min_one_batch) const {
  return impl_->read(offset, max_bytes, min_one_batch, /*read_committed=*/false);
}
absl::StatusOr<ReadInfo> Log::read(int64_t offset, int64_t max_bytes, bool min_one_batch,
                                   bool read_committed) const {
  return impl_->read(offset, max_bytes, min_one_batch, read_committed);
}
std::pair<int64_t, int64_t> Log::offset_for_timestamp(int64_t ts) const {
  return impl_->offset_for_timestamp(ts);
}
std::pair<int64_t, int64_t> Log::max_timestamp_offset() const {
  return impl_->max_timestamp_offset();
}
int64_t Log::log_start_offset() const {
  return impl_->log_start_offset_.load();
}
int64_t Log::log_end_offset() const {
  return impl_->log_end_offset_.load();
}
int64_t Log::last_stable_offset() const {
  return impl_->last_stable_offset_.load(std::memory_order_acquire);
}

std::vector<ProducerInfo> Log::producers() const {
  absl::ReaderMutexLock l(&impl_->mu_);
  std::vector<ProducerInfo> out;
  for (const auto& [id, e] : impl_->producer_state_.producers()) {
    out.push_back(ProducerInfo{id, e.epoch, e.last_seq(), e.last_timestamp, e.coordinator_epoch,
                               e.current_txn_first_offset.value_or(-1)});
  }
  return out;
}

int Log::expire_producers() {
  absl::MutexLock l(&impl_->mu_);
  return impl_->producer_state_.remove_expired(impl_->clock_->now_ms(),
                                               impl_->config_.producer_id_expiration_ms);
}

int64_t Log::flushed_offset() const {
  return impl_->flushed_offset_.load();
}
int64_t Log::size_bytes() const {
  return impl_->size_bytes_.load();
}
absl::Status Log::flush() {
  return impl_->flush();
}
absl::Status Log::flush_if_due() {
  return impl_->flush_if_due();
}
absl::StatusOr<int> Log::apply_retention() {
  return impl_->apply_retention();
}
absl::Status Log::close() {
  return impl_->close();
}

absl::Status Log::remove() {
  absl::Status s = close();
  std::error_code ec;
  std::filesystem::remove_all(impl_->dir_, ec);
  if (ec)
    return absl::UnavailableError(
        absl::StrCat("remove ", impl_->dir_.string(), ": ", ec.message()));
  return s;
}

const std::filesystem::path& Log::dir() const {
  return impl_->dir_;
}

LogConfig Log::config() const {
  absl::ReaderMutexLock l(&impl_->mu_);
  return impl_->config_;
}

CleanableStats Log::cleanable_stats(int64_t first_dirty_offset) const {
  return impl_->cleanable_stats(first_dirty_offset);
}

absl::StatusOr<CompactionResult> Log::compact(const CompactOptions& options) {
  return impl_->compact(options);
}

void Log::update_config(const LogConfig& config) {
  absl::MutexLock l(&impl_->mu_);
  impl_->config_ = config;
}

int64_t Log::recovered_batches() const {
  return impl_->recovered_batches_;
}
int64_t Log::producer_scanned_batches() const {
  return impl_->producer_scanned_batches_;
}
int64_t Log::flush_count() const {
  return impl_->flush_count_.load();
}

std::vector<int64_t> Log::segment_base_offsets() const {
  absl::ReaderMutexLock l(&impl_->mu_);
  std::vector<int64_t> bases;
  for (const auto& [base, seg] : impl_->segments_) bases.push_back(base);
  return bases;
}

}  // namespace gregor::storage
