// Log compaction, Kafka's LogCleaner pass: an offset map (key -> last offset) over the dirty
// range, the cleanable segments rewritten into `.cleaned` files in groups, renamed `.swap`, and
// swapped in under the log's lock. Also the start-up half of the swap protocol.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "protocol/record_batch.h"
#include "spdlog/spdlog.h"
#include "storage/batch_rewrite.h"
#include "storage/batch_scanner.h"
#include "storage/log_impl.h"

namespace gregor::storage {

namespace {

constexpr char kCleanedSuffix[] = ".cleaned";
constexpr char kSwapSuffix[] = ".swap";
constexpr char kDeletedSuffix[] = ".deleted";
constexpr const char* kSegmentExtensions[] = {".log", ".index", ".timeindex", ".txnindex"};
constexpr size_t kWriteChunkBytes = 1 << 20;
// Node, bucket and string header of an unordered_map<string, int64_t> entry, roughly.
constexpr size_t kMapEntryOverhead = 64;

std::filesystem::path segment_path(const std::filesystem::path& dir, int64_t base, const char* ext,
                                   std::string_view suffix = {}) {
  return dir / (segment_file_stem(base) + ext + std::string(suffix));
}

void remove_quietly(const std::filesystem::path& p) {
  std::error_code ec;
  std::filesystem::remove(p, ec);
}

void remove_segment_files(const std::filesystem::path& dir, int64_t base, std::string_view suffix) {
  for (const char* ext : kSegmentExtensions) remove_quietly(segment_path(dir, base, ext, suffix));
}

absl::Status rename_segment_files(const std::filesystem::path& dir, int64_t base,
                                  std::string_view from_suffix, std::string_view to_suffix) {
  for (const char* ext : kSegmentExtensions) {
    std::filesystem::path from = segment_path(dir, base, ext, from_suffix);
    std::filesystem::path to = segment_path(dir, base, ext, to_suffix);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      return errno_status("rename", from);
    }
  }
  return absl::OkStatus();
}

// Calls fn(header, whole batch bytes) for every batch of a non-active (immutable) segment.
template <typename Fn>
absl::Status for_each_batch(const Segment& seg, Fn fn) {
  std::shared_ptr<File> file = seg.log_file();
  BatchScanner scanner(*file, 0, seg.size());
  std::string batch;
  for (;;) {
    protocol::RecordBatchHeader h;
    auto r = scanner.next(&h);
    if (!r.ok()) return r.status();
    if (*r == BatchScanner::Result::kEnd) return absl::OkStatus();
    if (*r == BatchScanner::Result::kBad) {
      return absl::DataLossError(
          absl::StrCat(seg.log_path().string(), ": bad batch at byte ", scanner.position()));
    }
    batch.resize(h.total_size());
    absl::Status s = file->pread_exact(batch.data(), batch.size(), scanner.position());
    if (!s.ok()) return s;
    s = fn(h, std::string_view(batch));
    if (!s.ok()) return s;
    scanner.advance(h);
  }
}

// Batches whose records the cleaner leaves alone: transaction markers and transactional data
// (aborted-transaction tracking is not implemented, so they are kept whole, never lost).
bool kept_whole(const protocol::RecordBatchHeader& h) {
  return h.is_control() || h.is_transactional();
}

using OffsetMap = std::unordered_map<std::string, int64_t>;

// Segments rewritten together into one (Kafka's groupSegmentsBySize).
struct Group {
  std::vector<std::shared_ptr<Segment>> old;
  int64_t bytes = 0;
};

std::vector<Group> group_by_size(const std::vector<std::shared_ptr<Segment>>& segs,
                                 int64_t max_bytes) {
  std::vector<Group> groups;
  for (const auto& seg : segs) {
    bool fits = !groups.empty() && groups.back().bytes + seg->size() <= max_bytes &&
                seg->next_offset() - groups.back().old.front()->base_offset() <=
                    std::numeric_limits<int32_t>::max();
    if (!fits) groups.emplace_back();
    groups.back().old.push_back(seg);
    groups.back().bytes += seg->size();
  }
  return groups;
}

struct PassState {
  const OffsetMap* map;
  int64_t now;
  int64_t delete_retention_ms;
  const std::atomic<bool>* abort;
  // The pass's last batch (the last offset of the last segment rewritten) stays, empty if need
  // be: readers at an offset past the last kept record must still find a batch to skip to
  // before the log end when the segments after it are empty.
  int64_t final_last_offset = -1;
  int64_t records_removed = 0;
  int64_t min_horizon = std::numeric_limits<int64_t>::max();
};

// Appends to `out` what survives of one batch. Verbatim when nothing changes.
absl::Status filter_batch(const protocol::RecordBatchHeader& h, std::string_view batch,
                          PassState& st, std::string* out, std::vector<BatchInfo>* infos) {
  auto keep_bytes = [&](std::string_view bytes, const protocol::RecordBatchHeader& nh) {
    infos->push_back(BatchInfo{nh.base_offset, nh.last_offset(), nh.max_timestamp,
                               static_cast<int64_t>(bytes.size())});
    out->append(bytes);
  };
  if (kept_whole(h)) {
    keep_bytes(batch, h);
    return absl::OkStatus();
  }
  auto records = protocol::decode_records(batch, kMaxDecompressedBatchBytes);
  if (!records.ok()) return records.status();
  const bool horizon_set = has_delete_horizon(h);
  std::vector<protocol::Record> kept;
  bool tombstone_kept = false;
  for (protocol::Record& r : *records) {
    bool keep = r.key.has_value();  // compacted topics have no use for null keys
    if (keep) {
      auto it = st.map->find(*r.key);
      keep = it == st.map->end() || it->second <= r.offset;
    }
    if (keep && !r.value) {
      // Kafka's delete horizon: a tombstone survives its first cleaning and then
      // delete.retention.ms more, so that consumers reading the log see the delete.
      keep = !horizon_set || st.now < h.base_timestamp;
      tombstone_kept = tombstone_kept || keep;
    }
    if (keep) kept.push_back(std::move(r));
  }
  st.records_removed += static_cast<int64_t>(records->size() - kept.size());
  if (kept.empty() && h.last_offset() != st.final_last_offset) {
    return absl::OkStatus();  // non-transactional: no producer state to keep
  }
  std::optional<int64_t> horizon;
  if (horizon_set) {
    horizon = h.base_timestamp;
  } else if (tombstone_kept) {
    horizon = st.now + st.delete_retention_ms;
  }
  if (tombstone_kept) st.min_horizon = std::min(st.min_horizon, *horizon);
  if (!kept.empty() && kept.size() == records->size() && (horizon_set || !tombstone_kept)) {
    keep_bytes(batch, h);
    return absl::OkStatus();
  }
  auto rewritten = rewrite_batch(h, kept, horizon);
  if (!rewritten.ok()) return rewritten.status();
  auto nh = protocol::parse_batch_header(*rewritten);
  if (!nh.ok()) return nh.status();
  keep_bytes(*rewritten, *nh);
  return absl::OkStatus();
}

// Writes one group's replacement as `<base>.*.cleaned`, synced. Returns the new segment's size.
absl::StatusOr<int64_t> write_cleaned(const std::filesystem::path& dir, const Group& g,
                                      const LogConfig& config, PassState& st) {
  const int64_t base = g.old.front()->base_offset();
  remove_segment_files(dir, base, kCleanedSuffix);
  auto seg = Segment::open(dir, base, config.segment_index_bytes, config.index_interval_bytes,
                           kCleanedSuffix);
  if (!seg.ok()) return seg.status();
  std::string out;
  std::vector<BatchInfo> infos;
  auto drain = [&]() -> absl::Status {
    if (infos.empty()) return absl::OkStatus();
    absl::Status s = (*seg)->append(out, infos);
    out.clear();
    infos.clear();
    return s;
  };
  for (const auto& old : g.old) {
    absl::Status s = for_each_batch(
        *old, [&](const protocol::RecordBatchHeader& h, std::string_view batch) -> absl::Status {
          if (st.abort && st.abort->load()) return absl::AbortedError("cleaner stopping");
          absl::Status f = filter_batch(h, batch, st, &out, &infos);
          if (!f.ok()) return f;
          return out.size() >= kWriteChunkBytes ? drain() : absl::OkStatus();
        });
    if (s.ok()) s = drain();
    if (!s.ok()) {
      remove_segment_files(dir, base, kCleanedSuffix);
      return s;
    }
  }
  absl::Status s = (*seg)->on_roll();
  // Transactional batches and markers are kept whole, so the aborted transactions of the
  // replaced segments still hold: the new segment's .txnindex is theirs, merged in order.
  std::vector<AbortedTxnEntry> aborted;
  for (const auto& old : g.old) {
    std::vector<AbortedTxnEntry> e = old->txn_index().entries();
    aborted.insert(aborted.end(), e.begin(), e.end());
  }
  if (s.ok() && !aborted.empty()) {
    s = TxnIndex::write_file(segment_path(dir, base, ".txnindex", kCleanedSuffix), aborted);
  }
  // As Kafka does: the replacement looks as old as what it replaces to time retention, which
  // falls back to the file time for a segment without timestamps.
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(g.old.back()->log_path(), ec);
  if (!ec) std::filesystem::last_write_time((*seg)->log_path(), mtime, ec);
  if (s.ok()) s = (*seg)->flush();
  if (s.ok()) s = (*seg)->flush_indexes();
  if (!s.ok()) {
    remove_segment_files(dir, base, kCleanedSuffix);
    return s;
  }
  return (*seg)->size();
}

std::optional<int64_t> parse_base(std::string_view name) {
  if (name.size() < 20) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + 20, v);
  if (ec != std::errc() || ptr != name.data() + 20 || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::vector<std::shared_ptr<Segment>> Log::Impl::cleanable_segments(int64_t now) const {
  std::vector<std::shared_ptr<Segment>> out;
  if (segments_.size() < 2) return out;
  const auto active_it = std::prev(segments_.end());
  for (auto it = segments_.begin(); it != active_it; ++it) {
    const Segment& seg = *it->second;
    // min.compaction.lag.ms: a segment whose newest record is that young waits, and so does
    // everything after it (the cleaned range is a prefix).
    if (config_.min_compaction_lag_ms > 0 && seg.max_timestamp() >= 0 &&
        now - seg.max_timestamp() < config_.min_compaction_lag_ms) {
      break;
    }
    out.push_back(it->second);
  }
  return out;
}

CleanableStats Log::Impl::cleanable_stats(int64_t first_dirty_offset) const {
  CleanableStats st;
  const int64_t now = clock_->now_ms();
  absl::ReaderMutexLock l(&mu_);
  const int64_t start = log_start_offset_.load();
  const int64_t end = log_end_offset_.load();
  st.first_dirty_offset = first_dirty_offset > end ? start : std::max(first_dirty_offset, start);
  std::vector<std::shared_ptr<Segment>> segs = cleanable_segments(now);
  auto next = segments_.begin();
  std::advance(next, static_cast<std::ptrdiff_t>(segs.size()));
  st.first_uncleanable_offset = next->first;
  for (const auto& seg : segs) {
    if (seg->next_offset() <= st.first_dirty_offset) {
      st.clean_bytes += seg->size();
      continue;
    }
    st.dirty_bytes += seg->size();
    if (seg->max_timestamp() >= 0 && now - seg->max_timestamp() >= config_.max_compaction_lag_ms) {
      st.max_lag_exceeded = true;
    }
  }
  st.delete_horizon_due = now >= next_delete_horizon_ms_.load();
  return st;
}

absl::StatusOr<CompactionResult> Log::Impl::compact(const CompactOptions& options) {
  absl::MutexLock pass(&clean_mu_);
  CompactionResult result;
  const int64_t now = clock_->now_ms();
  LogConfig config;
  std::vector<std::shared_ptr<Segment>> segs;
  int64_t first_dirty;
  {
    absl::ReaderMutexLock l(&mu_);
    if (closed_) return absl::UnavailableError(dir_.string() + " is closed");
    config = config_;
    segs = cleanable_segments(now);
    const int64_t start = log_start_offset_.load();
    first_dirty = options.first_dirty_offset > log_end_offset_.load()
                      ? start
                      : std::max(options.first_dirty_offset, start);
  }
  result.cleaned_upto = first_dirty;

  // 1. The offset map over whole dirty segments, as many as the map bound allows.
  OffsetMap map;
  size_t map_bytes = 0;
  size_t upto = 0;  // segs[0, upto) are rewritten
  for (; upto < segs.size(); ++upto) {
    const Segment& seg = *segs[upto];
    if (seg.next_offset() <= first_dirty) continue;
    if (map_bytes >= options.max_map_bytes) break;
    absl::Status s = for_each_batch(
        seg, [&](const protocol::RecordBatchHeader& h, std::string_view batch) -> absl::Status {
          if (options.abort && options.abort->load()) return absl::AbortedError("cleaner stopping");
          if (h.is_control() || h.last_offset() < first_dirty) return absl::OkStatus();
          auto records = protocol::decode_records(batch, kMaxDecompressedBatchBytes);
          if (!records.ok()) return records.status();
          for (const protocol::Record& r : *records) {
            if (!r.key || r.offset < first_dirty) continue;
            auto [it, added] = map.insert_or_assign(*r.key, r.offset);
            if (added) map_bytes += it->first.size() + kMapEntryOverhead;
          }
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
    result.cleaned_upto = seg.next_offset();
  }
  const bool horizon_due = now >= next_delete_horizon_ms_.load();
  if (upto == 0 || (result.cleaned_upto == first_dirty && !horizon_due)) return result;
  segs.resize(upto);

  // 2. Rewrite group by group into .cleaned files, then rename them .swap.
  PassState st{&map, now, config.delete_retention_ms, options.abort};
  st.final_last_offset = segs.back()->next_offset() - 1;
  std::vector<Group> groups = group_by_size(
      segs, std::min<int64_t>(config.segment_bytes, std::numeric_limits<int32_t>::max()));
  std::vector<int64_t> new_sizes;
  auto discard = [&](size_t n, const char* suffix) {
    for (size_t i = 0; i < n; ++i)
      remove_segment_files(dir_, groups[i].old.front()->base_offset(), suffix);
  };
  for (size_t i = 0; i < groups.size(); ++i) {
    auto size = write_cleaned(dir_, groups[i], config, st);
    if (!size.ok()) {
      discard(i, kCleanedSuffix);
      return size.status();
    }
    new_sizes.push_back(*size);
    result.bytes_read += groups[i].bytes;
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    absl::Status s = rename_segment_files(dir_, groups[i].old.front()->base_offset(),
                                          kCleanedSuffix, kSwapSuffix);
    if (!s.ok()) {
      discard(groups.size(), kCleanedSuffix);
      discard(groups.size(), kSwapSuffix);
      return s;
    }
  }
  absl::Status s = sync_dir(dir_);
  if (!s.ok()) {
    discard(groups.size(), kSwapSuffix);
    return s;
  }

  // 3. Swap in under the log's lock: renames and map edits only.
  std::vector<int64_t> doomed;  // bases whose files now carry .deleted
  {
    absl::MutexLock l(&mu_);
    bool intact = !closed_;
    for (const Group& g : groups) {
      for (const auto& old : g.old) {
        auto it = segments_.find(old->base_offset());
        intact = intact && it != segments_.end() && it->second == old;
      }
    }
    if (!intact) {
      // Retention or a close got there first: this pass's work is stale.
      discard(groups.size(), kSwapSuffix);
      return result;
    }
    for (size_t i = 0; i < groups.size(); ++i) {
      const Group& g = groups[i];
      const int64_t base = g.old.front()->base_offset();
      const bool first_of_log = base == segments_.begin()->first;
      // An emptied group disappears, except the log's first segment, which holds the log start.
      const bool drop = new_sizes[i] == 0 && !first_of_log;
      for (const auto& old : g.old) {
        s = rename_segment_files(dir_, old->base_offset(), "", kDeletedSuffix);
        if (!s.ok()) return s;  // the .swap files finish the job at the next start
        doomed.push_back(old->base_offset());
      }
      std::shared_ptr<Segment> fresh;
      if (drop) {
        remove_segment_files(dir_, base, kSwapSuffix);
      } else {
        s = rename_segment_files(dir_, base, kSwapSuffix, "");
        if (!s.ok()) return s;
        auto seg =
            Segment::open(dir_, base, config.segment_index_bytes, config.index_interval_bytes);
        if (!seg.ok()) return seg.status();
        s = (*seg)->load();
        if (absl::IsDataLoss(s)) {
          bool truncated = false;
          auto scanned = (*seg)->recover(&truncated);
          s = scanned.ok() ? absl::OkStatus() : scanned.status();
        }
        if (!s.ok()) return s;
        (*seg)->created_ms = g.old.back()->created_ms;
        fresh = *seg;
      }
      for (const auto& old : g.old) {
        segments_.erase(old->base_offset());
        std::erase(unflushed_segments_, old);
        size_bytes_.fetch_sub(old->size());
      }
      if (fresh) {
        size_bytes_.fetch_add(fresh->size());
        segments_[base] = fresh;
        result.bytes_written += fresh->size();
        ++result.segments_after;
      }
      result.segments_before += static_cast<int>(g.old.size());
    }
    dir_dirty_ = true;
  }
  // Readers still holding the old segments keep their descriptors open.
  for (int64_t base : doomed) remove_segment_files(dir_, base, kDeletedSuffix);
  s = sync_dir(dir_);
  if (!s.ok()) spdlog::warn("{}: syncing after compaction: {}", dir_.string(), s.ToString());
  next_delete_horizon_ms_.store(st.min_horizon);
  result.records_removed = st.records_removed;
  result.cleaned = true;
  spdlog::info(
      "{}: compacted {} segments into {} up to offset {}: {} -> {} bytes, {} records removed",
      dir_.string(), result.segments_before, result.segments_after, result.cleaned_upto,
      result.bytes_read, result.bytes_written, result.records_removed);
  return result;
}

absl::Status complete_interrupted_swaps(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::pair<int64_t, std::filesystem::path>> swaps;
  std::vector<std::pair<int64_t, std::filesystem::path>> logs;
  const std::string swap_log = absl::StrCat(".log", kSwapSuffix);
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    std::optional<int64_t> base = parse_base(name);
    if (!base) continue;
    std::string_view rest = std::string_view(name).substr(20);
    if (rest == swap_log) swaps.emplace_back(*base, entry.path());
    if (rest == ".log") logs.emplace_back(*base, entry.path());
  }
  if (ec) return absl::UnavailableError(absl::StrCat("list ", dir.string(), ": ", ec.message()));
  for (const auto& [base, path] : swaps) {
    auto file = File::open(path, /*create=*/false);
    if (!file.ok()) return file.status();
    auto size = (*file)->size();
    if (!size.ok()) return size.status();
    BatchScanner scanner(**file, 0, *size);
    int64_t end = base + 1;  // an empty replacement still replaces the segment at its base
    for (;;) {
      protocol::RecordBatchHeader h;
      auto r = scanner.next(&h);
      if (!r.ok()) return r.status();
      if (*r != BatchScanner::Result::kBatch) break;
      end = std::max(end, h.last_offset() + 1);
      scanner.advance(h);
    }
    for (const auto& [old_base, old_path] : logs) {
      if (old_base >= base && old_base < end) remove_segment_files(dir, old_base, "");
    }
    // The segment at `base` may already be renamed .deleted while its indexes are not.
    remove_segment_files(dir, base, "");
    remove_quietly(segment_path(dir, base, ".index", kSwapSuffix));
    remove_quietly(segment_path(dir, base, ".timeindex", kSwapSuffix));
    remove_quietly(segment_path(dir, base, ".txnindex", kSwapSuffix));  // rebuilt on open
    std::filesystem::path to = segment_path(dir, base, ".log");
    if (::rename(path.c_str(), to.c_str()) != 0) return errno_status("rename", path);
    spdlog::warn("{}: finished an interrupted compaction swap at segment {}", dir.string(), base);
  }
  if (!swaps.empty()) return sync_dir(dir);
  return absl::OkStatus();
}

}  // namespace gregor::storage
