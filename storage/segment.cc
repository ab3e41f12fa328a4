// Segment: appends, index maintenance, reads by offset and timestamp, recovery scan.
#include "storage/segment.h"

#include <unistd.h>

#include <cstdio>
#include <limits>

#include "absl/strings/str_cat.h"
#include "protocol/record_batch.h"
#include "storage/batch_scanner.h"

namespace gregor::storage {

namespace {
using protocol::RecordBatchHeader;

}  // namespace

std::string segment_file_stem(int64_t base_offset) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(base_offset));
  return buf;
}

absl::StatusOr<std::shared_ptr<Segment>> Segment::open(const std::filesystem::path& dir,
                                                       int64_t base_offset, int64_t index_max_bytes,
                                                       int32_t index_interval_bytes,
                                                       std::string_view suffix) {
  const std::string stem = segment_file_stem(base_offset);
  auto named = [&](const char* ext) { return dir / (stem + ext + std::string(suffix)); };
  std::filesystem::path log_path = named(".log");
  std::shared_ptr<Segment> seg(new Segment(log_path, base_offset, index_interval_bytes));
  seg->indexes_existed_ =
      std::filesystem::exists(named(".index")) && std::filesystem::exists(named(".timeindex"));
  auto log = File::open(log_path, /*create=*/true);
  if (!log.ok()) return log.status();
  seg->log_ = std::move(*log);
  auto oi = OffsetIndex::open(named(".index"), base_offset, index_max_bytes);
  if (!oi.ok()) return oi.status();
  seg->offset_index_ = std::move(*oi);
  auto ti = TimeIndex::open(named(".timeindex"), base_offset, index_max_bytes);
  if (!ti.ok()) return ti.status();
  seg->time_index_ = std::move(*ti);
  auto txn = TxnIndex::open(named(".txnindex"));
  if (txn.ok()) {
    seg->txn_index_ = std::move(*txn);
  } else if (absl::IsDataLoss(txn.status())) {
    seg->txn_index_ = TxnIndex::empty(named(".txnindex"));
    seg->txn_index_lost_ = true;
  } else {
    return txn.status();
  }
  auto size = seg->log_->size();
  if (!size.ok()) return size.status();
  seg->size_.store(*size);
  seg->next_offset_.store(base_offset);
  return seg;
}

absl::Status Segment::index_batch(const BatchInfo& info, int64_t position) {
  if (info.max_timestamp > max_timestamp_.load(std::memory_order_relaxed)) {
    offset_of_max_timestamp_.store(info.last_offset, std::memory_order_release);
    max_timestamp_.store(info.max_timestamp, std::memory_order_release);
  }
  // Kafka's rule: the batch that starts after more than index.interval.bytes since the last
  // entry gets one. A full index just stays sparser; the log rolls before the next append.
  if (bytes_since_last_index_entry_ > index_interval_bytes_) {
    if (!offset_index_->full()) {
      absl::Status s = offset_index_->append(info.last_offset, position);
      if (!s.ok()) return s;
    }
    if (!time_index_->full()) {
      absl::Status s = time_index_->maybe_append(max_timestamp(), offset_of_max_timestamp());
      if (!s.ok()) return s;
    }
    bytes_since_last_index_entry_ = 0;
  }
  bytes_since_last_index_entry_ += info.size;
  return absl::OkStatus();
}

absl::Status Segment::append(std::string_view batches, std::span<const BatchInfo> infos) {
  const int64_t start = size();
  absl::Status s = log_->pwrite_all(batches, start);
  if (!s.ok()) {
    // A full disk can take part of the batches: cut them now, so that a restart never finds
    // the torn tail (or whole batches nobody was told were written) behind the last append.
    log_->truncate(start).IgnoreError();
    return s;
  }
  // An index write can fail after the batches were written (a full disk). The log then does
  // not advance and writes the same offsets at `start` again, so the segment must be left as
  // it was: no byte, entry, offset or timestamp of these batches may stay.
  const int64_t next_before = next_offset(), max_ts_before = max_timestamp();
  const int64_t max_ts_offset_before = offset_of_max_timestamp();
  const int64_t since_entry_before = bytes_since_last_index_entry_;
  const int64_t offset_entries_before = offset_index_->entries();
  const int64_t time_entries_before = time_index_->entries();
  int64_t position = start;
  for (const BatchInfo& info : infos) {
    GREGOR_INVARIANT(info.base_offset >= next_offset() && info.last_offset >= info.base_offset);
    s = index_batch(info, position);
    if (!s.ok()) {
      next_offset_.store(next_before, std::memory_order_release);
      max_timestamp_.store(max_ts_before, std::memory_order_release);
      offset_of_max_timestamp_.store(max_ts_offset_before, std::memory_order_release);
      bytes_since_last_index_entry_ = since_entry_before;
      // Best effort: should zeroing fail too, the entries are still gone from memory, and a
      // roll or close trims the file to them; after a crash recovery rebuilds this segment.
      offset_index_->file().drop_from(offset_entries_before).IgnoreError();
      time_index_->file().drop_from(time_entries_before).IgnoreError();
      log_->truncate(start).IgnoreError();
      return s;
    }
    position += info.size;
    next_offset_.store(info.last_offset + 1, std::memory_order_release);
  }
  GREGOR_INVARIANT(position == start + static_cast<int64_t>(batches.size()));
  size_.store(position, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Segment::flush() {
  // Linux reports a failed writeback once per open file and may have dropped the pages it
  // failed on, or marked them clean: a later fdatasync can succeed although those bytes never
  // reached the disk. So after one failure no later flush of this segment succeeds (acks=all
  // to it fails until a restart, whose recovery scan decides what is really there: shutdown
  // writes no clean marker after a failed close), as PostgreSQL does since "fsyncgate".
  absl::MutexLock l(&sync_error_mu_);
  if (!sync_error_.ok()) return sync_error_;
  absl::Status s = log_->datasync();
  absl::Status writeback = cache_window_.error();
  if (!writeback.ok()) s = writeback;
  if (!s.ok()) sync_error_ = s;
  return s;
}

absl::Status Segment::reset_state() {
  read_hints_.clear();
  absl::Status s = offset_index_->file().reset();
  if (s.ok()) s = time_index_->reset();
  max_timestamp_.store(-1);
  offset_of_max_timestamp_.store(-1);
  bytes_since_last_index_entry_ = 0;
  return s;
}

absl::StatusOr<int64_t> Segment::recover(bool* truncated) {
  *truncated = false;
  absl::Status s = reset_state();
  if (!s.ok()) return s;
  auto file_size = log_->size();
  if (!file_size.ok()) return file_size.status();
  BatchScanner scanner(*log_, 0, *file_size);
  int64_t next = base_offset_;
  int64_t count = 0;
  std::string batch;
  for (;;) {
    RecordBatchHeader h;
    auto r = scanner.next(&h);
    if (!r.ok()) return r.status();
    if (*r == BatchScanner::Result::kEnd) break;
    bool good = *r == BatchScanner::Result::kBatch && h.base_offset >= next &&
                h.last_offset() - base_offset_ <= std::numeric_limits<int32_t>::max();
    if (good) {
      batch.resize(h.total_size());
      s = log_->pread_exact(batch.data(), batch.size(), scanner.position());
      if (!s.ok()) return s;
      good = protocol::batch_crc_valid(batch);
    }
    if (!good) {
      *truncated = true;
      break;
    }
    s = index_batch(BatchInfo{h.base_offset, h.last_offset(), h.max_timestamp,
                              static_cast<int64_t>(h.total_size())},
                    scanner.position());
    if (!s.ok()) return s;
    next = h.last_offset() + 1;
    ++count;
    scanner.advance(h);
  }
  if (*truncated) {
    s = log_->truncate(scanner.position());
    if (!s.ok()) return s;
  }
  size_.store(scanner.position(), std::memory_order_release);
  next_offset_.store(next, std::memory_order_release);
  return count;
}

absl::Status Segment::load() {
  auto file_size = log_->size();
  if (!file_size.ok()) return file_size.status();
  if (!indexes_existed_ && *file_size > 0) {
    return absl::DataLossError(log_path_.string() + ": index files missing");
  }
  absl::Status s = offset_index_->sanity_check(*file_size);
  if (!s.ok()) return s;
  auto last = offset_index_->last_entry();
  if (!last.ok()) return last.status();
  const bool indexed = offset_index_->entries() > 0;
  int64_t next = indexed ? last->offset + 1 : base_offset_;
  int64_t tail_max_ts = -1, tail_max_offset = -1;
  BatchScanner scanner(*log_, last->position, *file_size);
  for (;;) {
    RecordBatchHeader h;
    auto r = scanner.next(&h);
    if (!r.ok()) return r.status();
    if (*r == BatchScanner::Result::kEnd) break;
    // The batch at the last entry must end at that entry's offset; later ones must follow.
    bool first = scanner.position() == last->position;
    bool fits = (first && indexed) ? h.last_offset() == last->offset : h.base_offset >= next;
    if (*r == BatchScanner::Result::kBad || !fits || h.base_offset < base_offset_) {
      return absl::DataLossError(log_path_.string() + ": bad batch after the last index entry");
    }
    next = h.last_offset() + 1;
    if (h.max_timestamp > tail_max_ts) {
      tail_max_ts = h.max_timestamp;
      tail_max_offset = h.last_offset();
    }
    scanner.advance(h);
  }
  s = time_index_->sanity_check(next);
  if (!s.ok()) return s;
  auto te = time_index_->last_entry();
  if (!te.ok()) return te.status();
  max_timestamp_.store(te->timestamp);
  offset_of_max_timestamp_.store(te->timestamp >= 0 ? te->offset : -1);
  if (tail_max_ts > te->timestamp) {
    max_timestamp_.store(tail_max_ts);
    offset_of_max_timestamp_.store(tail_max_offset);
  }
  bytes_since_last_index_entry_ = *file_size - last->position;
  size_.store(*file_size, std::memory_order_release);
  next_offset_.store(next, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int64_t>> Segment::translate(int64_t offset, int64_t end) const {
  if (std::optional<int64_t> hinted = read_hints_.find(offset)) {
    // Every batch before the hint ends below `offset`.
    if (*hinted < end) return hinted;
    return std::nullopt;
  }
  auto entry = offset_index_->lookup(offset);
  if (!entry.ok()) return entry.status();
  int64_t start = entry->position < end ? entry->position : 0;
  BatchScanner scanner(*log_, start, end);
  for (;;) {
    RecordBatchHeader h;
    auto r = scanner.next(&h);
    if (!r.ok()) return r.status();
    if (*r != BatchScanner::Result::kBatch) return std::nullopt;
    if (h.last_offset() >= offset) return scanner.position();
    scanner.advance(h);
  }
}

absl::StatusOr<protocol::FileSlice> Segment::read(int64_t offset, int64_t max_bytes,
                                                  bool min_one_batch, int64_t end,
                                                  int64_t end_offset) const {
  protocol::FileSlice slice{log_->fd(), 0, 0, log_};
  auto start = translate(offset, end);
  if (!start.ok()) return start.status();
  if (!*start) return slice;
  slice.position = **start;
  if (end - slice.position <= max_bytes) {
    // [position, end) is whole batches by construction: it all fits, so no header needs reading.
    slice.size = end - slice.position;
    read_hints_.remember(offset, end_offset, end);
    return slice;
  }
  BatchScanner scanner(*log_, slice.position, end);
  int64_t next_offset = -1;  // just past the last batch taken
  for (;;) {
    RecordBatchHeader h;
    auto r = scanner.next(&h);
    if (!r.ok()) return r.status();
    if (*r != BatchScanner::Result::kBatch) break;
    int64_t size = static_cast<int64_t>(h.total_size());
    if (slice.size + size > max_bytes) {
      if (slice.size == 0 && min_one_batch) {
        slice.size = size;
        next_offset = h.last_offset() + 1;
      }
      break;
    }
    slice.size += size;
    next_offset = h.last_offset() + 1;
    scanner.advance(h);
  }
  if (slice.size > 0) read_hints_.remember(offset, next_offset, slice.position + slice.size);
  return slice;
}

absl::StatusOr<std::optional<std::pair<int64_t, int64_t>>> Segment::find_offset_by_timestamp(
    int64_t ts, int64_t end) const {
  auto te = time_index_->lookup_before(ts);
  if (!te.ok()) return te.status();
  auto entry = offset_index_->lookup(te->offset);
  if (!entry.ok()) return entry.status();
  BatchScanner scanner(*log_, entry->position < end ? entry->position : 0, end);
  for (;;) {
    RecordBatchHeader h;
    auto r = scanner.next(&h);
    if (!r.ok()) return r.status();
    if (*r != BatchScanner::Result::kBatch) return std::nullopt;
    if (h.max_timestamp >= ts) {
      std::pair<int64_t, int64_t> found{h.base_offset, h.max_timestamp};
      if (h.timestamp_type() == protocol::TimestampType::kLogAppendTime) return found;
      std::string batch(h.total_size(), '\0');
      absl::Status s = log_->pread_exact(batch.data(), batch.size(), scanner.position());
      if (!s.ok()) return s;
      auto records = protocol::decode_records(batch, kMaxDecompressedBatchBytes);
      if (records.ok()) {
        for (const protocol::Record& rec : *records) {
          if (rec.timestamp >= ts) return std::make_pair(rec.offset, rec.timestamp);
        }
      }
      return found;  // undecodable: answer at batch granularity
    }
    scanner.advance(h);
  }
}

absl::Status Segment::flush_indexes() {
  absl::Status s = offset_index_->file().sync();
  if (s.ok()) s = time_index_->file().sync();
  if (s.ok()) s = txn_index_->flush();
  return s;
}

absl::Status Segment::on_roll() {
  absl::Status s = absl::OkStatus();
  if (max_timestamp() >= 0) {
    s = time_index_->maybe_append(max_timestamp(), offset_of_max_timestamp(), /*force=*/true);
  }
  if (s.ok()) s = offset_index_->file().trim();
  if (s.ok()) s = time_index_->file().trim();
  return s;
}

absl::Status Segment::preallocate_indexes() {
  absl::Status s = offset_index_->file().preallocate();
  if (s.ok()) s = time_index_->file().preallocate();
  return s;
}

absl::Status Segment::delete_files() {
  absl::Status result = absl::OkStatus();
  if (::unlink(log_path_.c_str()) != 0 && errno != ENOENT) {
    result = errno_status("unlink", log_path_);
  }
  absl::Status s = offset_index_->file().unlink();
  if (result.ok()) result = s;
  s = time_index_->file().unlink();
  if (result.ok()) result = s;
  s = txn_index_->unlink();
  if (result.ok()) result = s;
  return result;
}

}  // namespace gregor::storage
